"""`dq history [CONTRACT] [--check NAME]`: what the gate saw, run after run.

Three views, from wide to narrow: the latest runs (with the training outcome the gate recorded);
every check of one contract with a sparkline of its observed values; one check's observed value,
run by run. The sparkline is there so a slow drift (a mean creeping towards its bound) is seen
before the run where it fails.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dq.commands.options import console, err
from dq.exit_codes import ExitCode

SPARKS = "▁▂▃▄▅▆▇█"


class HistoryFormat(StrEnum):
    table = "table"
    json = "json"


ContractArg = Annotated[
    str | None,
    typer.Argument(
        help="Contract name (as in its `contract:` key) or contract file. Omit for the latest runs.", show_default=False
    ),
]
CheckOpt = Annotated[
    str | None, typer.Option("--check", help="One check's observed values over time, e.g. income.mean.")
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")]
HistoryFormatOpt = Annotated[HistoryFormat, typer.Option("--format", help="What to print on stdout.")]
HistoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--history", help="Results history file. Default: env DQ_HISTORY, [tool.dq] history, .dq/history.duckdb."
    ),
]


def history(
    contract: ContractArg = None,
    check: CheckOpt = None,
    limit: LimitOpt = 20,
    output_format: HistoryFormatOpt = HistoryFormat.table,
    history_path: HistoryOpt = None,
) -> None:
    """Show recorded runs, a contract's checks over time, or one check's observed values over time."""
    from dq.config import load_settings
    from dq.errors import DqError
    from dq.run import history as store

    try:
        path = load_settings(history=history_path).history
        if contract is None:
            if check is not None:
                raise typer.BadParameter("--check needs a CONTRACT")
            rows, title = store.recent_runs(path, limit), "latest runs"
        else:
            name = _contract_name(contract)
            _require_known(store.known_names(path), name, "contract", "recorded contracts")
            if check is None:
                rows, title = store.contract_overview(path, name, limit), f"{name}: checks over the last {limit} runs"
            else:
                _require_known(store.known_names(path, name), check, "check", f"checks of {name}")
                rows, title = store.check_series(path, name, check, limit), f"{name} / {check}"
    except DqError as exc:
        err(f"dq history: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    if output_format is HistoryFormat.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        typer.echo("no runs recorded yet")
        return
    _print_table(title, rows, sparkline_column=contract is not None)


def _contract_name(argument: str) -> str:
    """A contract file stands for the name inside it; anything else is a name."""
    candidate = Path(argument)
    if candidate.suffix in (".yml", ".yaml") and candidate.is_file():
        from dq.contract.model import load_contract

        return load_contract(candidate).contract
    return argument


def _require_known(known: list[str], wanted: str, what: str, listing: str) -> None:
    if wanted not in known:
        err(f"dq history: no {what} {wanted!r} in the history ({listing}: {', '.join(known) or 'none'})")
        raise typer.Exit(int(ExitCode.USAGE))


def sparkline(values: list[float | None]) -> str:
    """'▁▂▄█' scaled between the series' min and max; a gap (' ') where nothing was observed."""
    numbers = [v for v in values if v is not None]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    span = high - low
    return "".join(
        " " if v is None else SPARKS[0 if span == 0 else round((v - low) / span * (len(SPARKS) - 1))] for v in values
    )


def _print_table(title: str, rows: list[dict[str, Any]], sparkline_column: bool) -> None:
    from rich.table import Table

    columns = [name for name in rows[0] if name not in ("series", "observed_value", "recorded_at")]
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name.replace("_", " "), overflow="fold")
    if sparkline_column:
        table.add_column("trend")
    trend = sparkline([row.get("observed_value") for row in rows]) if "observed_value" in rows[0] else ""
    for index, row in enumerate(rows):
        cells = [_cell(row[name], decode=name.endswith("observed")) for name in columns]
        if sparkline_column:
            # one check: a bar per run, the column reads top (oldest) to bottom (newest);
            # a contract: one sparkline per check, oldest to newest, left to right.
            cells.append(trend[index] if trend else sparkline(row.get("series") or []))
        table.add_row(*cells)
    console().print(table)


def _cell(value: Any, decode: bool = False) -> str:
    if decode and isinstance(value, str):
        value = json.loads(value)  # observed values are stored as JSON text
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
