"""One contract at a time, whatever the backend: a result for every path, an error instead of a raise.

Both runners (dq/run/runner.py on DuckDB, dq/spark/run.py on Spark) walk the contract files the
same way: each gets its `ContractResult` before anything can fail, any exception becomes that
result's error (a DqError's message as it is, anything else named as an internal error), its
duration is recorded and progress is told. Kept in one place so a change to what a failure looks
like reaches both backends.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from dq.checks.result import ContractResult, RunResult
from dq.errors import DqError


def new_run_id() -> str:
    """A run's id: sortable by start time, unique across processes."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def now() -> str:
    """The current time as results record it (UTC, to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Progress(Protocol):
    """Told when each contract starts and ends (dq/reports/progress.py); the runner never prints."""

    def started(self, path: str) -> None: ...

    def finished(self, result: ContractResult) -> None: ...


def each_contract(
    run: RunResult,
    contract_paths: Sequence[str | Path],
    check_one: Callable[[str | Path, ContractResult], None],
    progress: Progress | None = None,
    where: str = "",
) -> None:
    """Call `check_one(path, result)` for every path and append each result to `run`; `where`
    (" on Spark") is added to an internal error's message."""
    for path in contract_paths:
        result = ContractResult(contract=Path(path).stem, path=str(path), started_at=now())
        started = time.perf_counter()
        if progress is not None:
            progress.started(str(path))
        try:
            check_one(path, result)
        except DqError as exc:
            result.error = str(exc)
        except Exception as exc:
            result.error = f"internal error while validating {path}{where}: {type(exc).__name__}: {exc}"
        result.duration_s = round(time.perf_counter() - started, 3)
        run.contracts.append(result)
        if progress is not None:
            progress.finished(result)
