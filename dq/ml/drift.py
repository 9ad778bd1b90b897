"""Drift statistics, computed inside DuckDB from binned counts.

The current data is binned in DuckDB the way the reference profile was (numeric: the profile's
quantile edges; categorical: the profile's top values), and each statistic is one SQL aggregate
over the small table of (bucket, reference count, current count). No column is pulled into
Python; only the chi-square p-value is turned from its statistic by scipy.

Buckets:
* numeric: the profile's bins (see dq.ml.profile); NULLs are not binned.
* categorical: every reference top value is a bucket. A current value outside the top values
  is its own bucket with reference count 0 if the reference had no `other` rows (an unseen
  category), else it falls into the `other` bucket (with more than TOP_K reference categories,
  dq cannot tell a new value from a rare old one). A reference value missing now counts 0.

Statistics (p = reference share, q = current share of a bucket):
* PSI  = sum (q - p) * ln(q / p), with p and q floored at EPSILON = 1e-4 so that an empty bucket
  on either side gives a large finite term instead of infinity.
* KS   = max over bucket boundaries of |cumulative p - cumulative q| (numeric only): the
  two-sample Kolmogorov-Smirnov distance evaluated at the reference's quantile edges, a lower
  bound on the exact KS distance of the raw values.
* chi2 = the chi-square test of homogeneity on the 2 x K table of reference and current counts
  (buckets empty on both sides dropped, K-1 degrees of freedom); the check reads its p-value.
  Being two-sample, it accounts for the reference's own sampling noise.
* L-inf = max |q - p| over buckets.
An empty current column (or reference) has no shares: every statistic is NULL and the check
fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from dq.checks.sql import literal, quote_ident
from dq.ml.profile import bin_expression

EPSILON = 1e-4


def bucket_counts_sql(relation: str, column: str, reference: Mapping[str, Any]) -> str:
    """SQL for (is_other, bucket, r, c): reference and current counts per bucket."""
    return joined_buckets_sql(reference, current_counts_sql(relation, column, reference))


def current_counts_sql(relation: str, column: str, reference: Mapping[str, Any]) -> str:
    """SQL for (is_other, bucket, c): the current data's count per bucket, binned as the reference was."""
    if reference["kind"] == "numeric":
        edges = [float(e) for e in reference["edges"]]
        return (
            f"SELECT FALSE AS is_other, ({bin_expression(column, edges)})::VARCHAR AS bucket, count(*) AS c "
            f"FROM {relation} WHERE {quote_ident(column)} IS NOT NULL GROUP BY ALL"
        )
    top = {str(k): int(v) for k, v in reference["top"].items()}
    value = f"{quote_ident(column)}::VARCHAR"
    known = ", ".join(literal(v) for v in top) or "NULL"
    outside = "TRUE" if int(reference["other"]) > 0 else "FALSE"
    return (
        f"SELECT is_other, CASE WHEN is_other THEN NULL ELSE v END AS bucket, count(*) AS c FROM ("
        f"SELECT {value} AS v, ({value} NOT IN ({known}) AND {outside}) AS is_other "
        f"FROM {relation} WHERE {quote_ident(column)} IS NOT NULL) GROUP BY ALL"
    )


def joined_buckets_sql(reference: Mapping[str, Any], current: str) -> str:
    """SQL for (is_other, bucket, r, c): the reference's counts joined to `current`'s (SQL for
    (is_other, bucket, c), measured by DuckDB or brought from another engine)."""
    if reference["kind"] == "numeric":
        ref_rows = [f"(FALSE, {i}::VARCHAR, {int(n)})" for i, n in enumerate(reference["counts"])]
    else:
        ref_rows = [f"(FALSE, {literal(str(v))}, {int(n)})" for v, n in reference["top"].items()]
        ref_rows.append(f"(TRUE, NULL, {int(reference['other'])})")
    return (
        f"WITH ref(is_other, bucket, r) AS (VALUES {', '.join(ref_rows)}), cur AS ({current}) "
        "SELECT coalesce(ref.is_other, cur.is_other) AS is_other, coalesce(ref.bucket, cur.bucket) AS bucket, "
        "coalesce(ref.r, 0)::DOUBLE AS r, coalesce(cur.c, 0)::DOUBLE AS c "
        "FROM ref FULL OUTER JOIN cur ON ref.is_other = cur.is_other AND ref.bucket IS NOT DISTINCT FROM cur.bucket"
    )


def column_statistics(
    cursor: duckdb.DuckDBPyConnection, relation: str, column: str, reference: Mapping[str, Any]
) -> dict[str, Any]:
    """PSI, KS (numeric only, else None), L-inf, the chi-square statistic and its degrees of
    freedom, from ONE pass over the column: every drift rule on a column shares it."""
    return bucket_statistics(cursor, bucket_counts_sql(relation, column, reference), reference["kind"])


def bucket_statistics(cursor: duckdb.DuckDBPyConnection, buckets: str, kind: str) -> dict[str, Any]:
    """The statistics of `column_statistics` from `buckets` (SQL for (is_other, bucket, r, c)),
    in DuckDB: the one place their arithmetic is written, whichever engine counted the buckets."""
    eps = literal(EPSILON)
    order = "TRY_CAST(bucket AS INTEGER)" if kind == "numeric" else "0"
    row = cursor.execute(
        f"WITH b AS ({buckets}), "
        f"s AS (SELECT r, c, {order} AS ord, sum(r) OVER () AS nr, sum(c) OVER () AS nc, "
        "r / nullif(sum(r) OVER (), 0) AS p, c / nullif(sum(c) OVER (), 0) AS q FROM b), "
        "w AS (SELECT *, sum(p) OVER o AS cp, sum(q) OVER o AS cq FROM s WINDOW o AS (ORDER BY ord)) "
        "SELECT "
        f"CASE WHEN count(p) = 0 OR count(q) = 0 THEN NULL ELSE sum((greatest(q, {eps}) - greatest(p, {eps})) "
        f"* ln(greatest(q, {eps}) / greatest(p, {eps}))) END, "
        "max(abs(cp - cq)), max(abs(q - p)), "
        "CASE WHEN min(nr) = 0 OR min(nc) = 0 THEN NULL ELSE sum("
        "(r - nr * (r + c) / (nr + nc)) ^ 2 / (nr * (r + c) / (nr + nc)) "
        "+ (c - nc * (r + c) / (nr + nc)) ^ 2 / (nc * (r + c) / (nr + nc))) FILTER (WHERE r + c > 0) END, "
        "count(*) FILTER (WHERE r + c > 0) - 1 "
        "FROM w"
    ).fetchall()[0]
    df = row[4]
    psi_value, ks_value, linf_value, chi2_value = (None if v is None else float(v) for v in row[:4])
    return {
        "psi": psi_value,
        "ks": ks_value if kind == "numeric" else None,
        "linf": linf_value,
        "chi2": chi2_value,
        "df": max(int(df or 0), 0),
    }


def psi(cursor: duckdb.DuckDBPyConnection, relation: str, column: str, reference: Mapping[str, Any]) -> float | None:
    return column_statistics(cursor, relation, column, reference)["psi"]


def ks(cursor: duckdb.DuckDBPyConnection, relation: str, column: str, reference: Mapping[str, Any]) -> float | None:
    _numeric_only(column, reference)
    return column_statistics(cursor, relation, column, reference)["ks"]


def linf(cursor: duckdb.DuckDBPyConnection, relation: str, column: str, reference: Mapping[str, Any]) -> float | None:
    return column_statistics(cursor, relation, column, reference)["linf"]


def chi2_statistic(
    cursor: duckdb.DuckDBPyConnection, relation: str, column: str, reference: Mapping[str, Any]
) -> tuple[float | None, int]:
    """(chi-square statistic of homogeneity, degrees of freedom); statistic NULL if a side is empty."""
    found = column_statistics(cursor, relation, column, reference)
    return found["chi2"], found["df"]


def chi2_p_value(
    cursor: duckdb.DuckDBPyConnection, relation: str, column: str, reference: Mapping[str, Any]
) -> float | None:
    return p_value(*chi2_statistic(cursor, relation, column, reference))


def p_value(statistic: float | None, df: int) -> float | None:
    """Chi-square survival function; 1.0 with a single bucket (nothing can differ)."""
    if statistic is None:
        return None
    if df == 0:
        return 1.0
    # scipy.special, not scipy.stats (1.6 s to import); only a scalar: the counts came from SQL
    from scipy.special import chdtrc

    return float(chdtrc(df, statistic))


def _numeric_only(column: str, reference: Mapping[str, Any]) -> None:
    if reference["kind"] != "numeric":
        raise ValueError(f"KS needs a numeric column; the reference profiles {column!r} as {reference['kind']}")
