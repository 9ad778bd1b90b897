"""The `dq` command line: the one place that turns results into exit codes.

Exit codes (stable, see README): 0 passed (warnings allowed), 1 error-severity checks failed,
2 usage error, 3 could not validate. Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperCommand

from dq.config import EngineChoice, Settings, load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode, exit_code_for

app = typer.Typer(
    help="Data contracts that gate ML training: validate dbt models in DuckDB with Pandera and GX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


ContractsArg = Annotated[
    list[Path], typer.Argument(help="Contract files (YAML), or directories of them.", show_default=False)
]
DbOpt = Annotated[Path | None, typer.Option("--db", help="DuckDB file. Default: env DQ_DB, then pyproject's \\[tool.dq] db.")]
DbtOpt = Annotated[
    Path | None, typer.Option("--dbt-project", help="dbt project whose target/manifest.json resolves {model: ...}.")
]
EngineOpt = Annotated[EngineChoice, typer.Option("--engine", help="Engine that runs the checks.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="What to print on stdout.")]
OutputOpt = Annotated[
    list[Path] | None, typer.Option("--output", "-o", help="Also write the JSON result to this file.")
]
ResultsOpt = Annotated[
    Path | None, typer.Option("--results-dir", help="Where every run's JSON result is kept. Default .dq/results.")
]


@app.command()
def validate(
    contracts: ContractsArg,
    db: DbOpt = None,
    dbt_project: DbtOpt = None,
    engine: EngineOpt = EngineChoice.auto,
    output_format: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    results_dir: ResultsOpt = None,
) -> None:
    """Validate datasets against their contracts; print a red/green table; exit with the verdict."""
    code, _ = _validate_and_report(contracts, db, dbt_project, engine, output_format, output, results_dir)
    raise typer.Exit(int(code))


class _GateCommand(TyperCommand):
    """Splits `dq gate CONTRACT... -- CMD ARGS...` at the first `--` before click parses it:
    click would otherwise drop the `--` and we could not tell contracts from the command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["dq_command"] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)


@app.command(cls=_GateCommand)
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
    code, result_path = _validate_and_report(contracts, db, dbt_project, engine, output_format, output, results_dir)
    if code is not ExitCode.OK:
        _err(f"dq gate: blocked, not running: {' '.join(command)}")
        raise typer.Exit(int(code))
    from dq.gate import run_command

    outcome = run_command(command, result_path)
    if outcome.message:
        _err(f"dq gate: {outcome.message}")
    raise typer.Exit(outcome.exit_code)


def _validate_and_report(
    contracts: list[Path],
    db: Path | None,
    dbt_project: Path | None,
    engine: EngineChoice,
    output_format: OutputFormat,
    output: list[Path] | None,
    results_dir: Path | None,
) -> tuple[ExitCode, str | None]:
    """Run the validation and every reporter; the verdict's exit code and the result path."""
    from dq import report
    from dq.runner import validate as run_validation

    try:
        settings: Settings = load_settings(db, dbt_project, results_dir, engine)
        paths = _expand(contracts)
        run = run_validation(paths, settings)
    except DqError as exc:
        _err(f"dq: could not validate: {exc}")
        return ExitCode.NOT_VALIDATED, None
    if output_format is OutputFormat.json:
        typer.echo(report.to_json(run))
    else:
        report.render_console(run, _console())
    for target in output or []:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(report.to_json(run), encoding="utf-8")
        except OSError as exc:
            _err(f"dq: cannot write {target}: {exc}")
            return ExitCode.NOT_VALIDATED, run.result_path
    return exit_code_for(run.status), run.result_path


def _console() -> Any:
    """Rich on a terminal; a wide, colourless, line-oriented console when piped (CI logs)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=160, no_color=True, soft_wrap=False)


def _expand(contracts: list[Path]) -> list[Path]:
    """Directories stand for the *.yml / *.yaml files inside them (sorted)."""
    paths: list[Path] = []
    for item in contracts:
        if item.is_dir():
            found = sorted([*item.glob("*.yml"), *item.glob("*.yaml")])
            if not found:
                raise DqError(f"{item}: no contract files (*.yml) in this directory")
            paths.extend(found)
        else:
            paths.append(item)
    return paths


def _err(message: str) -> None:
    typer.echo(message, err=True)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="dq")
