"""Contract directories: every contract under a directory is read, and the run says which.

A directory argument used to stand for `*.yml` / `*.yaml` directly inside it: a failing
contract named `x.YML`, or kept in a sub-directory, was never read and the gate passed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import dq
from dq.commands.options import expand_contracts
from dq.contract.discovery import find_contracts
from dq.errors import DqError
from tests.conftest import MakeDb

DQ = str(Path(sys.executable).parent / "dq")

PASSING = "contract: {name}\nversion: 1.0.0\ndataset: {{table: main.t}}\ncolumns:\n  x: {{nullable: false}}\n"
FAILING = "contract: {name}\nversion: 1.0.0\ndataset: {{table: main.t}}\ncolumns:\n  x: {{min: 100}}\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["bad.YML", "bad.Yaml", "bad.YAML", "sub/bad.yml", "sub/deeper/bad.yaml"])
def test_a_contract_in_any_case_or_sub_directory_is_read(tmp_path: Path, name: str) -> None:
    _write(tmp_path / "ok.yml", PASSING.format(name="ok"))
    bad = _write(tmp_path / name, FAILING.format(name="bad"))
    assert bad in expand_contracts([tmp_path])


def test_order_is_deterministic_and_hidden_entries_are_skipped(tmp_path: Path) -> None:
    for name in ["b.yml", "A.yaml", "sub/c.yml", "sub/a.YML", "z/x.yml", ".hidden/h.yml", "sub/.h.yml", "notes.txt"]:
        _write(tmp_path / name, PASSING.format(name="n"))
    found = [p.relative_to(tmp_path).as_posix() for p in expand_contracts([tmp_path])]
    assert found == ["A.yaml", "b.yml", "sub/a.YML", "sub/c.yml", "z/x.yml"]


def test_a_directory_without_contracts_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path / "readme.md", "no contracts here")
    _write(tmp_path / ".hidden" / "c.yml", PASSING.format(name="c"))
    with pytest.raises(DqError, match="no contract files"):
        expand_contracts([tmp_path])


def test_a_contract_reached_twice_is_read_once(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.yml", PASSING.format(name="one"))
    assert expand_contracts([tmp_path, one]) == [tmp_path / "one.yml"]


def test_a_symlinked_directory_is_followed_without_looping(tmp_path: Path) -> None:
    real = _write(tmp_path / "real" / "c.yml", PASSING.format(name="c")).parent
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "linked").symlink_to(real, target_is_directory=True)
    (tmp_path / "top" / "linked" / "loop").symlink_to(tmp_path / "top", target_is_directory=True)
    found = find_contracts([tmp_path / "top"])
    assert [p.name for p in found.paths] == ["c.yml"]


def test_what_was_read_from_a_directory_is_listed(tmp_path: Path) -> None:
    _write(tmp_path / "c" / "a.yml", PASSING.format(name="a"))
    _write(tmp_path / "c" / "sub" / "b.YML", PASSING.format(name="b"))
    found = find_contracts([tmp_path / "c"])
    assert found.summary() == [f"2 contracts read from {tmp_path / 'c'}: a.yml, sub/b.YML"]


def _db(make_db: MakeDb) -> Path:
    return make_db("CREATE TABLE t AS SELECT 5 AS x")


def test_the_gate_blocks_on_a_failing_contract_in_a_sub_directory(make_db: MakeDb, tmp_path: Path) -> None:
    db = _db(make_db)
    contracts = tmp_path / "contracts"
    _write(contracts / "ok.yml", PASSING.format(name="ok"))
    _write(contracts / "nested" / "bad.YML", FAILING.format(name="bad"))
    marker = tmp_path / "trained"
    done = subprocess.run(
        [
            DQ,
            "gate",
            str(contracts),
            "--db",
            str(db),
            "--results-dir",
            str(tmp_path / "r"),
            "--no-snapshot",
            "--",
            sys.executable,
            "-c",
            f"open({str(marker)!r}, 'w').write('x')",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert not marker.exists()
    assert f"2 contracts read from {contracts}: nested/bad.YML, ok.yml" in done.stderr


def test_validate_lists_what_it_read_and_keeps_json_clean(make_db: MakeDb, tmp_path: Path) -> None:
    db = _db(make_db)
    contracts = tmp_path / "contracts"
    _write(contracts / "a.yaml", PASSING.format(name="a"))
    done = subprocess.run(
        [DQ, "validate", str(contracts), "--db", str(db), "--results-dir", str(tmp_path / "r"), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"1 contract read from {contracts}: a.yaml" in done.stderr
    assert done.stdout.lstrip().startswith("{")


def test_the_python_api_expands_directories_the_same_way(make_db: MakeDb, tmp_path: Path) -> None:
    db = _db(make_db)
    contracts = tmp_path / "contracts"
    _write(contracts / "ok.yml", PASSING.format(name="ok"))
    _write(contracts / "deep" / "bad.Yaml", FAILING.format(name="bad"))
    with pytest.raises(dq.GateError) as raised:
        dq.require_valid(contracts, db=db, results_dir=tmp_path / "r")
    assert [Path(c.path).name for c in raised.value.result.contracts] == ["bad.Yaml", "ok.yml"]


def test_the_python_api_refuses_an_empty_directory(make_db: MakeDb, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DqError, match="no contract files"):
        dq.require_valid(tmp_path / "empty", db=_db(make_db), results_dir=tmp_path / "r")
