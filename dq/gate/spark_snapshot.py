"""The trusted snapshot on the Spark backend: written by the session that validates, then validated.

As on DuckDB (dq/gate/snapshot.py): the contract's dataset is written ONCE to one Parquet file
before any check runs, every check runs on that file (read back as a temporary view), and on a
pass the file is renamed into place beside a manifest holding the sha256 of its bytes, which
`dq.load_validated()` verifies before it decodes those same bytes. Spark writes a directory of
part files; the dataset is coalesced to one partition so the snapshot is one file, and the file
is moved out of Spark's output directory. The snapshot directory must be one the driver can read
(a local path in local mode, a shared mount on a cluster). A column whose type does not come back
from Parquet as it was is refused (exit 3): training would not read the values the checks passed.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from dq.atomic import write_atomically
from dq.contract.model import Contract
from dq.errors import SnapshotError
from dq.gate.snapshot import MANIFEST_SCHEMA_VERSION, MANIFEST_SUFFIX, PARQUET_SUFFIX, Snapshot
from dq.gate.snapshot_load import fingerprint_of
from dq.spark.relation import SparkTable, view_table
from dq.spark.sql import ident


@dataclass(frozen=True)
class SparkStaged:
    contract: str
    source: SparkTable
    table: SparkTable  # the view over the staging file: what the checks read
    path: Path
    fingerprint: str
    row_count: int


def stage_on_spark(table: SparkTable, contract: str, directory: Path, shadow: duckdb.DuckDBPyConnection) -> SparkStaged:
    """Write `table` once to a hidden staging Parquet file and return the view every check reads."""
    token = uuid.uuid4().hex[:12]
    output = directory / f".{contract}.{token}.spark.tmp"
    # not hidden: Spark skips files whose names start with `.` or `_` (a hidden file reads as no data)
    staging = directory / f"staging-{contract}-{token}{PARQUET_SUFFIX}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        table.session.table(ident(table.view)).coalesce(1).write.parquet(str(output.absolute()))
        parts = sorted(output.glob("part-*.parquet"))
        if len(parts) != 1:
            raise SnapshotError(f"Spark wrote {len(parts)} part files for the snapshot of {contract}, not one")
        parts[0].replace(staging)
        shutil.rmtree(output, ignore_errors=True)
        fingerprint = fingerprint_of(staging.read_bytes())
        view = f"__dq_snapshot_{token}"
        frame = table.session.read.parquet(str(staging.absolute()))
        frame.createOrReplaceTempView(view)
        staged = view_table(table.session, view, table.label, shadow, frame.schema)
        row_count = int(frame.count())
    except SnapshotError:
        shutil.rmtree(output, ignore_errors=True)
        staging.unlink(missing_ok=True)
        raise
    except Exception as exc:  # Spark's writer and reader raise many kinds
        shutil.rmtree(output, ignore_errors=True)
        staging.unlink(missing_ok=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SnapshotError(
            f"cannot write the snapshot of {contract} ({table.label}) to {directory} with Spark: {first}. "
            "Fix: choose a --snapshot-dir the Spark driver can write"
        ) from None
    if staged.columns != table.columns:
        staging.unlink(missing_ok=True)
        raise SnapshotError(
            f"cannot snapshot {contract} ({table.label}) losslessly: its Parquet copy has the columns "
            f"{staged.columns}, the dataset {table.columns}. Fix: cast the changed columns to plain types"
        )
    return SparkStaged(contract, table, staged, staging, fingerprint, row_count)


def publish_on_spark(
    staged: SparkStaged, contract: Contract, directory: Path, *, run_id: str, result_path: str | None, session: Any
) -> Snapshot:
    """Rename the validated staging file into place, its bytes proven unchanged, with its manifest."""
    name = contract.contract
    target = directory / f"{name}{PARQUET_SUFFIX}"
    manifest_path = directory / f"{name}{MANIFEST_SUFFIX}"
    try:
        if fingerprint_of(staged.path.read_bytes()) != staged.fingerprint:
            raise SnapshotError(
                f"the staging copy {staged.path} of {name} changed while it was validated. Do not train on it; "
                "run the gate again"
            )
        directory.mkdir(parents=True, exist_ok=True)
        manifest = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "contract": name,
            "contract_version": contract.version,
            "dataset": contract.dataset.describe(),
            "dbt_model": contract.dataset.model,
            "backend": "spark",
            "relation": staged.source.label,
            "columns": dict(staged.table.columns),
            "row_count": staged.row_count,
            "file": target.name,
            "fingerprint": staged.fingerprint,
            "fingerprint_of": "the bytes of the Parquet file",
            "validated": "this file: the dataset was written once by Spark and every check ran on the copy",
            "time_zone": "UTC",
            "run_id": run_id,
            "result_path": result_path,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "spark_version": str(session.version),
        }
        staged.path.replace(target)
        write_atomically(manifest_path, json.dumps(manifest, indent=2, default=str))
    except OSError as exc:
        raise SnapshotError(f"cannot write the snapshot of {name} to {directory}: {exc}") from None
    return Snapshot(name, target, manifest_path, staged.fingerprint, staged.row_count)
