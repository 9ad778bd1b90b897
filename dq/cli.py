"""The `dq` command line: composes the commands in `dq/commands/`.

Only the commands turn results into exit codes (see `dq/exit_codes.py`): 0 passed (warnings
allowed), 1 error-severity checks failed, 2 usage error, 3 could not validate. Heavy libraries
(GX, dbt, Pandera, DuckDB) are imported inside the commands, so `dq --help` stays instant.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
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
    """Console-script entry point: runs the command, then ends the process with its exit code."""
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="dq")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    if argv is None:  # as the `dq` command, not called from someone's Python process
        _exit_without_teardown(code)
    return code


def _exit_without_teardown(code: int) -> None:
    """End the process once the command is done, skipping the interpreter's teardown.

    Why: freeing every module and object at exit costs a whole command 0.1-0.7 s (dbt's manifest,
    Pandera, polars, DuckDB), more than some checks; and native libraries can misbehave in it
    (after GX has run, DuckDB's nanobind bindings print dozens of "leaked instance" lines). By
    now every result is on disk (fsynced) and every connection dq opened is closed. What exit
    still owes is done first: the streams flushed and the `atexit` handlers run (logging's
    flush, temporary directories, a Spark gateway). If a thread that is not a daemon is still
    alive, Python's own exit, which waits for it, is left to run instead; so is it under a
    profiler or tracer (pyinstrument, coverage), which writes its report after the program returns.
    """
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the exit code is all that is left to give
        pass
    atexit._run_exitfuncs()
    os._exit(code)
