"""The terminal report: a red/green rich table per contract, failing samples, a verdict line."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from dq.checks.result import ContractResult, RunResult, Status
from dq.reports.text import MARK, contract_title, failing_rows_text, observed_text, row_text, verdict_words

STYLE = {Status.passed: "green", Status.warned: "yellow", Status.failed: "bold red", Status.error: "bold magenta"}


SAMPLE_FIELDS = 8  # fields of a sample row shown on the terminal; the JSON result has them all


def render_console(run: RunResult, console: Console) -> None:
    """A red/green table per contract, then failing samples, then the verdict line."""
    for contract in run.contracts:
        _render_contract(contract, console)
    summary = Text(f"{MARK[run.status]}: ", style=STYLE[run.status])
    summary.append(verdict_words(run))
    console.print(summary)
    if run.result_path:
        console.print(f"result: {run.result_path}", style="dim")


def _render_contract(contract: ContractResult, console: Console) -> None:
    title = contract_title(contract)
    if contract.error is not None:
        console.print(Text(f"ERROR {title}", style=STYLE[Status.error]))
        console.print(Text(f"  {contract.error}"))
        return
    table = RichTable(title=title, title_justify="left", show_lines=False)
    for header in ("status", "check", "severity", "engine", "expected", "observed", "failing rows"):
        table.add_column(header, overflow="fold")
    for check in contract.checks:
        table.add_row(
            Text(MARK[check.status], style=STYLE[check.status]),
            # Text, never markup: a regex such as `^[a-z]+$` or a column `[x]` is shown as written
            Text(check.name),
            Text(str(check.severity)),
            Text(str(check.engine)),
            Text(str(check.expected)),
            Text(str(observed_text(check))),
            Text(str(failing_rows_text(check))),
        )
    console.print(table)
    for check in contract.checks:
        if check.status is not Status.passed and (check.message or check.samples):
            console.print(Text(f"  {MARK[check.status]} {check.name}: {check.message}", style=STYLE[check.status]))
            for row in check.samples:
                console.print(f"    {row_text(row, limit=SAMPLE_FIELDS)}", markup=False)
