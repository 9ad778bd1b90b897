"""End to end on the bundled dbt project: a real `dbt build`, real contracts, both engines, the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dq
from dq.checks.result import RunResult, Status
from dq.config import EngineChoice, load_settings
from dq.run.runner import validate
from tests.conftest import ROOT

CONTRACTS = sorted((ROOT / "contracts").glob("*.yml"))
DEFECTS = {
    # defect injected by `generate_data.py --variant broken` -> the check that must catch it
    "join fan-out duplicates customers": ("churn_training_set", "primary_key.unique"),
    "null explosion in age": ("churn_training_set", "age.null_fraction"),
    "ages out of range": ("churn_training_set", "age.range"),
    "orphan plan_id": ("churn_training_set", "plan_id.references"),
    "stale snapshot": ("churn_training_set", "snapshot_at.freshness"),
}


def _run(db: Path, engine: EngineChoice, tmp_path: Path) -> RunResult:
    settings = load_settings(db=db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path, engine=engine)
    return validate(CONTRACTS, settings)


def _verdicts(run: RunResult) -> dict[tuple[str, str], tuple[Status, int | None]]:
    return {(c.contract, r.name): (r.status, r.failing_rows) for c in run.contracts for r in c.checks}


@pytest.mark.parametrize("engine", list(EngineChoice))
def test_clean_data_passes_every_contract(warehouse: dict[str, Path], engine: EngineChoice, tmp_path: Path) -> None:
    run = _run(warehouse["clean"], engine, tmp_path)
    problems = [(c.contract, r.name, r.status, r.message) for c in run.contracts for r in c.checks if r.status.blocks]
    assert [c.error for c in run.contracts] == [None] * len(CONTRACTS)
    assert problems == []
    assert run.status in (Status.passed, Status.warned)


@pytest.mark.parametrize("engine", list(EngineChoice))
def test_broken_data_is_blocked_naming_each_defect(
    warehouse: dict[str, Path], engine: EngineChoice, tmp_path: Path
) -> None:
    run = _run(warehouse["broken"], engine, tmp_path)
    verdicts = _verdicts(run)
    assert run.status is Status.failed
    for defect, key in DEFECTS.items():
        status, _ = verdicts[key]
        assert status is Status.failed, f"{defect}: {key} was {status}"


def test_engines_agree_check_by_check_on_the_broken_data(warehouse: dict[str, Path], tmp_path: Path) -> None:
    auto, pandera, gx = (_verdicts(_run(warehouse["broken"], engine, tmp_path)) for engine in EngineChoice)
    assert auto == pandera == gx


def test_gate_trains_on_clean_data_and_refuses_broken(warehouse: dict[str, Path], tmp_path: Path) -> None:
    for variant, expected in (("clean", 0), ("broken", 1)):
        marker = tmp_path / f"trained-{variant}"
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "dq"),
                "gate",
                "contracts/",
                "--db",
                str(warehouse[variant]),
                "--results-dir",
                str(tmp_path / "results"),
                "--snapshot-dir",
                str(tmp_path / "snapshots"),
                "--",
                sys.executable,
                "examples/train.py",
                "--db",
                str(warehouse[variant]),
                "--model-out",
                str(tmp_path / "m"),
            ],
            cwd=ROOT,
            env={**os.environ, "DQ_TRAIN_MARKER": str(marker)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == expected, done.stdout + done.stderr
        assert marker.exists() is (expected == 0), variant
        assert "Traceback" not in done.stderr


def test_python_precheck_raises_with_the_result(warehouse: dict[str, Path], tmp_path: Path) -> None:
    options = {"db": warehouse["broken"], "dbt_project": ROOT / "dbt_project", "results_dir": tmp_path}
    with pytest.raises(dq.GateError) as caught:
        dq.require_valid(ROOT / "contracts" / "training_set.yml", **options)
    assert isinstance(caught.value.result, RunResult)
    assert "primary_key.unique failed" in str(caught.value)

    trained = []

    @dq.gated(ROOT / "contracts" / "training_set.yml", **{**options, "db": warehouse["clean"]})
    def train() -> str:
        trained.append(True)
        return "model"

    assert train() == "model" and trained == [True]
    persisted = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    statuses = sorted(p["status"] for p in persisted)
    assert statuses[0] == "failed" and statuses[1] in ("passed", "warned")
