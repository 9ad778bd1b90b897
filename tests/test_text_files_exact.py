"""Text files are read as the values they hold, or refused: a CSV's dates only in ISO form (no
guessed day/month order), a JSON integer DuckDB would read as an inexact DOUBLE an error. The
JSON rule is checked against Python's json module (exact integers) on generated files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dq.checks.result import RunResult, Status
from dq.config import load_settings
from dq.run.runner import validate


def _run(tmp_path: Path, data: str, name: str, columns: str) -> RunResult:
    (tmp_path / name).write_text(data, encoding="utf-8")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: text\nversion: 1.0.0\ndataset: {{path: '{tmp_path / name}'}}\ncolumns:\n{columns}",
        encoding="utf-8",
    )
    return validate([contract], load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r"))


def _status(run: RunResult, check: str) -> Status:
    assert run.contracts[0].error is None, run.contracts[0].error
    return next(c.status for c in run.contracts[0].checks if c.name == check)


# 03/04/2026 and 04/05/2026 fit both day/month orders: DuckDB's sniffer would pick one in silence
AMBIGUOUS = "id,day\n1,03/04/2026\n2,04/05/2026\n"


def test_a_csv_date_in_another_form_than_iso_is_text_not_a_guessed_date(tmp_path: Path) -> None:
    # read as the text it is: its values are the file's strings, not dates in a guessed order
    run = _run(tmp_path, AMBIGUOUS, "d.csv", "  day: {accepted_values: ['03/04/2026', '04/05/2026']}\n")
    assert _status(run, "day.accepted_values") is Status.passed
    assert run.status is Status.passed


def test_a_declared_date_column_in_another_form_than_iso_is_an_error_naming_the_value(tmp_path: Path) -> None:
    run = _run(tmp_path, AMBIGUOUS, "d.csv", "  day: {type: DATE}\n")
    assert run.status is Status.error
    error = str(run.contracts[0].error)
    assert 'Could not convert string "03/04/2026"' in error and "ISO" in error, error


def test_iso_dates_in_a_csv_are_dates(tmp_path: Path) -> None:
    run = _run(tmp_path, "id,day\n1,2026-03-04\n2,2026-04-05\n", "d.csv", "  day: {type: DATE}\n")
    assert _status(run, "day.type") is Status.passed


def _json_number(rng: random.Random) -> object:
    return rng.choice(
        [
            rng.randint(-1000, 1000),
            2**53 + rng.randint(-3, 3),
            -(2**53) - rng.randint(0, 3),
            2**63 + rng.randint(0, 5),
            2**64 + rng.randint(0, 5),
            10**40 + rng.randint(0, 5),
            2**60,  # an integer past 2**53 that a DOUBLE holds exactly
            rng.choice([0.5, -2.25, 1e300, 3.0]),
            None,
        ]
    )


def _inexact_as_double(values: list[object]) -> bool:
    """Python's oracle: some integer is not equal to the DOUBLE nearest it."""
    return any(isinstance(v, int) and float(v) != v for v in values)


@pytest.mark.parametrize("seed", range(25))
def test_a_json_integer_no_double_equals_is_an_error_when_duckdb_reads_a_double(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    values = [_json_number(rng) for _ in range(rng.randint(1, 6))]
    lines = "".join(json.dumps({"id": i, "x": v}) + "\n" for i, v in enumerate(values))
    run = _run(tmp_path, lines, "x.jsonl", "  id: {nullable: false}\n")
    kind = _duckdb_type(tmp_path / "x.jsonl")
    if kind in ("DOUBLE", "FLOAT") and _inexact_as_double(values):
        assert run.status is Status.error, (values, kind)
        assert "column 'x' is read as DOUBLE" in str(run.contracts[0].error)
    else:
        # read exactly: integers DuckDB keeps as integers, or a DOUBLE column whose integers it holds
        assert run.contracts[0].error is None, (values, kind, run.contracts[0].error)
        assert run.status is Status.passed


def _duckdb_type(path: Path) -> str:
    import duckdb

    rows = duckdb.connect().execute(f"DESCRIBE SELECT x FROM read_json('{path}')").fetchall()
    return str(rows[0][1])


def test_some_generated_files_are_refused_and_some_read() -> None:
    """The generator reaches both sides of the rule (else the oracle test proves nothing)."""
    outcomes = set()
    for seed in range(25):
        rng = random.Random(seed)
        values = [_json_number(rng) for _ in range(rng.randint(1, 6))]
        mixed = any(isinstance(v, float) for v in values) or any(isinstance(v, int) and v >= 2**64 for v in values)
        outcomes.add(mixed and _inexact_as_double(values))
    assert outcomes == {True, False}
