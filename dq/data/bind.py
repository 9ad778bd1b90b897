"""Binding: every value a spec compares is made a value of the column's own type, or refused.

A contract is written without the database at hand; the checks run against real columns. In
between, SQL would happily cast: `accepted_values: [1, 2]` on a VARCHAR column compares
`'01'`, `' 1'` and `'2.0'` as numbers (all pass), a VARCHAR key `= ` an INTEGER key casts one side,
a bound rendered as a double is off by one above 2^53, and a `COLLATE NOCASE` column makes `'de'`
equal to `'DE'`. Binding closes each of those doors before any engine runs:

- a value that does not fit the column's type is an error naming the key and the fix (quote the
  number, drop the decimals, declare the column's type) — never an implicit cast;
- bounds become values of the column's own type with the same meaning: on an integer column
  `min: 17.5` is `min: 18`; on DECIMAL(p,s) a bound is rounded *inward* to scale s (exact: no value
  of that scale lies in between); on FLOAT/DOUBLE it is DuckDB's reading of the text in that type
  (what `CAST('0.1' AS FLOAT)` gives, so `max: 0.1` passes a FLOAT 0.1), except that an integer
  bound is rounded inward too (`max: 9007199254740995` is the DOUBLE 9007199254740994, not ...996);
- string comparisons are binary (byte-wise): dq's SQL adds `COLLATE "binary"`, and the engines that
  cannot (Pandera's Ibis backend, GX) leave checks on collated columns to the one that can;
- a reference or a disjointness key compares columns of the same type, or is refused.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation, localcontext
from typing import Any

import duckdb

from dq.checks.relation import Relation
from dq.checks.spec import CheckKind, CheckSpec, TypedText
from dq.checks.sql import quote_ident
from dq.contract.types import base_type, canonical_type, column_family, decimal_precision, decimal_scale
from dq.data.source import Table

_STATISTIC_BOUND_KINDS = frozenset({CheckKind.mean, CheckKind.stddev, CheckKind.null_fraction})
_COUNT_BOUND_KINDS = frozenset({CheckKind.row_count, CheckKind.distinct_count, CheckKind.length})


class BindError(ValueError):
    """A contract value that cannot be compared exactly with its column: the message says the fix."""


# Pairs that compare equal, or in this order, only under a collation: case, accents, composed vs
# decomposed é (every ICU collation equates those), and case in an ordering ('a' < 'B' is false
# byte-wise). A column's answers to them are its collation's signature.
_COLLATION_PROBES = ("{} = 'a'", "{} = 'e'", "{} = 'é'", "{} < 'B'")
_PROBE_LEFT = ("A", "é", "e\u0301", "a")
# The collations a gate's snapshot can re-apply (dq/gate/snapshot.py); each signature once.
BUILTIN_COLLATIONS = ("nocase", "noaccent", "nfc", "nocase.noaccent", "nocase.nfc")


def collation_signatures(table: Table) -> dict[str, tuple[bool, ...]]:
    """String column -> its answers to the collation probes (all False: byte-wise).

    The catalog does not show a column's collation, but comparisons inherit it: a CASE whose
    other branch is the column takes the column's collation, so `'A' = 'a'` through it is true
    exactly when the column ignores case. One query, no rows read (a LEFT JOIN to zero rows).
    """
    strings = [c for c, t in table.columns.items() if column_family(t) == "string"]
    if not strings:
        return {}
    probes = []
    for column in strings:
        for probe, left in zip(_COLLATION_PROBES, _PROBE_LEFT, strict=True):
            probes.append(probe.format(f"(CASE WHEN false THEN p.{quote_ident(column)} ELSE '{left}' END)"))
    query = (
        f"SELECT {', '.join(probes)} FROM (SELECT 1) AS one "
        f"LEFT JOIN (SELECT * FROM {table.relation} LIMIT 0) AS p ON true"
    )
    row = table.connection.execute(query).fetchall()[0]
    width = len(_COLLATION_PROBES)
    return {column: tuple(bool(v) for v in row[i * width : (i + 1) * width]) for i, column in enumerate(strings)}


def builtin_collation_for(connection: Any, signature: tuple[bool, ...]) -> str | None:
    """The built-in DuckDB collation whose probe answers are `signature`, or None (e.g. an ICU
    collation such as `de`, whose ordering no built-in one reproduces)."""
    for name in BUILTIN_COLLATIONS:
        probes = [
            probe.format(f"('{left}' COLLATE {name})")
            for probe, left in zip(_COLLATION_PROBES, _PROBE_LEFT, strict=True)
        ]
        if tuple(bool(v) for v in connection.execute(f"SELECT {', '.join(probes)}").fetchall()[0]) == signature:
            return name
    return None


def collated_columns(table: Table) -> frozenset[str]:
    """String columns whose comparisons are not byte-wise (COLLATE NOCASE / NOACCENT / NFC / ICU)."""
    return frozenset(column for column, signature in collation_signatures(table).items() if any(signature))


def nan_holding_columns(table: Table) -> frozenset[str]:
    """FLOAT/DOUBLE columns that hold a NaN (one aggregate query over those columns only).

    dq's SQL counts NaN as missing; Pandera's Ibis backend and GX do not (GX's `col IS NULL`,
    Ibis's `isnull()`), so on such a column their checks go to pandera-batch (spec.needs_exact_sql).
    """
    floats = [c for c, t in table.columns.items() if is_nan_capable(t)]
    if not floats:
        return frozenset()
    parts = ", ".join(f"bool_or(isnan({quote_ident(c)}))" for c in floats)
    row = table.connection.execute(f"SELECT {parts} FROM {table.relation}").fetchall()[0]
    return frozenset(c for c, holds in zip(floats, row, strict=True) if holds)


def bind_spec(
    spec: CheckSpec, table: Table, collated: frozenset[str], nan_present: frozenset[str] = frozenset()
) -> CheckSpec:
    """The spec with its values in the column's own type; BindError when that is impossible."""
    column = spec.column
    column_type = table.columns.get(column, "") if column else ""
    args: dict[str, Any] = dict(spec.args)
    if column:
        args["column_type"] = column_type
    if any(c in collated for c in spec.columns):
        args["collated_columns"] = tuple(c for c in spec.columns if c in collated)
    nan_columns = tuple(c for c in spec.columns if is_nan_capable(table.columns.get(c, "")))
    if nan_columns:
        args["nan_columns"] = nan_columns
    if set(spec.columns) & nan_present:
        args["nan_present"] = True
    key = _key_of(spec)
    match spec.kind:
        case CheckKind.between | CheckKind.quantile:
            _require_numeric(spec, column_type, key)
            args.update(_own_bounds(args, column_type, table.connection, key))
        case CheckKind.mean | CheckKind.stddev:
            if column_family(column_type) not in {"integer", "float", "decimal", "boolean"}:
                raise BindError(f"{key}: needs a numeric or BOOLEAN column; {column} is {column_type}")
            if spec.kind is CheckKind.mean and column_family(column_type) != "float":
                args["exact_bounds"] = _exact_mean_bounds(args, column_type, key)
            args.update(_float_bounds(args))
        case CheckKind.null_fraction:
            args.update(_float_bounds(args))
        case CheckKind.row_count | CheckKind.distinct_count:
            args.update(_count_bounds(args))
        case CheckKind.length | CheckKind.pattern:
            if column_family(column_type) not in {"string", "enum"}:
                rule = "length" if spec.kind is CheckKind.length else "pattern"
                raise BindError(
                    f"columns.{column}.{rule}: needs a VARCHAR column, but {column} is {column_type} "
                    "(no implicit cast to text); cast it in the model or use a custom check"
                )
            args.update(_count_bounds(args))
        case CheckKind.accepted_values:
            args["values"] = tuple(
                _own_value(v, column_type, table.connection, f"{key}[{i}]") for i, v in enumerate(args["values"])
            )
        case CheckKind.references:
            _same_type(
                key, column or "", column_type, f"{args.get('dataset')}.{args['ref_column']}", args.get("ref_type", "")
            )
        case CheckKind.label_class_fraction:
            args.update(_bound_classes(args, column_type, table.connection, key))
        case CheckKind.expression:
            _require_boolean(str(spec.args["expr"]), table, key)
        case CheckKind.feature_before_label:
            feature, label_time = (table.columns.get(c, "") for c in spec.columns)
            if not _compare_exactly(feature, label_time):
                raise BindError(
                    f"leakage.before: {spec.columns[0]} is {feature} and {spec.columns[1]} is {label_time}; they "
                    "are compared only in one type (never as text: '2024-1-15' > '2024-06-01'; never through a "
                    "lossy cast: BIGINT 2**53 + 1 vs DOUBLE). Fix: cast both to one DATE/TIMESTAMP or number type "
                    "in the model"
                )
    if spec.where is not None:  # the same proof as an expression rule's: BOOLEAN, DuckDB's own functions
        where_key = f"columns.{spec.column}.where" if spec.column else f"{spec.name}.where"
        _require_boolean(spec.where, table, where_key, "the condition")
    return replace(spec, args=args)


_EXACT_WIDENING = (
    frozenset({"DATE", "TIMESTAMP"}),  # a DATE is its midnight, exactly
    frozenset(_INTEGER_NAMES := ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")),
    frozenset({"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", *_INTEGER_NAMES}),
)


def _compare_exactly(left: str, right: str) -> bool:
    """Can DuckDB compare the two types without a lossy or textual cast? The same type, a DATE
    with a TIMESTAMP, or integers with integers; never text, never a float with anything else."""
    a, b = (_canonical(t.strip().upper()) for t in (left, right))
    if column_family(a) in ("string", "enum", "other") or column_family(b) in ("string", "enum", "other"):
        return False
    if a == b:
        return a != "UUID"
    return any({a, b} <= group for group in _EXACT_WIDENING)


def _require_boolean(expr: str, table: Table, key: str, what: str = "it") -> None:
    """An expression rule (or a `where:` condition) must be BOOLEAN in DuckDB's own reading, on
    this relation's columns, and so must every operand of its AND / OR / NOT: `'t'`, `1` or
    `paid + billed AND ...` would be cast to a boolean ("non-zero is true") and silently decide
    the rule. It may call only DuckDB's own functions: a macro stored in the database can read
    other tables."""
    from dq.contract.sql_text import function_names, parse_expression

    parsed = parse_expression(expr)
    own = {
        str(name).lower()
        for (name,) in table.connection.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE NOT internal"
        ).fetchall()
    }
    if defined := sorted(function_names(parsed) & own):
        raise BindError(
            f"{key}: calls {', '.join(defined)}, defined in the database (a macro can read other tables). "
            "Fix: write the rule with DuckDB's own functions, or as a custom check under `checks:`"
        )
    for operand in [expr, *_boolean_operands(parsed, table)]:
        query = f"DESCRIBE SELECT (\n{operand}\n) AS e FROM {table.relation}"
        try:
            described = table.connection.execute(query).fetchall()
        except duckdb.Error as exc:
            raise BindError(f"{key}: DuckDB cannot read it on {table.label}: {str(exc).splitlines()[0]}") from None
        found = [str(row[1]) for row in described]
        if found != ["BOOLEAN"]:
            shown = what if operand is expr else f"`{operand}`"
            raise BindError(
                f"{key}: {shown} must be a true/false expression, but it is {', '.join(found)}. "
                "Fix: compare, e.g. `a >= b`"
            )


_BOOLEAN_BY_SHAPE = {"OPERATOR_NOT", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL", "COMPARE_IN", "COMPARE_NOT_IN"}


def _boolean_operands(parsed: dict[str, Any], table: Table) -> list[str]:
    """The SQL of every operand of AND / OR / NOT that is not boolean by its shape (a comparison,
    IS NULL, IN, another AND...): each must be BOOLEAN itself."""
    from dq.contract.sql_text import nodes

    select = parsed["statements"][0]["node"]["select_list"]
    operands = []
    for node in nodes(select):
        if node["class"] == "CONJUNCTION" or node.get("type") == "OPERATOR_NOT":
            for child in node.get("children", []):
                shaped = child["class"] in ("COMPARISON", "CONJUNCTION", "BETWEEN") or child.get("type") in (
                    _BOOLEAN_BY_SHAPE
                )
                if not shaped:
                    operands.append(child)
    texts = []
    for operand in operands:
        document = json.loads(json.dumps(parsed))
        document["statements"][0]["node"]["select_list"] = [operand]
        sql = table.connection.execute("SELECT json_deserialize_sql(?)", [json.dumps(document)]).fetchall()[0][0]
        texts.append(str(sql).removeprefix("SELECT ").rsplit(" FROM ", 1)[0])
    return texts


def _key_of(spec: CheckSpec) -> str:
    """The contract key a spec came from, for messages: columns.age.min, label.class_fraction."""
    if spec.kind is CheckKind.label_class_fraction:
        return "label.class_fraction"
    suffix = {
        CheckKind.between: "min/max",
        CheckKind.accepted_values: "accepted_values",
        CheckKind.references: "references",
        CheckKind.quantile: "quantiles",
    }.get(spec.kind, spec.kind.value)
    return f"columns.{spec.column}.{suffix}" if spec.column else spec.name


def _require_numeric(spec: CheckSpec, column_type: str, key: str) -> None:
    if column_family(column_type) not in {"integer", "float", "decimal"}:
        raise BindError(
            f"{key}: numeric bounds need a numeric column, but {spec.column} is {column_type}; "
            "compare strings with accepted_values/pattern/length, times with freshness or a custom check"
        )


def _own_bounds(
    args: Mapping[str, Any], column_type: str, connection: duckdb.DuckDBPyConnection | None, key: str
) -> dict[str, Any]:
    bounds = {
        side: None if args.get(side) is None else own_bound(args[side], column_type, side, connection, key)
        for side in ("min", "max")
    }
    return _within_type(bounds, column_type)


_INTEGER_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "HUGEINT": (-(2**127), 2**127 - 1),
    "UTINYINT": (0, 2**8 - 1),
    "USMALLINT": (0, 2**16 - 1),
    "UINTEGER": (0, 2**32 - 1),
    "UBIGINT": (0, 2**64 - 1),
    "UHUGEINT": (0, 2**128 - 1),
}


def _type_range(column_type: str) -> tuple[Any, Any] | None:
    family = column_family(column_type)
    if family == "integer":
        return _INTEGER_RANGES.get(base_type(_canonical(column_type.upper())))
    if family == "decimal":
        precision, scale = decimal_precision(column_type), decimal_scale(column_type)
        with localcontext(Context(prec=80)):  # even unary minus rounds to the context's precision
            high = (Decimal(10) ** precision - 1).scaleb(-scale)
            return -high, high
    return None


def _within_type(bounds: dict[str, Any], column_type: str) -> dict[str, Any]:
    """Bounds past the column type's own range, as the type's extremes with the same meaning.

    `min: -1e28` on DECIMAL(38,10) holds for every value (so it becomes the smallest value), and
    `min: 300` on TINYINT for none (the interval becomes empty: min = largest, max = smallest
    value). Every literal then fits the type, and a bound with more digits than DuckDB's widest
    exact number never has to be written.
    """
    limits = _type_range(column_type)
    return bounds if limits is None else _within_limits(bounds, limits)


def _within_limits(bounds: Mapping[str, Any], limits: tuple[Any, Any]) -> dict[str, Any]:
    low, high = bounds.get("min"), bounds.get("max")
    smallest, largest = limits
    if (low is not None and low > largest) or (high is not None and high < smallest):
        return {"min": largest, "max": smallest}
    if low is not None and low < smallest:
        low = smallest
    if high is not None and high > largest:
        high = largest
    return {"min": low, "max": high}


def own_bound(value: Any, column_type: str, side: str, connection: duckdb.DuckDBPyConnection | None, key: str) -> Any:
    """An inclusive bound as a value of the column's type with the same meaning on its values."""
    family = column_family(column_type)
    exact = _as_decimal(value, key)
    if family in ("integer", "decimal") and abs(exact) > _BEYOND_EVERY_TYPE:
        # past every integer and DECIMAL(38) value: the type's extreme has the same meaning
        # (_within_type), and `1e999999999` must not become a billion-digit int or quantize
        exact = _BEYOND_EVERY_TYPE if exact > 0 else -_BEYOND_EVERY_TYPE
    rounding = ROUND_CEILING if side == "min" else ROUND_FLOOR
    if family == "integer":
        return int(exact.to_integral_value(rounding=rounding))
    if family == "decimal":
        scale = decimal_scale(column_type)
        with localcontext(Context(prec=80)):  # DECIMAL(38, x) needs more than the default 28 digits
            return exact.quantize(Decimal(1).scaleb(-scale), rounding=rounding)
    return _float_bound(column_type, exact, side, connection)


def _own_value(value: Any, column_type: str, connection: duckdb.DuckDBPyConnection, key: str) -> Any:
    """An accepted value as a value of the column's type; BindError if no value of it can match."""
    family = column_family(column_type)
    shown = f"{value!r}" if isinstance(value, str) else _show(value)
    if family in {"string", "enum"}:
        if not isinstance(value, str):
            raise BindError(
                f"{key}: {shown} is a {_kind(value)}, but {{column}} is {column_type}: quote it ('{_show(value)}') "
                "to compare text exactly".replace("{column}", key.split(".")[1] if "." in key else "the column")
            )
        return value
    if family == "boolean":
        if not isinstance(value, bool):
            raise BindError(f"{key}: {shown} is not a boolean, but the column is BOOLEAN: write true or false")
        return value
    if family in {"integer", "float", "decimal"}:
        if isinstance(value, bool | str):
            raise BindError(f"{key}: {shown} is a {_kind(value)}, but the column is {column_type}: write a number")
        exact = _as_decimal(value, key)
        if family == "integer":
            if exact != exact.to_integral_value():
                raise BindError(
                    f"{key}: {shown} is not a whole number, so no value of the {column_type} column equals it"
                )
            return int(exact)
        if family == "decimal":
            scale = decimal_scale(column_type)
            with localcontext(Context(prec=80)):
                fits = exact == exact.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_FLOOR)
            if not fits:
                raise BindError(f"{key}: {shown} has more than {scale} decimals, so no {column_type} value equals it")
            return exact
        value = _float_in(column_type, exact, connection)
        if math.isinf(value) or (value == 0 and exact != 0):
            raise BindError(f"{key}: {shown} is outside the range of {column_type}: no value of the column equals it")
        return value
    if family == "cast":
        if not isinstance(value, str):
            raise BindError(f"{key}: {shown} is a {_kind(value)}; a {column_type} value is written as a quoted string")
        sql_type = canonical_type_sql(column_type)
        try:
            connection.execute(f"SELECT CAST(? AS {sql_type})", [value]).fetchall()
        except duckdb.Error as exc:
            raise BindError(f"{key}: {value!r} is not a {column_type} value: {str(exc).splitlines()[0]}") from None
        return TypedText(value, sql_type)  # DuckDB reads the text itself, in SQL (no Python datetime)
    raise BindError(f"{key}: accepted_values cannot compare a {column_type} column exactly; use a custom check")


def _bound_classes(
    args: Mapping[str, Any], column_type: str, connection: duckdb.DuckDBPyConnection, key: str
) -> dict[str, Any]:
    """Named label classes as values of the label's type, and their names as DuckDB prints them."""
    classes = tuple(_own_value(v, column_type, connection, key) for v in args.get("classes", ()))
    bound: dict[str, Any] = {
        "classes": classes,
        "class_names": tuple(_as_varchar(v, column_type, connection) for v in classes),
    }
    if args.get("only") is not None:
        bound["only"] = bound["class_names"][0]
        declared = tuple(_own_value(v, column_type, connection, key) for v in args.get("declared", ()))
        bound["declared"] = declared
        bound["declared_names"] = tuple(_as_varchar(v, column_type, connection) for v in declared)
    bound.update(_float_bounds(args))
    return bound


def _as_varchar(value: Any, column_type: str, connection: duckdb.DuckDBPyConnection) -> str:
    """How DuckDB's `::VARCHAR` prints a value of the column's type (classes are counted that way)."""
    sql_type = "VARCHAR" if column_family(column_type) == "enum" else canonical_type_sql(column_type)
    return str(connection.execute(f"SELECT CAST(CAST(? AS {sql_type}) AS VARCHAR)", [_param(value)]).fetchall()[0][0])


def _same_type(key: str, column: str, column_type: str, other: str, other_type: str) -> None:
    if other_type and _comparable(column_type) != _comparable(other_type):
        raise BindError(
            f"{key}: {column} is {column_type} but {other} is {other_type}; comparing them would cast one side "
            "(' 2' = 2). Fix: cast one of them in its model so both have the same type"
        )


def _comparable(duckdb_type: str) -> str:
    family = column_family(duckdb_type)
    return "string" if family in {"string", "enum"} else _canonical(duckdb_type.upper())


def bind_source(spec: CheckSpec, table: Table, source: Table, key: str) -> CheckSpec:
    """A reconciliation spec bound to its source, or BindError: key columns of exactly one type on
    both sides (never FLOAT/DOUBLE, nor a STRUCT/LIST/MAP holding one: NaN and -0.0 make double
    equality no key), strings compared
    byte-wise; summed / averaged columns numeric and of one family on both sides (integers with
    integers, DECIMAL with DECIMAL, FLOAT/DOUBLE with FLOAT/DOUBLE), so no side is cast."""
    missing = [c for c in spec.columns if c not in source.columns]
    if missing:
        raise BindError(f"{key}: column {', '.join(missing)} is missing from the source {source.label}")
    args: dict[str, Any] = {**spec.args, "relation": Relation(source.schema, source.name)}
    if spec.kind is CheckKind.reconcile_keys:
        for column in spec.columns:
            here, there = table.columns[column], source.columns[column]
            if here != there:
                raise BindError(
                    f"{key}: key column {column} is {here} here but {there} in {source.label}; comparing them would "
                    "cast one side. Fix: give both the same type in their models"
                )
            if holds_float(here):
                raise BindError(
                    f"{key}: key column {column} is {here}; doubles are no key (NaN, -0.0 = 0.0). "
                    "Fix: key on an integer, DECIMAL or text column"
                )
        args["string_keys"] = tuple(c for c in spec.columns if column_family(table.columns[c]) == "string")
    elif spec.columns:
        column = spec.columns[0]
        here, there = table.columns[column], source.columns[column]
        families = {column_family(here), column_family(there)}
        if len(families) != 1 or not families <= {"integer", "decimal", "float"}:
            raise BindError(
                f"{key}: {column} is {here} here and {there} in {source.label}; a sum or mean is compared only "
                "between numeric columns of one family (integer, DECIMAL, FLOAT/DOUBLE), never through a cast. "
                "Fix: cast one side in its model"
            )
        args["ref_type"] = there
    return replace(spec, args=args)


def holds_float(duckdb_type: str) -> bool:
    """A FLOAT/DOUBLE anywhere in the type, a STRUCT field's or a LIST/MAP element's too: a nested
    double compares as one, so NaN and -0.0 break such a key as they break a DOUBLE. Quoted field
    names are dropped first (a field named "double" is no double); an unquoted field named like a
    float type refuses the key, which fails closed."""
    unquoted = re.sub(r'"(?:[^"]|"")*"', " ", duckdb_type.upper())
    return any(word in _FLOAT_WORDS for word in re.findall(r"[A-Z0-9_]+", unquoted))


_FLOAT_WORDS = frozenset({"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"})


def _float_bounds(args: Mapping[str, Any]) -> dict[str, Any]:
    """Bounds on a statistic (a mean, a share): compared as doubles, with `_float_bound`'s care at
    the ends of the range (a mean bound of 1e400 must not become inf, which +inf would meet)."""
    return {
        side: None if args.get(side) is None else _float_bound("DOUBLE", _as_decimal(args[side], side), side, None)
        for side in ("min", "max")
        if side in args
    }


def _exact_mean_bounds(args: Mapping[str, Any], column_type: str, key: str) -> tuple[Decimal | None, Decimal | None]:
    """(min, max) of a mean of integers, decimals or booleans, which is judged as an exact
    fraction (dq.checks.sql.mean_parts): the contract's own digits, never a double's reading
    (`max: 9007199254740992` is that integer, which a mean of 2**53 + 1 exceeds). A mean lies
    within its column type's range (a BOOLEAN's true-rate within 0..1), so a bound past it is the
    type's extreme, with the same meaning, and no bound has more digits than the type's values."""
    bounds: dict[str, Any] = {
        side: None if args.get(side) is None else _as_decimal(args[side], key) for side in ("min", "max")
    }
    limits = (0, 1) if column_family(column_type) == "boolean" else _type_range(column_type)
    if limits is not None:
        bounds = _within_limits(bounds, limits)
    low, high = (None if bounds[side] is None else Decimal(bounds[side]) for side in ("min", "max"))
    return low, high


def _count_bounds(args: Mapping[str, Any]) -> dict[str, Any]:
    return {side: None if args.get(side) is None else int(args[side]) for side in ("min", "max") if side in args}


_BEYOND_EVERY_TYPE = Decimal(2) ** 130  # more than UHUGEINT's and DECIMAL(38)'s largest values
_FLOAT_LIMITS = {  # (largest finite, smallest positive subnormal)
    "DOUBLE": (sys.float_info.max, 5e-324),
    "FLOAT": (3.4028234663852886e38, 1.401298464324817e-45),
}


def _float_in(column_type: str, exact: Decimal, connection: duckdb.DuckDBPyConnection | None) -> float:
    """DuckDB's reading of the decimal text in a FLOAT or DOUBLE column's type, as a Python float
    (`inf` where the text is past the type's largest value)."""
    if base_type(_canonical(column_type.upper())) == "DOUBLE":
        return float(exact)  # CPython's correctly rounded decimal -> double, as DuckDB's cast
    if abs(exact) > Decimal("3.5e38"):
        return math.inf if exact > 0 else -math.inf
    if connection is None:
        raise ValueError("a FLOAT reading needs the connection")
    return float(connection.execute("SELECT CAST(CAST(? AS FLOAT) AS DOUBLE)", [format(exact, "f")]).fetchall()[0][0])


def _float_bound(column_type: str, exact: Decimal, side: str, connection: duckdb.DuckDBPyConnection | None) -> float:
    """A bound's reading in a FLOAT/DOUBLE type, where that reading keeps the bound's meaning.

    Nearest is right for ordinary numbers (`max: 0.1` passes a FLOAT 0.1). But a finite bound
    past the type's range must not become +-inf (`max: 1e400` would then pass +inf rows), and a
    tiny nonzero one must not become 0 (`min: 1e-400` would pass 0.0): those are replaced by the
    type's value with the same meaning on every finite and infinite value.
    """
    value = _float_in(column_type, exact, connection)
    largest, tiny = _FLOAT_LIMITS["FLOAT" if base_type(_canonical(column_type.upper())) == "FLOAT" else "DOUBLE"]
    if math.isinf(value):
        if exact > 0:
            return largest if side == "max" else math.inf  # finite values: <= largest; +inf: >= min
        return -largest if side == "min" else -math.inf
    if value == 0 and exact != 0:
        if exact > 0:
            return tiny if side == "min" else 0.0
        return -tiny if side == "max" else 0.0
    if exact == exact.to_integral_value():
        # an integer bound is exact (an id, a count): it is kept inward, as on integer columns,
        # so `max: 9007199254740995` is not the DOUBLE 9007199254740996 that passes that value
        single = base_type(_canonical(column_type.upper())) == "FLOAT"
        if side == "max" and Decimal(value) > exact:
            return _next_float(value, -1, single)
        if side == "min" and Decimal(value) < exact:
            return _next_float(value, 1, single)
    return value


def _next_float(value: float, direction: int, single: bool) -> float:
    """The neighbouring DOUBLE (or FLOAT, `single`) of `value` towards +inf (1) or -inf (-1)."""
    if not single:
        return math.nextafter(value, math.inf * direction)
    import struct

    bits = struct.unpack("<i", struct.pack("<f", value))[0]
    bits += direction if bits >= 0 else -direction  # sign-magnitude: a negative float steps the other way
    return float(struct.unpack("<f", struct.pack("<i", bits))[0])


def _as_decimal(value: Any, key: str) -> Decimal:
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise BindError(f"{key}: {value!r} is not a number") from None
    if not exact.is_finite():
        raise BindError(f"{key}: a bound must be a finite number")
    return exact


def _param(value: Any) -> Any:
    if isinstance(value, TypedText):
        return value.text
    if isinstance(value, float) and value == 0:
        return 0.0  # -0.0 and 0.0 are one class (the label's counts are normalised the same way)
    return format(value, "f") if isinstance(value, Decimal) else value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    return "string"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _canonical(upper: str) -> str:
    try:
        return canonical_type(upper)
    except ValueError:
        return upper


def canonical_type_sql(duckdb_type: str) -> str:
    """A column's type as it can be written in a CAST (ENUMs are compared as VARCHAR)."""
    return "VARCHAR" if column_family(duckdb_type) == "enum" else duckdb_type


def is_nan_capable(duckdb_type: str) -> bool:
    """FLOAT and DOUBLE columns can hold NaN, which dq counts as a missing value."""
    return column_family(duckdb_type) == "float"


def own_bound_without_database(args: Mapping[str, Any], column_type: str) -> dict[str, Any]:
    """`_own_bounds` for a declared type, where no database is at hand (dq dbt export): an
    in-memory DuckDB reads FLOAT texts. Unknown or non-numeric types are left as written."""
    if column_family(column_type) not in ("integer", "float", "decimal"):
        return {}
    if base_type(_canonical(column_type.upper())) != "FLOAT":
        return _own_bounds(args, column_type, None, "min/max")  # only a FLOAT reading asks DuckDB
    with duckdb.connect() as connection:  # ~15 ms: not opened for the other types
        return _own_bounds(args, column_type, connection, "min/max")
