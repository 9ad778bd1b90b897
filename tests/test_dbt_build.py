"""`dq dbt build` on a real copy of dbt_project/: contracts gate models while dbt builds them.

Two gates are exercised: the exported in-model assertions (post-hook/constraints, which roll the
model back so its previous table survives) and dq's own NodeFinished callback (the full Pandera +
GX contract; blocks the children, the table itself is already committed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dq.checks.result import Status
from dq.cli import app
from dq.contract.model import load_contract
from dq.dbt.build import drift_check, in_model_failures
from dq.dbt.export import MACROS_FILE, PROPERTIES_FILE, export_files, write_files
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
GATE_OFF = ["--vars", "{dq_enforce: false}"]  # exported in-model gates off: only dq's callback gates


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of dbt_project/ with the contracts exported into it, and its own DuckDB file."""
    base = tmp_path_factory.mktemp("dbt_build")
    project = base / "dbt_project"
    shutil.copytree(
        ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*", ".user.yml")
    )
    shutil.copytree(ROOT / "tests" / "fixtures" / "dbt_export" / "contracts", base / "contracts")
    write_files(export_files(sorted((base / "contracts").glob("*.yml")), project), project)
    saved = {k: os.environ.get(k) for k in ("DQ_DB", "DQ_HISTORY")}
    os.environ["DQ_DB"] = str(base / "warehouse.duckdb")
    os.environ["DQ_HISTORY"] = str(base / "history.duckdb")
    yield project
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _generate(variant: str) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "dbt_project" / "generate_data.py"),
            "--db",
            os.environ["DQ_DB"],
            "--variant",
            variant,
        ],
        check=True,
        capture_output=True,
    )


def _build(project: Path, *dbt_args: str, target: str) -> tuple[int, str, Path]:
    target_path = project.parent / "targets" / target
    args = [
        "dbt",
        "build",
        "--contracts",
        str(project.parent / "contracts"),
        "--dbt-project",
        str(project),
        "--results-dir",
        str(project.parent / "results"),
        "--target-path",
        str(target_path),
        "--quiet",
        *dbt_args,
    ]
    out = CliRunner().invoke(app, args)
    return out.exit_code, out.output, target_path


def _statuses(target_path: Path) -> dict[str, str]:
    """{node name: status} from dbt's own run_results.json of this invocation."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results if r["unique_id"].startswith("model.")}


def _rows(sql: str) -> list[tuple]:
    with duckdb.connect(os.environ["DQ_DB"], read_only=True) as con:
        return con.execute(sql).fetchall()


def test_clean_data_builds_green_and_every_validation_is_persisted(project: Path) -> None:
    _generate("clean")
    code, output, target = _build(project, target="clean")
    assert code == 0, output
    assert set(_statuses(target).values()) == {"success"}
    run = json.loads((target / "dq_results.json").read_text())
    assert sorted(c["contract"] for c in run["contracts"]) == ["churn_training_set", "customer_orders", "stg_customers"]
    assert run["status"] in ("passed", "warned")
    assert (target / "dq" / "training_set.json").is_file()  # written from the callback, before dbt went on
    assert (project.parent / "results" / f"{run['run_id']}.json").is_file()  # and in the results history
    drift = [c for c in run["contracts"][0]["checks"] if c["name"] == "schema.drift"]
    assert drift and drift[0]["status"] == "passed"
    assert "passed" in output


def test_a_build_parses_each_version_of_the_manifest_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The callbacks resolve models, references and declared columns through dbt's manifest, on
    dbt's own thread: each read is a JSON parse of the whole file unless the build keeps it."""
    from dq.dbt import artifacts

    parsed: list[tuple[Path, int]] = []
    real = artifacts._read_manifest_file

    def counting(path: Path, project_dir: Path | None = None) -> dict:
        parsed.append((path, path.stat().st_mtime_ns))
        return real(path, project_dir)

    monkeypatch.setattr(artifacts, "_read_manifest_file", counting)
    _generate("clean")
    code, output, _ = _build(project, target="parsed_once")
    assert code == 0, output
    assert parsed, "the build never read dbt's manifest"
    assert len(parsed) == len(set(parsed)), parsed


def test_dq_dbt_build_judges_without_importing_pandas_or_numpy(project: Path) -> None:
    """dbt imports neither; dq's judges are Pandera on polars, so dq's own process needs neither."""
    _generate("clean")
    code = (
        "import sys, json\n"
        "from dq.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(json.dumps({'exit': code, 'loaded': [m for m in ('pandas', 'numpy') if m in sys.modules]}))\n"
    )
    target = project.parent / "targets" / "no_pandas"
    argv = ["dbt", "build", "--contracts", str(project.parent / "contracts"), "--dbt-project", str(project)]
    argv += ["--results-dir", str(project.parent / "results"), "--target-path", str(target), "--quiet"]
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False)
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    assert payload == {"exit": 0, "loaded": []}, done.stdout + done.stderr
    assert {c["contract"] for c in json.loads((target / "dq_results.json").read_text())["contracts"]} == {
        "churn_training_set",
        "customer_orders",
        "stg_customers",
    }


def test_in_model_assertion_fails_the_model_and_keeps_its_previous_table(project: Path) -> None:
    _generate("clean")
    assert _build(project, target="before")[0] == 0
    before = _rows("SELECT count(*), max(snapshot_at) FROM main.training_set")
    _generate("broken")
    code, output, target = _build(project, "--select", "training_set", target="wap")
    assert code == 1, output
    assert _statuses(target) == {"training_set": "error"}
    results = json.loads((target / "run_results.json").read_text())["results"]
    message = next(r["message"] for r in results if r["unique_id"].endswith(".training_set"))
    assert "dq contract churn_training_set 1.0.0 failed" in message
    assert "primary_key.unique" in message  # the join fan-out, caught inside the transaction
    assert _rows("SELECT count(*), max(snapshot_at) FROM main.training_set") == before  # the swap rolled back
    failed = json.loads((target / "dq" / "training_set.json").read_text())["contracts"][0]
    assert failed["status"] == "failed"
    assert "primary_key.unique" in {c["name"] for c in failed["checks"]}


def test_failing_upstream_contract_skips_its_downstream_models(project: Path) -> None:
    _generate("broken")
    code, output, target = _build(project, target="upstream")
    assert code == 1, output
    statuses = _statuses(target)
    assert statuses["stg_customers"] == "error"
    assert statuses["customer_orders"] == "skipped"
    assert statuses["training_set"] == "skipped"
    assert statuses["stg_plans"] == "success"


def test_dq_callback_blocks_downstream_when_the_exported_gate_is_off(project: Path) -> None:
    _generate("broken")
    code, output, target = _build(project, *GATE_OFF, target="callback")
    assert code == 1, output
    statuses = _statuses(target)
    assert statuses["stg_customers"] == "error"  # raised by dq in NodeFinished
    assert statuses["training_set"] == "skipped"
    message = json.loads((target / "run_results.json").read_text())
    msg = next(r["message"] for r in message["results"] if r["unique_id"].endswith(".stg_customers"))
    assert "dq: contract stg_customers failed" in msg
    run = json.loads((target / "dq" / "stg_customers.json").read_text())
    failed = {c["name"] for c in run["contracts"][0]["checks"] if c["status"] == "failed"}
    assert {"age.null_fraction", "plan_id.references"} <= failed  # the full contract ran, not just SQL


def test_a_dbt_failure_that_is_not_a_contract_is_exit_3(project: Path) -> None:
    code, output, _ = _build(project, "--target", "no_such_target", target="bad")
    assert code == 3, output


def test_a_bad_contract_builds_nothing_and_is_exit_3(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("contract: x\nversion: one\ndataset: {model: training_set}\n")
    out = CliRunner().invoke(app, ["dbt", "build", "--contracts", str(bad), "--dbt-project", str(project)])
    assert out.exit_code == 3
    assert "version" in out.output


@pytest.mark.parametrize(
    ("message", "names"),
    [
        (
            "Invalid Input Error: dq contract c 1.0.0 failed: age.range (7 rows); row_count (observed 3)",
            ["age.range", "row_count"],
        ),
        (
            'Constraint Error: CHECK constraint failed on table "m__dbt_tmp" with expression CHECK(x > 0)',
            ["dbt.constraint"],
        ),
        ("This model has an enforced contract that failed.", ["dbt.model_contract"]),
    ],
)
def test_in_model_failures_are_read_back_check_by_check(message: str, names: list[str]) -> None:
    checks = in_model_failures(message)
    assert checks is not None
    assert [c.name for c in checks] == names
    assert all(c.status is Status.failed for c in checks)


def test_a_model_sql_error_is_not_a_contract_failure() -> None:
    assert in_model_failures("Binder Error: column x not found") is None


def test_drift_lists_missing_extra_and_retyped_columns(write_contract) -> None:  # type: ignore[no-untyped-def]
    contract = load_contract(
        write_contract(
            "contract: c\nversion: 1.0.0\ndataset: {model: m}\ncolumns:\n  a: {type: bigint}\n  b: {type: varchar}\n  gone: {}\n"
        )
    )
    check = drift_check(contract, {"a": "INTEGER", "b": "VARCHAR", "new": "DOUBLE"}, {"a": "bigint", "doc_only": None})
    assert check.status is Status.warned
    assert check.observed == (
        "missing from the model: gone; not in the contract: new; retyped: a (INTEGER, contract BIGINT); "
        "declared in dbt only: doc_only"
    )
    same = drift_check(contract, {"a": "BIGINT", "b": "VARCHAR", "gone": "DATE"}, {})
    assert same.status is Status.passed


def test_generated_files_are_in_the_copy(project: Path) -> None:
    assert (project / PROPERTIES_FILE).is_file()
    assert (project / MACROS_FILE).is_file()
