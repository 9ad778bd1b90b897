"""The `dq` command line: composes the commands in `dq/commands/`.

Only the commands turn results into exit codes (see `dq/exit_codes.py`): 0 passed (warnings
allowed), 1 error-severity checks failed, 2 usage error, 3 could not validate. Heavy libraries
(GX, dbt, Pandera, DuckDB) are imported inside the commands, so `dq --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from dq.commands import (
    dbt,
    diff,
    docs,
    exporting,
    gate,
    history,
    importing,
    init,
    lint,
    profile,
    schema,
    validate,
)

app = typer.Typer(
    help="Data contracts that gate ML training: validate dbt models in DuckDB with Pandera and GX.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain help: Typer's Rich help imports rich.markdown, pygments and attrs, over half of `dq --help`
    rich_markup_mode=None,
)
app.command()(validate.validate)
app.command(cls=gate.GateCommand)(gate.gate)
app.command()(docs.docs)
app.command(name="history")(history.history)
app.command(name="diff")(diff.diff)
app.command(name="lint")(lint.lint)
app.command()(profile.profile)
app.add_typer(dbt.app, name="dbt")
app.command(name="init")(init.init)
app.command(name="schema")(schema.schema)
app.add_typer(importing.app, name="import")
app.add_typer(exporting.app, name="export")


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="dq")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    if "great_expectations" in sys.modules:
        # After GX has run, DuckDB's nanobind bindings print dozens of "leaked instance" lines
        # while the interpreter tears down (GX keeps DuckDB type objects in module state). By
        # now every result is on disk (fsynced) and every connection closed, so skip the
        # teardown rather than bury the verdict under noise.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
