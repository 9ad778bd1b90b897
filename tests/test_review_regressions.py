"""False passes found in review, each reproduced on a real DuckDB file (no mocks)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dq.checks.compile import compile_contract
from dq.checks.result import RunResult, Status
from dq.checks.spec import CheckKind as K
from dq.config import EngineChoice, load_settings
from dq.contract.model import load_contract
from dq.engines import Engine
from dq.engines.pandera import PanderaEngine
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.gx.engine import GxEngine
from dq.run.runner import validate
from tests.test_engine_pandera import build, spec, values

ENGINES: dict[str, Engine] = {"pandera-batch": PanderaBatchEngine(), "pandera": PanderaEngine(), "gx": GxEngine()}


def _run(tmp_path: Path, setup: str, contract: str, engine: EngineChoice = EngineChoice.auto) -> RunResult:
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as writer:
        writer.execute(setup)
    path = tmp_path / "c.yml"
    path.write_text(contract, encoding="utf-8")
    settings = load_settings(
        db=db, results_dir=tmp_path / "results", engine=engine, history=tmp_path / "history.duckdb"
    )
    return validate([path], settings)


# --- a NaN aggregate proves no bound: DuckDB sorts NaN above every number, so `NaN >= min` holds


@pytest.mark.parametrize("engine", ENGINES, ids=str)
@pytest.mark.parametrize(
    "check",
    [spec(K.mean, "x", min=0), spec(K.stddev, "x", min=0), spec(K.quantile, "x", q=0.9, min=0)],
    ids=lambda s: s.kind.value,
)
def test_nan_aggregate_with_only_a_lower_bound_fails(tmp_path: Path, engine: str, check: object) -> None:
    table = build(tmp_path, values("x", "('NaN'::DOUBLE)", "('NaN'::DOUBLE)", "(1.0)"))
    [result] = ENGINES[engine].run([check], table)  # type: ignore[list-item]
    assert result.status is Status.failed, (engine, result.observed, result.message)


# --- checks that share a name must both run, not be merged into one


def test_a_column_called_label_does_not_swallow_the_label_rule(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        "CREATE TABLE t AS SELECT i AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 END AS label FROM range(90) r(i)",
        "contract: c\nversion: 1.0.0\ndataset: {table: t}\ncolumns:\n  id: {}\n"
        "  label: {max_null_fraction: 0.5}\nlabel: {column: label, max_null_fraction: 0}\n",
    )
    checks = {c.name: (c.status, c.expected) for c in run.contracts[0].checks}
    assert checks["label.null_fraction"] == (Status.failed, "<= 0")
    assert checks["label.null_fraction#2"] == (Status.passed, "<= 0.5")
    assert run.status is Status.failed


def test_a_column_called_primary_key_does_not_swallow_the_key(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        "CREATE TABLE t AS SELECT i % 10 AS id, i AS primary_key FROM range(100) r(i)",
        "contract: c\nversion: 1.0.0\ndataset: {table: t}\nprimary_key: [id]\n"
        "columns:\n  id: {}\n  primary_key: {unique: true}\n",
    )
    checks = {c.name: (c.status, c.columns, c.failing_rows) for c in run.contracts[0].checks}
    assert checks["primary_key.unique"] == (Status.failed, ("id",), 100)
    assert checks["primary_key.unique#2"] == (Status.passed, ("primary_key",), 0)


def test_a_column_called_checks_does_not_swallow_a_custom_check(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        "CREATE TABLE t AS SELECT i - 5 AS id, i AS checks FROM range(20) r(i)",
        "contract: c\nversion: 1.0.0\ndataset: {table: t}\ncolumns:\n  id: {}\n  checks: {nullable: false}\n"
        "checks:\n  - {name: exists, sql: 'select * from {dataset} where id < 0'}\n"
        "  - {name: not_null, sql: 'select * from {dataset} where id > 10'}\n",
    )
    checks = {c.name: (c.kind, c.status) for c in run.contracts[0].checks}
    assert checks["checks.exists"] == ("custom_sql", Status.failed)
    assert checks["checks.not_null"] == ("custom_sql", Status.failed)
    assert checks["checks.exists#2"] == ("column_exists", Status.passed)
    assert checks["checks.not_null#2"] == ("not_null", Status.passed)


def test_the_same_check_stated_twice_still_runs_once_at_the_strictest_severity(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "contract: c\nversion: 1.0.0\ndataset: {table: t}\nprimary_key: [id]\n"
        "columns:\n  id: {nullable: false, unique: true, severity: warn}\n  x: {}\n",
        encoding="utf-8",
    )
    specs = compile_contract(load_contract(path))
    assert [(s.name, s.severity.value) for s in specs if s.columns == ("id",) and s.kind is not K.column_exists] == [
        ("id.not_null", "error"),
        ("primary_key.unique", "error"),
    ]


def test_quantiles_that_print_alike_are_both_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(
        "contract: c\nversion: 1.0.0\ndataset: {table: t}\n"
        "columns:\n  x: {quantiles: {0.1234561: {max: 100}, 0.1234562: {min: 200}}}\n",
        encoding="utf-8",
    )
    quantiles = [s for s in compile_contract(load_contract(path)) if s.kind is K.quantile]
    assert [(s.args["min"], s.args["max"]) for s in quantiles] == [(None, 100), (200, None)]
    assert len({s.name for s in quantiles}) == 2


# --- Pandera switched off in its own configuration must not turn the default engine into a pass


@pytest.mark.parametrize("setting", ["disabled", "schema_only"])
def test_pandera_configuration_cannot_turn_batch_failures_into_passes(tmp_path: Path, setting: str) -> None:
    from pandera.config import ValidationDepth, config_context

    table = build(tmp_path, values("x", "(-1)", "(5)"))
    checks = [spec(K.between, "x", min=0), spec(K.mean, "x", min=10), spec(K.row_count, min=3)]
    options = (
        {"validation_enabled": False}
        if setting == "disabled"
        else {"validation_enabled": True, "validation_depth": ValidationDepth.SCHEMA_ONLY}
    )
    with config_context(**options):  # what PANDERA_VALIDATION_ENABLED / _DEPTH in the environment set
        results = PanderaBatchEngine().run(checks, table)
    assert [r.status for r in results] == [Status.failed] * 3


# --- leakage: one NaN in a feature must not hide that the feature is the label


@pytest.mark.parametrize("engine", [EngineChoice.auto, EngineChoice.gx], ids=str)
def test_a_nan_in_a_leaking_feature_does_not_hide_the_leak(tmp_path: Path, engine: EngineChoice) -> None:
    run = _run(
        tmp_path,
        "CREATE TABLE t AS SELECT i AS id, (i % 2 = 0) AS y, "
        "CASE WHEN i = 5 THEN 'NaN'::DOUBLE WHEN i = 7 THEN 'Infinity'::DOUBLE ELSE (i % 2)::DOUBLE END AS f "
        "FROM range(200) r(i)",
        "contract: c\nversion: 1.0.0\ndataset: {table: t}\nprimary_key: [id]\n"
        "columns:\n  id: {}\n  y: {}\n  f: {}\nlabel: {column: y}\nleakage: {max_abs_correlation_with_label: 0.5}\n",
        engine,
    )
    [leak] = [c for c in run.contracts[0].checks if c.name == "leakage.correlation_with_label"]
    assert leak.status is Status.failed and leak.observed == {"f": 1.0}
