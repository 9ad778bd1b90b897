"""Options shared by the commands that validate, and the validate-then-report step they share."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dq.config import EngineChoice, Settings, load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode, exit_code_for


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


ContractsArg = Annotated[
    list[Path], typer.Argument(help="Contract files (YAML), or directories of them.", show_default=False)
]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="DuckDB file. Default: env DQ_DB, then pyproject's \\[tool.dq] db.")
]
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


def validate_and_report(
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
        run = run_validation(expand_contracts(contracts), settings)
    except DqError as exc:
        err(f"dq: could not validate: {exc}")
        return ExitCode.NOT_VALIDATED, None
    if output_format is OutputFormat.json:
        typer.echo(report.to_json(run))
    else:
        report.render_console(run, console())
    for target in output or []:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(report.to_json(run), encoding="utf-8")
        except OSError as exc:
            err(f"dq: cannot write {target}: {exc}")
            return ExitCode.NOT_VALIDATED, run.result_path
    return exit_code_for(run.status), run.result_path


def console() -> Any:
    """Rich on a terminal; a wide, colourless, line-oriented console when piped (CI logs)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=160, no_color=True, soft_wrap=False)


def expand_contracts(contracts: list[Path]) -> list[Path]:
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


def err(message: str) -> None:
    typer.echo(message, err=True)
