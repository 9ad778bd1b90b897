"""Files as datasets: `dataset: {path: ...}` (Parquet, CSV, JSON; globs; hive partitions) read by
DuckDB in place, with the table path's verdicts; the gate validates its snapshot of the files, so
training reads what was checked even when the files change underneath."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dq.checks.result import RunResult, Status
from dq.config import load_settings
from dq.contract.model import load_contract
from dq.errors import ContractError
from dq.run.runner import validate
from tests.conftest import ROOT

DQ = str(Path(sys.executable).parent / "dq")
TRAINING = ROOT / "contracts" / "training_set.yml"


def _export(db: Path, out: Path) -> dict[str, str]:
    """The bundled warehouse's tables as files: training_set as three Parquet files, stg_plans as
    CSV, eval_set as JSON lines. Returns the `dataset:` mapping text for each."""
    out.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db), read_only=True) as con:
        for part in range(3):
            con.execute(
                f"COPY (SELECT * FROM main.training_set WHERE customer_id % 3 = {part}) "
                f"TO '{out}/training_set_{part}.parquet' (FORMAT parquet)"
            )
        con.execute(f"COPY main.stg_plans TO '{out}/stg_plans.csv' (HEADER)")
        con.execute(f"COPY main.eval_set TO '{out}/eval_set.jsonl' (FORMAT json)")
    return {
        "training_set": f"path: '{out}/training_set_*.parquet'",
        "stg_plans": f"path: '{out}/stg_plans.csv'",
        "eval_set": f"path: '{out}/eval_set.jsonl'",
    }


def _on_files(tmp_path: Path, paths: dict[str, str], profile: Path | None = None) -> Path:
    text = TRAINING.read_text(encoding="utf-8")
    for model, path in paths.items():
        text = text.replace(f"{{model: {model}", f"{{{path}")
    if profile is not None:
        text = text.replace("reference: profiles/training_set.json", f"reference: '{profile}'")
    contract = tmp_path / "training_files.yml"
    contract.write_text(text, encoding="utf-8")
    return contract


def _verdicts(run: RunResult) -> dict[str, tuple[Status, int | None]]:
    assert run.contracts[0].error is None, run.contracts[0].error
    return {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}


@pytest.mark.parametrize("variant", ["clean", "broken"])
def test_files_get_the_table_paths_verdicts_and_counts(
    warehouse: dict[str, Path], tmp_path: Path, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    db = warehouse[variant]
    contract = _on_files(tmp_path, _export(db, tmp_path / "files"))
    # the drift reference profile, made of the files by `dq profile` (a profile is of one dataset)
    profile = tmp_path / "files_profile.json"
    made = subprocess.run(
        [DQ, "profile", str(contract), "--output", str(profile), "--db", str(tmp_path / "none.duckdb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(profile.read_text())["dataset"].startswith("files ")
    contract = _on_files(tmp_path, _export(db, tmp_path / "files"), profile=profile)
    on_table = validate(
        [TRAINING], load_settings(db=db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path / "results")
    )
    # no database at all: files need no warehouse
    on_files = validate([contract], load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "results"))
    assert _verdicts(on_files) == _verdicts(on_table)
    assert on_files.status == on_table.status
    assert on_files.contracts[0].relation == f"files {tmp_path}/files/training_set_*.parquet"


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
def test_hive_partitions_become_typed_columns(tmp_path: Path, engine: str) -> None:
    for year in (2024, 2025):
        (tmp_path / "train" / f"year={year}").mkdir(parents=True)
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT range + {year} * 10 AS id FROM range(5)) TO "
                f"'{tmp_path}/train/year={year}/part.parquet' (FORMAT parquet)"
            )
    contract = tmp_path / "c.yml"
    contract.write_text(
        "contract: hive\nversion: 1.0.0\n"
        f"dataset: {{path: '{tmp_path}/train/*/*.parquet', hive_partitioning: true}}\n"
        "row_count: {min: 10, max: 10}\nextra_columns: forbid\n"
        "columns:\n  id: {type: bigint, unique: true}\n  year: {type: bigint, min: 2025}\n",
        encoding="utf-8",
    )
    settings = load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r", engine=engine)
    found = _verdicts(validate([contract], settings))  # every engine reads the files' view
    assert found["year.type"] == (Status.passed, None)
    assert found["year.range"] == (Status.failed, 5)
    assert found["row_count"] == (Status.passed, None)
    assert found["id.unique"] == (Status.passed, 0)


def test_a_csv_is_read_in_the_declared_types_and_a_cell_that_does_not_parse_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("id,amount\n1,0.10\n2,0.20\n", encoding="utf-8")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: csv\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/x.csv'}}\n"
        "columns:\n  id: {type: bigint}\n  amount: {type: 'decimal(10,2)', max: 0.1}\n",
        encoding="utf-8",
    )
    settings = load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r")
    found = _verdicts(validate([contract], settings))
    assert found["amount.type"] == (Status.passed, None)
    assert found["amount.range"] == (Status.failed, 1)  # 0.20 > 0.10 exactly, as DECIMAL
    (tmp_path / "x.csv").write_text("id,amount\n1,0.10\nthree,0.20\n", encoding="utf-8")
    run = validate([contract], settings)
    assert run.status is Status.error  # never a pass on a file dq could not read in its types
    assert "a value does not read as its column's type (Conversion Error: CSV Error on Line: 3" in str(
        run.contracts[0].error
    )


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("{path: data/x.txt}", r"cannot tell the format of path 'data/x.txt'"),
        ("{path: data/x.parquet, table: main.x}", r"give exactly one of `model`"),
        ("{table: main.x, hive_partitioning: true}", r"`format` and `hive_partitioning` describe files"),
        ("{path: data/x.parquet, format: avro}", r"dataset.format"),
    ],
)
def test_a_file_dataset_dq_cannot_read_is_refused_when_the_contract_loads(
    tmp_path: Path, dataset: str, message: str
) -> None:
    contract = tmp_path / "c.yml"
    contract.write_text(f"contract: c\nversion: 1.0.0\ndataset: {dataset}\n", encoding="utf-8")
    with pytest.raises(ContractError, match=message):
        load_contract(contract)


def test_missing_files_are_an_error_naming_the_path(tmp_path: Path) -> None:
    contract = tmp_path / "c.yml"
    contract.write_text("contract: c\nversion: 1.0.0\ndataset: {path: 'nowhere/*.parquet'}\n", encoding="utf-8")
    done = subprocess.run(
        [DQ, "validate", str(contract), "--db", str(tmp_path / "none.duckdb"), "--results-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 3
    assert "files nowhere/*.parquet: DuckDB cannot read it" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def _gate(contract: Path, tmp_path: Path) -> list[str]:
    return [DQ, "gate", str(contract), "--db", str(tmp_path / "none.duckdb"), "--results-dir", str(tmp_path / "r")]


def test_the_gate_trains_on_its_snapshot_of_the_files_not_on_files_changed_later(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT range AS id FROM range(100)) TO '{data}/part.parquet' (FORMAT parquet)")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: files\nversion: 1.0.0\ndataset: {{path: '{data}/*.parquet'}}\n"
        "columns:\n  id: {type: bigint, nullable: false, unique: true}\n",
        encoding="utf-8",
    )
    # the training command first overwrites the files with duplicated ids, then reads its input
    train = (
        "import duckdb, os, dq\n"
        f"duckdb.sql(\"COPY (SELECT 1 AS id FROM range(7)) TO '{data}/part.parquet' (FORMAT parquet)\")\n"
        "frame = dq.load_validated(as_='arrow')\n"
        "print('trained on', frame.num_rows, 'rows,', len(set(frame['id'].to_pylist())), 'distinct ids')\n"
    )
    done = subprocess.run(
        [*_gate(contract, tmp_path), "--snapshot-dir", str(tmp_path / "snap"), "--", sys.executable, "-c", train],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trained on 100 rows, 100 distinct ids" in done.stdout
    # the files now break the contract, and the next gate blocks
    blocked = subprocess.run(
        [*_gate(contract, tmp_path), "--", sys.executable, "-c", "print('trained')"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert blocked.returncode == 1
    assert "trained" not in blocked.stdout.replace("training", "")
