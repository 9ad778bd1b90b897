"""Exit codes: a stable interface for CI scripts. Every code but OK blocks."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dq.checks.result import Status


class ExitCode(IntEnum):
    OK = 0  # passed (warnings allowed)
    CHECKS_FAILED = 1  # error-severity checks failed
    USAGE = 2  # bad command line (click's convention)
    NOT_VALIDATED = 3  # bad contract, missing table/column, unreadable or locked database, engine crash


def exit_code_for(status: Status) -> ExitCode:
    from dq.checks.result import Status

    return {
        Status.passed: ExitCode.OK,
        Status.warned: ExitCode.OK,
        Status.failed: ExitCode.CHECKS_FAILED,
        Status.error: ExitCode.NOT_VALIDATED,
    }[status]
