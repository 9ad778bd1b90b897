"""Writers that turn a RunResult into something people or CI read. They never exit."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from dq.result import CheckResult, ContractResult, RunResult, Status

STYLE = {Status.passed: "green", Status.warned: "yellow", Status.failed: "bold red", Status.error: "bold magenta"}
MARK = {Status.passed: "PASS", Status.warned: "WARN", Status.failed: "FAIL", Status.error: "ERROR"}


def to_json(run: RunResult) -> str:
    return json.dumps(run.to_dict(), indent=2, default=str)


def render_console(run: RunResult, console: Console) -> None:
    """A red/green table per contract, then failing samples, then the verdict line."""
    for contract in run.contracts:
        _render_contract(contract, console)
    verdict = run.status
    summary = Text(f"{MARK[verdict]}: ", style=STYLE[verdict])
    summary.append(_verdict_words(run))
    console.print(summary)
    if run.result_path:
        console.print(f"result: {run.result_path}", style="dim")


def _render_contract(contract: ContractResult, console: Console) -> None:
    title = f"{contract.contract} {contract.version or ''} on {contract.relation or contract.dataset or '?'}"
    if contract.error is not None:
        console.print(Text(f"ERROR {title.strip()}", style=STYLE[Status.error]))
        console.print(Text(f"  {contract.error}"))
        return
    table = RichTable(title=title, title_justify="left", show_lines=False)
    for header in ("status", "check", "severity", "engine", "expected", "observed", "failing rows"):
        table.add_column(header, overflow="fold")
    for check in contract.checks:
        table.add_row(
            Text(MARK[check.status], style=STYLE[check.status]),
            check.name,
            check.severity,
            check.engine,
            check.expected,
            _observed(check),
            "" if check.failing_rows is None else f"{check.failing_rows:,}",
        )
    console.print(table)
    for check in contract.checks:
        if check.status is not Status.passed and (check.message or check.samples):
            console.print(Text(f"  {MARK[check.status]} {check.name}: {check.message}", style=STYLE[check.status]))
            for row in check.samples:
                console.print(f"    {_row(row)}", markup=False)


def _observed(check: CheckResult) -> str:
    value = check.observed
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _row(row: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in row.items())


def _verdict_words(run: RunResult) -> str:
    counts = {status: 0 for status in Status}
    errors = 0
    for contract in run.contracts:
        errors += contract.error is not None
        for check in contract.checks:
            counts[check.status] += 1
    parts = [f"{counts[s]} {s.value}" for s in Status if counts[s]]
    if errors:
        parts.append(f"{errors} contract(s) could not be validated")
    verdict = {
        Status.passed: "the data passes its contracts",
        Status.warned: "the data passes its contracts, with warnings",
        Status.failed: "blocked: error-severity checks failed",
        Status.error: "blocked: could not validate",
    }[run.status]
    return f"{verdict} ({', '.join(parts) or 'no checks'})"
