"""Reading a trusted snapshot: the half of dq that runs inside the training process.

`dq.load_validated()` verifies the Parquet file's bytes against its manifest and the gate's
DQ_FINGERPRINT, then decodes those same bytes. It imports neither DuckDB nor the contract model:
a training script pays only for pyarrow (and pandas or polars), and two native runtimes that each
keep thread pools are not left to race at interpreter exit (a probe that imported both was seen
to abort with "terminate called without an active exception" under load).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dq.errors import SnapshotError

MANIFEST_SCHEMA_VERSION = "1"
ALGORITHM = "sha256"
PARQUET_SUFFIX = ".parquet"
MANIFEST_SUFFIX = ".manifest.json"
_REQUIRED = ("schema_version", "contract", "file", "row_count", "fingerprint")

Frame = Literal["pandas", "polars", "arrow"]


@dataclass(frozen=True)
class Verified:
    """A snapshot whose bytes matched its fingerprint; `data` are those very bytes."""

    manifest: dict[str, Any]
    path: Path
    data: bytes


def fingerprint_of(data: bytes) -> str:
    """'sha256:<hex>' of some bytes: the form DQ_FINGERPRINT and manifests carry."""
    return f"{ALGORITHM}:{hashlib.sha256(data).hexdigest()}"


def verify(path: str | Path, *, contract: str | None = None, expected: str | None = None) -> Verified:
    """Read a snapshot's bytes once and check them against its manifest (and `expected`).

    `path` is a Parquet file, its manifest, or a snapshot directory (then `contract` picks one
    when there are several). `expected` is a fingerprint from outside the snapshot directory,
    such as DQ_FINGERPRINT: 'sha256:<hex>', or 'name=sha256:<hex>,...' for several contracts.
    """
    manifest_path = _manifest_for(Path(path), contract)
    manifest = _read_manifest(manifest_path)
    if contract is not None and manifest["contract"] != contract:
        raise SnapshotError(f"{manifest_path} is the snapshot of contract {manifest['contract']!r}, not {contract!r}")
    parquet = manifest_path.parent / str(manifest["file"])
    try:
        data = parquet.read_bytes()
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {parquet}: {exc}") from None
    actual = fingerprint_of(data)
    if actual != manifest["fingerprint"]:
        raise SnapshotError(
            f"snapshot {parquet} does not match its manifest (fingerprint {actual}, manifest says "
            f"{manifest['fingerprint']}): it changed after the gate validated it. Do not train on it; "
            "run the gate again"
        )
    wanted = _expected_for(expected, str(manifest["contract"]))
    if wanted is not None and actual != wanted:
        raise SnapshotError(
            f"snapshot {parquet} has fingerprint {actual}, but the gate handed over {wanted} "
            "(DQ_FINGERPRINT): the snapshot or its manifest was replaced. Run the gate again"
        )
    return Verified(manifest, parquet, data)


def load(path: str | Path, *, as_: Frame = "pandas", contract: str | None = None, expected: str | None = None) -> Any:
    """The snapshot's rows as a pandas or polars DataFrame or an Arrow table, verified first."""
    if as_ not in ("pandas", "polars", "arrow"):
        raise ValueError(f"as_ must be 'pandas', 'polars' or 'arrow', not {as_!r}")
    verified = verify(path, contract=contract, expected=expected)
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # ParquetFile.read, not pq.read_table: read_table's dataset scanner leaves work on Arrow's
        # thread pool after it returns, and a training script that exits soon after was seen to
        # abort at exit ("terminate called without an active exception", apache/arrow#34314),
        # about 1 run in 20 on a loaded 2-core machine; ParquetFile.read was 0 in 150 there.
        table = pq.ParquetFile(pa.BufferReader(verified.data)).read()
    except (pa.ArrowException, OSError) as exc:
        raise SnapshotError(f"snapshot {verified.path} is not a readable Parquet file: {exc}") from None
    if table.num_rows != verified.manifest["row_count"]:
        raise SnapshotError(
            f"snapshot {verified.path} holds {table.num_rows} rows, its manifest says {verified.manifest['row_count']}"
        )
    if as_ == "arrow":
        return table
    if as_ == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()


def _manifest_for(path: Path, contract: str | None) -> Path:
    if path.is_dir():
        found = sorted(path.glob(f"*{MANIFEST_SUFFIX}"))
        if contract is not None:
            found = [p for p in found if p.name == f"{contract}{MANIFEST_SUFFIX}"]
        if len(found) == 1:
            return found[0]
        if not found:
            which = f" for contract {contract!r}" if contract else ""
            raise SnapshotError(f"no snapshot manifest{which} in {path}: nothing there can be trusted")
        names = ", ".join(p.name.removesuffix(MANIFEST_SUFFIX) for p in found)
        raise SnapshotError(f"{path} holds snapshots of several contracts ({names}); name one with contract=")
    if path.name.endswith(MANIFEST_SUFFIX):
        manifest = path
    else:
        manifest = path.with_name(path.name.removesuffix(PARQUET_SUFFIX) + MANIFEST_SUFFIX)
    if not manifest.is_file():
        raise SnapshotError(
            f"snapshot manifest {manifest} is missing: without it {path} cannot be verified. "
            "Read snapshots written by `dq gate`, or run the gate again"
        )
    return manifest


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"cannot read snapshot manifest {path}: {exc}") from None
    if not isinstance(manifest, dict) or any(key not in manifest for key in _REQUIRED):
        raise SnapshotError(f"{path} is not a dq snapshot manifest (it needs {', '.join(_REQUIRED)})")
    if manifest["schema_version"] != MANIFEST_SCHEMA_VERSION:
        raise SnapshotError(f"{path}: manifest schema_version {manifest['schema_version']!r} is not supported")
    file = str(manifest["file"])
    if Path(file).name != file:
        raise SnapshotError(f"{path}: 'file' must name a file beside the manifest, not {file!r}")
    return manifest


def _expected_for(expected: str | None, contract: str) -> str | None:
    """The fingerprint the gate handed over for `contract`, if one was."""
    if not expected:
        return None
    if "=" not in expected:
        return expected.strip()
    pairs: Mapping[str, str] = dict(item.split("=", 1) for item in expected.split(",") if "=" in item)
    if contract not in pairs:
        raise SnapshotError(f"the gate handed over no fingerprint for contract {contract!r} (DQ_FINGERPRINT)")
    return pairs[contract].strip()
