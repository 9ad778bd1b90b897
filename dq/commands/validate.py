"""`dq validate`: the CI gate without a command to run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import (
    BackendOpt,
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
    expand_contracts,
    validate_and_report,
)
from dq.config import EngineChoice, load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode

ChangedOpt = Annotated[
    bool, typer.Option("--changed", help="Only contracts of dbt models that are state:modified+ (needs --state).")
]
StateOpt = Annotated[
    Path | None, typer.Option("--state", help="Directory with the manifest.json to compare against (for --changed).")
]


def validate(
    contracts: ContractsArg,
    db: DbOpt = None,
    dbt_project: DbtOpt = None,
    engine: EngineOpt = EngineChoice.auto,
    backend: BackendOpt = None,
    output_format: FormatOpt = OutputFormat.table,
    output: OutputOpt = None,
    results_dir: ResultsOpt = None,
    history: HistoryOpt = None,
    changed: ChangedOpt = False,
    state: StateOpt = None,
) -> None:
    """Validate datasets against their contracts; print a red/green table; exit with the verdict."""
    if changed:
        contracts = _changed_only(contracts, db, dbt_project, state)
    elif state is not None:
        raise typer.BadParameter("--state only makes sense with --changed")
    where = Where(db, dbt_project, results_dir, history, engine, backend)
    code, _ = validate_and_report(contracts, where, Reporting(output_format, output))
    raise typer.Exit(int(code))


def _changed_only(contracts: list[Path], db: Path | None, dbt_project: Path | None, state: Path | None) -> list[Path]:
    """The contracts of modified models; exits 0 when none is affected, 3 when dbt cannot tell."""
    if state is None:
        raise typer.BadParameter("--changed needs --state DIR (the target/ of the run to compare against)")
    from dq.dbt.changed import select_changed

    try:
        settings = load_settings(db, dbt_project)
        if settings.dbt_project is None:
            raise DqError("--changed needs a dbt project: pass --dbt-project DIR")
        selected = select_changed(expand_contracts(contracts), settings.dbt_project, state)
    except DqError as exc:
        err(f"dq: could not validate: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    if not selected:
        err(f"dq: no contract covers a model modified since {state}; nothing to validate")
        raise typer.Exit(int(ExitCode.OK))
    err(f"dq: --changed selects {', '.join(str(p) for p in selected)}")
    return selected
