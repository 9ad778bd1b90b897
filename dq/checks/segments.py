"""Per-segment checks (`segments: [country]`): how a segment is named, and why such a check failed.

A segment is one combination of the segment columns' values, as DuckDB prints them (`::VARCHAR`:
a DECIMAL keeps every digit it has, a TIMESTAMP_NS its nanoseconds; strings are grouped
byte-wise). A NULL is a segment of its own, named NULL. Text values are quoted the way SQL quotes
them (`country='DE'`, `name='O''Brien'`), numbers and booleans are not (`year=2024`).

A per-segment check's observed value (the JSON result's `observed`) is
`{"segments": checked, "failing": k, "failing_segments": [{"segment": "country='DE'",
"values": {"country": "DE"}, "rows": n, "observed": ...}, ...]}`, the failing segments in
segment-name order, every one of them (there are at most `max_segments`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dq.checks.kinds import CheckKind

# Listed in the one-line message; the JSON result lists every failing segment.
MESSAGE_SEGMENTS = 10
_UNQUOTED_FAMILIES = frozenset({"integer", "float", "decimal", "boolean"})
_METRIC_WORDS = {
    CheckKind.row_count: "row count",
    CheckKind.null_fraction: "null fraction",
    CheckKind.distinct_count: "distinct count",
    CheckKind.mean: "mean",
    CheckKind.stddev: "stddev",
    CheckKind.quantile: "quantile",
    CheckKind.label_class_fraction: "class shares",
}


def value_text(text: str | None, family: str) -> str:
    """One segment value as a report shows it: NULL, a bare number or boolean, or quoted text."""
    if text is None:
        return "NULL"
    if family in _UNQUOTED_FAMILIES:
        return text
    return "'" + text.replace("'", "''") + "'"


def segment_name(columns: Sequence[str], texts: Sequence[str | None], families: Sequence[str]) -> str:
    """`country='DE', device=NULL`."""
    return ", ".join(
        f"{column}={value_text(text, family)}" for column, text, family in zip(columns, texts, families, strict=True)
    )


def segmented_reason(kind: CheckKind, observed: Any, expected: str) -> str:
    """'2 of 5 segments (country) fail: country='DE': null fraction 0.12; country='FR': ...'."""
    if not isinstance(observed, Mapping):
        return f"could not be judged per segment (observed {observed!r}), expected {expected}"
    checked, failing = observed.get("segments", 0), list(observed.get("failing_segments", ()))
    if not checked:
        return f"no segments to check (the dataset has no rows), expected {expected}"
    metric = _METRIC_WORDS.get(kind, "value")
    parts = [f"{entry['segment']}: {metric} {_shown(entry['observed'])}" for entry in failing[:MESSAGE_SEGMENTS]]
    more = len(failing) - MESSAGE_SEGMENTS
    listed = "; ".join(parts) + (f"; and {more} more (every one in the JSON result)" if more > 0 else "")
    return f"{len(failing)} of {checked} segments fail (expected {expected}): {listed}"


def _shown(value: Any) -> str:
    if value is None:
        return "no value (no non-missing values, or a NaN or overflowing statistic)"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{name}: {_shown(share)}" for name, share in value.items()) + "}"
    return str(value)
