"""A bound made a value of the judged measurement's own type, with the same verdict.

The default engine's judges are Pandera checks on a small polars frame (dq.engines.pandera_batch).
Python compares an int with a float, or a Decimal with a float, exactly; polars first casts both
sides to a common type, so `float(2**53) >= 2**53 + 1` would hold there (the int bound becomes the
double 2**53). Binding (dq.data.bind) already gives most bounds the column's type; where a bound
still differs in type from its measurement (an integer threshold on a float score, a float bound
on a count), it is replaced here by the value of the measurement's type that keeps every verdict:
for `value <= bound` the largest such value not above the bound, for `value >= bound` the smallest
not below it (no value of that type lies in between, so nothing changes). Same-typed pairs are
returned as they are.
"""

from __future__ import annotations

import math
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any, Literal

Side = Literal["low", "high"]  # low: value >= bound; high: value <= bound


def typed_bound(sample: Any, bound: Any, side: Side) -> Any:
    """`bound` in the type of `sample` (a measured value of the column judged), same verdicts."""
    if sample is None or bound is None or isinstance(sample, bool) or isinstance(bound, bool):
        return bound
    if isinstance(sample, float) and isinstance(bound, int | Decimal):
        return _as_float(bound, side)
    if isinstance(sample, int) and isinstance(bound, float | Decimal):
        return _as_int(bound, side)
    if isinstance(sample, Decimal) and isinstance(bound, int | float) and sample.is_finite():
        return _as_decimal(bound, side, sample)
    return bound


def _as_float(bound: int | Decimal, side: Side) -> float:
    exact = Fraction(bound) if not (isinstance(bound, Decimal) and not bound.is_finite()) else None
    if exact is None:  # a Decimal infinity is the float infinity; a NaN never holds either way
        return float(bound)
    try:
        near = float(exact)
    except OverflowError:  # past every finite double: only an infinity lies beyond it
        near = math.inf if exact > 0 else -math.inf
    if math.isinf(near):  # value <= 1e400 holds for every finite double: the largest is the bound
        largest = sys.float_info.max
        if side == "high":
            return largest if near > 0 else -math.inf
        return math.inf if near > 0 else -largest
    if side == "high" and Fraction(near) > exact:
        return math.nextafter(near, -math.inf)
    if side == "low" and Fraction(near) < exact:
        return math.nextafter(near, math.inf)
    return near


def _as_int(bound: float | Decimal, side: Side) -> Any:
    if isinstance(bound, float) and not math.isfinite(bound):
        return bound  # an int against an infinity: the cast to a double keeps the order
    if isinstance(bound, Decimal) and not bound.is_finite():
        return float(bound)
    exact = Fraction(bound)
    return math.floor(exact) if side == "high" else math.ceil(exact)


def _as_decimal(bound: int | float, side: Side, sample: Decimal) -> Any:
    if isinstance(bound, float) and not math.isfinite(bound):
        return bound  # a DECIMAL against an infinity: the cast to a double keeps the order
    exponent = sample.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite Decimal
    with localcontext() as context:
        context.prec = 2000  # every double and the bound's integer digits fit exactly
        exact = Decimal(bound)
        rounding = ROUND_FLOOR if side == "high" else ROUND_CEILING
        return exact.quantize(Decimal(1).scaleb(exponent), rounding=rounding)
