"""Rules across columns (`expressions:`), end to end on real DuckDB files and every engine: counted
per violating row, NULL operands left to the nullability rules, refused at load when the text is not
one expression over the row, refused at bind when it is not BOOLEAN on the live columns."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dq.checks.result import RunResult, Status
from dq.cli import app
from dq.config import EngineChoice, load_settings
from dq.contract.model import load_contract
from dq.dbt import export as dbt_export
from dq.errors import ContractError
from dq.review.diff import Impact, diff_contracts
from dq.run.runner import validate

ORDERS = """CREATE TABLE orders AS SELECT * FROM (VALUES
    (1, TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', 10, 12),
    (2, TIMESTAMP '2024-01-05', TIMESTAMP '2024-01-03', 10, 9),
    (3, TIMESTAMP '2024-02-01', NULL, 5, 5),
    (4, TIMESTAMP '2024-03-01', TIMESTAMP '2024-02-01', 7, 3)
) v(id, signed_up_at, first_order_at, paid, billed)"""

HEADER = "contract: orders\nversion: 1.0.0\ndataset: {table: orders}\ncolumns:\n  id: {}\n"


def _run(tmp_path: Path, expressions: str, engine: EngineChoice = EngineChoice.auto) -> RunResult:
    db = tmp_path / "w.duckdb"
    if not db.exists():
        with duckdb.connect(str(db)) as writer:
            writer.execute(ORDERS)
    path = tmp_path / "c.yml"
    path.write_text(HEADER + expressions, encoding="utf-8")
    settings = load_settings(
        db=db, results_dir=tmp_path / "results", engine=engine, history=tmp_path / "history.duckdb"
    )
    return validate([path], settings)


@pytest.mark.parametrize("engine", list(EngineChoice), ids=str)
@pytest.mark.parametrize(
    ("expr", "failing"),
    [
        ("first_order_at >= signed_up_at", 2),  # ids 2 and 4; id 3's NULL is not a violation
        ("billed <= paid + 2", 0),
        ("billed >= paid -- billed never below paid", 2),  # a trailing comment ends at its line
        ("paid = billed OR id IN (1, 2)", 1),
    ],
)
def test_an_expression_counts_its_violating_rows_on_every_engine(
    tmp_path: Path, engine: EngineChoice, expr: str, failing: int
) -> None:
    run = _run(tmp_path, f"expressions:\n  - name: rule\n    expr: {expr!r}\n", engine)
    [check] = [c for c in run.contracts[0].checks if c.name == "expressions.rule"]
    assert check.failing_rows == failing, check.message
    assert check.status is (Status.failed if failing else Status.passed)
    if failing:
        assert f"{failing} row" in check.message and "is false" in check.message


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("first_order_at) OR (true", "is not one SQL expression"),
        ("paid > 0; DROP TABLE orders", "is not one SQL expression"),
        ("paid > (SELECT max(paid) FROM orders)", "reads another relation"),
        ("EXISTS (SELECT 1 FROM read_csv('x.csv'))", "reads another relation"),
        ("paid > avg(paid) OVER ()", "window function"),
    ],
)
def test_text_that_is_not_one_expression_over_the_row_is_refused_at_load(tmp_path: Path, expr: str, why: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(HEADER + f"expressions:\n  - name: rule\n    expr: {expr!r}\n", encoding="utf-8")
    with pytest.raises(ContractError, match=why):
        load_contract(path)
    result = CliRunner().invoke(app, ["lint", str(path), "--skip-dbt"])
    assert result.exit_code == 3 and "expressions" in result.output


@pytest.mark.parametrize(
    ("expr", "why"),
    [("paid + billed", "must be a true/false expression, but it is INTEGER"), ("nope > 1", "DuckDB cannot read it")],
)
def test_an_expression_that_is_not_boolean_on_the_live_columns_blocks(tmp_path: Path, expr: str, why: str) -> None:
    run = _run(tmp_path, f"expressions:\n  - name: rule\n    expr: {expr!r}\n")
    [check] = [c for c in run.contracts[0].checks if c.name == "expressions.rule"]
    assert run.status is Status.error and check.status is Status.error
    assert "expressions.rule" in check.message and why in check.message


def test_two_expressions_with_one_name_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(HEADER + "expressions:\n  - {name: r, expr: 'paid > 0'}\n  - {name: r, expr: 'billed > 0'}\n")
    with pytest.raises(ContractError, match="share a name"):
        load_contract(path)


def _contract(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("before", "after", "impact"),
    [
        ("", "expressions:\n  - {name: r, expr: 'paid > 0'}\n", Impact.tightening),
        ("expressions:\n  - {name: r, expr: 'paid > 0'}\n", "", Impact.breaking),
        (
            "expressions:\n  - {name: r, expr: 'paid > 0'}\n",
            "expressions:\n  - {name: r, expr: 'paid >= 0'}\n",
            Impact.breaking,
        ),
        (
            "expressions:\n  - {name: r, expr: 'paid > 0'}\n",
            "expressions:\n  - {name: r, expr: 'paid > 0', severity: warn}\n",
            Impact.breaking,
        ),
    ],
    ids=["added", "removed", "edited", "error-to-warn"],
)
def test_diff_says_what_an_expression_change_does(tmp_path: Path, before: str, after: str, impact: Impact) -> None:
    old = load_contract(_contract(tmp_path, "old.yml", before))
    new = load_contract(_contract(tmp_path, "new.yml", after))
    changes = [c for c in diff_contracts(old, new).changes if c.path.startswith("expressions.")]
    assert [c.impact for c in changes] == [impact]


def test_the_dbt_export_asserts_an_expression_in_the_post_hook(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "contract: orders\nversion: 1.0.0\ndataset: {model: orders}\ncolumns:\n  id: {}\n"
        "expressions:\n  - {name: ordered_after_signup, expr: 'first_order_at >= signed_up_at'}\n"
    )
    export = dbt_export.plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    assert [s.name for s in export.asserted if s.kind == "expression"] == ["expressions.ordered_after_signup"]
    assert "first_order_at >= signed_up_at" in dbt_export.render_macros([export])
