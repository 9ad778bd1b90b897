"""PanderaEngine against real DuckDB files and real Pandera (Ibis backend): no mocks."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.kinds import PANDERA, run_by
from dq.checks.relation import Relation
from dq.checks.result import Status
from dq.checks.spec import HISTORY_KINDS, CheckKind, CheckSpec
from dq.checks.sql import failing_count_query
from dq.contract.model import Severity
from dq.data.source import Table, fetch_one, open_database, resolve_table
from dq.engines.pandera import PanderaEngine
from tests.kind_samples import sample_spec

ENGINE = PanderaEngine()


def build(tmp_path: Path, *statements: str, table: str = "t") -> Table:
    """Create a DuckDB file with `statements`, reopen it read-only like the runner does."""
    path = tmp_path / "warehouse.duckdb"
    writer = duckdb.connect(str(path))
    for statement in statements:
        writer.execute(statement)
    writer.close()
    return resolve_table(open_database(path), path, "main", table)


def spec(kind: CheckKind, *columns: str, severity: Severity = Severity.error, **args: Any) -> CheckSpec:
    return CheckSpec(
        name=f"{'_'.join(columns) or 'table'}.{kind.value}",
        kind=kind,
        severity=severity,
        columns=columns,
        args=args,
    )


@dataclass
class Case:
    id: str
    setup: tuple[str, ...]
    spec: CheckSpec
    status: Status
    failing_rows: int | None = None
    observed: Any = field(default=None)


def values(columns: str, *rows: str) -> str:
    return f"CREATE TABLE t AS SELECT * FROM (VALUES {', '.join(rows)}) v({columns})"


PEOPLE = values("id, age, email", "(1, 30, 'a@x.io')", "(2, 45, 'b@x.io')", "(3, NULL, NULL)")
DOUBLES = values("x", "(1.0::DOUBLE)", "(50.0)", "(NULL)")
EMPTY = "CREATE TABLE t (id INTEGER, x DOUBLE, ts TIMESTAMP)"
K = CheckKind

CASES = [
    # --- schema ---
    Case("exists", (PEOPLE,), spec(K.column_exists, "id"), Status.passed, observed="present"),
    Case("exists_missing", (PEOPLE,), spec(K.column_exists, "height"), Status.failed, observed="missing"),
    Case(
        "type_integer",
        (PEOPLE,),
        spec(K.column_type, "id", type="INTEGER"),
        Status.passed,
        observed="INTEGER",
    ),
    Case(
        "type_retyped",
        (values("id", "('1')", "('2')"),),
        spec(K.column_type, "id", type="INTEGER"),
        Status.failed,
        observed="VARCHAR",
    ),
    Case(
        "type_bigint_vs_int",
        (PEOPLE,),
        spec(K.column_type, "id", type="BIGINT"),
        Status.failed,
        observed="INTEGER",
    ),
    Case(
        "type_timestamp",
        (EMPTY,),
        spec(K.column_type, "ts", type="TIMESTAMP"),
        Status.passed,
        observed="TIMESTAMP",
    ),
    Case(
        "type_timestamptz",
        ("CREATE TABLE t (ts TIMESTAMPTZ)",),
        spec(K.column_type, "ts", type="TIMESTAMP WITH TIME ZONE"),
        Status.passed,
        observed="TIMESTAMP WITH TIME ZONE",
    ),
    Case(
        "type_timestamptz_vs_naive",
        (EMPTY,),
        spec(K.column_type, "ts", type="TIMESTAMP WITH TIME ZONE"),
        Status.failed,
        observed="TIMESTAMP",
    ),
    Case(
        "type_decimal",
        ("CREATE TABLE t (p DECIMAL(18,3))",),
        spec(K.column_type, "p", type="DECIMAL(18,3)"),
        Status.passed,
        observed="DECIMAL(18,3)",
    ),
    Case(
        "type_decimal_scale",
        ("CREATE TABLE t (p DECIMAL(10,2))",),
        spec(K.column_type, "p", type="DECIMAL(18,3)"),
        Status.failed,
        observed="DECIMAL(10,2)",
    ),
    Case(
        "type_bare_decimal",
        ("CREATE TABLE t (p DECIMAL(10,2))",),
        spec(K.column_type, "p", type="DECIMAL"),
        Status.passed,
        observed="DECIMAL(10,2)",
    ),
    Case(
        "type_varchar_bool_date",
        ("CREATE TABLE t (s VARCHAR)",),
        spec(K.column_type, "s", type="VARCHAR"),
        Status.passed,
        observed="VARCHAR",
    ),
    Case(
        "no_extra",
        (PEOPLE,),
        spec(K.no_extra_columns, allowed=("id", "age", "email")),
        Status.passed,
        observed=[],
    ),
    Case(
        "extra",
        (PEOPLE,),
        spec(K.no_extra_columns, allowed=("id",)),
        Status.failed,
        observed=["age", "email"],
    ),
    # --- not_null ---
    Case("not_null", (PEOPLE,), spec(K.not_null, "id"), Status.passed, failing_rows=0),
    Case(
        "not_null_fails",
        (values("a", "(NULL::INT)", "(1)", "(NULL)"),),
        spec(K.not_null, "a"),
        Status.failed,
        failing_rows=2,
    ),
    Case(
        "not_null_nan_is_a_value",
        (values("x", "('NaN'::DOUBLE)", "(1.0)"),),
        spec(K.not_null, "x"),
        Status.passed,
        failing_rows=0,
    ),
    # --- unique ---
    Case("unique", (PEOPLE,), spec(K.unique, "id"), Status.passed, failing_rows=0),
    Case(
        "unique_duplicated_key",
        (values("id", "(7)", "(7)", "(8)"),),
        spec(K.unique, "id"),
        Status.failed,
        failing_rows=2,
    ),
    Case(
        "unique_nulls_ignored",
        (values("id", "(NULL::INT)", "(NULL)", "(1)"),),
        spec(K.unique, "id"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "unique_compound",
        (values("a, b", "(1, 'x')", "(1, 'y')", "(2, 'x')"),),
        spec(K.unique, "a", "b"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "unique_compound_dup",
        (values("a, b", "(1, 'x')", "(1, 'x')", "(1, 'y')", "(1, 'x')"),),
        spec(K.unique, "a", "b"),
        Status.failed,
        failing_rows=3,
    ),
    Case(
        "unique_compound_null_part",
        (values("a, b", "(1, NULL)", "(1, NULL)", "(2, 'x')"),),
        spec(K.unique, "a", "b"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "unique_compound_dup_beside_null_part",  # (1, NULL) must not offset the duplicated (1, 'x')
        (values("a, b", "(1, 'x')", "(1, 'x')", "(1, NULL)"),),
        spec(K.unique, "a", "b"),
        Status.failed,
        failing_rows=2,
    ),
    # --- between ---
    Case("between", (PEOPLE,), spec(K.between, "age", min=18, max=120), Status.passed, failing_rows=0),
    Case(
        "between_fails",
        (values("age", "(5)", "(200)", "(17)", "(18)", "(NULL)"),),
        spec(K.between, "age", min=18.0, max=120.0),
        Status.failed,
        failing_rows=3,
    ),
    Case(
        "between_warn",
        (values("age", "(5)", "(30)"),),
        spec(K.between, "age", severity=Severity.warn, min=18, max=120),
        Status.warned,
        failing_rows=1,
    ),
    Case("between_nulls_ok", (DOUBLES,), spec(K.between, "x", min=0, max=100), Status.passed, failing_rows=0),
    Case(
        "between_nan",
        (values("x", "('NaN'::DOUBLE)", "(1.0)"),),
        spec(K.between, "x", min=0, max=100),
        Status.failed,
        failing_rows=1,
    ),
    Case(
        "between_inf",
        (values("x", "('Infinity'::DOUBLE)", "(1.0)"),),
        spec(K.between, "x", min=0, max=100),
        Status.failed,
        failing_rows=1,
    ),
    Case(
        "between_neg_inf_min_only",
        (values("x", "('-Infinity'::DOUBLE)", "(1.0)"),),
        spec(K.between, "x", min=0, max=None),
        Status.failed,
        failing_rows=1,
    ),
    Case(
        "between_max_only",
        (values("x", "(1.0::DOUBLE)", "(5.0)"),),
        spec(K.between, "x", min=None, max=4),
        Status.failed,
        failing_rows=1,
    ),
    Case(
        "between_min_only_pass",
        (DOUBLES,),
        spec(K.between, "x", min=1, max=None),
        Status.passed,
        failing_rows=0,
    ),
    # --- accepted_values ---
    Case(
        "accepted",
        (values("s", "('a')", "('b')", "(NULL)"),),
        spec(K.accepted_values, "s", values=("a", "b")),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "accepted_fails",
        (values("s", "('a')", "('c')", "('d')", "(NULL)"),),
        spec(K.accepted_values, "s", values=("a", "b")),
        Status.failed,
        failing_rows=2,
    ),
    Case(
        "accepted_value_holding_alias_text",  # '__t.x' is data, not the SQL alias __t
        (values("s", "('x')", "('x')"),),
        spec(K.accepted_values, "s", values=("__t.x",)),
        Status.failed,
        failing_rows=2,
    ),
    # --- pattern (search semantics) ---
    Case(
        "pattern_search",
        (values("s", "('abc123')", "('x9')", "(NULL)"),),
        spec(K.pattern, "s", regex="[0-9]+"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "pattern_anchored",
        (values("s", "('abc123')", "('123')", "(NULL)"),),
        spec(K.pattern, "s", regex="^[0-9]+$"),
        Status.failed,
        failing_rows=1,
    ),
    Case(
        "pattern_email",
        (PEOPLE,),
        spec(K.pattern, "email", regex=r"^[^@]+@[^@]+\.[a-z]+$"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "pattern_unanchored_fails",
        (values("s", "('abc')", "('a1')"),),
        spec(K.pattern, "s", regex="[0-9]"),
        Status.failed,
        failing_rows=1,
    ),
    Case(
        "pattern_holding_alias_text",
        (values("s", "('123')", "('123')", "('__t.5')"),),
        spec(K.pattern, "s", regex=r"^__t.\d+$"),
        Status.failed,
        failing_rows=2,
    ),
    # --- length ---
    Case(
        "length",
        (values("s", "('ab')", "('abcd')", "(NULL)"),),
        spec(K.length, "s", min=2, max=4),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "length_fails",
        (values("s", "('a')", "('abcde')", "('abc')"),),
        spec(K.length, "s", min=2.0, max=4.0),
        Status.failed,
        failing_rows=2,
    ),
    # --- references ---
    Case(
        "references",
        (
            values("plan_id", "(1)", "(2)", "(NULL)"),
            "CREATE TABLE plans AS SELECT 1 AS id UNION ALL SELECT 2",
        ),
        spec(K.references, "plan_id", relation=Relation("main", "plans"), ref_column="id", dataset="plans"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "references_fails",
        (values("plan_id", "(1)", "(3)", "(4)", "(NULL)"), "CREATE TABLE plans AS SELECT 1 AS id"),
        spec(K.references, "plan_id", relation=Relation("main", "plans"), ref_column="id", dataset="plans"),
        Status.failed,
        failing_rows=2,
    ),
    Case(
        "references_self",
        (values("id, parent", "(1, NULL)", "(2, 1)", "(3, 9)"),),
        spec(K.references, "parent", relation=Relation("main", "t"), ref_column="id", dataset="t"),
        Status.failed,
        failing_rows=1,
    ),
    # --- custom_sql ---
    Case(
        "custom_sql",
        (PEOPLE,),
        spec(K.custom_sql, sql="SELECT * FROM {dataset} WHERE age < 0;"),
        Status.passed,
        failing_rows=0,
    ),
    Case(
        "custom_sql_fails",
        (values("x", "(-1)", "(-2)", "(3)"),),
        spec(K.custom_sql, sql="select x from {dataset} where x < 0 order by x"),
        Status.failed,
        failing_rows=2,
    ),
    # --- aggregates ---
    Case("row_count", (PEOPLE,), spec(K.row_count, min=1, max=None), Status.passed, observed=3),
    Case("row_count_empty", (EMPTY,), spec(K.row_count, min=1, max=None), Status.failed, observed=0),
    Case("row_count_max", (PEOPLE,), spec(K.row_count, min=None, max=2), Status.failed, observed=3),
    Case(
        "null_fraction",
        (values("a", "(NULL::INT)", "(1)", "(2)", "(3)"),),
        spec(K.null_fraction, "a", max=0.25),
        Status.passed,
        observed=0.25,
    ),
    Case(
        "null_fraction_fails",
        (values("a", "(NULL::INT)", "(NULL)", "(NULL)", "(3)"),),
        spec(K.null_fraction, "a", max=0.5),
        Status.failed,
        observed=0.75,
    ),
    Case("null_fraction_empty", (EMPTY,), spec(K.null_fraction, "x", max=0.1), Status.passed, observed=0.0),
    Case(
        "distinct",
        (values("a", "(1)", "(1)", "(2)", "(NULL)"),),
        spec(K.distinct_count, "a", min=2, max=2),
        Status.passed,
        observed=2,
    ),
    Case(
        "distinct_fails",
        (values("a", "(1)", "(1)", "(2)"),),
        spec(K.distinct_count, "a", min=3, max=None),
        Status.failed,
        observed=2,
    ),
    Case(
        "mean",
        (values("x", "(1)", "(2)", "(3)", "(NULL)"),),
        spec(K.mean, "x", min=1.5, max=2.5),
        Status.passed,
        observed=2.0,
    ),
    Case(
        "mean_fails",
        (values("x", "(1)", "(2)", "(3)"),),
        spec(K.mean, "x", min=None, max=1.0),
        Status.failed,
        observed=2.0,
    ),
    Case(
        "mean_boolean",
        (values("b", "(true)", "(false)", "(false)", "(false)"),),
        spec(K.mean, "b", max=0.3),
        Status.passed,
        observed=0.25,
    ),
    Case("mean_empty_fails_closed", (EMPTY,), spec(K.mean, "x", min=0, max=None), Status.failed, observed=None),
    Case(
        "mean_all_null_fails_closed",
        (values("x", "(NULL::DOUBLE)", "(NULL)"),),
        spec(K.mean, "x", max=10),
        Status.failed,
        observed=None,
    ),
    Case(
        "stddev",
        (values("x", "(1)", "(2)", "(3)"),),
        spec(K.stddev, "x", min=0.5, max=1.5),
        Status.passed,
        observed=1.0,
    ),
    Case(
        "stddev_fails",
        (values("x", "(1)", "(2)", "(3)"),),
        spec(K.stddev, "x", max=0.5),
        Status.failed,
        observed=1.0,
    ),
    Case(
        "stddev_one_row_fails_closed",
        (values("x", "(1)"),),
        spec(K.stddev, "x", max=0.5),
        Status.failed,
        observed=None,
    ),
    Case(
        "quantile",
        (values("x", "(1)", "(2)", "(3)", "(4)"),),
        spec(K.quantile, "x", q=0.5, min=2, max=3),
        Status.passed,
        observed=2.0,  # discrete (nearest-rank) quantile, as GX computes it
    ),
    Case(
        "quantile_fails",
        (values("x", "(1)", "(2)", "(3)", "(4)"),),
        spec(K.quantile, "x", q=0.5, min=2.5, max=None),
        Status.failed,
        observed=2.0,
    ),
    Case(
        "quantile_empty_fails_closed",
        (EMPTY,),
        spec(K.quantile, "x", q=0.9, max=1),
        Status.failed,
        observed=None,
    ),
    Case(
        "freshness_stale",
        (values("ts", "(TIMESTAMP '2020-01-01 00:00:00')"),),
        spec(K.freshness, "ts", max_age_seconds=36 * 3600),
        Status.failed,
    ),
    Case(
        "freshness_empty_fails_closed",
        (EMPTY,),
        spec(K.freshness, "ts", max_age_seconds=3600),
        Status.failed,
        observed=None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(tmp_path: Path, case: Case) -> None:
    table = build(tmp_path, *case.setup)
    assert ENGINE.supports(case.spec)
    [result] = ENGINE.run([case.spec], table)
    assert result.status is case.status, result.message
    assert result.name == case.spec.name and result.engine == "pandera"
    if case.spec.is_row_level:
        assert result.failing_rows == case.failing_rows
        # the verdict (Pandera) and the count (SQL) agree
        sql_count = fetch_one(table.connection, failing_count_query(case.spec, table.relation))
        assert (sql_count > 0) == (result.status is not Status.passed)
    elif case.id != "freshness_stale":
        assert result.observed == case.observed
        assert result.failing_rows is None
    if case.status is Status.passed:
        assert result.message == ""
    else:
        assert result.message


def test_failure_messages_are_short_and_human(tmp_path: Path) -> None:
    table = build(tmp_path, values("age", "(5)", "(200)", "(17)", "(30)"))
    [result] = ENGINE.run([spec(K.between, "age", min=18, max=120)], table)
    assert result.message == "3 rows where age is not between 18 and 120"


def test_freshness_observes_age_in_hours(tmp_path: Path) -> None:
    table = build(
        tmp_path,
        "CREATE TABLE t AS SELECT (now() AT TIME ZONE 'UTC') - INTERVAL 3 HOUR AS ts, "
        "now() - INTERVAL 3 HOUR AS tstz, (now() AT TIME ZONE 'UTC')::DATE - 3 AS d",
    )
    fresh = spec(K.freshness, "ts", max_age_seconds=4 * 3600)
    stale = spec(K.freshness, "ts", max_age_seconds=2 * 3600)
    fresh_tz = spec(K.freshness, "tstz", max_age_seconds=4 * 3600)
    stale_tz = spec(K.freshness, "tstz", max_age_seconds=2 * 3600)
    old_date = spec(K.freshness, "d", max_age_seconds=24 * 3600)
    results = ENGINE.run([fresh, stale, fresh_tz, stale_tz, old_date], table)
    assert [r.status for r in results] == [
        Status.passed,
        Status.failed,
        Status.passed,
        Status.failed,
        Status.failed,
    ]
    for result in results[:4]:
        assert result.observed == pytest.approx(3.0, abs=0.02)
    assert results[4].observed >= 72


def test_stale_freshness_with_warn_severity_warns(tmp_path: Path) -> None:
    table = build(tmp_path, values("ts", "(TIMESTAMP '2020-01-01 00:00:00')"))
    [result] = ENGINE.run([spec(K.freshness, "ts", severity=Severity.warn, max_age_seconds=3600)], table)
    assert result.status is Status.warned
    assert result.observed > 24 * 365 * 4


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_column_unique_true_is_not_enough(tmp_path: Path) -> None:
    """Why the engine does not use Column(unique=True): pandera 0.35's Ibis backend ignores it."""
    import ibis
    import pandera.ibis as pa

    table = build(tmp_path, values("id", "(7)", "(7)"))
    data = ibis.duckdb.from_connection(table.connection.cursor()).table("t")
    pa.DataFrameSchema({"id": pa.Column(unique=True)}).validate(data)  # passes despite the duplicate
    [result] = ENGINE.run([spec(K.unique, "id")], table)
    assert result.status is Status.failed and result.failing_rows == 2


def test_many_specs_one_run_keep_order_and_attribution(tmp_path: Path) -> None:
    table = build(tmp_path, values("id, age, s", "(1, 30, 'a')", "(1, 500, 'zz')", "(2, NULL, 'b')"))
    specs = [
        spec(K.column_exists, "id"),
        spec(K.column_type, "age", type="VARCHAR"),
        spec(K.column_exists, "gone"),
        spec(K.no_extra_columns, allowed=("id", "age")),
        spec(K.unique, "id"),
        spec(K.not_null, "id"),
        spec(K.not_null, "age"),
        spec(K.between, "age", min=0, max=120),
        spec(K.accepted_values, "s", values=("a", "b")),
        spec(K.row_count, min=3, max=3),
        spec(K.mean, "age", min=0, max=100),
    ]
    results = ENGINE.run(specs, table)
    assert [r.name for r in results] == [s.name for s in specs]
    got = {r.name: (r.status, r.failing_rows, r.observed) for r in results}
    assert got == {
        "id.column_exists": (Status.passed, None, "present"),
        "age.column_type": (Status.failed, None, "INTEGER"),
        "gone.column_exists": (Status.failed, None, "missing"),
        "table.no_extra_columns": (Status.failed, None, ["s"]),
        "id.unique": (Status.failed, 2, None),
        "id.not_null": (Status.passed, 0, None),
        "age.not_null": (Status.failed, 1, None),
        "age.between": (Status.failed, 1, None),
        "s.accepted_values": (Status.failed, 1, None),
        "table.row_count": (Status.passed, None, 3),
        "age.mean": (Status.failed, None, 265.0),
    }


def test_same_name_twice_is_not_conflated(tmp_path: Path) -> None:
    table = build(tmp_path, values("x", "(5)"))
    low = CheckSpec(name="x.check", kind=K.between, severity=Severity.error, columns=("x",), args={"min": 0})
    high = CheckSpec(name="x.check", kind=K.between, severity=Severity.error, columns=("x",), args={"min": 10})
    assert [r.status for r in ENGINE.run([low, high], table)] == [Status.passed, Status.failed]


@pytest.mark.parametrize(
    "bad",
    [
        spec(K.custom_sql, sql="SELECT * FROM {dataset} WHERE no_such_column > 1"),
        spec(K.custom_sql, sql="this is not sql"),
        spec(K.length, "n", min=1, max=2),  # length of an INTEGER column
        spec(K.between, "s", min=0, max=1),  # 'abc' is not a number
        spec(K.references, "n", relation=Relation("main", "nowhere"), ref_column="id", dataset="nowhere"),
        spec(K.references, "n", relation=Relation("main", "t"), ref_column="nope", dataset="t"),
        spec(K.mean, "nope", min=0, max=1),
        spec(K.freshness, "s", max_age_seconds=60),
        spec(K.column_type, "n", type="NOT A TYPE"),
    ],
    ids=lambda s: s.name + ":" + str(dict(s.args))[:30],
)
def test_a_check_that_cannot_run_is_an_error_never_a_pass(tmp_path: Path, bad: CheckSpec) -> None:
    table = build(tmp_path, values("n, s", "(1, 'abc')"))
    good = spec(K.not_null, "n")
    results = ENGINE.run([good, bad, good], table)
    assert [r.status for r in results] == [Status.passed, Status.error, Status.passed]
    assert results[1].message and "Traceback" not in results[1].message


def test_disabled_pandera_validation_cannot_turn_failures_into_passes(tmp_path: Path) -> None:
    from pandera.config import ValidationDepth, config_context

    table = build(tmp_path, values("x", "(-1)"))
    with config_context(validation_enabled=False, validation_depth=ValidationDepth.SCHEMA_ONLY):
        [result] = ENGINE.run([spec(K.between, "x", min=0, max=None)], table)
    assert result.status is Status.failed and result.failing_rows == 1


def test_connection_with_unfinished_result_still_works(tmp_path: Path) -> None:
    """dq.data.source.fetch_one leaves a result open; DuckDB 2.0 then refuses Ibis on that connection."""
    table = build(tmp_path, values("x", "(1)", "(1)"))
    assert fetch_one(table.connection, "SELECT count(*) FROM t") == 2
    [result] = ENGINE.run([spec(K.unique, "x")], table)
    assert result.status is Status.failed and result.failing_rows == 2
    # and the settings Ibis sets on its cursor did not leak onto the runner's connection
    setting = table.connection.execute("SELECT current_setting('python_enable_replacements')").fetchall()
    assert setting == [(True,)]


def test_engine_supports_every_kind() -> None:
    # exactly the kinds the table gives it: history and reconciliation checks route to pandera-batch
    assert {kind for kind in CheckKind if ENGINE.supports(sample_spec(kind))} == run_by(PANDERA)
    assert not run_by(PANDERA) & HISTORY_KINDS


def test_importing_the_engine_does_not_import_pandera_or_ibis() -> None:
    code = "import sys, dq.engines.pandera; print(any(m in sys.modules for m in ('ibis', 'pandera', 'pandas')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
