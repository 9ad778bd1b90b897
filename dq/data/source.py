"""DuckDB access: the only module that opens the database.

The database is opened read-only. That is a safety property (a custom SQL check cannot write)
and the reason a database locked by a running writer, such as `dbt build`, is reported as
"could not validate" instead of being waited on or read half-built.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from dq.checks.sql import quote_relation
from dq.errors import SourceError, option


@dataclass(frozen=True)
class Table:
    """A resolved relation: the connection it lives on, its quoted name and its columns."""

    connection: duckdb.DuckDBPyConnection
    db_path: Path
    schema: str
    name: str
    columns: dict[str, str]  # column name -> type as DuckDB's DESCRIBE prints it
    # The label of the relation this one is an exact copy of (the gate's staged snapshot): reports,
    # messages and drift profiles name the dataset, not the copy's internal catalog.
    copy_of: str | None = None
    # A frame the training code passed (dq/run/frames.py) stands in for the dataset this names
    # (`Dataset.describe()`, e.g. "model training_set"): a drift profile of that dataset applies to it.
    stands_for: str | None = None
    # What a pass over the relation measured besides the checks, so that nothing scans it twice:
    # the batch engine leaves the history fingerprint's aggregates here (dq.run.history reads them).
    facts: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def relation(self) -> str:
        return quote_relation(self.schema, self.name)

    @property
    def label(self) -> str:
        return self.copy_of or f"{self.schema}.{self.name}"


def open_database(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only, turning every failure into a SourceError with a fix."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(
            f"database {path} does not exist. Fix: build it (`make demo` or `dbt build`), "
            f"or point {option('db').split()[0]} / DQ_DB / [tool.dq] db at an existing DuckDB file"
        )
    try:
        connection = duckdb.connect(str(path), read_only=True, config=_duckdb_config())
    except duckdb.Error as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise SourceError(
                f"database {path} is locked by another process (a running dbt build?): {text}. "
                "Fix: wait for the writer to finish, then validate"
            ) from None
        raise SourceError(f"cannot open {path} as a DuckDB database: {text}") from None
    _use_utc(connection, path)
    return connection


SESSION_TIME_ZONE = "UTC"


def _use_utc(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Put the whole database instance in UTC, whatever the process's TZ says.

    DuckDB takes a session's zone from the process, and the zone decides what a view computes:
    `CAST(timestamptz AS TIMESTAMP)`, `date_trunc('day', timestamptz)`, a TIMESTAMP compared with
    a TIMESTAMPTZ. Ibis sets UTC on its own cursor only, so before this the Pandera engine, the
    batch engine, GX and the snapshot could each see other rows. `SET GLOBAL` (not the `config=`
    of connect, which runs before the built-in ICU extension is loaded and is refused) reaches
    every cursor of this instance: GX's SQLAlchemy connections and Ibis's backend are cursors of
    this connection. If UTC cannot be set or does not hold, nothing is validated (fail closed).
    """
    try:
        connection.execute(f"SET GLOBAL TimeZone = '{SESSION_TIME_ZONE}'")
        zone = connection.cursor().execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
    except duckdb.Error as exc:
        connection.close()
        raise SourceError(
            f"cannot set the session time zone of {path} to {SESSION_TIME_ZONE}: {exc}. Fix: use a DuckDB "
            "build with the ICU extension (the Python wheel has it built in)"
        ) from None
    if zone != SESSION_TIME_ZONE:
        connection.close()
        raise SourceError(f"{path}: DuckDB kept the time zone {zone!r} after SET GLOBAL TimeZone = 'UTC'")


def _duckdb_config() -> dict[str, str | bool | int | float | list[str]]:
    """Let big validations spill instead of failing: a temp directory outside the (read-only)
    database's folder, and an optional memory cap (DQ_MEMORY_LIMIT, e.g. '8GB')."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "temp_directory": os.environ.get("DQ_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "dq-duckdb-spill"),
        "preserve_insertion_order": "false",
    }
    if os.environ.get("DQ_MEMORY_LIMIT"):
        config["memory_limit"] = os.environ["DQ_MEMORY_LIMIT"]
    return config


def resolve_table(
    connection: duckdb.DuckDBPyConnection,
    db_path: Path,
    schema: str,
    name: str,
    catalog: str | None = None,
    origin: str | None = None,
) -> Table:
    """Look a relation up in the opened file's catalog; a missing one is a SourceError that lists
    what is there.

    DuckDB names a file's catalog after its stem (`warehouse.duckdb` is `warehouse`). A relation
    said to live in another `catalog` (a three-part name, a dbt node's `database`) is an error:
    dq opens one file and attaches nothing, so reading `schema.name` here would validate a
    look-alike. `origin` says where the catalog came from, for the message.
    """
    try:
        own = str(connection.execute("SELECT current_database()").fetchall()[0][0])
    except duckdb.Error as exc:
        raise SourceError(f"cannot read the catalog of {db_path}: {exc}") from None
    if catalog is not None and catalog.casefold() != own.casefold():  # catalog names ignore case in DuckDB
        where = origin or f"table {catalog}.{schema}.{name}"
        raise SourceError(
            f"{where} is in catalog {catalog!r}, but {db_path} is catalog {own!r} (DuckDB names a file's "
            f"catalog after its stem), so {schema}.{name} there is not that relation. "
            f"Fix: point {option('db').split()[0]} at "
            f"the DuckDB file of catalog {catalog!r} ({catalog}.duckdb), or name the relation without a catalog"
        )
    try:
        rows = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"cannot read the catalog of {db_path}: {exc}") from None
    if not rows:
        known = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema NOT IN ('information_schema', 'pg_catalog') "
            "ORDER BY 1 LIMIT 20"
        ).fetchall()
        listing = ", ".join(row[0] for row in known) or "none"
        raise SourceError(f"table {schema}.{name} not found in {db_path} (tables there: {listing})")
    return Table(connection, db_path, schema, name, {column: str(kind) for column, kind in rows})


def fetch_one(connection: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> Any:
    # fetchall, not fetchone: DuckDB keeps a half-read result open on the connection, and the
    # next query through Ibis on it then fails with "unfinished result".
    rows = connection.execute(query, params or []).fetchall()
    return rows[0][0] if rows else None


def fetch_samples(connection: duckdb.DuckDBPyConnection, query: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` rows of a query as JSON-safe dicts; the LIMIT is pushed to DuckDB."""
    cursor = connection.execute(f"SELECT * FROM ({query}) LIMIT {int(limit)}")
    names = [d[0] for d in cursor.description or []]
    return [
        {name: json_safe(value) for name, value in zip(names, row, strict=True) if not name.startswith("__dq")}
        for row in cursor.fetchall()
    ]


def json_safe(value: Any) -> Any:
    """A sample value as JSON holds it: NaN and infinities (and anything not a JSON scalar) as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)
