"""Datasets on Spark: a catalog table, a dbt model (its manifest's schema and alias), or files.

Each dataset resolves to a `SparkTable`: a temporary view named after what it reads (so a
reference to the same dataset reads the same view), its columns under the contract's type names
(dq/spark/types.py), and a *shadow*: an empty DuckDB table with those columns. Binding
(dq/data/bind.py: values in the column's own type, bounds rounded inward, expression rules typed)
needs only column types and a DuckDB to read values with, so it runs unchanged on the shadow and a
contract means on Spark exactly what it means on DuckDB.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dq.checks.sql import quote_ident
from dq.contract.file_formats import format_of
from dq.data.source import Table
from dq.dbt.artifacts import resolve_model
from dq.errors import SourceError
from dq.spark.sql import ident
from dq.spark.types import creatable_in_duckdb, duckdb_type

if TYPE_CHECKING:
    from dq.config import Settings
    from dq.contract.model import Contract, Dataset


@dataclass
class SparkTable:
    """A dataset resolved on Spark: `view` is a temporary view of `session`."""

    session: Any
    view: str
    label: str
    columns: dict[str, str]  # column -> type under the contract's (DuckDB's) name
    shadow: Table  # the empty DuckDB twin binding reads (same columns, same view name)
    facts: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, query: str, params: dict[str, Any] | None = None) -> Any:
        return self.session.sql(query, args=params or None)


def resolve_on_spark(
    dataset: Dataset, session: Any, shadow: duckdb.DuckDBPyConnection, settings: Settings, contract: Contract | None
) -> SparkTable:
    """The dataset as a temp view; SourceError with the fix when Spark cannot read it."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    label = dataset.describe()
    try:
        frame = _read(dataset, session, settings, contract)
        schema = frame.schema
    except (PySparkException, Py4JJavaError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"{label}: Spark cannot read it ({first})") from None
    view = "__dq_" + hashlib.sha256(label.encode()).hexdigest()[:12]
    frame.createOrReplaceTempView(view)
    return view_table(session, view, label, shadow, schema)


def view_table(
    session: Any, view: str, label: str, shadow: duckdb.DuckDBPyConnection, schema: Any = None
) -> SparkTable:
    """A SparkTable over a temporary view that already exists (`schema`: its schema, if known)."""
    schema = schema if schema is not None else session.table(ident(view)).schema
    columns = {f.name: duckdb_type(f.dataType) for f in schema.fields}
    return SparkTable(session, view, label, columns, _shadow(shadow, view, columns, label))


def _read(dataset: Dataset, session: Any, settings: Settings, contract: Contract | None) -> Any:
    if dataset.path is not None:
        return _read_files(dataset, session, contract)
    if dataset.model is not None:
        node = resolve_model(settings.dbt_project, dataset.model, dataset.version)
        parts = [node.schema, node.alias]
        if node.database not in (None, "", node.schema):
            parts.insert(0, str(node.database))
        return session.table(".".join(ident(p) for p in parts))
    return session.table(str(dataset.table))  # Spark's own reading of `db.t` (backticks quote)


# The text a CSV cell of these types must have on Spark (Java regexes without a quote or a
# backslash, so they sit in the SQL as they are). Spark's casts read more than DuckDB's do, and a
# value DuckDB refuses (exit 3) must not pass here: a DATE from `2024`, `2024-03`, `+2024-01-05`
# or `2024-01-05 garbage`, a TIMESTAMP from `2024`, a DOUBLE from Java's `5d`, `5f` or `0x1p3`.
# Years are 4+ digits, never signed (Spark's year -1 is DuckDB's 2 BC).
_DAY = "[0-9]{4,}-[0-9]{1,2}-[0-9]{1,2}"
_NUMBER = "[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?"
_CLOCK = "[0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?"
CSV_SHAPES = {
    "date": f"^[ ]*{_DAY}[ ]*$",
    "timestamp_ntz": f"^[ ]*{_DAY}([ T][0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}}([.][0-9]+)?)?)?[ ]*$",
    "double": f"^[ ]*({_NUMBER}|(?i)[+-]?(inf|infinity|nan))[ ]*$",
    "float": f"^[ ]*({_NUMBER}|(?i)[+-]?(inf|infinity|nan))[ ]*$",
    "timestamp": f"^[ ]*{_DAY}([ T]{_CLOCK}(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)?)?[ ]*$",
    **dict.fromkeys(("bigint", "int", "smallint", "tinyint"), "^[ ]*[+-]?[0-9]+[ ]*$"),
}


def csv_shape(target: str) -> str | None:
    """The text a CSV cell read as the Spark type `target` must have (None: no rule); a DECIMAL's
    fraction within its scale, as Spark's cast would round `1.005` into DECIMAL(10,2)."""
    if target.upper().startswith("DECIMAL("):
        scale = int(target.rstrip(")").split(",")[1])
        fraction = f"([.][0-9]{{0,{scale}}}0*)?"  # zeros past the scale change nothing (DuckDB's rule too)
        return f"^[ ]*[+-]?[0-9]*{fraction}[ ]*$"
    return CSV_SHAPES.get(target)


_NO_CELL = "\u0000dq: an unquoted empty cell\u0000"


def _read_files(dataset: Dataset, session: Any, contract: Contract | None) -> Any:
    """Parquet, JSON, a Delta table, or CSV with a header row. A CSV's columns the contract types are read in
    those types (a cell that does not parse fails the read: ANSI casts raise), the rest as text.

    CSV and JSON are read as DuckDB reads them, or not at all: Spark's defaults would read other
    rows. `FAILFAST`: a malformed record (a CSV row with a cell too many or too few, a JSON line
    that does not parse) fails the read, where PERMISSIVE drops the extra cell or makes the row
    NULLs (a `_corrupt_record`) and the checks pass on what is left. `multiLine`: a quoted cell
    may hold a newline (RFC 4180), not end the row there. `escape '"'`: a quote inside a quoted
    cell is written twice (RFC 4180), and a backslash is a character, not Spark's escape.
    Every CSV is parsed once here, so a malformed row is exit 3 before any check runs."""
    from dq.data.delta import delta_location

    path = delta_location(str(dataset.path))  # a local path made absolute; a URI as given
    kind = dataset.format or format_of(path)
    if kind == "delta":
        return _read_delta(dataset, session, path)
    if kind in ("parquet", "csv") and "://" not in path:
        _files_agree(dataset, path, kind)
    if kind == "parquet":
        from dq.data.delta import refuse_parquet_inside_delta

        refuse_parquet_inside_delta(path, dataset.describe())
        return session.read.parquet(path)
    if kind == "json":
        frame = session.read.option("mode", "FAILFAST").json(path)
        _json_integers_exact(dataset, session, path, frame)
        return frame
    reader = session.read.option("header", "true").option("inferSchema", "false").option("mode", "FAILFAST")
    frame = reader.option("multiLine", "true").option("escape", '"')
    # only an unquoted empty cell is NULL, `""` is the empty string (as on DuckDB): univocity hands
    # Spark `nullValue` for the one and `emptyValue` for the other, and Spark makes NULL of every
    # cell equal to `nullValue`, so `nullValue` is a text no cell holds (by default both were "")
    frame = frame.option("nullValue", _NO_CELL).option("emptyValue", "").csv(path)
    declared = {} if contract is None or contract.dataset != dataset else contract.columns
    typed = {name: rule.type for name, rule in declared.items() if rule.type is not None and name in frame.columns}
    if not typed:
        frame.selectExpr(*(f"count({ident(name)})" for name in frame.columns)).collect()  # parse every row once
        return frame
    from dq.spark.types import spark_type

    selected, unparsed = [], []
    for name in frame.columns:
        target = spark_type(typed[name]) if name in typed else None
        if name in typed and target is None:
            raise SourceError(f"{dataset.describe()}: a CSV column of type {typed[name]} is read only on DuckDB")
        if target:
            # try_cast whatever the session's ANSI mode (a plain CAST is NULL for a bad cell when
            # spark.sql.ansi.enabled is off): every cell that does not parse is counted, once
            selected.append(f"try_cast({ident(name)} AS {target}) AS {ident(name)}")
            wrong = f"try_cast({ident(name)} AS {target}) IS NULL"
            if shape := csv_shape(target):
                wrong += f" OR NOT {ident(name)} RLIKE '{shape}'"
            unparsed.append(f"count_if({ident(name)} IS NOT NULL AND ({wrong}))")
        else:
            selected.append(ident(name))
    counts = frame.selectExpr(*unparsed, *(f"count({ident(name)})" for name in frame.columns)).collect()[0]
    found = counts[: len(unparsed)]
    bad = {name: int(n) for name, n in zip((n for n in frame.columns if n in typed), found, strict=True) if n}
    if bad:
        listing = ", ".join(f"{name} ({typed[name]}): {n} cell(s)" for name, n in bad.items())
        raise SourceError(
            f"{dataset.describe()}: CSV cells that are not of their column's declared type: {listing}. "
            "Fix the data, or the column's `type` in the contract"
        )
    return frame.selectExpr(*selected)


def _files_agree(dataset: Dataset, path: str, kind: str) -> None:
    """DuckDB's refusals of local files that disagree on their columns (dq/data/file_schemas.py):
    Parquet files of two schemas, a CSV header with a duplicated, padded or missing name, a hive
    partition key that is also a file column. Spark would read them with one file's schema too."""
    from dq.checks.sql import literal
    from dq.data.file_schemas import file_columns, refuse_shadowing_partitions
    from dq.data.files import CSV_OPTIONS

    with duckdb.connect() as connection:
        held, files, _ = file_columns(
            connection, literal(path), kind, CSV_OPTIONS, dataset.describe(), hive=bool(dataset.hive_partitioning)
        )
    if dataset.hive_partitioning:
        refuse_shadowing_partitions(files, held, dataset.describe())


def _json_integers_exact(dataset: Dataset, session: Any, path: str, frame: Any) -> None:
    """As on DuckDB (dq.data.files): a JSON key Spark infers as a double (integers mixed with
    fractions) that holds an integer no double equals, or one past 2**63, is an error, not a
    value checked as another. The double columns are read once more as the numbers' text."""
    from pyspark.sql.types import DoubleType, FloatType, StringType, StructField, StructType

    doubles = [f.name for f in frame.schema.fields if isinstance(f.dataType, DoubleType | FloatType)]
    if not doubles:
        return
    as_text = StructType([StructField(name, StringType()) for name in doubles])
    text = session.read.schema(as_text).option("mode", "FAILFAST").json(path)
    # the double compared as a BIGINT: exact for an integral double below 2**63 (Spark's cast of a
    # double to DECIMAL goes through its shortest text, 2**60 -> ...980); past 2**63, refused
    as_long = "try_cast(try_cast({c} AS DOUBLE) AS BIGINT)"
    inexact = (
        "{c} RLIKE '^-?[0-9]+(\\\\.0*)?$' AND (try_cast({c} AS DECIMAL(38, 0)) IS NULL OR "
        f"{as_long} IS NULL OR try_cast({{c}} AS DECIMAL(38, 0)) <> {as_long})"
    )
    found = text.selectExpr(*(f"min(CASE WHEN {inexact.format(c=ident(n))} THEN {ident(n)} END)" for n in doubles))
    for name, value in zip(doubles, found.collect()[0], strict=True):
        if value is not None:
            raise SourceError(
                f"{dataset.describe()}: column {name!r} is read as a double (its numbers mix integers and "
                f"fractions), but it holds the integer {value}, which no double equals exactly (or is past 2**63), so "
                "checks would judge another value. Fix: write that key's numbers all as integers within 64 bits, or as "
                "strings, or provide the data as Parquet with an exact type"
            )


def _read_delta(dataset: Dataset, session: Any, path: str) -> Any:
    """The Delta table's latest version, read by the session's own Delta Lake (delta-spark); a
    session without it is told how to configure it, never read as the directory's Parquet files."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        frame = session.read.format("delta").load(path)
        frame.schema  # noqa: B018 (analysis: a missing data source raises here, not later)
        return frame
    except (PySparkException, Py4JJavaError) as exc:
        text = str(exc)
        if "DATA_SOURCE_NOT_FOUND" not in text and "Failed to find data source: delta" not in text:
            raise
    raise SourceError(
        f"{dataset.describe()}: this Spark session has no Delta Lake data source. Fix: configure Delta Lake in "
        "the session (spark.jars.packages io.delta:delta-spark_2.13:<version matching Spark>, "
        "spark.sql.extensions io.delta.sql.DeltaSparkSessionExtension, spark.sql.catalog.spark_catalog "
        "org.apache.spark.sql.delta.catalog.DeltaCatalog: in [tool.dq.spark] conf or the session passed to dq), "
        "or name a Delta table registered in the catalog as `dataset: {table: db.t}`"
    )


def _shadow(connection: duckdb.DuckDBPyConnection, view: str, columns: dict[str, str], label: str) -> Table:
    """An empty DuckDB table with the view's columns (a type DuckDB lacks is a BLOB there, which no
    check binds to), in the shadow connection's `main` schema under the view's name."""
    declared = ", ".join(f"{quote_ident(c)} {t if creatable_in_duckdb(t) else 'BLOB'}" for c, t in columns.items())
    connection.execute(f"CREATE OR REPLACE TABLE main.{quote_ident(view)} ({declared})")
    return Table(connection, Path(":memory:"), "main", view, dict(columns), copy_of=label)
