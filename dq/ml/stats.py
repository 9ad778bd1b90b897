"""The statistics behind the label, leakage and drift rules, measured inside DuckDB.

`measure(spec, table)` returns the numbers a training-data check compares to its bounds and
what the report shows. Engines judge the numbers; this module only measures. Each statistic is
a SQL aggregate (a GROUP BY over the label, `corr()`, binned counts), never a column in pandas.

Leakage, precisely:
* numeric features (every numeric or BOOLEAN column except the label and the primary key):
  |corr(feature::DOUBLE, label::DOUBLE)|, Pearson, by DuckDB's `corr`. A constant feature has
  no correlation (NULL) and is skipped. Needs a BOOLEAN or numeric label.
* every feature (every column except the label and the primary key), of any type, by its values:
  Goodman and Kruskal's lambda, the share of label-prediction errors that knowing the feature
  value removes: lambda = (sum over values v of max_y n(v, y) - max_y n(y)) / (n - max_y n(y)),
  over the rows whose feature value (NULL counts as a value) occurs at least
  `min_category_rows` times. lambda = 1: each such value maps to a single label. Values rarer
  than that are left out, so an ID-like column does not "determine" the label by having one row
  per value; if no value is that frequent, or the label has one class, lambda is 0.
The check fails when the largest value over the features exceeds the contract's bound.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dq.checks.compile import class_name
from dq.checks.spec import CheckKind, CheckSpec
from dq.checks.sql import quote_ident
from dq.data.source import Table
from dq.errors import DqError
from dq.ml import drift
from dq.ml.profile import column_kind, load_profile, reference_column


@dataclass(frozen=True)
class Measured:
    """`values` must all lie within the spec's [min, max]; `observed` is what the report shows.

    A `None` among the values means "could not be measured" (an empty table, say): it fails.
    """

    values: tuple[float | None, ...]
    observed: Any


def measure(spec: CheckSpec, table: Table, cache: dict[Any, Any] | None = None) -> Measured:
    """The numbers `spec` is judged on. Pass the same `cache` for every spec of one run: the drift
    rules on one column then share a single pass over it."""
    with closing(table.connection.cursor()) as cursor:
        match spec.kind:
            case CheckKind.label_class_fraction:
                return class_fractions(cursor, table, spec)
            case CheckKind.correlation_with_label:
                return strongest(correlations(cursor, table, spec), spec.args.get("max"))
            case CheckKind.categorical_determines_label:
                return strongest(lambdas(cursor, table, spec), spec.args.get("max"))
            case CheckKind.drift_psi | CheckKind.drift_ks | CheckKind.drift_chi2 | CheckKind.drift_linf:
                return _drift(cursor, table, spec, {} if cache is None else cache)
    raise ValueError(f"{spec.kind} is not a training-data statistic")


def class_fractions(cursor: duckdb.DuckDBPyConnection, table: Table, spec: CheckSpec) -> Measured:
    """Share of every class among the rows that have a label; declared classes absent count 0."""
    labelled, shown = label_classes(table, spec)
    rows = cursor.execute(f"SELECT {shown}, count(*) FROM {table.relation} WHERE {labelled} GROUP BY 1").fetchall()
    counts = {str(value): int(n) for value, n in rows}
    return class_shares(table, spec, counts, set(counts))


def label_classes(table: Table, spec: CheckSpec) -> tuple[str, str]:
    """(the predicate "this row has a label", the label's class as counted) in SQL."""
    label = _label(spec)
    labelled, shown = f"{label} IS NOT NULL", f"{label}::VARCHAR"
    label_type = table.columns.get(spec.columns[0], "").upper()
    if label_type in ("FLOAT", "DOUBLE"):
        labelled += f" AND NOT isnan({label})"  # a NaN label is no class: the row is unlabelled
        shown = f"(CASE WHEN {label} = 0 THEN abs({label}) ELSE {label} END)::VARCHAR"  # -0.0 is 0.0
    # classes are counted byte-wise: a COLLATE NOCASE label must not merge 'yes' and 'YES'
    return labelled, f'({shown}) COLLATE "binary"'


def class_shares(table: Table, spec: CheckSpec, counts: dict[str, int], seen: set[str]) -> Measured:
    """The shares `spec` is judged on, from class counts (of the table, or of one segment of it:
    `seen` then holds the classes seen in any segment)."""
    counts = dict(counts)
    # class names as the label's own type prints them (dq.data.bind): `1` on a DOUBLE label is '1.0'
    expected = list(spec.args.get("class_names") or (class_name(v) for v in spec.args.get("classes", ())))
    if table.columns.get(spec.columns[0], "").upper() == "BOOLEAN":
        expected += ["false", "true"]  # a binary label missing one class is 0% of it, not "fine"
    only = spec.args.get("only")
    if only is not None and str(only) not in seen and str(only) not in spec.args.get("declared_names", ()):
        # a named class that never occurs, and that the label's accepted_values do not declare, is
        # more often a typo (`Yes` for 'yes') than a real 0%: the check fails and lists the classes
        # (declare the label's accepted_values to let a class be absent at 0%)
        seen_rows = max(sum(counts.values()), 1)
        return Measured((None,), {name: round(n / seen_rows, 6) for name, n in sorted(counts.items())})
    for name in expected:
        counts.setdefault(name, 0)
    total = sum(counts.values())
    if total == 0:
        return Measured((None,), None)
    shares = {name: round(n / total, 6) for name, n in sorted(counts.items())}
    if only is not None:
        return Measured((counts[str(only)] / total,), shares)
    return Measured(tuple(n / total for n in counts.values()), shares)


def correlations(cursor: duckdb.DuckDBPyConnection, table: Table, spec: CheckSpec) -> dict[str, float]:
    """|Pearson correlation| of every numeric feature with the label, one aggregate query."""
    label_type = table.columns[spec.columns[0]]
    if column_kind(label_type) != "numeric" and label_type.upper() != "BOOLEAN":
        return {}  # no correlation with a text label; every feature is read by lambda (`lambdas`) instead
    label = _label(spec)
    scored = _correlation_inputs(table, spec)
    if not scored:
        return {}
    # NaN and +-inf rows are left out like NULLs: one NaN would make corr() NaN, and a feature
    # whose correlation is NaN would be skipped however strongly the rest of it leaks the label
    parts = ", ".join(
        f"corr({expr}, {label}::DOUBLE) FILTER (WHERE isfinite({expr}) AND isfinite({label}::DOUBLE))"
        for _, expr in scored
    )
    row = cursor.execute(f"SELECT {parts} FROM {table.relation}").fetchall()[0]
    return {name: abs(float(r)) for (name, _), r in zip(scored, row, strict=True) if r is not None and r == r}


TEMPORAL_FEATURES = ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE")


def _correlation_inputs(table: Table, spec: CheckSpec) -> list[tuple[str, str]]:
    """(feature name, DOUBLE expression) pairs whose correlation with the label is a leak.

    Numeric and BOOLEAN features by value; dates and timestamps by their epoch (a label written
    when the row was last updated leaks through `updated_at`); and every feature by whether it is
    missing (`col (missing)`): a field filled in only for churned customers leaks the label even
    when its values do not. On FLOAT/DOUBLE columns NaN counts as missing, as everywhere in dq.
    """
    inputs: list[tuple[str, str]] = []
    for feature in _features(table, spec, lambda t: True):
        column_type, col = table.columns[feature].upper(), quote_ident(feature)
        if column_kind(column_type) == "numeric" or column_type == "BOOLEAN":
            inputs.append((feature, f"{col}::DOUBLE"))
        elif column_type in TEMPORAL_FEATURES:
            inputs.append((feature, f"epoch({col})::DOUBLE"))
        missing = f"{col} IS NULL OR isnan({col})" if column_type in ("FLOAT", "DOUBLE") else f"{col} IS NULL"
        inputs.append((f"{feature} (missing)", f"({missing})::DOUBLE"))
    return inputs


def lambdas(cursor: duckdb.DuckDBPyConnection, table: Table, spec: CheckSpec) -> dict[str, float]:
    """Goodman-Kruskal lambda of the label given each feature, of any type, by its values (module doc)."""
    # every feature, by its values' text: a correlation misses what it cannot see (f = i % 3 with
    # y = (i % 3 = 1) has corr 0; 1e200 * y overflows; 10**17 + y is constant as a double), but a
    # feature whose frequent values each map to one label determines it, in any type
    features = _features(table, spec, lambda column_type: True)
    minimum = int(spec.args.get("min_category_rows", 30))
    label_type = table.columns[spec.columns[0]]
    return {
        f: goodman_kruskal_lambda(cursor, table.relation, f, spec.columns[0], minimum, label_type) for f in features
    }


def goodman_kruskal_lambda(
    cursor: duckdb.DuckDBPyConnection, relation: str, feature: str, label: str, min_rows: int, label_type: str = ""
) -> float:
    """Values and labels are grouped byte-wise (a COLLATE NOCASE feature's 'a' and 'A' are two
    values) and every feature type counts by its text (TIME, BLOB, LIST, STRUCT too)."""
    f, y = quote_ident(feature), quote_ident(label)
    hits, base, total = cursor.execute(
        f'WITH cell AS (SELECT ({f}::VARCHAR) COLLATE "binary" AS v, {_binary(y, label_type)} AS y, '
        f"count(*) AS n FROM {relation} "
        f"WHERE {y} IS NOT NULL GROUP BY ALL), "
        f"kept AS (SELECT * FROM (SELECT *, sum(n) OVER (PARTITION BY v) AS nv FROM cell) WHERE nv >= {min_rows}), "
        "per_value AS (SELECT max(n) AS best FROM kept GROUP BY v), "
        "per_label AS (SELECT sum(n) AS n FROM kept GROUP BY y) "
        "SELECT (SELECT sum(best) FROM per_value), (SELECT max(n) FROM per_label), (SELECT sum(n) FROM per_label)"
    ).fetchall()[0]
    return lambda_of(hits, base, total)


def lambda_of(hits: Any, base: Any, total: Any) -> float:
    """Lambda from its three counts (module doc): sum of per-value best label counts, the best
    label's count, and all kept rows; 0 when nothing was kept or the label has one class."""
    if total is None or base is None or hits is None or total == base:
        return 0.0
    return (float(hits) - float(base)) / (float(total) - float(base))


def _drift(cursor: duckdb.DuckDBPyConnection, table: Table, spec: CheckSpec, cache: dict[Any, Any]) -> Measured:
    path = Path(str(spec.args["reference"]))
    column = spec.columns[0]
    key = ("drift", table.relation, column, str(path))
    if key not in cache:
        cache[key] = _drift_statistics(cursor, table, path, column)
    return drift_measured(spec, cache[key])


def drift_measured(spec: CheckSpec, found: dict[str, Any]) -> Measured:
    """The number one drift rule reads from its column's statistics (`drift.column_statistics`
    plus the column's `kind`), however they were counted."""
    path, column = Path(str(spec.args["reference"])), spec.columns[0]
    if spec.kind is CheckKind.drift_ks and found["kind"] != "numeric":
        raise DqError(f"KS needs a numeric column; {path} profiles {column!r} as {found['kind']}")
    value = {
        CheckKind.drift_psi: found["psi"],
        CheckKind.drift_ks: found["ks"],
        CheckKind.drift_chi2: drift.p_value(found["chi2"], found["df"]),
        CheckKind.drift_linf: found["linf"],
    }[spec.kind]
    return Measured((value,), None if value is None else round(value, 6))


def _drift_statistics(cursor: duckdb.DuckDBPyConnection, table: Table, path: Path, column: str) -> dict[str, Any]:
    reference = drift_reference(table, path, column)
    return {**drift.column_statistics(cursor, table.relation, column, reference), "kind": reference["kind"]}


def drift_reference(table: Table, path: Path, column: str) -> dict[str, Any]:
    """The profile's entry for `column`, checked to be of this relation and of the column's kind."""
    reference = reference_column(load_profile(path), path, column, table)  # of this relation, this type
    now = column_kind(table.columns[column])
    if now != reference["kind"]:
        raise DqError(
            f"drift: {column} is {table.columns[column]} ({now}) but {path} profiled it as "
            f"{reference['type']} ({reference['kind']}). Fix: re-run `dq profile` after a deliberate type change"
        )
    return reference


def strongest(scores: dict[str, float], limit: float | None) -> Measured:
    """The verdict reads the largest score; the report names every feature over the limit
    (strongest first), or the strongest one if none is."""
    if not scores:
        return Measured((0.0,), {})
    ranked = sorted(scores, key=lambda f: -scores[f])
    named = [f for f in ranked if limit is not None and scores[f] > limit] or ranked[:1]
    return Measured((scores[ranked[0]],), {f: round(scores[f], 6) for f in named})


def _binary(column: str, column_type: str) -> str:
    """A label as it is grouped: byte-wise if it is text, -0.0 as 0.0 if it is floating."""
    upper = column_type.upper()
    if upper == "VARCHAR" or upper.startswith("ENUM"):
        return f'({column}::VARCHAR) COLLATE "binary"'
    if upper in ("FLOAT", "DOUBLE"):
        return f"(CASE WHEN {column} = 0 THEN abs({column}) ELSE {column} END)"
    return column


def leakage_features(table: Table, spec: CheckSpec) -> list[str]:
    """Every column a leakage rule reads as a feature: all but the label and the excluded."""
    return _features(table, spec, lambda column_type: True)


def _features(table: Table, spec: CheckSpec, wanted: Any) -> list[str]:
    skip = {spec.columns[0], *spec.args.get("exclude", ())}
    return [c for c, t in table.columns.items() if c not in skip and wanted(t)]


def _label(spec: CheckSpec) -> str:
    return quote_ident(spec.columns[0])
