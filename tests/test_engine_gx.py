"""The GX engine on real DuckDB files with real Great Expectations (no mocks).

GX is slow (seconds to import, ~1 s per validation), so one module-scoped run checks many specs
and the parametrized cases only read its results.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from dq.checks.kinds import GX, run_by
from dq.checks.relation import Relation
from dq.checks.result import CheckResult, Status
from dq.checks.spec import HISTORY_KINDS, TRAINING_KINDS, CheckKind, CheckSpec
from dq.contract.model import Severity
from dq.data.source import Table, open_database, resolve_table
from dq.gx import adapter as gx_adapter
from dq.gx import engine as gx_engine
from dq.gx.engine import GxEngine, build_suite
from tests.kind_samples import sample_spec

K = CheckKind
NOW = datetime.now(UTC).replace(tzinfo=None)

# 6 rows in a non-`main` schema (GX's reflection fallback loses the schema; see _fix_reflection)
ROWS = [
    # id, n, score, ok_score, name, flag, ts, amount, k1, k2, parent_id, allnull
    (1, 1, 0.5, 0.1, "ab", True, NOW - timedelta(hours=1), "1.50", 1, "a", 1, None),
    (2, 2, 1.5, 0.2, "cd", False, NOW - timedelta(days=2), "2.00", 1, "a", 2, None),
    (3, 3, "nan", 0.3, "ef", True, None, None, 1, None, 99, None),
    (4, 4, "inf", 0.4, "gh", True, None, None, 1, None, None, None),
    (5, 5, "-inf", 0.5, "ijk", None, None, None, 2, "a", None, None),
    (5, None, None, None, None, False, None, None, 2, "b", None, None),
]
CREATE = """
CREATE SCHEMA mart;
CREATE TABLE mart.items (
    id BIGINT, n INTEGER, score DOUBLE, ok_score DOUBLE, name VARCHAR, flag BOOLEAN,
    ts TIMESTAMP, amount DECIMAL(10, 2), k1 INTEGER, k2 VARCHAR, parent_id INTEGER, allnull DOUBLE
);
CREATE TABLE mart.parents AS SELECT * FROM (VALUES (1), (2), (3)) v(id);
CREATE TABLE mart.all_ids AS SELECT * FROM range(1, 6) r(id);
CREATE TABLE mart.empty (x DOUBLE, b BOOLEAN, ts TIMESTAMP);
"""


class HoursOld:
    """The age in hours of a row stamped `hours` before NOW, read at comparison time: NOW is taken
    when the module loads, and a long suite on a loaded machine reaches these cases much later."""

    def __init__(self, hours: float) -> None:
        self.hours = hours

    def __eq__(self, observed: object) -> bool:
        late = (datetime.now(UTC).replace(tzinfo=None) - NOW).total_seconds() / 3600
        return isinstance(observed, int | float) and self.hours - 0.01 <= observed <= self.hours + late + 0.02

    def __repr__(self) -> str:
        return f"{self.hours} h old (plus the time since NOW)"


COLUMNS = ("id", "n", "score", "ok_score", "name", "flag", "ts", "amount", "k1", "k2", "parent_id", "allnull")


def spec(
    name: str,
    kind: CheckKind,
    columns: tuple[str, ...] = (),
    severity: Severity = Severity.error,
    **args: Any,
) -> CheckSpec:
    return CheckSpec(name=name, kind=kind, severity=severity, columns=columns, args=args)


# (spec, expected status, expected observed, expected failing_rows); `...` = not checked
CASES: list[tuple[CheckSpec, Status, Any, Any]] = [
    # schema
    (spec("exists_pass", K.column_exists, ("id",)), Status.passed, "present", None),
    (spec("exists_fail", K.column_exists, ("gone",)), Status.failed, "missing", None),
    (spec("type_bigint", K.column_type, ("id",), type="bigint"), Status.passed, "BIGINT", None),
    (spec("type_int", K.column_type, ("n",), type="int"), Status.passed, "INTEGER", None),
    (spec("type_double", K.column_type, ("score",), type="double"), Status.passed, "DOUBLE", None),
    (spec("type_varchar", K.column_type, ("name",), type="string"), Status.passed, "VARCHAR", None),
    (spec("type_bool", K.column_type, ("flag",), type="bool"), Status.passed, "BOOLEAN", None),
    (spec("type_ts", K.column_type, ("ts",), type="timestamp"), Status.passed, "TIMESTAMP", None),
    (spec("type_decimal", K.column_type, ("amount",), type="decimal"), Status.passed, "DECIMAL(10,2)", None),
    (
        spec("type_decimal_ps", K.column_type, ("amount",), type="decimal(10,2)"),
        Status.passed,
        "DECIMAL(10,2)",
        None,
    ),
    (
        spec("type_decimal_wrong", K.column_type, ("amount",), type="decimal(12,2)"),
        Status.failed,
        "DECIMAL(10,2)",
        None,
    ),
    (spec("type_retyped", K.column_type, ("id",), type="int"), Status.failed, "BIGINT", None),
    (spec("type_tz_wrong", K.column_type, ("ts",), type="timestamptz"), Status.failed, "TIMESTAMP", None),
    (spec("type_missing", K.column_type, ("gone",), type="int"), Status.failed, "missing", None),
    (
        spec("extra_pass", K.no_extra_columns, allowed=(*COLUMNS, "declared_but_absent")),
        Status.passed,
        [],
        None,
    ),
    (
        spec("extra_fail", K.no_extra_columns, allowed=tuple(c for c in COLUMNS if c != "amount")),
        Status.failed,
        ["amount"],
        None,
    ),
    # row-level
    (spec("not_null_pass", K.not_null, ("id",)), Status.passed, None, 0),
    (spec("not_null_fail", K.not_null, ("n",)), Status.failed, None, 1),
    (spec("unique_pass", K.unique, ("name",)), Status.passed, None, 0),
    (spec("unique_fail", K.unique, ("id",)), Status.failed, None, 2),  # both rows sharing id 5
    (spec("unique_compound_pass", K.unique, ("id", "n")), Status.passed, None, 0),
    # (1,'a') twice -> 2 rows; (1,NULL) twice is exempt, as in SQL UNIQUE
    (spec("unique_compound_fail", K.unique, ("k1", "k2")), Status.failed, None, 2),
    (spec("between_pass", K.between, ("ok_score",), min=0, max=1), Status.passed, None, 0),
    (spec("between_nan_inf", K.between, ("score",), min=0, max=2), Status.failed, None, 3),  # NaN, inf, -inf
    (spec("between_min_only", K.between, ("score",), min=0, max=None), Status.failed, None, 2),  # NaN, -inf
    (
        spec("between_max_only", K.between, ("score",), min=None, max=1),
        Status.failed,
        None,
        3,
    ),  # 1.5, NaN, inf
    (spec("between_nulls_ok", K.between, ("n",), min=1, max=5), Status.passed, None, 0),
    (
        spec("accepted_pass", K.accepted_values, ("name",), values=("ab", "cd", "ef", "gh", "ijk")),
        Status.passed,
        None,
        0,
    ),
    (spec("accepted_fail", K.accepted_values, ("name",), values=("ab", "cd")), Status.failed, None, 3),
    (spec("pattern_pass", K.pattern, ("name",), regex="[a-z]"), Status.passed, None, 0),  # search, NULL ok
    (spec("pattern_fail", K.pattern, ("name",), regex="^[a-z]{2}$"), Status.failed, None, 1),
    (spec("length_pass", K.length, ("name",), min=2, max=3), Status.passed, None, 0),
    (spec("length_fail", K.length, ("name",), min=2, max=2), Status.failed, None, 1),
    (
        spec("refs_pass", K.references, ("id",), relation=Relation("mart", "all_ids"), ref_column="id", dataset="ids"),
        Status.passed,
        None,
        0,
    ),
    (
        spec(
            "refs_fail",
            K.references,
            ("parent_id",),
            relation=Relation("mart", "parents"),
            ref_column="id",
            dataset="parents",
        ),
        Status.failed,
        None,
        1,
    ),
    (spec("sql_pass", K.custom_sql, sql="SELECT * FROM {dataset} WHERE n > 100"), Status.passed, None, 0),
    (spec("expr_pass", K.expression, expr="n <= 5 -- NULL n is no violation"), Status.passed, None, 0),
    (spec("expr_fail", K.expression, expr="n < 5 AND name <> 'ab'"), Status.failed, None, 2),
    (
        spec(
            "sql_fail",
            K.custom_sql,
            sql="SELECT * FROM {dataset} WHERE n > 4 OR regexp_matches(name, 'k{1}');",
        ),
        Status.failed,
        None,
        1,
    ),
    (spec("warn_fail", K.not_null, ("n",), severity=Severity.warn), Status.warned, None, 1),
    (spec("missing_col_row", K.not_null, ("gone",)), Status.error, None, None),
    # aggregates
    (spec("rows_pass", K.row_count, min=1, max=10), Status.passed, 6, None),
    (spec("rows_fail", K.row_count, min=7), Status.failed, 6, None),
    (
        spec("nulls_pass", K.null_fraction, ("n",), max=0.2),
        Status.passed,
        pytest.approx(1 / 6, abs=1e-6),
        None,
    ),
    (
        spec("nulls_fail", K.null_fraction, ("n",), max=0.1),
        Status.failed,
        pytest.approx(1 / 6, abs=1e-6),
        None,
    ),
    (spec("nulls_boundary", K.null_fraction, ("parent_id",), max=0.5), Status.passed, 0.5, None),
    (spec("distinct_pass", K.distinct_count, ("id",), min=5), Status.passed, 5, None),
    (spec("distinct_fail", K.distinct_count, ("id",), max=4), Status.failed, 5, None),
    (spec("mean_pass", K.mean, ("ok_score",), min=0.2, max=0.4), Status.passed, pytest.approx(0.3), None),
    (spec("mean_fail", K.mean, ("ok_score",), min=0.5), Status.failed, pytest.approx(0.3), None),
    (spec("mean_bool_pass", K.mean, ("flag",), min=0.5, max=0.7), Status.passed, pytest.approx(0.6), None),
    (spec("mean_bool_fail", K.mean, ("flag",), min=0.7, max=1), Status.failed, pytest.approx(0.6), None),
    (spec("mean_all_null", K.mean, ("allnull",), min=0), Status.failed, None, None),
    (spec("stddev_pass", K.stddev, ("n",), min=1, max=2), Status.passed, pytest.approx(1.5811388), None),
    (spec("stddev_fail", K.stddev, ("n",), max=1), Status.failed, pytest.approx(1.5811388), None),
    (spec("quantile_pass", K.quantile, ("n",), q=0.5, min=3, max=3), Status.passed, 3, None),
    (spec("quantile_fail", K.quantile, ("n",), q=0.5, min=3.5, max=None), Status.failed, 3, None),
    (
        spec("fresh_pass", K.freshness, ("ts",), max_age_seconds=2 * 3600),
        Status.passed,
        HoursOld(1),
        None,
    ),
    (
        spec("fresh_stale", K.freshness, ("ts",), max_age_seconds=1800),
        Status.failed,
        HoursOld(1),
        None,
    ),
]
EMPTY_CASES: list[tuple[CheckSpec, Status, Any, Any]] = [
    (spec("e_rows", K.row_count, min=1), Status.failed, 0, None),
    (spec("e_not_null", K.not_null, ("x",)), Status.passed, None, 0),
    (spec("e_nulls", K.null_fraction, ("x",), max=0), Status.passed, 0.0, None),
    (spec("e_mean", K.mean, ("x",), min=0), Status.failed, None, None),
    (spec("e_mean_bool", K.mean, ("b",), max=1), Status.failed, None, None),
    (spec("e_stddev", K.stddev, ("x",), min=0), Status.failed, None, None),
    (spec("e_quantile", K.quantile, ("x",), q=0.9, max=1), Status.failed, None, None),
    (spec("e_fresh", K.freshness, ("ts",), max_age_seconds=3600), Status.failed, None, None),
    (spec("e_type", K.column_type, ("x",), type="double"), Status.passed, "DOUBLE", None),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("gx") / "warehouse.duckdb"
    writer = duckdb.connect(str(path))
    writer.execute(CREATE)
    writer.executemany(f"INSERT INTO mart.items VALUES ({', '.join('?' * len(COLUMNS))})", ROWS)
    writer.close()
    connection = open_database(path)
    yield connection
    connection.close()


def table(db: duckdb.DuckDBPyConnection, name: str) -> Table:
    row = db.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    assert row is not None
    path = Path(row[0])
    return resolve_table(db, path, "mart", name)


class Queries:
    """Every statement SQLAlchemy sent during a block."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __enter__(self) -> Queries:
        sa.event.listen(sa.Engine, "before_cursor_execute", self._sent)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(sa.Engine, "before_cursor_execute", self._sent)

    def _sent(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sent.append(" ".join(statement.split()))


@pytest.fixture(scope="module")
def main_run(db: duckdb.DuckDBPyConnection) -> tuple[dict[str, CheckResult], Queries, list[CheckResult]]:
    specs = [case[0] for case in CASES]
    with Queries() as queries:
        results = GxEngine().run(specs, table(db, "items"))
    return {r.name: r for r in results}, queries, results


@pytest.fixture(scope="module")
def empty_run(db: duckdb.DuckDBPyConnection) -> dict[str, CheckResult]:
    return {r.name: r for r in GxEngine().run([case[0] for case in EMPTY_CASES], table(db, "empty"))}


def check(result: CheckResult, status: Status, observed: Any, failing_rows: Any) -> None:
    assert result.engine == "gx"
    assert result.status is status, result
    if status is not Status.error:
        assert result.observed == observed, result
        assert result.failing_rows == failing_rows, result
    else:
        assert result.message, result


@pytest.mark.parametrize(("case", "status", "observed", "failing_rows"), CASES, ids=[c[0].name for c in CASES])
def test_case(main_run: Any, case: CheckSpec, status: Status, observed: Any, failing_rows: Any) -> None:
    check(main_run[0][case.name], status, observed, failing_rows)


@pytest.mark.parametrize(
    ("case", "status", "observed", "failing_rows"), EMPTY_CASES, ids=[c[0].name for c in EMPTY_CASES]
)
def test_empty_table_fails_closed(
    empty_run: Any, case: CheckSpec, status: Status, observed: Any, failing_rows: Any
) -> None:
    check(empty_run[case.name], status, observed, failing_rows)


def test_every_kind_is_covered_and_results_keep_order(main_run: Any) -> None:
    _, _, results = main_run
    assert [r.name for r in results] == [c[0].name for c in CASES]
    covered = {c[0].kind for c in CASES}
    # label/leakage/drift: no GX expectation, Pandera runs them; history and reconciliation checks:
    # pandera-batch judges them (the table of kinds says which engine runs what)
    gx_kinds = set(run_by(GX))
    assert not gx_kinds & (TRAINING_KINDS | HISTORY_KINDS)
    assert covered == gx_kinds
    for kind in gx_kinds:
        statuses = {c[1] for c in CASES if c[0].kind is kind}
        assert Status.passed in statuses and (statuses & {Status.failed, Status.warned}), kind
    assert all(GxEngine().supports(c[0]) for c in CASES)
    assert not any(GxEngine().supports(sample_spec(kind)) for kind in set(CheckKind) - gx_kinds)


def test_missing_column_message(main_run: Any) -> None:
    assert "gone" in main_run[0]["missing_col_row"].message


def test_reflection_reads_information_schema(main_run: Any) -> None:
    """Columns come from information_schema: no pg_catalog reflection, no `SELECT * LIMIT` fallback."""
    _, queries, _ = main_run
    assert sum("information_schema.columns" in q for q in queries.sent) == 1
    assert not any("pg_catalog" in q for q in queries.sent)
    assert not any(q.startswith("SELECT * FROM") and "LIMIT" in q for q in queries.sent)


def test_query_count_is_bounded(main_run: Any) -> None:
    _, queries, results = main_run
    assert len(queries.sent) < 3 * len(results)


def test_without_reflection_fix_other_schemas_break(
    db: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gx_adapter, "fix_reflection", lambda engine: None)
    with Queries() as queries:
        [result] = GxEngine().run([spec("exists", K.column_exists, ("id",))], table(db, "items"))
    # SQLAlchemy 2.1's PostgreSQL reflection (pg_attribute + pg_collation) fails on DuckDB, and
    # GX's fallback drops the schema: `SELECT * FROM items LIMIT 1` -> table not found
    assert result.status is Status.error
    assert "items does not exist" in result.message
    assert any("pg_catalog.pg_attribute" in q for q in queries.sent)
    assert any(q.startswith("SELECT * FROM items LIMIT") for q in queries.sent)


def test_result_buffering_fix_is_needed(db: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the execute_query fix every expectation errors with IndexError (GX #10738, #11579)."""
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    specs = [spec("rows", K.row_count, min=1), spec("nn", K.not_null, ("id",))]
    gx_adapter.install_result_buffering()
    patched = SqlAlchemyExecutionEngine.execute_query
    original = patched.__wrapped__  # type: ignore[attr-defined]
    monkeypatch.setattr(gx_adapter, "install_result_buffering", lambda: None)
    monkeypatch.setattr(SqlAlchemyExecutionEngine, "execute_query", original)
    broken = GxEngine().run(specs, table(db, "items"))
    assert [r.status for r in broken] == [Status.error, Status.error]
    assert all("list index out of range" in r.message for r in broken), broken

    monkeypatch.undo()
    gx_adapter.install_result_buffering()
    gx_adapter.install_result_buffering()  # idempotent
    assert SqlAlchemyExecutionEngine.execute_query.__wrapped__ is original  # type: ignore[attr-defined]
    fixed = GxEngine().run(specs, table(db, "items"))
    assert [r.status for r in fixed] == [Status.passed, Status.passed]


def test_crash_is_an_error_result_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "gone.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE t AS SELECT 1 AS a").close()
    connection = open_database(path)
    closed = resolve_table(connection, path, "main", "t")
    connection.close()
    specs = [spec("a", K.not_null, ("a",)), spec("b", K.row_count, min=1)]
    results = GxEngine().run(specs, closed)
    assert [r.status for r in results] == [Status.error, Status.error]
    assert all(r.message and "Traceback" not in r.message for r in results)


def test_run_is_quiet(db: duckdb.DuckDBPyConnection, capfd: pytest.CaptureFixture[str]) -> None:
    GxEngine().run(
        [spec("rows", K.row_count, min=1), spec("sql", K.custom_sql, sql="SELECT 1 WHERE false")],
        table(db, "items"),
    )
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_duplicate_expectations_each_get_a_result(db: duckdb.DuckDBPyConnection) -> None:
    specs = [
        spec("a", K.not_null, ("n",)),
        spec("b", K.not_null, ("n",), severity=Severity.warn),
        spec("c", K.column_exists, ("n",)),
        spec("d", K.column_type, ("n",), type="int"),
    ]
    results = GxEngine().run(specs, table(db, "items"))
    assert [(r.name, r.status) for r in results] == [
        ("a", Status.failed),
        ("b", Status.warned),
        ("c", Status.passed),
        ("d", Status.passed),
    ]


def test_mostly_rounds_down() -> None:
    assert 1 - 0.7 > 0.3  # the float trap
    assert gx_engine._mostly(0.7) == 0.3  # 7 non-null of 10 reaches it: a null fraction of 0.7 passes
    assert gx_engine._mostly(0.1) <= 0.9 and gx_engine._mostly(1 / 3) < 1 - 1 / 3 + 1e-15
    assert gx_engine._mostly(0) == 1.0 and gx_engine._mostly(1) == 0.0


def test_build_suite() -> None:
    specs = [c[0] for c in CASES]
    suite = build_suite(specs)
    types = {e.expectation_type for e in suite.expectations}
    assert {
        "expect_column_to_exist",
        "expect_column_values_to_be_between",
        "unexpected_rows_expectation",
        "expect_column_quantile_values_to_be_between",
        "expect_column_max_to_be_between",
    } <= types
    owners = [(e.meta or {}).get("dq_spec") for e in suite.expectations]
    # every spec has its expectations, except where GX keeps one copy of an equal expectation
    assert set(owners) == {s.name for s in specs} - {"warn_fail"}  # same expectation as not_null_fail
    regex = suite.expectations[owners.index("pattern_fail")]
    query = str(regex.configuration.kwargs["unexpected_rows_query"])
    assert "{{2}}" in query and "{batch}" in query  # the regex quantifier survives GX's str.format
