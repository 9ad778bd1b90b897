"""`dq import odcs FILE [--out DIR]`: contracts from another format (ODCS v3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import err
from dq.exit_codes import ExitCode

app = typer.Typer(help="Read contracts written in another format (ODCS v3) as dq contracts.")

OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Directory to write <contract>.yml into. Default: stdout (one schema object only)."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing contract files.")]


@app.command("odcs")
def odcs(
    file: Annotated[Path, typer.Argument(help="An ODCS v3 YAML file.", show_default=False)],
    out: OutOpt = None,
    force: ForceOpt = False,
) -> None:
    """One dq contract per ODCS schema object. Every property of the file is enforced, reported as
    documentation (nothing to check), or an error naming it (exit 3): nothing is dropped silently."""
    from dq.errors import DqError
    from dq.formats.odcs import import_file

    try:
        imported = import_file(file)
        if out is None and len(imported.contracts) > 1:
            raise DqError(f"{file}: {len(imported.contracts)} schema objects make as many contracts: pass --out DIR")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            targets = [out / f"{contract['contract']}.yml" for contract in imported.contracts]
            existing = [str(t) for t in targets if t.exists() and not force]
            if existing:
                raise DqError(f"{', '.join(existing)} exists. Fix: pass --force to overwrite, or another --out")
            for index, target in enumerate(targets):
                target.write_text(_header(file, imported.documentation) + imported.yaml(index), encoding="utf-8")
                err(f"dq: wrote {target}")
        else:
            typer.echo(_header(file, imported.documentation) + imported.yaml(), nl=False)
    except (DqError, OSError) as exc:
        err(f"dq: could not import: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    if imported.documentation:
        err(f"dq: not checked (documentation only): {', '.join(imported.documentation)}")


def _header(file: Path, documentation: list[str]) -> str:
    lines = [f"# imported from ODCS {file.name} by `dq import odcs`"]
    if documentation:
        lines.append(f"# not checked (documentation only): {', '.join(documentation)}")
    return "\n".join(lines) + "\n"
