"""Where `dq dbt build` / `dq dbt export` find the dbt project and put their outputs (issue 12)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dq
from dq.cli import app
from dq.errors import GateError
from tests.conftest import ROOT

CONTRACTS = ROOT / "tests" / "fixtures" / "dbt_export" / "contracts"


@pytest.mark.parametrize("command", [["dbt", "build"], ["dbt", "export"]], ids=" ".join)
def test_a_mistyped_project_directory_is_a_usage_error_and_is_not_created(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(app, [*command, "--contracts", str(CONTRACTS), "--dbt-project", "dbt_projetc"])
    assert out.exit_code == 2, out.output
    assert "dbt project dbt_projetc does not exist" in out.output
    assert not (tmp_path / "dbt_projetc").exists()


def test_the_python_api_names_its_own_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_db) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no pyproject.toml: no configured dbt project
    monkeypatch.delenv("DQ_DBT_PROJECT", raising=False)
    contract = tmp_path / "c.yml"
    contract.write_text("contract: c\nversion: 1.0.0\ndataset: {model: m}\ncolumns:\n  a: {}\n", encoding="utf-8")
    with pytest.raises(GateError) as raised:
        dq.require_valid(contract, db=make_db("CREATE TABLE t AS SELECT 1 AS a"), results_dir=tmp_path / "r")
    assert "dbt_project=" in str(raised.value) and "--dbt-project" not in str(raised.value)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of dbt_project/ (dq's files exported into it) and its data, not built yet."""
    import os
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("project_dir")
    project = base / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*"))
    shutil.copytree(CONTRACTS, base / "contracts")
    db = base / "warehouse.duckdb"
    subprocess.run([sys.executable, str(project / "generate_data.py"), "--db", str(db)], check=True)
    os.environ["DQ_DB"] = str(db)
    return project


def _build(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, ["dbt", "build", "--quiet", *args])
    return out.exit_code, out.output


@pytest.mark.slow
def test_inside_the_project_dbt_and_dq_share_target_and_dq_validate_finds_the_manifest(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(built)  # like dbt: no --dbt-project needed inside the project
    monkeypatch.delenv("DQ_DBT_PROJECT", raising=False)
    code, output = _build("--contracts", str(built.parent / "contracts"), "--results-dir", "../results")
    assert code == 0, output
    assert (built / "target" / "manifest.json").is_file()
    # dbt's saved manifest is where the next run looks for it: partial parsing stays on
    assert (built / "target" / "partial_parse.msgpack").is_file()
    runs = list((built / "target" / "dq").iterdir())
    assert len(runs) == 1 and (runs[0] / "dq_results.json").is_file() and (runs[0] / "run_results.json").is_file()
    contract = str(built.parent / "contracts" / "training_set.yml")
    validate = CliRunner().invoke(app, ["validate", contract, "--results-dir", "../results"])
    assert validate.exit_code == 0, validate.output


@pytest.mark.slow
def test_a_relative_project_keeps_every_output_in_the_project(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(built.parent)
    args = ["--dbt-project", "dbt_project", "--contracts", "contracts", "--select", "stg_plans", "stg_customers"]
    code, output = _build(*args, "--results-dir", "results")
    assert code == 0, output
    assert not (built / "dbt_project").exists()  # dbt's target and dq's are both under dbt_project/target
    assert (built / "target" / "run_results.json").is_file()


@pytest.mark.slow
def test_a_contract_whose_model_is_not_in_the_manifest_names_contract_and_model(built: Path, tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, contracts)
    wrong = contracts / "customer_orders.yml"
    wrong.write_text(wrong.read_text().replace("model: customer_orders", "model: customer_order"), encoding="utf-8")
    args = ["--dbt-project", str(built), "--contracts", str(contracts), "--select", "stg_plans", "stg_customers"]
    code, output = _build(*args, "--results-dir", str(tmp_path / "results"))
    assert code == 3, output
    assert "customer_orders.yml" in output and "'customer_order' not found" in output
    runs = sorted((built / "target" / "dq").iterdir(), key=lambda p: p.stat().st_mtime)
    errors = [c["error"] for c in json.loads((runs[-1] / "dq_results.json").read_text())["contracts"]]
    assert any(
        "customer_orders.yml" in e and "'customer_order' not found" in e and "customer_orders" in e for e in errors if e
    ), errors
