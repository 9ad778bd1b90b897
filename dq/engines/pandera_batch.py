"""Pandera on measurements taken in one pass: the default (`--engine auto`) engine.

Running one query per check (what Pandera's Ibis backend and GX both do) scans a wide table once
per check. Like Deequ and Soda, this engine measures everything a contract needs in **one**
aggregate statement over the table (failing-row counts as `count(*) FILTER (WHERE ...)`, metrics
as aggregates, key uniqueness as `count(DISTINCT key)`, or exactly as a bitmap for a dense
integer key: dq/engines/dense_keys.py), plus one query per cross-table or custom-SQL check. The same
statement takes the history's fingerprint (dq.data.fingerprint), so a run reads
the table once. A key the database enforces with a PRIMARY KEY / UNIQUE constraint on exactly
those columns is not counted at all: the check passes by the constraint (dq/data/constraints.py).
The verdicts still come from a real Pandera schema: the measurements form a small polars frame
(Pandera's polars backend, so a run imports neither pandas nor numpy), each a row of the column
of its check (measurements under the same `pandera.Check` and of the same dtype share one), and
Pandera's failure cases name the measurements that fail.

Only when a key turns out to be duplicated is a second, grouped query run to count every row
whose key repeats. Row samples for failed checks are fetched by the runner with a LIMIT.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

from dq.checks import anomaly
from dq.checks.kinds import BATCH, KINDS, SEGMENTABLE, Family, Finding, of_family, run_by
from dq.checks.result import CheckResult, Status, failing_fraction, outcome, tolerated_message
from dq.checks.spec import HISTORY_KINDS, SCHEMA_KINDS, CheckKind, CheckSpec
from dq.checks.sql import (
    custom_sql,
    failing_count_query,
    key_sql,
    mean_parts,
    metric_expression,
    scope_predicate,
    violation_predicate,
)
from dq.contract.types import base_type, canonical_type
from dq.data.constraints import KeyConstraint, key_constraints, proves_not_null, proves_unique
from dq.data.fingerprint import FINGERPRINT_FACT, fingerprint_aggregates
from dq.data.source import Table
from dq.engines import preload
from dq.engines.dense_keys import dense_key_expressions
from dq.engines.reconciling import compare_metric, unmatched_keys
from dq.engines.segments import Segmented, measure_segments
from dq.engines.typed_bounds import typed_bound

ENGINE = BATCH
Rule = tuple[str, tuple[Any, ...]]  # a pandera.Check method and its arguments: ("in_range", (0, 9))
SUPPORTED_KINDS = run_by(BATCH)
# row predicates are counted in the single pass, and so is `unique` (rows minus distinct keys);
# the other row queries and everything that reads a second relation run a query of their own
_IN_PASS_ROW_KINDS = of_family(Family.row_predicate)
_OWN_QUERY_KINDS = of_family(Family.row_query, Family.cross_dataset) - {CheckKind.unique}
_RECONCILED = of_family(Family.reconciliation) | {CheckKind.reconcile_keys}


@dataclass
class _Measure:
    """What was measured for one spec: the value Pandera judges, or why it could not be measured."""

    value: Any = None
    failing_rows: int | None = None
    error: str | None = None
    shown: Any = None  # what the report shows, when it differs from the judged value
    proof: str | None = None  # the database constraint that proves the check (nothing was counted)
    rows: int | None = None  # rows in the spec's scope, measured for a tolerance
    limit: Any = None  # a reconciliation's largest allowed difference (known only once the source is read)
    short_history: bool = False  # a history check with too few past runs: warned, never judged


class PanderaBatchEngine:
    name = ENGINE

    def supports(self, spec: CheckSpec) -> bool:
        if spec.segments:
            return spec.kind in SEGMENTABLE  # the label's class shares too: one grouped query
        return spec.kind in SUPPORTED_KINDS

    def run(self, specs: Sequence[CheckSpec], table: Table) -> list[CheckResult]:
        preload.start()  # polars + Pandera import while DuckDB measures (dq/engines/preload.py)
        whole = [i for i, spec in enumerate(specs) if not spec.segments]
        parts = [i for i, spec in enumerate(specs) if spec.segments]
        measures = measure([specs[i] for i in whole], table)
        segmented = measure_segments([specs[i] for i in parts], table)
        preload.wait()
        verdicts = judge([specs[i] for i in whole], measures)
        results: dict[int, CheckResult] = {
            i: _result(specs[i], measures[n], verdicts.get(n)) for n, i in enumerate(whole)
        }
        results.update(zip(parts, judge_segments([specs[i] for i in parts], segmented), strict=True))
        return [results[i] for i in range(len(specs))]


# --- measuring: SQL inside DuckDB ---------------------------------------------------------------


def measure(specs: Sequence[CheckSpec], table: Table) -> list[_Measure]:
    """One measurement per spec; one table scan for everything that fits in it (and for the
    history's fingerprint, left in `table.facts`)."""
    measures = [_Measure() for _ in specs]
    in_pass: dict[int, str] = {}
    proven = _proven_by_constraints(specs, table)
    for index, spec in enumerate(specs):
        if spec.kind in SCHEMA_KINDS:
            measures[index] = _schema_measure(spec, table)
        elif index in proven:
            measures[index] = _Measure(value=0, failing_rows=0, proof=proven[index].describe(table))
        elif spec.kind in _RECONCILED:
            measures[index] = _reconciled(spec, table)
        elif spec.kind in _OWN_QUERY_KINDS:
            measures[index] = _own_query(spec, table)
        else:
            in_pass[index] = _pass_expression(spec, table.relation)
    if in_pass:
        dense = {i: specs[i] for i in in_pass if specs[i].kind is CheckKind.unique and not _narrowed(specs[i])}
        faster = dense_key_expressions(dense, table)
        _single_pass(specs, in_pass, faster, measures, table)
    for index, spec in enumerate(specs):
        if spec.kind is CheckKind.unique and measures[index].error is None and index not in proven:
            _count_duplicated_rows(spec, measures[index], table)
    for index, spec in enumerate(specs):
        _apply_tolerance(spec, measures[index])
    return measures


def _narrowed(spec: CheckSpec) -> bool:
    return spec.where is not None or spec.allowed_failing is not None


def _scope_rows(spec: CheckSpec) -> str:
    scope = scope_predicate(spec)
    return "count(*)" if scope is None else f"count(*) FILTER (WHERE {scope})"


def _apply_tolerance(spec: CheckSpec, measured: _Measure) -> None:
    """A tolerated rule is judged on failing * den - num * rows (<= 0 holds): the exact integer
    form of failing / rows <= allowed, which Pandera compares without a float."""
    allowed = spec.allowed_failing
    if allowed is None or measured.error is not None or measured.failing_rows is None:
        return
    if measured.rows is None:
        if measured.proof is None:  # never a pass by default: a tolerance needs the rows it divides by
            measured.error = f"{spec.name}: its tolerance needs the rows in scope, which were not measured"
            return
        measured.value = 0  # proven by a constraint: nothing was counted, nothing fails
        return
    measured.value = measured.failing_rows * allowed.denominator - allowed.numerator * measured.rows


def _proven_by_constraints(specs: Sequence[CheckSpec], table: Table) -> dict[int, KeyConstraint]:
    """The `unique` and `not_null` specs a PRIMARY KEY / UNIQUE constraint of the table proves."""
    if not any(spec.kind in (CheckKind.unique, CheckKind.not_null) for spec in specs):
        return {}
    constraints = key_constraints(table)
    proven: dict[int, KeyConstraint] = {}
    for index, spec in enumerate(specs):
        proof = None
        if constraints and spec.kind is CheckKind.unique:
            proof = proves_unique(spec.columns, constraints)
        elif constraints and spec.kind is CheckKind.not_null:
            proof = proves_not_null(spec.columns[0], table, constraints)
        if proof is not None:
            proven[index] = proof
    return proven


def _pass_expression(spec: CheckSpec, relation: str) -> str:
    if spec.kind in _IN_PASS_ROW_KINDS:
        # the single pass reads `FROM relation AS __t`, so the predicate is used verbatim (never
        # edited as text: a value or regex holding "__t." is data)
        return _with_scope_rows(spec, f"count(*) FILTER (WHERE {violation_predicate(spec)})")
    if spec.kind is CheckKind.unique:
        key, not_null = key_sql(spec)
        # a compound key is counted as a row value, which is never NULL even when a part is: the
        # distinct count takes the same complete keys as the row count, or a key with a NULL part
        # would offset a duplicated one
        # the same filter on both sides: a NaN (missing) must not count as a distinct key while
        # the rows it is compared with leave it out (NaN, 16777216, 16777216 would read as unique)
        distinct = (
            f"count(DISTINCT ({key})) FILTER (WHERE {not_null})"
            if len(spec.columns) > 1
            else f"count(DISTINCT {key}) FILTER (WHERE {not_null})"
        )
        # surplus copies: 0 exactly when every non-null key is unique
        return _with_scope_rows(spec, f"count(*) FILTER (WHERE {not_null}) - {distinct}")
    if spec.kind is CheckKind.mean and "exact_bounds" in spec.args:
        return mean_parts(spec)
    return metric_expression(spec, relation)


def _with_scope_rows(spec: CheckSpec, failing: str) -> str:
    """A tolerated rule measures its failing rows and the rows in its scope in the same pass."""
    if spec.allowed_failing is None:
        return failing
    return f"struct_pack(failing := {failing}, rows := {_scope_rows(spec)})"


def _single_pass(
    specs: Sequence[CheckSpec],
    in_pass: dict[int, str],
    faster: dict[int, str],
    measures: list[_Measure],
    table: Table,
) -> None:
    """Every in-pass measurement and the fingerprint's aggregates in one statement.

    `faster` holds exact, cheaper forms of some expressions (a dense integer key's distinct count
    as a bitmap). If that statement fails, the plain expressions run alone, the fingerprint is left
    to its own scan, and only if that fails too is each expression measured on its own, so that
    one bad expression (a regex RE2 rejects, a mean over text) lands on the spec that caused it.
    """
    rows_sql, total_sql = fingerprint_aggregates(table)
    fast = {**in_pass, **faster}
    attempts = [(fast, True), (in_pass, False)] if faster else [(in_pass, True), (in_pass, False)]
    for expressions, with_fingerprint in attempts:
        select = ", ".join(f"{expr} AS m{index}" for index, expr in expressions.items())
        if with_fingerprint:
            select += f", {rows_sql} AS __dq_fp_rows, {total_sql} AS __dq_fp_total"
        try:
            row = _fetch_row(table, f"SELECT {select} FROM {table.relation} AS __t")
        except duckdb.Error:
            continue
        for position, index in enumerate(expressions):
            measures[index] = _measured(specs[index], row[position])
        if with_fingerprint:
            table.facts[FINGERPRINT_FACT] = (row[-2], row[-1])
        return
    for index, expr in in_pass.items():
        try:
            value = _fetch_row(table, f"SELECT {expr} FROM {table.relation} AS __t")[0]
            measures[index] = _measured(specs[index], value)
        except duckdb.Error as exc:
            measures[index] = _Measure(error=f"DuckDB could not measure {specs[index].name}: {_first_line(exc)}")


def _measured(spec: CheckSpec, value: Any) -> _Measure:
    try:
        return _as_measure(spec, value)
    except (TypeError, ValueError) as exc:
        return _Measure(error=f"cannot judge {spec.name}: {exc}")


def _as_measure(spec: CheckSpec, value: Any) -> _Measure:
    if spec.kind in HISTORY_KINDS:
        return _history_measure(spec, value)
    if spec.is_row_level and isinstance(value, dict):  # a tolerated rule: (failing, rows in scope)
        return _Measure(value=int(value["failing"]), failing_rows=int(value["failing"]), rows=int(value["rows"]))
    if spec.is_row_level:
        return _Measure(value=int(value), failing_rows=int(value))
    if spec.kind is CheckKind.freshness:
        return _Measure(value=_age_hours(value))
    if spec.kind is CheckKind.mean and "exact_bounds" in spec.args:
        return _exact_mean_measure(spec, value)
    if spec.kind is CheckKind.stddev and isinstance(value, float) and math.isinf(value):
        # the deviation of values is never infinite: DuckDB's sum of squares overflowed (values
        # past ~1e154), and `inf >= min` would pass a lower bound the real deviation may miss
        return _Measure(value=None)
    if isinstance(value, int | float | Decimal) or value is None:
        # a quantile is a value of the column's type (a DECIMAL stays exact, a BIGINT an int),
        # judged against a bound of the same type (dq.data.bind): no detour through a double
        return _Measure(value=value)
    return _Measure(value=float(value))


def exact_mean(parts: Any) -> Fraction | None:
    """The mean dq.checks.sql.mean_parts measured, as a fraction: (high * 2**64 + low + part) / n."""
    if not isinstance(parts, dict):
        raise TypeError(f"the mean's parts are a {type(parts).__name__}, not a struct")
    if not parts["n"] or parts["low"] is None:
        return None  # no value in scope (or Spark's sum overflowed to NULL): no mean, which fails
    total = Fraction(int(parts["high"] or 0) * 2**64) + Fraction(parts["low"]) + Fraction(parts["part"] or 0)
    return total / int(parts["n"])


def _exact_mean_measure(spec: CheckSpec, parts: Any) -> _Measure:
    """Judged: the exact mean rounded to the bounds' decimal places, down unless it lies above
    `max`, then up (no bound lies strictly between a fraction and that rounding, so each bound
    holds of the rounding exactly when it holds of the mean: 9007199254740993 / 1 > 2**53 stays
    so). Shown: the mean itself, an integer if it is one, else the nearest double (the result
    JSON's `observed` stays a number; the verdict is the exact one)."""
    mean = exact_mean(parts)
    if mean is None:
        return _Measure(value=None)
    low, high = spec.args["exact_bounds"]
    scaled = mean * 10 ** _mean_places((low, high))
    up = high is not None and mean > Fraction(high)
    # an integer count of the bounds' last place, judged against the bounds in that unit: exact,
    # and an integer polars column (a Decimal one makes polars import numpy)
    judged = math.ceil(scaled) if up else math.floor(scaled)
    # shown as the number it always was in the result JSON (a float; an integer mean as an int)
    return _Measure(value=judged, shown=int(mean) if mean.denominator == 1 else float(mean))


def _mean_places(bounds: Sequence[Decimal | None]) -> int:
    """The decimal places of the finest bound: the unit an exact mean is judged in."""
    return max((-_exponent(b) for b in bounds if b is not None), default=0)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite Decimal (binding refuses the others)
    return min(exponent, 0)


def _history_measure(spec: CheckSpec, value: Any) -> _Measure:
    """The metric as its aggregate kind reads it (shown, and recorded in the history); judged is
    its modified z-score or its change from the last run (dq.checks.anomaly). The history holds
    doubles, so the metric is compared as one."""
    if "baseline" not in spec.args:  # never bound by the runner: no history, no verdict
        raise ValueError("the results history was not read for this check")
    metric = anomaly.metric_label(spec.args)
    if str(spec.args["metric"]) == "freshness_lag":
        value = _age_hours(value)
    if isinstance(value, bool) or not (value is None or isinstance(value, int | float | Decimal)):
        raise TypeError(f"{metric} is a {type(value).__name__}, not a number to compare with past runs")
    number = None if value is None or math.isnan(value) or math.isinf(value) else float(value)
    shown = value if isinstance(value, int) and number is not None else number  # a count stays a count
    baseline = spec.args["baseline"]
    if anomaly.short_history(spec.args) is not None:
        return _Measure(value=shown, short_history=True)
    if number is None:  # no value is no evidence: Pandera fails the missing measurement
        return _Measure(value=None, shown=None)
    if spec.kind is CheckKind.anomaly:
        judged = anomaly.robust_z(number, baseline).z
    else:
        judged = anomaly.pct_change(number, baseline[-1])
    return _Measure(value=judged, shown=shown)


def _own_query(spec: CheckSpec, table: Table) -> _Measure:
    query = (
        f"SELECT count(*) FROM ({custom_sql(spec, table.relation)})"
        if spec.kind is CheckKind.custom_sql
        else failing_count_query(spec, table.relation)
    )
    if spec.allowed_failing is not None:
        query = f"SELECT ({query}), (SELECT {_scope_rows(spec)} FROM {table.relation})"
    try:
        row = _fetch_row(table, query)
    except duckdb.Error as exc:
        return _Measure(error=f"query of {spec.name} failed: {_first_line(exc)}")
    count = int(row[0])
    return _Measure(value=count, failing_rows=count, rows=int(row[1]) if len(row) > 1 else None)


def _reconciled(spec: CheckSpec, table: Table) -> _Measure:
    """A reconciliation's own statement over the dataset and its source (dq/engines/reconciling.py)."""
    try:
        if spec.kind is CheckKind.reconcile_keys:
            unmatched = unmatched_keys(spec, table)
            count = unmatched["missing"] + unmatched["extra"]
            return _Measure(value=count, failing_rows=count, shown=unmatched)
        compared = compare_metric(spec, table)
    except duckdb.Error as exc:
        return _Measure(error=f"query of {spec.name} failed: {_first_line(exc)}")
    return _Measure(value=compared.distance, shown=compared.observed, limit=compared.allowed)


def _count_duplicated_rows(spec: CheckSpec, measured: _Measure, table: Table) -> None:
    """The cheap pass says *whether* keys repeat; only then count every row sharing a key."""
    if measured.value:
        measured.failing_rows = int(_fetch_row(table, failing_count_query(spec, table.relation))[0])
        measured.value = measured.failing_rows
    else:
        measured.value = measured.failing_rows = 0


def _schema_measure(spec: CheckSpec, table: Table) -> _Measure:
    columns = table.columns
    match spec.kind:
        case CheckKind.column_exists:
            return _Measure(value=spec.columns[0] in columns)
        case CheckKind.column_type:
            actual = columns.get(spec.columns[0])
            if actual is None:
                return _Measure(value="missing")
            return _Measure(value=_normalised_type(actual, spec.args["type"]), shown=actual)
        case _:
            extra = [c for c in columns if c not in set(spec.args["allowed"])]
            return _Measure(value=extra)


def _normalised_type(actual: str, declared: str) -> str:
    try:
        canonical = canonical_type(actual)
    except ValueError:
        return actual.upper()
    return base_type(canonical) if declared == "DECIMAL" else canonical


def _fetch_row(table: Table, query: str) -> tuple[Any, ...]:
    rows = table.connection.execute(query).fetchall()
    return rows[0]


def _age_hours(newest: Any) -> float | None:
    if newest is None:
        return None
    if isinstance(newest, datetime):
        moment = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    elif isinstance(newest, date):
        moment = datetime(newest.year, newest.month, newest.day, tzinfo=UTC)
    else:
        raise TypeError(f"freshness needs a date or timestamp column, got {type(newest).__name__}")
    return round((datetime.now(UTC) - moment).total_seconds() / 3600, 2)


# --- judging: a real Pandera schema on the measurements --------------------------------------


def import_judges() -> None:
    """Import what `judge` needs and let Pandera register its polars backends, as its first
    validate() would: dq.engines.preload runs this while DuckDB measures (and, in dq's own
    command, with pandas and numpy kept out: see there)."""
    import pandera.polars as pa
    import polars as pl
    from pandera.config import ValidationDepth, config_context

    with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        pa.DataFrameSchema({_CANARY: pa.Column(checks=[pa.Check.eq(0)])}).validate(pl.DataFrame({_CANARY: [0]}))


def judge(specs: Sequence[CheckSpec], measures: Sequence[_Measure]) -> dict[int, bool]:
    """Pandera's verdict per measured spec index: True = the check holds (see judge_rules)."""
    judged: dict[int, tuple[Rule, Any]] = {}
    for index, (spec, measured) in enumerate(zip(specs, measures, strict=True)):
        if measured.error is not None or measured.short_history:
            continue
        value = _frame_value(measured.value)
        if measured.limit is not None:
            judged[index] = (("le", (typed_bound(value, measured.limit, "high"),)), value)
        else:
            judged[index] = (_rule(spec, value), value)
    return judge_rules(judged)


def judge_rules(judged: dict[int, tuple[Rule, Any]]) -> dict[int, bool]:
    """{index: holds} for each (rule, value), judged by one real Pandera schema.

    The frame is polars (Pandera's polars backend), each measurement in its own type and each
    bound in that type too (dq.engines.typed_bounds), so every comparison is exact. Values judged
    by the same check (the same method, the same arguments of the same types) that take the same
    polars dtype share a column, a row each: Pandera's cost is per column (~3 ms), not per value,
    and its failure cases name the failing rows. A value polars cannot hold (an integer past 128
    bits) gets no verdict, which errors its spec."""
    import pandera.polars as pa

    groups: dict[tuple[Any, ...], tuple[Rule, list[tuple[int, Any]]]] = {}
    for index, (rule, value) in judged.items():
        dtype = _dtype_of([value]) or ("alone", index)  # a value polars cannot hold stays alone
        groups.setdefault((*_rule_key(rule), dtype), (rule, []))[1].append((index, value))
    shared = [part for (*_, dtype), (rule, members) in groups.items() for part in _columns(rule, dtype, members)]
    if not shared:
        return {}
    height = max(len(members) for _, members in shared)
    columns: dict[str, Any] = {_CANARY: pa.Column(checks=[pa.Check.eq(1, name=_CANARY)], name=_CANARY)}
    data: dict[str, list[Any]] = {_CANARY: [0] * height}
    owners: dict[str, list[int]] = {}
    for number, (rule, members) in enumerate(shared):
        name = f"g{number}"
        values = [value for _, value in members]
        # rows past a group's members repeat its last value; their verdicts are never read
        data[name] = values + [values[-1]] * (height - len(values))
        columns[name] = pa.Column(checks=[_pandera_check(pa, rule, name)], nullable=False, coerce=False, name=name)
        owners[name] = [index for index, _ in members]
    failed = _failures(pa, columns, data)
    verdicts: dict[int, bool] = {}
    for name, indices in owners.items():
        if name in data:  # a column polars could not hold has no verdict
            rows = failed.get(name, set())
            verdicts.update((index, position not in rows) for position, index in enumerate(indices))
    return verdicts


def _columns(rule: Rule, dtype: Any, members: list[tuple[int, Any]]) -> list[tuple[Rule, list[tuple[int, Any]]]]:
    """One column for the members, if together they take the dtype each takes alone; else one
    column each (polars widening values together would judge them in another type)."""
    if len(members) == 1 or _dtype_of([value for _, value in members]) == dtype:
        return [(rule, members)]
    return [(rule, [member]) for member in members]


def _dtype_of(values: list[Any]) -> Any:
    import polars as pl

    try:
        return str(pl.Series(values).dtype)
    except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
        return None


def _pandera_check(pa: Any, rule: Rule, name: str) -> Any:
    method, args = rule
    return getattr(pa.Check, method)(*args, name=name)


def _rule_key(rule: Rule) -> tuple[Any, ...]:
    """Two rules share a column only if they are the same check: the same method and arguments
    of the same types (1 == 1.0 == True in Python, not in a polars comparison)."""
    method, args = rule
    return (method, tuple((type(arg).__name__, repr(arg)) for arg in args))


def _failures(pa: Any, columns: dict[str, Any], data: dict[str, list[Any]]) -> dict[str, set[int]]:
    """{column: failing row positions} from one lazy validation of a strict schema; raises unless
    the canary column (which must fail) is among them, or if a failure names no column."""
    import polars as pl
    from pandera.config import ValidationDepth, config_context
    from pandera.errors import SchemaErrors

    series = {}
    for name, values in data.items():
        try:
            series[name] = pl.Series(name, values)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            columns.pop(name)  # no verdict: the spec is reported as an error, never a pass
    for name in [name for name in data if name not in series]:
        del data[name]
    failed: dict[str, set[int]] = {}
    try:
        with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            pa.DataFrameSchema(columns, strict=True).validate(pl.DataFrame(list(series.values())), lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        if cases["column"].is_null().any() or cases["index"].is_null().any():
            raise RuntimeError(f"Pandera reported failures dq cannot attribute: {cases.to_dicts()}") from None
        for column, position in zip(cases["column"], cases["index"], strict=True):
            failed.setdefault(str(column), set()).add(int(position))
    if _CANARY not in failed:
        # the canary must fail: if Pandera reports no failure for it, it did not run the checks
        # (PANDERA_VALIDATION_ENABLED=False or PANDERA_VALIDATION_DEPTH=SCHEMA_ONLY in the
        # environment turns validate() into a no-op), and no verdict of this run means anything
        raise RuntimeError("Pandera did not run the checks (is validation disabled in its configuration?)")
    return failed


_CANARY = "__dq_canary"


def _frame_value(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float) and math.isnan(value):
        return None  # a NaN mean is no evidence the bound holds: nullable=False fails it
    return value


def _rule(spec: CheckSpec, sample: Any) -> Rule:
    """The Pandera check that judges one measurement of a spec; `sample` is a value of the
    measurement, whose type the bounds are given (dq.engines.typed_bounds)."""
    a = spec.args
    match spec.kind:
        case CheckKind.column_exists:
            return ("eq", (True,))
        case CheckKind.column_type:
            declared = "DECIMAL" if a["type"] == "DECIMAL" else a["type"]
            return ("eq", (declared,))
        case CheckKind.no_extra_columns:
            return ("eq", ("",))
        case CheckKind.freshness:
            return ("le", (typed_bound(sample, a["max_age_seconds"] / 3600, "high"),))
        case CheckKind.anomaly:
            return ("le", (typed_bound(sample, a["threshold"], "high"),))  # |modified z|
        case CheckKind.change_from_last:
            return ("le", (typed_bound(sample, a["max_pct"], "high"),))  # |change| in %
        case CheckKind.mean if "exact_bounds" in a:
            # the exact mean's rounding, in units of the bounds' last place (_exact_mean_measure)
            scale = 10 ** _mean_places(a["exact_bounds"])
            return _bounds_rule(*(None if b is None else int(b * scale) for b in a["exact_bounds"]))
        case _ if spec.is_row_level and spec.allowed_failing is not None:
            return ("le", (0,))  # failing * den - num * rows (_apply_tolerance)
        case _ if spec.is_row_level:
            return ("eq", (0,))
    return _bounds_rule(typed_bound(sample, a.get("min"), "low"), typed_bound(sample, a.get("max"), "high"))


def _bounds_rule(low: Any, high: Any) -> Rule:
    if low is not None and high is not None and low > high:
        # binding rounded the bounds inward past each other (`min: 64.5, max: 64.5` on an
        # integer column): no value of the column's type lies in between, so nothing passes
        return ("isin", ([],))
    if low is not None and high is not None:
        return (
            "in_range",
            (
                low,
                high,
            ),
        )
    if low is not None:
        return ("ge", (low,))
    return ("le", (high,))


def judge_segments(specs: Sequence[CheckSpec], segmented: Sequence[Segmented]) -> list[CheckResult]:
    """Per-segment verdicts from one Pandera schema per segment list: a frame of one row per
    segment, a column per spec, its failure cases naming the failing segments. No segment at all
    (an empty dataset) fails: nothing was shown to hold."""
    results: list[CheckResult | None] = [None] * len(specs)
    frames: dict[tuple[str, ...], list[int]] = {}
    for i, (spec, found) in enumerate(zip(specs, segmented, strict=True)):
        if found.error is not None:
            results[i] = CheckResult.errored(spec, ENGINE, found.error)
        else:
            frames.setdefault(tuple(row.name for row in found.rows), []).append(i)
    for names, members in frames.items():
        failing = _failing_segments([specs[i] for i in members], [segmented[i] for i in members]) if names else {}
        for n, i in enumerate(members):
            results[i] = _segment_result(specs[i], segmented[i], failing.get(n, set()))
    return [r for r in results if r is not None]


def _failing_segments(specs: Sequence[CheckSpec], segmented: Sequence[Segmented]) -> dict[int, set[int]]:
    """{spec position: failing segment positions}. Every class's share (a class-fraction check
    without `only`) is judged as two columns, its smallest and its largest share, by the same
    check: all shares lie within the bounds exactly when both of those do."""
    import pandera.polars as pa

    data: dict[str, list[Any]] = {_CANARY: [0] * len(segmented[0].rows)}
    columns: dict[str, Any] = {_CANARY: pa.Column(checks=[pa.Check.eq(1, name=_CANARY)], name=_CANARY)}
    owner: dict[str, int] = {}
    for n, (spec, found) in enumerate(zip(specs, segmented, strict=True)):
        judged = [_segment_values(spec, row.raw) for row in found.rows]
        sides = {f"m{n}": [v[0] for v in judged]}
        if any(len(v) > 1 for v in judged):
            sides = {f"m{n}_low": [min(v) for v in judged], f"m{n}_high": [max(v) for v in judged]}
        for name, values in sides.items():
            data[name] = [_frame_value(v) for v in values]
            sample = next((v for v in data[name] if v is not None), None)
            check = _pandera_check(pa, _rule(spec, sample), spec.name)
            columns[name] = pa.Column(checks=[check], nullable=False, coerce=False, name=name)
            owner[name] = n
    failed: dict[int, set[int]] = {}
    for column, positions in _failures(pa, columns, data).items():
        if column != _CANARY:
            failed.setdefault(owner[column], set()).update(positions)
    missing = {owner[name] for name in owner if name not in data}  # a value polars cannot hold
    for n in missing:  # fails every segment: nothing was shown to hold
        failed.setdefault(n, set()).update(range(len(segmented[n].rows)))
    return failed


def _segment_values(spec: CheckSpec, raw: Any) -> tuple[Any, ...]:
    """What one segment is judged on: its measurement, or (None,) when a share is missing."""
    if spec.kind is not CheckKind.label_class_fraction:
        return (_as_measure(spec, raw).value,)
    values = tuple(raw.values)
    return (None,) if any(v is None for v in values) else values


def _segment_result(spec: CheckSpec, found: Segmented, failing: set[int]) -> CheckResult:
    entries = [
        {"segment": row.name, "values": row.values, "rows": row.rows, "observed": _segment_shown(spec, row.raw)}
        for position, row in enumerate(found.rows)
        if position in failing
    ]
    observed = {"segments": len(found.rows), "failing": len(entries), "failing_segments": entries}
    holds = bool(found.rows) and not failing
    return CheckResult.from_spec(spec, ENGINE, outcome(holds, spec.severity), observed=observed)


def _segment_shown(spec: CheckSpec, raw: Any) -> Any:
    if spec.kind is CheckKind.label_class_fraction:
        return raw.observed
    measured = _as_measure(spec, raw)
    return measured.value if measured.shown is None else measured.shown


def _result(spec: CheckSpec, measured: _Measure, holds: bool | None) -> CheckResult:
    if measured.error is not None:
        return CheckResult.errored(spec, ENGINE, measured.error)
    if spec.kind in HISTORY_KINDS:
        return _history_result(spec, measured, holds)
    if holds is None:
        return CheckResult.errored(spec, ENGINE, "Pandera returned no verdict for this check")
    observed = measured.shown if spec.is_row_level or measured.shown is not None else measured.value
    if spec.kind is CheckKind.column_exists:
        observed = "present" if measured.value else "missing"
    message = "" if measured.proof is None or not holds else f"passed by the database's constraint {measured.proof}"
    if measured.rows is not None:
        observed = failing_fraction(measured.failing_rows or 0, measured.rows)
        if holds and measured.failing_rows:
            message = tolerated_message(spec, measured.failing_rows, measured.rows)
    return CheckResult.from_spec(
        spec,
        ENGINE,
        outcome(holds, spec.severity),
        observed=observed,
        failing_rows=measured.failing_rows,
        rows_in_scope=measured.rows,
        message=message,
    )


def _history_result(spec: CheckSpec, measured: _Measure, holds: bool | None) -> CheckResult:
    """Too short a history warns whatever the severity (a check that cannot judge yet must not
    pass silently); otherwise Pandera's verdict. Passed results say how far from the history
    the metric was, in the words a failure uses."""
    observed = measured.value if measured.short_history else measured.shown
    if measured.short_history:
        status = Status.warned
    elif holds is None:
        return CheckResult.errored(spec, ENGINE, "Pandera returned no verdict for this check")
    else:
        status = outcome(holds, spec.severity)
    why = KINDS[spec.kind].reason(Finding(spec.args, spec.columns, None, observed, spec.expectation()))
    return CheckResult.from_spec(spec, ENGINE, status, observed=observed, message=why)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


# What the Spark backend's engine (dq/spark/engine.py) shares: it measures on Spark, then builds
# the same measurements and results and is judged by the same `judge`.
Measure = _Measure
schema_measure = _schema_measure
measured = _measured
result_of = _result
