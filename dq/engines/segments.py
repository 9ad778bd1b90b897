"""Per-segment measurements (`segments: [country]`): one grouped query per list of segment columns.

Every per-segment spec that groups by the same columns is measured in the same statement,
`SELECT <segment>, count(*), <metric>, ... FROM t GROUP BY <segment>`, with the metric
expressions of the whole-table checks (dq.checks.sql), so a segment's mean is the same Kahan sum
and a segment's deviation the same shifted one. The label's class counts per segment come from
DuckDB's `histogram()` in that same statement. Nothing but one row per segment leaves DuckDB.

A runaway segment column (an ID where a country was meant) is bounded: the query asks for at most
`max_segments + 1` groups, and more than `max_segments` is an error (the run could not
validate), never a silent truncation. pandera-batch judges the rows (a Pandera check per spec
over a frame of one row per segment); this module only measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from dq.checks.segments import segment_name
from dq.checks.spec import CheckKind, CheckSpec
from dq.checks.sql import mean_parts, metric_expression, quote_ident, scope_predicate
from dq.contract.model import DEFAULT_MAX_SEGMENTS
from dq.contract.types import column_family
from dq.data.source import Table
from dq.ml.stats import Measured, class_shares, label_classes


@dataclass(frozen=True)
class SegmentRow:
    """One segment: its name, its values as DuckDB prints them, its row count and the spec's raw
    measurement (a class-fraction check: its `Measured` shares)."""

    name: str
    values: dict[str, str | None]
    rows: int
    raw: Any


@dataclass
class Segmented:
    """A per-segment spec's segments, or why they could not be measured."""

    rows: list[SegmentRow] = field(default_factory=list)
    error: str | None = None


def measure_segments(specs: Sequence[CheckSpec], table: Table) -> list[Segmented]:
    """One `Segmented` per spec (each spec carries `segments`), one grouped query per segment list."""
    found = [Segmented() for _ in specs]
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, spec in enumerate(specs):
        groups.setdefault(spec.segments, []).append(index)
    for columns, indexes in groups.items():
        missing = [c for c in columns if c not in table.columns]
        if missing:
            for i in indexes:
                found[i].error = f"segment column {missing[0]!r} is not a column of {table.relation}"
            continue
        try:
            _grouped([specs[i] for i in indexes], [found[i] for i in indexes], table)
        except duckdb.Error:  # measure each spec alone, so the error lands on the spec that caused it
            for i in indexes:
                try:
                    _grouped([specs[i]], [found[i]], table)
                except duckdb.Error as exc:
                    found[i].error = f"DuckDB could not measure {specs[i].name} per segment: {_first_line(exc)}"
    return found


def _grouped(specs: Sequence[CheckSpec], into: Sequence[Segmented], table: Table) -> None:
    columns = specs[0].segments
    families = [column_family(table.columns[c]) for c in columns]
    keys = [_key(c, f) for c, f in zip(columns, families, strict=True)]
    limit = max(_most(spec) for spec in specs) + 1
    shifts = {i: f"__dq_shift_{i}" for i, spec in enumerate(specs) if _shifted(spec)}
    metrics = ", ".join(_metric(spec, table, shifts.get(i)) for i, spec in enumerate(specs))
    # a spec under a `where:` reports its segment's rows in scope, not every row of the segment
    scoped = [i for i, spec in enumerate(specs) if scope_predicate(spec) is not None]
    for i in scoped:
        metrics += f", count(*) FILTER (WHERE {scope_predicate(specs[i])})"
    source = f"{table.relation} AS __t"
    if shifts:
        # each segment's own smallest value, the shift its stddev is taken after (dq.checks.sql._stddev)
        windows = ", ".join(
            f"min({_shift_candidate(specs[i])}) OVER (PARTITION BY {', '.join(keys)}) AS {name}"
            for i, name in shifts.items()
        )
        source = f"(SELECT *, {windows} FROM {table.relation} AS __t) AS __t"
    query = (
        f"SELECT {', '.join(f'({k})::VARCHAR' for k in keys)}, count(*), {metrics} "
        f"FROM {source} GROUP BY {', '.join(keys)} LIMIT {limit}"
    )
    rows = table.connection.execute(query).fetchall()
    width = len(columns)
    seen = {i: _classes_seen(rows, width + 1 + i) for i, s in enumerate(specs) if _is_class_fraction(s)}
    rows_at = {i: width + 1 + len(specs) + k for k, i in enumerate(scoped)}
    for i, (spec, target) in enumerate(zip(specs, into, strict=True)):
        most = _most(spec)
        if len(rows) > most:
            target.error = (
                f"{spec.name}: ({', '.join(columns)}) has more than {most} segments (max_segments: {most}); "
                "raise the contract's `max_segments` or segment by a coarser column"
            )
            continue
        target.rows = sorted(
            (
                SegmentRow(
                    name=segment_name(columns, row[:width], families),
                    values=dict(zip(columns, row[:width], strict=True)),
                    rows=int(row[rows_at.get(i, width)]),
                    raw=_raw(spec, table, row[width + 1 + i], seen.get(i)),
                )
                for row in rows
            ),
            key=lambda r: r.name,
        )


def _most(spec: CheckSpec) -> int:
    return int(spec.args.get("max_segments") or DEFAULT_MAX_SEGMENTS)


def _key(column: str, family: str) -> str:
    """A segment column as it is grouped: text byte-wise (a COLLATE NOCASE 'de' and 'DE' are two
    segments, as dq counts label classes), ENUMs by their text, -0.0 as 0.0 (one group either
    way, but named after whichever came first)."""
    col = quote_ident(column)
    if family == "string":
        return f'{col} COLLATE "binary"'
    if family == "float":
        return f"(CASE WHEN {col} = 0 THEN abs({col}) ELSE {col} END)"
    return f"{col}::VARCHAR" if family == "enum" else col


def _metric(spec: CheckSpec, table: Table, shift: str | None = None) -> str:
    if _is_class_fraction(spec):
        labelled, shown = label_classes(table, spec)
        return f"histogram({shown}) FILTER (WHERE {labelled})"
    if spec.kind is CheckKind.mean and "exact_bounds" in spec.args:
        return mean_parts(spec)
    return metric_expression(spec, table.relation, shift)


def _shifted(spec: CheckSpec) -> bool:
    """A stddev: shifted per segment, by the segment's own smallest (finite) value."""
    family = column_family(str(spec.args.get("column_type", "")))
    return spec.kind is CheckKind.stddev and family in ("integer", "decimal", "float")


def _shift_candidate(spec: CheckSpec) -> str:
    """The values a segment's shift is the smallest of: a FLOAT/DOUBLE's finite ones (-inf would
    make every difference infinite)."""
    col = quote_ident(spec.columns[0])
    family = column_family(str(spec.args.get("column_type", "")))
    return f"CASE WHEN isfinite({col}) THEN {col} END" if family == "float" else col


def _is_class_fraction(spec: CheckSpec) -> bool:
    return spec.kind is CheckKind.label_class_fraction


def _classes_seen(rows: Sequence[tuple[Any, ...]], position: int) -> set[str]:
    return {str(name) for row in rows for name in (row[position] or {})}


def _raw(spec: CheckSpec, table: Table, value: Any, seen: set[str] | None) -> Any:
    if seen is None:
        return value
    counts = {str(name): int(n) for name, n in (value or {}).items()}
    shares: Measured = class_shares(table, spec, counts, seen)
    return shares


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
