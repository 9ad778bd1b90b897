"""Each statistic dq computes inside DuckDB, against an independent numpy/scipy computation on the
same fixed data: drift (PSI, KS, chi-square, L-inf) including empty bins and unseen categories,
the reference profile's bins, label shares, correlation and Goodman-Kruskal lambda."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dq.checks.spec import CheckKind, CheckSpec
from dq.contract.model import Contract
from dq.data.source import Table, resolve_table
from dq.ml import drift, profile
from dq.ml import stats as training_stats
from tests.conftest import MakeDb

CONTRACT = Contract.model_validate({"contract": "t", "version": "1.0.0", "dataset": {"table": "main.ref"}})
RNG = np.random.default_rng(7)
REF_X = np.round(RNG.normal(50, 10, 600), 1)
# shifted, with values beyond both outer edges and a gap: several current bins are empty
CUR_X = np.concatenate([np.round(RNG.normal(60, 5, 300), 1), [-1e6, 1e6, 1e6]])
REF_C = ["DE"] * 50 + ["FR"] * 30 + ["US"] * 20
CUR_C = ["DE"] * 40 + ["FR"] * 20 + ["IT"] * 40  # US gone, IT unseen


def _table(con: duckdb.DuckDBPyConnection, db: Path, name: str) -> Table:
    return resolve_table(con, db, "main", name)


def _load(make_db: MakeDb, **columns: Sequence[Any]) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """One table per keyword (`ref_x=[...]` -> table ref_x with column v), NULLs included."""
    db = make_db("SELECT 1")
    con = duckdb.connect(str(db))
    for name, values in columns.items():
        kind = "DOUBLE" if all(isinstance(v, float | int | None) for v in values) else "VARCHAR"
        con.execute(f"CREATE TABLE {name} (v {kind})")
        con.register("rows", pd.DataFrame({"v": pd.Series(list(values), dtype=object)}))
        con.execute(f"INSERT INTO {name} SELECT v::{kind} FROM rows")  # executemany is slow
    con.close()
    return duckdb.connect(str(db), read_only=True), db


def _reference(con: duckdb.DuckDBPyConnection, db: Path, name: str) -> dict[str, Any]:
    return profile.build_profile(con, _table(con, db, name), CONTRACT)["columns"]["v"]


# -- independent implementations --------------------------------------------------------------


def _numeric_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    # bin i holds edges[i-1] < x <= edges[i]: the index of the first edge >= x
    return np.bincount(np.searchsorted(np.asarray(edges), values, side="left"), minlength=len(edges) + 1)


def _categorical_counts(ref: dict[str, int], current: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    seen = Counter(current)
    buckets = sorted(set(ref) | set(seen))
    return np.array([ref.get(b, 0) for b in buckets], float), np.array([seen.get(b, 0) for b in buckets], float)


def _psi(r: np.ndarray, c: np.ndarray) -> float:
    p, q = np.maximum(r / r.sum(), drift.EPSILON), np.maximum(c / c.sum(), drift.EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def _chi2_p(r: np.ndarray, c: np.ndarray) -> float:
    table = np.vstack([r, c])[:, (r + c) > 0]
    return float(sps.chi2_contingency(table, correction=False).pvalue)


# -- drift --------------------------------------------------------------------------------------


def test_numeric_profile_bins_match_numpy(make_db: MakeDb) -> None:
    con, db = _load(make_db, ref=[*REF_X.tolist(), None, None])
    ref = _reference(con, db, "ref")
    assert ref["kind"] == "numeric" and ref["count"] == 600 and ref["null_fraction"] == pytest.approx(2 / 602)
    assert 10 <= len(ref["edges"]) <= profile.NUMERIC_BINS - 1
    assert set(ref["edges"]) <= set(REF_X.tolist())  # quantile_disc: edges are observed values
    assert ref["counts"] == _numeric_counts(REF_X, ref["edges"]).tolist()


def test_numeric_drift_statistics_match_numpy_and_scipy_with_empty_bins(make_db: MakeDb) -> None:
    con, db = _load(make_db, ref=REF_X.tolist(), cur=[*CUR_X.tolist(), None])
    ref = _reference(con, db, "ref")
    r = np.asarray(ref["counts"], float)
    c = _numeric_counts(CUR_X, ref["edges"]).astype(float)
    assert (c == 0).sum() >= 3, "the fixture must leave current bins empty"
    relation = '"main"."cur"'
    assert drift.psi(con, relation, "v", ref) == pytest.approx(_psi(r, c), rel=1e-9)
    assert drift.linf(con, relation, "v", ref) == pytest.approx(np.abs(c / c.sum() - r / r.sum()).max(), rel=1e-9)
    assert drift.chi2_p_value(con, relation, "v", ref) == pytest.approx(_chi2_p(r, c), rel=1e-6, abs=1e-300)
    binned_ks = np.abs(np.cumsum(r) / r.sum() - np.cumsum(c) / c.sum()).max()
    assert drift.ks(con, relation, "v", ref) == pytest.approx(binned_ks, rel=1e-9)
    # evaluated at the reference's edges only: never more than the exact two-sample KS distance
    assert drift.ks(con, relation, "v", ref) <= sps.ks_2samp(REF_X, CUR_X).statistic + 1e-12


def test_categorical_drift_counts_unseen_and_vanished_categories(make_db: MakeDb) -> None:
    con, db = _load(make_db, ref=REF_C, cur=[*CUR_C, None])
    ref = _reference(con, db, "ref")
    assert ref["top"] == {"DE": 50, "FR": 30, "US": 20} and ref["other"] == 0
    r, c = _categorical_counts(ref["top"], CUR_C)  # buckets DE FR IT US: IT has r=0, US has c=0
    relation = '"main"."cur"'
    assert drift.psi(con, relation, "v", ref) == pytest.approx(_psi(r, c), rel=1e-9)
    assert drift.linf(con, relation, "v", ref) == pytest.approx(0.4)  # IT: 0.4 now vs 0 before
    assert drift.chi2_p_value(con, relation, "v", ref) == pytest.approx(_chi2_p(r, c), rel=1e-6)
    statistic, df = drift.chi2_statistic(con, relation, "v", ref)
    assert df == 3 and statistic == pytest.approx(sps.chi2_contingency(np.vstack([r, c]), correction=False).statistic)
    with pytest.raises(ValueError, match="numeric"):
        drift.ks(con, relation, "v", ref)


def test_categorical_values_outside_top_k_share_the_other_bucket(
    make_db: MakeDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profile, "TOP_K", 2)
    con, db = _load(make_db, ref=REF_C, cur=CUR_C)
    ref = _reference(con, db, "ref")
    assert ref["top"] == {"DE": 50, "FR": 30} and ref["other"] == 20
    r, c = np.array([50, 30, 20.0]), np.array([40, 20, 40.0])  # DE, FR, other (US before, IT now)
    assert drift.psi(con, '"main"."cur"', "v", ref) == pytest.approx(_psi(r, c), rel=1e-9)
    assert drift.chi2_p_value(con, '"main"."cur"', "v", ref) == pytest.approx(_chi2_p(r, c), rel=1e-6)


def test_values_seen_once_are_never_written_to_a_profile(make_db: MakeDb) -> None:
    con, db = _load(make_db, ref=["a@x.org", "b@x.org", "c@x.org", "shared", "shared"])
    ref = _reference(con, db, "ref")
    assert ref["top"] == {"shared": 2} and ref["other"] == 3


@pytest.mark.parametrize(
    ("current", "same"),
    [pytest.param(REF_X.tolist(), True, id="identical data"), pytest.param([], False, id="empty current data")],
)
def test_identical_data_has_no_drift_and_empty_data_has_no_statistic(
    make_db: MakeDb, current: list[float], same: bool
) -> None:
    empty: list[float | None] = [None]
    con, db = _load(make_db, ref=REF_X.tolist(), cur=current or empty)
    ref = _reference(con, db, "ref")
    values = [f(con, '"main"."cur"', "v", ref) for f in (drift.psi, drift.ks, drift.linf, drift.chi2_p_value)]
    expected: list[float | None] = [0.0, 0.0, 0.0, 1.0] if same else [None] * 4
    assert values == expected


def test_fingerprint_ignores_row_order_and_sees_a_changed_value(make_db: MakeDb) -> None:
    db = make_db(
        "CREATE TABLE a AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, 'z')) t(k, v)",
        "CREATE TABLE b AS SELECT * FROM (VALUES (3, 'z'), (1, 'x'), (2, 'y')) t(k, v)",
        "CREATE TABLE c AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, 'Z')) t(k, v)",
    )
    con = duckdb.connect(str(db), read_only=True)
    prints = {n: profile.build_profile(con, _table(con, db, n), CONTRACT)["fingerprint"]["value"] for n in "abc"}
    assert prints["a"] == prints["b"] != prints["c"]
    assert prints["a"].startswith("3:")


# -- label and leakage --------------------------------------------------------------------------

LEAK_ROWS = [
    # (id, label, score, leaky, plan): plan is uninformative, leaky almost determines the label
    (
        i,
        i % 4 == 0,
        float(i % 7) + (i % 4 == 0) * 0.5,
        ("cancel" if i % 4 == 0 else "none") if i % 50 else "odd",
        "abc"[i % 3],
    )
    for i in range(400)
] + [(400 + i, None, 1.0, "none", "a") for i in range(5)]


@pytest.fixture
def leak_table(make_db: MakeDb) -> Table:
    db = make_db("CREATE TABLE t (id BIGINT, y BOOLEAN, score DOUBLE, leaky VARCHAR, plan VARCHAR)")
    with duckdb.connect(str(db)) as con:
        con.register("rows", pd.DataFrame(LEAK_ROWS, columns=["id", "y", "score", "leaky", "plan"], dtype=object))
        con.execute("INSERT INTO t SELECT id::BIGINT, y::BOOLEAN, score::DOUBLE, leaky, plan FROM rows")
    return _table(duckdb.connect(str(db), read_only=True), db, "t")


def _lambda(feature: int, min_rows: int) -> float:
    rows = [r for r in LEAK_ROWS if r[1] is not None]
    by_value = Counter(r[feature] for r in rows)
    kept = [r for r in rows if by_value[r[feature]] >= min_rows]
    if not kept:
        return 0.0
    cells = Counter((r[feature], r[1]) for r in kept)
    hits = sum(max(n for (v, _), n in cells.items() if v == value) for value in {r[feature] for r in kept})
    base = max(Counter(r[1] for r in kept).values())
    return 0.0 if base == len(kept) else (hits - base) / (len(kept) - base)


def _spec(kind: CheckKind, **args: Any) -> CheckSpec:
    from dq.contract.model import Severity

    leakage = kind in (CheckKind.correlation_with_label, CheckKind.categorical_determines_label)
    defaults = {"exclude": ("id",)} if leakage else {}  # the id column is not a feature
    return CheckSpec(name="x", kind=kind, severity=Severity.error, columns=("y",), args={**defaults, **args})


def test_class_shares_count_only_labelled_rows_and_absent_classes(leak_table: Table) -> None:
    measured = training_stats.measure(_spec(CheckKind.label_class_fraction, min=0.3, max=0.8), leak_table)
    assert measured.observed == {"false": 0.75, "true": 0.25}
    assert sorted(v or 0.0 for v in measured.values) == [0.25, 0.75]
    only = training_stats.measure(_spec(CheckKind.label_class_fraction, min=0.3, only="true"), leak_table)
    assert only.values == (0.25,)


def test_correlation_matches_numpy(leak_table: Table) -> None:
    rows = [r for r in LEAK_ROWS if r[1] is not None]
    expected = abs(np.corrcoef([r[2] for r in rows], [float(r[1]) for r in rows])[0, 1])
    with leak_table.connection.cursor() as cursor:
        found = training_stats.correlations(cursor, leak_table, _spec(CheckKind.correlation_with_label))
    assert set(found) == {"score"}  # id is the key, y the label, strings are categorical
    assert found["score"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("min_rows", [1, 5, 30, 1000])
def test_goodman_kruskal_lambda_matches_a_python_count(leak_table: Table, min_rows: int) -> None:
    with leak_table.connection.cursor() as cursor:
        found = training_stats.lambdas(
            cursor, leak_table, _spec(CheckKind.categorical_determines_label, min_category_rows=min_rows)
        )
    # every feature is read by its values, numeric ones too (a numeric copy of the label is a leak)
    assert found == pytest.approx(
        {"score": _lambda(2, min_rows), "leaky": _lambda(3, min_rows), "plan": _lambda(4, min_rows)}
    )
    if min_rows == 30:
        assert found["leaky"] == 1.0 and found["plan"] == 0.0  # 'odd' (8 rows) is too rare to count
