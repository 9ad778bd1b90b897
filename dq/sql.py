"""Specs as DuckDB SQL: violation predicates, metric expressions, failing-row queries.

Every identifier goes through `quote_ident` and every contract value through `literal`: nothing
from a contract is pasted into SQL as-is, so a column called `select` or a value such as
`'; drop table x; --` is data, not code.
"""

from __future__ import annotations

import math
from typing import Any

from dq.spec import CheckKind, CheckSpec


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def violation_predicate(spec: CheckSpec) -> str:
    """A boolean SQL expression, true on a row that violates a row-level spec.

    NULLs only violate `not_null`: every other check, as in SQL constraints, Pandera and GX,
    leaves missing values to the nullability rule.
    """
    col = quote_ident(spec.columns[0]) if spec.columns else ""
    a = spec.args
    match spec.kind:
        case CheckKind.not_null:
            return f"{col} IS NULL"
        case CheckKind.between:
            # NaN is in no range, but DuckDB sorts it above every number: `NaN < min` is false, so a
            # min-only bound would let it through. An upper bound of +inf fails NaN (and only NaN).
            return _outside(col, {**a, "max": math.inf if a.get("max") is None else a["max"]})
        case CheckKind.length:
            return _outside(f"length({col})", a)
        case CheckKind.accepted_values:
            return f"{col} IS NOT NULL AND {col} NOT IN ({', '.join(literal(v) for v in a['values'])})"
        case CheckKind.pattern:
            return f"{col} IS NOT NULL AND NOT regexp_matches({col}, {literal(a['regex'])})"
        case CheckKind.references:
            ref = f"{a['relation']} AS __ref WHERE __ref.{quote_ident(a['ref_column'])} = __t.{col}"
            return f"__t.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {ref})"
        case CheckKind.feature_before_label:
            return f"{col} > {quote_ident(spec.columns[1])}"
        case CheckKind.disjoint_keys:
            same = " AND ".join(f"__other.{quote_ident(c)} = __t.{quote_ident(c)}" for c in spec.columns)
            return f"EXISTS (SELECT 1 FROM {a['relation']} AS __other WHERE {same})"
    raise ValueError(f"{spec.kind} has no row predicate")


def _outside(expr: str, args: Any) -> str:
    parts = []
    if args.get("min") is not None:
        parts.append(f"{expr} < {literal(args['min'])}")
    if args.get("max") is not None:
        parts.append(f"{expr} > {literal(args['max'])}")
    return f"{expr} IS NOT NULL AND ({' OR '.join(parts)})"


def key_sql(columns: tuple[str, ...]) -> tuple[str, str]:
    """A key's quoted column list and the predicate "no part of the key is NULL" (uniqueness,
    as in SQL, ignores keys with a NULL part)."""
    keys = ", ".join(quote_ident(c) for c in columns)
    not_null = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in columns)
    return keys, not_null


def failing_rows_query(spec: CheckSpec, relation: str) -> str:
    """SELECT the violating rows of `relation` (unordered; callers add COUNT or LIMIT)."""
    if spec.kind is CheckKind.custom_sql:
        return custom_sql(spec, relation)
    if spec.kind is CheckKind.unique:
        keys, not_null = key_sql(spec.columns)
        # every row whose key occurs more than once, not just the surplus copies
        return (
            f"SELECT * FROM (SELECT *, count(*) OVER (PARTITION BY {keys}) AS __dq_key_count "
            f"FROM {relation} WHERE {not_null}) WHERE __dq_key_count > 1"
        )
    return f"SELECT * FROM {relation} AS __t WHERE {violation_predicate(spec)}"


def failing_count_query(spec: CheckSpec, relation: str) -> str:
    """How many rows violate a row-level spec, answered without a window for uniqueness."""
    if spec.kind is CheckKind.unique:
        keys, not_null = key_sql(spec.columns)
        return (
            f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {relation} "
            f"WHERE {not_null} GROUP BY {keys} HAVING count(*) > 1)"
        )
    return f"SELECT count(*) FROM ({failing_rows_query(spec, relation)})"


def custom_sql(spec: CheckSpec, relation: str) -> str:
    """The contract's own violation query with `{dataset}` bound to the relation."""
    return str(spec.args["sql"]).replace("{dataset}", relation).strip().rstrip(";")


def metric_expression(spec: CheckSpec) -> str:
    """The aggregate SQL expression an aggregate spec compares to its bounds."""
    col = quote_ident(spec.columns[0]) if spec.columns else ""
    match spec.kind:
        case CheckKind.row_count:
            return "count(*)"
        case CheckKind.null_fraction:
            return f"CASE WHEN count(*) = 0 THEN 0.0 ELSE count(*) FILTER (WHERE {col} IS NULL) / count(*) END"
        case CheckKind.distinct_count:
            return f"count(DISTINCT {col})"
        case CheckKind.mean:
            return f"avg({_numeric(col)})"
        case CheckKind.stddev:
            return f"stddev_samp({_numeric(col)})"
        case CheckKind.quantile:
            return f"quantile_disc({_numeric(col)}, {literal(float(spec.args['q']))})"
        case CheckKind.freshness:
            return f"max({col})"
    raise ValueError(f"{spec.kind} has no metric expression")


def _numeric(col: str) -> str:
    # a BOOLEAN column's mean is its true-rate; DuckDB's avg() refuses BOOLEAN itself
    return f"{col}::DOUBLE"
