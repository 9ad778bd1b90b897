"""False passes an adversarial review found in expression rules, custom SQL on GX and the dbt
exporter (each reproduced on a real DuckDB file, every engine where it applies)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dq.checks.result import RunResult, Status
from dq.config import EngineChoice, load_settings
from dq.contract.model import load_contract
from dq.dbt import export as dbt_export
from dq.errors import ContractError
from dq.review.diff import Impact, diff_contracts
from dq.run.runner import validate

TABLE = r"""CREATE TABLE t AS SELECT * FROM (VALUES
    (1, 'x\:y', 10, 5, 1, 2), (2, 'x\:y', 20, 0, 2, 3), (3, 'ok', 30, 4, NULL, 1),
    (4, '__dq_gx_batch_placeholder__', 40, 2, 4, 4)
) v(id, code, paid, billed, a, b)"""
HEADER = "contract: t\nversion: 1.0.0\ndataset: {table: t}\ncolumns:\n  id: {}\n"


def _run(tmp_path: Path, body: str, engine: EngineChoice) -> RunResult:
    db = tmp_path / "w.duckdb"
    if not db.exists():
        with duckdb.connect(str(db)) as con:
            con.execute(TABLE)
            con.execute("CREATE TABLE other AS SELECT 1 AS id")
            con.execute("CREATE MACRO is_known(x) AS x IN (SELECT id FROM other)")
    path = tmp_path / "c.yml"
    path.write_text(HEADER + body, encoding="utf-8")
    settings = load_settings(db=db, results_dir=tmp_path / "r", engine=engine, history=tmp_path / "h.duckdb")
    return validate([path], settings)


def _check(run: RunResult, name: str) -> tuple[Status, int | None, str]:
    [check] = [c for c in run.contracts[0].checks if c.name == name]
    return check.status, check.failing_rows, check.message


@pytest.mark.parametrize("engine", list(EngineChoice), ids=str)
@pytest.mark.parametrize(
    ("body", "name", "failing"),
    [
        # GX hands queries to sqlalchemy.text(): `\:` became `:` and `:b` a bind parameter
        ("expressions:\n  - {name: r, expr: \"code <> 'x\\\\:y'\"}\n", "expressions.r", 2),
        ("expressions:\n  - {name: r, expr: \"code <> 'a :b'\"}\n", "expressions.r", 0),
        ("checks:\n  - {name: q, sql: \"select * from {dataset} where code = 'x\\\\:y'\"}\n", "checks.q", 2),
        # GX's batch placeholder inside contract text was replaced by the batch
        ("expressions:\n  - {name: r, expr: \"code <> '__dq_gx_batch_placeholder__'\"}\n", "expressions.r", 1),
    ],
    ids=["escaped-colon", "colon-word", "custom-sql-colon", "gx-placeholder-text"],
)
def test_every_engine_reads_contract_text_as_written(
    tmp_path: Path, engine: EngineChoice, body: str, name: str, failing: int
) -> None:
    status, rows, message = _check(_run(tmp_path, body, engine), name)
    assert (status, rows) == (Status.failed if failing else Status.passed, failing), message


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("COLUMNS('a|b') >= 0", "COLUMNS"),  # DuckDB ANDs the copies under dq's NOT: fails only if all do
        ("* IS NOT NULL", "COLUMNS"),
        ("code <> 'refunded' OR a <> NULL", "compares with NULL"),
        ("a NOT IN (1, NULL)", "compares with NULL"),
        ("paid >= 0 OR random() < 0.5", "another answer on every run"),
    ],
)
def test_an_expression_that_cannot_decide_the_row_is_refused_at_load(tmp_path: Path, expr: str, why: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(HEADER + f"expressions:\n  - {{name: r, expr: {expr!r}}}\n", encoding="utf-8")
    with pytest.raises(ContractError, match=why.replace("(", r"\(")):
        load_contract(path)


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("is_known(a)", "defined in the database"),  # a macro can read other tables
        ("paid + billed AND code <> 'ok'", "`(paid + billed)` must be a true/false expression"),
        ("NOT paid", "`paid` must be a true/false expression"),
    ],
)
def test_an_expression_bound_to_the_live_columns_is_boolean_throughout(tmp_path: Path, expr: str, why: str) -> None:
    status, _, message = _check(
        _run(tmp_path, f"expressions:\n  - {{name: r, expr: {expr!r}}}\n", EngineChoice.auto), "expressions.r"
    )
    assert status is Status.error and why in message, message


def test_diff_compares_an_expression_as_written(tmp_path: Path) -> None:
    before = "expressions:\n  - name: r\n    expr: |\n      paid >= 0 -- never negative\n      AND billed >= 0\n"
    after = "expressions:\n  - name: r\n    expr: |\n      paid >= 0 -- never negative AND billed >= 0\n"
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(HEADER + before)
    new.write_text(HEADER + after)
    changes = [c for c in diff_contracts(load_contract(old), load_contract(new)).changes]
    assert [(c.path, c.impact) for c in changes] == [("expressions.r.expr", Impact.breaking)]


@pytest.mark.parametrize(
    "expr",
    [
        "code <> '{%+ endraw %}{{ log(\"ran\", info=True) }}{% raw %}'",  # Jinja ends raw on {%+ too
        "code <> '__DQ_THIS__'",  # the exporter's own placeholder, replaced by {{ this }}
        "code <> '__DQ_REF_7__'",
    ],
    ids=["endraw-plus", "this-placeholder", "ref-placeholder"],
)
def test_the_dbt_exporter_refuses_contract_text_that_would_change_its_sql(tmp_path: Path, expr: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "contract: m\nversion: 1.0.0\ndataset: {model: m}\ncolumns:\n  code: {}\n"
        f"expressions:\n  - name: r\n    expr: |\n      {expr}\n"
    )
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.sql").write_text("select 'ok' as code")
    (tmp_path / "dbt_project.yml").write_text("name: p\nversion: '1.0'\nprofile: p\n")
    with pytest.raises(dbt_export.ExportError):
        dbt_export.export_files([path], tmp_path)
