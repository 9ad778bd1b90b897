"""Validation engines: each turns check specs into results by really running a library.

An engine claims the spec kinds it can check (`supports`) and, for the specs it is given,
returns exactly one `CheckResult` per spec, in order. It reports verdicts, failing-row counts
(row-level kinds) and observed values (aggregate and schema kinds); the runner adds failing-row
samples afterwards with one LIMITed SQL query per failed check, the same way for every engine.
An engine never drops a spec: what it cannot run comes back as a result with status `error`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dq.checks.result import CheckResult
from dq.checks.spec import CheckSpec
from dq.data.source import Table


class Engine(Protocol):
    name: str

    def supports(self, spec: CheckSpec) -> bool:
        """Can this engine check `spec` correctly (with a failing case that really fails)?"""
        ...

    def run(self, specs: Sequence[CheckSpec], table: Table) -> list[CheckResult]:
        """Check `specs` against `table`; one result per spec, same order."""
        ...
