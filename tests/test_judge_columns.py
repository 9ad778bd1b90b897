"""The default engine's judge puts measurements that share a check and a dtype in one Pandera
column (dq.engines.pandera_batch.judge_rules). Sharing must change no verdict: generated rules
and values, of every type a measurement takes, judged together agree with each judged alone and
with Python's own comparison (the oracle)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from dq.engines.pandera_batch import Rule, judge_rules

BIG = 2**53


def _value(rng: random.Random, kind: str) -> Any:
    match kind:
        case "int":
            return rng.choice([0, 1, -1, 7, BIG, BIG + 1, 2**63 - 1, -(2**63), 2**64, 2**100, -(2**90)])
        case "bool":
            return rng.random() < 0.5
        case "float":
            return rng.choice([0.0, -0.0, 0.5, 2.5, 1e300, float(BIG), float("inf"), -float("inf"), 5e-324])
        case "decimal":
            return Decimal(rng.choice(["0.000", "64.5", "64.50", "-64.501", "9007199254740993.125", "1E+3"]))
        case "str":
            return rng.choice(["", "a", "DE", "DECIMAL", "ä", "a\u0000b"])
        case "date":
            return date(2026, 1, 1) + timedelta(days=rng.randint(-3, 3))
        case "naive":
            return datetime(2026, 1, 1, 12) + timedelta(microseconds=rng.randint(-2, 2))
        case "utc":
            return datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(microseconds=rng.randint(-2, 2))
    return None


KINDS = ["int", "bool", "float", "decimal", "str", "date", "naive", "utc", "none"]


def _rule(rng: random.Random, kind: str) -> Rule:
    """A rule whose arguments are of the value's own type, as dq.engines.typed_bounds binds them."""
    bound_kind = "int" if kind == "none" else kind
    low, high = sorted([_value(rng, bound_kind), _value(rng, bound_kind)])
    return rng.choice([("eq", (low,)), ("le", (high,)), ("ge", (low,)), ("in_range", (low, high)), ("isin", ([],))])


def _python_holds(rule: Rule, value: Any) -> bool:
    method, args = rule
    if value is None:
        return False  # nullable=False: a missing measurement never holds
    match method:
        case "eq":
            return bool(value == args[0])
        case "le":
            return bool(value <= args[0])
        case "ge":
            return bool(value >= args[0])
        case "in_range":
            return bool(args[0] <= value <= args[1])
    return False  # isin([])


def _cases(seed: int) -> dict[int, tuple[Rule, Any]]:
    rng = random.Random(seed)
    kinds = [rng.choice(KINDS) for _ in range(rng.randint(1, 40))]
    # few distinct rules, so that many values share one, as a contract's `== 0` counts do
    rules = {kind: [_rule(rng, kind) for _ in range(2)] for kind in set(kinds)}
    return {i: (rng.choice(rules[kind]), _value(rng, kind)) for i, kind in enumerate(kinds)}


@pytest.mark.parametrize("seed", range(40))
def test_judged_together_each_value_gets_its_own_verdict(seed: int) -> None:
    cases = _cases(seed)
    together = judge_rules(cases)
    alone = {i: judge_rules({i: case}).get(i) for i, case in cases.items()}
    assert {i: together.get(i) for i in cases} == alone
    for i, (rule, value) in cases.items():
        if i in together:  # a value polars cannot hold has no verdict (an error, never a pass)
            assert together[i] == _python_holds(rule, value), (rule, value)


def test_a_shared_column_with_one_failing_value_fails_only_that_value() -> None:
    cases: dict[int, tuple[Rule, Any]] = {i: (("eq", (0,)), 0) for i in range(9)}
    cases[4] = (("eq", (0,)), 3)
    assert judge_rules(cases) == {i: i != 4 for i in range(9)}


def test_values_of_one_rule_but_two_dtypes_keep_their_own_columns() -> None:
    # alone, 2**63 - 1 is Int64 and 2**64 is Int128; one column of both is no series polars builds
    cases: dict[int, tuple[Rule, Any]] = {0: (("le", (2**63 - 1,)), 2**63 - 1), 1: (("le", (2**63 - 1,)), 2**64)}
    assert judge_rules(cases) == {0: True, 1: False}
