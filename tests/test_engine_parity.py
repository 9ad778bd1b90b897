"""Every engine, every case: same verdict, same failing-row count, same observed value.

The cases are the Pandera engine's spec table (tests/test_engine_pandera.py): each is a tiny
DuckDB table, one spec and the expected outcome. Running them through all three engines proves
that `--engine auto|pandera|gx` cannot change a verdict.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dq.checks.result import Status
from dq.engines import Engine
from dq.engines.pandera import PanderaEngine
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.gx.engine import GxEngine
from tests.test_engine_pandera import CASES, Case, build

ENGINES: dict[str, Engine] = {"pandera-batch": PanderaBatchEngine(), "pandera": PanderaEngine(), "gx": GxEngine()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_engines_agree(tmp_path: Path, case: Case) -> None:
    table = build(tmp_path, *case.setup)
    outcomes = {}
    for name, engine in ENGINES.items():
        assert engine.supports(case.spec), name
        [result] = engine.run([case.spec], table)
        outcomes[name] = result
        assert result.status is case.status, f"{name}: {result.status} {result.message}"
        if case.spec.is_row_level:
            assert result.failing_rows == case.failing_rows, name
        elif case.id != "freshness_stale":
            assert (
                result.observed == pytest.approx(case.observed)
                if isinstance(case.observed, float)
                else result.observed == case.observed
            ), name
    statuses = {name: r.status for name, r in outcomes.items()}
    assert len(set(statuses.values())) == 1, statuses


def test_batch_engine_scans_the_table_once(tmp_path: Path) -> None:
    """All in-pass specs (and the history's fingerprint) are answered by one statement that reads the
    table; the only other read is the integer key's range (one column), for its bitmap count."""
    from dq.checks.spec import CheckKind as K
    from tests.test_engine_pandera import spec, values

    table = build(tmp_path, values("id, age, email", "(1, 30, 'a@x.io')", "(2, 45, 'b@x.io')", "(3, NULL, NULL)"))
    specs = [
        spec(K.not_null, "id"),
        spec(K.unique, "id"),
        spec(K.between, "age", min=18, max=120),
        spec(K.pattern, "email", regex="@"),
        spec(K.row_count, min=1),
        spec(K.mean, "age", max=100),
        spec(K.null_fraction, "age", max=0.5),
        spec(K.distinct_count, "id", min=3),
    ]
    statements: list[str] = []
    traced = _Tracing(table.connection, statements)
    results = PanderaBatchEngine().run(
        specs, table.__class__(traced, table.db_path, table.schema, table.name, table.columns)
    )  # type: ignore[arg-type]
    assert [r.status for r in results] == [Status.passed] * len(specs)
    reads = [s for s in statements if '"main"."t"' in s]
    assert len(reads) == 2, reads
    key_range, single_pass = reads
    assert key_range.startswith('SELECT min("id"), max("id"), count("id") FROM')
    assert single_pass.count(" FROM ") == 1 and "bitstring_agg" in single_pass and "__dq_fp_total" in single_pass


class _Tracing:
    """A DuckDB connection that records the statements sent through it (no mock: it forwards)."""

    def __init__(self, connection, log: list[str]) -> None:  # type: ignore[no-untyped-def]
        self._connection, self._log = connection, log

    def execute(self, query: str, *args):  # type: ignore[no-untyped-def]
        self._log.append(query)
        return self._connection.execute(query, *args)
