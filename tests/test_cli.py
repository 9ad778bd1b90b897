"""The CLI as users and CI scripts see it: output, exit codes, the gate. Real DuckDB files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dq.cli import app
from tests.conftest import MakeDb

runner = CliRunner()

TABLE = """CREATE TABLE customers AS SELECT * FROM (VALUES
    (1, 'DE', 34, 'a@x.io'), (2, 'FR', 51, 'b@x.io'), (3, 'US', NULL, 'not-an-email')
) t(id, country, age, email)"""

CONTRACT = """contract: customers
version: 1.2.0
dataset: {{table: main.customers}}
primary_key: [id]
columns:
  id: {{type: integer, nullable: false}}
  country: {{type: varchar, accepted_values: [DE, FR, US]}}
  age: {{type: integer, min: {age_min}, max: 120}}
  email: {{type: varchar, pattern: '^[^@]+@[^@]+$', severity: warn}}
"""


@pytest.fixture
def db(make_db: MakeDb) -> Path:
    return make_db(TABLE)


@pytest.fixture
def invoke(tmp_path: Path) -> Callable[..., tuple[int, str]]:
    def run(*args: str) -> tuple[int, str]:
        where = ["--results-dir", str(tmp_path / "results")]
        if args[0] == "gate":
            where += ["--snapshot-dir", str(tmp_path / "snapshots")]
        result = runner.invoke(app, [*args[:1], *where, *args[1:]])
        return result.exit_code, result.output  # stdout and stderr, as a user sees them

    return run


def contract(write_contract: Callable[[str], Path], age_min: int = 18) -> Path:
    return write_contract(CONTRACT.format(age_min=age_min))


def test_passing_data_exits_0_and_reports_warnings(invoke, write_contract, db: Path) -> None:
    code, out = invoke("validate", str(contract(write_contract)), "--db", str(db))
    assert code == 0, out
    assert "WARN" in out and "email.pattern" in out and "not-an-email" in out
    assert "passes its contracts, with warnings" in out


def test_failed_error_check_exits_1_with_samples(invoke, write_contract, db: Path) -> None:
    code, out = invoke("validate", str(contract(write_contract, age_min=40)), "--db", str(db))
    assert code == 1, out
    assert "FAIL" in out and "age.range" in out and "age=34" in out


@pytest.mark.parametrize(
    ("make_problem", "message"),
    [
        (lambda p, db: (p.write_text("contract: x\nversion: one\ndataset: {table: t}\n"), db)[1], "version"),
        (lambda p, db: p.parent / "missing.duckdb", "does not exist"),
        (
            lambda p, db: (p.write_text(p.read_text().replace("main.customers", "main.nope")), db)[1],
            "main.nope not found",
        ),
        (lambda p, db: (p.write_text(p.read_text() + "  height: {min: 1}\n"), db)[1], "column height is missing"),
        (
            lambda p, db: (
                p.write_text(
                    p.read_text().replace("main.customers", "{model: x}").replace("{table: {model: x}}", "{model: x}")
                ),
                db,
            )[1],
            "manifest.json not found",
        ),
    ],
    ids=["bad-contract", "missing-db", "missing-table", "missing-column", "model-without-dbt"],
)
def test_could_not_validate_exits_3(invoke, write_contract, db: Path, make_problem, message: str) -> None:
    path = contract(write_contract)
    db_arg = make_problem(path, db)
    code, out = invoke("validate", str(path), "--db", str(db_arg), "--dbt-project", str(path.parent / "nodbt"))
    assert code == 3, out
    assert message in out


def test_a_file_that_is_not_a_database_exits_3(invoke, write_contract, tmp_path: Path) -> None:
    fake = tmp_path / "fake.duckdb"
    fake.write_text("hello")
    code, out = invoke("validate", str(contract(write_contract)), "--db", str(fake))
    assert code == 3 and "cannot open" in out


@pytest.mark.parametrize("args", [["--engine", "spark"], [], ["--format", "xml"]])
def test_usage_errors_exit_2(invoke, write_contract, db: Path, args: list[str]) -> None:
    contract_args = [str(contract(write_contract)), "--db", str(db)] if args else []
    code, _ = invoke("validate", *contract_args, *args)
    assert code == 2


def test_json_format_and_output_file(invoke, write_contract, db: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "out" / "result.json"
    code, out = invoke(
        "validate", str(contract(write_contract)), "--db", str(db), "--format", "json", "-o", str(out_file)
    )
    assert code == 0
    printed, written = json.loads(runner_stdout(out)), json.loads(out_file.read_text())
    assert printed == written
    assert written["status"] == "warned" and written["schema_version"] == "1"
    (only,) = written["contracts"]
    assert only["contract"] == "customers" and only["version"] == "1.2.0"
    email = next(c for c in only["checks"] if c["name"] == "email.pattern")
    assert email["failing_rows"] == 1 and email["samples"][0]["email"] == "not-an-email"
    persisted = list((tmp_path / "results").glob("*.json"))
    assert len(persisted) == 1 and json.loads(persisted[0].read_text())["run_id"] == written["run_id"]


def test_gate_runs_the_command_on_pass(invoke, write_contract, db: Path, tmp_path: Path) -> None:
    marker = tmp_path / "trained"
    script = f"import os, pathlib; pathlib.Path({str(marker)!r}).write_text(os.environ['DQ_RESULT'])"
    code, out = invoke("gate", str(contract(write_contract)), "--db", str(db), "--", sys.executable, "-c", script)
    assert code == 0, out
    assert json.loads(Path(marker.read_text()).read_text())["status"] == "warned"


def test_gate_never_starts_the_command_on_block(invoke, write_contract, db: Path, tmp_path: Path) -> None:
    marker = tmp_path / "trained"
    script = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')"
    code, out = invoke(
        "gate", str(contract(write_contract, age_min=40)), "--db", str(db), "--", sys.executable, "-c", script
    )
    assert code == 1
    assert not marker.exists()
    assert "blocked, not running" in out


@pytest.mark.parametrize(("command", "expected"), [(["-c", "raise SystemExit(7)"], 7), (["-c", "pass"], 0)])
def test_gate_returns_the_commands_exit_code(invoke, write_contract, db: Path, command, expected: int) -> None:
    code, _ = invoke("gate", str(contract(write_contract)), "--db", str(db), "--", sys.executable, *command)
    assert code == expected


def test_gate_without_a_command_is_a_usage_error(invoke, write_contract, db: Path) -> None:
    code, out = invoke("gate", str(contract(write_contract)), "--db", str(db))
    assert code == 2 and "after `--`" in out


def test_locked_database_exits_3(invoke, write_contract, db: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        code, out = invoke("validate", str(contract(write_contract)), "--db", str(db))
    finally:
        holder.kill()
        holder.wait()
    assert code == 3 and "locked" in out


@pytest.mark.parametrize(("age_min", "expected"), [(18, 0), (40, 1)])
def test_real_subprocess_exit_codes(write_contract, db: Path, tmp_path: Path, age_min: int, expected: int) -> None:
    dq = Path(sys.executable).parent / "dq"
    done = subprocess.run(
        [str(dq), "validate", str(contract(write_contract, age_min)), "--db", str(db), "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == expected, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def runner_stdout(output: str) -> str:
    """The JSON document in mixed stdout+stderr output (progress lines go to stderr)."""
    return output[output.index("{") : output.rindex("}") + 1]


def test_the_command_skips_teardown_but_loses_nothing(write_contract, db: Path, tmp_path: Path) -> None:
    """`dq` ends with os._exit once its command is done (the interpreter's teardown costs up to
    0.7 s): the JSON on stdout is whole, the result file and the history are on disk and readable
    by another process (no write-ahead log left behind), and `atexit` handlers still run."""
    history = tmp_path / "history.duckdb"
    marker = tmp_path / "atexit-ran"
    script = (
        "import atexit, pathlib, sys\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n"
        "from dq.cli import main\n"
        "sys.exit(main())\n"
    )
    args = [str(contract(write_contract, 40)), "--db", str(db), "--results-dir", str(tmp_path / "r")]
    done = subprocess.run(
        [sys.executable, "-c", script, "validate", *args, "--history", str(history), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # age below 40: the error check fails
    assert json.loads(done.stdout)["status"] == "failed"
    assert marker.read_text() == "yes"
    assert [p.suffix for p in (tmp_path / "r").iterdir()] == [".json"]
    assert not list(tmp_path.glob("*.wal"))
    import duckdb

    with duckdb.connect(str(history), read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in ("runs", "contracts", "checks")}
    assert counts["runs"] == (1,) and counts["contracts"] == (1,) and counts["checks"] not in (None, (0,)), counts
