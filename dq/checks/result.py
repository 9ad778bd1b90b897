"""Validation results and their roll-up.

Statuses order by how loudly they block: error (could not validate) > failed (an error-severity
check failed) > warned (only warn-severity checks failed) > passed. Only `passed` and `warned`
let a gate through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dq.checks.kinds import KINDS, Finding
from dq.checks.segments import segmented_reason
from dq.checks.spec import CheckSpec
from dq.contract.model import Severity

RESULT_SCHEMA_VERSION = "1"
SAMPLE_LIMIT = 5


class Status(StrEnum):
    passed = "passed"
    warned = "warned"
    failed = "failed"
    error = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def blocks(self) -> bool:
        return self in (Status.failed, Status.error)


_RANK = {Status.passed: 0, Status.warned: 1, Status.failed: 2, Status.error: 3}


def roll_up(statuses: Iterable[Status]) -> Status:
    """The worst status wins; no statuses at all is an error (nothing was checked)."""
    worst: Status | None = None
    for status in statuses:
        if worst is None or status.rank > worst.rank:
            worst = status
    return Status.error if worst is None else worst


def outcome(ok: bool, severity: Severity) -> Status:
    """A check that held passes; one that did not fails, or warns if its severity is warn."""
    if ok:
        return Status.passed
    return Status.warned if severity is Severity.warn else Status.failed


@dataclass
class CheckResult:
    """What one check found. `failing_rows` is None for aggregate and schema checks."""

    name: str
    kind: str
    columns: tuple[str, ...]
    severity: str
    engine: str
    status: Status
    expected: str
    observed: Any = None
    failing_rows: int | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    rows_in_scope: int | None = None  # the denominator of a tolerated rule's failing fraction

    @classmethod
    def from_spec(cls, spec: CheckSpec, engine: str, status: Status, **found: Any) -> CheckResult:
        return cls(
            name=spec.name,
            kind=spec.kind.value,
            columns=spec.columns,
            severity=spec.severity.value,
            engine=engine,
            status=status,
            expected=spec.expectation(),
            **found,
        )

    @classmethod
    def errored(cls, spec: CheckSpec, engine: str, message: str) -> CheckResult:
        return cls.from_spec(spec, engine, Status.error, message=message)


@dataclass
class ContractResult:
    """One contract validated against one dataset."""

    contract: str
    path: str
    version: str | None = None
    dataset: str | None = None
    relation: str | None = None
    engine: str | None = None
    started_at: str | None = None
    duration_s: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    # `dq gate --quarantine`: rows checked, kept and set aside, the bound and both files
    quarantine: dict[str, Any] | None = None

    @property
    def status(self) -> Status:
        if self.error is not None:
            return Status.error
        return roll_up(check.status for check in self.checks)

    def counts(self) -> Mapping[str, int]:
        tally = dict.fromkeys((s.value for s in Status), 0)
        for check in self.checks:
            tally[check.status.value] += 1
        return tally


@dataclass
class RunResult:
    """Everything one `dq validate` / `dq gate` invocation found."""

    run_id: str
    started_at: str
    contracts: list[ContractResult] = field(default_factory=list)
    finished_at: str | None = None
    result_path: str | None = None

    @property
    def status(self) -> Status:
        return roll_up(c.status for c in self.contracts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": RESULT_SCHEMA_VERSION,
            "run_id": self.run_id,
            "status": self.status.value,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "contracts": [_contract_dict(c) for c in self.contracts],
        }


def _contract_dict(contract: ContractResult) -> dict[str, Any]:
    """A contract's JSON; `quarantine` only when the gate quarantined (older readers see no change)."""
    found = {**asdict(contract), "status": contract.status.value, "counts": dict(contract.counts())}
    if found["quarantine"] is None:
        del found["quarantine"]
    return found


def failing_fraction(failing: int, rows: int) -> float | None:
    """A tolerated rule's observed failing share, for reading (the verdict compared integers)."""
    return None if rows == 0 else failing / rows


def _share_text(failing: int, rows: int) -> str:
    return f"{failing:,} of {rows:,} rows ({failing / rows:.4%})" if rows else f"{failing:,} of 0 rows"


def tolerated_message(spec: CheckSpec, failing: int, rows: int) -> str:
    """Why a rule with failing rows still passed: they are within its tolerance."""
    return f"within tolerance: {_share_text(failing, rows)} fail, {spec.expectation()}"


def failure_message(spec: CheckSpec, failing_rows: int | None, observed: Any, rows_in_scope: int | None = None) -> str:
    """The one-line reason a check did not hold, worded the same whichever engine ran it (each
    kind's wording is a fact of its row in dq.checks.kinds). A tolerated rule's rows read as a
    share of the rows in its scope ('12 of 1,000 rows (1.2000%)')."""
    if spec.segments:
        return segmented_reason(spec.kind, observed, spec.expectation())
    facts = KINDS[spec.kind]
    rows = None if failing_rows is None else f"{failing_rows:,} row{'' if failing_rows == 1 else 's'}"
    if failing_rows is not None and rows_in_scope is not None:
        rows = _share_text(failing_rows, rows_in_scope)
    finding = Finding(spec.args, spec.columns, rows, observed, spec.expectation())
    if spec.is_row_level and rows is not None:
        allowed = spec.allowed_failing
        if rows_in_scope is not None and allowed is not None:
            return f"{facts.rows_reason(finding)}: more than the {float(allowed):.4%} the tolerance allows"
        return facts.rows_reason(finding)
    return facts.reason(finding)
