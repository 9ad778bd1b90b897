"""The third adversarial round (means and deviations): each reviewer case, on every engine, against
an independent oracle that reads the rows and computes in Python `fractions`.

A mean of integers, decimals or booleans is judged as the exact fraction it is (dq.checks.sql.mean_parts);
a deviation is taken after subtracting one of the column's own values in the column's own type
(dq.checks.sql._stddev), DOUBLEs included. Before, every "failed" below was a pass: the values were
rounded to DOUBLE before they were summed, or shifted only once they were doubles.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.result import Status
from tests import faults

ENGINES = ["auto", "pandera", "gx"]
HEAD = "contract: exact\nversion: 1.0.0\ndataset: {table: main.t}\n"


def _values(db: Path) -> list[Fraction]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT x FROM t WHERE x IS NOT NULL").fetchall()
    return [
        Fraction(str(v)) if isinstance(v, Decimal) else Fraction(int(v) if isinstance(v, bool) else v) for (v,) in rows
    ]


def oracle_mean(values: list[Fraction]) -> Fraction:
    return sum(values, Fraction(0)) / len(values)


def oracle_stddev(values: list[Fraction]) -> float:
    mean = oracle_mean(values)
    return math.sqrt(sum(((v - mean) ** 2 for v in values), Fraction(0)) / (len(values) - 1))


def _holds(value: Fraction | float, low: str | None, high: str | None) -> bool:
    exact = Fraction(value)
    return (low is None or exact >= Fraction(low)) and (high is None or exact <= Fraction(high))


H100 = 2**100
# (id, table, kind, min, max): the oracle decides the status; None = no bound on that side
CASES: list[tuple[str, str, str, str | None, str | None]] = [
    ("mean_big_ids", f"SELECT {2**53 + 1}::BIGINT AS x FROM range(2)", "mean", None, str(2**53)),
    ("mean_big", f"SELECT {2**62 + 1}::BIGINT AS x FROM range(2)", "mean", None, str(2**62)),
    (
        "mean_big_frac",
        f"SELECT * FROM (VALUES ({2**62}::BIGINT), ({2**62 + 1}), ({2**62 + 1})) v(x)",
        "mean",
        None,
        f"{2**62}.6666",
    ),
    (
        "mean_big_frac, a bound just above",
        f"SELECT * FROM (VALUES ({2**62}::BIGINT), ({2**62 + 1}), ({2**62 + 1})) v(x)",
        "mean",
        None,
        f"{2**62}.6667",
    ),
    ("mean_min_big", f"SELECT {2**53 - 1}::BIGINT AS x FROM range(2)", "mean", str(2**53), None),
    ("mean_ubig", f"SELECT {2**64 - 1}::UBIGINT AS x FROM range(2)", "mean", None, str(2**64 - 2)),
    ("mean_huge", f"SELECT {H100 + 1}::HUGEINT AS x FROM range(2)", "mean", None, str(H100)),
    ("mean_uhuge", f"SELECT {H100 + 1}::UHUGEINT AS x FROM range(2)", "mean", None, str(H100)),
    ("mean_huge near the top: no overflow", f"SELECT {2**126}::HUGEINT AS x FROM range(3)", "mean", None, str(2**126)),
    (
        "mean_huge of both signs",
        f"SELECT * FROM (VALUES ({2**127 - 1}::HUGEINT), (-{2**127 - 1}), (-1)) v(x)",
        "mean",
        "-0.3333",
        None,
    ),
    (
        "mean_dec of both signs at the top: no overflow",
        f"SELECT (CASE WHEN i % 2 = 0 THEN -{9 * 10**37} ELSE {9 * 10**37} END)::DECIMAL(38,0) AS x FROM range(41) r(i)",
        "mean",
        f"-{2 * 10**36}",
        f"-{2 * 10**36}",
    ),
    (
        "mean of DECIMAL(38,10) of both signs",
        "SELECT * FROM (VALUES (-9999999999999999999999999999.9999999999::DECIMAL(38,10)), (1.5), (0.0000000001)) v(x)",
        "mean",
        None,
        "-3333333333333333333333333332.8333333333",
    ),
    (
        "sd_dec of both signs at the top",
        f"SELECT (CASE WHEN i % 2 = 0 THEN -{9 * 10**37} ELSE {9 * 10**37} END)::DECIMAL(38,0) AS x FROM range(4) r(i)",
        "stddev",
        str(10**38),
        None,
    ),
    (
        "sd_huge of both signs at the top",
        f"SELECT * FROM (VALUES ({2**127 - 1}::HUGEINT), (-{2**127 - 1}), (0)) v(x)",
        "stddev",
        None,
        str(2**127),
    ),
    ("mean_dec", f"SELECT {10**37 + 1}::DECIMAL(38,0) AS x FROM range(2)", "mean", None, str(10**37)),
    ("mean_dec18", "SELECT 999999999999999.999::DECIMAL(18,3) AS x FROM range(2)", "mean", None, "999999999999999.998"),
    (
        "mean_dec38_money",
        "SELECT 12345678901234567.01::DECIMAL(38,2) AS x FROM range(2)",
        "mean",
        None,
        "12345678901234567.00",
    ),
    (
        "a boolean true-rate of 1/3 is above the double 0.3333333333333333",
        "SELECT * FROM (VALUES (true), (false), (false)) v(x)",
        "mean",
        None,
        "0.3333333333333333",
    ),
    ("an INTEGER mean of 1/3", "SELECT * FROM (VALUES (1), (0), (0)) v(x)", "mean", None, "0.3333333333333333"),
    ("sd_big", f"SELECT {2**62} + i AS x FROM range(3) r(i)", "stddev", None, "0.9999999"),
    ("sd_huge", f"SELECT ({H100} + i)::HUGEINT AS x FROM range(3) r(i)", "stddev", None, "0.9999999"),
    ("sd_uhuge", f"SELECT ({H100} + i)::UHUGEINT AS x FROM range(3) r(i)", "stddev", None, "0.9999999"),
    (
        "sd_uhuge at the top",
        f"SELECT '{2**128 - 1}'::UHUGEINT - i::UHUGEINT AS x FROM range(3) r(i)",
        "stddev",
        "1",
        None,
    ),
    ("sd_dec", f"SELECT ({10**37} + i)::DECIMAL(38,0) AS x FROM range(3) r(i)", "stddev", None, "0.9999999"),
    (
        "sd_dec_sc",
        "SELECT (1 + (i + 1) * 0.00000000000000000001)::DECIMAL(38,20) AS x FROM range(3) r(i)",
        "stddev",
        None,
        "0.000000000000000000009",
    ),
    (
        "sd_dec38_money",
        "SELECT (1234567890123456.01 + i * 0.01)::DECIMAL(38,2) AS x FROM range(3) r(i)",
        "stddev",
        None,
        "0.009",
    ),
    (
        "sd_dbl_under",
        "SELECT * FROM (VALUES (10000000000000006::DOUBLE), (10000000000000004::DOUBLE)) v(x)",
        "stddev",
        None,
        "1",
    ),
    ("sd_dbl_over", "SELECT (1e17 + 16 * i)::DOUBLE AS x FROM range(3) r(i)", "stddev", "17", None),
    ("sd_dbl near 1.7e9", "SELECT (1.7e9 + i * 1e-5)::DOUBLE AS x FROM range(5) r(i)", "stddev", None, "0.0000158"),
    ("sd_float", "SELECT * FROM (VALUES (16777216::FLOAT), (16777216), (16777218)) v(x)", "stddev", None, "1.1547"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("ddl", "kind", "low", "high"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_means_and_deviations_are_judged_as_the_oracle_judges_them(
    engine: str,
    ddl: str,
    kind: str,
    low: str | None,
    high: str | None,
    make_db: Any,
    write_contract: Any,
    tmp_path: Path,
) -> None:
    db = make_db(f"CREATE TABLE t AS {ddl}")
    values = _values(db)
    truth: Fraction | float = oracle_mean(values) if kind == "mean" else oracle_stddev(values)
    expected = Status.passed if _holds(truth, low, high) else Status.failed
    bounds = ", ".join(f"{side}: {v}" for side, v in (("min", low), ("max", high)) if v is not None)
    result = faults.run(write_contract(HEAD + f"columns:\n  x: {{{kind}: {{{bounds}}}}}\n"), db, tmp_path, engine)
    [found] = [c for c in result.contracts[0].checks if c.name == f"x.{kind}"]
    assert found.status is expected, (truth, found.status, found.observed, found.message, found.engine)
    if kind == "mean" and isinstance(found.observed, int):  # a whole mean is shown exactly
        assert found.observed == truth, (found.observed, truth)
    elif kind == "mean":  # else the nearest double: the JSON's `observed` stays a number
        assert found.observed == float(truth), (found.observed, truth)
    else:
        assert found.observed == pytest.approx(float(truth), rel=1e-9), (found.observed, truth)


def test_a_mean_whose_exact_sum_overflows_is_an_error_never_a_pass(
    make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    """The fractions of DECIMAL(38,37) values (each below 1) sum past the type: exit 3."""
    db = make_db("CREATE TABLE t AS SELECT 0.9999::DECIMAL(38,37) AS x FROM range(20)")
    result = faults.run(write_contract(HEAD + "columns:\n  x: {mean: {max: 1}}\n"), db, tmp_path)
    [found] = [c for c in result.contracts[0].checks if c.name == "x.mean"]
    assert found.status is Status.error and result.status is Status.error, found


SEGMENTED = [
    ("seg_stddev_big", f"SELECT 1 AS g, ({H100} + i)::HUGEINT AS x FROM range(3) r(i)", "stddev: {max: 0.5}", 1.0),
    (
        "a DOUBLE deviation per segment",
        "SELECT i % 2 AS g, (1e17 + 16 * (i // 2))::DOUBLE AS x FROM range(6) r(i)",
        "stddev: {min: 17}",
        16.0,
    ),
    (
        "a BIGINT mean per segment",
        f"SELECT i % 2 AS g, {2**53 + 1}::BIGINT AS x FROM range(4) r(i)",
        f"mean: {{max: {2**53}}}",
        2**53 + 1,
    ),
]


@pytest.mark.parametrize(("ddl", "rule", "observed"), [c[1:] for c in SEGMENTED], ids=[c[0] for c in SEGMENTED])
def test_per_segment_statistics_are_exact_too(
    ddl: str, rule: str, observed: Any, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(f"CREATE TABLE t AS {ddl}")
    body = HEAD + "segments: [g]\ncolumns:\n  g: {}\n  x: {" + rule + "}\n"
    result = faults.run(write_contract(body), db, tmp_path)
    [found] = [c for c in result.contracts[0].checks if ".by.g" in c.name]
    assert found.status is Status.failed, (found.observed, found.message)
    entries = found.observed["failing_segments"]
    assert entries and all(e["observed"] == pytest.approx(observed, rel=1e-12) for e in entries), entries


def test_a_deviation_of_doubles_keeps_nan_and_infinity_as_today(
    make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    """NaN is left out (a missing value); +-inf makes the deviation NaN, which fails every bound."""
    db = make_db(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1.0::DOUBLE, 1.0::DOUBLE), ('NaN', 'inf'), (3.0, 3.0)) v(x, y)"
    )
    body = HEAD + "columns:\n  x: {stddev: {max: 1.5}}\n  y: {stddev: {min: 0}}\n"
    checks = {c.name: c for c in faults.run(write_contract(body), db, tmp_path).contracts[0].checks}
    assert checks["x.stddev"].status is Status.passed
    assert checks["x.stddev"].observed == pytest.approx(math.sqrt(2))
    assert checks["y.stddev"].status is Status.failed
