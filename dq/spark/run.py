"""`--backend spark`: load -> compile -> resolve on Spark -> bind -> refuse or measure -> one RunResult.

The DuckDB runner's steps (dq/run/runner.py), on a SparkSession: the same compile, the same
binding (on each dataset's DuckDB shadow, dq/spark/relation.py), the same persistence and history.
Every spec is checked against `engine.refusal` before any check runs; a contract with a spec
Spark cannot run exactly is an error naming those checks and the backend (exit 3), never a pass
with that check skipped. Under `dq gate` the dataset is first written to its snapshot file and
the checks run on that file (dq/gate/spark_snapshot.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb

from dq.checks.compile import compile_contract
from dq.checks.result import SAMPLE_LIMIT, CheckResult, ContractResult, RunResult, Status, failure_message
from dq.checks.spec import CheckKind, CheckSpec, TypedText
from dq.config import EngineChoice, Settings
from dq.contract.model import Contract, Dataset, load_contract
from dq.data.bind import BindError, bind_spec, is_nan_capable
from dq.data.files import memory_connection
from dq.data.source import Table, json_safe
from dq.errors import DqError
from dq.run.contracts import Progress, each_contract, new_run_id, now
from dq.run.runner import OnValidated, bind_other_datasets, persist
from dq.spark import sql
from dq.spark.engine import SparkBatchEngine, refusal
from dq.spark.relation import SparkTable, resolve_on_spark
from dq.spark.session import spark_session

BACKEND = "spark"


@runtime_checkable
class SparkSnapshots(Protocol):
    """The gate's snapshot hooks on Spark (dq/gate/run.py's SnapshotWriter): `stage_on_spark` writes
    a dataset once and returns the view its checks read; `publish_on_spark` runs only on a pass."""

    def stage_on_spark(self, contract: Contract, table: SparkTable, shadow: duckdb.DuckDBPyConnection) -> Any: ...

    def publish_on_spark(
        self, settings: Settings, run: RunResult, validated: Sequence[tuple[Contract, SparkTable, ContractResult]]
    ) -> None: ...


def validate_on_spark(
    contract_paths: Sequence[str | Path],
    settings: Settings,
    on_validated: OnValidated | None = None,
    progress: Progress | None = None,
    spark: Any = None,
) -> RunResult:
    """Validate every contract on Spark; persist the run; return it. Never raises for bad input."""
    run = RunResult(run_id=new_run_id(), started_at=now())
    shadow = memory_connection()
    session = None
    snapshots = on_validated if isinstance(on_validated, SparkSnapshots) else None
    validated: list[tuple[Contract, SparkTable, ContractResult]] = []
    try:

        def check_one(path: str | Path, result: ContractResult) -> None:
            nonlocal session
            contract = load_contract(path)
            if on_validated is not None and snapshots is None:
                raise DqError(
                    "dq gate does not write its trusted snapshot from the spark backend yet, so it cannot gate "
                    "on Spark. Fix: dq gate --no-snapshot (training then reads the live data), or --backend duckdb"
                )
            if settings.engine is EngineChoice.pandera:
                raise DqError(
                    "--engine pandera does not run on the spark backend (Pandera's Ibis backend never checks "
                    "unique=True and dq's Pandera engine states keys, quantiles and regexes in DuckDB SQL). "
                    "Fix: --engine auto (Spark SQL measures, Pandera judges) or --engine gx"
                )
            session = session or spark_session(settings, spark)
            table = _validate_contract(contract, session, shadow, settings, result, snapshots)
            validated.append((contract, table, result))

        each_contract(run, contract_paths, check_one, progress, where=" on Spark")
        if snapshots is not None and not run.status.blocks:
            try:
                snapshots.publish_on_spark(settings, run, validated)
            except Exception as exc:
                why = str(exc) if isinstance(exc, DqError) else f"internal error: {type(exc).__name__}: {exc}"
                for result in run.contracts:
                    result.error = f"the checks passed, but {why}"
    finally:
        shadow.close()
    run.finished_at = now()
    persist(run, settings.results_dir, settings.history)
    return run


def _validate_contract(
    contract: Contract,
    session: Any,
    shadow: duckdb.DuckDBPyConnection,
    settings: Settings,
    result: ContractResult,
    snapshots: SparkSnapshots | None = None,
) -> SparkTable:
    """Fill `result`; return the dataset checked (under a gate: its staged snapshot)."""
    result.contract, result.version = contract.contract, contract.version
    result.dataset, result.engine = contract.dataset.describe(), settings.engine.value
    resolved: dict[str, SparkTable] = {}

    def resolve(dataset: Dataset, connection: Any = None, _settings: Any = None) -> Table:
        key = dataset.describe()
        if key not in resolved:
            resolved[key] = resolve_on_spark(dataset, session, shadow, settings, contract)
        return resolved[key].shadow

    resolve(contract.dataset)
    table = resolved[contract.dataset.describe()]
    result.relation = table.label
    if snapshots is not None:  # every check reads the one copy training will read
        table = snapshots.stage_on_spark(contract, table, shadow)
        resolved[contract.dataset.describe()] = table
    specs = compile_contract(contract)
    by_name: dict[str, CheckResult] = {}
    runnable: list[CheckSpec] = []
    # GX counts a NaN as a value, dq as missing: as on DuckDB (dq.run.runner), a check of a column
    # holding a NaN is left to dq's own SQL (spec.needs_exact_sql), never claimed by GX on Spark
    nan_present = _nan_holding_columns(table) if settings.engine is EngineChoice.gx else frozenset()
    for spec in specs:
        bound = bind_other_datasets(spec, table.shadow, shadow, settings, frozenset(), resolve)
        if isinstance(bound, str):
            by_name[spec.name] = CheckResult.errored(spec, "dq", bound)
            continue
        try:
            runnable.append(_canonical_text(bind_spec(bound, table.shadow, frozenset(), nan_present), shadow))
        except BindError as exc:
            by_name[spec.name] = CheckResult.errored(spec, "dq", f"{result.path}: {exc}")
    on_gx = _gx_claims(runnable) if settings.engine is EngineChoice.gx else []
    on_batch = [spec for spec in runnable if spec not in on_gx]
    refused = [(spec.name, why) for spec in on_batch if (why := refusal(spec, table)) is not None]
    if refused:
        listing = "; ".join(f"check {name}: {why}" for name, why in refused)
        raise DqError(f"{len(refused)} check(s) cannot run on the {BACKEND} backend, so nothing ran: {listing}")
    found = SparkBatchEngine().run(on_batch, table) if on_batch else []
    if on_gx:
        from dq.gx.spark_engine import GxSparkEngine

        found += GxSparkEngine().run_frame(on_gx, table.session.table(table.view), table.columns)
    by_name.update({r.name: r for r in found})
    for spec in runnable:
        check = by_name[spec.name]
        if check.status in (Status.failed, Status.warned):
            check.message = failure_message(spec, check.failing_rows, check.observed)
            _add_samples(check, spec, table, contract.primary_key)
    result.checks = [by_name[spec.name] for spec in specs]
    return table


def _gx_claims(specs: Sequence[CheckSpec]) -> list[CheckSpec]:
    """`--engine gx` on Spark: the checks GX's Spark datasource states exactly (dq.gx.spark_engine);
    the rest are routed to the Spark SQL engine, as `--engine gx` routes on DuckDB (dq/run/plan.py)."""
    from dq.gx.spark_engine import GxSparkEngine

    engine = GxSparkEngine()
    return [spec for spec in specs if engine.supports(spec)]


def _nan_holding_columns(table: SparkTable) -> frozenset[str]:
    """FLOAT/DOUBLE columns that hold a NaN, in one Spark job (dq.data.bind.nan_holding_columns' twin)."""
    floats = [c for c, t in table.columns.items() if is_nan_capable(t)]
    if not floats:
        return frozenset()
    parts = ", ".join(f"bool_or(isnan({sql.ident(c)}))" for c in floats)
    row = table.sql(f"SELECT {parts} FROM {sql.ident(table.view)}").collect()[0]
    return frozenset(c for c, holds in zip(floats, row, strict=True) if holds)


def _canonical_text(spec: CheckSpec, shadow: duckdb.DuckDBPyConnection) -> CheckSpec:
    """Dates and timestamps bound as text, rewritten as DuckDB prints them (ISO 8601), the one
    spelling Spark's CAST reads as the same value."""
    values = spec.args.get("values", ())
    if not any(isinstance(v, TypedText) for v in values):
        return spec

    def canonical(value: Any) -> Any:
        if not isinstance(value, TypedText):
            return value
        text = shadow.execute(f"SELECT CAST(CAST(? AS {value.sql_type}) AS VARCHAR)", [value.text]).fetchall()[0][0]
        return TypedText(str(text), value.sql_type)

    return replace(spec, args={**spec.args, "values": tuple(canonical(v) for v in values)})


def _add_samples(check: CheckResult, spec: CheckSpec, table: SparkTable, key: Sequence[str]) -> None:
    """Up to SAMPLE_LIMIT failing rows, the key and the checked columns, as on DuckDB."""
    if not spec.is_row_level:
        return
    params = sql.Params()
    custom = f"SELECT * FROM ({_custom_text(spec, table)})" if spec.kind is CheckKind.custom_sql else None
    query = sql.failing_rows_query(spec, table.view, params, custom)
    shown = [c for c in dict.fromkeys([*key, *spec.columns]) if c in table.columns]
    if spec.columns and shown:
        query = f"SELECT {', '.join(sql.ident(c) for c in shown)} FROM ({query})"
    try:
        rows = table.sql(f"SELECT * FROM ({query}) LIMIT {int(SAMPLE_LIMIT)}", params.values).collect()
    except Exception as exc:
        check.message = f"{check.message} (samples unavailable: {str(exc).splitlines()[0][:200]})".strip()
        return
    check.samples = [{k: json_safe(v) for k, v in row.asDict().items() if not k.startswith("__dq")} for row in rows]


def _custom_text(spec: CheckSpec, table: SparkTable) -> str:
    from dq.checks.sql import custom_sql

    return custom_sql(spec, table.view)
