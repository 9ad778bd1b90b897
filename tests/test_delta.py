"""Delta Lake tables as datasets (`format: delta`, or a directory holding `_delta_log/`): on DuckDB
the latest version is read through deltalake's log (never the directory's stale Parquet files) and
gets the verdicts and exact failing-row counts of the same rows in Parquet; a protocol whose reader
features dq has not verified is refused (exit 3); on Spark without Delta configured, a clear error."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from dq.checks.result import RunResult, Status
from dq.config import load_settings
from dq.contract.model import load_contract
from dq.errors import ContractError
from dq.run.runner import validate
from tests.conftest import ROOT

DQ = str(Path(sys.executable).parent / "dq")
TRAINING = ROOT / "contracts" / "training_set.yml"


def _verdicts(run: RunResult) -> dict[str, tuple[Status, int | None]]:
    assert run.contracts[0].error is None, run.contracts[0].error
    return {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}


def _rows(db: Path, sql: str) -> pa.Table:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).to_arrow_table()


def _delta_and_parquet(db: Path, table: str, out: Path) -> tuple[Path, Path]:
    """`table` as a Delta table built over four versions (a stale first write overwritten, then
    appends), and the same rows as one Parquet file: the oracle."""
    delta, parquet = out / f"{table}_delta", out / f"{table}.parquet"
    full = _rows(db, f"SELECT * FROM main.{table}")
    write_deltalake(delta, pa.concat_tables([full.slice(0, 3)] * 4))  # version 0: duplicated rows, stale later
    third = full.num_rows // 3
    write_deltalake(delta, full.slice(0, third), mode="overwrite")  # version 1: the stale rows are gone
    write_deltalake(delta, full.slice(third, third), mode="append")
    write_deltalake(delta, full.slice(2 * third), mode="append")
    assert DeltaTable(str(delta)).version() == 3
    with duckdb.connect() as con:
        con.register("rows", full)
        con.execute(f"COPY rows TO '{parquet}' (FORMAT parquet)")
    return delta, parquet


def _contract(tmp_path: Path, name: str, paths: dict[str, str], profile: Path | None = None) -> Path:
    text = TRAINING.read_text(encoding="utf-8")
    for model, path in paths.items():
        text = text.replace(f"{{model: {model}", f"{{{path}")
    if profile is not None:
        text = text.replace("reference: profiles/training_set.json", f"reference: '{profile}'")
    contract = tmp_path / f"{name}.yml"
    contract.write_text(text, encoding="utf-8")
    return contract


@pytest.mark.parametrize("variant", ["clean", "broken"])
def test_a_delta_table_gets_the_verdicts_and_counts_of_the_same_rows_in_parquet(
    warehouse: dict[str, Path], tmp_path: Path, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    db, out = warehouse[variant], tmp_path / "files"
    out.mkdir()
    made = {t: _delta_and_parquet(db, t, out) for t in ("training_set", "stg_plans", "eval_set")}
    # the referenced datasets (references, leakage.disjoint_from) are Delta tables too; `training_set`
    # is told Delta from its `_delta_log/` (no `format:`)
    delta = {
        "training_set": f"path: '{made['training_set'][0]}'",
        "stg_plans": f"path: '{made['stg_plans'][0]}', format: delta",
        "eval_set": f"path: '{made['eval_set'][0]}', format: delta",
    }
    parquet = {t: f"path: '{p}'" for t, (_, p) in made.items()}
    settings = load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "results")
    run = {}
    for name, paths in (("parquet", parquet), ("delta", delta)):
        profile = tmp_path / f"{name}_profile.json"  # a drift profile is of one dataset: each its own
        done = subprocess.run(
            [
                DQ,
                "profile",
                str(_contract(tmp_path, name, paths)),
                "--output",
                str(profile),
                "--db",
                str(tmp_path / "x"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        run[name] = validate([_contract(tmp_path, name, paths, profile)], settings)
    on_parquet, on_delta = run["parquet"], run["delta"]
    assert _verdicts(on_delta) == _verdicts(on_parquet)
    assert on_delta.status == on_parquet.status
    assert on_delta.status.blocks == (variant == "broken")
    failing = {name: n for name, (status, n) in _verdicts(on_delta).items() if status is Status.failed}
    assert bool(failing) == (variant == "broken")  # the broken rows are counted, exactly as in Parquet


def _small(tmp_path: Path, table: Any, **write: Any) -> Path:
    path = tmp_path / "lake" / "t"
    write_deltalake(path, table, **write)
    return path


def _cli(
    tmp_path: Path, dataset: str, *, command: str = "validate", extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: lake\nversion: 1.0.0\ndataset: {dataset}\n"
        "columns:\n  id: {type: bigint, nullable: false, unique: true}\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [
            DQ,
            command,
            str(contract),
            "--db",
            str(tmp_path / "none.duckdb"),
            "--results-dir",
            str(tmp_path / "r"),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )


def test_the_cli_exits_0_on_the_latest_version_clean_and_1_when_it_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _small(tmp_path, pa.table({"id": [1, 1, 2]}))  # version 0 has a duplicate...
    write_deltalake(path, pa.table({"id": [1, 2, 3]}), mode="overwrite")  # ...the latest has none
    clean = _cli(tmp_path, "{path: lake/t, format: delta}")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    write_deltalake(path, pa.table({"id": [3, None]}), mode="append")
    broken = _cli(tmp_path, "{path: lake/t}")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    monkeypatch.chdir(tmp_path)
    run = validate([tmp_path / "c.yml"], load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r2"))
    verdicts = {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}
    assert verdicts["id.not_null"] == (Status.failed, 1)
    assert verdicts["id.unique"] == (Status.failed, 2)  # both rows holding 3, as in Parquet


def test_a_naive_timestamp_table_timestampntz_reads_as_its_parquet_copy(tmp_path: Path) -> None:
    rows = pa.table(
        {
            "id": [1, 2, 3],
            "seen_at": [datetime.datetime(2024, 1, 1, 12), None, datetime.datetime(1999, 12, 31, 23, 59, 59)],
        }
    )
    path = _small(tmp_path, rows)
    assert DeltaTable(str(path)).protocol().reader_features == ["timestampNtz"]
    pq.write_table(rows, tmp_path / "t.parquet")
    found = {}
    for name, dataset in (("delta", f"{{path: '{path}'}}"), ("parquet", f"{{path: '{tmp_path}/t.parquet'}}")):
        contract = tmp_path / f"{name}.yml"
        contract.write_text(
            f"contract: {name}\nversion: 1.0.0\ndataset: {dataset}\ncolumns:\n"
            "  id: {type: bigint, unique: true}\n"
            "  seen_at: {type: timestamp, nullable: false}\n"
            "checks:\n  - name: before_2000\n    sql: select * from {dataset} where seen_at < timestamp '2000-01-01'\n",
            encoding="utf-8",
        )
        found[name] = _verdicts(
            validate([contract], load_settings(db=tmp_path / "x.duckdb", results_dir=tmp_path / "r"))
        )
    assert found["delta"] == found["parquet"]
    assert found["delta"]["seen_at.not_null"] == (Status.failed, 1)
    assert found["delta"]["checks.before_2000"] == (Status.failed, 1)
    assert found["delta"]["seen_at.type"] == (Status.passed, None)


@pytest.mark.parametrize(
    ("configuration", "needs"),
    [
        ({"delta.enableDeletionVectors": "true"}, "deletionVectors"),
        ({"delta.columnMapping.mode": "name"}, "reader version 2 (columnMapping)"),
    ],
)
def test_a_reader_feature_dq_has_not_verified_is_refused_with_exit_3(
    tmp_path: Path, configuration: dict[str, str], needs: str
) -> None:
    _small(tmp_path, pa.table({"id": [1, 2, 3]}), configuration=configuration)
    done = _cli(tmp_path, "{path: lake/t, format: delta}")
    assert done.returncode == 3, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "files lake/t: the Delta table needs" in said
    assert needs in said
    assert "Traceback" not in said


def test_a_missing_delta_table_is_exit_3_naming_the_path_and_the_fix(tmp_path: Path) -> None:
    done = _cli(tmp_path, "{path: nowhere, format: delta}")
    assert done.returncode == 3
    said = " ".join((done.stdout + done.stderr).split())
    assert "files nowhere: no Delta table can be read at" in said
    assert "the directory that holds `_delta_log/`" in said
    assert "Traceback" not in said


def test_hive_partitioning_on_a_delta_table_is_refused_when_the_contract_loads(tmp_path: Path) -> None:
    contract = tmp_path / "c.yml"
    contract.write_text(
        "contract: c\nversion: 1.0.0\ndataset: {path: x, format: delta, hive_partitioning: true}\n", encoding="utf-8"
    )
    with pytest.raises(ContractError, match="partitions are in its log"):
        load_contract(contract)


def test_a_partitioned_delta_table_has_its_partition_column(tmp_path: Path) -> None:
    _small(tmp_path, pa.table({"id": [1, 2, 3], "year": [2024, 2025, 2025]}), partition_by=["year"])
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: c\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/lake/t'}}\n"
        "columns:\n  id: {type: bigint, unique: true}\n  year: {type: bigint, min: 2025}\n",
        encoding="utf-8",
    )
    found = _verdicts(validate([contract], load_settings(db=tmp_path / "x.duckdb", results_dir=tmp_path / "r")))
    assert found["year.range"] == (Status.failed, 1)
    assert found["id.unique"] == (Status.passed, 0)


def test_on_spark_without_delta_lake_in_the_session_the_error_says_how_to_configure_it(
    spark: Any, tmp_path: Path
) -> None:
    import dq
    from dq.exit_codes import ExitCode, exit_code_for

    _small(tmp_path, pa.table({"id": [1, 2, 3]}))
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: lake\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/lake/t', format: delta}}\n"
        "columns:\n  id: {type: bigint, unique: true}\n",
        encoding="utf-8",
    )
    run = dq.validate(contract, results_dir=tmp_path / "r", spark=spark)
    assert exit_code_for(run.status) is ExitCode.NOT_VALIDATED
    said = run.contracts[0].error or ""
    assert "this Spark session has no Delta Lake data source" in said, said
    assert "io.delta:delta-spark_2.13" in said
    assert "io.delta.sql.DeltaSparkSessionExtension" in said
    assert "{table: db.t}" in said


def test_the_gate_trains_on_its_snapshot_of_the_delta_tables_latest_version(tmp_path: Path) -> None:
    path = _small(tmp_path, pa.table({"id": [7] * 50}))  # version 0: duplicated ids, overwritten next
    write_deltalake(path, pa.table({"id": list(range(100))}), mode="overwrite")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: lake\nversion: 1.0.0\ndataset: {{path: '{path}'}}\n"
        "columns:\n  id: {type: bigint, nullable: false, unique: true}\n",
        encoding="utf-8",
    )
    gate = [DQ, "gate", str(contract), "--db", str(tmp_path / "none.duckdb"), "--results-dir", str(tmp_path / "r")]
    # the training command first appends duplicated ids to the table, then reads its input; the
    # append runs in a process of its own, as deltalake and pyarrow in one process can abort at its
    # exit ("terminate called without an active exception", delta-io/delta-rs#2184)
    append = (
        "import pyarrow as pa\nfrom deltalake import write_deltalake\n"
        f"write_deltalake({str(path)!r}, pa.table({{'id': [1] * 7}}), mode='append')\n"
    )
    train = (
        "import subprocess, sys, dq\n"
        f"subprocess.run([sys.executable, '-c', {append!r}], check=True)\n"
        "frame = dq.load_validated(as_='arrow')\n"
        "print('trained on', frame.num_rows, 'rows,', len(set(frame['id'].to_pylist())), 'distinct ids')\n"
    )
    done = subprocess.run(
        [*gate, "--snapshot-dir", str(tmp_path / "snap"), "--", sys.executable, "-c", train],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trained on 100 rows, 100 distinct ids" in done.stdout
    assert DeltaTable(str(path)).version() == 2
    blocked = subprocess.run(
        [*gate, "--", sys.executable, "-c", "print('trained')"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr  # the latest version now has duplicates
    assert "trained" not in blocked.stdout.replace("training", "")


def test_dq_imports_deltalake_only_for_a_delta_dataset_and_says_how_to_install_it(tmp_path: Path) -> None:
    lazy = "import sys, dq, dq.cli, dq.data.files, dq.run.runner; assert 'deltalake' not in sys.modules; print('lazy')"
    done = subprocess.run([sys.executable, "-c", lazy], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.stdout.strip() == "lazy", done.stderr
    _small(tmp_path, pa.table({"id": [1, 2, 3]}))
    (tmp_path / "c.yml").write_text(
        "contract: lake\nversion: 1.0.0\ndataset: {path: lake/t}\ncolumns:\n  id: {type: bigint}\n", encoding="utf-8"
    )
    # deltalake made unimportable in that process, as on a machine without the extra
    absent = (
        "import sys; sys.modules['deltalake'] = None\n"
        "from dq.cli import main\nsys.argv = ['dq', 'validate', 'c.yml', '--db', 'none.duckdb', '--results-dir', 'r']\nsys.exit(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", absent], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 3, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "needs the deltalake package, which is not installed. Fix: pip install 'dq[delta]'" in said


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
def test_parquet_files_referencing_a_delta_table_in_any_contract_of_a_run(tmp_path: Path, engine: str) -> None:
    plans = _small(tmp_path, pa.table({"plan_id": [1, 2]}))  # lake/t: the Delta table referenced
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT range AS id, range % 3 AS plan_id FROM range(6)) TO '{tmp_path}/c.parquet'")
    contract = tmp_path / "refs.yml"
    contract.write_text(
        f"contract: refs\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/c.parquet'}}\ncolumns:\n"
        f"  plan_id:\n    type: bigint\n    references: {{path: '{plans}', format: delta, column: plan_id}}\n",
        encoding="utf-8",
    )
    settings = load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r", engine=engine)
    found = _verdicts(validate([contract], settings))
    assert found["plan_id.references"] == (Status.failed, 2)  # the two rows with plan_id 0
    # after a contract that reads no Delta table, the run's one connection becomes a shared one:
    # the engines' cursors see the Delta registration, so the reference runs and finds the same rows
    plain = tmp_path / "plain.yml"
    plain.write_text(
        f"contract: plain\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/c.parquet'}}\nrow_count: {{min: 1}}\n",
        encoding="utf-8",
    )
    run = validate([plain, contract], settings)
    assert run.contracts[0].status is Status.passed, run.contracts[0]
    later = {c.name: (c.status, c.failing_rows) for c in run.contracts[1].checks}
    assert later["plan_id.references"] == (Status.failed, 2), run.contracts[1].checks


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
def test_every_engine_reads_the_latest_version_without_the_deleted_rows(tmp_path: Path, engine: str) -> None:
    path = _small(tmp_path, pa.table({"id": [1, 2, 3, 3, None]}))
    DeltaTable(str(path)).delete("id = 2")  # version 1: a copy-on-write delete (reader version 1)
    assert DeltaTable(str(path)).protocol().min_reader_version == 1
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: lake\nversion: 1.0.0\ndataset: {{path: '{path}'}}\nrow_count: {{min: 4, max: 4}}\n"
        "columns:\n  id: {type: bigint, nullable: false, unique: true, accepted_values: [1, 3]}\n",
        encoding="utf-8",
    )
    settings = load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r", engine=engine)
    found = _verdicts(validate([contract], settings))
    assert found["row_count"] == (Status.passed, None)  # 4 rows: the deleted one is not read
    assert found["id.accepted_values"] == (Status.passed, 0)
    assert found["id.not_null"] == (Status.failed, 1)
    assert found["id.unique"] == (Status.failed, 2)


def test_a_delta_tables_parquet_files_read_as_parquet_are_refused(tmp_path: Path) -> None:
    path = _small(tmp_path, pa.table({"id": [1, 1]}))
    write_deltalake(path, pa.table({"id": [1, 2]}), mode="overwrite")  # the first file is stale, still there
    done = _cli(tmp_path, "{path: 'lake/t/*.parquet'}")
    assert done.returncode == 3, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert "are part of the Delta table" in said
    assert "format: delta" in said
