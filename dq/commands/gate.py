"""`dq gate CONTRACT... -- CMD`: run the training command only on data that passes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from dq.commands.options import (
    ContractsArg,
    DbOpt,
    DbtOpt,
    EngineOpt,
    FormatOpt,
    HistoryOpt,
    OutputFormat,
    OutputOpt,
    Reporting,
    ResultsOpt,
    Where,
    err,
    validate_and_report,
)
from dq.config import EngineChoice
from dq.exit_codes import ExitCode

SnapshotDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--snapshot-dir",
        help="Where the validated rows are snapshotted (one Parquet + manifest per contract). "
        "Default .dq/snapshots/<run_id>/.",
    ),
]
NoSnapshotOpt = Annotated[
    bool,
    typer.Option(
        "--no-snapshot",
        help="Do not snapshot the validated rows. Gives up the race protection: CMD then reads "
        "tables that may have changed since they were validated.",
    ),
]
QuarantineOpt = Annotated[
    bool,
    typer.Option(
        "--quarantine",
        help="Set aside the rows that fail an error-severity row rule (a second Parquet file beside the "
        "snapshot) and train on the rest, if their share is within the contract's `quarantine: "
        "{max_fraction}`; the checks run on the rows kept. A contract without that key: exit 3.",
    ),
]


class GateCommand(TyperCommand):
    """Splits `dq gate CONTRACT... -- CMD ARGS...` at the first `--` before click parses it:
    click would otherwise drop the `--` and we could not tell contracts from the command."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if "--" in args:
            cut = args.index("--")
            ctx.meta["dq_command"] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)


def gate(
    ctx: typer.Context,
    contracts: ContractsArg,
    db: DbOpt = None,
    dbt_project: DbtOpt = None,
    engine: EngineOpt = EngineChoice.auto,
    output_format: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    results_dir: ResultsOpt = None,
    snapshot_dir: SnapshotDirOpt = None,
    no_snapshot: NoSnapshotOpt = False,
    history: HistoryOpt = None,
    quarantine: QuarantineOpt = False,
) -> None:
    """Validate, then run `-- CMD ARGS...` only if the data passes; exit with CMD's code.

    On a pass, the validated rows are first snapshotted to Parquet; CMD gets DQ_SNAPSHOT and DQ_FINGERPRINT.

    On a block, CMD never starts and the validation's exit code is returned.
    """
    command: list[str] = ctx.meta.get("dq_command") or []
    if not command:
        raise typer.BadParameter("give the training command after `--`, e.g. dq gate c.yml -- python train.py")
    if quarantine and no_snapshot:
        raise typer.BadParameter("--quarantine writes the kept rows to the snapshot: drop --no-snapshot")
    from dq.gate.run import SnapshotWriter, run_command

    writer = None if no_snapshot else SnapshotWriter(snapshot_dir, quarantine=quarantine)
    where = Where(db, dbt_project, results_dir, history, engine)
    code, result_path = validate_and_report(contracts, where, Reporting(output_format, output), on_validated=writer)
    if code is ExitCode.OK and writer is not None and not writer.written:
        err("dq gate: the data passed but no snapshot was written; refusing to run CMD on unverified data")
        code = ExitCode.NOT_VALIDATED
    if code is not ExitCode.OK:
        if writer is not None:
            writer.discard()
        err(f"dq gate: blocked, not running: {' '.join(command)}")
        raise typer.Exit(int(code))
    env = writer.environment() if writer is not None else {}
    if env:
        err(f"dq gate: snapshot {env['DQ_SNAPSHOT']} ({env['DQ_FINGERPRINT']})")
    for snapshot in writer.written if writer is not None else []:
        if snapshot.quarantine_path is not None:
            err(f"dq gate: {snapshot.contract}: rows set aside in {snapshot.quarantine_path}")
    outcome = run_command(command, result_path, env)
    if outcome.message:
        err(f"dq gate: {outcome.message}")
    raise typer.Exit(_record_training(outcome.exit_code, result_path, db, dbt_project, results_dir, history))


def _record_training(
    exit_code: int,
    result_path: str | None,
    db: Path | None,
    dbt: Path | None,
    results: Path | None,
    history: Path | None,
) -> int:
    """Append the training command's outcome to the results history ("validation passed, training
    failed" is a fact there). If it cannot be recorded, exit 3: the run's record would be incomplete."""
    from dq.config import load_settings
    from dq.errors import DqError
    from dq.run.history import record_event

    try:
        settings = load_settings(db, dbt, results, history=history)
        record_event(settings, Path(result_path or "").stem, "training", exit_code)
    except DqError as exc:
        err(f"dq gate: the training command exited with {exit_code}, but that could not be recorded: {exc}")
        return int(ExitCode.NOT_VALIDATED)
    return exit_code
