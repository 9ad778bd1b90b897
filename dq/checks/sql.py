"""Specs as DuckDB SQL: violation predicates, metric expressions, failing-row queries.

Every identifier goes through `quote_ident` and every contract value through `literal`: nothing
from a contract is pasted into SQL as-is, so a column called `select` or a value such as
`'; drop table x; --` is data, not code.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from dq.checks.kinds import BOUND_ARGS
from dq.checks.reconcile import keys_query, unmatched_keys_query
from dq.checks.relation import quote_ident, relation_sql
from dq.checks.spec import CheckKind, CheckSpec, TypedText
from dq.contract.sql_text import single_select
from dq.contract.types import column_family, decimal_precision, decimal_scale


def quote_relation(*parts: str) -> str:
    """('main', 'training_set') -> "main"."training_set"."""
    return ".".join(quote_ident(part) for part in parts)


def literal(value: Any) -> str:
    """A contract value as a SQL literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "'NaN'::DOUBLE"
        if math.isinf(value):
            return "'Infinity'::DOUBLE" if value > 0 else "'-Infinity'::DOUBLE"
        return f"CAST('{value!r}' AS DOUBLE)"  # parsed as a double, never a DECIMAL or a rounding
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        digits = format(value, "f")  # plain notation: `1.5E+20` would be parsed as a DOUBLE
        if len(digits.lstrip("-").replace(".", "").lstrip("0")) > 38:
            raise ValueError(f"{digits} has more than 38 digits, more than any exact DuckDB number holds")
        return digits
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, TypedText):
        return f"CAST({literal(value.text)} AS {value.sql_type})"
    return f"CAST({literal(str(value))} AS {_python_type_sql(value)})"


def _python_type_sql(value: Any) -> str:
    """The DuckDB type of a value DuckDB returned for a cast (dates, times, UUIDs)."""
    import datetime as dt
    import uuid

    if isinstance(value, dt.datetime):
        return "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, dt.time):
        return "TIMETZ" if value.tzinfo is not None else "TIME"
    if isinstance(value, uuid.UUID):
        return "UUID"
    raise ValueError(f"no SQL literal for {type(value).__name__} {value!r}")


def column_expr(spec: CheckSpec, column: str, alias: str = "") -> str:
    """A column as a check compares it: byte-wise for collated strings, ENUMs as their text."""
    expr = f"{alias}{quote_ident(column)}"
    if column in spec.args.get("collated_columns", ()):
        return f'{expr} COLLATE "binary"'
    if str(spec.args.get("column_type", "")).upper().startswith("ENUM(") and column == spec.column:
        return f"{expr}::VARCHAR"
    return expr


def missing_predicate(spec: CheckSpec, column: str, alias: str = "") -> str:
    """NULL, and on FLOAT/DOUBLE columns NaN: both are a missing value to dq (and to pandas)."""
    col = f"{alias}{quote_ident(column)}"
    if column in spec.args.get("nan_columns", ()):
        return f"({col} IS NULL OR isnan({col}))"
    return f"{col} IS NULL"


def present_predicate(spec: CheckSpec, column: str, alias: str = "") -> str:
    """The column holds a value: neither NULL nor (on FLOAT/DOUBLE) NaN."""
    col = f"{alias}{quote_ident(column)}"
    if column in spec.args.get("nan_columns", ()):
        return f"{col} IS NOT NULL AND NOT isnan({col})"
    return f"{col} IS NOT NULL"


def scope_predicate(spec: CheckSpec) -> str | None:
    """The spec's `where:` condition as a predicate that is never NULL: a row whose condition is
    NULL is out of scope, as in SQL's WHERE (and under a NOT, in a CHECK constraint, too). The
    text was proven one boolean expression when the contract loaded (dq.contract.sql_text) and is
    put on lines of its own, so a trailing `--` comment ends there."""
    where = spec.where
    return None if where is None else f"coalesce((\n{where}\n), false)"


def scoped_relation(spec: CheckSpec, relation: str) -> str:
    """The rows a spec applies to: the relation, or the part of it its `where:` holds for."""
    scope = scope_predicate(spec)
    return relation if scope is None else f"(SELECT * FROM {relation} WHERE {scope})"


def violation_predicate(spec: CheckSpec) -> str:
    """A boolean SQL expression, true on a row that violates a row-level spec (and is in its
    `where:` scope).

    Missing values (NULL, and NaN on FLOAT/DOUBLE columns) only violate `not_null`: every other
    check, as in SQL constraints, Pandera and GX, leaves them to the nullability rule.
    """
    scope, violation = scope_predicate(spec), _violation(spec)
    return violation if scope is None else f"{scope} AND ({violation})"


def _violation(spec: CheckSpec) -> str:
    col = quote_ident(spec.columns[0]) if spec.columns else ""
    a = spec.args
    match spec.kind:
        case CheckKind.not_null:
            return missing_predicate(spec, spec.columns[0])
        case CheckKind.between:
            return _outside(col, a, present_predicate(spec, spec.columns[0]))
        case CheckKind.length:
            return _outside(f"length({col})", a)
        case CheckKind.accepted_values:
            compared = column_expr(spec, spec.columns[0])
            values = ", ".join(literal(v) for v in a["values"])
            return f"{present_predicate(spec, spec.columns[0])} AND {compared} NOT IN ({values})"
        case CheckKind.pattern:
            return f"{col} IS NOT NULL AND NOT regexp_matches({col}, {literal(a['regex'])})"
        case CheckKind.references:
            binary = ' COLLATE "binary"' if a.get("collated_columns") or a.get("ref_collated") else ""
            ref_col = f"__ref.{quote_ident(a['ref_column'])}{binary}"
            ref = f"{relation_sql(a['relation'])} AS __ref WHERE {ref_col} = __t.{col}{binary}"
            return f"{present_predicate(spec, spec.columns[0], '__t.')} AND NOT EXISTS (SELECT 1 FROM {ref})"
        case CheckKind.feature_before_label:
            return f"{col} > {quote_ident(spec.columns[1])}"
        case CheckKind.expression:
            # proven one expression without a subquery when the contract was loaded
            # (dq.contract.sql_text); on lines of its own, so a trailing `--` comment ends there
            return f"NOT coalesce((\n{a['expr']}\n), true)"
        case CheckKind.disjoint_keys:
            same = " AND ".join(f"__other.{quote_ident(c)} = __t.{quote_ident(c)}" for c in spec.columns)
            present = " AND ".join(present_predicate(spec, c, "__t.") for c in spec.columns)
            return f"{present} AND EXISTS (SELECT 1 FROM {relation_sql(a['relation'])} AS __other WHERE {same})"
    raise ValueError(f"{spec.kind} has no row predicate")


def _outside(expr: str, args: Any, present: str | None = None) -> str:
    parts = []
    if args.get("min") is not None:
        parts.append(f"{expr} < {literal(args['min'])}")
    if args.get("max") is not None:
        parts.append(f"{expr} > {literal(args['max'])}")
    return f"{present or f'{expr} IS NOT NULL'} AND ({' OR '.join(parts)})"


def key_sql(spec: CheckSpec) -> tuple[str, str]:
    """A key's quoted column list and the predicate "no part of the key is missing" (uniqueness,
    as in SQL, ignores keys with a NULL part; NaN is missing too). Collated string parts are
    compared byte-wise."""
    collated = spec.args.get("collated_columns", ())
    keys = ", ".join(quote_ident(c) + (' COLLATE "binary"' if c in collated else "") for c in spec.columns)
    not_null = " AND ".join(present_predicate(spec, c) for c in spec.columns)
    scope = scope_predicate(spec)
    return keys, not_null if scope is None else f"{scope} AND {not_null}"


def failing_rows_query(spec: CheckSpec, relation: str) -> str:
    """SELECT the violating rows of `relation` (unordered; callers add COUNT or LIMIT)."""
    if spec.kind is CheckKind.custom_sql:
        return custom_sql(spec, relation)
    if spec.kind is CheckKind.reconcile_keys:
        return unmatched_keys_query(spec, relation)  # not rows of `relation`: the unmatched keys of both sides
    if spec.kind is CheckKind.unique:
        keys, not_null = key_sql(spec)
        # every row whose key occurs more than once, not just the surplus copies
        return (
            f"SELECT * FROM (SELECT *, count(*) OVER (PARTITION BY {keys}) AS __dq_key_count "
            f"FROM {relation} WHERE {not_null}) WHERE __dq_key_count > 1"
        )
    return f"SELECT * FROM {relation} AS __t WHERE {violation_predicate(spec)}"


def failing_count_query(spec: CheckSpec, relation: str) -> str:
    """How many rows violate a row-level spec, answered without a window for uniqueness."""
    if spec.kind is CheckKind.unique:
        keys, not_null = key_sql(spec)
        return (
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {relation} "
            f"WHERE {not_null} GROUP BY {keys} HAVING count(*) > 1)"
        )
    if spec.kind is CheckKind.references:
        # the same rows as failing_rows_query's NOT EXISTS, as an anti join: DuckDB runs that as
        # one hash join, ~20x faster on 1M rows than the correlated form (issue 12's build cost)
        a = spec.args
        binary = ' COLLATE "binary"' if a.get("collated_columns") or a.get("ref_collated") else ""
        col, ref_col = quote_ident(spec.columns[0]), quote_ident(a["ref_column"])
        return (
            f"SELECT count(*) FROM {scoped_relation(spec, relation)} AS __t "
            f"ANTI JOIN {relation_sql(a['relation'])} AS __ref "
            f"ON __ref.{ref_col}{binary} = __t.{col}{binary} WHERE {present_predicate(spec, spec.columns[0], '__t.')}"
        )
    if spec.kind is CheckKind.reconcile_keys:
        return f"SELECT missing + extra FROM ({keys_query(spec, relation)})"
    return f"SELECT count(*) FROM ({failing_rows_query(spec, relation)})"


def custom_sql(spec: CheckSpec, relation: str) -> str:
    """The contract's own violation query with `{dataset}` bound to the relation, proven to be
    exactly one SELECT both as written and inside the `(...)` every caller wraps it in.

    Text is only ever wrapped, never edited, so the proof is about what runs: a query such as
    `... x < 0); COPY (SELECT 42) TO 'f.csv'; SELECT (0` does not parse on its own and would
    become three statements once wrapped, and a trailing `-- comment` would swallow the closing
    parenthesis; the newlines around it and the two parses shut both out.
    """
    bound = str(spec.args["sql"]).replace("{dataset}", relation).strip().rstrip(";").strip()
    single_select(bound, what=f"check {spec.name}: ")
    wrapped = f"\n{bound}\n"
    single_select(f"SELECT count(*) FROM ({wrapped})", what=f"check {spec.name}, wrapped as dq runs it: ")
    return wrapped


def metric_expression(spec: CheckSpec, relation: str | None = None, shift: str | None = None) -> str:
    """The aggregate SQL expression an aggregate spec compares to its bounds (`relation`, when
    given, lets a standard deviation of big integers be taken exactly: see `_stddev`; `shift`, an
    expression of one of the column's own values in the group, replaces the table-wide shift when
    the aggregate is taken per group, as dq.engines.segments does).

    Under a `where:`, the column is read as `CASE WHEN scope THEN column END`: every aggregate
    but count(*) leaves NULL out, so it sees exactly the rows in scope, in the column's own type."""
    scope = scope_predicate(spec)
    col = quote_ident(spec.columns[0]) if spec.columns else ""
    if scope is not None and col:
        col = f"(CASE WHEN {scope} THEN {col} END)"
    match spec.kind:
        case CheckKind.row_count:
            return "count(*)" if scope is None else f"count(*) FILTER (WHERE {scope})"
        case CheckKind.null_fraction:
            missing, rows = missing_predicate(spec, spec.columns[0]), "count(*)"
            if scope is not None:
                missing, rows = f"{scope} AND {missing}", f"count(*) FILTER (WHERE {scope})"
            return f"CASE WHEN {rows} = 0 THEN 0.0 ELSE count(*) FILTER (WHERE {missing}) / {rows} END"
        case CheckKind.distinct_count:
            compared = column_expr(spec, spec.columns[0])
            if scope is not None:
                compared = f"(CASE WHEN {scope} THEN {compared} END)"
            return f"count(DISTINCT {compared}){_skip_nan(spec)}"
        case CheckKind.mean:
            if _numeric(spec, col) == col and _family(spec) in ("integer", "decimal", "float"):
                return _mean(spec, col)
            return f"avg({_numeric(spec, col)}){_skip_nan(spec)}"
        case CheckKind.stddev:
            family = _family(spec)
            if (relation is not None or shift is not None) and family in ("integer", "decimal", "float"):
                lookup = f"(SELECT {col} FROM {relation} WHERE {_shift_filter(spec, col)} LIMIT 1)"
                return _stddev(spec, col, shift or lookup)
            if family == "float":
                plain, kept = f"stddev_samp({col}){_skip_nan(spec)}", _skip_nan(spec)
                scaled = f"stddev_samp({col} * 2.0 ** -512){kept} * 2.0 ** 512"
                return f"CASE WHEN isinf({plain}) THEN {scaled} ELSE {plain} END"
            return f"stddev_samp({_numeric(spec, col)}){_skip_nan(spec)}"
        case CheckKind.quantile:
            # in the column's own type: a BIGINT p100 of 2**53 + 1 is that integer, not a double
            return f"quantile_disc({col}, {literal(float(spec.args['q']))}){_skip_nan(spec)}"
        case CheckKind.freshness:
            return f"max({col})"
        case CheckKind.anomaly | CheckKind.change_from_last:
            return metric_expression(metric_spec(spec), relation)
    raise ValueError(f"{spec.kind} has no metric expression")


# what an `anomaly` / `change_from_last` check's `metric` measures: the aggregate kind's own SQL
METRIC_KINDS = {
    "row_count": CheckKind.row_count,
    "null_fraction": CheckKind.null_fraction,
    "distinct_count": CheckKind.distinct_count,
    "mean": CheckKind.mean,
    "stddev": CheckKind.stddev,
    "quantile": CheckKind.quantile,
    "freshness_lag": CheckKind.freshness,  # max(column); the engine turns it into hours of age
}


def metric_spec(spec: CheckSpec) -> CheckSpec:
    """The aggregate spec whose metric a history check judges: the same column and bound facts
    (type, NaN columns), so the metric is measured exactly as that aggregate kind measures it."""
    kind = METRIC_KINDS[str(spec.args["metric"])]
    args: dict[str, Any] = {k: v for k, v in spec.args.items() if k in BOUND_ARGS or k == "where"}
    if kind is CheckKind.quantile:
        args["q"] = spec.args["q"]
    if kind is CheckKind.freshness:
        args["max_age_seconds"] = math.inf  # a required bound the metric itself does not use
    return CheckSpec(spec.name, kind, spec.severity, spec.columns, args)


def _mean(spec: CheckSpec, col: str) -> str:
    """A mean that neither cancels nor overflows where the data do not.

    Kahan-summed doubles (`fsum`): 1e16 - 1 - 1e16 keeps its -1 and 2**127 + (2**53 + 1) - 2**127
    its 2**53, where a plain sum gives 0; no HUGEINT overflow either. A sum of finite values that
    still overflows (values near 1e308) is no value (NULL: the bound fails), never a finite bound
    met by -inf; a column that holds +-inf has the infinite (or NaN) mean it really has.
    """
    kept = _skip_nan(spec) or f" FILTER (WHERE {col} IS NOT NULL)"
    total = f"fsum({col}::DOUBLE){kept}"
    if _family(spec) != "float":
        return f"{total} / nullif(count({col}){kept}, 0)"
    return (
        f"CASE WHEN bool_or(isinf({col})){kept} THEN avg({col}){kept} WHEN isinf({total}) THEN NULL "
        f"ELSE {total} / nullif(count({col}){kept}, 0) END"
    )


def _stddev(spec: CheckSpec, col: str, shift: str) -> str:
    """The sample standard deviation, taken on the values minus one of the column's own values
    (the deviation is shift-invariant): 10**17 + (0 or 1) has a deviation of 0.5, but as doubles
    every value is 1e17 and the deviation 0; DOUBLEs 1e17, 1e17 + 16, 1e17 + 32 have 16, which
    DuckDB's stddev_samp of the unshifted doubles gives as 19.6. The difference is taken in the
    column's own type, or a wider exact one (a BIGINT difference can need 65 bits), and only the
    small difference becomes a DOUBLE (a difference past the type, HUGEINTs 2**127 apart, is
    taken in DOUBLE: a deviation that large is exact to 2**-53 of itself, never an overflow). The shift is one cheap
    LIMIT 1 lookup, or (per segment) a value of the segment's own: another segment's 1e17 would
    swamp 0 and 1 again.

    A DOUBLE deviation whose squares overflow (values past ~1e154) is taken on the values scaled by
    2**-512 (exact: a power of two) and scaled back, in the same pass; a column holding +-inf has
    the NaN deviation it really has (inf - inf), which fails every bound."""
    column_type = str(spec.args.get("column_type", "")).upper()
    family = _family(spec)
    if family == "float":
        kept = _skip_nan(spec)
        plain = f"stddev_samp({col}::DOUBLE - {shift}::DOUBLE){kept}"
        scaled = f"stddev_samp({col}::DOUBLE * 2.0 ** -512 - {shift}::DOUBLE * 2.0 ** -512){kept} * 2.0 ** 512"
        return f"CASE WHEN isfinite({plain}) THEN {plain} ELSE {scaled} END"
    if column_type == "UHUGEINT":  # no signed type holds every difference: the larger minus the smaller
        return (
            f"stddev_samp(CASE WHEN {col} >= {shift} THEN ({col} - {shift})::DOUBLE "
            f"ELSE -(({shift} - {col})::DOUBLE) END)"
        )
    if family == "integer" and column_type != "HUGEINT":
        wide = "HUGEINT"  # a BIGINT difference can need 65 bits
    elif family == "decimal":
        # DECIMAL(38,s): a DECIMAL(<=18,s) difference fits, a wider one is checked for overflow
        wide = f"DECIMAL(38,{decimal_scale(column_type)})"
    else:
        wide = column_type  # HUGEINT
    difference = f"({col}::{wide} - {shift}::{wide})::DOUBLE"
    if column_type == "HUGEINT" or (family == "decimal" and decimal_precision(column_type) > 18):
        # a difference of values of one sign fits the type; of two signs it may not (HUGEINTs
        # 2**127 apart), and is taken in DOUBLE: |x| + |shift| is |x - shift|, so each cast's
        # rounding is within 2**-53 of the difference itself, as the exact difference's would be
        difference = (
            f"CASE WHEN ({col} >= 0) = ({shift} >= 0) THEN {difference} ELSE {col}::DOUBLE - {shift}::DOUBLE END"
        )
    return f"stddev_samp({difference})"


def _shift_filter(spec: CheckSpec, col: str) -> str:
    """Which of the column's values can be the shift: any present one, a finite one for FLOAT/DOUBLE
    (an infinite shift would make every difference infinite or NaN)."""
    return f"isfinite({col})" if _family(spec) == "float" else f"{col} IS NOT NULL"


def mean_parts(spec: CheckSpec) -> str:
    """The exact sum of an integer, DECIMAL or BOOLEAN column's values in scope, as a struct
    (high, low, part, n): the sum is high * 2**64 + low + part, the mean that over n
    (dq.engines.pandera_batch.exact_mean), so a mean is judged as a fraction, never a double: a
    BIGINT mean of 2**53 + 1 is not 2**53. More aggregates of the same scan, none overflowing:
    - BIGINT, UBIGINT and narrower: DuckDB's HUGEINT sum (exact for 2**63 rows); BOOLEAN: the trues;
    - HUGEINT/UHUGEINT: the values' upper and lower 64 bits, summed apart as HUGEINTs;
    - DECIMAL(p<=18,s): a DECIMAL(38,s) sum;
    - DECIMAL(p>18,s): the integer parts' upper and lower 64 bits as for a HUGEINT, and the
      fractions (each below 1) as a DECIMAL(38,s) sum; only that one can overflow (10**(38-s)
      rows or more), which is DuckDB's overflow error: exit 3, never a rounded mean.
    """
    scope = scope_predicate(spec)
    col = quote_ident(spec.columns[0])
    if scope is not None:
        col = f"(CASE WHEN {scope} THEN {col} END)"
    column_type = str(spec.args.get("column_type", "")).upper()
    wide = _family(spec) == "decimal" and decimal_precision(column_type) > 18
    high, part = "0::HUGEINT", "0::HUGEINT"
    if column_type in ("HUGEINT", "UHUGEINT") or wide:
        whole = f"trunc({col})::HUGEINT" if wide else col
        high = f"sum(({whole} >> 64)::HUGEINT)"
        low = f"sum(({whole} & 18446744073709551615)::HUGEINT)"
        if wide:
            part = f"sum({col} - trunc({col}))"
    elif _family(spec) == "decimal":
        low = f"sum({col}::DECIMAL(38,{decimal_scale(column_type)}))"
    else:
        # DuckDB sums every integer type up to UBIGINT as a HUGEINT (exact for 2**63 rows)
        low = f"count(*) FILTER (WHERE {col})" if column_type == "BOOLEAN" else f"sum({col})"
    return f"struct_pack(high := {high}, low := {low}, part := {part}, n := count({col}))"


def _skip_nan(spec: CheckSpec) -> str:
    """Aggregates leave NaN out as they leave NULL out (NaN is a missing value)."""
    column = spec.columns[0]
    return f" FILTER (WHERE NOT isnan({quote_ident(column)}))" if column in spec.args.get("nan_columns", ()) else ""


def _family(spec: CheckSpec) -> str:
    return column_family(str(spec.args.get("column_type", "")))


def _numeric(spec: CheckSpec, col: str) -> str:
    """A BOOLEAN column's mean is its true-rate (DuckDB's avg() refuses BOOLEAN itself). Other
    columns are averaged as they are: avg() of a HUGEINT or DECIMAL sums exactly before it
    divides, where a cast to DOUBLE first would lose 2**127 + (2**53 + 1) - 2**127."""
    if str(spec.args.get("column_type", "")).upper() == "BOOLEAN" or not spec.args.get("column_type"):
        return f"{col}::DOUBLE"
    return col
