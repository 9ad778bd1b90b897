"""`dq docs`: GX Data Docs built from real GX validation results on the real dbt build."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dq.cli import app
from tests.conftest import ROOT, MakeDb

CONTRACT = ROOT / "contracts" / "training_set.yml"


def page_text(path: Path) -> str:
    """What a reader sees: the page without scripts, styles and tags."""
    text = re.sub(r"<(script|style).*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@pytest.fixture(scope="module")
def built(warehouse: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = CliRunner().invoke(
        app,
        [
            "docs",
            str(CONTRACT),
            "--db",
            str(warehouse["broken"]),
            "--dbt-project",
            str(ROOT / "dbt_project"),
            "--out",
            str(out),
        ],
    )
    return result.exit_code, result.output, out


def test_docs_site_is_built_from_real_validation_results(built: tuple[int, str, Path]) -> None:
    code, output, out = built
    assert code == 0, output
    assert f"Data Docs: {out.resolve() / 'index.html'}" in output
    assert re.search(r"churn_training_set: \d+ expectations validated, [1-9]\d* failed", output), output
    assert "churn_training_set" in (out / "index.html").read_text(encoding="utf-8")  # listed by its script
    assert (out / "expectations" / "churn_training_set.html").is_file()
    (validation,) = (out / "validations" / "churn_training_set").rglob("*.html")
    text = page_text(validation)
    # the broken build duplicates customers: GX's own result, rendered by GX
    assert "Status: Failed" in text
    assert re.search(r"values must be unique\. \d+ unexpected values found", text), text[:2000]


def test_docs_for_a_bad_contract_exits_3(make_db: MakeDb, tmp_path: Path) -> None:
    db = make_db("CREATE TABLE t AS SELECT 1 AS id")
    bad = tmp_path / "bad.yml"
    bad.write_text("contract: bad\nversion: 1.0.0\ndataset: {table: main.t}\ncolumns:\n  id: {minn: 1}\n")
    result = CliRunner().invoke(app, ["docs", str(bad), "--db", str(db), "--out", str(tmp_path / "site")])
    assert result.exit_code == 3 and "minn" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "site").exists()


def test_docs_for_a_missing_table_exits_3(make_db: MakeDb, tmp_path: Path) -> None:
    db = make_db("CREATE TABLE t AS SELECT 1 AS id")
    contract = tmp_path / "gone.yml"
    contract.write_text(
        "contract: gone\nversion: 1.0.0\ndataset: {table: main.gone}\ncolumns:\n  id: {type: integer}\n"
    )
    result = CliRunner().invoke(app, ["docs", str(contract), "--db", str(db), "--out", str(tmp_path / "site")])
    assert result.exit_code == 3 and "gone" in result.output and "cannot build Data Docs" in result.output
