"""The Pandera engine: specs compiled into a real `pandera.ibis` schema, validated inside DuckDB.

Every spec becomes part of a Pandera `DataFrameSchema` (Pandera's Ibis backend) and the verdict
is whatever Pandera's `validate(lazy=True)` reports: schema specs are `pa.Column`s (dtype,
`required=True`) and `strict=True`; every data spec is a DataFrame-level `pa.Check` named after
the spec. The table Pandera validates is an Ibis expression on the runner's already-open
read-only DuckDB connection, so each check is one SQL query run by DuckDB; nothing is pulled
into pandas.

Why every data check returns ONE boolean scalar: when a check returns a boolean *column* (all of
Pandera's element-wise built-ins do) and it fails, `IbisSchemaBackend.run_check` calls
`check_output.to_pandas()`, i.e. it materialises one boolean per row of the table (10M rows ->
10M values in pandas), plus the failure cases. `Check(n_failure_cases=...)` only limits the
failure cases, not that column. A check that returns a `BooleanScalar` goes through
`postprocess_boolean_scalar_output` instead (`failure_cases=None`), so Pandera only executes
`check_passed` (a single aggregate). The row-level checks therefore call Pandera's own Ibis
built-ins (`in_range`, `isin`, `str_contains`, `str_length`) and reduce their boolean column to
"all rows pass" inside the query. The failing-row count of a failed row-level check is one more
`SELECT count(*)` (`dq.checks.sql.failing_count_query`); observed metrics of aggregate checks come from
one batched `SELECT <metric>, ... FROM <relation>`.

Ibis and Pandera are imported inside `run` only, so importing this module stays cheap.

Two DuckDB 2.0 quirks shape the plumbing: a connection with a result left unfinished by
`execute().fetchone()` refuses Ibis's relation API ("unfinished result"), and Ibis 12's
`Backend.sql()` without a schema calls a cursor method DuckDB 2.0 removed. So Ibis runs on its
own `cursor()` of the runner's connection (same database instance, no second `connect`; Ibis's
session settings such as `TimeZone=UTC` stay on that cursor), dq's own SQL on another, and
`custom_sql` is handed to Ibis with an explicit schema.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dq.checks.kinds import PANDERA, run_by
from dq.checks.result import CheckResult, failure_message, outcome
from dq.checks.spec import AGGREGATE_KINDS, STATISTIC_KINDS, CheckKind, CheckSpec
from dq.checks.sql import custom_sql, failing_count_query, failing_rows_query, metric_expression
from dq.contract.types import decimal_precision
from dq.data.source import Table, fetch_one
from dq.errors import DqError

ENGINE = PANDERA

SUPPORTED_KINDS = run_by(PANDERA)

_SCHEMA_COLUMN_KINDS = frozenset({CheckKind.column_exists, CheckKind.column_type})
_FLOAT_METRICS = frozenset({CheckKind.mean, CheckKind.stddev, CheckKind.quantile})


@dataclass
class _Verdict:
    """What Pandera said about one spec."""

    ran: bool = False  # the check function was called by Pandera (data checks only)
    failed: bool = False
    crashed: str | None = None  # Pandera caught an exception while running the check


class PanderaEngine:
    """Runs specs through Pandera's Ibis backend against a DuckDB table."""

    name = ENGINE

    def supports(self, spec: CheckSpec) -> bool:
        if spec.segments:
            return False  # one grouped query of dq's own, judged per segment by pandera-batch
        if spec.kind in STATISTIC_KINDS:
            return True  # measured by dq's own SQL (dq.ml.stats), judged by a pandera.Check
        if _ibis_reads_inexactly(str(spec.args.get("column_type", ""))) or _ibis_reads_inexactly(
            str(spec.args.get("type", ""))
        ):
            return False
        if not spec.measured_exactly_outside_dq_sql:
            return False
        return spec.kind in SUPPORTED_KINDS and not spec.needs_exact_sql

    def run(self, specs: Sequence[CheckSpec], table: Table) -> list[CheckResult]:
        specs = list(specs)
        try:
            return _Run(specs, table).results()
        except Exception as exc:  # a crash anywhere is "could not validate", never a pass
            message = f"Pandera engine crashed: {_describe(exc)}"
            return [CheckResult.errored(spec, ENGINE, message) for spec in specs]


class _Run:
    """One `run` call: build the schema(s), validate once, map errors back to specs."""

    def __init__(self, specs: list[CheckSpec], table: Table) -> None:
        self.specs = specs
        self.table = table
        self.keys = _unique_keys(specs)
        self.verdicts = {key: _Verdict() for key in self.keys}
        self.errors: dict[str, str] = {}  # key -> message for specs that could not be compiled
        self.now = datetime.now(UTC)  # freshness: verdict and observed age use the same instant
        self.statistics: dict[str, Any] = {}  # key -> observed value of a training-data statistic
        self.measured: dict[Any, Any] = {}  # dq.ml.stats' cache: one pass per drifting column

    def results(self) -> list[CheckResult]:
        import ibis  # noqa: F401 - heavy imports happen here, not at module import

        with closing(self.table.connection.cursor()) as ibis_cursor, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Ibis/Pandera deprecation chatter is not a finding
            self._validate(ibis_cursor)
        with closing(self.table.connection.cursor()) as sql_cursor:
            observed = self._observe_aggregates(sql_cursor)
            out = []
            for spec, key in zip(self.specs, self.keys, strict=True):
                try:
                    out.append(self._result(spec, key, sql_cursor, observed))
                except Exception as exc:
                    out.append(CheckResult.errored(spec, ENGINE, f"{_describe(exc)}"))
        return out

    # -- building and validating ---------------------------------------------------------

    def _validate(self, cursor: Any) -> None:
        import ibis
        import pandera.ibis as pa
        from pandera.config import ValidationDepth, config_context

        backend = ibis.duckdb.from_connection(cursor)
        data = backend.table(self.table.name, database=self.table.schema)

        columns: dict[str, Any] = {}
        column_keys: dict[str, list[str]] = {}
        declared_types: dict[str, str] = {}
        checks = []
        strict_specs: list[tuple[str, CheckSpec]] = []
        for spec, key in zip(self.specs, self.keys, strict=True):
            try:
                if spec.kind in _SCHEMA_COLUMN_KINDS:
                    column = _only_column(spec)
                    column_keys.setdefault(column, []).append(key)
                    if spec.kind is CheckKind.column_type:
                        declared = str(spec.args["type"])
                        if declared_types.setdefault(column, declared) != declared:
                            raise ValueError(f"column {column!r} is declared twice with different types")
                        columns[column] = pa.Column(
                            _pandera_dtype(backend, declared), name=column, required=True, nullable=True
                        )
                    else:
                        columns.setdefault(column, pa.Column(None, name=column, required=True, nullable=True))
                elif spec.kind is CheckKind.no_extra_columns:
                    strict_specs.append((key, spec))
                else:
                    checks.append(self._check(pa, spec, key, backend))
            except Exception as exc:
                self.errors.setdefault(key, f"cannot express this check in Pandera: {_describe(exc)}")

        with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            if columns or checks:
                schema = pa.DataFrameSchema(columns, checks=checks, name=self.table.label)
                self._collect(schema, data, column_keys, [])
            for key, spec in strict_specs:
                allowed = {
                    c: pa.Column(None, name=c, required=False, nullable=True) for c in spec.args.get("allowed", ())
                }
                schema = pa.DataFrameSchema(allowed, strict=True, name=self.table.label)
                self._collect(schema, data, {}, [key])

    def _collect(self, schema: Any, data: Any, column_keys: dict[str, list[str]], strict_keys: list[str]) -> None:
        """Validate; turn each SchemaError Pandera collected into a verdict on a spec."""
        from pandera.errors import SchemaErrorReason, SchemaErrors

        try:
            schema.validate(data, lazy=True)
            return
        except SchemaErrors as exc:
            schema_errors = exc.schema_errors
        unattributed = []
        for error in schema_errors:
            reason = error.reason_code
            check = error.check
            if reason is SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
                targets = column_keys.get(str(error.failure_cases), [])
            elif reason is SchemaErrorReason.WRONG_DATATYPE:
                targets = [
                    k
                    for k in column_keys.get(str(getattr(error.schema, "name", "")), [])
                    if self._spec(k).kind is CheckKind.column_type
                ]
            elif reason is SchemaErrorReason.COLUMN_NOT_IN_SCHEMA:
                targets = strict_keys
            elif check is not None and not isinstance(check, str) and check.name in self.verdicts:
                targets = [check.name]
            else:
                targets = []
            if not targets:
                unattributed.append(f"{reason}: {error}")
            for key in targets:
                verdict = self.verdicts[key]
                verdict.failed = True
                if reason is SchemaErrorReason.CHECK_ERROR:
                    cases = error.failure_cases
                    verdict.crashed = _first_line(cases if isinstance(cases, str) else str(error))
        if unattributed:
            # Pandera failed something dq cannot map to a spec: fail closed on every spec of this schema.
            message = "Pandera reported an error dq could not attribute: " + "; ".join(unattributed)[:500]
            for key in [*self._schema_keys(schema), *strict_keys]:
                self.errors.setdefault(key, message)

    def _schema_keys(self, schema: Any) -> list[str]:
        keys = [check.name for check in schema.checks]
        for spec, key in zip(self.specs, self.keys, strict=True):
            if spec.kind in _SCHEMA_COLUMN_KINDS and spec.columns and spec.columns[0] in schema.columns:
                keys.append(key)
        return keys

    def _spec(self, key: str) -> CheckSpec:
        return self.specs[self.keys.index(key)]

    def _check(self, pa: Any, spec: CheckSpec, key: str, backend: Any) -> Any:
        """A DataFrame-level `pa.Check` named after the spec, returning one boolean scalar."""
        if spec.kind in STATISTIC_KINDS:
            passes = self._statistic(spec, key)
        else:
            passes = _CHECK_BUILDERS[spec.kind](spec, backend, self.table, self.now)
        verdict = self.verdicts[key]

        def check_fn(data: Any) -> Any:
            verdict.ran = True
            return passes(data.table)

        return pa.Check(check_fn, name=key, error=f"{spec.name}: {spec.expectation()}")

    def _statistic(self, spec: CheckSpec, key: str) -> Passes:
        """Label, leakage and drift statistics are measured in DuckDB by dq.ml.stats (no
        Ibis expression states a PSI); the Pandera check judges the measured numbers."""
        from dq.ml.stats import measure

        try:
            measured = measure(spec, self.table, self.measured)
        except Exception as exc:
            why = str(exc) if isinstance(exc, DqError) else _describe(exc)
            self.errors[key] = f"cannot compute {spec.kind.value}: {why}"
            raise
        self.statistics[key] = measured.observed
        return _within_bounds(measured.values, spec.args.get("min"), spec.args.get("max"))

    # -- turning verdicts into results ---------------------------------------------------

    def _observe_aggregates(self, cursor: Any) -> dict[str, Any]:
        """Observed metric per aggregate spec: one SELECT for all of them (per spec if that fails)."""
        wanted = [(s, k) for s, k in zip(self.specs, self.keys, strict=True) if s.kind in AGGREGATE_KINDS]
        if not wanted:
            return {}
        relation = self.table.relation
        try:
            row = cursor.execute(
                f"SELECT {', '.join(metric_expression(s) for s, _ in wanted)} FROM {relation}"
            ).fetchall()[0]
            return {k: value for (_, k), value in zip(wanted, row, strict=True)}
        except Exception:
            observed: dict[str, Any] = {}
            for spec, key in wanted:
                try:
                    observed[key] = fetch_one(cursor, f"SELECT {metric_expression(spec)} FROM {relation}")
                except Exception as exc:
                    observed[key] = _Unavailable(_describe(exc))
            return observed

    def _result(self, spec: CheckSpec, key: str, cursor: Any, observed: dict[str, Any]) -> CheckResult:
        if spec.kind not in SUPPORTED_KINDS:
            return CheckResult.errored(spec, ENGINE, f"the pandera engine cannot check {spec.kind}")
        if key in self.errors:
            return CheckResult.errored(spec, ENGINE, self.errors[key])
        verdict = self.verdicts[key]
        if verdict.crashed is not None:
            return CheckResult.errored(spec, ENGINE, f"Pandera check crashed: {verdict.crashed}")
        kind = spec.kind
        if kind not in (*_SCHEMA_COLUMN_KINDS, CheckKind.no_extra_columns) and not verdict.ran:
            return CheckResult.errored(spec, ENGINE, "Pandera did not run this check (validation disabled?)")
        ok = not verdict.failed
        status = outcome(ok, spec.severity)
        if kind in _SCHEMA_COLUMN_KINDS or kind is CheckKind.no_extra_columns:
            return self._schema_result(spec, status, ok)
        if spec.is_row_level:
            failing = 0 if ok else int(fetch_one(cursor, failing_count_query(spec, self.table.relation)) or 0)
            if not ok and failing == 0:
                return CheckResult.errored(spec, ENGINE, "Pandera failed this check but its SQL failing-row count is 0")
            message = "" if ok else failure_message(spec, failing, None)
            return CheckResult.from_spec(spec, ENGINE, status, failing_rows=failing, message=message)
        if kind in STATISTIC_KINDS:
            shown = self.statistics.get(key)
            message = "" if ok else failure_message(spec, None, shown)
            return CheckResult.from_spec(spec, ENGINE, status, observed=shown, message=message)
        value = observed.get(key)
        if isinstance(value, _Unavailable):
            return CheckResult.errored(spec, ENGINE, f"cannot compute the observed value: {value.reason}")
        if kind is CheckKind.freshness:
            value = _age_hours(value, self.now)
        value = _plain(value)
        message = "" if ok else failure_message(spec, None, value)
        return CheckResult.from_spec(spec, ENGINE, status, observed=value, message=message)

    def _schema_result(self, spec: CheckSpec, status: Any, ok: bool) -> CheckResult:
        actual = self.table.columns
        column = spec.columns[0] if spec.columns else None
        if spec.kind is CheckKind.no_extra_columns:
            allowed = set(spec.args.get("allowed", ()))
            extra = [c for c in actual if c not in allowed]
            if ok == bool(extra):
                return CheckResult.errored(spec, ENGINE, f"Pandera and the catalog disagree on extra columns {extra}")
            message = "" if ok else failure_message(spec, None, extra)
            return CheckResult.from_spec(spec, ENGINE, status, observed=extra, message=message)
        if spec.kind is CheckKind.column_exists and ok != (column in actual):
            return CheckResult.errored(spec, ENGINE, f"Pandera and the catalog disagree on column {column!r}")
        if column not in actual:
            message = "" if ok else failure_message(spec, None, "missing")
            return CheckResult.from_spec(spec, ENGINE, status, observed="missing", message=message)
        if spec.kind is CheckKind.column_type:
            found = actual[column]
            message = "" if ok else failure_message(spec, None, found)
            return CheckResult.from_spec(spec, ENGINE, status, observed=found, message=message)
        return CheckResult.from_spec(spec, ENGINE, status, observed="present")


@dataclass(frozen=True)
class _Unavailable:
    reason: str


# -- check builders: spec -> (ibis table -> BooleanScalar "the spec holds") ---------------------

Passes = Callable[[Any], Any]


def _builtin_reduced(builtin: Callable[..., Any], column: str, **kwargs: Any) -> Passes:
    """Pandera's own Ibis built-in, reduced to 'every non-null row passes' inside the query."""

    def passes(t: Any) -> Any:
        from pandera.api.ibis.types import IbisData

        flags = builtin(IbisData(t, column), **kwargs)[column]
        # NULL input -> NULL flag -> passes (only not_null judges NULLs); empty table -> passes
        return flags.fill_null(True).all().fill_null(True)

    return passes


def _between(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    from pandera.backends.ibis import builtin_checks as bc

    column, low, high = _only_column(spec), spec.args.get("min"), spec.args.get("max")
    if low is not None and high is not None:
        return _builtin_reduced(bc.in_range, column, min_value=low, max_value=high)
    if low is not None:
        # `x <= inf` is what makes NaN fail: DuckDB sorts NaN above every number, so `NaN >= min` holds
        return _builtin_reduced(bc.in_range, column, min_value=low, max_value=float("inf"))
    if high is not None:
        return _builtin_reduced(bc.less_than_or_equal_to, column, max_value=high)
    raise ValueError("between needs min or max")


def _length(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    from pandera.backends.ibis import builtin_checks as bc

    low, high = spec.args.get("min"), spec.args.get("max")
    if low is None and high is None:
        raise ValueError("length needs min or max")
    return _builtin_reduced(bc.str_length, _only_column(spec), min_value=low, max_value=high)


def _accepted_values(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    from pandera.backends.ibis import builtin_checks as bc

    return _builtin_reduced(bc.isin, _only_column(spec), allowed_values=list(spec.args["values"]))


def _pattern(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    from pandera.backends.ibis import builtin_checks as bc

    # str_contains is a regex SEARCH (regexp_matches), like dq.checks.sql; str_matches would anchor with ^
    return _builtin_reduced(bc.str_contains, _only_column(spec), pattern=str(spec.args["regex"]))


def _not_null(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    # not Column(nullable=False): Pandera counts a float NaN as null there, SQL's IS NULL does not
    column = _only_column(spec)
    return lambda t: t[column].notnull().all().fill_null(True)


def _unique(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    # not Column(unique=True): pandera 0.35's Ibis backend accepts it and never checks it
    keys = list(spec.columns)
    if not keys:
        raise ValueError("unique needs at least one column")

    def passes(t: Any) -> Any:
        import ibis

        complete = t.filter([t[k].notnull() for k in keys])
        duplicated = complete.group_by(keys).aggregate(__dq_n=ibis._.count()).filter(ibis._.__dq_n > 1)
        return duplicated.count() == 0

    return passes


def _references(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    column, ref_column = _only_column(spec), str(spec.args["ref_column"])
    parts = list(spec.args["relation"].parts)
    database: tuple[str, str] | str | None = None
    if len(parts) == 3:
        database = (parts[0], parts[1])
    elif len(parts) == 2:
        database = parts[0]
    other = backend.table(parts[-1], database=database)
    if ref_column not in other.columns:
        raise ValueError(f"{spec.args['relation']} has no column {ref_column!r}")
    ref = other.select(__dq_ref=other[ref_column])

    def passes(t: Any) -> Any:
        present = t.filter(t[column].notnull())
        return present.anti_join(ref, present[column] == ref.__dq_ref).count() == 0

    return passes


def _custom_sql(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    import ibis

    query = f"SELECT 1 AS __dq_one FROM ({custom_sql(spec, table.relation)}) AS __dq_violations"
    # an explicit schema: Ibis 12 infers one through a cursor method DuckDB 2.0 no longer has
    violations = backend.sql(query, schema=ibis.schema({"__dq_one": "int32"}))
    return lambda t: violations.count() == 0


def _expression(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    """A rule across columns is SQL the contract wrote: Ibis cannot state it in its own terms, so
    Pandera judges the violating rows DuckDB selects with dq's predicate (as for custom SQL)."""
    import ibis

    query = f"SELECT 1 AS __dq_one FROM ({failing_rows_query(spec, table.relation)}) AS __dq_violations"
    violations = backend.sql(query, schema=ibis.schema({"__dq_one": "int32"}))
    return lambda t: violations.count() == 0


def _metric(spec: CheckSpec) -> Callable[[Any], Any]:
    """The aggregate as an Ibis expression; mirrors dq.checks.sql.metric_expression."""
    column = spec.column

    def numeric(t: Any) -> Any:
        return t[column].cast("float64")

    match spec.kind:
        case CheckKind.row_count:
            return lambda t: t.count()
        case CheckKind.null_fraction:
            return lambda t: (t.count() == 0).ifelse(0.0, t[column].isnull().sum().cast("float64") / t.count())
        case CheckKind.distinct_count:
            return lambda t: t[column].nunique()
        case CheckKind.mean:
            return lambda t: numeric(t).mean()
        case CheckKind.stddev:
            return lambda t: numeric(t).std(how="sample")
        case CheckKind.quantile:
            q = float(spec.args["q"])
            return lambda t: _quantile_disc()(numeric(t), q)
    raise ValueError(f"{spec.kind} has no metric")


@functools.cache
def _quantile_disc() -> Any:
    """DuckDB's quantile_disc as an Ibis aggregate.

    A contract's quantile is the discrete (nearest-rank) one, a value that occurs in the column,
    as GX's percentile_disc computes it; Ibis' own `.quantile()` interpolates (quantile_cont),
    and the two engines would disagree near a bound.
    """
    import ibis

    @ibis.udf.agg.builtin(name="quantile_disc")
    def quantile_disc(arg: float, q: float) -> float:  # type: ignore[empty-body]
        ...

    return quantile_disc


def _bounded(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    if spec.kind is not CheckKind.row_count:
        _only_column(spec)
    metric = _metric(spec)
    low, high = spec.args.get("min"), spec.args.get("max")
    if low is None and high is None:
        raise ValueError(f"{spec.kind} needs min or max")

    def passes(t: Any) -> Any:
        import ibis

        value = metric(t)
        held = ibis.literal(True)
        if spec.kind in _FLOAT_METRICS:
            # a NaN mean/stddev/quantile proves no bound (and DuckDB sorts NaN above every number,
            # so `NaN >= min` would hold): it fails, as a NULL one does
            held = held & ~value.isnan()
        if low is not None:
            held = held & (value >= low)
        if high is not None:
            held = held & (value <= high)
        return held.fill_null(False)  # a NULL metric (empty table, all-NULL column) fails closed

    return passes


def _freshness(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    import ibis

    column = _only_column(spec)
    cutoff = now - timedelta(seconds=float(spec.args["max_age_seconds"]))

    def passes(t: Any) -> Any:
        col = t[column]
        kind = col.type()
        if kind.is_timestamp() and kind.timezone is not None:
            newest, bound = col.max(), ibis.literal(cutoff)
        elif kind.is_timestamp():
            newest, bound = col.max(), ibis.literal(cutoff.replace(tzinfo=None))  # naive = UTC
        elif kind.is_date():
            newest, bound = col.max().cast("timestamp"), ibis.literal(cutoff.replace(tzinfo=None))
        else:
            raise TypeError(f"freshness needs a DATE or TIMESTAMP column, {column!r} is {kind}")
        return (newest >= bound).fill_null(False)  # no value at all is not fresh

    return passes


def _within_bounds(values: tuple[float | None, ...], low: float | None, high: float | None) -> Passes:
    """Every measured value within [low, high]; a value that could not be measured fails."""

    def passes(t: Any) -> Any:
        import ibis

        # anchored on the validated table so Pandera runs it on the same DuckDB backend
        held = t.limit(1).count() >= 0
        for value in values:
            if value is not None and math.isnan(value):
                value = None  # NaN is no measurement: it fails like one that could not be taken
            measured = ibis.literal(value, type="float64")
            if low is not None:
                held = held & (measured >= low)
            if high is not None:
                held = held & (measured <= high)
        return held.fill_null(False)

    return passes


def _feature_before_label(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    feature, label_time = spec.columns
    return lambda t: (t[feature] <= t[label_time]).fill_null(True).all().fill_null(True)


def _disjoint_keys(spec: CheckSpec, backend: Any, table: Table, now: datetime) -> Passes:
    keys = list(spec.columns)
    parts = list(spec.args["relation"].parts)
    database: tuple[str, str] | str | None = (
        (parts[0], parts[1]) if len(parts) == 3 else (parts[0] if len(parts) == 2 else None)
    )
    other = backend.table(parts[-1], database=database)
    missing = [k for k in keys if k not in other.columns]
    if missing:
        raise ValueError(f"{spec.args['relation']} has no column {', '.join(missing)}")
    theirs = other.select(**{f"__dq_key{i}": other[k] for i, k in enumerate(keys)}).distinct()

    def passes(t: Any) -> Any:
        shared = t.semi_join(theirs, [t[k] == theirs[f"__dq_key{i}"] for i, k in enumerate(keys)])
        return shared.count() == 0

    return passes


_CHECK_BUILDERS: dict[CheckKind, Callable[[CheckSpec, Any, Table, datetime], Passes]] = {
    CheckKind.not_null: _not_null,
    CheckKind.unique: _unique,
    CheckKind.between: _between,
    CheckKind.accepted_values: _accepted_values,
    CheckKind.pattern: _pattern,
    CheckKind.length: _length,
    CheckKind.references: _references,
    CheckKind.custom_sql: _custom_sql,
    CheckKind.expression: _expression,
    CheckKind.row_count: _bounded,
    CheckKind.null_fraction: _bounded,
    CheckKind.distinct_count: _bounded,
    CheckKind.mean: _bounded,
    CheckKind.stddev: _bounded,
    CheckKind.quantile: _bounded,
    CheckKind.freshness: _freshness,
    CheckKind.feature_before_label: _feature_before_label,
    CheckKind.disjoint_keys: _disjoint_keys,
}


# -- helpers ---------------------------------------------------------------------------------


# Types Ibis reads as another type (ENUM as string, HUGEINT as decimal(38, 0), TIME WITH TIME ZONE
# as time) or not at all (JSON, UHUGEINT, nested types: Pandera's Ibis engine raises "Data type
# 'object' not understood" for the whole schema). A check on such a column cannot be judged by
# Pandera-on-Ibis as the column's own type, so it is left to the next engine (dq/run/plan.py).
_IBIS_INEXACT = (
    "ENUM(",
    "HUGEINT",
    "UHUGEINT",
    "TIME WITH TIME ZONE",
    "JSON",
    "BIT",
    "UNION(",
    "MAP(",
    "STRUCT(",
    "UUID",
    # unsigned: Ibis builds literals in the column's type, so `min: -1` on a USMALLINT crashes
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)


def _ibis_reads_inexactly(duckdb_type: str) -> bool:
    upper = duckdb_type.strip().upper()
    if upper.startswith("DECIMAL(") and decimal_precision(upper) > 18:
        return True  # Ibis builds the literals of a wide DECIMAL as DECIMAL(18,3): they overflow
    return upper.startswith(_IBIS_INEXACT) or upper.endswith("]")


def _pandera_dtype(backend: Any, declared: str) -> Any:
    """A canonical DuckDB type as the dtype Pandera compares against, through Ibis's own DuckDB
    type mapper (so TIMESTAMP is `Timestamp(scale=6)`, exactly what Ibis reads off the table)."""
    if declared.upper() == "DECIMAL":
        return _any_decimal()
    return backend.compiler.type_mapper.from_string(declared)


def _any_decimal() -> Any:
    """A Pandera dtype matching DECIMAL of any precision (the contract said bare `decimal`)."""
    import ibis.expr.datatypes as dt
    from pandera.engines import ibis_engine

    class AnyDecimal(ibis_engine.Decimal):
        def check(self, pandera_dtype: Any, data_container: Any = None) -> bool:
            try:
                return isinstance(ibis_engine.Engine.dtype(pandera_dtype).type, dt.Decimal)
            except TypeError:
                return False

        def __str__(self) -> str:
            return "decimal"

    return AnyDecimal()


def _only_column(spec: CheckSpec) -> str:
    if spec.column is None:
        raise ValueError(f"{spec.kind} needs exactly one column, got {list(spec.columns)}")
    return spec.column


def _unique_keys(specs: list[CheckSpec]) -> list[str]:
    """Check names: the spec name, disambiguated if two specs share one."""
    seen: dict[str, int] = {}
    keys = []
    for spec in specs:
        count = seen.get(spec.name, 0)
        seen[spec.name] = count + 1
        keys.append(spec.name if count == 0 else f"{spec.name}#{count}")
    return keys


def _age_hours(newest: Any, now: datetime) -> float | None:
    if newest is None:
        return None
    if isinstance(newest, datetime):
        moment = newest if newest.tzinfo is not None else newest.replace(tzinfo=UTC)
    elif isinstance(newest, date):
        moment = datetime(newest.year, newest.month, newest.day, tzinfo=UTC)
    else:
        raise TypeError(f"freshness needs a DATE or TIMESTAMP column, got a {type(newest).__name__}")
    return round((now - moment).total_seconds() / 3600, 2)


def _plain(value: Any) -> Any:
    """numpy scalars -> int/float, NaN/inf -> strings (JSON-safe results). A Decimal stays a
    Decimal: a DECIMAL column's quantile is shown as the exact value that was judged."""
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number) or math.isinf(number):
        return str(number)
    return int(number) if number.is_integer() and not isinstance(value, float) else number


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_first_line(str(exc))}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "(no message)"
