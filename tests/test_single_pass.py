"""The batch engine's one pass: the fingerprint folded into it, dense keys counted with a bitmap,
and keys a DuckDB constraint proves. Each must give exactly the verdicts of the plain measurement."""

from __future__ import annotations

from pathlib import Path

import pytest

from dq.checks.result import CheckResult, Status
from dq.checks.spec import CheckKind as K
from dq.checks.spec import CheckSpec
from dq.data.constraints import key_constraints
from dq.data.fingerprint import FINGERPRINT_FACT
from dq.data.source import Table
from dq.engines.dense_keys import dense_key_expressions
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.run import history
from tests.test_engine_pandera import build, spec


def _run(table: Table, *specs: CheckSpec) -> list[CheckResult]:
    return PanderaBatchEngine().run(list(specs), table)


def _separate_scan_fingerprint(table: Table) -> tuple[str, int] | None:
    """The fingerprint as its own scan computes it (a fresh Table: no facts from a pass)."""
    fresh = Table(table.connection, table.db_path, table.schema, table.name, dict(table.columns))
    return history.dataset_fingerprint(fresh)


TABLES = {
    "ints": "CREATE TABLE t AS SELECT range AS id, range % 7 AS x FROM range(1000)",
    "nulls and text": "CREATE TABLE t AS SELECT CASE WHEN range % 3 = 0 THEN NULL ELSE range END AS id, "
    "'v' || (range % 5) AS s, range / 3.0 AS d FROM range(500)",
    "empty": "CREATE TABLE t (id BIGINT, s VARCHAR)",
    "duplicated rows": "CREATE TABLE t AS SELECT range % 10 AS id FROM range(100)",
}


@pytest.mark.parametrize("setup", TABLES.values(), ids=TABLES.keys())
def test_the_fingerprint_from_the_pass_is_the_fingerprint_of_its_own_scan(tmp_path: Path, setup: str) -> None:
    table = build(tmp_path, setup)
    results = _run(table, spec(K.row_count, min=0), spec(K.not_null, "id"))
    assert all(r.status in (Status.passed, Status.failed) for r in results)
    assert FINGERPRINT_FACT in table.facts, "the pass did not measure the fingerprint"
    assert history.dataset_fingerprint(table) == _separate_scan_fingerprint(table)


def test_a_pass_that_fails_leaves_the_fingerprint_to_its_own_scan(tmp_path: Path) -> None:
    table = build(tmp_path, "CREATE TABLE t AS SELECT range AS id, 'x' AS s FROM range(10)")
    (result,) = _run(table, spec(K.mean, "s", min=0))  # a mean over text: DuckDB refuses the pass
    assert result.status is Status.error
    assert FINGERPRINT_FACT not in table.facts
    assert history.dataset_fingerprint(table) == _separate_scan_fingerprint(table) is not None


def _truth(table: Table, column: str) -> int:
    """Rows whose non-null key repeats, counted independently of dq's SQL."""
    values = [row[0] for row in table.connection.execute(f'SELECT "{column}" FROM {table.relation}').fetchall()]
    present = [v for v in values if v is not None]
    return sum(1 for v in present if present.count(v) > 1)


KEYS = {
    "unique ids": ("BIGINT", "SELECT range + 1 FROM range(300)", True),
    "one duplicate": ("BIGINT", "SELECT CASE WHEN range = 5 THEN 4 ELSE range END FROM range(300)", True),
    "nulls are not keys": ("INTEGER", "SELECT CASE WHEN range % 4 = 0 THEN NULL ELSE range END FROM range(300)", True),
    "nulls and duplicates": (
        "INTEGER",
        "SELECT CASE WHEN range % 4 = 0 THEN NULL ELSE range % 50 END FROM range(300)",
        True,
    ),
    "negative": ("SMALLINT", "SELECT range - 150 FROM range(300)", True),
    "BIGINT extremes": ("BIGINT", "SELECT -9223372036854775808 + range FROM range(300)", True),
    "UBIGINT top": ("UBIGINT", "SELECT 18446744073709551615 - range FROM range(300)", True),
    "sparse: too wide for a bitmap": ("BIGINT", "SELECT range * 1000000000 FROM range(300)", False),
    "all null": ("BIGINT", "SELECT NULL FROM range(10)", False),
    "text keys keep count(DISTINCT)": ("VARCHAR", "SELECT 'k' || (range % 200) FROM range(300)", False),
}


@pytest.mark.parametrize(("kind", "rows", "bitmap"), KEYS.values(), ids=KEYS.keys())
def test_a_dense_key_counted_with_a_bitmap_gives_the_exact_verdict(
    tmp_path: Path, kind: str, rows: str, bitmap: bool
) -> None:
    table = build(tmp_path, f"CREATE TABLE t (k {kind})", f"INSERT INTO t {rows}")
    check = spec(K.unique, "k")
    assert bool(dense_key_expressions({0: check}, table)) is bitmap
    (result,) = _run(table, check)
    expected = _truth(table, "k")
    assert result.failing_rows == expected
    assert result.status is (Status.passed if expected == 0 else Status.failed)


def test_a_view_keeps_count_distinct(tmp_path: Path) -> None:
    table = build(tmp_path, "CREATE TABLE base AS SELECT range AS k FROM range(100)", "CREATE VIEW t AS FROM base")
    assert dense_key_expressions({0: spec(K.unique, "k")}, table) == {}
    assert _run(table, spec(K.unique, "k"))[0].status is Status.passed


# --- keys the database proves ---------------------------------------------------------------------

CONSTRAINED = {
    "primary key": (
        "CREATE TABLE t (id BIGINT PRIMARY KEY, a VARCHAR, b INTEGER)",
        "INSERT INTO t SELECT range, 'a' || (range % 3), range % 2 FROM range(60)",
    ),
    "unique pair with NULL parts": (
        "CREATE TABLE t (id BIGINT, a VARCHAR, b INTEGER, UNIQUE (a, b))",
        "INSERT INTO t SELECT range % 5, CASE WHEN range % 3 = 0 THEN NULL ELSE 'a' || range END, "
        "CASE WHEN range % 4 = 0 THEN NULL ELSE 1 END FROM range(60)",
    ),
    "unique on a part of the checked key": (
        "CREATE TABLE t (id BIGINT UNIQUE, a VARCHAR, b INTEGER)",
        "INSERT INTO t SELECT range, 'a' || (range % 3), range % 2 FROM range(60)",
    ),
}
CHECKS = [
    spec(K.unique, "id"),
    spec(K.not_null, "id"),
    spec(K.unique, "a", "b"),
    spec(K.unique, "id", "a"),
    spec(K.unique, "a"),
    spec(K.not_null, "a"),
]


@pytest.mark.parametrize("setup", CONSTRAINED.values(), ids=CONSTRAINED.keys())
def test_tables_with_and_without_constraints_give_identical_verdicts(tmp_path: Path, setup: tuple[str, str]) -> None:
    create, insert = setup
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    constrained = build(tmp_path / "with", create, insert)
    plain_create = "CREATE TABLE t (id BIGINT, a VARCHAR, b INTEGER)"
    plain = build(tmp_path / "without", plain_create, insert)
    assert key_constraints(constrained) and not key_constraints(plain)
    with_proof, without = _run(constrained, *CHECKS), _run(plain, *CHECKS)
    for proved, counted in zip(with_proof, without, strict=True):
        assert (proved.name, proved.status, proved.failing_rows) == (counted.name, counted.status, counted.failing_rows)
        assert counted.message == ""
    proofs = {r.name for r in with_proof if r.message.startswith("passed by the database's constraint")}
    assert proofs, "no check was proved by the constraint"
    assert all(r.status is Status.passed for r in with_proof if r.name in proofs)


def test_only_exactly_the_constrained_columns_are_proved(tmp_path: Path) -> None:
    table = build(
        tmp_path,
        "CREATE TABLE t (id BIGINT PRIMARY KEY, a VARCHAR, b INTEGER, UNIQUE (a, b))",
        "INSERT INTO t SELECT range, 'a' || (range % 3), range FROM range(30)",
    )
    by_name = {r.name: r for r in _run(table, *CHECKS)}
    proved = {name for name, r in by_name.items() if r.message.startswith("passed by the database's constraint")}
    assert proved == {"id.unique", "id.not_null", "a_b.unique"}
    assert "PRIMARY KEY(id) on main.t" in by_name["id.unique"].message
    assert by_name["a.unique"].status is Status.failed and by_name["a.unique"].failing_rows == 30


def test_a_primary_key_does_not_prove_a_double_has_no_nan(tmp_path: Path) -> None:
    """A PRIMARY KEY keeps NULL out, not NaN; NaN is a missing value to dq."""
    table = build(tmp_path, "CREATE TABLE t (x DOUBLE PRIMARY KEY)", "INSERT INTO t VALUES (1.0), ('NaN'), (2.0)")
    from dq.data.bind import bind_spec, collated_columns, nan_holding_columns

    checks = [
        bind_spec(s, table, collated_columns(table), nan_holding_columns(table))
        for s in (spec(K.not_null, "x"), spec(K.unique, "x"))
    ]
    not_null, unique = _run(table, *checks)
    assert not_null.status is Status.failed and not_null.failing_rows == 1
    assert unique.status is Status.passed


def test_constraints_of_another_table_prove_nothing(tmp_path: Path) -> None:
    table = build(
        tmp_path,
        "CREATE TABLE other (id BIGINT PRIMARY KEY)",
        "CREATE TABLE t AS SELECT range % 3 AS id FROM range(9)",
    )
    assert key_constraints(table) == []
    (result,) = _run(table, spec(K.unique, "id"))
    assert result.status is Status.failed and result.failing_rows == 9
