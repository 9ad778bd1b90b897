"""Every engine against an independent oracle, on generated tables and contracts (issue 10, "Trust").

Engine-parity tests compare the engines with each other; a bug they share (an implicit cast in
the common SQL, a bound rendered as a DOUBLE, a NOCASE collation) passes them all. Here each
engine is compared with `tests/oracle.py`, a plain-Python evaluation of every rule on the rows
DuckDB returns to Python, on tables built from every type the contract vocabulary names plus
ENUM, HUGEINT, DECIMAL(38,10), TIMETZ, TIMESTAMPTZ, collated VARCHARs, NaN, +-inf and unicode
look-alikes, with contracts written as YAML (YAML 1.1 boolean look-alikes quoted and unquoted).

The slice is seeded (SEED) and small enough for CI: each engine validates each generated table
once, with all of its rules in one contract. `bench/fuzz_oracle.py` runs the same generator for
>= 10,000 cases. The oracle's own semantics are pinned by the hand-computed tests at the top.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests import differential as fuzz
from tests.oracle import Fetched, Num, Rule, Val, evaluate, fetch

SEED = 20261201
ROUNDS = 2  # ~270 cases, each on all three engines (~15-30 s)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


# --- the oracle itself, on hand-computed cases ----------------------------------------------


def _data(types: dict[str, str], *rows: tuple[object, ...]) -> Fetched:
    return Fetched("main.t", types, list(rows))


def _eval(rule: Rule, data: Fetched) -> tuple[str | None, int | None, object, str]:
    found = evaluate(rule, data, {}, NOW)
    return found.status, found.failing_rows, found.observed, found.refusal


def test_nan_is_missing_on_floating_columns() -> None:
    data = _data({"x": "DOUBLE"}, (math.nan,), (1.0,), (None,), (math.inf,))
    assert _eval(Rule("x.not_null", "not_null", ("x",)), data)[:2] == ("failed", 2)
    assert _eval(Rule("x.range", "between", ("x",), {"min": Num("0"), "max": Num("10")}), data)[:2] == ("failed", 1)
    assert _eval(Rule("x.range", "between", ("x",), {"min": Num("0")}), data)[:2] == ("passed", 0)
    assert _eval(Rule("x.null_fraction", "null_fraction", ("x",), {"max": Num("0.5")}), data)[2] == 0.5
    assert _eval(Rule("x.distinct_count", "distinct_count", ("x",), {"min": Num("1")}), data)[2] == 2


def test_integers_above_2_53_and_bounds_are_exact() -> None:
    data = _data({"n": "BIGINT"}, (10**17 + 1,), (2**53 + 1,))
    rule = Rule("n.range", "between", ("n",), {"max": Num("100000000000000000")})
    assert _eval(rule, data)[:2] == ("failed", 1)
    assert _eval(Rule("n.q", "quantile", ("n",), {"q": Num("0"), "max": Num("9007199254740992")}), data)[:3] == (
        "failed",
        None,
        2**53 + 1,
    )


def test_a_float_bound_on_a_double_is_that_double_and_an_inexact_integer_is_either() -> None:
    data = _data({"x": "DOUBLE"}, (0.1,), (1e17,))
    assert _eval(Rule("x.range", "between", ("x",), {"max": Num("1e+17")}), data)[0] == "passed"
    assert _eval(Rule("x.range", "between", ("x",), {"min": Num("0.1")}), data)[0] == "passed"
    # 99999999999999999 is not a double: exactly it fails 1e17, as the double 1e17 it passes
    assert _eval(Rule("x.range", "between", ("x",), {"max": Num("99999999999999999")}), data)[0] is None


def test_strings_are_binary_and_numbers_never_match_strings() -> None:
    data = _data({"s": "VARCHAR"}, ("DE",), ("de",), (" 1",), ("01",), ("e\u0301",), ("é",))
    rule = Rule(
        "s.accepted_values",
        "accepted_values",
        ("s",),
        {"values": (Val('"DE"', "DE"), Val("1", Num("1")), Val('"é"', "é"))},
    )
    assert _eval(rule, data) == ("failed", 4, None, "may")  # 'de', ' 1', '01' and e + combining accent
    assert _eval(Rule("s.unique", "unique", ("s",)), data)[:2] == ("passed", 0)
    assert _eval(Rule("s.distinct_count", "distinct_count", ("s",), {"max": Num("6")}), data)[2] == 6


def test_yaml_1_1_look_alikes_may_be_refused_and_otherwise_mean_the_string() -> None:
    data = _data({"s": "VARCHAR"}, ("yes",), ("t",), ("1",))
    rule = Rule("s.accepted_values", "accepted_values", ("s",), {"values": (Val("yes", "yes", trap=True),)})
    assert _eval(rule, data) == ("failed", 2, None, "may")


def test_quantiles_are_nearest_rank_and_empty_statistics_fail() -> None:
    data = _data({"x": "INTEGER"}, *[(v,) for v in (5, 1, 4, 2, 3)])
    for q, rank_value in (("0", 1), ("0.2", 1), ("0.21", 2), ("0.5", 3), ("0.9", 5), ("1", 5)):
        assert _eval(Rule("x.q", "quantile", ("x",), {"q": Num(q), "min": Num("0")}), data)[2] == rank_value, q
    empty = _data({"x": "DOUBLE"}, (None,), (math.nan,))
    for kind in ("mean", "stddev", "quantile"):
        args = {"q": Num("0.5"), "min": Num("0")} if kind == "quantile" else {"min": Num("0")}
        assert _eval(Rule(f"x.{kind}", kind, ("x",), args), empty)[:3] == ("failed", None, None), kind


def test_unique_counts_every_row_of_a_repeated_value_and_a_mean_is_exact() -> None:
    data = _data({"k": "DECIMAL(38,10)"}, (Decimal("0.1"),), (Decimal("0.10"),), (Decimal("0.2"),), (None,))
    assert _eval(Rule("k.unique", "unique", ("k",)), data)[:2] == ("failed", 2)
    mean = evaluate(Rule("k.mean", "mean", ("k",), {"max": Num("0.1333333333")}), data, {}, NOW)
    assert (mean.status, mean.observed) == ("failed", pytest.approx(2 / 15))  # 2/15 > 0.1333333333
    noisy = evaluate(Rule("k.mean", "mean", ("k",), {"max": Num("0.1333333333333333")}), data, {}, NOW)
    assert noisy.status is None  # 3e-17 above: within a double's rounding, either verdict is right


def test_wrong_types_must_be_refused() -> None:
    data = _data({"s": "VARCHAR", "d": "DATE"}, ("a", None))
    assert _eval(Rule("s.range", "between", ("s",), {"min": Num("1")}), data)[3] == "must"
    assert _eval(Rule("d.mean", "mean", ("d",), {"min": Num("1")}), data)[3] == "must"


def test_training_rules_freshness_and_keys() -> None:
    naive, zoned = datetime(2026, 12, 1, 10, 0), datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # naive = UTC
    times = _data({"f": "TIMESTAMP", "l": "TIMESTAMP WITH TIME ZONE"}, (naive, zoned), (naive, None))
    assert _eval(Rule("leakage.before", "feature_before_label", ("f", "l")), times)[:2] == ("passed", 0)
    fresh = Rule("f.freshness", "freshness", ("f",), {"max_age_seconds": 3600.0})
    assert _eval(fresh, times)[:3] == ("failed", None, 2.0)  # 2 h old at NOW, 1 h allowed
    labels = _data({"y": "VARCHAR"}, ("yes",), ("no",), ("no",), (None,))
    yes = Rule(
        "label.class_fraction.yes", "label_class_fraction", ("y",), {"key": Val("yes", "yes", True), "max": Num("0.5")}
    )
    assert _eval(yes, labels) == ("passed", None, pytest.approx(1 / 3), "may")
    wrong_type = Rule(
        "label.class_fraction.true", "label_class_fraction", ("y",), {"key": Val("true", True), "max": Num("0.5")}
    )
    assert _eval(wrong_type, labels)[3] == "must"  # a boolean key on a VARCHAR label reads as a 0% share
    other = _data({"k": "INTEGER"}, (1,), (None,))
    mine = _data({"k": "INTEGER"}, (1,), (1,), (2,), (None,))
    found = evaluate(Rule("leakage.disjoint_from", "disjoint_keys", ("k",), {"table": "o"}), mine, {"o": other}, NOW)
    assert (found.status, found.failing_rows) == ("failed", 2)


def test_rows_come_from_duckdb_fetchall(tmp_path: Path) -> None:
    db = tmp_path / "o.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t (h HUGEINT, d DECIMAL(38,10), s VARCHAR COLLATE NOCASE)")
        con.execute("INSERT INTO t VALUES (170141183460469231731687303715884105727, 0.1, 'De'), (NULL, NULL, 'de')")
        data = fetch(con, "main", "t")
    assert data.rows[0][:2] == (2**127 - 1, Decimal("0.1000000000"))
    assert _eval(Rule("s.unique", "unique", ("s",)), data)[:2] == ("passed", 0)  # binary, whatever the collation


# --- the differential slice -----------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[fuzz.Outcome]:
    """Every case of the seeded slice on every engine (each engine runs once per table)."""
    found: list[fuzz.Outcome] = []
    base = tmp_path_factory.mktemp("oracle-fuzz")
    for round_ in fuzz.generate_rounds(SEED, ROUNDS):
        # the second table is validated in another process time zone: every engine must read UTC
        with fuzz.time_zone("Asia/Tokyo" if round_.index % 2 else None):
            found += fuzz.run_round(round_, fuzz.ENGINES, base / f"round{round_.index}").outcomes
    return found


def test_the_slice_is_the_size_ci_can_afford(outcomes: list[fuzz.Outcome]) -> None:
    per_engine = {e: sum(o.engine == e for o in outcomes) for e in fuzz.ENGINES}
    assert all(200 <= n <= 450 for n in per_engine.values()), per_engine


@pytest.mark.parametrize("engine", fuzz.ENGINES)
def test_engine_agrees_with_the_oracle(outcomes: list[fuzz.Outcome], engine: str) -> None:
    mine = [o for o in outcomes if o.engine == engine]
    disagreements = fuzz.classes(mine)
    if disagreements:
        lines = [fuzz.summary_table(mine), ""]
        for (label, kind, types), cases in disagreements.items():
            first = cases[0]
            lines.append(
                f"{label} {kind} on {types}: {len(cases)} case(s), e.g. {first.draft.rule.name} "
                f"(round {first.round.index}) oracle {first.expected.status} "
                f"rows={first.expected.failing_rows} observed={first.expected.observed!r}; dq {first.got}"
            )
        pytest.fail("\n".join(lines), pytrace=False)


def test_the_slice_is_counted_in_the_readme_figures(outcomes: list[fuzz.Outcome]) -> None:
    """The README's reliability figures count this slice (`.dq/reliability.md`, tests/faults.py)."""
    from tests import faults

    false_passes = sum(1 for o in outcomes if o.verdict == fuzz.FALSE_PASS)
    faults.record("oracle_fuzz", {"tried": len(outcomes), "false_passes": false_passes})
    assert outcomes and false_passes == 0
