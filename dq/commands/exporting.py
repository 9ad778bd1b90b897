"""`dq export odcs|pandera|gx CONTRACT [--out FILE]`: a contract in another format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import err
from dq.exit_codes import ExitCode

app = typer.Typer(help="Write a contract in another format: ODCS v3, a Pandera schema, a GX suite.")

ContractArg = Annotated[Path, typer.Argument(help="A dq contract file.", show_default=False)]
OutOpt = Annotated[Path | None, typer.Option("--out", help="File to write. Default: stdout.")]


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    err(f"dq: wrote {out}")


@app.command("odcs")
def odcs(contract: ContractArg, out: OutOpt = None) -> None:
    """ODCS v3 YAML: natively what ODCS states, the rest under customProperties (dq.<key>), so that
    `dq import odcs` gives back a contract with the same checks."""
    from dq.contract import load_contract
    from dq.errors import DqError
    from dq.formats.odcs import export_contract

    try:
        _emit(export_contract(load_contract(contract)), out)
    except (DqError, OSError) as exc:
        err(f"dq: could not export: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
