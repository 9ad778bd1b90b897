"""`dq docs CONTRACT...`: Great Expectations Data Docs for the compiled suites.

Documentation, not a gate: it exits 0 when the site is built, whatever the data looks like
(use `dq validate` for a verdict), and 3 when it cannot be built (bad contract, missing table,
GX failure).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import ContractsArg, DbOpt, DbtOpt, err, expand_contracts
from dq.config import load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode

DEFAULT_OUT = Path(".dq/docs")
OutOpt = Annotated[Path, typer.Option("--out", help="Directory of the Data Docs site (index.html inside).")]


def docs(contracts: ContractsArg, db: DbOpt = None, dbt_project: DbtOpt = None, out: OutOpt = DEFAULT_OUT) -> None:
    """Build GX Data Docs from real GX validation results of each contract's suite."""
    from dq.gx.docs import build_docs

    try:
        settings = load_settings(db, dbt_project)
        built = build_docs(expand_contracts(contracts), settings, out)
    except DqError as exc:
        err(f"dq docs: cannot build Data Docs: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    for contract in built.contracts:
        typer.echo(
            f"{contract.contract}: {contract.expectations} expectations validated, {contract.failed} failed "
            f"(suites: {', '.join(contract.suites) or 'none'})"
        )
        for missing in contract.not_compiled:
            err(f"dq docs: {contract.path}: not in the docs: {missing}")
    typer.echo(f"Data Docs: {built.index}")
