"""`dq lint [DIR|FILES]`: check contracts without touching data; exit 3 on any problem."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import DbtOpt, err
from dq.exit_codes import ExitCode


class LintFormat(StrEnum):
    text = "text"
    json = "json"


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Contract files or directories of them. Default: contracts/.", show_default=False),
]
SkipDbtOpt = Annotated[
    bool,
    typer.Option(
        "--skip-dbt",
        help="Do not resolve {model: ...} through the dbt manifest (e.g. in a "
        "pre-commit hook, before dbt parse ran). Without it, an unresolvable model is a problem.",
    ),
]
LintFormatOpt = Annotated[LintFormat, typer.Option("--format", help="What to print on stdout.")]


def lint(
    paths: PathsArg = None,
    dbt_project: DbtOpt = None,
    skip_dbt: SkipDbtOpt = False,
    output_format: LintFormatOpt = LintFormat.text,
) -> None:
    """Check every contract: schema, regexes (in DuckDB's RE2), SQL checks, dbt models, references."""
    from dq.commands.options import expand_contracts
    from dq.config import load_settings
    from dq.errors import DqError
    from dq.review.lint import lint as run_lint

    try:
        files = expand_contracts(paths or [Path("contracts")])
        count, problems = run_lint(files, load_settings(dbt_project=dbt_project).dbt_project, skip_dbt)
    except DqError as exc:
        err(f"dq lint: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    if output_format is LintFormat.json:
        typer.echo(
            json.dumps(
                {
                    "schema_version": "1",
                    "contracts": count,
                    "problems": [{"file": p.file, "key": p.key, "message": p.message} for p in problems],
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            typer.echo(str(problem))
        noun = "contract" if count == 1 else "contracts"
        typer.echo(f"dq lint: {count} {noun}, {len(problems)} problem{'' if len(problems) == 1 else 's'}")
    raise typer.Exit(int(ExitCode.NOT_VALIDATED if problems else ExitCode.OK))
