"""Errors that stop a validation before a verdict can be reached.

Every one of them means "could not validate": the CLI maps them all to exit code 3, so
a gate never passes because something upstream of the checks went wrong.
"""

from __future__ import annotations


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
