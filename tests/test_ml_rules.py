"""Label, leakage and drift rules end to end: the bundled project's drifted variant is blocked with
each defect named, the clean data passes, and every way the rules can be misused fails closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dq.checks.result import RunResult, Status
from dq.config import EngineChoice, load_settings
from dq.contract.model import load_contract
from dq.errors import ContractError
from dq.run.runner import validate
from tests.conftest import ROOT, MakeDb, _build_warehouse

CONTRACT = ROOT / "contracts" / "training_set.yml"
DQ = str(Path(sys.executable).parent / "dq")
ML_CHECKS = (
    "label.class_fraction.true",
    "label.null_fraction",
    "leakage.correlation_with_label",
    "leakage.categorical_determines_label",
    "leakage.disjoint_from",
    "leakage.before",
    "drift.income.psi",
    "drift.income.ks",
    "drift.country.psi",
    "drift.country.chi2",
    "drift.country.linf",
)
DEFECTS = {
    # defect injected by `generate_data.py --variant drifted` -> the checks that must name it
    "income shifted up 60%": ("drift.income.psi", "drift.income.ks"),
    "new country IT": ("drift.country.psi", "drift.country.chi2", "drift.country.linf"),
    "label flipped": ("label.class_fraction.true",),
    "retention_offer leaks the label": ("leakage.correlation_with_label",),
    "train/eval overlap": ("leakage.disjoint_from",),
    "events after the label time": ("leakage.before",),
}


@pytest.fixture(scope="session")
def drifted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real dbt build of the drifted variant per session."""
    db = tmp_path_factory.mktemp("drifted") / "warehouse.duckdb"  # the catalog the manifest names (conftest)
    _build_warehouse(db, "drifted")
    return db


@pytest.fixture(autouse=True)
def _from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the contract's drift reference is relative to the current directory


def _run(db: Path, tmp_path: Path, contract: Path = CONTRACT, engine: EngineChoice = EngineChoice.auto) -> RunResult:
    settings = load_settings(db=db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path / "results", engine=engine)
    return validate([contract], settings)


def _checks(run: RunResult) -> dict[str, object]:
    return {check.name: check for check in run.contracts[0].checks}


@pytest.mark.parametrize("engine", [EngineChoice.auto, EngineChoice.gx])
def test_clean_data_passes_every_ml_rule(warehouse: dict[str, Path], tmp_path: Path, engine: EngineChoice) -> None:
    run = _run(warehouse["clean"], tmp_path, engine=engine)
    checks = _checks(run)
    assert run.status in (Status.passed, Status.warned)
    for name in ML_CHECKS:
        check = checks[name]
        assert check.status is Status.passed, (name, check.observed, check.message)  # type: ignore[attr-defined]
        if name.startswith(("drift.", "leakage.c", "label.class")):
            assert check.engine == "pandera"  # type: ignore[attr-defined]  # GX cannot state these


def test_drifted_data_is_blocked_naming_each_defect(drifted_db: Path, tmp_path: Path) -> None:
    run = _run(drifted_db, tmp_path)
    checks = _checks(run)
    assert run.status is Status.failed
    for defect, names in DEFECTS.items():
        for name in names:
            assert checks[name].status is Status.failed, f"{defect}: {name} was {checks[name].status}"  # type: ignore[attr-defined]
    assert "retention_offer" in checks["leakage.correlation_with_label"].observed  # type: ignore[attr-defined]
    assert checks["leakage.disjoint_from"].failing_rows > 0  # type: ignore[attr-defined]
    assert checks["leakage.before"].samples  # type: ignore[attr-defined]
    # the leaked numeric feature is also caught by its values (lambda reads every feature), and
    # no categorical feature of the drifted data is named besides it
    determines = checks["leakage.categorical_determines_label"]
    assert determines.status is Status.failed and set(determines.observed) == {"retention_offer"}  # type: ignore[attr-defined]


def test_gate_refuses_to_train_on_drifted_data_and_says_why(drifted_db: Path, tmp_path: Path) -> None:
    marker = tmp_path / "trained"
    done = subprocess.run(
        [
            DQ,
            "gate",
            str(CONTRACT),
            "--db",
            str(drifted_db),
            "--results-dir",
            str(tmp_path / "r"),
            "--",
            sys.executable,
            "-c",
            f"open({str(marker)!r}, 'w').write('x')",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert not marker.exists()
    for names in DEFECTS.values():
        for name in names:
            assert f"FAIL {name}:" in done.stdout, name
    assert "Traceback" not in done.stderr


def test_committed_profile_matches_freshly_generated_clean_data(warehouse: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    done = subprocess.run(
        [DQ, "profile", str(CONTRACT), "--db", str(warehouse["clean"]), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    fresh, committed = json.loads(out.read_text()), json.loads((ROOT / "profiles" / "training_set.json").read_text())
    assert fresh["contract"] == committed["contract"] == "churn_training_set"
    for column in load_contract(CONTRACT).drift.columns:  # type: ignore[union-attr]
        assert fresh["columns"][column] == committed["columns"][column], column


def _contract(tmp_path: Path, drift: str, dataset: str = "{table: main.training_set}") -> Path:
    path = tmp_path / "c.yml"
    path.write_text(
        f"contract: c\nversion: 1.0.0\ndataset: {dataset}\ncolumns:\n  income: {{}}\n  country: {{}}\n{drift}",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        pytest.param(
            "drift: {reference: nowhere/p.json, columns: {income: {psi_max: 0.1}}}",
            "drift reference profile nowhere/p.json not found",
            id="missing profile",
        ),
        pytest.param(
            "drift: {reference: contracts/training_set.yml, columns: {income: {psi_max: 0.1}}}",
            "unreadable",
            id="not a profile",
        ),
        pytest.param(
            "drift: {reference: profiles/training_set.json, columns: {country: {ks_max: 0.1}}}",
            "KS needs a numeric column",
            id="KS on a categorical column",
        ),
    ],
)
def test_an_unusable_reference_is_an_error_never_a_pass(
    warehouse: dict[str, Path], tmp_path: Path, drift: str, message: str
) -> None:
    run = _run(warehouse["clean"], tmp_path, _contract(tmp_path, drift))
    errored = [c for c in run.contracts[0].checks if c.name.startswith("drift.")]
    assert run.status is Status.error
    assert errored and all(c.status is Status.error for c in errored)
    assert message in errored[0].message
    if "profile" in message:
        assert "dq profile" in errored[0].message


def test_missing_reference_exits_3_with_the_fix(warehouse: dict[str, Path], tmp_path: Path) -> None:
    contract = _contract(tmp_path, "drift: {reference: profiles/missing.json, columns: {income: {psi_max: 0.1}}}")
    done = subprocess.run(
        [DQ, "validate", str(contract), "--db", str(warehouse["clean"]), "--results-dir", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 3
    assert "dq profile CONTRACT --output profiles/missing.json" in done.stdout


def test_drift_on_an_empty_table_fails_closed(make_db: MakeDb, tmp_path: Path) -> None:
    db = make_db("CREATE TABLE training_set (income DOUBLE, country VARCHAR)")
    contract = _contract(tmp_path, "drift: {reference: profiles/training_set.json, columns: {income: {psi_max: 9}}}")
    check = _checks(_run(db, tmp_path, contract))["drift.income.psi"]
    assert check.status is Status.failed  # type: ignore[attr-defined]


def test_profile_of_a_bad_contract_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("contract: x\nversion: 1\n", encoding="utf-8")
    done = subprocess.run([DQ, "profile", str(bad), "-o", str(tmp_path / "p.json")], capture_output=True, text=True)
    assert done.returncode == 3 and "could not profile" in done.stderr
    assert not (tmp_path / "p.json").exists()


BASE = "contract: c\nversion: 1.0.0\ndataset: {table: t}\ncolumns:\n  y: {}\n  ts: {}\n  id: {}\n"


@pytest.mark.parametrize(
    ("rules", "error"),
    [
        ("label: {column: z}", "label.column 'z' is not declared under `columns`"),
        ("label: {column: y, class_fraction: {min: 0.7, max: 0.2}}", "min (0.7) is greater than max (0.2)"),
        ("label: {column: y, class_fraction: {min: -0.1}}", "fractions are within [0, 1], got -0.1"),
        ("label: {column: y, class_fraction: {true: {max: 1.5}}}", "fractions are within [0, 1], got 1.5"),
        (
            "label: {column: y, max_null_fraction: 2}",
            "label.max_null_fraction: Input should be less than or equal to 1",
        ),
        ("label: {column: y, weight: 1}", "label.weight: unknown key 'weight'; allowed keys: column, class_fraction"),
        ("leakage: {max_abs_correlation_with_label: 0.9}", "needs `label: {column: ...}`"),
        ("leakage: {max_abs_correlation_with_label: 1.2}", "less than or equal to 1"),
        (
            "leakage: {disjoint_from: {model: e, key: [nope]}}",
            "leakage.disjoint_from.key column 'nope' is not declared",
        ),
        ("leakage: {disjoint_from: {model: e, table: f, key: [id]}}", "exactly one of `model`"),
        ("leakage: {disjoint_from: {model: e, key: []}}", "leakage.disjoint_from.key"),
        ("leakage: {before: {column: ts, label_time: later}}", "leakage.before.label_time 'later' is not declared"),
        ("drift: {reference: p.json, columns: {y: {}}}", "give at least one of psi_max"),
        ("drift: {reference: p.json, columns: {y: {psi_max: -1}}}", "greater than or equal to 0"),
        ("drift: {reference: p.json, columns: {y: {ks_max: 2}}}", "less than or equal to 1"),
        ("drift: {reference: p.json, columns: {q: {psi_max: 0.1}}}", "drift.columns key 'q' is not declared"),
        ("drift: {columns: {y: {psi_max: 0.1}}}", "drift.reference: required key is missing"),
        ("drift: {reference: p.json, columns: {y: {psi: 0.1}}}", "unknown key 'psi'"),
    ],
)
def test_impossible_rules_are_contract_errors(write_contract: Callable[[str], Path], rules: str, error: str) -> None:
    with pytest.raises(ContractError) as caught:
        load_contract(write_contract(BASE + rules))
    assert error in str(caught.value)
