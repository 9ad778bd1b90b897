"""Progress while contracts are validated: for the person watching, never part of a report.

On a terminal a rich progress bar (transient: it disappears before the report prints); elsewhere
(CI logs, pipes) one plain line per finished contract on stderr, so logs stay greppable and
stdout stays the report (`--format json > out.json` keeps working).

The runner calls `started(path)` / `finished(result)`; it never prints itself.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from dq.checks.result import ContractResult


class LineProgress:
    """'dq: validating contracts/x.yml ... passed (1.2 s)' per contract, on stderr."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream

    def started(self, path: str) -> None:
        pass

    def finished(self, result: ContractResult) -> None:
        stream = self.stream or sys.stderr
        try:
            stream.write(f"dq: validating {result.path} ... {result.status.value} ({result.duration_s:.1f} s)\n")
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not cost the verdict
            pass


class RichProgress:
    """A transient rich progress bar over the contracts, with the one being validated named."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("validating", total=total)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def started(self, path: str) -> None:
        self._progress.update(self._task, description=f"validating {path}")

    def finished(self, result: ContractResult) -> None:
        self._progress.advance(self._task)
