"""`dq init --from-dbt MODEL`: draft a contract for a dbt model (marked for review)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import DbOpt, DbtOpt, err
from dq.config import load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode


def init(
    from_dbt: Annotated[str, typer.Option("--from-dbt", help="The dbt model to draft a contract for.")],
    db: DbOpt = None,
    dbt_project: DbtOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write it. Default contracts/MODEL.yml.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Draft a contract from the dbt manifest (columns, tests, constraints) and a profile of the data."""
    from dq.dbt.draft import draft_contract

    target = out or Path("contracts") / f"{from_dbt}.yml"
    if target.exists() and not force:
        err(f"dq init: {target} exists; pass --force to overwrite it, or --out another file")
        raise typer.Exit(int(ExitCode.USAGE))
    try:
        settings = load_settings(db, dbt_project)
        if settings.dbt_project is None:
            raise DqError("no dbt project: pass --dbt-project DIR")
        text = draft_contract(from_dbt, settings.dbt_project, settings.db)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except (DqError, OSError) as exc:
        err(f"dq init: cannot draft a contract for {from_dbt}: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    typer.echo(f"wrote {target} (a DRAFT: review the bounds and set the owner before use)")
