"""`dq export odcs|pandera|gx CONTRACT [--out FILE]`: a contract in another format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dq.commands.options import DbOpt, DbtOpt, err
from dq.exit_codes import ExitCode

if TYPE_CHECKING:
    from dq.config import Settings

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
    from dq.contract.model import load_contract
    from dq.errors import DqError
    from dq.formats.odcs import export_contract

    try:
        _emit(export_contract(load_contract(contract)), out)
    except (DqError, OSError) as exc:
        err(f"dq: could not export: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None


@app.command("gx")
def gx(contract: ContractArg, out: OutOpt = None, db: DbOpt = None, dbt_project: DbtOpt = None) -> None:
    """A GX 1.x expectation suite (JSON), bound to the dataset's column types; checks GX cannot
    state are listed with why (stderr and the suite's meta.dq_not_exported)."""
    from dq.gx.export import export_suite

    _export_bound(export_suite, contract, out, db, dbt_project)


@app.command("pandera")
def pandera(contract: ContractArg, out: OutOpt = None, db: DbOpt = None, dbt_project: DbtOpt = None) -> None:
    """Python code building Pandera schemas for pandas and polars (`pandas_schema()`,
    `polars_schema()`), one named check per dq check; checks with no equivalent are listed with why."""
    from dq.engines.pandera_export import export_module

    _export_bound(export_module, contract, out, db, dbt_project)


def _export_bound(
    export: Callable[[Path, Settings], tuple[str, list[tuple[str, str]]]],
    contract: Path,
    out: Path | None,
    db: Path | None,
    dbt_project: Path | None,
) -> None:
    """An export of the checks bound to the dataset (dq/formats/bound.py): written, then what was
    left out listed on stderr."""
    from dq.config import load_settings
    from dq.errors import DqError

    try:
        text, skipped = export(contract, load_settings(db, dbt_project))
        _emit(text, out)
    except (DqError, OSError) as exc:
        err(f"dq: could not export: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    for name, why in skipped:
        err(f"dq: not exported: {name}: {why}")
