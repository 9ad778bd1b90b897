"""Judging a metric against its own past runs: the arithmetic and its words, pure and small.

The `anomaly` and `change_from_last` kinds (family `history` in dq.checks.kinds) measure one metric
(a row count, a null fraction, a mean ...) in the engine's single pass, like any aggregate; what
they compare it to is the series of that check's observed values in the results history
(dq.run.history.baselines), bound into the spec as `baseline` (oldest first) before the run.

The method is Iglewicz and Hoaglin's modified z-score (1993): `M = 0.6745 * (x - median) / MAD`,
with MAD the median of the absolute deviations from the median. Median and MAD ignore up to half of
the history being outliers (a breakdown point of 50%), so one bad run in the window does not widen
the band that judges the next one, which a mean and standard deviation would.

When MAD is 0 (more than half of the history holds one value), the modified z-score falls back to
the mean absolute deviation around the median, `M = (x - median) / (1.253314 * MeanAD)` (the rule
IBM SPSS documents; 1.253314 = sqrt(pi/2) makes MeanAD estimate a normal's deviation). When that is
0 too, the history is constant: a value within `EPSILON` (relative) of it scores 0, any other value
scores infinity, so any change from a constant history is an anomaly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Iglewicz & Hoaglin: 0.6745 is the 0.75 quantile of the standard normal, so MAD / 0.6745
# estimates a normal's standard deviation
MAD_FACTOR = 0.6745
MEAN_AD_FACTOR = 1.253314
# a value this close (relative to max(1, |median|)) to a constant history is that value: it absorbs
# the last bits a double sum can differ by, and stays below one unit for any count under 10**12
EPSILON = 1e-12


@dataclass(frozen=True)
class Robust:
    """How far a value lies from the history: `z` is |modified z-score| (inf: off a constant
    history), `scale` what the deviation was divided by, `rule` which rule gave that scale."""

    median: float
    scale: float
    rule: str
    z: float


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def robust_z(value: float, history: Sequence[float]) -> Robust:
    """The modified z-score of `value` against a non-empty `history` (rules in the module doc)."""
    center = median(history)
    deviations = [abs(x - center) for x in history]
    mad = median(deviations)
    if mad > 0:
        return Robust(center, mad, "MAD", MAD_FACTOR * abs(value - center) / mad)
    mean_ad = math.fsum(deviations) / len(deviations)
    if mean_ad > 0:
        return Robust(
            center, mean_ad, "MAD 0, mean absolute deviation", abs(value - center) / (MEAN_AD_FACTOR * mean_ad)
        )
    same = abs(value - center) <= EPSILON * max(1.0, abs(center))
    return Robust(center, 0.0, "constant history", 0.0 if same else math.inf)


def pct_change(value: float, last: float) -> float:
    """|value - last| as a percentage of |last|, either direction; from 0, any change is infinite."""
    if last == 0:
        return 0.0 if value == 0 else math.inf
    return abs(value - last) / abs(last) * 100


# --- words ---------------------------------------------------------------------------------------


def _num(value: float) -> str:
    if math.isinf(value):
        return "infinite"
    return f"{value:.6g}" if not float(value).is_integer() or abs(value) >= 1e16 else str(int(value))


def metric_label(args: Mapping[str, Any]) -> str:
    metric = str(args["metric"])
    return f"quantile {args['q']:g}" if metric == "quantile" else metric


def anomaly_words(args: Mapping[str, Any]) -> str:
    return (
        f"{metric_label(args)} within {args['threshold']:g} robust z-scores of its median over the last "
        f"{args['window']} runs (judged from {args['min_history']} runs on)"
    )


def change_words(args: Mapping[str, Any]) -> str:
    return f"{metric_label(args)} within {args['max_pct']:g}% of the last run's"


def short_history(args: Mapping[str, Any]) -> str | None:
    """Why the history is too short to judge, or None when it is long enough."""
    baseline, needed = args.get("baseline"), int(args.get("min_history", 1))
    if baseline is None:
        return "the results history was not read for this check"
    if len(baseline) >= needed:
        return None
    runs = f"{len(baseline)} earlier run{'' if len(baseline) == 1 else 's'}"
    return f"the results history holds {runs} of this check, {needed} needed before {metric_label(args)} is judged"


def anomaly_reason(args: Mapping[str, Any], observed: Any) -> str:
    """What an anomaly check found, in one line (passed, failed or warned)."""
    short = short_history(args)
    if short is not None:
        return short if observed is None else f"{short} (observed {_num(float(observed))})"
    if observed is None:
        return f"no value of {metric_label(args)} (no non-missing values): nothing to compare to its history"
    baseline = args["baseline"]
    found = robust_z(float(observed), baseline)
    spread = found.rule if found.rule == "constant history" else f"{found.rule} {_num(found.scale)}"
    return (
        f"{metric_label(args)} {_num(float(observed))} is {z_text(found.z)} robust z-scores from the median "
        f"{_num(found.median)} of the last {len(baseline)} runs ({spread}); expected at most {args['threshold']:g}"
    )


def change_reason(args: Mapping[str, Any], observed: Any) -> str:
    short = short_history(args)
    if short is not None:
        return short if observed is None else f"{short} (observed {_num(float(observed))})"
    if observed is None:
        return f"no value of {metric_label(args)} (no non-missing values): nothing to compare to the last run"
    last = float(args["baseline"][-1])
    change = pct_change(float(observed), last)
    shown = "an infinite" if math.isinf(change) else f"a {change:.4f}%"
    return (
        f"{metric_label(args)} {_num(float(observed))} is {shown} change from the last run's {_num(last)}; "
        f"expected at most {args['max_pct']:g}%"
    )


def z_text(z: float) -> str:
    """A z-score as results print it: 4 decimals (tests compare against an oracle at that precision)."""
    return "infinitely many" if math.isinf(z) else f"{z:.4f}"
