"""The results history: appended atomically per run, durable across a SIGKILL, safe under
concurrent writers, readable by `dq history`; the gate records the training outcome."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.cli import app
from dq.commands.history import sparkline
from dq.config import load_settings
from dq.run import history
from tests.conftest import MakeDb

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

CONTRACT = """\
contract: scores
version: 1.2.0
dataset: {table: main.scores}
columns:
  id: {type: bigint, nullable: false, unique: true}
  score: {type: double, mean: {min: 0, max: 10}}
"""


def a_run(run_id: str, mean: float, status: Status = Status.passed) -> RunResult:
    """A hand-made run: one contract, a mean check and a not-null check."""
    checks = [
        CheckResult("score.mean", "mean", ("score",), "error", "pandera", status, "between 0 and 10", observed=mean),
        CheckResult("id.not_null", "not_null", ("id",), "error", "pandera", Status.passed, "no nulls", failing_rows=0),
    ]
    contract = ContractResult(
        "scores",
        "contracts/scores.yml",
        version="1.2.0",
        dataset="table main.scores",
        relation="main.scores",
        checks=checks,
    )
    return RunResult(
        run_id,
        started_at="2026-01-01T00:00:00+00:00",
        contracts=[contract],
        finished_at="2026-01-01T00:00:01+00:00",
        result_path=f"/results/{run_id}.json",
    )


def run_ids(path: Path) -> list[str]:
    return sorted(row["run_id"] for row in history.read_rows(path, "SELECT run_id FROM runs"))


# ------------------------------------------------------------------------------------ the store


def test_append_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "h" / "history.duckdb"
    for index, mean in enumerate([4.0, 5.0, 9.5]):
        history.append_run(path, a_run(f"r{index}", mean), {"contracts/scores.yml": ("v1:3:abc", 3)})

    series = history.check_series(path, "scores", "score.mean", limit=10)
    assert [(r["run_id"], r["version"], r["observed_value"], r["fingerprint"]) for r in series] == [
        ("r0", "1.2.0", 4.0, "v1:3:abc"),
        ("r1", "1.2.0", 5.0, "v1:3:abc"),
        ("r2", "1.2.0", 9.5, "v1:3:abc"),
    ]
    assert [r["run_id"] for r in history.check_series(path, "scores", "score.mean", limit=2)] == ["r1", "r2"]
    overview = {r["check"]: r for r in history.contract_overview(path, "scores", limit=10)}
    assert overview["score.mean"]["series"] == [4.0, 5.0, 9.5]
    assert overview["id.not_null"]["series"] == [0.0, 0.0, 0.0]  # failing rows stand in for row checks
    assert [r["run_id"] for r in history.recent_runs(path, limit=10)] == ["r2", "r1", "r0"]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT value FROM dq_meta WHERE key = 'schema_version'").fetchall() == [("1",)]
        assert con.execute("SELECT row_count FROM contracts LIMIT 1").fetchall() == [(3,)]


def test_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    history.append_run(path, a_run("r0", 1.0))
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE dq_meta SET value = '99'")
    with pytest.raises(history.HistoryError, match="schema version 99"):
        history.append_run(path, a_run("r1", 1.0))


_CHILD = textwrap.dedent(
    """
    import time
    from pathlib import Path
    from tests.test_history import a_run
    from dq.run import history

    def hang():
        print("IN_TRANSACTION", flush=True)
        time.sleep(60)

    history.append_run(Path({path!r}), a_run({run_id!r}, 7.0), before_commit=hang if {hang} else None)
    print("DONE", flush=True)
    """
)


def _child(path: Path, run_id: str, hang: bool) -> subprocess.Popen[str]:
    code = _CHILD.format(path=str(path), run_id=run_id, hang=hang)
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("first_run", [False, True], ids=["after-a-committed-run", "very-first-run"])
def test_a_run_killed_inside_its_append_leaves_no_trace(tmp_path: Path, first_run: bool) -> None:
    path = tmp_path / "history.duckdb"
    if not first_run:
        history.append_run(path, a_run("committed", 1.0))
    child = _child(path, "killed", hang=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "IN_TRANSACTION"
    os.kill(child.pid, signal.SIGKILL)  # runs, contracts and checks rows are all inserted by now
    child.wait(timeout=10)

    expected = [] if first_run else ["committed"]
    assert run_ids(path) == expected
    if not first_run:
        assert {r["run_id"] for r in history.read_rows(path, "SELECT run_id FROM checks")} == {"committed"}
    history.append_run(path, a_run("after", 1.0))  # the file is still writable
    assert run_ids(path) == sorted([*expected, "after"])


def test_concurrent_appends_from_four_processes_all_land(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    children = [_child(path, f"p{i}", hang=False) for i in range(4)]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0, 0, 0], outputs
    assert run_ids(path) == ["p0", "p1", "p2", "p3"]
    assert len(history.read_rows(path, "SELECT * FROM checks")) == 8
    # the first append of each process raced to create the file: the losers' private copies are gone
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("history.duckdb")] == []


def _hold_lock(path: Path) -> subprocess.Popen[str]:
    code = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('LOCKED', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
    return holder


def test_a_lock_that_never_frees_is_an_error_not_a_skip(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    holder = _hold_lock(path)
    try:
        with pytest.raises(history.HistoryError, match=r"stayed locked by another process for 0\.5 s"):
            history.append_run(path, a_run("r0", 1.0), timeout_s=0.5)
    finally:
        holder.kill()
        holder.wait()


def test_fingerprint_follows_the_rows_not_their_order(make_db: MakeDb) -> None:
    from dq.data.source import open_database, resolve_table

    def fingerprint(*statements: str, name: str) -> tuple[str, int] | None:
        con = open_database(make_db(*statements, name=name))
        try:
            return history.dataset_fingerprint(resolve_table(con, Path(name), "main", "t"))
        finally:
            con.close()

    base = fingerprint("CREATE TABLE t AS SELECT range AS id, range * 2 AS x FROM range(1000)", name="a.duckdb")
    shuffled = fingerprint(
        "CREATE TABLE t AS SELECT range AS id, range * 2 AS x FROM range(1000) ORDER BY random()", name="b.duckdb"
    )
    one_changed = fingerprint(
        "CREATE TABLE t AS SELECT range AS id, CASE WHEN range = 7 THEN 0 ELSE range * 2 END AS x FROM range(1000)",
        name="c.duckdb",
    )
    duplicated = fingerprint(
        "CREATE TABLE t AS SELECT range % 500 AS id, (range % 500) * 2 AS x FROM range(1000)", name="d.duckdb"
    )
    doubled = fingerprint(
        "CREATE TABLE t AS SELECT range % 500 AS id, (range % 500) * 2 AS x FROM range(1500)", name="e.duckdb"
    )
    assert base is not None and base[1] == 1000 and base == shuffled
    assert len({base, one_changed, duplicated, doubled}) == 4


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1.0, 2.0, 3.0, 8.0], "▁▂▃█"), ([5.0, 5.0], "▁▁"), ([1.0, None, 2.0], "▁ █"), ([], ""), ([None], "")],
)
def test_sparkline(values: list[float | None], expected: str) -> None:
    assert sparkline(values) == expected


def test_history_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.dq]\nhistory = "store/h.duckdb"\n', encoding="utf-8")
    monkeypatch.delenv("DQ_HISTORY", raising=False)
    assert load_settings(start=tmp_path).history == tmp_path / "store/h.duckdb"
    monkeypatch.setenv("DQ_HISTORY", "/env/h.duckdb")
    assert load_settings(start=tmp_path).history == Path("/env/h.duckdb")
    assert load_settings(start=tmp_path, history=Path("cli.duckdb")).history == Path("cli.duckdb")


# ------------------------------------------------------------------------------- through the CLI


@pytest.fixture
def project(tmp_path: Path, make_db: MakeDb, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a DuckDB file and a contract; defaults (.dq/...) land inside it."""
    make_db("CREATE TABLE scores AS SELECT range AS id, (range % 7)::DOUBLE AS score FROM range(100)")
    (tmp_path / "scores.yml").write_text(CONTRACT, encoding="utf-8")
    for variable in ("DQ_HISTORY", "DQ_DB", "DQ_RESULTS_DIR", "DQ_DBT_PROJECT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _validate(*extra: str) -> int:
    result = runner.invoke(app, ["validate", "scores.yml", "--db", "test.duckdb", *extra])
    return result.exit_code


def test_validate_appends_every_run_before_returning(project: Path) -> None:
    assert _validate() == 0
    with duckdb.connect(str(project / "test.duckdb")) as con:
        con.execute("UPDATE scores SET score = score + 5 WHERE id < 50")
    assert _validate() == 0
    path = project / ".dq" / "history.duckdb"  # the default
    rows = history.check_series(path, "scores", "score.mean", limit=10)
    assert [r["status"] for r in rows] == ["passed", "passed"]
    assert rows[0]["observed_value"] == pytest.approx(2.95)
    assert rows[1]["observed_value"] == pytest.approx(5.45)
    assert rows[0]["fingerprint"] != rows[1]["fingerprint"]  # the data changed
    assert rows[0]["fingerprint"].startswith("v1:100:")
    [run] = history.read_rows(path, "SELECT * FROM runs ORDER BY recorded_at LIMIT 1")
    assert Path(run["result_path"]).is_file()


def test_history_option_and_failed_runs_are_recorded(project: Path) -> None:
    with duckdb.connect(str(project / "test.duckdb")) as con:
        con.execute("UPDATE scores SET score = 50")
    assert _validate("--history", "custom.duckdb") == 1
    [row] = history.check_series(project / "custom.duckdb", "scores", "score.mean", limit=10)
    assert (row["status"], row["observed_value"]) == ("failed", 50.0)
    assert not (project / ".dq" / "history.duckdb").exists()


def test_a_locked_history_makes_the_run_an_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "LOCK_TIMEOUT_S", 0.3)
    holder = _hold_lock(project / "locked.duckdb")
    try:
        result = runner.invoke(app, ["validate", "scores.yml", "--db", "test.duckdb", "--history", "locked.duckdb"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 3
    assert "could not be recorded" in result.output
    # no result file says "passed" for a run the history could not record
    assert list(project.rglob("results/*.json")) == [] and list(project.rglob("results/*.tmp")) == []


def test_gate_records_the_training_outcome(project: Path) -> None:
    result = runner.invoke(
        app, ["gate", "scores.yml", "--db", "test.duckdb", "--", sys.executable, "-c", "raise SystemExit(4)"]
    )
    assert result.exit_code == 4, result.output
    events = history.read_rows(
        project / ".dq" / "history.duckdb", "SELECT e.*, r.status AS verdict FROM events e JOIN runs r USING (run_id)"
    )
    assert [(e["event"], e["status"], e["exit_code"], e["verdict"]) for e in events] == [
        ("training", "failed", 4, "passed")
    ]  # validation passed, training failed


def test_dq_history_views(project: Path) -> None:
    for _ in range(3):
        assert _validate() == 0
    runs = runner.invoke(app, ["history", "--format", "json"])
    assert runs.exit_code == 0 and len(json.loads(runs.stdout)) == 3
    overview = runner.invoke(app, ["history", "scores"])
    assert overview.exit_code == 0 and "score.mean" in overview.stdout and "▁▁▁" in overview.stdout
    series = runner.invoke(app, ["history", "scores.yml", "--check", "score.mean", "--format", "json"])
    assert series.exit_code == 0
    assert [r["observed"] for r in json.loads(series.stdout)] == ["2.95", "2.95", "2.95"]
    table = runner.invoke(app, ["history", "scores", "--check", "score.mean", "--limit", "2"])
    assert table.exit_code == 0 and table.stdout.count("1.2.0") == 2


@pytest.mark.parametrize(
    ("args", "exit_code", "words"),
    [
        (["history", "nope"], 2, "no contract 'nope' in the history (recorded contracts: scores)"),
        (["history", "scores", "--check", "nope"], 2, "no check 'nope'"),
        (["history", "--check", "score.mean"], 2, "--check needs a CONTRACT"),
        (["history", "--history", "missing.duckdb"], 3, "no results history at missing.duckdb"),
    ],
)
def test_dq_history_errors(project: Path, args: list[str], exit_code: int, words: str) -> None:
    assert _validate() == 0
    result = runner.invoke(app, args)
    assert result.exit_code == exit_code
    assert words in result.output
