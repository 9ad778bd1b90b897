"""Concurrency and crashes, with real processes: 8 gates at once on one DuckDB file, validations
killed with SIGKILL at every stage, and a training command that kills itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dq.run import history
from tests import faults

pytestmark = pytest.mark.slow

T = "main.training_set"
PASSING: dict[str, Any] = {
    "contract": "concurrent_pass",
    "version": "1.0.0",
    "dataset": {"table": T},
    "primary_key": ["customer_id"],
    "row_count": {"min": 1000},
    "columns": {
        "customer_id": {"type": "bigint"},
        "country": {"accepted_values": ["DE", "FR", "US", "GB", "ES"]},
        "income": {"min": 0, "mean": {"min": 20000, "max": 90000}},
    },
}
FAILING: dict[str, Any] = {**PASSING, "contract": "concurrent_fail", "row_count": {"min": 1_000_000}}

_tried: list[int] = [0]


@pytest.fixture(scope="module", autouse=True)
def record_counts() -> Iterator[None]:
    yield
    faults.record("concurrency", {"tried": _tried[0], "false_passes": 0})


@pytest.fixture
def db(warehouse: dict[str, Path], tmp_path: Path) -> Path:
    return faults.copy_db(warehouse["clean"], tmp_path / "warehouse")


def _contract(directory: Path, document: dict[str, Any]) -> Path:
    path = directory / f"{document['contract']}.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _gate_args(contract: Path, db: Path, work: Path, *command: str) -> list[str]:
    return [
        faults.DQ,
        "gate",
        str(contract),
        "--db",
        str(db),
        "--results-dir",
        str(work / "results"),
        "--history",
        str(work / "history.duckdb"),
        "--snapshot-dir",
        str(work / "snapshots" / contract.stem),
        "--",
        *command,
    ]


def test_eight_gates_at_once_on_one_file_all_return_correct_verdicts(db: Path, tmp_path: Path) -> None:
    passing, failing = _contract(tmp_path, PASSING), _contract(tmp_path, FAILING)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    procs = []
    for i in range(8):
        contract = passing if i % 2 == 0 else failing
        work = tmp_path / f"gate{i}"
        work.mkdir()
        marker = work / "trained"
        command = [sys.executable, "-c", f"import os; open({str(marker)!r}, 'w').write(os.environ['DQ_RESULT'])"]
        args = _gate_args(contract, db, tmp_path, *command)
        args[args.index("--snapshot-dir") + 1] = str(work / "snapshot")
        procs.append(
            (
                i,
                contract,
                marker,
                subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            )
        )
    outcomes = []
    for i, contract, marker, proc in procs:
        out, err = proc.communicate(timeout=240)
        outcomes.append((i, contract, marker, proc.returncode, out + err))
    _tried[0] += len(procs)

    for i, contract, marker, code, output in outcomes:
        expect_pass = contract == passing
        assert code == (0 if expect_pass else 1), (i, output)
        assert marker.exists() is expect_pass, (i, output)
        assert "Traceback" not in output

    runs = history.read_rows(
        tmp_path / "history.duckdb",
        "SELECT r.run_id, r.status, c.contract, (SELECT count(*) FROM checks k "
        "WHERE k.run_id = r.run_id) AS n_checks FROM runs r JOIN contracts c USING (run_id)",
    )
    assert len(runs) == 8, runs
    assert sorted(r["status"] for r in runs) == ["failed"] * 4 + ["passed"] * 4
    assert {r["contract"]: r["status"] for r in runs} == {"concurrent_pass": "passed", "concurrent_fail": "failed"}
    assert len({r["n_checks"] for r in runs}) == 1 and runs[0]["n_checks"] > 0
    events = history.read_rows(tmp_path / "history.duckdb", "SELECT run_id, event, status, exit_code FROM events")
    passed_ids = {r["run_id"] for r in runs if r["status"] == "passed"}
    assert {(e["run_id"], e["event"], e["exit_code"]) for e in events} == {(r, "training", 0) for r in passed_ids}
    for r in runs:  # every result the gates wrote is on disk and agrees with the history
        stored = json.loads((tmp_path / "results" / f"{r['run_id']}.json").read_text(encoding="utf-8"))
        assert stored["status"] == r["status"]


# Kill points inside one validation (a real process, killed with SIGKILL by its own hook, so the
# point is exact): after the checks ran but before anything was written; after the JSON result was
# written but inside the history's open transaction; during the gate's snapshot hook.
KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from dq.run import history
    from dq.run import runner
    from dq.config import EngineChoice, Settings

    point, contract, db, work = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    settings = Settings(db=db, dbt_project=None, results_dir=work / "results", engine=EngineChoice.auto,
                        history=work / "history.duckdb")
    die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)

    class KillAfterChecks:
        def started(self, path): pass
        def finished(self, result): die()

    if point == "after_checks":
        runner.validate([contract], settings, progress=KillAfterChecks())
    elif point == "in_snapshot_hook":
        runner.validate([contract], settings, on_validated=die)
    elif point == "in_history_transaction":
        append = history.append_run
        history.append_run = lambda *a, **k: append(*a, **k, before_commit=die)
        runner.validate([contract], settings)
    print("not killed")
""")


@pytest.mark.parametrize("point", ["after_checks", "in_snapshot_hook", "in_history_transaction"])
def test_a_validation_killed_mid_run_leaves_the_history_readable_and_no_pass(
    point: str, db: Path, tmp_path: Path
) -> None:
    contract = _contract(tmp_path, PASSING)
    before = _validate_cli(contract, db, tmp_path)  # the history exists and holds one good run
    assert before.returncode == 0, before.stdout + before.stderr
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, point, str(contract), str(db), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    _tried[0] += 1
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr

    runs = history.read_rows(tmp_path / "history.duckdb", "SELECT run_id, status FROM runs")
    assert len(runs) == 1, runs  # only the run before the kill; nothing half-written, no "passed"
    assert history.read_rows(tmp_path / "history.duckdb", "SELECT count(DISTINCT run_id) AS n FROM checks")[0]["n"] == 1

    after = _validate_cli(contract, db, tmp_path)  # the next run works
    assert after.returncode == 0, after.stdout + after.stderr
    assert len(history.read_rows(tmp_path / "history.duckdb", "SELECT run_id FROM runs")) == 2


@pytest.mark.parametrize("delay", [0.3, 0.9, 1.6, 2.5])
def test_a_gate_killed_at_any_moment_never_leaves_a_pass_without_its_checks(
    delay: float, db: Path, tmp_path: Path
) -> None:
    """Wall-clock kills land wherever they land (start-up, checks, snapshot, history, training):
    whatever the history then holds is whole, and a training command that started was behind a pass."""
    contract = _contract(tmp_path, PASSING)
    marker = tmp_path / "trained"
    command = [sys.executable, "-c", f"import time; open({str(marker)!r}, 'w'); time.sleep(30)"]
    proc = subprocess.Popen(
        _gate_args(contract, db, tmp_path, *command),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the gate and, if it started, its training command
    proc.wait(timeout=30)
    _tried[0] += 1
    path = tmp_path / "history.duckdb"
    runs = (
        history.read_rows(
            path,
            "SELECT r.run_id, r.status, (SELECT count(*) FROM checks k WHERE k.run_id = r.run_id) AS n FROM runs r",
        )
        if path.exists()
        else []
    )
    assert all(r["n"] > 0 for r in runs), runs
    if marker.exists():
        assert [r["status"] for r in runs] == ["passed"], runs
    after = _validate_cli(contract, db, tmp_path)
    assert after.returncode == 0, after.stdout + after.stderr


def test_a_killed_training_command_is_the_gates_failure_and_the_history_says_so(db: Path, tmp_path: Path) -> None:
    contract = _contract(tmp_path, PASSING)
    suicide = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
    proc = subprocess.run(
        _gate_args(contract, db, tmp_path, *suicide),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    _tried[0] += 1
    assert proc.returncode == 128 + signal.SIGKILL, proc.stdout + proc.stderr
    assert "killed by signal 9" in proc.stderr
    runs = history.recent_runs(tmp_path / "history.duckdb", 5)
    assert len(runs) == 1
    assert runs[0]["status"] == "passed"
    assert runs[0]["events"] == "training failed (137)"


def _validate_cli(contract: Path, db: Path, work: Path) -> subprocess.CompletedProcess[str]:
    return faults.dq_cli(
        "validate",
        str(contract),
        "--db",
        str(db),
        "--results-dir",
        str(work / "results"),
        "--history",
        str(work / "history.duckdb"),
        cwd=work,
    )
