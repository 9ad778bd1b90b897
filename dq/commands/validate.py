"""`dq validate`: the CI gate without a command to run."""

from __future__ import annotations

import typer

from dq.commands.options import (
    ContractsArg,
    DbOpt,
    DbtOpt,
    EngineOpt,
    FormatOpt,
    HistoryOpt,
    OutputFormat,
    OutputOpt,
    ResultsOpt,
    validate_and_report,
)
from dq.config import EngineChoice


def validate(
    contracts: ContractsArg,
    db: DbOpt = None,
    dbt_project: DbtOpt = None,
    engine: EngineOpt = EngineChoice.auto,
    output_format: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    results_dir: ResultsOpt = None,
    history: HistoryOpt = None,
) -> None:
    """Validate datasets against their contracts; print a red/green table; exit with the verdict."""
    code, _ = validate_and_report(
        contracts, db, dbt_project, engine, output_format, output, results_dir, history=history
    )
    raise typer.Exit(int(code))
