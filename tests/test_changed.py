"""`dq validate --changed --state DIR`: only the contracts of models dbt calls state:modified+."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dq.cli import app
from tests.conftest import ROOT

DBT = str(Path(sys.executable).parent / "dbt")


def _parse(project: Path) -> None:
    subprocess.run(
        [DBT, "parse", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"],
        check=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of dbt_project/ and, beside it, the manifest of its unmodified state."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    _parse(copy)
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(copy / "target" / "manifest.json", state / "manifest.json")
    return copy, state


def _validate(project: Path, db: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(ROOT / "contracts"),
            "--db",
            str(db),
            "--dbt-project",
            str(project),
            "--results-dir",
            str(tmp_path / "results"),
            *extra,
        ],
    )
    return result.exit_code, result.output


def test_a_modified_model_selects_its_contract_and_its_descendants(
    project: tuple[Path, Path], warehouse: dict[str, Path], tmp_path: Path
) -> None:
    copy, state = project
    model = copy / "models" / "features" / "customer_orders.sql"
    model.write_text(model.read_text() + "\n-- a reviewed change\n")
    _parse(copy)
    code, out = _validate(copy, warehouse["clean"], tmp_path, "--changed", "--state", str(state))
    assert code == 0, out
    selected = next(line for line in out.splitlines() if "--changed selects" in line)
    assert "customer_orders.yml" in selected and "training_set.yml" in selected
    assert "stg_customers.yml" not in selected


def test_nothing_modified_validates_nothing(
    project: tuple[Path, Path], warehouse: dict[str, Path], tmp_path: Path
) -> None:
    copy, state = project
    code, out = _validate(copy, warehouse["clean"], tmp_path, "--changed", "--state", str(state))
    assert code == 0 and "nothing to validate" in out


def test_changed_needs_state_and_a_manifest(
    project: tuple[Path, Path], warehouse: dict[str, Path], tmp_path: Path
) -> None:
    copy, _ = project
    assert _validate(copy, warehouse["clean"], tmp_path, "--changed")[0] == 2
    code, out = _validate(copy, warehouse["clean"], tmp_path, "--changed", "--state", str(tmp_path))
    assert code == 3 and "holds no manifest.json" in out
