"""`dq profile`: write the reference profile that drift checks compare against."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dq.commands.options import DbOpt, DbtOpt, err
from dq.exit_codes import ExitCode

OutputArg = Annotated[Path, typer.Option("--output", "-o", help="Profile file to write (JSON), e.g. profiles/x.json.")]
ColumnOpt = Annotated[
    list[str] | None, typer.Option("--column", help="Profile only this column (repeatable). Default: every column.")
]


def profile(
    contract: Annotated[Path, typer.Argument(help="Contract whose dataset to profile.", show_default=False)],
    output: OutputArg,
    db: DbOpt = None,
    dbt_project: DbtOpt = None,
    column: ColumnOpt = None,
) -> None:
    """Profile a contract's dataset in DuckDB: the reference that `drift:` rules compare against.

    Quantile bins (numeric), top values (categorical), null fractions, row count, fingerprint.
    """
    from dq.config import load_settings
    from dq.contract.model import load_contract
    from dq.data.files import open_connection
    from dq.errors import DqError
    from dq.ml.profile import build_profile, write_profile
    from dq.run.runner import resolve_dataset

    try:
        settings = load_settings(db, dbt_project)
        loaded = load_contract(contract)
        connection = open_connection(settings, loaded)  # a DuckDB in memory for files without a database
        try:
            table = resolve_dataset(loaded.dataset, connection, settings, loaded)
            built = build_profile(connection, table, loaded, column)
        finally:
            connection.close()
        write_profile(built, output)
    except DqError as exc:
        err(f"dq: could not profile: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    kinds = [entry["kind"] for entry in built["columns"].values()]
    typer.echo(
        f"profiled {table.label}: {built['row_count']} rows, {kinds.count('numeric')} numeric and "
        f"{kinds.count('categorical')} categorical columns, fingerprint {built['fingerprint']['value']} -> {output}"
    )
