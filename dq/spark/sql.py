"""Specs as Spark SQL: the same predicates and metrics as dq/checks/sql.py, in Spark's dialect.

Each function mirrors its DuckDB twin, so a row that violates a check on one backend violates it on
the other. Spark's traps are closed here, once:
- identifiers in backticks; a contract's text values and regexes are bound as named parameters
  (`:p0`), never pasted: Spark reads backslashes in string literals as escapes and substitutes
  `${...}` in query text before parsing, so a value such as `C:\\x` or `${user}` would change;
- numbers as typed literals: `1.5` is a DECIMAL in Spark, so a double is `CAST('1.5' AS DOUBLE)`
  and a Decimal `1.5BD`; integers are exact either way;
- ANSI mode raises on a division by zero, so divisions are `try_divide`;
- a regex is rewritten to the Java regex of the same meaning or refused (dq/spark/regex.py);
- dates and timestamps bound as text DuckDB has canonicalised are read with Spark's CAST.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dq.checks.relation import Relation
from dq.checks.spec import CheckKind, CheckSpec, TypedText
from dq.contract.types import column_family, decimal_precision, decimal_scale
from dq.spark.regex import java_regex
from dq.spark.types import spark_type


class NotOnSpark(ValueError):
    """A spec Spark cannot state with the meaning DuckDB gives it: refused before anything runs."""


def ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def view_sql(relation: Any) -> str:
    """A bound relation (a dataset resolved on Spark is a temp view, dq/spark/relation.py)."""
    if isinstance(relation, Relation):
        return ident(relation.name)
    raise NotOnSpark(f"a relation dq cannot name on Spark: {relation!r}")


@dataclass
class Params:
    """The named parameters of one statement: contract text never enters the SQL text."""

    values: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f":{name}"


def literal(value: Any, params: Params) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        if abs(value) >= 10**38:
            raise NotOnSpark(f"{value} has more digits than any exact Spark number holds")
        return str(value) if abs(value) < 2**63 else f"{value}BD"
    if isinstance(value, float):
        if math.isnan(value):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(value):
            return "CAST('Infinity' AS DOUBLE)" if value > 0 else "CAST('-Infinity' AS DOUBLE)"
        return f"CAST('{value!r}' AS DOUBLE)"
    if isinstance(value, Decimal):
        digits = format(value, "f")
        if not value.is_finite() or len(digits.lstrip("-").replace(".", "").lstrip("0")) > 38:
            raise NotOnSpark(f"{value} is not a number Spark's DECIMAL holds exactly")
        return f"{digits}BD"
    if isinstance(value, str):
        return params.bind(value)
    if isinstance(value, TypedText):
        target = spark_type(value.sql_type)
        if target not in ("date", "timestamp_ntz"):
            raise NotOnSpark(f"a {value.sql_type} value ({value.text!r}) is compared only on DuckDB")
        return f"CAST({params.bind(value.text)} AS {target.upper()})"
    raise NotOnSpark(f"no Spark literal for {type(value).__name__} {value!r}")


def _nan_column(spec: CheckSpec, column: str) -> bool:
    return column in spec.args.get("nan_columns", ())


def missing(spec: CheckSpec, column: str, alias: str = "") -> str:
    col = f"{alias}{ident(column)}"
    return f"({col} IS NULL OR isnan({col}))" if _nan_column(spec, column) else f"{col} IS NULL"


def present(spec: CheckSpec, column: str, alias: str = "") -> str:
    col = f"{alias}{ident(column)}"
    return f"{col} IS NOT NULL AND NOT isnan({col})" if _nan_column(spec, column) else f"{col} IS NOT NULL"


def violation_predicate(spec: CheckSpec, params: Params) -> str:
    """True on a row that violates a per-row spec (dq.checks.sql.violation_predicate's twin)."""
    col = ident(spec.columns[0]) if spec.columns else ""
    a = spec.args
    match spec.kind:
        case CheckKind.not_null:
            return missing(spec, spec.columns[0])
        case CheckKind.between:
            return _outside(col, a, params, present(spec, spec.columns[0]))
        case CheckKind.length:
            return _outside(f"char_length({col})", a, params)
        case CheckKind.accepted_values:
            values = ", ".join(literal(v, params) for v in a["values"])
            return f"{present(spec, spec.columns[0])} AND {col} NOT IN ({values})"
        case CheckKind.pattern:
            return f"{col} IS NOT NULL AND NOT ({col} RLIKE {params.bind(java_regex(str(a['regex'])))})"
        case CheckKind.feature_before_label:
            return f"{col} > {ident(spec.columns[1])}"
        case CheckKind.expression:
            return f"NOT coalesce((\n{a['expr']}\n), true)"
    raise NotOnSpark(f"{spec.kind} has no row predicate")


def _outside(expr: str, args: Any, params: Params, present_sql: str | None = None) -> str:
    parts = []
    if args.get("min") is not None:
        parts.append(f"{expr} < {literal(args['min'], params)}")
    if args.get("max") is not None:
        parts.append(f"{expr} > {literal(args['max'], params)}")
    return f"{present_sql or f'{expr} IS NOT NULL'} AND ({' OR '.join(parts)})"


def key_present(spec: CheckSpec, alias: str = "") -> str:
    return " AND ".join(present(spec, c, alias) for c in spec.columns)


def duplicated_rows_query(spec: CheckSpec, view: str) -> str:
    """Rows whose complete key occurs more than once, counted by one GROUP BY (dq's `unique`)."""
    keys = ", ".join(ident(c) for c in spec.columns)
    return (
        f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {ident(view)} "
        f"WHERE {key_present(spec)} GROUP BY {keys} HAVING count(*) > 1)"
    )


def cross_count_query(spec: CheckSpec, view: str) -> str:
    """Rows with no match in the referenced dataset (an anti join), or sharing a key with another
    split (a semi join: each row once, as DuckDB's EXISTS)."""
    other = view_sql(spec.args["relation"])
    if spec.kind is CheckKind.references:
        col, ref = ident(spec.columns[0]), ident(spec.args["ref_column"])
        return (
            f"SELECT count(*) FROM {ident(view)} AS __t LEFT ANTI JOIN {other} AS __ref "
            f"ON __ref.{ref} = __t.{col} WHERE {present(spec, spec.columns[0], '__t.')}"
        )
    same = " AND ".join(f"__other.{ident(c)} = __t.{ident(c)}" for c in spec.columns)
    return (
        f"SELECT count(*) FROM {ident(view)} AS __t LEFT SEMI JOIN {other} AS __other "
        f"ON {same} WHERE {key_present(spec, '__t.')}"
    )


def failing_rows_query(spec: CheckSpec, view: str, params: Params, custom: str | None = None) -> str:
    """SELECT the violating rows (for samples; unordered, the caller adds LIMIT)."""
    if spec.kind is CheckKind.custom_sql:
        assert custom is not None
        return custom
    if spec.kind is CheckKind.unique:
        keys = ", ".join(ident(c) for c in spec.columns)
        return (
            f"SELECT * FROM (SELECT *, count(*) OVER (PARTITION BY {keys}) AS __dq_key_count "
            f"FROM {ident(view)} WHERE {key_present(spec)}) WHERE __dq_key_count > 1"
        )
    if spec.kind is CheckKind.references:
        col, ref = ident(spec.columns[0]), ident(spec.args["ref_column"])
        return (
            f"SELECT __t.* FROM {ident(view)} AS __t LEFT ANTI JOIN {view_sql(spec.args['relation'])} AS __ref "
            f"ON __ref.{ref} = __t.{col} WHERE {present(spec, spec.columns[0], '__t.')}"
        )
    if spec.kind is CheckKind.disjoint_keys:
        same = " AND ".join(f"__other.{ident(c)} = __t.{ident(c)}" for c in spec.columns)
        return (
            f"SELECT __t.* FROM {ident(view)} AS __t LEFT SEMI JOIN {view_sql(spec.args['relation'])} AS __other "
            f"ON {same} WHERE {key_present(spec, '__t.')}"
        )
    return f"SELECT * FROM {ident(view)} AS __t WHERE {violation_predicate(spec, params)}"


def _kept(spec: CheckSpec, col: str) -> str:
    """The column with NaN made NULL, so aggregates leave NaN out as they leave NULL out."""
    return f"CASE WHEN NOT isnan({col}) THEN {col} END" if _nan_column(spec, spec.columns[0]) else col


def metric_expression(spec: CheckSpec, view: str) -> str:
    """The aggregate an aggregate spec compares to its bounds (dq.checks.sql.metric_expression's
    twin). A mean of integers, decimals or booleans is its exact parts (`mean_parts`); a deviation
    is taken after a shift by one of the column's values (`_stddev`). Means and deviations of
    FLOAT/DOUBLE columns are Spark's double sums, not DuckDB's compensated ones: they can differ
    in the last digits (README, "Spark")."""
    col = ident(spec.columns[0]) if spec.columns else ""
    family = column_family(str(spec.args.get("column_type", "")))
    match spec.kind:
        case CheckKind.row_count:
            return "count(*)"
        case CheckKind.null_fraction:
            share = f"try_divide(count_if({missing(spec, spec.columns[0])}), count(*))"
            return f"CASE WHEN count(*) = 0 THEN CAST(0 AS DOUBLE) ELSE {share} END"
        case CheckKind.mean:
            kept = _kept(spec, col)
            if "exact_bounds" in spec.args:
                return mean_parts(spec, col)
            if family in ("integer", "decimal"):
                return f"try_divide(sum(CAST({kept} AS DOUBLE)), count({kept}))"
            if family == "float":
                infinite = f"{kept} IN (CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS DOUBLE))"
                total = f"sum(CAST({kept} AS DOUBLE))"
                return (
                    f"CASE WHEN bool_or({infinite}) THEN avg({kept}) WHEN abs({total}) = CAST('Infinity' AS DOUBLE) "
                    f"THEN NULL ELSE try_divide({total}, count({kept})) END"
                )
            return f"avg(CAST({kept} AS DOUBLE))"
        case CheckKind.stddev:
            return _stddev(spec, col, view)
        case CheckKind.freshness:
            column_type = str(spec.args.get("column_type", "")).upper()
            if column_type == "DATE":
                return f"unix_date(max({col}))"
            if column_type == "TIMESTAMP":
                return f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', max({col}))"
            if column_type == "TIMESTAMP WITH TIME ZONE":
                return f"unix_micros(max({col}))"
            return f"max({col})"
    raise NotOnSpark(f"{spec.kind} has no metric expression")


def mean_parts(spec: CheckSpec, col: str) -> str:
    """dq.checks.sql.mean_parts' struct (high, low, part, n) on Spark: the sum in an exact
    DECIMAL (an integer column's as DECIMAL(38,0), a DECIMAL(p,s)'s as Spark's DECIMAL(p+10,s)
    sum), so the mean is judged as a fraction. A sum past 38 digits is Spark's overflow error,
    or NULL without ANSI mode: no mean, which fails every bound; never a rounded one."""
    family = column_family(str(spec.args.get("column_type", "")))
    if family == "boolean":
        total = f"sum(CAST(CAST({col} AS INT) AS DECIMAL(38,0)))"
    elif family == "integer":
        total = f"sum(CAST({col} AS DECIMAL(38,0)))"
    elif family == "decimal":
        total = f"sum({col})"
    else:
        raise NotOnSpark(f"an exact mean of a {spec.args.get('column_type')} column")
    return f"named_struct('high', 0, 'low', {total}, 'part', 0, 'n', count({col}))"


def _stddev(spec: CheckSpec, col: str, view: str) -> str:
    """The sample deviation after subtracting one of the column's own values (dq.checks.sql._stddev):
    in DECIMAL(20,0) for integers, in the column's own DECIMAL(p,s) (whose difference Spark holds
    exactly as DECIMAL(p+1,s)), in DOUBLE by a finite value for FLOAT/DOUBLE; only the small
    difference is a DOUBLE. A DECIMAL(38,s) difference would need 39 digits, which Spark rounds
    to fewer places past s > 6: refused there."""
    column_type = str(spec.args.get("column_type", "")).upper()
    family = column_family(column_type)
    kept = _kept(spec, col)
    if family == "float":
        finite = f"{present(spec, spec.columns[0])} AND abs({col}) < CAST('Infinity' AS DOUBLE)"
        shift = f"(SELECT CAST({col} AS DOUBLE) FROM {ident(view)} WHERE {finite} LIMIT 1)"
        return f"stddev_samp(CAST({kept} AS DOUBLE) - {shift})"
    shift = f"(SELECT {col} FROM {ident(view)} WHERE {col} IS NOT NULL LIMIT 1)"
    if family == "integer":
        return f"stddev_samp(CAST(CAST({col} AS DECIMAL(20,0)) - CAST({shift} AS DECIMAL(20,0)) AS DOUBLE))"
    if family == "decimal":
        if decimal_precision(column_type) >= 38 and decimal_scale(column_type) > 6:
            raise NotOnSpark(
                f"a deviation of a {column_type} column: Spark rounds a difference of two such values "
                "to fewer decimal places; validate it with --backend duckdb"
            )
        # DECIMAL(38,s) values 10**(38-s) apart: that row's difference in DOUBLE (try_subtract's
        # NULL, in either ANSI mode), never a row left out
        doubles = f"CAST({col} AS DOUBLE) - CAST({shift} AS DOUBLE)"
        return f"stddev_samp(coalesce(CAST(try_subtract({col}, {shift}) AS DOUBLE), {doubles}))"
    return f"stddev_samp(CAST({kept} AS DOUBLE))"


def distinct_count_query(spec: CheckSpec, view: str) -> str:
    col = ident(spec.columns[0])
    return f"SELECT count(DISTINCT {_kept(spec, col)}) FROM {ident(view)}"


def quantile_query(spec: CheckSpec, view: str) -> str:
    """DuckDB's quantile_disc (the value at 0-based rank max(ceil(n * q) - 1, 0) of the sorted
    non-missing values) is Spark's percentile_disc, which returns a double: the caller takes it
    back to the column's type where that is exact, else asks `nth_value_query`."""
    kept = _kept(spec, ident(spec.columns[0]))
    q = literal(float(spec.args["q"]), Params())
    return f"SELECT percentile_disc({q}) WITHIN GROUP (ORDER BY {kept}), count({kept}) FROM {ident(view)}"


def nth_value_query(spec: CheckSpec, view: str, rank: int) -> str:
    col = ident(spec.columns[0])
    where = present(spec, spec.columns[0])
    return f"SELECT {col} FROM {ident(view)} WHERE {where} ORDER BY {col} LIMIT 1 OFFSET {int(rank)}"
