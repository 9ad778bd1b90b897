"""Great Expectations on Spark: the same expectation suite dq builds for DuckDB, validated by GX's
Spark datasource (a dataframe asset) against a `pyspark.sql.DataFrame`, in the frame's own session.

The planning is dq.gx.engine's (`plan_expectations`, `validate_plans`, `plan_result`): one spec
compiles to the same GX expectations and its result is read the same way, so counts and verdicts
mean the same on both. Only what is written in a SQL dialect differs, and is restated here:

* `column_type` asks Spark's `typeof()` (resolved at analysis time, so it answers on an empty frame
  too) for the Spark spelling of the contract's type (`TIMESTAMP` is `timestamp_ntz`);
* `pattern` is GX's own regex expectation (Spark's `rlike`), with the contract's RE2 pattern
  translated to a Java regex that matches the same strings, or refused (dq.gx.java_regex);
* BOOLEAN means/deviations/quantiles and TIMESTAMP WITH TIME ZONE freshness run on a second frame
  of cast columns (Spark hands a zoned timestamp back as the session's wall clock: it is turned
  into UTC's first).

Kinds stated in DuckDB SQL text (custom SQL, expressions) or reading another relation (references)
are not this engine's: they come back as errors, never as passes. pyspark and GX are imported
lazily, as everywhere in dq.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dq.checks.result import CheckResult
from dq.checks.spec import CheckKind, CheckSpec
from dq.contract.types import base_type, canonical_type
from dq.gx import adapter
from dq.gx.engine import (
    SUPPORTED_KINDS,
    ExpectationPlan,
    GxEngine,
    compile_expectations,
    plan_expectations,
    plan_result,
    validate_plans,
)
from dq.gx.java_regex import UntranslatableRegex, java_regex

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation
    from pyspark.sql import DataFrame

ENGINE = "gx-spark"
# written in DuckDB's SQL dialect, or read another relation: not stated on a Spark frame here
_DUCKDB_SQL_KINDS = frozenset({CheckKind.custom_sql, CheckKind.expression, CheckKind.references})
SPARK_KINDS = SUPPORTED_KINDS - _DUCKDB_SQL_KINDS

# contract (DuckDB) types as Spark's typeof() spells them
_SPARK_TYPES = {
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "VARCHAR": "string",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BLOB": "binary",
}
_DUCKDB_TYPES = {spark: duck for duck, spark in _SPARK_TYPES.items()}
_ZONED = "TIMESTAMP WITH TIME ZONE"
_GX_VIEW = "tmp_view"  # great_expectations/expectations/metrics/query_metrics/query_table/query_table.py
_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"})


class GxSparkEngine:
    """Runs check specs as a Great Expectations suite against a Spark DataFrame."""

    name = ENGINE

    def supports(self, spec: CheckSpec) -> bool:
        # GX on Spark names columns through `F.col(name)`, which reads `a.b` as a struct field
        if any("." in column or "`" in column for column in spec.columns):
            return False
        if spec.kind not in SPARK_KINDS or not GxEngine().supports(spec):
            return False
        if spec.kind is CheckKind.pattern:
            try:
                java_regex(str(spec.args["regex"]))
            except UntranslatableRegex:
                return False
        if spec.kind is CheckKind.column_type:
            return _spark_type(str(spec.args["type"])) is not None
        return True

    def run_frame(self, specs: Sequence[CheckSpec], frame: DataFrame, columns: Mapping[str, str]) -> list[CheckResult]:
        """One result per spec, in order; `columns` maps each column of `frame` to its DuckDB type
        (`duckdb_types(frame.schema)` gives it)."""
        if not specs:
            return []
        try:
            results = _run(specs, frame, columns)
        except Exception as exc:  # GX or Spark crashed outside an expectation: nothing was validated
            message = f"great_expectations on Spark could not validate the frame: {_one_line(exc)}"
            results = [CheckResult.errored(spec, ENGINE, message) for spec in specs]
        for result in results:
            result.engine = ENGINE
            if result.kind == CheckKind.quantile.value:
                result.observed = _as_integer(result.observed, columns.get(result.columns[0] if result.columns else ""))
        return results


def duckdb_types(schema: Any) -> dict[str, str]:
    """A Spark schema's columns in the contract's (DuckDB) type names; a type dq has no name for
    keeps Spark's own spelling (upper-cased), which no contract type matches."""
    found = {}
    for column in schema.fields:
        spark = column.dataType.simpleString()
        found[column.name] = _DUCKDB_TYPES.get(spark) or spark.upper()  # decimal(10,2) -> DECIMAL(10,2)
    return found


def _as_integer(value: Any, column_type: str | None) -> Any:
    """approxQuantile answers in doubles: a quantile of an integer column is that integer (GX only
    gets integers of at most 32 bits: spec.compares_through_floats_safely)."""
    if isinstance(value, float) and value.is_integer() and column_type in _INTEGERS:
        return int(value)
    return value


def _spark_type(declared: str) -> str | None:
    try:
        canonical = canonical_type(declared)
    except ValueError:
        return None
    if base_type(canonical) == "DECIMAL":
        return canonical.lower()  # DECIMAL(10,2) -> decimal(10,2); bare DECIMAL -> decimal
    return _SPARK_TYPES.get(canonical)


# --- compiling --------------------------------------------------------------------------------


def _compile(
    x: Any, spec: CheckSpec, columns: Mapping[str, str], siblings: Mapping[str, list[float]]
) -> Iterator[Expectation]:
    col = spec.column
    match spec.kind:
        case CheckKind.column_type:
            yield x.ExpectColumnToExist(column=col)
            if not columns or col in columns:
                yield x.UnexpectedRowsExpectation(unexpected_rows_query=_type_query(spec))
        case CheckKind.pattern:
            yield x.ExpectColumnValuesToMatchRegex(column=col, regex=java_regex(str(spec.args["regex"])))
        case CheckKind.freshness if columns.get(col or "") == _ZONED:
            # the cast frame holds this column as UTC wall-clock time (see _cast_frame)
            yield from compile_expectations(x, spec, {**columns, str(col): "TIMESTAMP"}, siblings)
        case _:
            yield from compile_expectations(x, spec, columns, siblings)


def _type_query(spec: CheckSpec) -> str:
    """One row, holding the column's Spark type, if it is not the contract's type."""
    spark = _spark_type(str(spec.args["type"]))
    if spark is None:
        raise ValueError(f"no Spark type for {spec.args['type']}")
    match = "__dq_type LIKE 'decimal(%'" if spark == "decimal" else f"__dq_type = '{spark}'"
    actual = f"typeof(any_value({_spark_ident(spec.columns[0])}))"
    return f"SELECT __dq_type FROM (SELECT {actual} AS __dq_type FROM {{batch}}) AS __dq WHERE NOT ({match})"


def _spark_ident(name: str) -> str:
    # doubled backticks escape one; `{` `}` are doubled for GX's str.format of the query
    return "`" + name.replace("`", "``").replace("{", "{{").replace("}", "}}") + "`"


# --- running ----------------------------------------------------------------------------------


def _run(specs: Sequence[CheckSpec], frame: DataFrame, columns: Mapping[str, str]) -> list[CheckResult]:
    gx = adapter.import_gx()
    engine = GxSparkEngine()
    mine = [spec for spec in specs if engine.supports(spec)]
    plans = plan_expectations(mine, columns, _compile)
    # GX runs an UnexpectedRowsExpectation on a temp view it names `tmp_view`: a view of that name
    # the caller holds would be replaced, so the type checks that need it are refused instead
    held = frame.sparkSession.catalog.tableExists(_GX_VIEW)
    for plan in plans:
        if plan.spec.kind is CheckKind.freshness and columns.get(plan.spec.column or "") == _ZONED:
            plan.batch = "cast"
        if held and plan.spec.kind is CheckKind.column_type:
            plan.error = f"the Spark session holds a view `{_GX_VIEW}`, which GX would replace to check the type"
    cached = frame.is_cached
    try:
        with adapter.quiet():
            context = gx.get_context(mode="ephemeral")
            adapter.disable_progress_bars(context)
            datasource = context.data_sources.add_spark(name="dq")
            session = datasource.get_execution_engine().spark
            if session is not frame.sparkSession:  # temp views (UnexpectedRowsExpectation) are per session
                raise RuntimeError("GX opened another Spark session than the frame's")
            frames = {"table": frame}
            cast = _cast_frame(plans, frame, columns)
            if cast is not None:
                frames["cast"] = cast
            batches = {key: _whole_frame(datasource, key, data) for key, data in frames.items()}
            found = validate_plans(gx, plans, batches)
    finally:
        if not cached:
            frame.unpersist()  # GX persists the batch's frame; the caller's session keeps no copy
        if not held:
            frame.sparkSession.catalog.dropTempView(_GX_VIEW)  # nor GX's view of it
    by_spec = {id(plan.spec): (index, plan) for index, plan in enumerate(plans)}
    results = []
    for spec in specs:
        if id(spec) not in by_spec:
            results.append(CheckResult.errored(spec, ENGINE, _refusal(spec)))
            continue
        index, plan = by_spec[id(spec)]
        results.append(plan_result(plan, found.get(index, []), columns, "the Spark frame"))
    return results


def _whole_frame(datasource: Any, key: str, data: DataFrame) -> Any:
    asset = datasource.add_dataframe_asset(key)
    definition = asset.add_batch_definition_whole_dataframe("all")
    return lambda: definition.get_batch(batch_parameters={"dataframe": data})


def _cast_frame(plans: Sequence[ExpectationPlan], frame: DataFrame, columns: Mapping[str, str]) -> DataFrame | None:
    """The columns of the "cast" plans: BOOLEAN as DOUBLE (Spark's avg refuses BOOLEAN), zoned
    timestamps as UTC wall-clock `timestamp_ntz` (dq reads a naive newest value as UTC)."""
    from pyspark.sql import functions as F

    names = sorted({plan.spec.columns[0] for plan in plans if plan.batch == "cast"})
    if not names:
        return None
    zone = frame.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
    selected = []
    for name in names:
        column = F.col(f"`{name}`")
        if columns.get(name) == _ZONED:
            selected.append(F.to_utc_timestamp(column, zone).cast("timestamp_ntz").alias(name))
        else:
            selected.append(column.cast("double").alias(name))
    return frame.select(*selected)


def _refusal(spec: CheckSpec) -> str:
    if spec.kind in _DUCKDB_SQL_KINDS:
        return f"{spec.kind.value} is written in DuckDB SQL or reads another relation: gx-spark does not run it"
    if spec.kind is CheckKind.pattern:
        try:
            java_regex(str(spec.args["regex"]))
        except UntranslatableRegex as exc:
            return f"the regex cannot run on Spark with RE2's meaning: {exc}"
    return f"gx-spark cannot check {spec.kind.value} exactly on Spark"


def _one_line(error: Any) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
