"""Options shared by the commands that validate, and the validate-then-report step they share."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dq.config import Backend, EngineChoice, Settings, load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode, exit_code_for
from dq.reports import ReportFormat, ReportTarget, parse_target

if TYPE_CHECKING:
    from dq.run.runner import OnValidated


OutputFormat = ReportFormat  # table | json | junit | markdown | html


ContractsArg = Annotated[
    list[Path], typer.Argument(help="Contract files (YAML), or directories of them.", show_default=False)
]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="DuckDB file. Default: env DQ_DB, then pyproject's [tool.dq] db.")
]
DbtOpt = Annotated[
    Path | None, typer.Option("--dbt-project", help="dbt project whose target/manifest.json resolves {model: ...}.")
]
EngineOpt = Annotated[EngineChoice, typer.Option("--engine", help="Engine that runs the checks.")]
BackendOpt = Annotated[
    Backend | None,
    typer.Option(
        "--backend", help="Where the checks run. Default: env DQ_BACKEND, then [tool.dq] backend, then duckdb."
    ),
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="What to print on stdout.")]


def _check_outputs(values: list[str] | None) -> list[str] | None:
    """An unknown FORMAT in `--output FORMAT:PATH` is a usage error (exit 2), before anything runs."""
    for value in values or []:
        try:
            parse_target(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    return values


OutputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--output",
        "-o",
        help="Also write a report: FORMAT:PATH (table, json, junit, markdown, html); a bare PATH is JSON. Repeatable.",
        callback=_check_outputs,
    ),
]
ResultsOpt = Annotated[
    Path | None, typer.Option("--results-dir", help="Where every run's JSON result is kept. Default .dq/results.")
]
HistoryOpt = Annotated[
    Path | None,
    typer.Option("--history", help="Results history (DuckDB) every run is appended to. Default .dq/history.duckdb."),
]


@dataclass(frozen=True)
class Where:
    """Where a run reads and writes: the options `validate` and `gate` share, as given."""

    db: Path | None = None
    dbt_project: Path | None = None
    results_dir: Path | None = None
    history: Path | None = None
    engine: EngineChoice = EngineChoice.auto
    backend: Backend | None = None

    def settings(self) -> Settings:
        return load_settings(
            self.db, self.dbt_project, self.results_dir, self.engine, history=self.history, backend=self.backend
        )


@dataclass(frozen=True)
class Reporting:
    """What a run prints (--format) and writes (--output FORMAT:PATH, repeatable)."""

    output_format: OutputFormat
    output: list[str] | None = None


def validate_and_report(
    contracts: list[Path], where: Where, reporting: Reporting, on_validated: OnValidated | None = None
) -> tuple[ExitCode, str | None]:
    """Run the validation and every reporter; the verdict's exit code and the result path.

    A report that cannot be written (a --output file, $GITHUB_STEP_SUMMARY) exits 3: CI that
    asked for a report must not go green without it.
    """
    output_format, output = reporting.output_format, reporting.output
    from dq.engines import preload

    preload.CLI = True  # dq's own command: it imports nothing the run does not use (dq/engines/preload.py)
    if where.engine is EngineChoice.auto:  # the default engine's judges, imported while the run starts
        preload.start()
    from dq import reports
    from dq.reports.markdown import append_step_summary
    from dq.run.runner import validate as run_validation

    try:
        targets = [parse_target(value) for value in output or []]
        settings: Settings = where.settings()
        paths = expand_contracts(contracts, announce=True)
        with _progress(len(paths)) as progress:
            if settings.backend is Backend.spark:
                from dq.spark.run import validate_on_spark

                run = validate_on_spark(paths, settings, on_validated, progress=progress)
            else:
                run = run_validation(paths, settings, on_validated, progress=progress)
    except DqError as exc:
        err(f"dq: could not validate: {exc}")
        return ExitCode.NOT_VALIDATED, None
    if output_format is OutputFormat.table:
        reports.render_console(run, console())
    else:
        text = reports.render(run, output_format)
        typer.echo(text, nl=not text.endswith("\n"))
    try:
        for target in targets:
            _write(run, target)
        append_step_summary(run)
    except OSError as exc:
        err(f"dq: cannot write a report: {exc}")
        return ExitCode.NOT_VALIDATED, run.result_path
    return exit_code_for(run.status), run.result_path


def _write(run: Any, target: ReportTarget) -> None:
    from dq.reports import write_report

    try:
        write_report(run, target)
    except OSError as exc:
        raise OSError(f"{target.format.value} report {target.path}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Any]:
    """Rich progress on a terminal, one stderr line per contract otherwise; none for one contract
    (its verdict follows at once, and a lone line would only interleave with the report)."""
    from dq.reports.progress import LineProgress, RichProgress

    if total < 2:
        yield None
    elif sys.stdout.isatty():
        with RichProgress(total) as progress:
            yield progress
    else:
        yield LineProgress()


def console() -> Any:
    """Rich on a terminal; a wide, colourless, line-oriented console when piped (CI logs)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(highlight=False)
    return Console(highlight=False, width=160, no_color=True, soft_wrap=False)


def expand_contracts(contracts: list[Path], announce: bool = False) -> list[Path]:
    """The contract files to read: a directory stands for every contract under it, recursively
    and in any case of `.yml` / `.yaml` (dq.contract.discovery); one with none is an error.

    `announce` prints, on stderr (stdout may be JSON), which files each directory gave: a
    contract that was never read cannot fail, so the reader can see what the verdict covers.
    """
    from dq.contract.discovery import find_contracts

    found = find_contracts(contracts)
    if announce:
        for line in found.summary():
            err(f"dq: {line}")
    return found.paths


def err(message: str) -> None:
    typer.echo(message, err=True)
