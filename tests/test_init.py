"""`dq init --from-dbt MODEL`: a draft contract that passes on the data it was drafted from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dq.cli import app
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of dbt_project/ built (real dbt) into a clean and a broken DuckDB file."""
    from dbt.cli.main import dbtRunner

    from dq.dbt.build import release_dbt_database

    base = tmp_path_factory.mktemp("init")
    project = base / "dbt_project"
    shutil.copytree(
        ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*", ".user.yml")
    )
    saved = os.environ.get("DQ_DB")
    out = {"project": project}
    for variant in ("clean", "broken"):
        db = base / variant / "warehouse.duckdb"  # one catalog name for both builds (see conftest.warehouse)
        db.parent.mkdir()
        subprocess.run(
            [sys.executable, str(project / "generate_data.py"), "--db", str(db), "--variant", variant],
            check=True,
            capture_output=True,
        )
        os.environ["DQ_DB"] = str(db)
        dbt = ["run", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
        if variant == "broken":  # let the defects reach the tables: exported in-model gates off
            dbt += ["--vars", "{dq_enforce: false}"]
        try:
            assert dbtRunner().invoke(dbt).success
        finally:
            release_dbt_database()
        out[variant] = db
    if saved is None:
        os.environ.pop("DQ_DB", None)
    else:
        os.environ["DQ_DB"] = saved
    return out


@pytest.fixture(autouse=True)
def _own_history(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DQ_HISTORY", str(tmp_path / "history.duckdb"))


def _init(built: dict[str, Path], model: str, out: Path, *extra: str) -> tuple[int, str]:
    args = ["init", "--from-dbt", model, "--db", str(built["clean"]), "--dbt-project", str(built["project"])]
    result = CliRunner().invoke(app, [*args, "--out", str(out), *extra])
    return result.exit_code, result.output


def _validate(built: dict[str, Path], contract: Path, db: Path, tmp_path: Path) -> int:
    args = ["validate", str(contract), "--db", str(db), "--dbt-project", str(built["project"])]
    return CliRunner().invoke(app, [*args, "--results-dir", str(tmp_path / "results")]).exit_code


@pytest.mark.parametrize("model", ["stg_customers", "customer_orders", "training_set"])
def test_the_draft_passes_on_the_data_it_was_drafted_from(built: dict[str, Path], model: str, tmp_path: Path) -> None:
    out = tmp_path / f"{model}.yml"
    code, output = _init(built, model, out)
    assert code == 0, output
    text = out.read_text()
    assert text.startswith("# DRAFT: review before use")
    draft = yaml.safe_load(text)
    assert draft["owner"] == "TODO"
    assert draft["dataset"] == {"model": model}
    assert _validate(built, out, built["clean"], tmp_path) == 0


def test_the_draft_profiles_types_keys_and_low_cardinality_values(built: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "stg_customers.yml"
    assert _init(built, "stg_customers", out)[0] == 0
    draft = yaml.safe_load(out.read_text())
    columns = draft["columns"]
    assert draft["primary_key"] == ["customer_id"]
    assert columns["customer_id"]["type"] == "bigint"
    assert sorted(columns["country"]["accepted_values"]) == ["DE", "ES", "FR", "GB", "US"]
    assert "accepted_values" not in columns["email"]  # high cardinality: not an enumeration
    # never negative: `min: 0`; today's oldest customer is no promise, so no max
    assert columns["age"]["min"] == 0 and "max" not in columns["age"]
    assert 0 < columns["age"]["max_null_fraction"] <= 0.05
    assert "min" not in columns["customer_id"]  # no range on a key: it grows with every row
    assert columns["signed_up_at"]["nullable"] is False


def test_the_clean_draft_blocks_the_broken_data(built: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "training_set.yml"
    assert _init(built, "training_set", out)[0] == 0
    assert _validate(built, out, built["broken"], tmp_path) == 1


def test_an_unknown_model_is_exit_3_and_an_existing_file_is_not_overwritten(
    built: dict[str, Path], tmp_path: Path
) -> None:
    code, output = _init(built, "no_such_model", tmp_path / "x.yml")
    assert code == 3
    assert "no_such_model" in output
    assert "(models: " in output and "stg_customers" in output  # what exists, to pick from
    existing = tmp_path / "kept.yml"
    existing.write_text("mine\n")
    assert _init(built, "stg_customers", existing)[0] == 2
    assert existing.read_text() == "mine\n"
