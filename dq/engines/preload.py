"""Import the judges' libraries (pandas, Pandera) in the background, as early as a run knows it needs them.

Importing pandas and Pandera takes ~0.5 s of CPU, more than DuckDB needs to measure a million
rows. DuckDB releases the GIL while it scans, so the import runs alongside the queries instead
of after them. `start` is idempotent; `wait` joins the import (a failed import is reported by the
code that imports for real, never here).

Pandera imports `hypothesis` when it is installed (for data synthesis, `schema.strategy()`, which
dq never uses): ~0.15 s. In dq's own command-line process (`CLI`, set by the `validate` and
`gate` commands) nothing else can want it, so that import is refused while Pandera loads, then
allowed again. A library caller's process (dq.api, tests) is left as it is.
"""

from __future__ import annotations

import contextlib
import sys
import threading

CLI = False
_UNUSED = ("hypothesis",)
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


def _import_judges() -> None:
    refused = [name for name in _UNUSED if CLI and name not in sys.modules]
    for name in refused:
        sys.modules[name] = None  # type: ignore[assignment]  # `import hypothesis` raises ImportError
    try:
        with contextlib.suppress(Exception):  # judge() imports again and reports a real failure
            from dq.engines.pandera_batch import import_judges

            import_judges()
    finally:
        for name in refused:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
