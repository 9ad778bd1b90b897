"""Plain-text pieces every report shares, so a check reads the same in a terminal, a JUnit
message, a pull-request comment and an HTML page."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dq.checks.result import CheckResult, RunResult, Status

MARK = {Status.passed: "PASS", Status.warned: "WARN", Status.failed: "FAIL", Status.error: "ERROR"}

VERDICT = {
    Status.passed: "the data passes its contracts",
    Status.warned: "the data passes its contracts, with warnings",
    Status.failed: "blocked: error-severity checks failed",
    Status.error: "blocked: could not validate",
}


def check_counts(run: RunResult) -> dict[Status, int]:
    """How many checks ended in each status, over every contract of the run."""
    counts = dict.fromkeys(Status, 0)
    for contract in run.contracts:
        for check in contract.checks:
            counts[check.status] += 1
    return counts


def unvalidated(run: RunResult) -> int:
    """Contracts that could not be validated at all (bad contract, missing table, ...)."""
    return sum(contract.error is not None for contract in run.contracts)


def counts_words(run: RunResult) -> str:
    """'40 passed, 2 warned, 1 contract(s) could not be validated', or 'no checks'."""
    counts = check_counts(run)
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    if errors := unvalidated(run):
        parts.append(f"{errors} contract(s) could not be validated")
    return ", ".join(parts) or "no checks"


def verdict_words(run: RunResult) -> str:
    return f"{VERDICT[run.status]} ({counts_words(run)})"


def observed_text(check: CheckResult) -> str:
    """An observed value short enough for a table cell: floats to 4 significant digits."""
    return value_text(check.observed)


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, Mapping):
        return _mapping_text(value)
    return str(value)


def _float_text(value: float) -> str:
    """95000.5 -> '95,000.5', 2e4 -> '20,000', 0.31354 -> '0.3135': no exponents for the magnitudes
    people read in a data report."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if math.isfinite(value) and 1e4 <= abs(value) < 1e15:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _mapping_text(value: Mapping[str, Any]) -> str:
    """A binned (drift) observation in one cell: its scalar statistics and the number of bins;
    the bins themselves are for the HTML chart."""
    scalars = [f"{k}={value_text(v)}" for k, v in value.items() if not isinstance(v, list | tuple | Mapping)]
    bins = value.get("bins")
    if isinstance(bins, list | tuple):
        scalars.append(f"({len(bins)} bins)")
    return " ".join(scalars) or str(dict(value))


def row_text(row: Mapping[str, Any], limit: int | None = None) -> str:
    """A sample row as `key=value, ...` (repr, so '' and None stay distinguishable); with `limit`,
    only the first fields (a custom query's row can be a whole wide feature table)."""
    items = list(row.items())
    shown = ", ".join(f"{key}={value!r}" for key, value in items[:limit])
    hidden = len(items) - len(items[:limit])
    return f"{shown}, ... ({hidden} more columns in the JSON result)" if hidden else shown


def failing_rows_text(check: CheckResult) -> str:
    return "" if check.failing_rows is None else f"{check.failing_rows:,}"


def contract_title(contract: Any) -> str:
    """'churn_training_set 1.0.0 on main.training_set'."""
    where = contract.relation or contract.dataset
    return " ".join(p for p in (contract.contract, contract.version, "on" if where else None, where) if p)
