"""A Markdown summary fit for a pull-request comment or a GitHub Actions job summary.

Short on purpose: the verdict, one line of counts, a table of contracts, and only the checks that
did not pass (with the first failing sample). Passing checks are counted, not listed: a reviewer
reads what blocks. `append_step_summary` adds it to `$GITHUB_STEP_SUMMARY` when that is set.
"""

from __future__ import annotations

import os
from pathlib import Path

from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.reports.text import MARK, check_counts, contract_title, failing_rows_text, observed_text, row_text

ICON = {Status.passed: "✅", Status.warned: "⚠️", Status.failed: "❌", Status.error: "🛑"}
VERDICT = {
    Status.passed: "passed",
    Status.warned: "passed with warnings",
    Status.failed: "blocked: error-severity checks failed",
    Status.error: "blocked: could not validate",
}
MAX_ROWS = 30  # non-passing checks listed per contract; GitHub caps a job summary at 1 MiB
MAX_CELL = 120
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def to_markdown(run: RunResult) -> str:
    counts = check_counts(run)
    lines = [
        f"### {ICON[run.status]} dq: {VERDICT[run.status]}",
        "",
        f"{_counts_line(counts)} in {len(run.contracts)} contract(s) · run `{run.run_id}`",
        "",
        "| contract | status | passed | warned | failed | error |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for contract in run.contracts:
        tally = contract.counts()
        lines.append(
            f"| {_cell(contract_title(contract))} | {ICON[contract.status]} {MARK[contract.status]} | "
            f"{tally['passed']} | {tally['warned']} | {tally['failed']} | {tally['error']} |"
        )
    for contract in run.contracts:
        lines.extend(_contract_section(contract))
    return "\n".join(lines) + "\n"


def append_step_summary(run: RunResult, environ: dict[str, str] | None = None) -> Path | None:
    """Append the summary to `$GITHUB_STEP_SUMMARY` (appended: other steps write there too).

    Returns the path written, or None when the variable is not set. Raises OSError.
    """
    target = (environ if environ is not None else os.environ).get(STEP_SUMMARY_ENV)
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as summary:
        summary.write(to_markdown(run) + "\n")
    return path


def _counts_line(counts: dict[Status, int]) -> str:
    parts = [f"**{counts[s]}** {s.value}" for s in Status if counts[s]]
    return " · ".join(parts) or "no checks"


def _contract_section(contract: ContractResult) -> list[str]:
    heading = f"#### {ICON[contract.status]} {_cell(contract_title(contract))}"
    if contract.error is not None:
        return ["", heading, "", f"Could not be validated: {_cell(contract.error)}"]
    shown = [c for c in contract.checks if c.status is not Status.passed]
    if not shown:
        return []
    lines = [
        "",
        heading,
        "",
        "| status | check | expected | observed | failing rows | why / first sample |",
        "|---|---|---|---|--:|---|",
    ]
    lines.extend(_check_row(check) for check in shown[:MAX_ROWS])
    if len(shown) > MAX_ROWS:
        lines.append(f"\n… and {len(shown) - MAX_ROWS} more; see the HTML or JSON report.")
    return lines


def _check_row(check: CheckResult) -> str:
    why = _cell(check.message)
    if check.samples:
        why = f"{why}<br>`{_cell(row_text(check.samples[0]), code=True)}`"
    return (
        f"| {ICON[check.status]} {MARK[check.status]} | `{check.name}` | {_cell(check.expected)} | "
        f"{_cell(observed_text(check))} | {failing_rows_text(check)} | {why} |"
    )


def _cell(text: str, code: bool = False) -> str:
    """One table cell: no newlines, pipes escaped, long text cut. Outside a code span `<`, `>` and
    `&` are escaped (GitHub would take `<tables: none>` for HTML and drop it); inside one, where
    entities are not decoded, a backtick would end the span early and becomes a quote."""
    flat = " ".join(str(text).split())
    flat = flat if len(flat) <= MAX_CELL else flat[: MAX_CELL - 1] + "…"
    flat = flat.replace("`", "'") if code else flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return flat.replace("|", "\\|")
