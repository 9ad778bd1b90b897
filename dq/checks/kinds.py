"""Every check kind and its facts, in one table: `KINDS`.

A kind's family (how it is measured), the engines that run it, where `dq dbt export` puts it, the
arguments a spec of it carries and how its threshold reads in a report live here and nowhere else.
Every other module derives its sets from this table (`of_family`, `run_by`, `exported_as`), so a
new kind cannot be claimed by an engine that has no builder for it, or leave the dbt exporter with
a different idea of what it is. `tests/test_kinds.py` fails when a kind lacks any fact.

Adding a kind (say `increasing`) means: a contract field (dq.contract), a compile entry
(dq.checks.compile), a row here, its SQL builder (dq.checks.sql) and each engine's builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dq.checks import anomaly


class CheckKind(StrEnum):
    """Every kind of check a contract can ask for."""

    column_exists = "column_exists"
    column_type = "column_type"
    no_extra_columns = "no_extra_columns"
    not_null = "not_null"
    unique = "unique"
    between = "between"
    accepted_values = "accepted_values"
    pattern = "pattern"
    length = "length"
    expression = "expression"
    references = "references"
    custom_sql = "custom_sql"
    row_count = "row_count"
    null_fraction = "null_fraction"
    distinct_count = "distinct_count"
    mean = "mean"
    stddev = "stddev"
    quantile = "quantile"
    freshness = "freshness"
    label_class_fraction = "label_class_fraction"
    correlation_with_label = "correlation_with_label"
    categorical_determines_label = "categorical_determines_label"
    drift_psi = "drift_psi"
    drift_ks = "drift_ks"
    drift_chi2 = "drift_chi2"
    drift_linf = "drift_linf"
    disjoint_keys = "disjoint_keys"
    feature_before_label = "feature_before_label"
    reconcile_row_count = "reconcile_row_count"
    reconcile_keys = "reconcile_keys"
    reconcile_sum = "reconcile_sum"
    reconcile_mean = "reconcile_mean"
    anomaly = "anomaly"
    change_from_last = "change_from_last"


class Family(StrEnum):
    """How a kind is measured; engines and the dbt exporter build one query shape per family."""

    schema = "schema"  # answered from the relation's column list
    row_predicate = "row predicate"  # a per-row predicate: counted for every such check in one scan
    row_query = "row query"  # violating rows found by a query of its own (duplicate keys, custom SQL)
    cross_dataset = "cross-dataset"  # violating rows found by reading another relation too
    aggregate = "aggregate"  # one metric of the relation compared to bounds
    statistic = "statistic"  # a training-data statistic computed by dq.ml.stats
    reconciliation = "reconciliation"  # one metric of the relation and of its source, compared (dq.checks.reconcile)
    history = "history"  # one metric of the relation judged against its past runs (dq.checks.anomaly)


class Dbt(StrEnum):
    """Where `dq dbt export` puts a check."""

    constraint = "constraint"  # a column constraint on tables with an enforced contract, else the post-hook
    assertion = "assertion"  # the post-hook assertion query
    dq_only = "dq only"  # not exported: depends on when data is read, or on a reference dq holds


# The engines, by the names results carry (dq.engines.*.ENGINE).
BATCH = "pandera-batch"
PANDERA = "pandera"
GX = "gx"
ENGINES = (BATCH, PANDERA, GX)

# Facts binding adds to a spec of any kind (dq.data.bind, the runner's reference binding): the live
# column type and what it implies. They are part of every kind's typed arguments.
BOUND_ARGS = frozenset(
    {
        "column_type",
        "collated_columns",
        "nan_columns",
        "nan_present",
        "relation",
        "ref_type",
        "ref_collated",
        "exact_bounds",
    }
)

Words = Callable[[Mapping[str, Any], tuple[str, ...]], str]


@dataclass(frozen=True)
class Finding:
    """What a failed check found, for the one line that says why: `rows` is '3 rows' when the
    failing rows were counted, `expected` the threshold in words."""

    args: Mapping[str, Any]
    columns: tuple[str, ...]
    rows: str | None
    observed: Any
    expected: str


Reason = Callable[[Finding], str]


def _rows_where_not(f: Finding) -> str:
    return f"{f.rows} where {f.columns[0]} is not {f.expected}"


def _observed_not_expected(f: Finding) -> str:
    nothing = "no value (no non-missing values, or a NaN or overflowing statistic)"
    shown = nothing if f.observed is None else (f"{f.observed:.4g}" if isinstance(f.observed, float) else f.observed)
    return f"observed {shown}, expected {f.expected}"


@dataclass(frozen=True)
class KindFacts:
    """What one kind is: `args` names every argument a spec of it may carry (beyond BOUND_ARGS),
    `required` those it must carry, `words` its threshold in a report ('between 18 and 120'),
    `rows_reason` why it failed when its failing rows were counted, `reason` otherwise."""

    family: Family
    engines: frozenset[str]
    dbt: Dbt
    args: frozenset[str]
    required: frozenset[str]
    words: Words
    rows_reason: Reason = _rows_where_not
    reason: Reason = _observed_not_expected


def _facts(
    family: Family,
    engines: tuple[str, ...],
    dbt: Dbt,
    words: Words,
    args: str = "",
    required: str = "",
) -> KindFacts:
    return KindFacts(family, frozenset(engines), dbt, frozenset(args.split()), frozenset(required.split()), words)


# --- wording --------------------------------------------------------------------------------------


def bounds_text(args: Mapping[str, Any]) -> str:
    low, high = args.get("min"), args.get("max")
    if low is not None and high is not None:
        return f"between {number_text(low)} and {number_text(high)}"
    if low is not None:
        return f">= {number_text(low)}"
    return f"<= {number_text(high)}" if high is not None else "no bound"


def number_text(value: Any) -> str:
    """1000000.0 -> '1000000', 0.05 -> '0.05': no exponents in what people read, and every digit
    of an exact bound (an int, a Decimal) shown as it is compared."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    number = float(value)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)  # the shortest text that reads back as this double


def expression_text(expr: str) -> str:
    """A contract's SQL expression as DuckDB's parser reads it, comments and line breaks gone."""
    import duckdb  # lazy: only a report of an expression rule needs it

    try:
        return str(duckdb.SQLExpression(expr))
    except duckdb.Error:  # never raised for a loaded contract (dq.contract.sql_text proved it parses)
        return " ".join(expr.split())


def _bounded(args: Mapping[str, Any], columns: tuple[str, ...]) -> str:
    if "exact_bounds" in args:  # a mean judged as a fraction: the bounds as the contract wrote them
        return bounds_text(dict(zip(("min", "max"), args["exact_bounds"], strict=True)))
    return bounds_text(args)


def _drift(statistic: str) -> Words:
    return lambda a, _: f"{statistic} vs {a['reference']} {bounds_text(a)}"


def tolerance_text(args: Mapping[str, Any]) -> str:
    """'equal', 'within 5', 'within 0.5%', 'within 0.01 and 0.1%' (each tolerance given must hold)."""
    parts = [number_text(args["max_diff"])] if args.get("max_diff") is not None else []
    if args.get("max_diff_pct") is not None:
        parts.append(f"{number_text(args['max_diff_pct'])}%")
    return "within " + " and ".join(parts) if parts else "equal"


def _reconciled(what: str) -> Words:
    def words(a: Mapping[str, Any], c: tuple[str, ...]) -> str:
        tolerance = tolerance_text(a)
        return f"{what.format(*c)} {tolerance} {'to' if tolerance == 'equal' else 'of'} {a.get('dataset')}'s"

    return words


def _reconcile_reason(f: Finding) -> str:
    o = f.observed if isinstance(f.observed, Mapping) else {}
    if not o or o.get("diff") is None:
        return f"no value to compare (observed {o or f.observed}), expected {f.expected}"
    here, there, diff = (number_text(o[k]) for k in ("dataset", "source", "diff"))
    return f"{here} here vs {there} in {f.args.get('dataset')} (diff {diff}), expected {f.expected}"


def _unmatched_reason(f: Finding) -> str:
    o = f.observed if isinstance(f.observed, Mapping) else {}
    source = f.args.get("dataset")
    return (
        f"{f.rows} unmatched by ({', '.join(f.columns)}): {o.get('missing', '?')} missing (in {source}, not here), "
        f"{o.get('extra', '?')} extra (here, not in {source})"
    )


def _class_share(a: Mapping[str, Any], _: tuple[str, ...]) -> str:
    who = f"share of class {a['only']}" if a.get("only") else "every class's share"
    return f"{who} {bounds_text(a)}"


# --- the table ------------------------------------------------------------------------------------

_ALL = ENGINES
_NOT_GX = (BATCH, PANDERA)  # GX has no expectation for it (leakage between splits, label timing)
_STATISTIC = (PANDERA,)  # dq.ml.stats computes it; the Pandera engine judges it
_BOUNDS = "min max"
_DATASET = "model table version dataset path format hive_partitioning"  # a table, a dbt model or files
_TOLERANCE = f"{_DATASET} max_diff max_diff_pct"
# dq's results history is the reference: only pandera-batch judges against it, dbt has none
_HISTORY = (BATCH,)

KINDS: Mapping[CheckKind, KindFacts] = {
    CheckKind.column_exists: _facts(Family.schema, _ALL, Dbt.assertion, lambda a, c: "column present"),
    CheckKind.column_type: _facts(Family.schema, _ALL, Dbt.assertion, lambda a, c: f"type {a['type']}", "type", "type"),
    CheckKind.no_extra_columns: _facts(
        Family.schema, _ALL, Dbt.assertion, lambda a, c: "no undeclared columns", "allowed", "allowed"
    ),
    CheckKind.not_null: _facts(Family.row_predicate, _ALL, Dbt.constraint, lambda a, c: "no nulls"),
    CheckKind.between: _facts(Family.row_predicate, _ALL, Dbt.constraint, _bounded, _BOUNDS),
    CheckKind.accepted_values: _facts(
        Family.row_predicate,
        _ALL,
        Dbt.constraint,
        lambda a, c: "in {" + ", ".join(str(v) for v in a["values"]) + "}",
        "values",
        "values",
    ),
    CheckKind.pattern: _facts(
        Family.row_predicate, _ALL, Dbt.constraint, lambda a, c: f"matches /{a['regex']}/", "regex", "regex"
    ),
    CheckKind.length: _facts(Family.row_predicate, _ALL, Dbt.constraint, _bounded, _BOUNDS),
    CheckKind.expression: _facts(
        Family.row_predicate,
        _ALL,
        Dbt.assertion,
        lambda a, c: f"{expression_text(a['expr'])} holds",
        "expr description",
        "expr",
    ),
    # not a PRIMARY KEY / UNIQUE constraint in dbt: DuckDB builds an index while it fills the table
    # (about twice the post-hook's GROUP BY), and the post-hook fails inside the same transaction
    CheckKind.unique: _facts(Family.row_query, _ALL, Dbt.assertion, lambda a, c: f"unique ({', '.join(c)})"),
    CheckKind.custom_sql: _facts(
        Family.row_query, _ALL, Dbt.assertion, lambda a, c: "query returns no rows", "sql description", "sql"
    ),
    CheckKind.feature_before_label: _facts(Family.row_query, _NOT_GX, Dbt.dq_only, lambda a, c: f"{c[0]} <= {c[1]}"),
    CheckKind.references: _facts(
        Family.cross_dataset,
        _ALL,
        Dbt.assertion,
        lambda a, c: f"exists in {a.get('dataset')}.{a['ref_column']}",
        f"{_DATASET} ref_column",
        "ref_column",
    ),
    CheckKind.disjoint_keys: _facts(
        Family.cross_dataset,
        _NOT_GX,
        Dbt.dq_only,
        lambda a, c: f"no ({', '.join(c)}) shared with {a.get('dataset')}",
        _DATASET,
    ),
    # reconciliation: dq's own SQL only (exact sums, byte-wise keys, Kahan-summed doubles); the other
    # engines route it to pandera-batch. The post-hook asserts counts and keys against a dbt model
    # (dq.dbt.reconcile_hook); sums and means stay with dq (a DOUBLE difference is not exact in SQL)
    CheckKind.reconcile_row_count: _facts(
        Family.reconciliation, (BATCH,), Dbt.assertion, _reconciled("row count"), _TOLERANCE
    ),
    CheckKind.reconcile_keys: _facts(
        Family.cross_dataset,
        (BATCH,),
        Dbt.assertion,
        lambda a, c: f"({', '.join(c)}) keys matching {a.get('dataset')}'s row for row",
        f"{_DATASET} string_keys",
    ),
    CheckKind.reconcile_sum: _facts(Family.reconciliation, (BATCH,), Dbt.dq_only, _reconciled("sum({})"), _TOLERANCE),
    CheckKind.reconcile_mean: _facts(Family.reconciliation, (BATCH,), Dbt.dq_only, _reconciled("mean({})"), _TOLERANCE),
    CheckKind.row_count: _facts(Family.aggregate, _ALL, Dbt.assertion, _bounded, _BOUNDS),
    CheckKind.null_fraction: _facts(Family.aggregate, _ALL, Dbt.assertion, _bounded, _BOUNDS),
    CheckKind.distinct_count: _facts(Family.aggregate, _ALL, Dbt.assertion, _bounded, _BOUNDS),
    CheckKind.mean: _facts(Family.aggregate, _ALL, Dbt.assertion, _bounded, _BOUNDS),
    CheckKind.stddev: _facts(Family.aggregate, _ALL, Dbt.assertion, _bounded, _BOUNDS),
    CheckKind.quantile: _facts(
        Family.aggregate,
        _ALL,
        Dbt.assertion,
        lambda a, c: f"p{a['q'] * 100:g} {bounds_text(a)}",
        f"q {_BOUNDS}",
        "q",
    ),
    # freshness depends on when the data is read, not when it is built: dq checks it at read time
    CheckKind.freshness: _facts(
        Family.aggregate,
        _ALL,
        Dbt.dq_only,
        lambda a, c: f"newest value at most {a['max_age_seconds'] / 3600:g}h old",
        "max_age_seconds",
        "max_age_seconds",
    ),
    CheckKind.label_class_fraction: _facts(
        Family.statistic,
        _STATISTIC,
        Dbt.dq_only,
        _class_share,
        f"{_BOUNDS} classes only declared class_names declared_names",
    ),
    CheckKind.correlation_with_label: _facts(
        Family.statistic,
        _STATISTIC,
        Dbt.dq_only,
        lambda a, c: f"|corr(numeric feature, label)| {bounds_text(a)}",
        f"{_BOUNDS} exclude min_category_rows",
    ),
    CheckKind.categorical_determines_label: _facts(
        Family.statistic,
        _STATISTIC,
        Dbt.dq_only,
        lambda a, c: f"Goodman-Kruskal lambda(label | feature) {bounds_text(a)}",
        f"{_BOUNDS} exclude min_category_rows",
    ),
    CheckKind.drift_psi: _facts(Family.statistic, _STATISTIC, Dbt.dq_only, _drift("PSI"), f"reference {_BOUNDS}"),
    CheckKind.drift_ks: _facts(Family.statistic, _STATISTIC, Dbt.dq_only, _drift("KS"), f"reference {_BOUNDS}"),
    CheckKind.drift_chi2: _facts(
        Family.statistic, _STATISTIC, Dbt.dq_only, _drift("chi2 p-value"), f"reference {_BOUNDS}"
    ),
    CheckKind.drift_linf: _facts(Family.statistic, _STATISTIC, Dbt.dq_only, _drift("L-inf"), f"reference {_BOUNDS}"),
    CheckKind.anomaly: _facts(
        Family.history,
        _HISTORY,
        Dbt.dq_only,
        lambda a, c: anomaly.anomaly_words(a),
        "metric q method threshold window min_history baseline",
        "metric threshold window min_history",
    ),
    CheckKind.change_from_last: _facts(
        Family.history,
        _HISTORY,
        Dbt.dq_only,
        lambda a, c: anomaly.change_words(a),
        "metric q max_pct baseline",
        "metric max_pct",
    ),
}

# Why a check failed, in words, by kind: when its failing rows were counted ...
_ROWS_REASONS: dict[CheckKind, Reason] = {
    CheckKind.not_null: lambda f: f"{f.rows} with NULL" + (" or NaN" if f.args.get("nan_columns") else ""),
    CheckKind.unique: lambda f: f"{f.rows} share a duplicated key ({', '.join(f.columns)})",
    CheckKind.accepted_values: lambda f: f"{f.rows} with a value not {f.expected}",
    CheckKind.pattern: lambda f: f"{f.rows} not matching /{f.args['regex']}/",
    CheckKind.references: lambda f: f"{f.rows} with no match in {f.args.get('dataset')}.{f.args['ref_column']}",
    CheckKind.custom_sql: lambda f: f"the query returned {f.rows}",
    CheckKind.expression: lambda f: f"{f.rows} where {expression_text(f.args['expr'])} is false",
    CheckKind.length: lambda f: f"{f.rows} where length({f.columns[0]}) is not {f.expected}",
    CheckKind.disjoint_keys: lambda f: f"{f.rows} share a ({', '.join(f.columns)}) with {f.args.get('dataset')}",
    CheckKind.feature_before_label: lambda f: f"{f.rows} where {f.columns[0]} is after {f.columns[1]}",
    CheckKind.reconcile_keys: _unmatched_reason,
}
# ... and from what it observed (every other kind: "observed X, expected Y")
_REASONS: dict[CheckKind, Reason] = {
    CheckKind.column_exists: lambda f: f"column {f.columns[0]!r} is missing",
    CheckKind.column_type: lambda f: f"column {f.columns[0]!r} is {f.observed}, the contract says {f.args['type']}",
    CheckKind.no_extra_columns: lambda f: (
        "undeclared columns: " + (", ".join(f.observed) if isinstance(f.observed, list | tuple) else str(f.observed))
    ),
    CheckKind.freshness: lambda f: f"the newest value is {f.observed} h old, expected {f.expected}",
    CheckKind.reconcile_row_count: _reconcile_reason,
    CheckKind.reconcile_sum: _reconcile_reason,
    CheckKind.reconcile_mean: _reconcile_reason,
    CheckKind.anomaly: lambda f: anomaly.anomaly_reason(f.args, f.observed),
    CheckKind.change_from_last: lambda f: anomaly.change_reason(f.args, f.observed),
}
KINDS = {
    kind: replace(
        facts,
        rows_reason=_ROWS_REASONS.get(kind, facts.rows_reason),
        reason=_REASONS.get(kind, facts.reason),
    )
    for kind, facts in KINDS.items()
}


# Rules `where:` may narrow (dq.contract.scope): every row rule a contract key states and every
# aggregate over the relation's rows; a tolerance loosens the row rules whose failing rows are rows
# of the relation (a custom query's rows need not be: it has no tolerance). Neither reaches the
# training statistics, the schema or freshness: a contract key there is unknown, exit 3.
TOLERATED_KINDS = frozenset(
    {
        CheckKind.not_null,
        CheckKind.between,
        CheckKind.accepted_values,
        CheckKind.pattern,
        CheckKind.length,
        CheckKind.expression,
        CheckKind.unique,
        CheckKind.references,
    }
)
SCOPED_KINDS = TOLERATED_KINDS | {
    CheckKind.row_count,
    CheckKind.null_fraction,
    CheckKind.distinct_count,
    CheckKind.mean,
    CheckKind.stddev,
    CheckKind.quantile,
    # a column's history checks judge its metric over the same rows as its aggregates do
    CheckKind.anomaly,
    CheckKind.change_from_last,
}
KINDS = {
    kind: replace(
        facts,
        args=facts.args
        | (frozenset({"where"}) if kind in SCOPED_KINDS else frozenset())
        | (frozenset({"mostly", "max_failing_fraction"}) if kind in TOLERATED_KINDS else frozenset()),
    )
    for kind, facts in KINDS.items()
}

# Kinds a rule can ask for per segment (`segments: [country]`, dq.checks.segments). A spec that
# carries `segments` is measured by one grouped query and judged per segment by pandera-batch
# alone (Pandera's Ibis backend and GX leave it there: CheckSpec.needs_exact_sql); `dq dbt
# export` keeps it dq-only (its whole-table twin is exported as before).
SEGMENTABLE = frozenset(
    {
        CheckKind.row_count,
        CheckKind.null_fraction,
        CheckKind.distinct_count,
        CheckKind.mean,
        CheckKind.stddev,
        CheckKind.quantile,
        CheckKind.label_class_fraction,
    }
)
SEGMENT_ARGS = frozenset({"segments", "max_segments"})
KINDS = {k: replace(f, args=f.args | SEGMENT_ARGS) if k in SEGMENTABLE else f for k, f in KINDS.items()}


def of_family(*families: Family) -> frozenset[CheckKind]:
    return frozenset(kind for kind, facts in KINDS.items() if facts.family in families)


def run_by(engine: str) -> frozenset[CheckKind]:
    return frozenset(kind for kind, facts in KINDS.items() if engine in facts.engines)


def exported_as(*placements: Dbt) -> frozenset[CheckKind]:
    return frozenset(kind for kind, facts in KINDS.items() if facts.dbt in placements)


def unknown_args(kind: CheckKind, args: Mapping[str, Any]) -> list[str]:
    """Arguments a spec of `kind` must not carry (a typo in a compiler or binder), sorted."""
    return sorted(set(args) - KINDS[kind].args - BOUND_ARGS)


def missing_args(kind: CheckKind, args: Mapping[str, Any]) -> list[str]:
    return sorted(KINDS[kind].required - set(args))
