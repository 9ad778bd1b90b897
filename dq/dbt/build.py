"""`dq dbt build`: dbt builds, and each model's full contract is validated the moment it finishes.

dbt runs in-process (`dbtRunner`) with a callback on its `NodeFinished` event. For a model that has
a contract (`contracts/*.yml` with `dataset: {model: X}`), the callback runs the whole contract
(Pandera + GX, the same `validate_contract` as `dq validate`) before dbt schedules the children;
an error-severity failure raises inside the callback, which dbt turns into an error of that node,
so its descendants are skipped exactly as after a failing dbt test.

The data is read through dbt's own DuckDB instance: a second `duckdb.connect` to the same file in
this process fails ("different configuration"), another process fails on the file lock, and
dbt-duckdb keeps the database open (`keep_open`) after `invoke()` returns. So the callback asks the
adapter's environment for a handle (`DuckDBConnectionManager.env().handle()`) and validates on a
`cursor()` of it: a plain `DuckDBPyConnection` on dbt's database instance, which sees what dbt
committed. After the build dq closes that environment, so the file is free for the next reader.

`NodeFinished` fires after the model's transaction committed: this path blocks the children but
cannot restore the previous table. The exported in-model assertions (`dq dbt export`) can.

A check that reads another model (`references`, `disjoint_from`) waits for the version this run
builds of it (`dq/dbt/cross.py`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dq.atomic import write_atomically
from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.config import Settings
from dq.contract.model import Contract, load_contract
from dq.contract.types import canonical_type, types_match
from dq.errors import DqError
from dq.exit_codes import ExitCode

# A model error raised by dq's exported artefacts, not by dbt itself.
_IN_MODEL = re.compile(r"dq contract (?P<label>\S+ \S+) failed: (?P<checks>.*)", re.DOTALL)
_CONSTRAINT = re.compile(r"Constraint Error: (?P<what>.*)")
_MODEL_CONTRACT = "enforced contract that failed"


class ContractFailed(Exception):
    """Raised in dbt's callback: dbt marks the model as errored and skips its descendants."""


@dataclass
class NodeOutcome:
    """One dbt node as dbt finished it, and whether a contract is why it did not succeed."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    message: str = ""
    by_contract: bool = False


@dataclass
class BuildOutcome:
    run: RunResult
    target_path: Path  # where dq wrote this run's files (dq_results.json, dq/<model>.json)
    nodes: list[NodeOutcome] = field(default_factory=list)
    dbt_error: str | None = None  # dbt could not run at all (bad args, bad profile, parse error)

    @property
    def dbt_failures(self) -> list[NodeOutcome]:
        return [n for n in self.nodes if n.status in ("error", "fail", "runtime error") and not n.by_contract]

    def exit_code(self) -> ExitCode:
        """3 if dbt or a validation itself failed, 1 if a contract blocked, else 0 (see README)."""
        if self.dbt_error is not None or self.dbt_failures or self.run.status is Status.error:
            return ExitCode.NOT_VALIDATED
        if self.run.status is Status.failed or any(n.by_contract for n in self.nodes):
            return ExitCode.CHECKS_FAILED
        return ExitCode.OK


def model_contracts(paths: Sequence[Path]) -> dict[str, tuple[Path, Contract]]:
    """model name -> its contract; a bad contract raises ContractError (nothing is built then)."""
    found: dict[str, tuple[Path, Contract]] = {}
    for path in paths:
        contract = load_contract(path)
        model = contract.dataset.model
        if model is None:
            continue
        if model in found:
            raise DqError(f"{path}: model {model!r} already has a contract in {found[model][0]}")
        found[model] = (path, contract)
    return found


def dbt_arguments(args: Sequence[str], project_dir: Path, target_path: Path) -> list[str]:
    """dbt's own arguments, plus the project, profiles and target path unless the user gave them."""
    out = ["build", *args]
    if not _has_option(args, "--project-dir"):
        out += ["--project-dir", str(project_dir)]
    if not _has_option(args, "--profiles-dir") and (project_dir / "profiles.yml").is_file():
        out += ["--profiles-dir", str(project_dir)]
    if not _has_option(args, "--target-path"):
        out += ["--target-path", str(target_path)]
    if not _has_option(args, "--exclude"):
        # dq's exported data tests re-check what the callback validates anyway: on the bundled
        # 1M-customer build they cost ~2 s. A user's own --exclude is left as given.
        from dq.dbt.export import TEST_TAG

        out += ["--exclude", f"tag:{TEST_TAG}"]
    return out


def default_target(project_dir: Path) -> Path:
    """Where dbt writes its artifacts when not told: DBT_TARGET_PATH, else dbt_project.yml's
    `target-path`, else `target/`, relative to the project."""
    configured = os.environ.get("DBT_TARGET_PATH")
    if not configured:
        import yaml

        try:
            config = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            config = {}
        configured = str(config.get("target-path") or "target") if isinstance(config, dict) else "target"
    return project_dir / configured


def option_value(args: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _has_option(args: Sequence[str], name: str) -> bool:
    return option_value(args, name) is not None


class Build:
    """One `dq dbt build`: the dbt invocation, its callback, and everything the callback found."""

    def __init__(
        self,
        contracts: dict[str, tuple[Path, Contract]],
        settings: Settings,
        project_dir: Path,
        target_path: Path,
        run_id: str | None = None,
        dq_dir: Path | None = None,
    ) -> None:
        from dq.dbt.cross import Progress
        from dq.run.runner import new_run_id, now

        self.contracts = contracts
        self.settings = settings
        self.project_dir = project_dir
        self.target_path = target_path  # dbt's --target-path (manifest.json, run_results.json)
        self.dq_dir = dq_dir or target_path
        self.progress = Progress()
        # model -> (its result, the models its deferred checks still wait for)
        self._deferred: dict[str, tuple[ContractResult, set[str]]] = {}
        self._db_path: Path | None = None
        self.in_model: dict[str, frozenset[str]] = {}  # see dq/dbt/in_model.py, set by invoke()
        # unique_id -> contract label, for each model whose exported gate logged that it ran (the
        # enforcing query, in this run, after its NodeStart): the only proof dq takes that it held
        self.gate_ran: dict[str, str] = {}
        # the history's fingerprint documents a run and decides nothing: it is read on a thread of
        # its own while dbt builds on, and collected before dbt closes its database
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dq-fingerprint")
        self._pending: list[tuple[str, Future[Any]]] = []
        self.run = RunResult(run_id=run_id or new_run_id(), started_at=now())
        self.raised: set[str] = set()
        self._lock = threading.Lock()
        self._fingerprints: dict[str, Any] = {}

    def invoke(self, args: Sequence[str]) -> BuildOutcome:
        """Build with dbt, validating each model as it finishes; dbt's manifest is parsed once
        per version of the file for the whole build (dq/dbt/artifacts.py: manifests_kept)."""
        from dq.dbt.artifacts import manifests_kept

        with manifests_kept():
            return self._invoke(args)

    def _invoke(self, args: Sequence[str]) -> BuildOutcome:
        from dbt.cli.main import dbtRunner

        from dq.run.runner import now, persist

        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        from dq.dbt.in_model import in_model_checks

        outcome = BuildOutcome(self.run, self.dq_dir)
        argv = dbt_arguments(args, self.project_dir, self.target_path)
        self.in_model = in_model_checks(self.contracts, self.project_dir)
        closing: _Closing | None = None
        try:
            with _env("DBT_TARGET_PATH", str(self.target_path)):
                try:
                    result = dbtRunner(callbacks=[self.on_event]).invoke(argv)
                finally:
                    self._collect_fingerprints()
                    self._background.shutdown(wait=True)
                    # dbt's database closes (DuckDB's last checkpoint) while dq does its own
                    # bookkeeping below; joined before anything reads the file, and before returning
                    closing = _Closing()
            if result.exception is not None:
                outcome.dbt_error = f"{type(result.exception).__name__}: {result.exception}"
            elif result.result is None or not hasattr(result.result, "results"):
                outcome.dbt_error = "dbt returned no run results"
            else:
                outcome.nodes = [self._node_outcome(r) for r in result.result.results]
                self._check_models_exist()
            if self._deferred:
                closing.join()  # they read the database file dbt has released
            self._run_deferred_at_end()
            if self.dq_dir != self.target_path and (self.target_path / "run_results.json").is_file():
                self.dq_dir.mkdir(parents=True, exist_ok=True)  # this run's dbt results next to dq's
                shutil.copyfile(self.target_path / "run_results.json", self.dq_dir / "run_results.json")
            self.run.finished_at = now()
            _write_json(self.dq_dir / "dq_results.json", self.run.to_dict())
            persist(self.run, self.settings.results_dir, self.settings.history, self._fingerprints)
        finally:
            if closing is not None:
                closing.join()
        return outcome

    # -- the callback ---------------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        name = event.info.name
        if name == "FinishedRunningStats":  # every node done, dbt's database still open
            self._collect_fingerprints()
        if name == "JinjaLogDebug":
            self._note_gate(str(getattr(event.data, "msg", "")))
            return
        if name not in ("NodeStart", "NodeFinished"):
            return
        info = event.data.node_info
        kind = info.unique_id.split(".", 1)[0]
        if kind not in ("model", "seed", "snapshot"):
            return
        if name == "NodeStart":
            with self._lock:
                self.gate_ran.pop(info.unique_id, None)  # proof counts from this node's start on
            self.progress.start(self._progress_name(info.unique_id, info.node_name))
            self._warm_engines()
            return
        status = str(event.data.run_result.status)
        progress_name = self._progress_name(info.unique_id, info.node_name)
        self.progress.finish(progress_name, status)
        self._run_deferred(progress_name)
        if info.node_name not in self.contracts:
            return  # a seed's or snapshot's contract is validated like a model's (export gates models only)
        if not self._is_contracts_node(info.unique_id, info.node_name):
            return  # another version of a versioned model: the contract gates the one it resolves to
        if status == "success":
            self._validate(info.unique_id, info.node_name)
        elif status == "error":
            self._record_model_error(info.node_name, event.data.run_result.message)

    def _progress_name(self, unique_id: str, name: str) -> str:
        """The name a check reading this node waits for: `{model: customers}` reads what a bare
        `ref('customers')` does, a versioned model's latest version; its other versions share the
        name, so they are tracked as `customers@v1` (v1 failing must not fail a read of v2)."""
        from dq.dbt.artifacts import REFABLE, select_node

        manifest = self._manifest()
        node = _node(manifest, unique_id)
        if manifest is None or node.get("version") is None:
            return name
        try:
            latest = select_node(manifest, name, None, where="manifest", resource_types=REFABLE)
        except DqError:
            return name
        return name if latest.get("unique_id") in (None, unique_id) else f"{name}@v{node['version']}"

    def _manifest(self) -> dict[str, Any] | None:
        """dbt's manifest of this run (parsed once per version of the file: manifests_kept), or
        None when it cannot be read; each caller then takes its fail-closed answer."""
        from dq.dbt.artifacts import read_manifest_file

        try:
            return read_manifest_file(self.target_path / "manifest.json", self.project_dir)
        except DqError:
            return None

    def _is_contracts_node(self, unique_id: str, model: str) -> bool:
        """Whether this node is the one the contract's `{model, version}` resolves to, as `ref()`
        does (a versioned model's versions share a name); True when the manifest cannot say."""
        from dq.dbt.artifacts import REFABLE, select_node

        _, contract = self.contracts[model]
        manifest = self._manifest()
        if manifest is None:
            return True
        try:
            node = select_node(manifest, model, contract.dataset.version, where="manifest", resource_types=REFABLE)
        except DqError:
            return True
        return node.get("unique_id") in (None, unique_id)

    def _note_gate(self, message: str) -> None:
        """An exported gate's marker (dq.dbt.export.GATE_MARKER): `<marker><unique_id> <label>`."""
        from dq.dbt.export import GATE_MARKER

        if message.startswith(GATE_MARKER):
            unique_id, _, label = message[len(GATE_MARKER) :].partition(" ")
            with self._lock:
                self.gate_ran[unique_id] = label

    def held_by_gate(self, unique_id: str, model: str) -> frozenset[str]:
        """The row checks the exported gate held for this model in this run: none unless its
        marker, naming this model's node and contract, was logged before the model finished."""
        _, contract = self.contracts[model]
        with self._lock:
            ran = self.gate_ran.get(unique_id)
        if ran != f"{contract.contract} {contract.version}" or not self._gate_hook_runs_last(unique_id):
            return frozenset()
        return self.in_model.get(model, frozenset())

    def _gate_hook_runs_last(self, unique_id: str) -> bool:
        """Whether no post-hook of the node runs after dq's gate: dbt appends a model's own hooks
        after the project's, and one that updates the table would change the rows the gate passed
        (then the callback judges every check on the table as published). False when unsure."""
        from dq.dbt.project_config import GATE_HOOK

        hooks = (_node(self._manifest(), unique_id).get("config") or {}).get("post-hook")
        if not isinstance(hooks, list):
            return False
        ours = [i for i, hook in enumerate(hooks) if isinstance(hook, dict) and hook.get("sql") == GATE_HOOK]
        if not ours:
            return False
        # hooks outside the transaction run after every hook inside it, whatever their place
        return all(
            i < ours[-1] and isinstance(hook, dict) and hook.get("transaction", True)
            for i, hook in enumerate(hooks)
            if i not in ours
        )

    def _validate(self, unique_id: str, model: str) -> None:
        """The model's contract, now; a check reading a model this run builds later, when it is built."""
        from dq.dbt.cross import models_read, read_model, selected_names

        path, contract = self.contracts[model]
        reads = models_read(contract)
        selected = selected_names() if reads else None
        self.progress.wait_running(reads)
        later = {m for m in reads if self.progress.state(m, selected) == "later"}
        failed = {m for m in reads if self.progress.state(m, selected) == "failed"}
        held = self.held_by_gate(unique_id, model)
        result = self._check(model, lambda spec: read_model(spec) not in later, held=held)
        for other in sorted(failed):
            result.error = result.error or (
                f"{path}: a check reads model {other!r}, which dbt did not build in this run "
                f"({self.progress.finished[other]}): it cannot be judged against that model's previous table"
            )
        self._keep(model, result)
        if later:
            with self._lock:
                self._deferred[model] = (result, later)
        if result.status.blocks:
            self.raised.add(unique_id)
            raise ContractFailed(f"dq: contract {contract.contract} {result.status.value}: {_why(result)}")

    def _check(
        self,
        model: str,
        only: Any,
        result: ContractResult | None = None,
        db: Path | None = None,
        held: frozenset[str] = frozenset(),
    ) -> ContractResult:
        """Validate `model`'s contract (the specs `only` keeps) into `result`, on dbt's database
        instance while dbt runs, or on the file `db` after it; `held`: the row checks the exported
        gate proved it held (`held_by_gate`), taken from it instead of run again."""
        from dq.run import history
        from dq.run.runner import now, validate_contract

        path, contract = self.contracts[model]
        first = result is None
        result = result or ContractResult(contract=path.stem, path=str(path), started_at=now())
        checks = list(result.checks)
        started = time.perf_counter()
        with self._lock, _connection(db) as (connection, db_path):
            self._db_path = db_path
            settings = replace(self.settings, db=db_path, dbt_project=self.project_dir)
            held = held if first else frozenset()
            try:
                table = validate_contract(
                    contract, connection, settings, result, only=lambda s: only(s) and s.name not in held
                )
                result.checks = checks + result.checks + self._held_checks(contract, table, held, only, result)
                if first:
                    declared = _declared_columns(self.project_dir, model)
                    result.checks.append(drift_check(contract, table.columns, declared))
                    if db is None:
                        self._pending.append((str(path), self._background.submit(_fingerprint_on_dbt, table)))
                    else:
                        self._fingerprints[str(path)] = history.dataset_fingerprint(table)
            except DqError as exc:
                result.checks = checks
                result.error = str(exc)
            except Exception as exc:  # never a pass: an engine crash is "could not validate"
                result.checks = checks
                result.error = f"internal error while validating {path}: {type(exc).__name__}: {exc}"
        result.duration_s = round((result.duration_s or 0) + time.perf_counter() - started, 3)
        return result

    def _held_checks(
        self, contract: Contract, table: Any, held: frozenset[str], only: Any, result: ContractResult
    ) -> list[CheckResult]:
        """The row checks the in-model gate judged: taken as passed where its SQL is exact for
        the live table; run here after all on a collated or retyped column."""
        from dq.data.bind import collated_columns
        from dq.dbt.in_model import held_in_model
        from dq.run.runner import validate_contract

        specs = [s for s in _compiled(contract) if s.name in held and only(s)]
        if not specs:
            return []
        collated = collated_columns(table)
        declared = {name: rule.type for name, rule in contract.columns.items()}

        def exact(spec: Any) -> bool:
            return all(
                c in table.columns and c not in collated and types_match(str(declared[c]), table.columns[c])
                for c in spec.columns
            )

        redo = {s.name for s in specs if not exact(s)}
        out = [held_in_model(s) for s in specs if s.name not in redo]
        if redo:
            again = ContractResult(contract=result.contract, path=result.path, started_at=result.started_at)
            validate_contract(contract, table.connection, self._settings(), again, only=lambda s: s.name in redo)
            out += again.checks
        return out

    def _warm_engines(self) -> None:
        """Import the engines (Pandera, pandas: ~0.5 s of Python) while dbt's first models run in
        DuckDB, which releases the GIL, instead of inside the first model's callback. The one
        background import dq has (dq/engines/preload.py): a second thread importing Pandera at the
        same time trips Python's module-lock deadlock detection."""
        if self.contracts:
            from dq.engines import preload

            preload.start()

    def _collect_fingerprints(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for path, future in pending:
            try:
                self._fingerprints[path] = future.result()
            except Exception:  # documents the run, never decides it (history.dataset_fingerprint)
                self._fingerprints[path] = None

    def _settings(self) -> Settings:
        return replace(self.settings, db=self._db_path or self.settings.db, dbt_project=self.project_dir)

    def _run_deferred(self, finished: str, db: Path | None = None) -> None:
        """Checks of other models' contracts that waited for `finished` (see dq/dbt/cross.py)."""
        from dq.dbt.cross import read_model

        with self._lock:
            ready = []
            for model, (result, waiting) in list(self._deferred.items()):
                waiting.discard(finished)
                if not waiting:
                    ready.append((model, result))
                    del self._deferred[model]
        for model, result in ready:
            path, _ = self.contracts[model]
            reads = {m for m in (read_model(s) for s in _compiled(self.contracts[model][1])) if m}
            bad = sorted(m for m in reads if self.progress.finished.get(m, "success") != "success")
            if bad:
                result.error = result.error or (
                    f"{path}: a check reads model {bad[0]!r}, which dbt did not build in this run "
                    f"({self.progress.finished[bad[0]]}): it cannot be judged against that model's previous table"
                )
            else:
                own = {c.name for c in result.checks}
                self._check(model, lambda spec, own=own: spec.name not in own, result, db)
            self._keep(model, result, append=False)

    def _run_deferred_at_end(self) -> None:
        """What still waits when dbt is done: for a model that did not run at all (its table is
        the current one), check now, on the database file dbt has released."""
        pending = list(self._deferred)
        if not pending or self._db_path is None:
            return
        from dq.dbt.cross import selected_names

        selected = selected_names()
        waiting = {m for _, (_, models) in self._deferred.items() for m in models}
        for name in sorted(waiting):
            if name in self.progress.started or selected is None or name in selected:
                # selected, but dbt never finished it (skipped, or the run stopped)
                self.progress.finish(name, self.progress.finished.get(name, "not built"))
            self._run_deferred(name, db=self._db_path)

    def _check_models_exist(self) -> None:
        """A contract whose model the manifest does not have is an error naming both (dbt never
        built it, so nothing was validated): never silently not validated."""
        from dq.dbt.artifacts import REFABLE, select_node
        from dq.run.runner import now

        manifest = self._manifest()
        if manifest is None:
            return
        for model, (path, contract) in self.contracts.items():
            where = f"{self.project_dir}'s manifest"
            try:
                node = select_node(manifest, model, contract.dataset.version, where=where, resource_types=REFABLE)
                problem = None
                if (node.get("config") or {}).get("materialized") == "ephemeral":
                    problem = (
                        "is materialized as ephemeral: dbt inlines it into the models that ref it and builds "
                        f"no relation, so there is nothing to validate. Fix: materialize {model} as a view or "
                        "table, or put the contract on a model built from it"
                    )
            except DqError as exc:
                problem = str(exc)
            if problem is not None:
                result = ContractResult(contract=path.stem, path=str(path), started_at=now())
                result.contract, result.version, result.dataset = contract.contract, contract.version, f"model {model}"
                result.error = f"{path}: contract {contract.contract}: dataset.model {model!r}: {problem}"
                self._keep(model, result)

    def _record_model_error(self, model: str, message: str) -> None:
        """A model the exported artefacts stopped inside dbt: record which checks failed."""
        from dq.run.runner import now

        path, contract = self.contracts[model]
        result = ContractResult(contract=path.stem, path=str(path), started_at=now())
        result.contract, result.version, result.dataset = contract.contract, contract.version, f"model {model}"
        checks = in_model_failures(message)
        if checks is None:
            result.error = f"dbt failed to build model {model}: {message.strip()}"
        else:
            result.checks = checks
        self._keep(model, result)

    def _keep(self, model: str, result: ContractResult, append: bool = True) -> None:
        """Written to disk before dbt goes on: nothing found during a build is lost."""
        if append:
            with self._lock:
                self.run.contracts.append(result)
        single = RunResult(run_id=self.run.run_id, started_at=self.run.started_at, contracts=[result])
        _write_json(self.dq_dir / "dq" / f"{model}.json", single.to_dict())

    def _node_outcome(self, result: Any) -> NodeOutcome:
        node = result.node
        status = str(getattr(result.status, "value", result.status))
        message = str(result.message or "")
        by_contract = node.unique_id in self.raised or (
            node.resource_type == "model" and node.name in self.contracts and in_model_failures(message) is not None
        )
        meta = getattr(node.config, "meta", None) or {}
        if node.resource_type == "test" and status == "fail" and "dq_check" in meta:
            by_contract = True
        return NodeOutcome(node.unique_id, str(node.resource_type), node.name, status, message, by_contract)


def in_model_failures(message: str) -> list[CheckResult] | None:
    """The checks an exported assertion, constraint or enforced dbt contract reported; None if the
    model failed for another reason (a SQL error, a missing source): that is dbt's failure."""
    match = _IN_MODEL.search(message)
    if match is not None:
        found = []
        for part in match.group("checks").strip().splitlines()[0].split("; "):
            name, _, observed = part.partition(" (")
            found.append(_in_model_check(name.strip(), observed.rstrip(")"), "post_hook"))
        return found
    match = _CONSTRAINT.search(message)
    if match is not None:
        return [_in_model_check("dbt.constraint", match.group("what").strip(), "constraint")]
    if _MODEL_CONTRACT in message:
        return [_in_model_check("dbt.model_contract", "columns or types differ from the contract", "model_contract")]
    return None


def _in_model_check(name: str, observed: str, where: str) -> CheckResult:
    rows = re.fullmatch(r"(\d+) rows", observed)
    return CheckResult(
        name=name,
        kind=f"dbt_{where}",
        columns=(),
        severity="error",
        engine="dbt",
        status=Status.failed,
        expected="holds (enforced inside the model; previous relation kept)",
        observed=observed,
        failing_rows=int(rows.group(1)) if rows else None,
        message=f"dbt {where.replace('_', ' ')} failed: {observed}",
    )


def drift_check(contract: Contract, actual: dict[str, str], declared: dict[str, str | None]) -> CheckResult:
    """Schema drift between the contract, the model's real columns and dbt's declared columns.

    Missing and retyped columns already fail the per-column checks, so drift is reported at `warn`:
    it is the one place that lists, side by side, what moved, including undeclared columns that
    `extra_columns: allow` lets through and dbt YAML columns the contract does not know.
    """
    missing = [c for c in contract.columns if c not in actual]
    extra = [c for c in actual if c not in contract.columns]
    retyped = [
        f"{c} ({actual[c]}, contract {rule.type})"
        for c, rule in contract.columns.items()
        if c in actual and rule.type is not None and not types_match(rule.type, actual[c])
    ]
    dbt_only = [c for c in declared if c not in contract.columns]
    typed = {c: rule.type for c, rule in contract.columns.items() if rule.type is not None}
    dbt_retyped = [
        f"{c} (dbt {t}, contract {typed[c]})"
        for c, t in declared.items()
        if c in typed and t and not _same_type(t, typed[c])
    ]
    parts = [
        f"{label}: {', '.join(items)}"
        for label, items in (
            ("missing from the model", missing),
            ("not in the contract", extra),
            ("retyped", retyped),
            ("declared in dbt only", dbt_only),
            ("typed differently in dbt", dbt_retyped),
        )
        if items
    ]
    return CheckResult(
        name="schema.drift",
        kind="schema_drift",
        columns=(),
        severity="warn",
        engine="dq",
        status=Status.warned if parts else Status.passed,
        expected="contract, dbt and the model agree",
        observed="; ".join(parts) or "no drift",
        message="; ".join(parts),
    )


def _same_type(dbt_type: str, contract_type: str) -> bool:
    try:
        return types_match(contract_type, canonical_type(dbt_type))
    except ValueError:
        return False


def _declared_columns(project_dir: Path, model: str) -> dict[str, str | None]:
    from dq.dbt.artifacts import model_node, read_manifest

    node = model_node(read_manifest(project_dir), model) or {}
    return {name: col.get("data_type") for name, col in (node.get("columns") or {}).items()}


def _compiled(contract: Contract) -> list[Any]:
    from dq.checks.compile import compile_contract

    return list(compile_contract(contract))


def _fingerprint_on_dbt(table: Any) -> Any:
    """history.dataset_fingerprint on a cursor of its own on dbt's database instance."""
    from dq.run import history

    with dbt_connection() as (connection, _):
        return history.dataset_fingerprint(replace(table, connection=connection))


@contextmanager
def _connection(db: Path | None) -> Iterator[tuple[Any, Path]]:
    """dbt's own instance while dbt runs (db None), else the file, read-only."""
    if db is None:
        with dbt_connection() as pair:
            yield pair
        return
    from dq.data.source import open_database

    connection = open_database(db)
    try:
        yield connection, db
    finally:
        connection.close()


def _node(manifest: dict[str, Any] | None, unique_id: str) -> dict[str, Any]:
    """A node of the manifest by its unique_id ({} when there is none, or no manifest)."""
    return ((manifest or {}).get("nodes") or {}).get(unique_id) or {}


def _why(result: ContractResult) -> str:
    if result.error is not None:
        return result.error
    bad = [c for c in result.checks if c.status.blocks]
    return "; ".join(f"{c.name}: {c.message or c.status.value}" for c in bad[:5]) + (" ..." if len(bad) > 5 else "")


@contextmanager
def dbt_connection() -> Iterator[tuple[Any, Path]]:
    """A DuckDB connection on dbt's own database instance (see the module docstring), and its path."""
    from dbt.adapters.factory import get_adapter_by_type

    try:
        adapter = get_adapter_by_type("duckdb")
    except Exception as exc:
        raise DqError(f"dq dbt build needs a dbt-duckdb profile: {exc}") from None
    handle = adapter.connections.env().handle()
    connection = handle.cursor().cursor()  # a DuckDBPyConnection, not dbt's cursor wrapper
    try:
        yield connection, Path(adapter.config.credentials.path)
    finally:
        connection.close()
        handle.close()


class _Closing:
    """`release_dbt_database` on a thread of its own; `join` waits for it and raises what it raised."""

    def __init__(self) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dq-release-dbt")
        self._thread.start()

    def _run(self) -> None:
        try:
            release_dbt_database()
        except BaseException as exc:  # re-raised by join(), in the thread that asked
            self._error = exc

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def release_dbt_database() -> None:
    """Close dbt-duckdb's environment: with `keep_open` it would hold the file after invoke()."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with contextlib.suppress(Exception):  # no environment was ever opened
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(payload, indent=2, default=str))
