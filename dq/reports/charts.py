"""Small inline SVG charts for the HTML report: no JavaScript, no external assets.

Two shapes:
* bounds: a check with one observed number and bounds in its `expected` (mean, stddev, quantile,
  row count, distinct count, null fraction, freshness, a drift statistic) as a number line with
  the allowed band and the observed value marked;
* bins (the drift hook): a check whose `observed` is a mapping with "bins" (labels) and
  "observed" (and optionally "expected") lists of equal length is drawn as grouped bars. A drift
  check only has to put that mapping in `observed` for the page to chart it.

Charts are decoration: input a chart cannot read yields None, never an exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, TypeGuard

from dq.checks.result import CheckResult
from dq.checks.spec import ROW_KINDS, SCHEMA_KINDS
from dq.reports.text import value_text

Bounds = tuple[float | None, float | None]

_NUMBER = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
# The wording of dq.checks.spec.CheckSpec.expectation(); tests/test_reports.py round-trips real specs.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"between {_NUMBER} and {_NUMBER}$"), "both"),
    (re.compile(rf">= {_NUMBER}$"), "low"),
    (re.compile(rf"<= {_NUMBER}$"), "high"),
    (re.compile(rf"at most {_NUMBER}h old$"), "high"),
]
WIDTH, HEIGHT, PAD = 420, 64, 16
OK, BAD, INK, BAND = "#1a7f37", "#cf222e", "#57606a", "#dafbe1"


def chart_for(check: CheckResult) -> str | None:
    """The SVG for a check, or None when it has nothing to chart."""
    observed = check.observed
    if isinstance(observed, Mapping) and "bins" in observed:
        return bins_chart(observed)
    if check.kind in ROW_KINDS or check.kind in SCHEMA_KINDS or not _is_number(observed):
        return None  # row-level findings are rows (see the samples), not a number to chart
    bounds = bounds_from_expected(check.expected)
    if bounds is None:
        return None
    return bounds_chart(float(observed), bounds, title=f"{check.name}: observed vs expected")


def bounds_from_expected(expected: str) -> Bounds | None:
    """(min, max) from 'between 1 and 3', '>= 1000', '<= 0.05', 'p50 between 40 and 70', '... at most 36h old'."""
    for pattern, shape in _PATTERNS:
        match = pattern.search(expected)
        if match is None:
            continue
        numbers = [float(g) for g in match.groups()]
        if shape == "both":
            return numbers[0], numbers[1]
        return (numbers[0], None) if shape == "low" else (None, numbers[0])
    return None


def bounds_chart(observed: float, bounds: Bounds, title: str = "") -> str:
    """A number line: the allowed band in green, the observed value as a dot (red when outside)."""
    low, high = bounds
    finite = [v for v in (low, high, observed) if v is not None and math.isfinite(v)]
    left, right = min(finite), max(finite)
    span = (right - left) or abs(right) or 1.0
    left, right = left - span * 0.15, right + span * 0.15
    plot = WIDTH - 2 * PAD

    def x(value: float) -> float:
        if math.isnan(value):
            return WIDTH - PAD
        value = min(max(value, left), right)  # ±inf pins to the edge
        return round(PAD + (value - left) / (right - left) * plot, 1)

    inside = (low is None or observed >= low) and (high is None or observed <= high)
    band_left, band_right = x(low if low is not None else left), x(high if high is not None else right)
    axis = HEIGHT - 22
    dot = OK if inside and math.isfinite(observed) else BAD
    parts = [
        _open(WIDTH, HEIGHT, title),
        f'<rect x="{band_left}" y="{axis - 12}" width="{round(band_right - band_left, 1)}" height="24" fill="{BAND}"/>',
        f'<line x1="{PAD}" y1="{axis}" x2="{WIDTH - PAD}" y2="{axis}" stroke="{INK}"/>',
    ]
    for value, anchor in ((low, "end"), (high, "start")):
        if value is not None:
            parts.append(f'<line x1="{x(value)}" y1="{axis - 12}" x2="{x(value)}" y2="{axis + 12}" stroke="{OK}"/>')
            parts.append(_text(x(value), HEIGHT - 2, value_text(value), anchor, OK))
    parts.append(f'<circle cx="{x(observed)}" cy="{axis}" r="6" fill="{dot}"/>')
    parts.append(_text(x(observed), 12, f"observed {value_text(observed)}", "middle", dot))
    return "".join(parts) + "</svg>"


def bins_chart(data: Mapping[str, Any]) -> str | None:
    """Grouped bars per bin: expected (grey) next to observed (red). None if the data is malformed."""
    labels, observed, expected = data.get("bins"), data.get("observed"), data.get("expected")
    if not isinstance(labels, Sequence) or not _numbers(observed) or len(labels) != len(observed):
        return None
    if expected is not None and (not _numbers(expected) or len(expected) != len(observed)):
        return None
    top = max([*observed, *(expected or [])]) or 1.0
    slot = (WIDTH - 2 * PAD) / len(observed)
    base, height = 96, 80
    parts = [_open(WIDTH, base + 18, "distribution by bin: expected vs observed")]
    for i, label in enumerate(labels):
        left = PAD + i * slot
        bars = [(expected[i], "#8c959f")] if expected is not None else []
        bars.append((observed[i], BAD))
        width = slot * 0.8 / len(bars)
        for j, (value, colour) in enumerate(bars):
            h = round(value / top * height, 1)
            parts.append(
                f'<rect x="{round(left + slot * 0.1 + j * width, 1)}" y="{round(base - h, 1)}" '
                f'width="{round(width, 1)}" height="{h}" fill="{colour}"/>'
            )
        parts.append(_text(round(left + slot / 2, 1), base + 14, str(label), "middle", INK))
    parts.append(f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="{INK}"/>')
    legend = [("observed", BAD)] if expected is None else [("expected", "#8c959f"), ("observed", BAD)]
    for i, (label, colour) in enumerate(legend):
        y = 8 + i * 12
        parts.append(f'<rect x="{WIDTH - 80}" y="{y - 7}" width="8" height="8" fill="{colour}"/>')
        parts.append(_text(WIDTH - 68, y, label, "start", INK))
    return "".join(parts) + "</svg>"


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def _text(x: float, y: float, text: str, anchor: str, colour: str) -> str:
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" fill="{colour}" font-size="11" '
        f'font-family="sans-serif">{escape(text)}</text>'
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(values: Any) -> TypeGuard[Sequence[float]]:
    return isinstance(values, Sequence) and bool(values) and all(_is_number(v) and v >= 0 for v in values)
