"""The trusted snapshot: exactly the rows a gate validated, frozen in a Parquet file.

A gate that validates a relation and then lets training read it again has two races: the table
can change in between, and a relation that is recomputed on every read (a view with `USING
SAMPLE` or `random()`, a view over external files) gives other rows each time. So the gate copies
the relation to a staging Parquet file ONCE, before any check runs, and every engine validates
that file (through a read-only view over `read_parquet`, see `stage`); on a pass the file is
renamed into place unchanged. What training reads is byte for byte what was checked.

Parquet does not keep every DuckDB type: a HUGEINT becomes a DOUBLE (distinct keys collide), an
ENUM a VARCHAR, a TIME WITH TIME ZONE loses its offset, an INTERVAL its microseconds. `stage`
compares the relation's columns with what Parquet made of them and refuses (SnapshotError, exit
3) any column that would not come back as it was, naming the cast that fixes it. Collations
(`COLLATE NOCASE`) do not survive either, but the values do: the view the checks read puts the
column's collation back (`col COLLATE nocase`), so a `where`, an expression or a custom check
selects the rows it selects on the relation (`country = 'us'` also matches 'US'), as `dq validate`
would; a collation no built-in one reproduces (an ICU collation such as `de`) is refused.

The fingerprint is the sha256 of the Parquet file's bytes, not a hash of the decoded rows, because
the loader hashes the bytes it holds in memory and then decodes *those same bytes*: nothing can
change between "verified" and "returned", and no decoder or canonical row encoding has to be
trusted. `sha256sum` checks it too. The price: the fingerprint names this file, not the abstract
rows; re-encoding the same rows (another DuckDB version, other compression) gives another one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from duckdb.sqltypes import DuckDBPyType

from dq.atomic import write_atomically
from dq.checks.sql import literal, quote_ident
from dq.contract.model import Contract
from dq.data.bind import builtin_collation_for, collation_signatures
from dq.data.source import SESSION_TIME_ZONE, Table
from dq.errors import SnapshotError
from dq.gate.quarantine import QUARANTINE_SUFFIX, Plan, Split
from dq.gate.snapshot_load import (  # the reading half, re-exported: dq.gate.snapshot stays the one name for both
    ALGORITHM,
    MANIFEST_SCHEMA_VERSION,
    MANIFEST_SUFFIX,
    PARQUET_SUFFIX,
    Frame,
    Verified,
    fingerprint_of,
    load,
    verify,
)

__all__ = [
    "MANIFEST_SUFFIX",
    "PARQUET_SUFFIX",
    "Frame",
    "Snapshot",
    "Staged",
    "Verified",
    "discard",
    "fingerprint_of",
    "load",
    "publish",
    "stage",
    "verify",
]

# Types Parquet gives back under the same name but with other values (checked inside nested types).
_SAME_NAME_OTHER_VALUES = {
    "time with time zone": "which Parquet stores only as the UTC time (the offset is lost)",
    "interval": "which Parquet stores only to the millisecond (microseconds are lost)",
}
_NESTED = frozenset({"struct", "list", "map", "union", "array"})


@dataclass(frozen=True)
class Snapshot:
    """One contract's snapshot on disk."""

    contract: str
    path: Path
    manifest_path: Path
    fingerprint: str
    row_count: int
    quarantine_path: Path | None = None  # `dq gate --quarantine`: the rows set aside


@dataclass(frozen=True)
class Staged:
    """A relation copied once to a staging Parquet file, before any check ran.

    `table` is what the engines validate: a view over `read_parquet(<path>)`, kept in a tiny
    DuckDB file (`view_db`) that is attached read-only to the validation's connection as
    `catalog`. A TEMP view would not do: temp objects belong to one connection, and GX and Ibis
    run on cursors of it; an attached database belongs to the instance, so every cursor sees it.
    """

    contract: str
    source: Table
    table: Table
    path: Path
    view_db: Path
    catalog: str
    digest: _Digest
    row_count: int
    quarantine: Split | None = None  # `dq gate --quarantine`: `path` holds only the kept rows

    @property
    def fingerprint(self) -> str:
        """The staging file's sha256 as copied (waits for the hash taken while the checks ran)."""
        return self.digest.value()


class _Digest:
    """The staging file's fingerprint (and its fsync), taken in a background thread right after the
    copy: hashlib and DuckDB both release the GIL, so the hash runs while the checks read the same
    file instead of before them. Publishing waits for it, then hashes the file again to prove it
    unchanged; an error of either is the snapshot's error."""

    def __init__(self, path: Path) -> None:
        self._value: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), name="dq-snapshot-hash", daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = _fingerprint_and_sync(path)
        except BaseException as exc:
            self._error = exc

    def value(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def stage(
    connection: duckdb.DuckDBPyConnection, table: Table, contract: str, directory: Path, quarantine: Plan | None = None
) -> Staged:
    """Copy `table` to a hidden staging file in `directory`, prove the copy lossless in type, and
    return the Table every engine must validate instead of `table`.

    Checks that read *other* relations (references, leakage.disjoint_from) still read them live;
    only the contract's own dataset is replaced by its snapshot. With `quarantine`, the copy is
    split (dq/gate/quarantine.py) and the staging file, validated and published, holds only the
    rows kept; the full copy is deleted.
    """
    token = uuid.uuid4().hex[:12]
    staging = directory / f".{contract}.{token}.parquet.tmp"
    view_db = directory / f".{contract}.{token}.view.duckdb.tmp"
    full = directory / f".{contract}.{token}.all.parquet.tmp"
    set_aside = directory / f".{contract}.{token}.quarantine.parquet.tmp"
    catalog = f"dq_snapshot_{token}"
    attached = False
    split: Split | None = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        first = full if quarantine is not None else staging
        signatures = collation_signatures(table)
        collations = _collations_back(connection, table, signatures, contract)
        copied = connection.execute(
            f"COPY (SELECT * FROM {table.relation}) TO {literal(str(first))} (FORMAT parquet)"
        ).fetchall()
        row_count = int(copied[0][0])
        if quarantine is not None:
            everything = f"read_parquet({literal(str(full.resolve()))})"
            _prove_lossless(connection, table, everything, contract)
            everything = f"(SELECT *{collations} FROM {everything})" if collations else everything
            split = quarantine.write(connection, everything, staging, set_aside)
            if split.checked != row_count:
                raise SnapshotError(
                    f"the quarantine split of {contract} holds {split.checked} rows, the copy {row_count}. "
                    "Run the gate again"
                )
            full.unlink()
            row_count = split.kept
        digest = _Digest(staging)
        parquet = f"read_parquet({literal(str(staging.resolve()))})"
        _prove_lossless(connection, table, parquet, contract)
        with duckdb.connect(str(view_db)) as helper:
            helper.execute(f"CREATE VIEW main.{quote_ident(table.name)} AS SELECT *{collations} FROM {parquet}")
        connection.execute(f"ATTACH {literal(str(view_db))} AS {quote_ident(catalog)} (READ_ONLY)")
        attached = True
        columns = _columns(connection, catalog, table.name)
        copy = Table(connection, table.db_path, catalog, table.name, columns, copy_of=table.label)
        if columns == table.columns and collation_signatures(copy) != signatures:
            raise SnapshotError(
                f"cannot snapshot {contract} ({table.label}): the collations of its copy differ from the relation's"
            )
        if columns != table.columns:
            raise SnapshotError(
                f"cannot snapshot {contract} ({table.label}): its copy has the columns {columns}, the relation "
                f"{table.columns}. Fix: cast the changed columns in the model to plain types"
            )
    except (SnapshotError, duckdb.Error, OSError) as exc:
        _release(connection, catalog if attached else None, staging, view_db, full, set_aside)
        if isinstance(exc, SnapshotError):
            raise
        raise SnapshotError(
            f"cannot write the snapshot of {contract} ({table.label}) to {directory}: {exc}. "
            "Fix: free disk space or choose a writable --snapshot-dir"
        ) from None
    return Staged(contract, table, copy, staging, view_db, catalog, digest, row_count, split)


def publish(
    staged: Staged,
    contract: Contract,
    directory: Path,
    *,
    run_id: str,
    result_path: str | None,
    contract_path: str | None = None,
    dbt_node: str | None = None,
) -> Snapshot:
    """Move the validated staging file to `<directory>/<contract>.parquet`, with a manifest beside it.

    The file must still hold the bytes that were copied (and validated): it is hashed again, and
    any change is a SnapshotError. Both files appear by rename, Parquet first: a reader never sees
    half a file, and one that catches a new Parquet file next to an old manifest gets a
    fingerprint mismatch, not bad data.
    """
    name = contract.contract
    target = directory / f"{name}{PARQUET_SUFFIX}"
    manifest_path = directory / f"{name}{MANIFEST_SUFFIX}"
    source = staged.source
    try:
        _release(source.connection, staged.catalog, None, staged.view_db)
        copied = staged.fingerprint  # the hash taken while the checks ran
        if _fingerprint_and_sync(staged.path) != copied:
            raise SnapshotError(
                f"the staging copy {staged.path} of {name} changed while it was validated. Do not train on it; "
                "nothing may write into the snapshot directory during a gate. Run the gate again"
            )
        directory.mkdir(parents=True, exist_ok=True)
        quarantine = staged.quarantine
        set_aside = directory / f"{name}{QUARANTINE_SUFFIX}" if quarantine is not None else None
        if quarantine is not None:
            quarantine.fingerprint = _fingerprint_and_sync(quarantine.path)
        manifest: dict[str, Any] = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "contract": name,
            "contract_version": contract.version,
            "contract_path": contract_path,
            "dataset": contract.dataset.describe(),
            "dbt_model": contract.dataset.model,
            "dbt_node": dbt_node,
            "database": str(source.db_path),
            "relation": source.label,
            "columns": dict(staged.table.columns),
            "row_count": staged.row_count,
            "file": target.name,
            "fingerprint": staged.fingerprint,
            "fingerprint_of": "the bytes of the Parquet file",
            "validated": "this file: the relation was copied once and every check ran on the copy",
            "time_zone": SESSION_TIME_ZONE,
            "run_id": run_id,
            "result_path": result_path,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "dq_version": _dq_version(),
            "duckdb_version": duckdb.__version__,
        }
        if quarantine is not None and set_aside is not None:
            manifest["quarantine"] = {
                **quarantine.summary(),
                "file": set_aside.name,
                "fingerprint": quarantine.fingerprint,
                "holds": "the rows set aside by dq gate --quarantine: they failed a row rule; never trained on",
            }
            os.replace(quarantine.path, set_aside)
            quarantine.path = set_aside
        os.replace(staged.path, target)
        _write_json_atomically(manifest_path, manifest)
    except (duckdb.Error, OSError) as exc:
        raise SnapshotError(
            f"cannot write the snapshot of {name} ({source.label}) to {directory}: {exc}. "
            "Fix: free disk space or choose a writable --snapshot-dir"
        ) from None
    return Snapshot(name, target, manifest_path, staged.fingerprint, staged.row_count, set_aside)


def discard(staged: Staged) -> None:
    """Forget a staging copy that will not be published: detach it (if the connection is still
    open) and delete its files."""
    aside = staged.quarantine.path if staged.quarantine is not None else None
    _release(staged.source.connection, staged.catalog, staged.path, staged.view_db, aside)


def _release(
    connection: duckdb.DuckDBPyConnection,
    catalog: str | None,
    staging: Path | None,
    view_db: Path,
    *more: Path | None,
) -> None:
    if catalog is not None:
        # a closed connection (a blocked run is discarded after validate() returned) detached it already
        with contextlib.suppress(duckdb.Error):
            connection.execute(f"DETACH DATABASE IF EXISTS {quote_ident(catalog)}")
    for path in (staging, view_db, view_db.with_name(view_db.name + ".wal"), *more):
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def _collations_back(
    connection: duckdb.DuckDBPyConnection, table: Table, signatures: Mapping[str, tuple[bool, ...]], contract: str
) -> str:
    """The `REPLACE (...)` clause that gives the snapshot's view the relation's collations, or ''."""
    back: dict[str, str] = {}
    for column, signature in signatures.items():
        if not any(signature):
            continue
        name = builtin_collation_for(connection, signature)
        if name is None:
            raise SnapshotError(
                f"cannot snapshot {contract} ({table.label}): column {column!r} has a collation that Parquet does not "
                "keep and dq cannot put back exactly (not NOCASE, NOACCENT or NFC; an ICU collation?), so a check "
                f"could select other rows on the snapshot than on the relation. Fix: cast it in the model, e.g. "
                f"{quote_ident(column)}::VARCHAR for byte-wise comparisons, or COLLATE NOCASE / NOACCENT / NFC"
            )
        back[column] = name
    if not back:
        return ""
    return " REPLACE (" + ", ".join(f"{quote_ident(c)} COLLATE {n} AS {quote_ident(c)}" for c, n in back.items()) + ")"


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str, name: str) -> dict[str, str]:
    """The snapshot view's columns as the catalog spells them (as `resolve_table` reads a relation)."""
    rows = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [catalog, name],
    ).fetchall()
    return {str(column): str(kind) for column, kind in rows}


def _prove_lossless(connection: duckdb.DuckDBPyConnection, table: Table, parquet: str, contract: str) -> None:
    """Every column must come back from Parquet under its own name and type, and be of no type that
    Parquet returns under the same name with other values; else a SnapshotError with the fix."""
    source = connection.execute(f"DESCRIBE SELECT * FROM {table.relation}").fetchall()
    copied = connection.execute(f"DESCRIBE SELECT * FROM {parquet}").fetchall()
    before = [(str(row[0]), str(row[1])) for row in source]
    after = [(str(row[0]), str(row[1])) for row in copied]
    if [name for name, _ in before] != [name for name, _ in after]:
        raise SnapshotError(
            f"cannot snapshot {contract} ({table.label}): Parquet returned the columns "
            f"{[n for n, _ in after]} for {[n for n, _ in before]}. Fix: give every column a plain, unique name"
        )
    problems: dict[str, str] = {}  # column -> what Parquet does to it
    for (name, kind), (_, stored) in zip(before, after, strict=True):
        if kind != stored:
            problems[name] = f"column {name!r} is {kind}, but Parquet stores it as {stored}"
    types = connection.sql(f"SELECT * FROM {parquet}").types
    for (name, kind), duck_type in zip(before, types, strict=True):
        lost = sorted({_SAME_NAME_OTHER_VALUES[t] for t in _type_ids(duck_type) if t in _SAME_NAME_OTHER_VALUES})
        if lost and name not in problems:
            problems[name] = f"column {name!r} is {kind}, {' and '.join(lost)}"
    if problems:
        kinds = dict(before)
        fixes = "; ".join(
            f"{problem}. Fix: cast it in the model, {_fix_for(kinds[name], name)}" for name, problem in problems.items()
        )
        raise SnapshotError(
            f"cannot snapshot {contract} ({table.label}) losslessly, so training would not read the values the "
            f"checks passed: {fixes}"
        )


def _type_ids(duck_type: Any) -> Iterator[str]:
    """The type ids of a DuckDB type and of every type nested in it (struct fields, list/array
    elements, map keys and values, union members)."""
    yield str(duck_type.id)
    if duck_type.id in _NESTED:
        for _, child in duck_type.children:
            if isinstance(child, DuckDBPyType):
                yield from _type_ids(child)


def _fix_for(kind: str, column: str) -> str:
    """The cast that makes `column`, of DuckDB type `kind`, survive Parquet exactly."""
    upper, col = kind.upper(), quote_ident(column)
    if "HUGEINT" in upper:
        return f"e.g. CAST({col} AS DECIMAL(38,0)) (exact up to 38 digits; a larger value fails the cast) or VARCHAR"
    if upper.startswith("ENUM"):
        return f"e.g. CAST({col} AS VARCHAR)"
    if upper in ("TIMESTAMP_MS", "TIMESTAMP_S"):
        return f"e.g. CAST({col} AS TIMESTAMP) (microseconds hold every value exactly)"
    if "TIME WITH TIME ZONE" in upper:
        return f"e.g. CAST({col} AS VARCHAR) to keep the offset, or a TIMESTAMPTZ"
    if "INTERVAL" in upper:
        return f"e.g. CAST({col} AS VARCHAR), or a BIGINT count of microseconds"
    if upper == "BIGNUM":
        return f"e.g. CAST({col} AS DECIMAL(38,0)) or VARCHAR"
    if upper == "BIT":
        return f"e.g. CAST({col} AS VARCHAR)"
    if upper.startswith("UNION"):
        return "e.g. a STRUCT, or CAST(col AS VARCHAR)"
    if upper.endswith("]") and upper.rsplit("[", 1)[-1][:-1].isdigit():
        return f"e.g. a LIST: CAST({col} AS <element type>[])"
    return "to a type Parquet keeps exactly (e.g. VARCHAR)"


def _fingerprint_and_sync(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
        os.fsync(f.fileno())
    return f"{ALGORITHM}:{digest.hexdigest()}"


def _write_json_atomically(path: Path, payload: Mapping[str, Any]) -> None:
    write_atomically(path, json.dumps(payload, indent=2, default=str))


def _dq_version() -> str:
    from dq import __version__

    return __version__
