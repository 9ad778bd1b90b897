"""Writers that turn a RunResult into something people or CI read. They never decide exit codes.

One module per format: console (rich table), json, junit, markdown, html; `render` picks one.
This package imports no writer until it is asked for one, so `dq --help` stays instant.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from dq.atomic import write_atomically

if TYPE_CHECKING:
    from rich.console import Console

    from dq.checks.result import RunResult


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"
    markdown = "markdown"
    html = "html"


@dataclass(frozen=True)
class ReportTarget:
    """One `--output FORMAT:PATH`."""

    format: ReportFormat
    path: Path


_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9_-]+):(.*)$")


def parse_target(text: str) -> ReportTarget:
    """'junit:reports/dq.xml' -> (junit, reports/dq.xml); a bare path is JSON (the original meaning).

    A word before the first ':' is a format, so a typo ('xml:dq.xml') is an error instead of a
    JSON file named 'xml:dq.xml'. Raises ValueError with what is allowed.
    """
    match = _PREFIX.match(text)
    if match is None:
        if not text:
            raise ValueError("empty --output; give PATH or FORMAT:PATH")
        return ReportTarget(ReportFormat.json, Path(text))
    name, path = match.groups()
    if name.lower() not in ReportFormat.__members__:
        raise ValueError(
            f"unknown report format {name!r} in {text!r}; use FORMAT:PATH with FORMAT one of "
            f"{', '.join(ReportFormat)}, or a bare PATH for JSON"
        )
    if not path:
        raise ValueError(f"no path after {name}: in {text!r}")
    return ReportTarget(ReportFormat(name.lower()), Path(path))


def render(run: RunResult, fmt: ReportFormat) -> str:
    """The report as text, for stdout or a file."""
    match fmt:
        case ReportFormat.json:
            from dq.reports.json import to_json

            return to_json(run)
        case ReportFormat.junit:
            from dq.reports.junit import to_junit

            return to_junit(run)
        case ReportFormat.markdown:
            from dq.reports.markdown import to_markdown

            return to_markdown(run)
        case ReportFormat.html:
            from dq.reports.html import to_html

            return to_html(run)
        case ReportFormat.table:
            return render_table_text(run)


def render_table_text(run: RunResult) -> str:
    """The console table without colours, as a file would hold it."""
    from rich.console import Console

    buffer = io.StringIO()
    render_console(run, Console(file=buffer, width=160, no_color=True, highlight=False, soft_wrap=False))
    return buffer.getvalue()


def render_console(run: RunResult, console: Console) -> None:
    from dq.reports.console import render_console as render_rich

    render_rich(run, console)


def to_json(run: RunResult) -> str:
    return render(run, ReportFormat.json)


def write_report(run: RunResult, target: ReportTarget) -> None:
    """Write atomically (temp file + rename): a CI step never uploads half a report. Raises OSError."""
    write_atomically(target.path, render(run, target.format))
