"""One self-contained HTML page per run: inline CSS and SVG, no scripts, no external assets, so
the page opens from a CI artifact, an e-mail attachment or an air-gapped machine alike.

Every contract and every check is on the page; within a contract the checks that did not pass
come first (worst first), each followed by its reason, failing samples and, for aggregate and
binned (drift) checks, a small chart of observed vs expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.reports.charts import chart_for
from dq.reports.text import (
    MARK,
    VERDICT,
    contract_title,
    counts_words,
    failing_rows_text,
    observed_text,
)

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;
color:#1f2328;background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
header.verdict{padding:16px 24px;color:#fff}
header.verdict h1{margin:0 0 4px;font-size:22px}
header.verdict p{margin:0;opacity:.92}
.bg-passed{background:#1a7f37}.bg-warned{background:#9a6700}.bg-failed{background:#cf222e}.bg-error{background:#8250df}
.badge{display:inline-block;min-width:44px;text-align:center;padding:1px 6px;border-radius:4px;font-weight:600;
font-size:12px;color:#fff}
section.contract{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:20px 0;padding:12px 16px}
section.contract h2{font-size:17px;margin:4px 0}
.meta{color:#57606a;margin:0 0 8px;font-size:12px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-size:12px;color:#57606a;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.name{font-family:ui-monospace,SFMono-Regular,Menlo,"DejaVu Sans Mono",monospace;font-weight:600}
tr.row-warned td{background:#fff8c5}tr.row-failed td{background:#ffebe9}tr.row-error td{background:#fbefff}
tr.detail td{background:#fff;padding:4px 8px 12px 64px}
.message{margin:2px 0 6px}
table.samples{width:auto;font-family:ui-monospace,monospace;font-size:12px;margin-top:4px}
table.samples th,table.samples td{border:1px solid #d0d7de;padding:2px 6px}
.error-box{background:#fbefff;border-left:4px solid #8250df;padding:8px 12px;white-space:pre-wrap}
svg.chart{display:block;margin:4px 0}
nav table{background:#fff;border:1px solid #d0d7de}
a{color:#0969da}
"""


def to_html(run: RunResult) -> str:
    title = f"dq {MARK[run.status]}: {VERDICT[run.status]}"
    body = [
        f'<header class="verdict bg-{run.status.value}"><h1>{escape(title)}</h1>',
        f"<p>{escape(counts_words(run))} · {len(run.contracts)} contract(s) · run {escape(run.run_id)}"
        f" · {escape(run.started_at)} → {escape(run.finished_at or '?')}</p></header>",
        "<main>",
        _overview(run.contracts),
        *(_contract(i, contract) for i, contract in enumerate(run.contracts, 1)),
        "</main>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _badge(status: Status) -> str:
    return f'<span class="badge bg-{status.value}">{MARK[status]}</span>'


def _overview(contracts: Iterable[ContractResult]) -> str:
    rows = []
    for i, contract in enumerate(contracts, 1):
        tally = contract.counts()
        cells = "".join(f'<td class="num">{tally[s.value]}</td>' for s in Status)
        rows.append(
            f'<tr><td>{_badge(contract.status)}</td><td><a href="#contract-{i}">{escape(contract_title(contract))}</a>'
            f"</td>{cells}</tr>"
        )
    head = "".join(f'<th class="num">{s.value}</th>' for s in Status)
    return (
        f"<nav><table><thead><tr><th></th><th>contract</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></nav>"
    )


def _contract(index: int, contract: ContractResult) -> str:
    meta = " · ".join(
        escape(str(part))
        for part in (
            contract.path,
            f"dataset {contract.dataset}" if contract.dataset else None,
            f"engine {contract.engine}" if contract.engine else None,
            f"{contract.duration_s:.2f} s",
        )
        if part
    )
    head = (
        f'<section class="contract" id="contract-{index}"><h2>{_badge(contract.status)} '
        f'{escape(contract_title(contract))}</h2><p class="meta">{meta}</p>'
    )
    if contract.error is not None:
        return f'{head}<div class="error-box">could not be validated: {escape(contract.error)}</div></section>'
    # worst first, otherwise in contract order (sorted() is stable)
    checks = sorted(contract.checks, key=lambda c: -c.status.rank)
    rows = "".join(_check(check) for check in checks)
    headers = "".join(
        f"<th{' class=num' if h == 'failing rows' else ''}>{h}</th>"
        for h in ("status", "check", "severity", "engine", "expected", "observed", "failing rows")
    )
    return f'{head}<table class="checks"><thead><tr>{headers}</tr></thead><tbody>{rows}</tbody></table></section>'


def _check(check: CheckResult) -> str:
    observed = "" if isinstance(check.observed, Mapping) else escape(observed_text(check))
    row = (
        f'<tr class="row-{check.status.value}"><td>{_badge(check.status)}</td>'
        f'<td class="name">{escape(check.name)}</td><td>{escape(check.severity)}</td>'
        f"<td>{escape(check.engine)}</td><td>{escape(check.expected)}</td><td>{observed}</td>"
        f'<td class="num">{failing_rows_text(check)}</td></tr>'
    )
    if check.status is Status.passed:
        return row
    detail = []
    if check.message:
        detail.append(f'<p class="message">{escape(check.message)}</p>')
    chart = chart_for(check)
    if chart:
        detail.append(chart)
    if check.samples:
        detail.append(_samples(check.samples))
    if not detail:
        return row
    return f'{row}<tr class="detail"><td colspan="7">{"".join(detail)}</td></tr>'


def _samples(samples: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in samples for key in row))
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(row.get(c)))}</td>" for c in columns) + "</tr>" for row in samples
    )
    return f'<table class="samples"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: Any) -> str:
    """NULL for None; an empty string or one with edge whitespace quoted, so it stays visible."""
    if value is None:
        return "NULL"
    if isinstance(value, str) and (value == "" or value.strip() != value):
        return repr(value)
    return str(value)
