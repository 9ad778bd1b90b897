"""The `dq` command line: composes the commands in `dq/commands/`.

Only the commands turn results into exit codes (see `dq/exit_codes.py`): 0 passed (warnings
allowed), 1 error-severity checks failed, 2 usage error, 3 could not validate. Heavy libraries
(GX, dbt, Pandera) are imported inside the commands, so `dq --help` stays instant.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from dq.commands import gate, validate

app = typer.Typer(
    help="Data contracts that gate ML training: validate dbt models in DuckDB with Pandera and GX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(validate.validate)
app.command(cls=gate.GateCommand)(gate.gate)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="dq")
