"""Label, leakage and drift statistics on Spark against DuckDB: same verdict, same observed value.

The bundled training_set contract's statistic rules (label class fraction, both leakage rules,
drift PSI / KS / chi2 / L-inf against profiles/training_set.json) run on one small table built
in DuckDB and read by Spark from Parquet. The table is made to test the traps: incomes exactly
on the profile's bin edges (bin i holds edges[i-1] < x <= edges[i]), NaN, +-inf and NULL
incomes, a country the profile never saw, a NULL feature, a timestamp feature, and (in the
drifted variant) a feature that leaks the label. Every unrounded statistic must agree to 12
significant digits, every verdict and report value exactly.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.compile import compile_contract
from dq.checks.result import Status
from dq.checks.spec import STATISTIC_KINDS, CheckKind, CheckSpec, Severity
from dq.contract.model import load_contract
from dq.data.bind import bind_spec
from dq.data.files import memory_connection
from dq.data.source import Table
from dq.engines.pandera import PanderaEngine
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.ml import stats
from dq.spark import stats as spark_stats
from dq.spark.engine import SparkBatchEngine, refusal
from dq.spark.relation import view_table
from tests.conftest import ROOT

CONTRACT = ROOT / "contracts" / "training_set.yml"
PROFILE = json.loads((ROOT / "profiles" / "training_set.json").read_text())
EDGES = PROFILE["columns"]["income"]["edges"]

# (variant, the statistic rules that must fail on it): the same verdicts on both backends
VARIANTS = {
    "clean": set(),
    "drifted": {
        "label.class_fraction.true",
        "leakage.correlation_with_label",
        "leakage.categorical_determines_label",
        "drift.income.psi",
        "drift.income.ks",
        "drift.country.psi",
        "drift.country.chi2",
        "drift.country.linf",
    },
}


@pytest.fixture(autouse=True)
def _from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the contract's drift reference is relative to the current directory


def _income(rng: random.Random, shift: float) -> float:
    """Drawn like the reference: a bin by the profile's counts, a value inside it."""
    counts = PROFILE["columns"]["income"]["counts"]
    edges = [EDGES[0] - (EDGES[1] - EDGES[0]), *EDGES, EDGES[-1] + (EDGES[-1] - EDGES[-2])]
    b = rng.choices(range(len(counts)), weights=counts)[0]
    return round((edges[b] + (edges[b + 1] - edges[b]) * rng.random()) * shift, 2)


def _build(path: Path, variant: str) -> duckdb.DuckDBPyConnection:
    """main.training_set (the profile's relation): 2000 rows drawn like the reference, plus the
    edge cases; `drifted` shifts income, adds country IT, raises the churn rate and leaks it."""
    rng = random.Random(16)
    drifted = variant == "drifted"
    top = PROFILE["columns"]["country"]["top"]
    countries, weights = [*top, "IT"], [*top.values(), 600 if drifted else 0]
    rows = []
    for i in range(2000):
        churned = rng.random() < (0.7 if drifted else 0.2)
        offer = float(churned) if drifted else float(rng.random() < 0.5)
        signed_up = datetime(2024, 1, 1) + timedelta(seconds=rng.randrange(10**8), microseconds=rng.randrange(10**6))
        orders = None if i % 17 == 0 else rng.randrange(9)
        country = rng.choices(countries, weights=weights)[0]
        rows.append((i, country, _income(rng, 1.6 if drifted else 1.0), signed_up, orders, churned, offer))
    odd = [*EDGES, float("nan"), float("inf"), float("-inf"), None, -0.0]  # on the edges: inclusive above
    moment = datetime(2024, 6, 1, 12, 0, 0, 123456)
    rows += [(10_000 + n, "DE", value, moment, 1, n % 2 == 0, 0.5) for n, value in enumerate(odd)]
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE main.training_set (customer_id BIGINT, country VARCHAR, income DOUBLE, "
        "signed_up_at TIMESTAMP, n_orders BIGINT, churned BOOLEAN, retention_offer DOUBLE)"
    )
    con.executemany("INSERT INTO main.training_set VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def _specs(table: Table) -> list[CheckSpec]:
    specs = [s for s in compile_contract(load_contract(CONTRACT)) if s.kind in STATISTIC_KINDS]
    return [bind_spec(s, table, frozenset()) for s in specs]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_statistics_on_spark_agree_with_duckdb(spark: Any, tmp_path: Path, variant: str) -> None:
    con = _build(tmp_path / "warehouse.duckdb", variant)
    columns = dict(
        con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'training_set'").fetchall()
    )
    table = Table(con, tmp_path / "warehouse.duckdb", "main", "training_set", columns)
    specs = _specs(table)
    assert {s.kind for s in specs} == set(STATISTIC_KINDS)  # every statistic kind, each rule of the contract
    con.execute(f"COPY main.training_set TO '{tmp_path / 't.parquet'}' (FORMAT parquet)")
    spark.read.parquet(str(tmp_path / "t.parquet")).createOrReplaceTempView("training_set_stats")
    shadow = memory_connection()
    on_spark = view_table(spark, "training_set_stats", "main.training_set", shadow)
    assert [refusal(s, on_spark) for s in specs] == [None] * len(specs)

    expected = {r.name: r for r in PanderaEngine().run(specs, table)}
    found = {r.name: r for r in SparkBatchEngine().run(specs, on_spark)}
    failing = {name for name, r in expected.items() if r.status is Status.failed}
    assert failing == VARIANTS[variant], {n: (r.status, r.observed, r.message) for n, r in expected.items()}
    for name, theirs in expected.items():
        mine = found[name]
        assert (mine.status, mine.observed) == (theirs.status, theirs.observed), name

    # the unrounded numbers too, to 12 significant digits (corr() sums doubles in its own order)
    duckdb_cache: dict[Any, Any] = {}
    spark_cache: dict[Any, Any] = {}
    for spec in specs:
        theirs_values = stats.measure(spec, table, duckdb_cache).values
        mine_values = spark_stats.measure(spec, on_spark, spark_cache).values
        assert mine_values == pytest.approx(theirs_values, rel=1e-12, abs=1e-15), spec.name
    shadow.close()
    con.close()


def _spec(kind: CheckKind, column: str, **args: Any) -> CheckSpec:
    return CheckSpec(name=f"{kind.value}.{column}", kind=kind, severity=Severity.error, columns=(column,), args=args)


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        (_spec(CheckKind.label_class_fraction, "score", min=0.1), "label score is DOUBLE"),
        (_spec(CheckKind.label_class_fraction, "price", min=0.1), "label price is DECIMAL(10,2)"),
        (_spec(CheckKind.categorical_determines_label, "y", max=0.9), "feature tags is ARRAY<STRING>"),
        (_spec(CheckKind.drift_psi, "price", reference="profiles/training_set.json", max=0.2), "DECIMAL(10,2)"),
        (_spec(CheckKind.label_class_fraction, "y", min=0.1, segments=("score",)), "segments: score"),
    ],
    ids=["double label", "decimal label", "nested feature", "decimal drift column", "segmented label"],
)
def test_what_spark_cannot_count_as_duckdb_does_is_refused(spark: Any, spec: CheckSpec, named: str) -> None:
    """Refused before any job runs (the runner turns it into exit 3 naming the check)."""
    spark.sql(
        "SELECT 0.5D AS score, CAST(1.5 AS DECIMAL(10,2)) AS price, array('a') AS tags, TRUE AS y"
    ).createOrReplaceTempView("refused_stats")
    shadow = memory_connection()
    why = refusal(spec, view_table(spark, "refused_stats", "main.refused_stats", shadow))
    assert why is not None and named in why
    ok = _spec(CheckKind.label_class_fraction, "y", min=0.1)
    assert refusal(ok, view_table(spark, "refused_stats", "main.refused_stats", shadow)) is None
    shadow.close()


# The reviewer's mean/stddev cases (tests/test_exact_stats.py) that Spark's types hold, each a
# column of one table (NULL past its rows: means and deviations leave NULL out), so one Spark pass
# measures them all: (column, DuckDB type, values, kind, min, max)
EXACT = [
    ("mean_big_ids", "BIGINT", [2**53 + 1] * 2, "mean", None, str(2**53)),
    ("mean_big", "BIGINT", [2**62 + 1] * 2, "mean", None, str(2**62)),
    ("mean_big_frac", "BIGINT", [2**62, 2**62 + 1, 2**62 + 1], "mean", None, f"{2**62}.6666"),
    ("mean_big_frac_above", "BIGINT", [2**62, 2**62 + 1, 2**62 + 1], "mean", None, f"{2**62}.6667"),
    ("mean_min_big", "BIGINT", [2**53 - 1] * 2, "mean", str(2**53), None),
    ("mean_dec", "DECIMAL(38,0)", [10**37 + 1] * 2, "mean", None, str(10**37)),
    ("mean_dec18", "DECIMAL(18,3)", ["999999999999999.999"] * 2, "mean", None, "999999999999999.998"),
    ("mean_dec38_money", "DECIMAL(38,2)", ["12345678901234567.01"] * 2, "mean", None, "12345678901234567.00"),
    ("mean_bool_third", "BOOLEAN", [True, False, False], "mean", None, "0.3333333333333333"),
    ("sd_big", "BIGINT", [2**62, 2**62 + 1, 2**62 + 2], "stddev", None, "0.9999999"),
    ("sd_dec", "DECIMAL(37,0)", [10**36, 10**36 + 1, 10**36 + 2], "stddev", None, "0.9999999"),
    (
        "sd_dec38_money",
        "DECIMAL(38,2)",
        ["1234567890123456.01", "1234567890123456.02", "1234567890123456.03"],
        "stddev",
        None,
        "0.009",
    ),
    ("sd_dbl_under", "DOUBLE", [10000000000000006.0, 10000000000000004.0], "stddev", None, "1"),
    ("sd_dbl_over", "DOUBLE", [1e17, 1e17 + 16, 1e17 + 32], "stddev", "17", None),
]


def _exact_table(con: duckdb.DuckDBPyConnection) -> None:
    height = max(len(values) for _, _, values, *_ in EXACT)
    columns = ", ".join(f"{name} {kind}" for name, kind, *_ in EXACT)
    con.execute(f"CREATE TABLE main.exact ({columns})")
    for row in range(height):
        cells = [str(values[row]) if row < len(values) else None for _, _, values, *_ in EXACT]
        con.execute(f"INSERT INTO main.exact VALUES ({', '.join('?' * len(cells))})", cells)


def _oracle(values: list[Any], kind: str) -> Fraction | float:
    exact = [Fraction(v) if isinstance(v, bool | int | float) else Fraction(str(v)) for v in values]
    mean = sum(exact, Fraction(0)) / len(exact)
    if kind == "mean":
        return mean
    return math.sqrt(sum(((v - mean) ** 2 for v in exact), Fraction(0)) / (len(exact) - 1))


def test_means_and_deviations_on_spark_are_judged_as_the_oracle_judges_them(spark: Any, tmp_path: Path) -> None:
    """Each case on both backends against a `fractions` oracle: the same verdict, the mean exactly
    (to 12 places where the fraction does not end), the deviation to 9 significant digits."""
    con = duckdb.connect(str(tmp_path / "exact.duckdb"))
    _exact_table(con)
    columns = dict(
        con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'exact'").fetchall()
    )
    table = Table(con, tmp_path / "exact.duckdb", "main", "exact", columns)
    con.execute(f"COPY main.exact TO '{tmp_path / 'exact.parquet'}' (FORMAT parquet)")
    spark.read.parquet(str(tmp_path / "exact.parquet")).createOrReplaceTempView("exact_stats")
    shadow = memory_connection()
    on_spark = view_table(spark, "exact_stats", "main.exact", shadow)
    kinds = {"mean": CheckKind.mean, "stddev": CheckKind.stddev}
    bounds = [
        {side: Decimal(v) for side, v in (("min", low), ("max", high)) if v is not None} for *_, low, high in EXACT
    ]
    specs = [
        bind_spec(_spec(kinds[kind], name, **bound), table, frozenset())
        for (name, _, _, kind, _, _), bound in zip(EXACT, bounds, strict=True)
    ]
    assert [refusal(s, on_spark) for s in specs] == [None] * len(specs)
    results = {"duckdb": PanderaBatchEngine().run(specs, table), "spark": SparkBatchEngine().run(specs, on_spark)}
    for backend, found in results.items():
        for (name, _, values, kind, low, high), result in zip(EXACT, found, strict=True):
            truth = _oracle(values, kind)
            holds = (low is None or Fraction(truth) >= Fraction(low)) and (
                high is None or Fraction(truth) <= Fraction(high)
            )
            where = (backend, name, result.status, result.observed, result.message)
            assert result.status is (Status.passed if holds else Status.failed), where
            if kind == "mean" and isinstance(result.observed, int):  # a whole mean, shown exactly
                assert result.observed == truth, where
            elif kind == "mean":  # else the nearest double (the verdict above is the exact one)
                assert result.observed == pytest.approx(float(truth), rel=1e-15), where
            else:
                assert result.observed == pytest.approx(truth, rel=1e-9), where
    shadow.close()
    con.close()


def test_spark_refuses_what_it_cannot_state_as_duckdb_does(spark: Any) -> None:
    """A DECIMAL(38,s>6) difference is rounded by Spark (refused); contract SQL in a session whose
    time zone is not UTC reads TIMESTAMP WITH TIME ZONE values in another zone (refused)."""
    spark.sql(
        "SELECT CAST(1.5 AS DECIMAL(38,20)) AS wide, CAST(1.5 AS DECIMAL(38,2)) AS money, "
        "TIMESTAMP'2024-01-01 23:30:00' AS ts"
    ).createOrReplaceTempView("refused_exact")
    shadow = memory_connection()
    table = view_table(spark, "refused_exact", "main.refused_exact", shadow)
    wide = _spec(CheckKind.stddev, "wide", max=1, column_type="DECIMAL(38,20)")
    money = _spec(CheckKind.stddev, "money", max=1, column_type="DECIMAL(38,2)")
    assert "DECIMAL(38,20)" in (refusal(wide, table) or "") and refusal(money, table) is None
    hour = CheckSpec("e", CheckKind.expression, Severity.error, (), {"expr": "hour(ts) <> 23"})
    assert refusal(hour, table) is None
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        why = refusal(hour, table)
        custom = CheckSpec(
            "c", CheckKind.custom_sql, Severity.error, (), {"sql": "SELECT * FROM {dataset} WHERE hour(ts) = 23"}
        )
        assert why is not None and "spark.sql.session.timeZone" in why and "UTC" in why
        assert "spark.sql.session.timeZone" in (refusal(custom, table) or "")
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    shadow.close()
