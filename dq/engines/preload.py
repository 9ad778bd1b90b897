"""Import the judges' libraries (polars, Pandera) in the background, as early as a run knows it needs them.

Importing Pandera takes ~0.3 s of CPU, about what DuckDB needs to measure a million rows. DuckDB
releases the GIL while it scans, so the import runs alongside the queries instead of after them.
`start` is idempotent; `wait` joins the import (a failed import is reported by the code that
imports for real, never here).

The judges are Pandera's polars backend (dq.engines.pandera_batch). Pandera imports pandas and
numpy whenever they are installed, though (its top-level package, and its check dispatch on the
first validate), ~0.4 s of CPU more, and `hypothesis` (for data synthesis, which dq never uses):
all unused by a polars judgement. In dq's own command-line process (`CLI`, set by the `validate`,
`gate` and `dbt build` commands), where nothing else wants them, those imports are refused while Pandera
loads and runs its first (canary) validation, exactly as if they were not installed (the
`ModuleNotFoundError` Pandera's pandas-free path expects), then allowed again. A library caller's
process (dq.api, dbt, tests) and a process that already imported pandas are left as they are.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

CLI = False
_UNUSED = ("pandas", "numpy", "hypothesis")
_thread: threading.Thread | None = None
_lock = threading.Lock()


def start() -> None:
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_judges, name="dq-import-pandera", daemon=True)
            _thread.start()


def wait() -> None:
    """Join the background import, if one was started (a no-op otherwise)."""
    with _lock:
        thread = _thread
    if thread is not None:
        thread.join()


class _NotInstalled:
    """A meta-path finder that reports some top-level packages as not installed, to one thread.

    Only the importing thread is refused: another thread of the process (dbt's, building a
    Python model that imports pandas during `dq dbt build`) imports them as usual."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = frozenset(names)
        self.thread = threading.get_ident()

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] in self.names and threading.get_ident() == self.thread:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@contextlib.contextmanager
def _refused(names: Sequence[str]) -> Iterator[None]:
    finder = _NotInstalled(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def _import_judges() -> None:
    refused: list[str] = []
    if CLI:  # pandas and numpy only while neither is loaded: once pandas is in, it is for the taking
        keep_out = _UNUSED if not any(name in sys.modules for name in ("pandas", "numpy")) else ("hypothesis",)
        refused = [name for name in keep_out if name not in sys.modules]
    # judge() imports again and reports a real failure
    with _refused(refused), contextlib.suppress(Exception):
        from dq.engines.pandera_batch import import_judges

        import_judges()
