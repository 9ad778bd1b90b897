"""`dq gate CONTRACT... -- CMD`: run the training command only on data that passes."""

from __future__ import annotations

import typer
from typer.core import TyperCommand

from dq.commands.options import (
    ContractsArg,
    DbOpt,
    DbtOpt,
    EngineOpt,
    FormatOpt,
    OutputFormat,
    OutputOpt,
    ResultsOpt,
    err,
    validate_and_report,
)
from dq.config import EngineChoice
from dq.exit_codes import ExitCode


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
) -> None:
    """Validate, then run `-- CMD ARGS...` only if the data passes; exit with CMD's code.

    On a block, CMD never starts and the validation's exit code is returned.
    """
    command: list[str] = ctx.meta.get("dq_command") or []
    if not command:
        raise typer.BadParameter("give the training command after `--`, e.g. dq gate c.yml -- python train.py")
    code, result_path = validate_and_report(contracts, db, dbt_project, engine, output_format, output, results_dir)
    if code is not ExitCode.OK:
        err(f"dq gate: blocked, not running: {' '.join(command)}")
        raise typer.Exit(int(code))
    from dq.gate import run_command

    outcome = run_command(command, result_path)
    if outcome.message:
        err(f"dq gate: {outcome.message}")
    raise typer.Exit(outcome.exit_code)
