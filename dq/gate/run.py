"""The training gate: run the training command only on data that passed its contracts, and hand
it a trusted snapshot of exactly the rows that passed (the snapshot is taken first and is itself
what the checks run on)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from dq.checks.result import ContractResult, RunResult
    from dq.config import Settings
    from dq.contract.model import Contract
    from dq.data.source import Table
    from dq.gate.snapshot import Snapshot, Staged
    from dq.run.runner import Validated

COMMAND_NOT_FOUND = 127
COMMAND_NOT_EXECUTABLE = 126
DEFAULT_SNAPSHOT_ROOT = Path(".dq/snapshots")


@dataclass(frozen=True)
class CommandOutcome:
    exit_code: int
    message: str = ""


def run_command(
    command: Sequence[str], result_path: str | None, extra_env: Mapping[str, str] | None = None
) -> CommandOutcome:
    """Run `command` with DQ_RESULT (and `extra_env`, e.g. the snapshot's DQ_SNAPSHOT and
    DQ_FINGERPRINT) in its environment; return its exit code (shell conventions: 127 not found,
    126 not executable, 128+N killed by signal N)."""
    # A DQ_SNAPSHOT inherited from an outer gate names other data: only this gate's may reach CMD.
    env = {k: v for k, v in os.environ.items() if k not in ("DQ_SNAPSHOT", "DQ_FINGERPRINT")}
    if result_path:
        env["DQ_RESULT"] = result_path
    env.update(extra_env or {})
    try:
        completed = subprocess.run(list(command), env=env, check=False)
    except FileNotFoundError:
        return CommandOutcome(COMMAND_NOT_FOUND, f"training command not found: {command[0]}")
    except PermissionError:
        return CommandOutcome(COMMAND_NOT_EXECUTABLE, f"training command not executable: {command[0]}")
    code = completed.returncode
    if code < 0:
        return CommandOutcome(128 - code, f"training command killed by signal {-code}")
    return CommandOutcome(code, "" if code == 0 else f"training command exited with {code}")


@dataclass
class SnapshotWriter:
    """The runner's `stage` and `on_validated` hooks: one Parquet snapshot + manifest per contract.

    `stage` runs before any check of a contract: it copies the relation once to a staging Parquet
    file and hands the runner that file to validate (dq/gate/snapshot.py), so the checks and training
    read the same bytes. `__call__` runs only if the whole run passed: it renames each staging file
    into place. `discard` removes everything a blocked run staged or wrote.
    `directory` None means `.dq/snapshots/<run_id>/`, so runs never overwrite each other.
    `quarantine` (`dq gate --quarantine`) splits each copy into the rows kept and the rows set aside
    (dq/gate/quarantine.py); `judge` adds the contract's bound to its result as one more check.
    """

    directory: Path | None = None
    quarantine: bool = False
    written: list[Snapshot] = field(default_factory=list)
    location: Path | None = None
    staged: list[Staged] = field(default_factory=list)

    def stage(self, contract: Contract, table: Table) -> Table:
        """Copy `table` to a staging file (in the snapshot directory, or `.dq/snapshots/` until the
        run has an id) and return the relation over that file, which is what gets validated."""
        from dq.gate.quarantine import plan
        from dq.gate.snapshot import stage

        rules = plan(contract, table) if self.quarantine else None
        staged = stage(table.connection, table, contract.contract, self.directory or DEFAULT_SNAPSHOT_ROOT, rules)
        self.staged.append(staged)
        return staged.table

    def judge(self, contract: Contract, table: Table, result: ContractResult) -> None:
        """With --quarantine: the bound on the share set aside becomes a check of the contract (its
        failure blocks, exit 1) and the counts go into the result."""
        staged = next((s for s in self.staged if s.table is table), None)
        if staged is None or staged.quarantine is None:
            return
        result.checks.append(staged.quarantine.check())
        result.quarantine = staged.quarantine.summary()

    def __call__(
        self, connection: duckdb.DuckDBPyConnection, settings: Settings, run: RunResult, validated: Sequence[Validated]
    ) -> None:
        from dq.dbt.artifacts import resolve_model
        from dq.errors import SnapshotError
        from dq.gate.snapshot import publish
        from dq.run.runner import result_path as runner_result_path

        names = [item.contract.contract for item in validated]
        if duplicated := sorted({n for n in names if names.count(n) > 1}):
            raise SnapshotError(
                f"cannot snapshot two datasets under one contract name ({', '.join(duplicated)}). "
                "Fix: give each contract its own `contract:` name, or gate them separately"
            )
        if self.quarantine:
            refuse_cross_gated_checks(connection, settings, validated)
        self.location = self.directory or DEFAULT_SNAPSHOT_ROOT / run.run_id
        # The path runner.persist() is about to write the result to (it runs after this hook, so
        # that a snapshot failure is part of the persisted result): asked of the runner, not rebuilt.
        result_path = str(runner_result_path(settings.results_dir, run.run_id))
        by_catalog = {staged.catalog: staged for staged in self.staged}
        for contract, table, result in validated:
            staged = by_catalog.get(table.schema)
            if staged is None or staged.table is not table:
                raise SnapshotError(
                    f"{contract.contract} was validated on {table.relation}, not on its staged snapshot: "
                    "nothing can prove the snapshot holds the rows checked. Run the gate again"
                )
            dataset = contract.dataset
            node = resolve_model(settings.dbt_project, dataset.model, dataset.version) if dataset.model else None
            snapshot = publish(
                staged,
                contract,
                self.location,
                run_id=run.run_id,
                result_path=result_path,
                contract_path=result.path,
                dbt_node=node.unique_id if node else None,
            )
            self.written.append(snapshot)
            if result.quarantine is not None and snapshot.quarantine_path is not None:
                result.quarantine["snapshot"] = str(snapshot.path)
                result.quarantine["quarantine_file"] = str(snapshot.quarantine_path)
            self.staged.remove(staged)

    # --- the Spark backend (dq/spark/run.py): the same snapshot, written by the validating session ---
    spark_staged: list[Any] = field(default_factory=list)

    def stage_on_spark(self, contract: Contract, table: Any, shadow: duckdb.DuckDBPyConnection) -> Any:
        """Write the dataset once with Spark to a staging file; return the view the checks read."""
        from dq.errors import SnapshotError
        from dq.gate.spark_snapshot import stage_on_spark

        if (
            self.quarantine
        ):  # the split is DuckDB SQL (dq/gate/quarantine.py): never a gate that quietly keeps every row
            raise SnapshotError(
                f"{contract.contract}: --quarantine is not supported on the spark backend. "
                "Fix: gate without --quarantine, or use --backend duckdb"
            )
        staged = stage_on_spark(table, contract.contract, self.directory or DEFAULT_SNAPSHOT_ROOT, shadow)
        self.spark_staged.append(staged)
        return staged.table

    def publish_on_spark(self, settings: Settings, run: RunResult, validated: Sequence[tuple[Any, Any, Any]]) -> None:
        """After a passing Spark run: every staged file into place with its manifest."""
        from dq.errors import SnapshotError
        from dq.gate.spark_snapshot import publish_on_spark
        from dq.run.runner import result_path as runner_result_path

        names = [contract.contract for contract, _, _ in validated]
        if duplicated := sorted({n for n in names if names.count(n) > 1}):
            raise SnapshotError(f"cannot snapshot two datasets under one contract name ({', '.join(duplicated)})")
        self.location = self.directory or DEFAULT_SNAPSHOT_ROOT / run.run_id
        result_path = str(runner_result_path(settings.results_dir, run.run_id))
        for contract, table, _ in validated:
            staged = next((s for s in self.spark_staged if s.table is table), None)
            if staged is None:
                raise SnapshotError(f"{contract.contract} was not validated on its staged snapshot. Run the gate again")
            snapshot = publish_on_spark(
                staged, contract, self.location, run_id=run.run_id, result_path=result_path, session=table.session
            )
            self.written.append(snapshot)
            self.spark_staged.remove(staged)

    def environment(self) -> dict[str, str]:
        """DQ_SNAPSHOT (the Parquet file, or the directory for several contracts) and DQ_FINGERPRINT
        ('sha256:<hex>', or 'name=sha256:<hex>,...' for several)."""
        if len(self.written) == 1:
            only = self.written[0]
            return {"DQ_SNAPSHOT": str(only.path.resolve()), "DQ_FINGERPRINT": only.fingerprint}
        assert self.location is not None, "environment() before any snapshot was written"
        pairs = ",".join(f"{s.contract}={s.fingerprint}" for s in sorted(self.written, key=lambda s: s.contract))
        return {"DQ_SNAPSHOT": str(self.location.resolve()), "DQ_FINGERPRINT": pairs}

    def discard(self) -> None:
        """Remove what this run staged or wrote: a blocked gate leaves no snapshot behind to be trained on."""
        from dq.gate.snapshot import discard

        for staged in self.staged:
            discard(staged)
        self.staged.clear()
        for spark_staged in self.spark_staged:
            spark_staged.path.unlink(missing_ok=True)
        self.spark_staged.clear()
        for snapshot in self.written:
            snapshot.manifest_path.unlink(missing_ok=True)
            snapshot.path.unlink(missing_ok=True)
            if snapshot.quarantine_path is not None:
                snapshot.quarantine_path.unlink(missing_ok=True)
        self.written.clear()


def refuse_cross_gated_checks(
    connection: duckdb.DuckDBPyConnection, settings: Settings, validated: Sequence[Validated]
) -> None:
    """SnapshotError (exit 3) for a `references`, `reconcile` or `leakage.disjoint_from` check whose
    other dataset is the dataset of another contract of the same quarantine gate.

    Such a check read that dataset's live relation, but training gets its kept rows: a reference
    that held against every row can orphan rows once the other contract's split sets some aside,
    so the pass it reports would not hold for the snapshots handed over. The other dataset is
    compared as resolved (the relation or files a name reaches), not as spelled."""
    from dq.checks.compile import compile_contract
    from dq.checks.reconcile import RECONCILE_KINDS
    from dq.checks.spec import CheckKind
    from dq.data.files import target_dataset
    from dq.errors import DqError, SnapshotError
    from dq.run.runner import resolve_dataset

    if len(validated) < 2:
        return
    gated = {table.copy_of or table.label: contract.contract for contract, table, _ in validated}
    cross = RECONCILE_KINDS | {CheckKind.references, CheckKind.disjoint_keys}
    for contract, table, _ in validated:
        for spec in compile_contract(contract):
            if spec.kind not in cross:
                continue
            try:
                other = resolve_dataset(target_dataset(spec.args), connection, settings).label
            except DqError:
                continue  # the check itself failed to resolve it and errored: the run did not pass
            owner = gated.get(other)
            if owner is not None and other != (table.copy_of or table.label):
                raise SnapshotError(
                    f"{contract.contract}: {spec.name} was judged against {other}, the dataset of the contract "
                    f"{owner} gated with it, but --quarantine trains on {owner}'s kept rows, not on {other}, so "
                    f"the pass would not hold for the snapshots. Fix: gate {owner} first and point "
                    f"{spec.name} at its snapshot, or gate {contract.contract} and {owner} separately"
                )
