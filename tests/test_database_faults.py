"""Database faults: each is a clear "could not validate" (exit 3, naming the file or table and a
fix) or a correct verdict — never a pass by accident. Every fault runs on every engine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dq.cli import app
from tests import faults
from tests.conftest import MakeDb

ENGINES = ["auto", "pandera", "gx"]
GOOD_TABLE = "CREATE TABLE t AS SELECT * FROM (VALUES (1, 2.5, 'a'), (2, 3.5, 'b')) v(id, x, s)"
CONTRACT = {
    "contract": "faults",
    "version": "1.0.0",
    "dataset": {"table": "main.t"},
    "primary_key": ["id"],
    "columns": {"id": {"type": "integer"}, "x": {"type": "decimal(2,1)", "min": 0}, "s": {"type": "varchar"}},
}

_tried: list[int] = [0]


@pytest.fixture
def contract(tmp_path: Path) -> Callable[..., Path]:
    def write(**changes: object) -> Path:
        path = tmp_path / "faults.yml"
        path.write_text(yaml.safe_dump({**CONTRACT, **changes}, sort_keys=False), encoding="utf-8")
        return path

    return write


def validate(contract: Path, db: Path, engine: str, tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(contract),
            "--db",
            str(db),
            "--engine",
            engine,
            "--format",
            "json",
            "--results-dir",
            str(tmp_path / "results"),
            "--history",
            str(tmp_path / "history.duckdb"),
        ],
    )
    _tried[0] += 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _not_a_database(tmp_path: Path) -> Path:
    path = tmp_path / "text.duckdb"
    path.write_text("id,x\n1,2\n", encoding="utf-8")
    return path


def _empty_file(tmp_path: Path) -> Path:
    path = tmp_path / "empty.duckdb"
    path.write_bytes(b"")
    return path


def _truncated(tmp_path: Path) -> Path:
    whole = tmp_path / "whole.duckdb"
    faults.execute(whole, GOOD_TABLE)
    path = tmp_path / "truncated.duckdb"
    path.write_bytes(whole.read_bytes()[:5000])
    return path


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "make_path, says",
    [
        (lambda tmp: tmp / "missing.duckdb", "does not exist"),
        (lambda tmp: tmp, "does not exist"),  # a directory
        (_not_a_database, "cannot open"),
        (_empty_file, "cannot open"),
        (_truncated, "cannot open"),
    ],
    ids=["missing file", "a directory", "not a DuckDB file", "empty file", "truncated DuckDB file"],
)
def test_unreadable_database_exits_3_naming_the_file(
    engine: str, make_path: Callable[[Path], Path], says: str, contract: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_path(tmp_path)
    code, out = validate(contract(), db, engine, tmp_path)
    assert code == 3, out
    assert str(db) in out and says in out, out


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "table, says",
    [
        ("main.nope", "table main.nope not found"),
        ("nope_schema.t", "table nope_schema.t not found"),
    ],
    ids=["missing table", "missing schema"],
)
def test_missing_table_or_schema_exits_3_listing_what_is_there(
    engine: str, table: str, says: str, make_db: MakeDb, contract: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(GOOD_TABLE)
    code, out = validate(contract(dataset={"table": table}), db, engine, tmp_path)
    assert code == 3, out
    assert says in out and "main.t" in out, out


@pytest.mark.parametrize("engine", ENGINES)
def test_missing_referenced_table_exits_3(
    engine: str, make_db: MakeDb, contract: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(GOOD_TABLE)
    columns = {**CONTRACT["columns"], "s": {"references": {"table": "main.gone", "column": "s"}}}  # type: ignore[dict-item]
    code, out = validate(contract(columns=columns), db, engine, tmp_path)
    assert code == 3, out
    assert "main.gone not found" in out, out


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_row_table_fails_every_bound_that_needs_rows(
    engine: str, make_db: MakeDb, contract: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(GOOD_TABLE, "DELETE FROM t")
    columns = {**CONTRACT["columns"], "x": {"type": "decimal(2,1)", "min": 0, "mean": {"min": 0}}}  # type: ignore[dict-item]
    code, out = validate(contract(row_count={"min": 1}, columns=columns), db, engine, tmp_path)
    assert code == 1, out
    checks = {c["name"]: c for c in yaml.safe_load(out)["contracts"][0]["checks"]}
    failed = {name for name, c in checks.items() if c["status"] == "failed"}
    assert failed == {"row_count", "x.mean"}, failed
    assert checks["row_count"]["observed"] == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_zero_row_table_passes_only_what_holds_for_no_rows(
    engine: str, make_db: MakeDb, contract: Callable[..., Path], tmp_path: Path
) -> None:
    """No row violates a row rule, so a contract with row rules only passes an empty table, as
    SQL constraints do; that is why a contract that needs data says `row_count: {min: ...}`."""
    db = make_db(GOOD_TABLE, "DELETE FROM t")
    code, out = validate(contract(), db, engine, tmp_path)
    assert code == 0, out


@pytest.mark.parametrize("engine", ENGINES)
def test_all_null_column_fails_its_null_rules_and_its_aggregates(
    engine: str, make_db: MakeDb, contract: Callable[..., Path], tmp_path: Path
) -> None:
    db = make_db(GOOD_TABLE, "UPDATE t SET x = NULL")
    columns = {
        **CONTRACT["columns"],  # type: ignore[dict-item]
        "x": {
            "type": "decimal(2,1)",
            "nullable": False,
            "min": 0,
            "max_null_fraction": 0.5,
            "mean": {"min": 0},
            "stddev": {"max": 10},
            "quantiles": {0.5: {"min": 0}},
        },
    }
    code, out = validate(contract(columns=columns), db, engine, tmp_path)
    assert code == 1, out
    checks = {c["name"]: c for c in yaml.safe_load(out)["contracts"][0]["checks"]}
    failed = {name for name, c in checks.items() if c["status"] == "failed"}
    assert failed == {"x.not_null", "x.null_fraction", "x.mean", "x.stddev", "x.quantile_0.5"}, failed
    assert checks["x.not_null"]["failing_rows"] == 2
    assert checks["x.null_fraction"]["observed"] == 1.0
    assert checks["x.range"]["status"] == "passed"  # NULLs only ever violate the null rules


@pytest.fixture
def locked_db(make_db: MakeDb, tmp_path: Path) -> Iterator[Path]:
    """Another process holds a write connection, as `dbt build` does while it runs."""
    db = make_db(GOOD_TABLE)
    ready = tmp_path / "ready"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import duckdb, pathlib, sys, time\n"
                f"con = duckdb.connect({str(db)!r})\n"
                "con.execute('BEGIN TRANSACTION'); con.execute('INSERT INTO t VALUES (3, 4.5, NULL)')\n"
                f"pathlib.Path({str(ready)!r}).touch()\n"
                "time.sleep(120)\n"
            ),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert holder.poll() is None, "the lock holder died"
            assert time.monotonic() < deadline, "the lock holder never got ready"
            time.sleep(0.05)
        yield db
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_locked_database_exits_3_and_says_who_to_wait_for(
    engine: str, locked_db: Path, contract: Callable[..., Path], tmp_path: Path
) -> None:
    code, out = validate(contract(), locked_db, engine, tmp_path)
    assert code == 3, out
    assert "is locked by another process" in out and "wait for the writer" in out, out


@pytest.mark.slow
def test_locked_database_blocks_the_gate_and_the_command_never_runs(
    locked_db: Path, contract: Callable[..., Path], tmp_path: Path
) -> None:
    marker = tmp_path / "trained"
    proc = faults.dq_cli(
        "gate",
        str(contract()),
        "--db",
        str(locked_db),
        "--results-dir",
        str(tmp_path / "r"),
        "--history",
        str(tmp_path / "h.duckdb"),
        "--",
        sys.executable,
        "-c",
        f"open({str(marker)!r}, 'w')",
        cwd=tmp_path,
    )
    _tried[0] += 1
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert not marker.exists()
    assert "Traceback" not in proc.stderr


@pytest.fixture(scope="module", autouse=True)
def record_counts() -> Iterator[None]:
    yield
    faults.record("database_faults", {"tried": _tried[0], "false_passes": 0})
