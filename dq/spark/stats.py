"""The label, leakage and drift statistics on Spark: Spark SQL counts, dq.ml.stats' arithmetic.

Spark measures what is an aggregate of the data, in one job per statistic (one for all of a
rule's features): class counts, `corr()` per feature, the (feature, value, label) contingency
counts reduced to lambda's three integers per feature, and per-bucket counts against the
reference profile's edges (the same `CASE WHEN x::DOUBLE <= edge` bins, edges as exact double
literals). The arithmetic on those numbers is dq.ml.stats' and dq.ml.drift's own: the shares, the
lambda, and the drift statistics, which run in DuckDB over the small table of bucket counts, so
PSI, KS, chi-square and L-inf are the very SQL DuckDB runs for its own backend.

What Spark cannot count with DuckDB's meaning is refused (`refusal`): a label whose text differs
between the engines (FLOAT/DOUBLE/DECIMAL: '1e+20' vs '1.0E20'), a drift column of DECIMAL type
(DuckDB's decimal-to-double cast is not Spark's), a lambda feature of a nested type (its text is
ambiguous in both engines, differently).
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

from dq.checks.spec import CheckKind, CheckSpec
from dq.contract.types import column_family
from dq.ml import drift
from dq.ml.profile import column_kind
from dq.ml.stats import (
    TEMPORAL_FEATURES,
    Measured,
    class_shares,
    drift_measured,
    drift_reference,
    lambda_of,
    leakage_features,
    strongest,
)
from dq.spark.relation import SparkTable
from dq.spark.sql import Params, ident

_LABEL_FAMILIES = ("integer",)
_PLAIN_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP"}
    | {"TIMESTAMP WITH TIME ZONE", "BLOB"}
)
_DRIFTS = (CheckKind.drift_psi, CheckKind.drift_ks, CheckKind.drift_chi2, CheckKind.drift_linf)


def refusal(spec: CheckSpec, table: SparkTable) -> str | None:
    """Why Spark cannot measure this statistic as DuckDB does, or None."""
    if spec.kind is CheckKind.label_class_fraction:
        label_type = table.columns.get(spec.columns[0], "").upper()
        if label_type not in ("BOOLEAN", "VARCHAR") and column_family(label_type) not in _LABEL_FAMILIES:
            return f"label {spec.columns[0]} is {label_type}: its classes print differently on Spark and DuckDB"
    elif spec.kind is CheckKind.categorical_determines_label:
        nested = [f for f in leakage_features(table.shadow, spec) if not _plain(table.columns[f])]
        if nested:
            return (
                f"feature {nested[0]} is {table.columns[nested[0]]}: its values' text differs between Spark and "
                "DuckDB; list it under the rule's `exclude:` or validate with --backend duckdb"
            )
    elif spec.kind in _DRIFTS:
        column_type = table.columns.get(spec.columns[0], "")
        if column_type.upper().startswith("DECIMAL"):
            return f"drift column {spec.columns[0]} is {column_type}: DuckDB bins it by its own decimal-to-double cast"
    return None


def _plain(column_type: str) -> bool:
    return column_type.upper() in _PLAIN_TYPES or column_type.upper().startswith("DECIMAL(")


def measure(spec: CheckSpec, table: SparkTable, cache: dict[Any, Any]) -> Measured:
    """The numbers `spec` is judged on, as dq.ml.stats.measure gives them on DuckDB."""
    match spec.kind:
        case CheckKind.label_class_fraction:
            return class_fractions(table, spec)
        case CheckKind.correlation_with_label:
            return strongest(correlations(table, spec), spec.args.get("max"))
        case CheckKind.categorical_determines_label:
            return strongest(lambdas(table, spec), spec.args.get("max"))
        case _ if spec.kind in _DRIFTS:
            path, column = Path(str(spec.args["reference"])), spec.columns[0]
            key = ("drift", table.view, column, str(path))
            if key not in cache:
                cache[key] = drift_statistics(table, path, column)
            return drift_measured(spec, cache[key])
    raise ValueError(f"{spec.kind} is not a training-data statistic")


def class_fractions(table: SparkTable, spec: CheckSpec) -> Measured:
    label = ident(spec.columns[0])
    rows = table.sql(
        f"SELECT CAST({label} AS STRING), count(*) FROM {ident(table.view)} WHERE {label} IS NOT NULL GROUP BY 1"
    ).collect()
    counts = {str(value): int(n) for value, n in rows}
    return class_shares(table.shadow, spec, counts, set(counts))


def _finite(expr: str) -> str:
    return f"(NOT isnan({expr}) AND abs({expr}) != double('inf'))"


def correlations(table: SparkTable, spec: CheckSpec) -> dict[str, float]:
    """|corr| per feature, one job; the features and their readings are dq.ml.stats'."""
    label_type = table.columns[spec.columns[0]]
    if column_kind(label_type) != "numeric" and label_type.upper() != "BOOLEAN":
        return {}
    label = f"CAST({ident(spec.columns[0])} AS DOUBLE)"
    scored: list[tuple[str, str]] = []
    for feature in leakage_features(table.shadow, spec):
        column_type, col = table.columns[feature].upper(), ident(feature)
        if column_kind(column_type) == "numeric" or column_type == "BOOLEAN":
            scored.append((feature, f"CAST({col} AS DOUBLE)"))
        elif column_type in TEMPORAL_FEATURES:
            scored.append((feature, _epoch(col, column_type)))
        missing = f"{col} IS NULL OR isnan({col})" if column_type in ("FLOAT", "DOUBLE") else f"{col} IS NULL"
        scored.append((f"{feature} (missing)", f"CAST(({missing}) AS DOUBLE)"))
    if not scored:
        return {}
    # DuckDB's corr(): covar_pop / (stddev_pop x * stddev_pop y); Spark's own corr() raises on a
    # constant feature in ANSI mode (a division by zero), so its three moments are read instead
    # a row counts where both are finite: `IF(both finite, x, NULL)` (aggregates skip NULLs), not
    # `FILTER (WHERE ...)`: 1.9 s instead of 17 s for 12 features at 1M rows on 2 cores
    kept = [
        (f"IF({_finite(e)} AND {_finite(label)}, {e}, NULL)", f"IF({_finite(e)}, {label}, NULL)") for _, e in scored
    ]
    parts = ", ".join(f"covar_pop({x}, {y}), stddev_pop({x})" for x, y in kept)
    parts += ", " + ", ".join(f"stddev_pop(IF({_finite(label)}, {y}, NULL))" for _, y in kept)
    row = table.sql(f"SELECT {parts} FROM {ident(table.view)}").collect()[0]
    found: dict[str, float] = {}
    for n, (name, _) in enumerate(scored):
        covariance, sx, sy = row[2 * n], row[2 * n + 1], row[2 * len(scored) + n]
        if covariance is None or not sx or not sy:
            continue  # no rows, or a constant: no correlation (DuckDB's NULL / NaN)
        r = float(covariance) / (float(sx) * float(sy))
        if r == r:
            found[name] = abs(r)
    return found


def _epoch(col: str, column_type: str) -> str:
    """DuckDB's epoch(): seconds since 1970 as a DOUBLE, microseconds / 1e6."""
    if column_type == "DATE":
        return f"CAST(unix_date({col}) AS DOUBLE) * 86400D"
    if column_type == "TIMESTAMP":  # Spark's timestamp_ntz: a wall-clock time, no zone
        micros = f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', {col})"
    else:
        micros = f"unix_micros({col})"
    return f"CAST({micros} AS DOUBLE) / 1000000D"


def lambdas(table: SparkTable, spec: CheckSpec) -> dict[str, float]:
    """Goodman-Kruskal lambda of every feature, from one Spark job: the features stacked as
    (feature, value text) pairs, each reduced to lambda's three counts."""
    features = leakage_features(table.shadow, spec)
    if not features:
        return {}
    minimum = int(spec.args.get("min_category_rows", 30))
    label, label_type = ident(spec.columns[0]), table.columns[spec.columns[0]].upper()
    y = f"(CASE WHEN {label} = 0 THEN abs({label}) ELSE {label} END)" if label_type in ("FLOAT", "DOUBLE") else label
    pairs = ", ".join(f"{i}, {_text(ident(f), table.columns[f])}" for i, f in enumerate(features))
    rows = table.sql(
        f"WITH long AS (SELECT {y} AS y, stack({len(features)}, {pairs}) AS (fi, v) "
        f"FROM {ident(table.view)} WHERE {label} IS NOT NULL), "
        "cell AS (SELECT fi, v, y, count(*) AS n FROM long GROUP BY fi, v, y), "
        f"kept AS (SELECT * FROM (SELECT *, sum(n) OVER (PARTITION BY fi, v) AS nv FROM cell) WHERE nv >= {minimum}), "
        "per_value AS (SELECT fi, max(n) AS best FROM kept GROUP BY fi, v), "
        "per_label AS (SELECT fi, sum(n) AS n FROM kept GROUP BY fi, y), "
        "hits AS (SELECT fi, sum(best) AS hits FROM per_value GROUP BY fi), "
        "base AS (SELECT fi, max(n) AS base, sum(n) AS total FROM per_label GROUP BY fi) "
        "SELECT hits.fi, hits, base, total FROM hits JOIN base ON hits.fi = base.fi"
    ).collect()
    found = {int(fi): lambda_of(hits, base, total) for fi, hits, base, total in rows}
    return {f: found.get(i, 0.0) for i, f in enumerate(features)}


def _text(col: str, column_type: str) -> str:
    """A value's text, one text per value as DuckDB's ::VARCHAR gives (bytes as hex: Spark would
    decode them as UTF-8, merging invalid sequences)."""
    return f"hex({col})" if column_type.upper() == "BLOB" else f"CAST({col} AS STRING)"


def drift_statistics(table: SparkTable, path: Path, column: str) -> dict[str, Any]:
    """Per-bucket counts by Spark (one job), the statistics by dq.ml.drift in DuckDB."""
    reference = drift_reference(table.shadow, path, column)
    col, params = ident(column), Params()
    if reference["kind"] == "numeric":
        branches = " ".join(
            f"WHEN CAST({col} AS DOUBLE) <= {float(e)!r}D THEN {i}" for i, e in enumerate(reference["edges"])
        )
        query = (
            f"SELECT FALSE, CAST(CASE {branches} ELSE {len(reference['edges'])} END AS STRING) AS bucket, count(*) "
            f"FROM {ident(table.view)} WHERE {col} IS NOT NULL GROUP BY 2"
        )
    else:
        known = ", ".join(params.bind(str(v)) for v in reference["top"]) or "NULL"
        outside = "TRUE" if int(reference["other"]) > 0 else "FALSE"
        query = (
            "SELECT is_other, CASE WHEN is_other THEN NULL ELSE v END AS bucket, count(*) FROM ("
            f"SELECT CAST({col} AS STRING) AS v, (CAST({col} AS STRING) NOT IN ({known}) AND {outside}) AS is_other "
            f"FROM {ident(table.view)} WHERE {col} IS NOT NULL) GROUP BY 1, 2"
        )
    counts = [(other, bucket, int(n)) for other, bucket, n in table.sql(query, params.values).collect()]
    with closing(table.shadow.connection.cursor()) as cursor:
        cursor.execute("CREATE OR REPLACE TEMP TABLE __dq_drift_current (is_other BOOLEAN, bucket VARCHAR, c BIGINT)")
        if counts:
            cursor.executemany("INSERT INTO __dq_drift_current VALUES (?, ?, ?)", counts)
        buckets = drift.joined_buckets_sql(reference, "SELECT * FROM __dq_drift_current")
        found = drift.bucket_statistics(cursor, buckets, reference["kind"])
    return {**found, "kind": reference["kind"]}
