"""Writing a file so that a reader sees the old file or the whole new one, never half of it.

Results, reports, drift profiles, snapshot manifests and dbt's artefacts are read by other
processes (CI uploads, training jobs, the next dq run) that may run while dq writes. Each is
written here: to a private file beside the target, flushed to disk, then renamed over it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_file(path: Path, text: str) -> Iterator[Path]:
    """Stage `text` durably beside `path`; it replaces `path` when the block ends without an
    error, and disappears when it raises. The block can make something else durable first (the
    runner appends the run to the history before its result file exists). Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with staging.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging, 0o666 & ~_umask())  # what open() would have made: others read these files
        yield staging
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step. Raises OSError."""
    with staged_file(path, text):
        pass


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
