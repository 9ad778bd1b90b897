"""`where:` and tolerances outside the gate: `dq diff` (loosening or narrowing is breaking), `dq lint`
(tolerances that say nothing or switch a rule off), `dq dbt export` (the in-model assertion judges
exactly what dq judges, on a real DuckDB table) and ODCS (dq -> ODCS -> dq compiles to the same
checks)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dq.checks.compile import compile_contract
from dq.checks.result import Status
from dq.config import load_settings
from dq.contract.model import load_contract
from dq.contract.yaml12 import load_yaml12
from dq.dbt.export import _check_rows, _data_tests, plan_model
from dq.formats.odcs import OdcsError, export_contract, import_document
from dq.review.diff import Impact, diff_contracts
from dq.review.lint import lint
from dq.run.runner import validate

HEADER = "contract: t\nversion: 1.0.0\ndataset: {model: t}\n"


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


# --- dq diff ---------------------------------------------------------------------------------------

COLUMN = "columns:\n  x: {{min: 0{extra}}}\n"


@pytest.mark.parametrize(
    ("before", "after", "path", "impact"),
    [
        ("", ", mostly: 0.99", "columns.x.tolerance", Impact.breaking),  # a tolerance added loosens
        (", mostly: 0.99", "", "columns.x.tolerance", Impact.tightening),
        (", mostly: 0.99", ", mostly: 0.9", "columns.x.tolerance", Impact.breaking),
        (", mostly: 0.9", ", mostly: 0.99", "columns.x.tolerance", Impact.tightening),
        (", max_failing_fraction: 0.01", ", max_failing_fraction: 0.02", "columns.x.tolerance", Impact.breaking),
        (", max_failing_fraction: 0.1", ", mostly: 0.95", "columns.x.tolerance", Impact.tightening),
        ("", ", where: 'y > 0'", "columns.x.where", Impact.breaking),  # narrowed: rows go unchecked
        (", where: 'y > 0'", "", "columns.x.where", Impact.tightening),
        (", where: 'y > 0'", ", where: 'y > 1'", "columns.x.where", Impact.breaking),
        (", where: 'y > 0', mean: {min: 1}", ", mean: {min: 1}", "columns.x.where", Impact.breaking),
        (  # a history check's metric, too, is then measured over other rows
            ", where: 'y > 0', change_from_last: [{metric: mean, max_pct: 5}]",
            ", change_from_last: [{metric: mean, max_pct: 5}]",
            "columns.x.where",
            Impact.breaking,
        ),
    ],
)
def test_diff_classifies_conditions_and_tolerances(
    tmp_path: Path, before: str, after: str, path: str, impact: Impact
) -> None:
    old = load_contract(_write(tmp_path, "old.yml", COLUMN.format(extra=before)))
    new = load_contract(_write(tmp_path, "new.yml", COLUMN.format(extra=after)))
    changes = [c for c in diff_contracts(old, new).changes if c.path == path]
    assert [c.impact for c in changes] == [impact], diff_contracts(old, new).changes


def test_the_same_tolerance_restated_is_no_change(tmp_path: Path) -> None:
    old = load_contract(_write(tmp_path, "old.yml", COLUMN.format(extra=", mostly: 0.99")))
    new = load_contract(_write(tmp_path, "new.yml", COLUMN.format(extra=", max_failing_fraction: 0.010")))
    assert diff_contracts(old, new).changes == []


@pytest.mark.parametrize(
    ("before", "after", "path", "impact"),
    [
        ("row_count: {min: 5}\n", "row_count: {min: 5, where: 'y > 0'}\n", "row_count.where", Impact.breaking),
        ("row_count: {min: 5, where: 'y > 0'}\n", "row_count: {min: 5}\n", "row_count.where", Impact.breaking),
        (
            "expressions:\n  - {name: e, expr: 'x > 0'}\n",
            "expressions:\n  - {name: e, expr: 'x > 0', mostly: 0.5}\n",
            "expressions.e.tolerance",
            Impact.breaking,
        ),
        (
            "expressions:\n  - {name: e, expr: 'x > 0', where: 'y > 0'}\n",
            "expressions:\n  - {name: e, expr: 'x > 0'}\n",
            "expressions.e.where",
            Impact.tightening,
        ),
    ],
)
def test_diff_classifies_table_level_conditions(
    tmp_path: Path, before: str, after: str, path: str, impact: Impact
) -> None:
    old = load_contract(_write(tmp_path, "old.yml", before))
    new = load_contract(_write(tmp_path, "new.yml", after))
    assert [c.impact for c in diff_contracts(old, new).changes if c.path == path] == [impact]


# --- dq lint ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (", mostly: 1", "allows no failing row"),
        (", max_failing_fraction: 0", "allows no failing row"),
        (", mostly: 0", "can never fail"),
        (", max_failing_fraction: 1.0", "can never fail"),
        (", mostly: 0.999", None),
    ],
)
def test_lint_flags_tolerances_that_say_nothing_or_switch_the_rule_off(
    tmp_path: Path, extra: str, problem: str | None
) -> None:
    path = _write(tmp_path, "c.yml", COLUMN.format(extra=extra))
    _, problems = lint([path], None, skip_dbt=True)
    assert [p.message for p in problems if problem and problem in p.message] == (
        [m.message for m in problems] if problem else []
    )
    assert len(problems) == (1 if problem else 0), problems


def test_lint_flags_a_where_on_a_column_with_nothing_to_narrow(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yml", "columns:\n  x: {type: bigint, where: 'x > 0'}\n  y: {min: 0, where: 'x > 0'}\n")
    _, problems = lint([path], None, skip_dbt=True)
    assert [(p.key, "no data rule" in p.message) for p in problems] == [("columns.x.where", True)]


# --- dq dbt export ---------------------------------------------------------------------------------

TABLE = "CREATE TABLE t AS SELECT i AS x, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS g FROM range(10) r(i)"
EXPORTED = """columns:
  x: {{type: bigint, min: 3, where: "g = 'a'"{tolerance}}}
  g: {{type: varchar, accepted_values: [a], mostly: {share}}}
row_count: {{min: 6, where: "g = 'b'"}}
"""


@pytest.mark.parametrize(
    ("tolerance", "share", "failed"),
    [
        ("", "0.5", ["row_count", "x.range"]),  # x < 3 on 0 and 2 of the five g = 'a' rows
        (", mostly: 0.6", "0.51", ["g.accepted_values", "row_count"]),  # 2/5 may fail; 5/10 > 0.49
        (", max_failing_fraction: 0.39", "0.4", ["row_count", "x.range"]),  # 2/5 > 0.39
    ],
)
def test_the_in_model_assertion_judges_what_dq_judges(
    tmp_path: Path, tolerance: str, share: str, failed: list[str]
) -> None:
    """The post-hook's rows run on a real DuckDB table (its SQL as dbt would run it, the model
    placeholder bound to the table); the checks it fails are the checks dq fails."""
    path = _write(tmp_path, "c.yml", EXPORTED.format(tolerance=tolerance, share=share))
    contract = load_contract(path)
    export = plan_model(contract, path, tmp_path)
    assert export is not None
    tolerated = {s.name for s in compile_contract(contract) if s.allowed_failing is not None}
    assert not tolerated & {s.name for s in export.constrained}  # a constraint holds on every row
    assert not any(t.get("accepted_values") for t in _data_tests(export, "g"))  # dbt counts, not shares
    rows = _check_rows([*export.asserted, *export.constrained], [])
    bindings = (("__DQ_THIS__", "t"), ("__DQ_DATABASE__", "'w'"), ("__DQ_SCHEMA__", "'main'"), ("__DQ_NAME__", "'t'"))
    for placeholder, bound in bindings:
        rows = rows.replace(placeholder, bound)
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(TABLE)
        query = (
            "SELECT check_name FROM (SELECT NULL::VARCHAR AS check_name, 0::BIGINT AS failing, "
            f"NULL::VARCHAR AS observed {rows}) WHERE failing > 0 ORDER BY 1"
        )
        failed_in_model = [name for (name,) in con.execute(query).fetchall()]
    table_contract = _write(tmp_path, "table.yml", EXPORTED.format(tolerance=tolerance, share=share))
    table_contract.write_text(table_contract.read_text().replace("{model: t}", "{table: t}"), encoding="utf-8")
    settings = load_settings(db=db, results_dir=tmp_path / "r", history=tmp_path / "h.duckdb")
    run = validate([table_contract], settings)
    failed_by_dq = sorted(c.name for c in run.contracts[0].checks if c.status is Status.failed)
    assert failed_in_model == failed_by_dq == failed  # row_count: 5 rows with g = 'b', at least 6 wanted


def test_a_where_becomes_the_where_config_of_dbts_own_tests(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yml", 'columns:\n  g: {type: varchar, accepted_values: [a], where: "x > 1"}\n')
    export = plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    [test] = _data_tests(export, "g")
    assert test["accepted_values"]["config"]["where"] == "x > 1"


# --- ODCS ------------------------------------------------------------------------------------------

ODCS_CONTRACT = """row_count: {min: 1, where: "g = 'a'"}
columns:
  x: {type: bigint, nullable: false, min: 0, where: "g <> 'b'", mostly: 0.999}
  g: {type: varchar, accepted_values: [a, b], max_failing_fraction: 0.25}
"""


def test_dq_to_odcs_to_dq_keeps_conditions_and_tolerances(tmp_path: Path) -> None:
    contract = load_contract(_write(tmp_path, "c.yml", ODCS_CONTRACT))
    imported = import_document(load_yaml12(export_contract(contract)), Path("x.odcs.yaml"))
    back = tmp_path / "back.yml"
    back.write_text(imported.yaml(), encoding="utf-8")
    assert compile_contract(load_contract(back)) == compile_contract(contract)


def test_an_odcs_where_on_a_rule_dq_cannot_narrow_is_refused(tmp_path: Path) -> None:
    contract = load_contract(_write(tmp_path, "c.yml", "checks:\n  - {name: c, sql: 'select * from {dataset}'}\n"))
    document = load_yaml12(export_contract(contract))
    document["schema"][0]["quality"][0]["customProperties"].append({"property": "dq.where", "value": "x > 0"})
    with pytest.raises(OdcsError, match=r"dq\.where"):
        import_document(document, Path("x.odcs.yaml"))


# --- dq export pandera / gx ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pandera", "gx"])
def test_exports_to_pandera_and_gx_leave_conditions_and_tolerances_out_naming_why(tmp_path: Path, kind: str) -> None:
    body = "columns:\n  x: {min: 3, where: \"g = 'a'\"}\n  g: {accepted_values: [a], mostly: 0.5}\n"
    path = _write(tmp_path, "c.yml", body)
    path.write_text(path.read_text().replace("{model: t}", "{table: t}"), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(TABLE)
    settings = load_settings(db=db, results_dir=tmp_path / "r", history=tmp_path / "h.duckdb")
    if kind == "pandera":
        from dq.engines.pandera_export import export_module as export
    else:
        from dq.gx.export import export_suite as export
    _, skipped = export(path, settings)
    why = dict(skipped)
    assert {"x.range", "g.accepted_values"} <= why.keys()
    assert all("tolerance" in why[name] for name in ("x.range", "g.accepted_values"))
