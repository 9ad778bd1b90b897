"""`dq export gx` and `dq export pandera`: each export is loaded and run by its own library on the
bundled warehouse, and blocks the broken data with the same failing checks as dq."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.result import RunResult, Status
from dq.config import load_settings
from dq.run.runner import validate
from tests.conftest import ROOT

DQ = str(Path(sys.executable).parent / "dq")
CONTRACTS = sorted((ROOT / "contracts").glob("*.yml"))


@pytest.fixture(autouse=True)
def _from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _dq_flagged(db: Path, contract: Path, tmp_path: Path) -> tuple[RunResult, set[str]]:
    run = validate([contract], load_settings(db=db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path / "r"))
    flagged = {c.name for c in run.contracts[0].checks if c.status in (Status.failed, Status.warned)}
    return run, flagged


def _export(kind: str, contract: Path, db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [
            DQ,
            "export",
            kind,
            str(contract),
            "--db",
            str(db),
            "--dbt-project",
            str(ROOT / "dbt_project"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


_GX_RUNNER = """
import json, sys
import great_expectations as gx
from dq.gx.adapter import fix_reflection, install_result_buffering, quiet

suite_path, db, table = sys.argv[1:4]
document = json.load(open(suite_path, encoding="utf-8"))
install_result_buffering()
with quiet():
    context = gx.get_context(mode="ephemeral")
    suite = context.suites.add(
        gx.ExpectationSuite(name=document["name"], expectations=document["expectations"], meta=document["meta"])
    )
    source = context.data_sources.add_sql(
        name="warehouse", connection_string=f"duckdb:///{db}", kwargs={"connect_args": {"read_only": True}}
    )
    fix_reflection(source.get_execution_engine().engine)
    asset = source.add_table_asset("t", table_name=table, schema_name="main")
    result = asset.add_batch_definition_whole_table("all").get_batch().validate(suite)
raised = [r.exception_info for r in result.results if r.exception_info.get("raised_exception")]
failed = sorted({n for r in result.results if not r.success for n in r.expectation_config.meta["dq_specs"]})
print(json.dumps({"raised": [str(x) for x in raised], "failed": failed}))
"""


def _run_gx_suite(suite_path: Path, db: Path, table: str) -> set[str]:
    """GX alone, in a fresh process: the exported JSON loaded as a suite and run on a SQL
    datasource of the warehouse. (dq's two DuckDB adaptations for GX, result buffering and column
    reflection, are applied: GX does not run on DuckDB without them, see dq/gx/engine.py.)"""
    done = subprocess.run(
        [sys.executable, "-c", _GX_RUNNER, str(suite_path), str(db), table],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert not found["raised"], found["raised"][0]
    return set(found["failed"])


def _model(contract: Path) -> str:
    from dq.contract.model import load_contract

    model = load_contract(contract).dataset.model
    assert model is not None
    return model


# every contract on the broken build (its defects flagged alike); on the clean build, where both
# sides flag nothing, the training set alone (each case runs GX on pandas: ~25 s on CI)
GX_CASES = [("broken", c) for c in CONTRACTS] + [("clean", c) for c in CONTRACTS if c.stem == "training_set"]


@pytest.mark.parametrize(("variant", "contract"), GX_CASES, ids=[f"{v}-{c.stem}" for v, c in GX_CASES])
def test_the_gx_export_runs_in_gx_and_flags_what_dq_flags(
    warehouse: dict[str, Path], tmp_path: Path, contract: Path, variant: str
) -> None:
    db = warehouse[variant]
    done = _export("gx", contract, db, tmp_path / "suite.json")
    document = json.loads((tmp_path / "suite.json").read_text(encoding="utf-8"))
    left_out = {entry["check"] for entry in document["meta"]["dq_not_exported"]}
    assert all(entry["why"] for entry in document["meta"]["dq_not_exported"])
    for name in left_out:
        assert f"not exported: {name}: " in done.stderr
    exported = {name for e in document["expectations"] for name in e["meta"]["dq_specs"]}
    run, flagged = _dq_flagged(db, contract, tmp_path)
    assert exported | left_out == {c.name for c in run.contracts[0].checks}  # every check: exported or listed
    assert _run_gx_suite(tmp_path / "suite.json", db, _model(contract)) == flagged - left_out
    if variant == "broken" and contract.stem == "training_set":
        assert {"primary_key.unique", "age.null_fraction", "age.range", "plan_id.references"} <= flagged - left_out


def _run_pandera_module(module_path: Path, frame: Any) -> set[str]:
    """Pandera alone: the exported module imported, its schema run lazily on the frame."""
    import importlib.util

    import pandera.errors

    spec = importlib.util.spec_from_file_location(f"exported_{module_path.stem}", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    schema = module.polars_schema() if type(frame).__module__.startswith("polars") else module.pandas_schema()
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return module.failed_checks(exc)
    return set()


def _frame(db: Path, table: str, kind: str) -> Any:
    with duckdb.connect(str(db), read_only=True) as con:
        arrow = con.sql(f'SELECT * FROM main."{table}"').to_arrow_table()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(arrow)
    import pandas as pd
    import pyarrow as pa

    types = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}
    return arrow.to_pandas(types_mapper=types.get)


@pytest.mark.parametrize("kind", ["pandas", "polars"])
@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("variant", ["clean", "broken"])
def test_the_pandera_export_runs_in_pandera_and_flags_what_dq_flags(
    warehouse: dict[str, Path], tmp_path: Path, contract: Path, variant: str, kind: str
) -> None:
    db = warehouse[variant]
    _export("pandera", contract, db, tmp_path / "schema.py")
    source = (tmp_path / "schema.py").read_text(encoding="utf-8")
    namespace: dict[str, Any] = {}
    exec(compile(source.split("# --- schemas")[0], "head", "exec"), namespace)
    left_out = set(namespace["NOT_EXPORTED"])
    run, flagged = _dq_flagged(db, contract, tmp_path)
    assert set(namespace["EXPORTED"]) | left_out == {c.name for c in run.contracts[0].checks}
    assert _run_pandera_module(tmp_path / "schema.py", _frame(db, _model(contract), kind)) == flagged - left_out


@pytest.mark.parametrize("kind", ["pandera", "gx"])
def test_an_export_that_cannot_read_its_dataset_is_exit_3_naming_it(tmp_path: Path, kind: str) -> None:
    done = subprocess.run(
        [DQ, "export", kind, str(ROOT / "contracts" / "training_set.yml"), "--db", str(tmp_path / "none.duckdb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3
    assert "none.duckdb does not exist" in done.stderr
    assert "Traceback" not in done.stderr
