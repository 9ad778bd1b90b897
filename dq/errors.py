"""Errors that stop a validation before a verdict can be reached.

Every one of them means "could not validate": the CLI maps them all to exit code 3, so
a gate never passes because something upstream of the checks went wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class DqError(Exception):
    """Base class: something kept dq from validating. Always blocks."""


class ContractError(DqError):
    """A contract file is missing, unparsable or invalid. Names the file, key path and fix."""


class SourceError(DqError):
    """The database, table or dbt manifest could not be read."""


class EngineError(DqError):
    """A validation engine (Pandera, GX) crashed or could not run a check."""


class SnapshotError(DqError):
    """A trusted snapshot could not be written, or does not match its fingerprint: never train on it."""


class GateError(DqError):
    """Raised by the Python pre-check when input data does not pass its contract."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


# Messages name the setting the way the caller gives it: `--dbt-project DIR` on the command line,
# `dbt_project=` in Python (dq.api sets the interface for the duration of a call).
_INTERFACE: ContextVar[str] = ContextVar("dq_interface", default="cli")
_SPELLING = {"db": ("--db FILE", "db="), "dbt_project": ("--dbt-project DIR", "dbt_project=")}


def option(name: str) -> str:
    """`option("dbt_project")` -> "--dbt-project DIR" (command line) or "dbt_project=" (Python API)."""
    cli, python = _SPELLING[name]
    return python if _INTERFACE.get() == "python" else cli


@contextmanager
def python_interface() -> Iterator[None]:
    token = _INTERFACE.set("python")
    try:
        yield
    finally:
        _INTERFACE.reset(token)
