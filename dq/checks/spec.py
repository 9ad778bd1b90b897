"""Engine-neutral check specs: *what* a check asserts, never *how* an engine runs it.

A contract compiles to a flat tuple of `CheckSpec`; Pandera, GX and dq's own SQL read the same
specs, so the engines can be compared check by check and a check no engine claims is visible
instead of silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from dq.checks.kinds import (
    GX,
    KINDS,
    CheckKind,
    Family,
    expression_text,
    missing_args,
    number_text,
    of_family,
    run_by,
    unknown_args,
)
from dq.contract.model import Severity
from dq.contract.scope import allowed_failing
from dq.contract.types import decimal_precision

__all__ = [
    "AGGREGATE_KINDS",
    "HISTORY_KINDS",
    "ROW_KINDS",
    "SCHEMA_KINDS",
    "STATISTIC_KINDS",
    "TRAINING_KINDS",
    "TRAINING_ROW_KINDS",
    "CheckKind",
    "CheckSpec",
    "TypedText",
]


# The kind sets engines and reports use, derived from the one table of kinds (dq.checks.kinds).
SCHEMA_KINDS = of_family(Family.schema)
_ROWS = of_family(Family.row_predicate, Family.row_query, Family.cross_dataset)
ROW_KINDS = _ROWS & run_by(GX)
AGGREGATE_KINDS = of_family(Family.aggregate)
HISTORY_KINDS = of_family(Family.history)  # judged against past runs: the runner binds them (`baseline`)
# Rules for training data. No SQL-expectation engine can state these (GX has no PSI or KS), so
# only the Pandera engine claims them; the statistics come from dq.ml.stats.
STATISTIC_KINDS = of_family(Family.statistic)
# training-data rules counted per row (leakage between splits, label timing): no GX expectation
TRAINING_ROW_KINDS = _ROWS - run_by(GX) - {CheckKind.reconcile_keys}  # (reconciliation is no training rule)
TRAINING_KINDS = STATISTIC_KINDS | TRAINING_ROW_KINDS


@dataclass(frozen=True)
class TypedText:
    """A contract value DuckDB itself must read in the column's type: `CAST(text AS sql_type)`.

    Dates, timestamps and UUIDs are kept as the text written, not as Python objects: Python's
    datetime has no nanoseconds (TIMESTAMP_NS) and no infinity (`'infinity'::DATE` would become
    9999-12-31), so a value compared after a round trip through Python is another value.
    """

    text: str
    sql_type: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class CheckSpec:
    """One check. Its `args` are typed by kind: `dq.checks.kinds.KINDS[kind].args` names every argument
    it may carry (bounds are inclusive, `None` = open), binding adds `dq.checks.kinds.BOUND_ARGS`; a spec
    with an argument its kind does not know, or without one it needs, is refused when built."""

    name: str
    kind: CheckKind
    severity: Severity
    columns: tuple[str, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        unknown, missing = unknown_args(self.kind, self.args), missing_args(self.kind, self.args)
        if unknown or missing:
            raise TypeError(
                f"check {self.name} ({self.kind}): unknown arguments {unknown}, missing arguments {missing}"
            )

    @property
    def column(self) -> str | None:
        return self.columns[0] if len(self.columns) == 1 else None

    @property
    def segments(self) -> tuple[str, ...]:
        """The columns a per-segment check groups by (`segments:`), () for a whole-table check."""
        return tuple(self.args.get("segments") or ())

    @property
    def needs_exact_sql(self) -> bool:
        """Set by binding when a check needs what only dq's own SQL states exactly: byte-wise
        comparison of a collated string column, or NaN counted as missing. Engines that build
        their own queries (Pandera's Ibis backend, GX) leave such checks to `pandera-batch`."""
        a = self.args
        if a.get("where") is not None or self.allowed_failing is not None:
            # Pandera has no tolerance, GX's `mostly` is a float ratio over non-null rows, and
            # neither states a SQL condition exactly (GX's row_condition is its own language)
            return True
        if a.get("collated_columns") or a.get("ref_collated") or a.get("nan_present") or self.segments:
            return True  # (a per-segment check is one grouped query of dq's own: dq.engines.segments)
        # integers past 2**53 (epoch nanoseconds, HUGEINT keys): Ibis and GX carry bounds and
        # values through floats somewhere, and 2**53 + 1 becomes 2**53
        if str(a.get("column_type", "")).upper() in {"HUGEINT", "UHUGEINT"}:
            return True
        if any(isinstance(v, TypedText) for v in a.get("values", ())):
            return True  # only dq's SQL hands DuckDB the text to read (Ibis and GX bind Python values)
        if any(isinstance(a.get(side), float) and math.isinf(a[side]) for side in ("min", "max")):
            return True  # a bound that stands for "past every finite value" (dq.data.bind._float_bound)
        if a.get("min") is not None and a.get("max") is not None and a["min"] > a["max"]:
            return True  # an empty interval (bounds past the type's range): GX and Ibis refuse it
        return any(isinstance(a.get(side), int) and abs(a[side]) > 2**53 for side in ("min", "max"))

    @property
    def measured_exactly_outside_dq_sql(self) -> bool:
        """Can GX or Pandera-on-Ibis state this check exactly with their own queries?

        Both carry bounds and quantiles through Python floats / float64 (a BIGINT 2**53 + 1 reads
        as 2**53, a DECIMAL(18,3) loses its last digits), and both average with a plain sum
        (1e16 - 1 - 1e16 averages to 0, values near 1e308 overflow to -inf). Bounded checks on
        columns past a double's exact range, and means and deviations of anything but small
        integers, stay with dq's own SQL (pandera-batch: exact sums, shifted deviations); so do
        means of integers, decimals and booleans, which it judges as exact fractions.
        """
        if self.kind is CheckKind.mean and "exact_bounds" in self.args:
            return False  # judged as an exact fraction (1/3 of the rows true is above 0.3333333333333333)
        if self.kind in (CheckKind.mean, CheckKind.stddev):
            small = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER", "BOOLEAN", ""}
            return str(self.args.get("column_type", "")).upper() in small
        if self.kind in (CheckKind.between, CheckKind.quantile, CheckKind.accepted_values):
            return self.compares_through_floats_safely
        return True

    @property
    def compares_through_floats_safely(self) -> bool:
        """GX hands bounds to SQL as Python floats: exact only while every value of the column is
        a double too (integers of at most 32 bits, FLOAT/DOUBLE, DECIMAL of at most 15 digits)."""
        column_type = str(self.args.get("column_type", "")).upper()
        if column_type.startswith("DECIMAL"):
            return decimal_precision(column_type) <= 15
        return column_type in {
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "FLOAT",
            "DOUBLE",
            "",
        }

    @property
    def is_row_level(self) -> bool:
        return self.kind in _ROWS

    @property
    def where(self) -> str | None:
        """The `where:` condition (SQL) the check is narrowed to, if any."""
        where = self.args.get("where")
        return None if where is None else str(where)

    @property
    def allowed_failing(self) -> Fraction | None:
        """The exact share of rows in scope that may fail (`mostly`, `max_failing_fraction`)."""
        return allowed_failing(self.args)

    def expectation(self) -> str:
        """The threshold in words, for reports: 'between 18 and 120', 'no nulls'."""
        words = KINDS[self.kind].words(self.args, self.columns)
        if self.args.get("mostly") is not None:
            words += f" in at least {number_text(self.args['mostly'] * 100)}% of rows"
        elif self.args.get("max_failing_fraction") is not None:
            words += f" in all but at most {number_text(self.args['max_failing_fraction'] * 100)}% of rows"
        if self.where is not None:
            words += f" (rows where {expression_text(self.where)})"
        return f"{words} in every segment of ({', '.join(self.segments)})" if self.segments else words
