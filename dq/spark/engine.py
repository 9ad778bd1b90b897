"""Pandera on measurements Spark takes in as few jobs as it can: the Spark backend's engine.

The DuckDB default (dq/engines/pandera_batch.py) measures in one pass; Spark plans a pass with a
`count(DISTINCT key)` by grouping every aggregate by the key (45-67 s at 10M rows, issue 16), so
here the measuring is split into:
- one aggregate pass: failing-row counts as `count_if(predicate)`, null fractions, means,
  deviations, freshness (`sql.metric_expression`);
- one `GROUP BY key HAVING count(*) > 1` per unique key (it gives the duplicated-row count itself);
- one query per distinct count and per quantile (`percentile_disc`, DuckDB's quantile_disc rank);
- one query per reference / other split (anti / semi joins) and per custom SQL check.
The measurements are judged by the very same Pandera schema as on DuckDB (`pandera_batch.judge`).

What Spark cannot state with DuckDB's meaning is refused before any job runs (`refusal`): the
runner turns a refusal into an error naming the check and the backend (exit 3), never a skip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dq.checks.kinds import Family, of_family
from dq.checks.result import CheckResult
from dq.checks.spec import SCHEMA_KINDS, STATISTIC_KINDS, CheckKind, CheckSpec
from dq.checks.sql import custom_sql
from dq.contract.types import column_family, decimal_precision, decimal_scale
from dq.engines import pandera_batch
from dq.errors import DqError
from dq.spark import sql, stats
from dq.spark.regex import UnsafeRegex
from dq.spark.relation import SparkTable

ENGINE = "pandera-batch-spark"
# per-row predicates, and the label-timing rule (a row query on DuckDB, a predicate all the same)
_PASS_ROW_KINDS = of_family(Family.row_predicate) | {CheckKind.feature_before_label}
_PASS_METRICS = frozenset(
    {CheckKind.row_count, CheckKind.null_fraction, CheckKind.mean, CheckKind.stddev, CheckKind.freshness}
)
Measure = pandera_batch.Measure
# What this engine states as DuckDB does: listed, not assumed, so a kind added later is refused on
# Spark until it is measured here (reconciliation and the history's checks are DuckDB-only today)
ON_SPARK = of_family(Family.schema, Family.row_predicate, Family.row_query, Family.aggregate, Family.statistic) | {
    CheckKind.references,
    CheckKind.disjoint_keys,
}


def refusal(spec: CheckSpec, table: SparkTable) -> str | None:
    """Why `spec` cannot run on Spark with the meaning it has on DuckDB, or None. Runs no job
    (a custom query or expression is only analysed)."""
    if spec.kind not in ON_SPARK:
        return f"{spec.kind.value} checks are measured on DuckDB only; validate this contract with --backend duckdb"
    if spec.args.get("where") is not None or spec.allowed_failing is not None:
        return "a rule with `where:` or a tolerance (`mostly`, `max_failing_fraction`) is measured on DuckDB only"
    if spec.segments:  # measured per segment by dq.engines.segments' DuckDB SQL only
        return f"its per-segment verdicts (segments: {', '.join(spec.segments)}) are measured on DuckDB only"
    if spec.kind in STATISTIC_KINDS:
        return stats.refusal(spec, table)
    if spec.kind in (CheckKind.expression, CheckKind.custom_sql) and _ansi_off(table):
        return (
            "the session runs with spark.sql.ansi.enabled=false, where a cast or arithmetic that fails is NULL "
            "(a row that passes) instead of an error; validate in a session with ANSI mode on"
        )
    if spec.kind in (CheckKind.expression, CheckKind.custom_sql) and not _utc(table):
        zone = table.session.conf.get("spark.sql.session.timeZone", "")
        return (
            f"the session's time zone (spark.sql.session.timeZone) is {zone!r}, not UTC, where DuckDB reads "
            "TIMESTAMP WITH TIME ZONE values in UTC: hour(ts), CAST(ts AS DATE) and timestamp literals would "
            "give other rows; set spark.sql.session.timeZone to UTC ([tool.dq.spark] conf, or "
            'spark.conf.set("spark.sql.session.timeZone", "UTC") in your session)'
        )
    collated = [c for c in spec.columns if "COLLATE" in table.columns.get(c, "")]
    if collated:
        return f"column {collated[0]} has a collation ({table.columns[collated[0]]}): compare byte-wise strings"
    try:
        params = sql.Params()
        if spec.kind in _PASS_ROW_KINDS:
            predicate = sql.violation_predicate(spec, params)
            if spec.kind is CheckKind.expression:
                return _boolean_on_spark(spec, table)
            table.sql(f"SELECT count_if({predicate}) FROM {sql.ident(table.view)} AS __t", params.values)
        elif spec.kind is CheckKind.custom_sql:
            table.sql(f"SELECT count(*) FROM ({_custom(spec, table)})")
        elif spec.kind in (CheckKind.references, CheckKind.disjoint_keys):
            sql.cross_count_query(spec, table.view)
        elif spec.kind in _PASS_METRICS:
            sql.metric_expression(spec, table.view)  # what Spark cannot measure exactly raises NotOnSpark
    except UnsafeRegex as exc:
        return f"its regex may mean something else in Java's regex dialect than in RE2's: {exc}"
    except sql.NotOnSpark as exc:
        return str(exc)
    except Exception as exc:  # Spark's analysis of the contract's SQL: pyspark raises many kinds
        return f"Spark cannot analyse it: {_first_line(exc)}"
    return None


def _ansi_off(table: SparkTable) -> bool:
    """Contract SQL is Spark's to evaluate: without ANSI mode, `CAST('x' AS INT)` or an overflow is
    NULL, which an expression rule (NULL holds) and a custom query (NULL is no violating row) pass,
    where DuckDB and ANSI Spark raise. dq changes none of a caller's settings, so it refuses."""
    return str(table.session.conf.get("spark.sql.ansi.enabled", "true")).strip().lower() != "true"


_UTC_NAMES = frozenset({"UTC", "ETC/UTC", "Z", "+00:00", "GMT", "ETC/GMT"})


def _utc(table: SparkTable) -> bool:
    """Contract SQL is Spark's to evaluate, in the session's time zone: a TIMESTAMP WITH TIME ZONE
    (Spark's `timestamp`) is read in it by hour(), a cast to DATE and a timestamp literal, where
    dq's DuckDB runs in UTC. dq changes none of a caller's settings, so it refuses another zone."""
    zone = str(table.session.conf.get("spark.sql.session.timeZone", "")).strip().upper()
    return zone in _UTC_NAMES


def _boolean_on_spark(spec: CheckSpec, table: SparkTable) -> str | None:
    analysed = table.sql(f"SELECT (\n{spec.args['expr']}\n) AS e FROM {sql.ident(table.view)}")
    found = analysed.schema.fields[0].dataType.simpleString()
    return None if found == "boolean" else f"Spark reads the expression as {found}, not a boolean"


def _custom(spec: CheckSpec, table: SparkTable) -> str:
    # the view's name is a plain identifier both DuckDB (which proves the text one SELECT) and Spark read
    return custom_sql(spec, table.view)


class SparkBatchEngine:
    name = ENGINE

    def supports(self, spec: CheckSpec) -> bool:
        return True  # what Spark cannot state as DuckDB does is refused before anything runs (`refusal`)

    def run(self, specs: Sequence[CheckSpec], table: SparkTable) -> list[CheckResult]:
        measures = measure(specs, table)
        judged, owners = _one_per_value(specs, measures)
        verdicts = pandera_batch.judge([specs[i] for i in owners], judged)
        holds: dict[int, bool] = {}
        for position, index in enumerate(owners):
            if position in verdicts:
                holds[index] = holds.get(index, True) and verdicts[position]
        shown = [
            replace(m, value=None) if s.kind in STATISTIC_KINDS else m for s, m in zip(specs, measures, strict=True)
        ]
        results = [pandera_batch.result_of(spec, shown[i], holds.get(i)) for i, spec in enumerate(specs)]
        return [replace(r, engine=ENGINE) for r in results]


def _one_per_value(specs: Sequence[CheckSpec], measures: list[Measure]) -> tuple[list[Measure], list[int]]:
    """The measurements Pandera judges and the spec each belongs to: a statistic with several
    values (every class's share) is judged value by value, and holds when all of them do, as the
    DuckDB backend's Pandera check of dq.ml.stats' values reads it."""
    judged: list[Measure] = []
    owners: list[int] = []
    for index, (spec, found) in enumerate(zip(specs, measures, strict=True)):
        values = found.value if spec.kind in STATISTIC_KINDS and found.error is None else (found.value,)
        for value in values:
            judged.append(replace(found, value=value) if spec.kind in STATISTIC_KINDS else found)
            owners.append(index)
    return judged, owners


def measure(specs: Sequence[CheckSpec], table: SparkTable) -> list[Measure]:
    measures = [Measure() for _ in specs]
    in_pass: dict[int, str] = {}
    params = sql.Params()
    shared: dict[Any, Any] = {}  # the drift rules on one column share its one pass
    for index, spec in enumerate(specs):
        if spec.kind in STATISTIC_KINDS:
            measures[index] = _statistic(spec, table, shared)
        elif spec.kind in SCHEMA_KINDS:
            measures[index] = pandera_batch.schema_measure(spec, table)  # type: ignore[arg-type]
        elif spec.kind in _PASS_ROW_KINDS:
            in_pass[index] = f"count_if({sql.violation_predicate(spec, params)})"
        elif spec.kind in _PASS_METRICS:
            in_pass[index] = sql.metric_expression(spec, table.view)
        else:
            measures[index] = _own_query(spec, table)
    if in_pass:
        _single_pass(specs, in_pass, params, measures, table)
    return measures


def _single_pass(
    specs: Sequence[CheckSpec], in_pass: dict[int, str], params: sql.Params, measures: list[Measure], table: SparkTable
) -> None:
    """Every in-pass measurement in one Spark job; if that fails, each alone, so that the error
    lands on the spec that caused it."""
    select = ", ".join(f"{expr} AS m{index}" for index, expr in in_pass.items())
    try:
        row = table.sql(f"SELECT {select} FROM {sql.ident(table.view)} AS __t", params.values).collect()[0]
    except Exception:
        row = None
    for position, index in enumerate(in_pass):
        if row is not None:
            measures[index] = _measured(specs[index], row[position])
            continue
        try:
            alone = table.sql(f"SELECT {in_pass[index]} FROM {sql.ident(table.view)} AS __t", params.values)
            measures[index] = _measured(specs[index], alone.collect()[0][0])
        except Exception as exc:
            measures[index] = Measure(error=f"Spark could not measure {specs[index].name}: {_first_line(exc)}")


def _statistic(spec: CheckSpec, table: SparkTable, shared: dict[Any, Any]) -> Measure:
    """`value` holds every number the statistic is judged on (`_one_per_value`), `shown` what the
    report shows; an error reads as on DuckDB (dq/engines/pandera.py)."""
    try:
        found = stats.measure(spec, table, shared)
    except Exception as exc:
        why = str(exc) if isinstance(exc, DqError) else _first_line(exc)
        return Measure(error=f"cannot compute {spec.kind.value}: {why}")
    return Measure(value=found.values, shown=found.observed)


def _measured(spec: CheckSpec, value: Any) -> Measure:
    if hasattr(value, "asDict"):  # a struct (an exact mean's parts) is a Row
        value = value.asDict()
    if spec.kind is CheckKind.freshness and isinstance(value, int) and not isinstance(value, bool):
        column_type = str(spec.args.get("column_type", "")).upper()
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        value = (
            date(1970, 1, 1) + timedelta(days=value) if column_type == "DATE" else epoch + timedelta(microseconds=value)
        )
    return pandera_batch.measured(spec, value)


def _own_query(spec: CheckSpec, table: SparkTable) -> Measure:
    view = table.view
    try:
        if spec.kind is CheckKind.quantile:
            return _quantile(spec, table)
        if spec.kind is CheckKind.distinct_count:
            return pandera_batch.measured(spec, table.sql(sql.distinct_count_query(spec, view)).collect()[0][0])
        if spec.kind is CheckKind.unique:
            query = sql.duplicated_rows_query(spec, view)
        elif spec.kind is CheckKind.custom_sql:
            query = f"SELECT count(*) FROM ({_custom(spec, table)})"
        else:
            query = sql.cross_count_query(spec, view)
        count = int(table.sql(query).collect()[0][0])
    except Exception as exc:
        return Measure(error=f"query of {spec.name} failed on Spark: {_first_line(exc)}")
    return Measure(value=count, failing_rows=count)


def _quantile(spec: CheckSpec, table: SparkTable) -> Measure:
    """percentile_disc's double taken back to the column's type where that is exact; else the
    value at that rank read in the column's own type (one more, sorting, query)."""
    found, count = table.sql(sql.quantile_query(spec, table.view)).collect()[0]
    if found is None:
        return pandera_batch.measured(spec, None)
    column_type = str(spec.args.get("column_type", "")).upper()
    family = column_family(column_type)
    if family == "float" or (family == "integer" and abs(found) < 2**53):
        value: Any = int(found) if family == "integer" else found
    elif family == "decimal" and decimal_precision(column_type) <= 15:
        value = Decimal(repr(found)).quantize(Decimal(1).scaleb(-decimal_scale(column_type)))
    else:
        rank = max(math.ceil(count * float(spec.args["q"])) - 1, 0)
        value = table.sql(sql.nth_value_query(spec, table.view, rank)).collect()[0][0]
    return pandera_batch.measured(spec, value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
