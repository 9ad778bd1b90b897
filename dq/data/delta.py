"""Delta Lake tables as datasets on DuckDB: `dataset: {path: lake/train, format: delta}`.

A Delta table is Parquet files plus a log (`_delta_log/`) that says which files make up each
version; reading the Parquet files of the directory would count rows the log has removed. delta-rs
(`deltalake`, no JVM) reads the log and gives the latest version as an Arrow dataset, which is
registered on the run's DuckDB connection: DuckDB scans its files where they lie, nothing is
loaded into pandas. DuckDB's own `delta` extension downloads from outside the package registries,
so dq does not rely on it.

Fail closed: a table whose protocol needs a reader feature dq has not verified delta-rs applies
exactly (deletion vectors, column mapping, ...) is refused before anything runs, so a deleted or
mis-named row is never read as data. The one verified feature, `timestampNtz`, is tested against a
Parquet copy of the same rows (tests/test_delta.py).

`deltalake` is imported only when a Delta dataset is read: `pip install 'dq[delta]'`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dq.errors import SourceError

# reader features whose reading by delta-rs tests/test_delta.py compares with the same rows in Parquet
VERIFIED_READER_FEATURES = frozenset({"timestampNtz"})
_FIX = "Fix: validate a Parquet export of the table, or run on Spark with Delta Lake configured (--backend spark)"


def delta_location(path: str) -> str:
    """A local path made absolute (a URI such as s3://... is delta-rs's to resolve)."""
    return path if "://" in path else str(Path(path).expanduser().absolute())


def enclosing_delta_table(path: str) -> Path | None:
    """The Delta table a local Parquet path lies in (a `_delta_log/` beside it or above it), if any:
    read as plain Parquet, its directory would include the files the log has removed."""
    if "://" in path:
        return None
    head = path
    for char in "*?[{":
        head = head.split(char, 1)[0]
    base = Path(head).expanduser().absolute()
    for directory in (base, *base.parents):
        if (directory / "_delta_log").is_dir():
            return directory
    return None


def refuse_parquet_inside_delta(path: str, label: str) -> None:
    """SourceError when `path` reads a Delta table's Parquet files directly (stale rows included)."""
    table = enclosing_delta_table(path)
    if table is not None:
        raise SourceError(
            f"{label}: these Parquet files are part of the Delta table {table}, whose log may have removed some "
            f"of them; read as files they would include deleted or replaced rows. Fix: `dataset: {{path: "
            f"'{table}', format: delta}}`"
        )


def latest_version(path: str, label: str) -> tuple[int, Any]:
    """(version, pyarrow dataset) of the table's latest version; SourceError when it cannot be read
    exactly: deltalake missing, no Delta table there, or a reader feature dq has not verified."""
    try:
        from deltalake import DeltaTable
    except ImportError:
        raise SourceError(
            f"{label}: reading a Delta table needs the deltalake package, which is not installed. "
            "Fix: pip install 'dq[delta]'"
        ) from None
    location = delta_location(path)
    try:
        table = DeltaTable(location)
    except Exception as exc:  # deltalake raises TableNotFoundError, DeltaError, OSError...
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SourceError(
            f"{label}: no Delta table can be read at {location} ({first}). Relative paths are read from the current "
            f"directory ({Path.cwd()}). Fix: point `dataset.path` at the directory that holds `_delta_log/`"
        ) from None
    check_protocol(table.protocol(), label)
    try:
        dataset = table.to_pyarrow_dataset()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SourceError(f"{label}: deltalake cannot read the table's latest version ({first}). {_FIX}") from None
    return int(table.version()), dataset


def check_protocol(protocol: Any, label: str) -> None:
    """Refuse a protocol dq has not verified: reader version 1 (no features) is plain Parquet files
    listed by the log; version 2 is column mapping; version 3 lists its reader features."""
    version = int(protocol.min_reader_version)
    features = sorted(set(protocol.reader_features or ()))
    if version == 1:
        return
    if version == 3 and set(features) <= VERIFIED_READER_FEATURES:
        return
    needs = ", ".join(features) if version == 3 else "columnMapping" if version == 2 else "an unknown protocol"
    raise SourceError(
        f"{label}: the Delta table needs reader version {version} ({needs}), which dq has not verified deltalake "
        "reads exactly, so it refuses the table rather than risk reading deleted or renamed rows "
        f"(verified: reader version 1, and 3 with {', '.join(sorted(VERIFIED_READER_FEATURES))}). {_FIX}"
    )
