"""Engine-neutral check specs: *what* a check asserts, never *how* an engine runs it.

A contract compiles to a flat tuple of `CheckSpec`; Pandera, GX and dq's own SQL read the same
specs, so the engines can be compared check by check and a check no engine claims is visible
instead of silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dq.contract import Severity
from dq.types import decimal_precision


class CheckKind(StrEnum):
    """Every kind of check a contract can ask for."""

    # schema: answered from the table's column list
    column_exists = "column_exists"
    column_type = "column_type"
    no_extra_columns = "no_extra_columns"
    # row-level: some rows violate; a failing-row count and samples exist
    not_null = "not_null"
    unique = "unique"
    between = "between"
    accepted_values = "accepted_values"
    pattern = "pattern"
    length = "length"
    references = "references"
    custom_sql = "custom_sql"
    # aggregate: one observed metric compared to bounds
    row_count = "row_count"
    null_fraction = "null_fraction"
    distinct_count = "distinct_count"
    mean = "mean"
    stddev = "stddev"
    quantile = "quantile"
    freshness = "freshness"
    # training data (label, leakage, drift): a statistic computed in DuckDB by dq.training_stats
    label_class_fraction = "label_class_fraction"
    correlation_with_label = "correlation_with_label"
    categorical_determines_label = "categorical_determines_label"
    drift_psi = "drift_psi"
    drift_ks = "drift_ks"
    drift_chi2 = "drift_chi2"
    drift_linf = "drift_linf"
    # training data, row-level: the violating rows are counted and sampled like any row check
    disjoint_keys = "disjoint_keys"
    feature_before_label = "feature_before_label"


SCHEMA_KINDS = frozenset({CheckKind.column_exists, CheckKind.column_type, CheckKind.no_extra_columns})
ROW_KINDS = frozenset(
    {
        CheckKind.not_null,
        CheckKind.unique,
        CheckKind.between,
        CheckKind.accepted_values,
        CheckKind.pattern,
        CheckKind.length,
        CheckKind.references,
        CheckKind.custom_sql,
    }
)
AGGREGATE_KINDS = frozenset(
    {
        CheckKind.row_count,
        CheckKind.null_fraction,
        CheckKind.distinct_count,
        CheckKind.mean,
        CheckKind.stddev,
        CheckKind.quantile,
        CheckKind.freshness,
    }
)

# Rules for training data. No SQL-expectation engine can state these (GX has no PSI or KS), so
# only the Pandera engine claims them; the statistics come from dq.training_stats.
STATISTIC_KINDS = frozenset(
    {
        CheckKind.label_class_fraction,
        CheckKind.correlation_with_label,
        CheckKind.categorical_determines_label,
        CheckKind.drift_psi,
        CheckKind.drift_ks,
        CheckKind.drift_chi2,
        CheckKind.drift_linf,
    }
)
TRAINING_ROW_KINDS = frozenset({CheckKind.disjoint_keys, CheckKind.feature_before_label})
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
    """One check.

    `args` by kind (all optional bounds are inclusive, `None` = open):
      column_type: type (canonical DuckDB name) | no_extra_columns: allowed (tuple of names)
      between, length, row_count, distinct_count, mean, stddev, null_fraction: min, max
      quantile: q, min, max | accepted_values: values (tuple) | pattern: regex (search semantics)
      references: relation (resolved SQL relation, set by the runner), ref_column, dataset (label)
      custom_sql: sql (with `{dataset}` placeholder) | freshness: max_age_seconds
      label_class_fraction: min, max, classes (declared/named classes), only (one class's share, else every class)
      correlation_with_label, categorical_determines_label: max, exclude (keys), min_category_rows
      drift_psi, drift_ks, drift_linf: reference (profile path), max | drift_chi2: reference, min
      disjoint_keys: model, table, dataset (label), relation (set by the runner)
      feature_before_label: columns = (feature time, label time)
    """

    name: str
    kind: CheckKind
    severity: Severity
    columns: tuple[str, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def column(self) -> str | None:
        return self.columns[0] if len(self.columns) == 1 else None

    @property
    def needs_exact_sql(self) -> bool:
        """Set by binding when a check needs what only dq's own SQL states exactly: byte-wise
        comparison of a collated string column, or NaN counted as missing. Engines that build
        their own queries (Pandera's Ibis backend, GX) leave such checks to `pandera-batch`."""
        a = self.args
        if a.get("collated_columns") or a.get("ref_collated") or a.get("nan_present"):
            return True
        # integers past 2**53 (epoch nanoseconds, HUGEINT keys): Ibis and GX carry bounds and
        # values through floats somewhere, and 2**53 + 1 becomes 2**53
        if str(a.get("column_type", "")).upper() in {"HUGEINT", "UHUGEINT"}:
            return True
        if any(isinstance(v, TypedText) for v in a.get("values", ())):
            return True  # only dq's SQL hands DuckDB the text to read (Ibis and GX bind Python values)
        if any(isinstance(a.get(side), float) and math.isinf(a[side]) for side in ("min", "max")):
            return True  # a bound that stands for "past every finite value" (dq.bind._float_bound)
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
        integers, stay with dq's own SQL (pandera-batch: Kahan sums, shifted deviations).
        """
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
        return self.kind in ROW_KINDS or self.kind in TRAINING_ROW_KINDS

    def expectation(self) -> str:
        """The threshold in words, for reports: 'between 18 and 120', 'no nulls'."""
        a = self.args
        match self.kind:
            case CheckKind.column_exists:
                return "column present"
            case CheckKind.column_type:
                return f"type {a['type']}"
            case CheckKind.no_extra_columns:
                return "no undeclared columns"
            case CheckKind.not_null:
                return "no nulls"
            case CheckKind.unique:
                return f"unique ({', '.join(self.columns)})"
            case CheckKind.accepted_values:
                return "in {" + ", ".join(str(v) for v in a["values"]) + "}"
            case CheckKind.pattern:
                return f"matches /{a['regex']}/"
            case CheckKind.references:
                return f"exists in {a.get('dataset')}.{a['ref_column']}"
            case CheckKind.custom_sql:
                return "query returns no rows"
            case CheckKind.freshness:
                return f"newest value at most {_hours(a['max_age_seconds'])} old"
            case CheckKind.quantile:
                return f"p{a['q'] * 100:g} {_bounds(a)}"
            case CheckKind.label_class_fraction:
                who = f"share of class {a['only']}" if a.get("only") else "every class's share"
                return f"{who} {_bounds(a)}"
            case CheckKind.correlation_with_label:
                return f"|corr(numeric feature, label)| {_bounds(a)}"
            case CheckKind.categorical_determines_label:
                return f"Goodman-Kruskal lambda(label | feature) {_bounds(a)}"
            case CheckKind.drift_psi | CheckKind.drift_ks | CheckKind.drift_chi2 | CheckKind.drift_linf:
                statistic = {"drift_psi": "PSI", "drift_ks": "KS", "drift_chi2": "chi2 p-value", "drift_linf": "L-inf"}
                return f"{statistic[self.kind.value]} vs {a['reference']} {_bounds(a)}"
            case CheckKind.disjoint_keys:
                return f"no ({', '.join(self.columns)}) shared with {a.get('dataset')}"
            case CheckKind.feature_before_label:
                return f"{self.columns[0]} <= {self.columns[1]}"
            case _:
                return _bounds(a)


def _bounds(args: Mapping[str, Any]) -> str:
    low, high = args.get("min"), args.get("max")
    if low is not None and high is not None:
        return f"between {_num(low)} and {_num(high)}"
    if low is not None:
        return f">= {_num(low)}"
    return f"<= {_num(high)}" if high is not None else "no bound"


def _num(value: Any) -> str:
    """1000000.0 -> '1000000', 0.05 -> '0.05': no exponents in what people read, and every digit
    of an exact bound (an int, a Decimal) shown as it is compared."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    number = float(value)
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)  # the shortest text that reads back as this double


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g}h"
