"""Files as datasets: `dataset: {path: 'data/train/*.parquet'}`, read by DuckDB where they lie.

A path (a file, a glob, a hive-partitioned tree) becomes a view over `read_parquet` / `read_csv` /
`read_json` in a small in-memory catalog attached to the validation's connection. An attached
catalog belongs to the DuckDB instance, so every cursor (Ibis, GX, dq's own SQL) sees the view;
the files are never copied, except by `dq gate`, which snapshots them first (dq/gate/snapshot.py).

Files are not locked while they are read: each check scans them again, so a writer replacing a
file during `dq validate` can make two checks see different bytes. `dq gate` copies the files once
to its snapshot *before* any check and validates that copy, so what training reads is what was
checked. Several files must agree in their column names (and a Parquet file's types), without
duplicates, and a hive partition key must not be a column inside them: dq/data/file_schemas.py reads
every file's schema or header first and refuses a mismatch (DuckDB would cast every file into the
first one's schema, drop a column only a later file holds, rename a duplicated or padded name).

A Delta table (`format: delta`, or a directory holding `_delta_log/`) is no table function: its
latest version is an Arrow dataset registered on the connection (dq/data/delta.py), and the table
lives on a SharedConnection so every engine's "cursor" sees the registration.

Types: Parquet and JSON columns have the types the files (or DuckDB's reading of JSON) give; a CSV
has none, so columns whose contract declares a `type` are read in that type (a cell that does not
parse is an error, exit 3, never a pass) and the rest are sniffed by DuckDB. What would be read
as another value than the file holds is refused (dq/data/text_exact.py): every cell of a typed
column must be written as exactly its type (ISO dates, plain integers, ...). A CSV's every line
is a row (no sniffed comments or preamble) and its first line is the header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dq.checks.sql import literal, quote_ident
from dq.contract.file_formats import format_of
from dq.data.file_schemas import file_columns, malformed_row, refuse_padded_quotes, refuse_shadowing_partitions
from dq.data.text_exact import json_text_type, refuse_inexact_cells, ruled_columns
from dq.errors import SourceError

if TYPE_CHECKING:
    from dq.config import Settings
    from dq.contract.model import Contract, Dataset
    from dq.data.source import Table

CATALOG = "dq_files"


def relation_sql(
    dataset: Dataset,
    declared_types: Mapping[str, str] | None = None,
    *,
    as_text: bool = False,
    text_columns: Mapping[str, str] | None = None,
    partition_types: Mapping[str, str] | None = None,
    by_name: bool = False,
) -> str:
    """The DuckDB table function that reads the dataset's files, its path made absolute. `as_text`
    (for dq.data.text_exact): a CSV's every column as VARCHAR, a JSON's `text_columns` as the text
    of their values (a number's or boolean's as its raw JSON, quotes and all)."""
    assert dataset.path is not None
    kind = dataset.format or format_of(dataset.path)
    if kind == "delta":  # the files of a Delta directory are not its rows: only its log says which are
        raise SourceError(
            f"{dataset.describe()}: a Delta table is read through its log (deltalake), not SQL text, so it "
            "cannot be pasted into a query here (e.g. a dbt post-hook). Fix: reference a model, a table or "
            "Parquet files"
        )
    target = _target(dataset)
    options = [f"hive_partitioning = {'true' if dataset.hive_partitioning else 'false'}"]
    if kind == "csv":
        # dates in ISO form only: DuckDB's sniffer otherwise guesses a file's order of day and
        # month (03/04/2026 is read as 3 April), and a declared DATE column takes the guess too;
        # a date in another form is then text (sniffed) or an error (declared), never reordered.
        # Every line is a row: no sniffed comment character (a row starting with `#` was dropped)
        # and no sniffed preamble (leading lines skipped); the first line is the header.
        # Quoting is RFC 4180's, not sniffed: a sniffed `'` quote or `\\` escape joined rows
        # (`'80s hits,5` opened a quote that closed lines later), as Python's csv never does.
        # Only an unquoted empty cell is NULL: `""` is the empty string (DuckDB's allow_quoted_nulls
        # read it as NULL, so a `length: {min: 1}` or `unique` passed on it, as Python's csv never does).
        options += [*CSV_OPTIONS, "header = true"]
        if by_name:  # the files' headers name the columns in other orders: DuckDB made a column VARCHAR
            options.append("union_by_name = true")
    if as_text:  # partition keys as their directories spell them (`k=0x05` is no integer 5)
        options += ["hive_types_autocast = false", f"filename = {literal(FILE_COLUMN)}"]
    if kind == "csv" and as_text:
        options.append("all_varchar = true")
    elif kind == "json" and as_text and text_columns:
        # a number's or boolean's raw JSON: a string "7" in a BIGINT column stays `"7"`, which no number's
        # shape matches (read as VARCHAR it was 7, and DuckDB's cast read it as the number 7); a VARCHAR's
        # too: a 7, true or {"k":1} past the sniffing sample is no string (read as VARCHAR it was text)
        pairs = ", ".join(f"{literal(c)}: {literal(json_text_type(t))}" for c, t in text_columns.items())
        options.append(f"columns = {{{pairs}}}")
    elif kind == "csv" and declared_types:
        pairs = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in declared_types.items())
        options.append(f"types = {{{pairs}}}")
    if partition_types and not as_text:  # a partition key's declared type (read_csv's `types` has no such column)
        pairs = ", ".join(f"{literal(c)}: {literal(t)}" for c, t in partition_types.items())
        options.append(f"hive_types = {{{pairs}}}")
    return f"read_{kind}({target}, {', '.join(options)})"


def _target(dataset: Dataset) -> str:
    return literal(str(Path(str(dataset.path)).expanduser().absolute()))


ISO_DATE = "%Y-%m-%d"
FILE_COLUMN = "__dq_file"  # the text re-read's column naming each row's file
# how dq reads every CSV, the header aside (dq/data/file_schemas.py reads each file's first record with them)
CSV_OPTIONS = (
    f"dateformat = {literal(ISO_DATE)}",
    "comment = ''",
    "skip = 0",
    "quote = '\"'",
    "escape = '\"'",
    "allow_quoted_nulls = false",
)


def resolve_files(
    dataset: Dataset, connection: duckdb.DuckDBPyConnection, settings: Settings, contract: Contract | None = None
) -> Table:
    """A view over the files in the attached in-memory catalog; SourceError if nothing matches."""
    from dq.data.source import Table

    if (dataset.format or _format(dataset)) == "delta":
        return _resolve_delta(dataset, connection, settings)
    if (dataset.format or _format(dataset)) == "parquet":
        from dq.data.delta import refuse_parquet_inside_delta

        refuse_parquet_inside_delta(str(dataset.path), dataset.describe())
    label = dataset.describe()
    kind = dataset.format or _format(dataset)
    held, files, by_name = file_columns(
        connection, _target(dataset), kind, CSV_OPTIONS, label, hive=bool(dataset.hive_partitioning)
    )
    keys = refuse_shadowing_partitions(files, held, label) if dataset.hive_partitioning else []
    if kind == "csv":
        refuse_padded_quotes(connection, files, CSV_OPTIONS, label)
    declared = _declared_types(contract, dataset)
    partitions = _partition_types(connection, dataset, declared, held)
    if partitions:
        declared = {c: t for c, t in (declared or {}).items() if c not in partitions} or None
    sql = relation_sql(dataset, declared, partition_types=partitions, by_name=by_name)
    name = "files_" + hashlib.sha256(sql.encode()).hexdigest()[:12]
    view = f"{quote_ident(CATALOG)}.main.{quote_ident(name)}"
    try:
        attached = connection.execute("SELECT 1 FROM duckdb_databases() WHERE database_name = ?", [CATALOG]).fetchall()
        if not attached:
            connection.execute(f"ATTACH ':memory:' AS {quote_ident(CATALOG)} (READ_ONLY false)")
        connection.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {sql}")
        described = connection.execute(f"DESCRIBE {view}").fetchall()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if kind == "csv" and (why := malformed_row(connection, files, CSV_OPTIONS)):
            raise SourceError(f"{label}: {why}") from None
        raise SourceError(
            f"{label}: DuckDB cannot read it ({first}). Relative paths are read from the current directory "
            f"({Path.cwd()}). Fix: point `dataset.path` at existing {dataset.format or _format(dataset)} files"
        ) from None
    columns = {str(row[0]): str(row[1]) for row in described}
    if kind == "csv" and held and set(columns) != {*held, *keys}:
        read, named = sorted(set(columns) - {*held, *keys}), sorted({*held, *keys} - set(columns))
        raise SourceError(
            f"{label}: DuckDB reads the columns {', '.join(read or sorted(columns))} where the files' headers and "
            f"partition directories name {', '.join(named or sorted({*held, *keys}))}. Fix: write the header with "
            "the column names as they should be read (unique, no spaces around them)"
        )
    keyed = {key: columns[key] for key in keys if key in columns}
    if kind in ("csv", "json"):
        rows = _every_cell_parses(connection, view, columns, label)
        reread = {c: t for c, t in ruled_columns(columns, json=kind == "json").items() if c not in keyed}
        text = relation_sql(dataset, as_text=True, text_columns=reread, by_name=by_name)
        refuse_inexact_cells(connection, text, columns, rows, label, json=kind == "json", partition_keys=keyed)
    elif keyed:  # a Parquet file's columns carry their types; its partition keys are text in a path
        text = relation_sql(dataset, as_text=True)
        refuse_inexact_cells(connection, text, keyed, None, label, json=False, partition_keys=keyed)
    return Table(connection, settings.db, CATALOG, name, columns, copy_of=label)


def _resolve_delta(dataset: Dataset, connection: duckdb.DuckDBPyConnection, settings: Settings) -> Table:
    """The Delta table's latest version, registered as an Arrow dataset under a name from its path
    (a reference to the same table reads the same registration)."""
    from dq.data.delta import delta_location, latest_version
    from dq.data.shared import SharedConnection, raw, shares
    from dq.data.source import Table

    assert dataset.path is not None
    label = dataset.describe()
    if dataset.hive_partitioning is not None:
        raise SourceError(f"{label}: a Delta table's partitions are in its log. Fix: drop `hive_partitioning`")
    _, arrow = latest_version(dataset.path, label)
    name = "__dq_delta_" + hashlib.sha256(delta_location(dataset.path).encode()).hexdigest()[:12]
    real = raw(connection)
    try:
        real.register(name, arrow)
        described = real.execute(f"DESCRIBE main.{quote_ident(name)}").fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"{label}: DuckDB cannot scan the Delta table's Arrow dataset ({exc})") from None
    columns = {str(row[0]): str(row[1]) for row in described}
    shared = connection if shares(connection) else SharedConnection(real)
    return Table(shared, settings.db, "main", name, columns, copy_of=label)  # type: ignore[arg-type]


def mentions_delta(contract: Contract) -> bool:
    """Whether the contract reads a Delta table: as its dataset, or in a check (references...)."""
    from dq.contract.model import Dataset

    def walk(value: Any) -> bool:
        if isinstance(value, Dataset) and value.path is not None:
            try:
                if (value.format or format_of(value.path)) == "delta":
                    return True
            except ValueError:
                pass
        if hasattr(type(value), "model_fields"):
            return any(walk(getattr(value, field)) for field in type(value).model_fields)
        if isinstance(value, list | tuple):
            return any(walk(item) for item in value)
        if isinstance(value, dict):
            return any(walk(item) for item in value.values())
        return False

    return walk(contract)


def _every_cell_parses(
    connection: duckdb.DuckDBPyConnection, view: str, columns: Mapping[str, str], label: str
) -> int | None:
    """Read every cell of a CSV or JSON once, in its column's type, before any check.

    Text files carry no types: DuckDB reads a cell in the declared (or sniffed) type only when a
    query reads that column. A check that reads other columns, or none (`type`), would pass on a
    file with a cell that is not of its column's type; this scan makes such a file an error."""
    if not columns:
        return None
    every = ", ".join(quote_ident(column) for column in columns)
    try:
        return int(connection.execute(f"SELECT count(*), sum(hash({every})) FROM {view}").fetchall()[0][0])
    except duckdb.Error as exc:
        detail = " ".join(str(exc).splitlines()[:4])
        raise SourceError(
            f"{label}: a value does not read as its column's type ({detail}). Fix: correct the file, or declare the "
            "column's `type` as the file holds it (a CSV's dates are read in ISO form only, YYYY-MM-DD)"
        ) from None


def _partition_types(
    connection: duckdb.DuckDBPyConnection, dataset: Dataset, declared: Mapping[str, str] | None, held: list[str]
) -> dict[str, str] | None:
    """The declared types of a hive-partitioned CSV's partition keys: the declared columns its
    files do not hold (`held`: the files' headers; else one sniff of the files without partitioning)."""
    if not declared or not dataset.hive_partitioning or (dataset.format or _format(dataset)) != "csv":
        return None
    if not held:
        flat = relation_sql(dataset.model_copy(update={"hive_partitioning": False}))
        try:
            held = [str(row[0]) for row in connection.execute(f"DESCRIBE SELECT * FROM {flat}").fetchall()]
        except duckdb.Error:
            return None  # the typed read reports what is wrong with the files
    return {c: t for c, t in declared.items() if c not in held} or None


def _format(dataset: Dataset) -> str:
    return format_of(dataset.path or "")


def _declared_types(contract: Contract | None, dataset: Dataset) -> dict[str, str] | None:
    """For a CSV that is the contract's own dataset: the declared column types to read it in."""
    if contract is None or contract.dataset != dataset:
        return None
    return {name: rule.type for name, rule in contract.columns.items() if rule.type is not None} or None


def open_connection(settings: Settings, contract: Contract) -> duckdb.DuckDBPyConnection:
    """The DuckDB file if it exists or is needed; an in-memory DuckDB (in UTC) for a contract on
    files when there is no database file, so files need no warehouse."""
    from dq.data.shared import SharedConnection
    from dq.data.source import open_database

    if contract.dataset.path is not None and not settings.db.is_file():
        connection = memory_connection()
    else:
        connection = open_database(settings.db)
    if mentions_delta(contract):  # every table of the run on one connection: each sees the registrations
        return SharedConnection(connection, owner=True)  # type: ignore[return-value]
    return connection


def memory_connection() -> duckdb.DuckDBPyConnection:
    from dq.data.source import _duckdb_config, _use_utc

    connection = duckdb.connect(":memory:", config=_duckdb_config())
    _use_utc(connection, Path(":memory:"))
    return connection


def target_dataset(args: Mapping[str, Any]) -> Dataset:
    """The dataset a references / disjoint_from spec names, rebuilt from its args."""
    from dq.contract.model import Dataset

    if args.get("path") is not None:
        return Dataset(path=args["path"], format=args.get("format"), hive_partitioning=args.get("hive_partitioning"))
    return Dataset(model=args["model"], table=args["table"], version=args.get("version"))
