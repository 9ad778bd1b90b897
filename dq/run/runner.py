"""load -> compile -> run engines -> one RunResult, written to disk before it is returned.

The runner is where "fail closed" is enforced: any exception on the way to a verdict becomes an
`error` result (exit 3), and a result that cannot be persisted is an error too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

import duckdb

from dq.atomic import staged_file
from dq.checks.compile import compile_contract
from dq.checks.reconcile import RECONCILE_KINDS
from dq.checks.relation import Relation, split_table_name
from dq.checks.result import SAMPLE_LIMIT, CheckResult, ContractResult, RunResult, Status, failure_message
from dq.checks.spec import HISTORY_KINDS, CheckKind, CheckSpec
from dq.checks.sql import failing_rows_query, quote_ident
from dq.config import EngineChoice, Settings
from dq.contract.model import Contract, Dataset, load_contract
from dq.data.bind import BindError, bind_source, bind_spec, collated_columns, nan_holding_columns
from dq.data.files import mentions_delta, open_connection, resolve_files, target_dataset
from dq.data.shared import SharedConnection, shares
from dq.data.source import Table, fetch_samples, open_database, resolve_table
from dq.dbt.artifacts import resolve_model
from dq.errors import DqError
from dq.run import history, plan
from dq.run.contracts import Progress, each_contract, new_run_id, now


class Validated(NamedTuple):
    """A contract that reached a verdict, the relation it checked and what it found."""

    contract: Contract
    table: Table
    result: ContractResult


# Runs once, after every contract was checked and only if the run passed, while the read-only
# connection (and with it DuckDB's file lock, which keeps every writer out) is still open. The
# gate publishes its trusted snapshot here.
OnValidated = Callable[[duckdb.DuckDBPyConnection, Settings, RunResult, Sequence[Validated]], None]
# Runs per contract before any check, on the relation the contract resolved to, and returns the
# relation to check instead. The gate copies the relation to its snapshot file here, so that the
# checks run on the very file training will read (a view that samples or reads external files is
# evaluated once). An OnValidated hook that also has a `stage` method is used for both.
Stage = Callable[[Contract, Table], Table]
# Finds the relation a dataset (the contract's own, a reference, a split) names. The default reads
# the DuckDB file's catalog (and dbt's manifest); dq/run/frames.py passes one that looks the name up
# among the frames the training code handed over.
Resolve = Callable[[Dataset, duckdb.DuckDBPyConnection, Settings], Table]


@runtime_checkable
class Stages(Protocol):
    def stage(self, contract: Contract, table: Table) -> Table: ...


@runtime_checkable
class Judges(Protocol):
    """A stage hook that adds its own findings to a contract's result once its checks ran (the
    gate's quarantine bound, dq/gate/run.py)."""

    def judge(self, contract: Contract, table: Table, result: ContractResult) -> None: ...


def validate(
    contract_paths: Sequence[str | Path],
    settings: Settings,
    on_validated: OnValidated | None = None,
    progress: Progress | None = None,
    connect: Callable[[], duckdb.DuckDBPyConnection] | None = None,
    resolve: Resolve | None = None,
) -> RunResult:
    """Validate every contract; persist the run; return it. Never raises for bad input.

    `connect` and `resolve` default to the DuckDB file of `settings` and its catalog; dq/run/frames.py
    passes an in-memory connection holding the caller's frames and a lookup among them."""
    run = RunResult(run_id=new_run_id(), started_at=now())
    connection: duckdb.DuckDBPyConnection | None = None
    validated: list[Validated] = []
    fingerprints: dict[str, tuple[str, int] | None] = {}
    stage = on_validated.stage if isinstance(on_validated, Stages) else None
    try:

        def check_one(path: str | Path, result: ContractResult) -> None:
            nonlocal connection
            contract = load_contract(path)
            if connection is None:
                connection = connect() if connect is not None else open_connection(settings, contract)
            elif connect is None and not shares(connection) and mentions_delta(contract):
                # a later contract reads a Delta table: from here on the run's one connection is
                # shared, so its engines' cursors see the table's registration (dq/data/shared.py)
                connection = SharedConnection(connection, owner=True)  # type: ignore[assignment]
            table = validate_contract(contract, connection, settings, result, stage, resolve)
            if isinstance(on_validated, Judges):
                on_validated.judge(contract, table, result)
            validated.append(Validated(contract, table, result))

        each_contract(run, contract_paths, check_one, progress)
        # Fingerprinted on the connection that validated, so the history names the data checked
        # (in a gate: the snapshot's rows).
        fingerprints = {v.result.path: history.dataset_fingerprint(v.table) for v in validated}
        if on_validated is not None and connection is not None and not run.status.blocks:
            _after_validation(on_validated, connection, settings, run, validated)
    finally:
        if connection is not None:
            connection.close()
    run.finished_at = now()
    persist(run, settings.results_dir, settings.history, fingerprints)
    return run


def validate_contract(
    contract: Contract,
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    result: ContractResult,
    stage: Stage | None = None,
    resolve: Resolve | None = None,
    only: Callable[[CheckSpec], bool] | None = None,
) -> Table:
    """Fill `result` with one CheckResult per compiled spec (those `only` keeps, if given);
    return the relation checked."""
    result.contract, result.version = contract.contract, contract.version
    result.dataset, result.engine = contract.dataset.describe(), settings.engine.value
    if resolve is None:  # a CSV is read in the types its contract declares (dq/data/files.py)
        table = resolve_dataset(contract.dataset, connection, settings, contract)
    else:
        table = resolve(contract.dataset, connection, settings)
    resolve = resolve or resolve_dataset
    result.relation = table.label
    if stage is not None:
        table = stage(contract, table)
    specs = [s for s in compile_contract(contract) if only is None or only(s)]
    by_name: dict[str, CheckResult] = {}
    runnable: list[CheckSpec] = []
    collated = collated_columns(table)
    # only engines other than the default need to know where NaN is (spec.needs_exact_sql)
    nan_present = nan_holding_columns(table) if settings.engine is not EngineChoice.auto else frozenset()
    for spec in specs:
        blocked = bind_other_datasets(spec, table, connection, settings, collated, resolve)
        if isinstance(blocked, str):
            by_name[spec.name] = CheckResult.errored(spec, "dq", blocked)
            continue
        try:
            runnable.append(bind_spec(blocked, table, collated, nan_present))
        except BindError as exc:  # a value that cannot be compared exactly: a contract error, exit 3
            by_name[spec.name] = CheckResult.errored(spec, "dq", f"{result.path}: {exc}")
    runnable = bind_history(runnable, result, settings, by_name)
    for engine, assigned in plan.assign(runnable, settings.engine):
        if isinstance(engine, str):
            by_name.update({s.name: CheckResult.errored(s, "dq", engine) for s in assigned})
            continue
        try:
            found = engine.run(assigned, table)
        except Exception as exc:
            found = [CheckResult.errored(s, engine.name, f"{engine.name} crashed: {exc}") for s in assigned]
        if [r.name for r in found] != [s.name for s in assigned]:
            # one result per spec, in order, is the engine contract; anything else is not a verdict
            found = [CheckResult.errored(s, engine.name, "engine did not return this check's result") for s in assigned]
        by_name.update({r.name: r for r in found})
    for spec in runnable:
        check = by_name[spec.name]
        if check.status in (Status.failed, Status.warned):
            check.message = failure_message(spec, check.failing_rows, check.observed, check.rows_in_scope)
        _add_samples(check, spec, table, contract.primary_key)
    result.checks = [by_name[spec.name] for spec in specs]
    return table


def bind_history(
    specs: list[CheckSpec], result: ContractResult, settings: Settings, errors: dict[str, CheckResult]
) -> list[CheckSpec]:
    """The specs, `anomaly` / `change_from_last` ones with their past values as `baseline` (oldest
    first), read from the results history in one query before any engine runs, so this run's own
    value, appended only after the verdict, is never its own baseline. If the history cannot be
    read, those checks are errors (in `errors`), never passes."""
    # change_from_last compares with the last run only
    wanted = {s.name: (s.kind.value, int(s.args.get("window", 1))) for s in specs if s.kind in HISTORY_KINDS}
    if not wanted:
        return specs
    try:
        past = history.baselines(settings.history, result.contract, result.dataset, wanted)
    except history.HistoryError as exc:
        errors.update({s.name: CheckResult.errored(s, "dq", str(exc)) for s in specs if s.name in wanted})
        return [s for s in specs if s.name not in wanted]
    return [replace(s, args={**s.args, "baseline": past.get(s.name, ())}) if s.name in wanted else s for s in specs]


def _after_validation(
    hook: OnValidated,
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    run: RunResult,
    validated: Sequence[Validated],
) -> None:
    """Run the hook; if it fails, the run is an error (recorded in the result), never a pass."""
    try:
        hook(connection, settings, run, validated)
    except Exception as exc:
        why = str(exc) if isinstance(exc, DqError) else f"internal error: {type(exc).__name__}: {exc}"
        for result in run.contracts:
            result.error = f"the checks passed, but {why}"


def resolve_dataset(
    dataset: Dataset, connection: duckdb.DuckDBPyConnection, settings: Settings, contract: Contract | None = None
) -> Table:
    if dataset.path is not None:
        return resolve_files(dataset, connection, settings, contract)
    if not settings.db.is_file():  # on the in-memory DuckDB of a contract on files
        open_database(settings.db)  # raises: the database does not exist, with the fix
    if dataset.model is not None:
        node = resolve_model(settings.dbt_project, dataset.model, dataset.version)
        origin = f"dbt node {node.unique_id} (database {node.database!r} in the manifest)"
        return resolve_table(connection, settings.db, node.schema, node.alias, node.database, origin)
    catalog, schema, name = split_table_name(dataset.table or "")
    return resolve_table(connection, settings.db, schema, name, catalog)


def bind_other_datasets(
    spec: CheckSpec,
    table: Table,
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    collated: frozenset[str] = frozenset(),
    resolve: Resolve = resolve_dataset,
) -> CheckSpec | str:
    """The spec ready to run (a reference or another split bound to its relation), or why it
    cannot run. Data Docs bind references with it too, so both read the same relation."""
    if spec.kind is not CheckKind.column_exists:
        missing = [c for c in spec.columns if c not in table.columns]
        if missing:
            return f"not run: column {', '.join(missing)} is missing from {table.label}"
    if spec.kind is CheckKind.references:
        target = target_dataset(spec.args)
        try:
            ref = resolve(target, connection, settings)
        except DqError as exc:
            return f"referenced dataset: {exc}"
        if table.copy_of is not None and ref.label == table.copy_of:
            ref = table  # the dataset references itself: check its snapshot against itself, not a re-read
        if unseen := _unseen(table, ref):
            return unseen
        ref_column = spec.args["ref_column"]
        if ref_column not in ref.columns:
            return f"referenced column {ref_column!r} is missing from {ref.label}"
        bound = {
            "relation": Relation(ref.schema, ref.name),
            "ref_type": ref.columns[ref_column],
            "ref_collated": ref_column in collated_columns(ref),
        }
        return replace(spec, args={**spec.args, **bound})
    if spec.kind in RECONCILE_KINDS:
        return _bind_reconcile_source(spec, table, connection, settings, resolve)
    if spec.kind is CheckKind.disjoint_keys:  # leakage.disjoint_from: bind the other split
        target = target_dataset(spec.args)
        try:
            other = resolve(target, connection, settings)
        except DqError as exc:
            return f"leakage.disjoint_from dataset: {exc}"
        if unseen := _unseen(table, other):
            return unseen
        missing = [c for c in spec.columns if c not in other.columns]
        if missing:
            return f"leakage.disjoint_from: key column {', '.join(missing)} is missing from {other.label}"
        mismatched = [c for c in spec.columns if table.columns[c] != other.columns[c]]
        if mismatched:
            c = mismatched[0]
            return (
                f"leakage.disjoint_from: key column {c} is {table.columns[c]} here but {other.columns[c]} in "
                f"{other.label}; comparing them would cast one side. Fix: give both the same type in their models"
            )
        if set(spec.columns) & (collated | collated_columns(other)):  # `collated`: this table's, probed once
            return "leakage.disjoint_from: a key column has a collation (COLLATE NOCASE...); compare byte-wise keys"
        return replace(spec, args={**spec.args, "relation": Relation(other.schema, other.name)})
    return spec


def _unseen(table: Table, other: Table) -> str | None:
    """Why `table`'s checks cannot read `other`: an Arrow registration (a Delta table) lives on one
    connection, and engines on a plain connection read through cursors that do not see it."""
    if shares(other.connection) and not shares(table.connection):
        return (
            f"not run: {other.label} is read through an Arrow dataset registered on another connection than "
            f"{table.label}'s. Fix: validate this contract on its own (dq validate <this contract>)"
        )
    return None


def _bind_reconcile_source(
    spec: CheckSpec, table: Table, connection: duckdb.DuckDBPyConnection, settings: Settings, resolve: Resolve
) -> CheckSpec | str:
    """A `reconcile` spec bound to the dataset it is reconciled against, or why it cannot run."""
    key = spec.name
    try:
        source = resolve(target_dataset(spec.args), connection, settings)
    except DqError as exc:
        return f"{key}: the source dataset: {exc}"
    if table.copy_of is not None and source.label == table.copy_of:
        source = table  # reconciled against itself: the snapshot, not a re-read
    if unseen := _unseen(table, source):
        return unseen
    try:
        return bind_source(spec, table, source, key)
    except BindError as exc:
        return str(exc)


def _add_samples(check: CheckResult, spec: CheckSpec, table: Table, key: Sequence[str]) -> None:
    """Up to SAMPLE_LIMIT violating rows for a failed row-level check, fetched with a LIMIT.

    A sample shows the row's key and the checked columns (a custom query's rows whole), which is
    what a reader needs to find the row, without dumping a wide feature table into the report.
    """
    if check.status not in (Status.failed, Status.warned) or not spec.is_row_level or check.samples:
        return
    query = failing_rows_query(spec, table.relation)
    shown = [c for c in dict.fromkeys([*key, *spec.columns]) if c in table.columns]
    if spec.columns and shown and spec.kind is not CheckKind.reconcile_keys:  # unmatched keys come whole
        query = f"SELECT {', '.join(quote_ident(c) for c in shown)} FROM ({query})"
    try:
        check.samples = fetch_samples(table.connection, query, SAMPLE_LIMIT)
    except duckdb.Error as exc:
        check.message = f"{check.message} (samples unavailable: {exc})".strip()


def persist(
    run: RunResult,
    results_dir: Path,
    history_path: Path | None = None,
    fingerprints: Mapping[str, tuple[str, int] | None] | None = None,
) -> Path:
    """Make the run durable: JSON result file and results history, both before the verdict.

    The JSON is written to a temp file (fsynced), the run is appended to the history in one
    transaction, and only then is the file renamed into place. So a `<run>.json` never exists
    for a run the history lacks: a killed or locked history leaves no "passed" file behind.
    Either step failing raises DqError, so a run that could not be made durable is no verdict.
    """
    path = result_path(results_dir, run.run_id)
    run.result_path = str(path)
    try:
        with staged_file(path, json.dumps(run.to_dict(), indent=2, default=str)):
            if history_path is not None:
                history.append_run(history_path, run, fingerprints)
    except OSError as exc:
        run.result_path = None
        raise DqError(f"cannot write the validation result to {results_dir}: {exc}") from None
    except BaseException:
        run.result_path = None
        raise
    return path


def result_path(results_dir: Path, run_id: str) -> Path:
    """Where `persist` writes a run's result (the gate names it in the snapshot before it exists)."""
    return results_dir / f"{run_id}.json"
