"""Bounds in the judged measurement's type (dq.engines.typed_bounds) keep Python's exact verdicts,
and Pandera's polars judges give them; dq's own command judges without importing pandas."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dq.checks.spec import CheckKind as K
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.engines.typed_bounds import typed_bound
from tests.test_engine_pandera import build, spec

BIG = 2**53
FLOATS = [
    0.0,
    -0.0,
    0.5,
    -2.5,
    float(BIG),
    float(BIG + 2),
    math.nextafter(float(BIG), 0),
    1e300,
    -1e300,
    sys.float_info.max,
    math.inf,
    -math.inf,
    5e-324,
]
INTS = [0, 1, -1, BIG - 1, BIG, BIG + 1, BIG + 3, -(BIG + 1), 2**63 - 1, 2**70, -(2**70), 10**400]
DECIMALS = [Decimal("0.000"), Decimal("64.500"), Decimal("-64.501"), Decimal("9007199254740993.125")]


def _pairs() -> list[tuple[object, object]]:
    values: list[object] = [*FLOATS, *INTS, *DECIMALS, 0.1, 64.5, -64.5004, Decimal("1e-400"), Decimal("1e400")]
    samples: list[object] = [*FLOATS, *INTS[:-1], *DECIMALS]
    return [(v, b) for v in samples for b in values]


@pytest.mark.parametrize(("value", "bound"), _pairs())
def test_the_typed_bound_keeps_every_verdict_and_the_value_s_type(value: object, bound: object) -> None:
    for side, holds in (("high", lambda v, b: v <= b), ("low", lambda v, b: v >= b)):
        typed = typed_bound(value, bound, side)  # type: ignore[arg-type]
        assert holds(value, typed) == holds(value, bound), (value, bound, side, typed)
        if isinstance(value, float):
            assert isinstance(typed, float)
        elif isinstance(value, int) and isinstance(typed, float):
            assert math.isinf(typed)  # an int meets a double only as an infinity (order kept)


@pytest.mark.parametrize(
    ("column", "low", "high"),
    [
        # a double measurement just below an integer bound a double cannot hold: polars would
        # cast the bound to the double 2**53 and pass it
        ("CAST(9007199254740992 AS DOUBLE)", 9007199254740993, None),
        ("CAST(9007199254740992 AS DOUBLE)", None, 9007199254740991),
        ("CAST(64.500 AS DECIMAL(18,3))", 64.5001, None),
        ("CAST(64.500 AS DECIMAL(18,3))", None, 64.4999),
    ],
)
def test_a_bound_of_another_type_fails_as_python_compares(
    tmp_path: Path, column: str, low: object, high: object
) -> None:
    table = build(tmp_path, f"CREATE TABLE t AS SELECT {column} AS v")
    bounds = {k: v for k, v in (("min", low), ("max", high)) if v is not None}
    quantile = spec(K.quantile, "v", q=1.0, **bounds)
    [result] = PanderaBatchEngine().run([quantile], table)
    assert result.status.value == "failed", result


def test_dq_validate_judges_without_importing_pandas_or_numpy(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE main.t AS SELECT range AS id, range % 3 AS x FROM range(100)")
    contract = tmp_path / "c.yml"
    contract.write_text(
        "contract: t\nversion: 1.0.0\ndataset: {table: main.t}\nrow_count: {min: 1}\n"
        "columns:\n  id: {nullable: false, unique: true}\n  x: {min: 0, max: 1}\n"
    )
    code = (
        "import sys, json\n"
        "from dq.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(json.dumps({'exit': code, 'loaded': [m for m in ('pandas', 'numpy') if m in sys.modules]}))\n"
    )
    argv = ["validate", str(contract), "--db", str(db), "--results-dir", str(tmp_path / "r"), "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    assert payload["loaded"] == []
    assert payload["exit"] == 1  # x reaches 2: the range check fails, judged by Pandera on polars
    results = json.loads("\n".join(done.stdout.strip().splitlines()[:-1]))
    statuses = {c["name"]: c["status"] for r in results["contracts"] for c in r["checks"]}
    assert sorted(statuses.values()).count("failed") == 1, statuses
