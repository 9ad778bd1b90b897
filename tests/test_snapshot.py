"""The trusted snapshot: what `dq gate` validated is exactly what training reads.

Real DuckDB files, the real gate (CliRunner, CMD as a real subprocess), real Parquet.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import dq
from dq.config import load_settings
from dq.gate.snapshot import MANIFEST_SUFFIX, fingerprint_of
from dq.run.runner import Validated, validate
from tests.conftest import ROOT, MakeDb

runner = CliRunner()

ROWS = 50
TABLE = f"""CREATE TABLE features AS
    SELECT i AS id, i % 3 AS bucket, (20.0 + i)::DOUBLE AS income, i % 2 = 0 AS churned FROM range(1, {ROWS + 1}) t(i)"""
CONTRACT = """contract: features
version: 2.1.0
dataset: {{table: main.features}}
primary_key: [id]
row_count: {{min: 1}}
columns:
  id: {{type: bigint, nullable: false}}
  income: {{type: double, min: {income_min}}}
  churned: {{type: boolean}}
"""
# CMD behind the gate: record what it was handed, then load the snapshot through the public API.
PROBE = """
import json, os, sys
import dq
out = {"env": {k: os.environ.get(k) for k in ("DQ_SNAPSHOT", "DQ_FINGERPRINT", "DQ_RESULT")}}
try:
    out["rows"] = len(dq.load_validated(**json.loads(sys.argv[2])))
except dq.SnapshotError as exc:
    out["error"] = str(exc)
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
# skip interpreter teardown, as dq's CLI does: native thread pools (pyarrow, pandas) at exit were
# seen to abort with "terminate called without an active exception" under load; this test is
# about what the probe read, and a teardown abort would otherwise read as a failed training run
sys.stdout.flush()
os._exit(0)
"""


@pytest.fixture
def db(make_db: MakeDb) -> Path:
    return make_db(TABLE)


@pytest.fixture(autouse=True)
def _no_outer_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DQ_SNAPSHOT", raising=False)
    monkeypatch.delenv("DQ_FINGERPRINT", raising=False)


@pytest.fixture
def gate(tmp_path: Path, db: Path) -> Callable[..., tuple[int, str, dict[str, Any]]]:
    """gate(contract, *options, load={...}) -> (exit code, output, what the probe CMD saw)."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    seen = tmp_path / "seen.json"

    def run(contract: Path, *options: str, load: dict[str, Any] | None = None) -> tuple[int, str, dict[str, Any]]:
        seen.unlink(missing_ok=True)
        args = ["gate", str(contract), "--db", str(db), "--results-dir", str(tmp_path / "results"), *options]
        command = [sys.executable, str(probe), str(seen), json.dumps(load or {})]
        result = runner.invoke(app_(), [*args, "--", *command])
        return result.exit_code, result.output, json.loads(seen.read_text()) if seen.exists() else {}

    return run


def app_() -> Any:
    from dq.cli import app

    return app


def contract(write_contract: Callable[[str], Path], income_min: float = 0) -> Path:
    return write_contract(CONTRACT.format(income_min=income_min))


def manifest_of(parquet: Path) -> dict[str, Any]:
    return json.loads(parquet.with_name(parquet.stem + MANIFEST_SUFFIX).read_text())


def test_a_pass_snapshots_exactly_the_validated_rows_and_hands_them_to_cmd(gate, write_contract, tmp_path: Path):
    snapshots = tmp_path / "snaps"
    code, out, seen = gate(contract(write_contract), "--snapshot-dir", str(snapshots))
    assert code == 0, out
    parquet = snapshots / "features.parquet"
    assert seen["env"]["DQ_SNAPSHOT"] == str(parquet.resolve())
    assert seen["rows"] == ROWS and "error" not in seen
    manifest = manifest_of(parquet)
    assert (
        seen["env"]["DQ_FINGERPRINT"]
        == manifest["fingerprint"]
        == "sha256:" + hashlib.sha256(parquet.read_bytes()).hexdigest()
    )
    assert manifest["result_path"] == seen["env"]["DQ_RESULT"]
    assert {k: manifest[k] for k in ("contract", "contract_version", "relation", "row_count", "dq_version")} == {
        "contract": "features",
        "contract_version": "2.1.0",
        "relation": "main.features",
        "row_count": ROWS,
        "dq_version": dq.__version__,
    }
    assert manifest["dbt_model"] is None and manifest["dbt_node"] is None and manifest["created_at"]
    result = json.loads(Path(seen["env"]["DQ_RESULT"]).read_text())
    row_count = next(c for c in result["contracts"][0]["checks"] if c["kind"] == "row_count")
    assert row_count["observed"] == manifest["row_count"] == ROWS


def test_the_default_location_is_one_directory_per_run(gate, write_contract, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, seen = gate(contract(write_contract))
    assert code == 0, out
    run_id = json.loads(Path(seen["env"]["DQ_RESULT"]).read_text())["run_id"]
    assert Path(seen["env"]["DQ_SNAPSHOT"]) == tmp_path / ".dq" / "snapshots" / run_id / "features.parquet"


def _append_bytes(parquet: Path) -> None:
    with parquet.open("ab") as f:
        f.write(b"\x00")


def _change_one_row(parquet: Path) -> None:
    """A valid Parquet file again, one value different: what a careless or hostile edit looks like."""
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{parquet}')")
        con.execute("UPDATE t SET income = -1 WHERE id = 1")
        con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")


def _change_one_row_and_its_manifest(parquet: Path) -> None:
    """Both files rewritten consistently: only the gate's DQ_FINGERPRINT can still tell."""
    _change_one_row(parquet)
    manifest_path = parquet.with_name(parquet.stem + MANIFEST_SUFFIX)
    manifest = json.loads(manifest_path.read_text())
    manifest["fingerprint"] = fingerprint_of(parquet.read_bytes())
    manifest_path.write_text(json.dumps(manifest))


def _drop_manifest(parquet: Path) -> None:
    parquet.with_name(parquet.stem + MANIFEST_SUFFIX).unlink()


TAMPERING = {
    "appended-bytes": (_append_bytes, "does not match its manifest"),
    "one-row-changed": (_change_one_row, "does not match its manifest"),
    "manifest-rewritten-too": (_change_one_row_and_its_manifest, "DQ_FINGERPRINT"),
    "manifest-missing": (_drop_manifest, "manifest"),
}


@pytest.mark.parametrize("tamper", TAMPERING, ids=list(TAMPERING))
def test_a_tampered_snapshot_is_refused(gate, write_contract, tmp_path: Path, monkeypatch, tamper: str) -> None:
    damage, message = TAMPERING[tamper]
    code, out, seen = gate(contract(write_contract), "--snapshot-dir", str(tmp_path / "snaps"))
    assert code == 0, out
    damage(Path(seen["env"]["DQ_SNAPSHOT"]))
    monkeypatch.setenv("DQ_SNAPSHOT", seen["env"]["DQ_SNAPSHOT"])
    monkeypatch.setenv("DQ_FINGERPRINT", seen["env"]["DQ_FINGERPRINT"])
    with pytest.raises(dq.SnapshotError, match=message):
        dq.load_validated()


def test_training_refuses_a_tampered_snapshot(warehouse: dict[str, Path], tmp_path: Path) -> None:
    """The bundled training script behind the real gate on the real dbt build: trains, then refuses."""
    snapshots, marker = tmp_path / "snaps", tmp_path / "trained"
    env = {**os.environ, "DQ_TRAIN_MARKER": str(marker)}
    train = [sys.executable, "examples/train.py", "--db", str(warehouse["clean"]), "--model-out", str(tmp_path / "m")]
    gated = subprocess.run(
        [
            str(Path(sys.executable).parent / "dq"),
            "gate",
            "contracts/training_set.yml",
            "--db",
            str(warehouse["clean"]),
            "--results-dir",
            str(tmp_path / "results"),
            "--snapshot-dir",
            str(snapshots),
            "--",
            *train,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert marker.read_text() == "trained" and "(verified)" in gated.stdout
    parquet = snapshots / "churn_training_set.parquet"
    manifest = manifest_of(parquet)
    assert manifest["dbt_model"] == "training_set" and manifest["dbt_node"].startswith("model.")
    with duckdb.connect(str(warehouse["clean"]), read_only=True) as con:
        assert manifest["row_count"] == con.execute("SELECT count(*) FROM main.training_set").fetchall()[0][0]

    marker.unlink()
    _flip_one_label(parquet)
    env |= {"DQ_SNAPSHOT": str(parquet), "DQ_FINGERPRINT": manifest["fingerprint"]}
    refused = subprocess.run(train, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "refusing to train" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and not marker.exists()


def _flip_one_label(parquet: Path) -> None:
    with duckdb.connect() as con:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{parquet}')")
        con.execute("UPDATE t SET churned = NOT churned WHERE customer_id = (SELECT min(customer_id) FROM t)")
        con.execute(f"COPY t TO '{parquet}' (FORMAT parquet)")


WRITER = """
import duckdb, json, sys
import dq
with duckdb.connect(sys.argv[1]) as con:  # read-write: the gate has released the database
    con.execute("UPDATE features SET income = income * 1000 WHERE id <= 10")
    con.execute("INSERT INTO features SELECT id + 1000, bucket, income, churned FROM features")
    table = con.execute("SELECT count(*), sum(income) FROM features").fetchall()[0]
snapshot = dq.load_validated(as_="arrow")
json.dump({"table": list(table), "snapshot": [snapshot.num_rows, sum(snapshot.column("income").to_pylist())]},
          open(sys.argv[2], "w"))
"""


def test_the_snapshot_keeps_the_validated_rows_when_the_table_changes_after_the_gate(
    write_contract, db: Path, tmp_path: Path
) -> None:
    """A writer changes the source between the gate's verdict and training's read."""
    with duckdb.connect(str(db), read_only=True) as con:
        validated = list(con.execute("SELECT count(*), sum(income) FROM features").fetchall()[0])
    (tmp_path / "writer.py").write_text(WRITER, encoding="utf-8")
    seen = tmp_path / "seen.json"
    result = runner.invoke(
        app_(),
        [
            "gate",
            str(contract(write_contract)),
            "--db",
            str(db),
            "--results-dir",
            str(tmp_path / "results"),
            "--snapshot-dir",
            str(tmp_path / "snaps"),
            "--",
            sys.executable,
            str(tmp_path / "writer.py"),
            str(db),
            str(seen),
        ],
    )
    assert result.exit_code == 0, result.output
    found = json.loads(seen.read_text())
    assert found["snapshot"] == validated == [ROWS, sum(20.0 + i for i in range(1, ROWS + 1))]
    assert found["table"][0] == 2 * ROWS and found["table"] != validated


def test_no_writer_can_change_the_table_between_the_checks_and_the_snapshot(
    write_contract, db: Path, tmp_path: Path
) -> None:
    """While the hook runs, the validation's read-only connection still holds DuckDB's file lock."""
    attempts: list[subprocess.CompletedProcess[str]] = []

    def try_to_write(connection: duckdb.DuckDBPyConnection, settings: Any, run: Any, validated: Any) -> None:
        script = f"import duckdb; duckdb.connect({str(db)!r}).execute('DELETE FROM features')"
        attempts.append(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False))

    settings = load_settings(db=db, results_dir=tmp_path / "results")
    run = validate([contract(write_contract)], settings, on_validated=try_to_write)
    assert not run.status.blocks
    (attempt,) = attempts
    assert attempt.returncode != 0 and "lock" in attempt.stderr.lower()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM features").fetchall()[0][0] == ROWS


def test_the_hook_sees_only_a_passing_run(write_contract, db: Path, tmp_path: Path) -> None:
    calls: list[list[Validated]] = []
    settings = load_settings(db=db, results_dir=tmp_path / "results")
    validate(
        [contract(write_contract, income_min=1e9)], settings, on_validated=lambda c, s, r, v: calls.append(list(v))
    )
    assert calls == []
    validate([contract(write_contract)], settings, on_validated=lambda c, s, r, v: calls.append(list(v)))
    assert [item.table.label for item in calls[0]] == ["main.features"]


@pytest.mark.parametrize(
    ("make_contract", "expected_code"),
    [
        (lambda w: contract(w, income_min=1e9), 1),
        (lambda w: w(CONTRACT.format(income_min=0).replace("main.features", "main.nope")), 3),
    ],
    ids=["checks-failed", "could-not-validate"],
)
def test_a_blocked_gate_writes_no_snapshot(gate, write_contract, tmp_path: Path, make_contract, expected_code: int):
    code, out, seen = gate(make_contract(write_contract), "--snapshot-dir", str(tmp_path / "snaps"))
    assert code == expected_code, out
    assert seen == {} and not list((tmp_path / "snaps").glob("*"))


def test_a_snapshot_that_cannot_be_written_blocks_with_3(gate, write_contract, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    code, out, seen = gate(contract(write_contract), "--snapshot-dir", str(not_a_dir / "snaps"))
    assert code == 3 and seen == {}, out
    assert "cannot write the snapshot" in out and "Traceback" not in out
    (result,) = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*.json")]
    assert result["status"] == "error" and "cannot write the snapshot" in result["contracts"][0]["error"]


def test_no_snapshot_hands_over_no_snapshot(gate, write_contract, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DQ_SNAPSHOT", str(tmp_path / "stale.parquet"))  # from an outer gate: must not leak
    monkeypatch.chdir(tmp_path)
    code, out, seen = gate(contract(write_contract), "--no-snapshot")
    assert code == 0, out
    assert seen["env"]["DQ_SNAPSHOT"] is None and seen["env"]["DQ_FINGERPRINT"] is None
    assert "DQ_SNAPSHOT is not set" in seen["error"]
    assert not (tmp_path / ".dq" / "snapshots").exists()


def test_several_contracts_share_a_directory(gate, write_contract, tmp_path: Path) -> None:
    first = contract(write_contract)
    second = write_contract(CONTRACT.format(income_min=0).replace("contract: features", "contract: features_b"))
    code, out, seen = gate(
        first, str(second), "--snapshot-dir", str(tmp_path / "snaps"), load={"contract": "features_b"}
    )
    assert code == 0, out
    assert seen["env"]["DQ_SNAPSHOT"] == str((tmp_path / "snaps").resolve()) and seen["rows"] == ROWS
    fingerprints = dict(pair.split("=", 1) for pair in seen["env"]["DQ_FINGERPRINT"].split(","))
    assert set(fingerprints) == {"features", "features_b"}
    with pytest.raises(dq.SnapshotError, match="several contracts"):
        dq.load_validated(tmp_path / "snaps")


def test_two_contracts_with_one_name_cannot_share_a_snapshot(gate, write_contract, tmp_path: Path) -> None:
    code, out, seen = gate(
        contract(write_contract), str(contract(write_contract)), "--snapshot-dir", str(tmp_path / "s")
    )
    assert code == 3 and seen == {} and "one contract name" in out


@pytest.mark.parametrize(("as_", "kind"), [("pandas", pd.DataFrame), ("polars", pl.DataFrame), ("arrow", pa.Table)])
def test_load_validated_returns_the_requested_frame(gate, write_contract, tmp_path: Path, as_: str, kind: type) -> None:
    code, out, _ = gate(contract(write_contract), "--snapshot-dir", str(tmp_path / "snaps"))
    assert code == 0, out
    frame = dq.load_validated(tmp_path / "snaps" / "features.parquet", as_=as_)
    columns = list(frame.column_names if as_ == "arrow" else frame.columns)
    assert len(frame) == ROWS and columns == ["id", "bucket", "income", "churned"]
    assert isinstance(frame, kind)


def test_load_validated_without_a_gate_says_how_to_get_one() -> None:
    with pytest.raises(dq.SnapshotError, match="dq gate"):
        dq.load_validated()
