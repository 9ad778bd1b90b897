"""What a contract file *is*: a pydantic model of `contracts/*.yml` and its loader.

The loader is strict on purpose. An unknown key, a wrong type, an impossible value (min > max,
a regex that does not compile, a duration that does not parse) or a duplicated YAML key is a
`ContractError` naming the file, the key path and what is allowed: a contract that silently
drops a rule would let bad data through the gate.
"""

from __future__ import annotations

import math
import re
import threading
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictBool,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dq.contract.scope import Condition, ExactShare, Scoped, Tolerated
from dq.contract.types import canonical_type, column_family
from dq.contract.yaml12 import load_yaml12
from dq.errors import ContractError


def _exact_number(value: Any) -> int | Decimal:
    """A bound as written: an int, or a Decimal with the YAML text's exact digits.

    pydantic's `float` would round `100000000000000001` to 1e17 and accept the string `'5'`;
    a bound is compared in the column's own type later (dq/data/bind.py), so it must arrive exact.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a bound must be a finite number (leave the side out to leave it open)")
        return Decimal(repr(value))  # a Python caller's float: its shortest exact reading
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a bound must be a finite number (leave the side out to leave it open)")
        return value
    hint = " (write it without quotes)" if isinstance(value, str) else ""
    raise ValueError(f"expected a number, got {type(value).__name__} {value!r}{hint}")


def _exact_scalar(value: Any) -> bool | int | Decimal | str:
    """An accepted value or a class name as written: bool, int, exact Decimal or str."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return _exact_number(value)
    raise ValueError(f"expected a string, number or boolean, got {type(value).__name__} {value!r}")


# the JSON Schema (`dq schema`) says what YAML may hold: a number, not pydantic's "number or string"
Number = Annotated[int | Decimal, PlainValidator(_exact_number), WithJsonSchema({"type": "number"})]
Scalar = Annotated[
    bool | int | Decimal | str,
    PlainValidator(_exact_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


# `segments: [country]`: the columns whose values split the rows into segments, each judged on
# its own (dq.checks.segments); at least one column, none twice.
Segments = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


def _refuse_null(fix: str) -> Any:
    """A before-validator refusing an explicit YAML null (`row_count: ` with nothing after it):
    read as "not given", it would silently drop the check the author wrote. Validators do not run
    on a default, so leaving the key out still means "not given"; only a contract file's text is
    held to it (`load_contract` passes the context), a dict built in Python may say None."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if value is None and (info.context or {}).get("yaml_text"):  # a Python caller's None is "not given"
            raise ValueError(f"is null (a key with no value). Fix: {fix}")
        return value

    return check


_EQUAL_OR_REMOVE = 'write `{}` for "equal", or remove the key'
# `segments:` / `row_count:` with no value is refused, never read as "no segments" / "no check"
GivenSegments = Annotated[
    Segments | None, BeforeValidator(_refuse_null("list the columns, e.g. `segments: [country]`, or remove the key"))
]


def _not_quoted(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(f"expected a number, got str {value!r} (write it without quotes)")
    return value


DEFAULT_MAX_SEGMENTS = 1000  # more distinct segments than this is a runaway column: exit 3


def _segments_distinct(value: list[str] | None, where: str) -> None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError(f"{where}segments lists a column twice")


class Severity(StrEnum):
    """`error` blocks the gate; `warn` is reported and lets it pass."""

    error = "error"
    warn = "warn"


class _Strict(BaseModel):
    # allow_inf_nan=False: `min: .nan` would make every comparison false (or true), and `1e400`
    # is inf; a bound must be a finite number (leave a side out to leave it open).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Bounds(_Strict):
    """An inclusive [min, max] interval; either end may be open."""

    min: Number | None = None
    max: Number | None = None
    severity: Severity | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min is None and self.max is None:
            raise ValueError("give at least one of min or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self


class CountBounds(Bounds):
    """Bounds on a count: whole, non-negative numbers."""

    @model_validator(mode="after")
    def _whole(self) -> CountBounds:
        for end in (self.min, self.max):
            if end is not None and (end < 0 or end != int(end)):
                raise ValueError(f"counts are whole numbers >= 0, got {end:g}")
        return self


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


class Dataset(_Strict):
    """Where the data lives: a dbt model (resolved via the manifest), a table in the DuckDB file, or
    files DuckDB reads in place (Parquet, CSV, JSON; globs; hive partitions: dq/data/files.py), or a
    Delta Lake table's latest version (dq/data/delta.py)."""

    model: str | None = None
    table: str | None = None
    # a dbt versioned model's version, as `ref('name', v=2)`; without it, the latest_version as `ref('name')`
    version: Annotated[int | str, BeforeValidator(_not_a_boolean)] | None = None
    path: Annotated[str, Field(min_length=1)] | None = None
    # default: from the path's extension, or `delta` for a directory holding `_delta_log/`
    format: Literal["parquet", "csv", "json", "delta"] | None = None
    hive_partitioning: StrictBool | None = None  # key=value directories become columns (default false)

    @model_validator(mode="after")
    def _exactly_one(self) -> Dataset:
        if sum(x is not None for x in (self.model, self.table, self.path)) != 1:
            raise ValueError(
                "give exactly one of `model` (a dbt model), `table` (schema.table) "
                "or `path` (files: Parquet, CSV, JSON, or a Delta table)"
            )
        if self.version is not None and self.model is None:
            raise ValueError("`version` pins a dbt model's version: it needs `model`")
        if self.path is None and (self.format is not None or self.hive_partitioning is not None):
            raise ValueError("`format` and `hive_partitioning` describe files: they need `path`")
        if self.path is not None and self.format is None:
            from dq.contract.file_formats import format_of

            format_of(self.path)  # a path whose format cannot be told is refused when the contract loads
        if self.hive_partitioning is not None and (self.format or "") == "delta":
            raise ValueError("a Delta table's partitions are in its log: `hive_partitioning` does not apply to it")
        return self

    def describe(self) -> str:
        if self.model:
            return f"model {self.model}" + (f" v{self.version}" if self.version is not None else "")
        if self.path is not None:
            return f"files {self.path}"
        return f"table {self.table}"


class Reference(Dataset):
    """Referential integrity: every non-null value must exist in another dataset's column."""

    column: str


class Freshness(_Strict):
    """The newest value of a timestamp column must be at most `max_age` old (e.g. 36h, 2d, 90m)."""

    column: str
    max_age: timedelta
    severity: Severity | None = None

    @field_validator("max_age", mode="before")
    @classmethod
    def _parse_duration(cls, value: Any) -> timedelta:
        return parse_duration(value)


class SqlCheck(_Strict):
    """Escape hatch: a query whose rows are violations. `{dataset}` names the contract's relation."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    sql: Annotated[str, Field(min_length=1)]
    description: str | None = None
    severity: Severity | None = None

    @field_validator("sql")
    @classmethod
    def _one_select(cls, value: str, info: ValidationInfo) -> str:
        """One SELECT, nothing else, as written and as dq wraps it (dq.checks.sql.custom_sql). The
        database is opened read-only, but DuckDB still runs `COPY ... TO`, `EXPORT DATABASE`,
        `SET`, `ATTACH` or `INSTALL` on a read-only connection, and GX executes the query as
        written: a check must not be able to write anywhere. A query that does not parse is
        refused here too: it cannot be proven to be one SELECT."""
        from dq.contract.sql_text import single_select

        query = value.replace("{dataset}", '"__dq_dataset"').strip().rstrip(";").strip()
        name = info.data.get("name", "")
        try:
            single_select(query, what="")
        except ValueError as exc:
            text = str(exc)
            raise ValueError(f"check {name!r} {text}" if text.startswith("does not parse") else text) from None
        single_select(f"SELECT count(*) FROM (\n{query}\n)", what="wrapped as dq runs it, the query ")
        return value


class Expression(_Strict, Tolerated, Scoped):
    """A rule across columns, held row by row: `first_order_at >= signed_up_at`. A row where the
    expression is false violates it; a row where it is NULL (a missing operand) does not, as in a
    SQL CHECK constraint: missing values are the nullability rules' business. `where:` and a
    tolerance (dq.contract.scope) narrow and loosen it."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    expr: Annotated[str, Field(min_length=1)]
    description: str | None = None
    severity: Severity | None = None
    where: Condition | None = None
    mostly: ExactShare | None = None
    max_failing_fraction: ExactShare | None = None

    @field_validator("expr")
    @classmethod
    def _one_expression(cls, value: str, info: ValidationInfo) -> str:
        from dq.contract.sql_text import one_boolean_expression

        try:
            one_boolean_expression(value)
        except ValueError as exc:
            raise ValueError(f"expression {info.data.get('name', '')!r} {exc}") from None
        return value


class Fraction(Bounds):
    """Bounds on a share of rows: both ends within [0, 1]."""

    @model_validator(mode="after")
    def _in_unit_interval(self) -> Fraction:
        for end in (self.min, self.max):
            if end is not None and not 0 <= end <= 1:
                raise ValueError(f"fractions are within [0, 1], got {end:g}")
        return self


# A share of rows in [0, 1]; `true` is not 1 (pydantic's float would take it).
Share = Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=0, le=1)]


def _class_fraction_form(value: Any) -> str:
    """`{min, max}` bounds every class; any other mapping names classes. Deciding up front keeps
    pydantic from reporting both readings of a mistake. (Tags in brackets are dropped from key paths.)"""
    if isinstance(value, Fraction) or (isinstance(value, dict) and set(value) & {"min", "max", "severity"}):
        return "[every class]"
    return "[per class]"


ClassFraction = Annotated[
    Annotated[Fraction, Tag("[every class]")] | Annotated[dict[Scalar, Fraction], Tag("[per class]")],
    Discriminator(_class_fraction_form),
]


class Label(_Strict):
    """The training label: its class balance and how many rows lack it.

    `class_fraction` bounds every class's share ({min, max}) or named classes' shares
    ({true: {min, max}}): a flipped binary label has the same set of shares, so only bounds on a
    named class can tell 20% churn from 80%.
    """

    column: str
    class_fraction: ClassFraction | None = None
    max_null_fraction: Share | None = None
    severity: Severity | None = None
    segments: GivenSegments = None  # class_fraction and max_null_fraction per segment too


class Disjoint(Dataset):
    """No key of this dataset may also occur in another one (an evaluation or test split)."""

    key: Annotated[list[str], Field(min_length=1)]
    severity: Severity | None = None


class Before(_Strict):
    """Every row's feature time is at or before its label time: no feature from the future."""

    column: str
    label_time: str
    severity: Severity | None = None


class Leakage(_Strict):
    """Signs that a feature already knows the label, or that evaluation rows leaked into training."""

    max_abs_correlation_with_label: Share | None = None
    min_category_rows: Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=1)] = 30
    disjoint_from: Disjoint | None = None
    before: Before | None = None
    severity: Severity | None = None


class DriftColumn(_Strict):
    """Drift bounds for one column against the reference profile (at least one statistic)."""

    psi_max: Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=0)] | None = None
    ks_max: Share | None = None
    chi2_p_min: Share | None = None
    linf_max: Share | None = None
    severity: Severity | None = None

    @model_validator(mode="after")
    def _some_statistic(self) -> DriftColumn:
        if all(v is None for v in (self.psi_max, self.ks_max, self.chi2_p_min, self.linf_max)):
            raise ValueError("give at least one of psi_max, ks_max (numeric), chi2_p_min, linf_max (categorical)")
        return self


class Drift(_Strict):
    """Distribution shift against a reference profile written by `dq profile`."""

    reference: Annotated[str, Field(min_length=1)]
    columns: Annotated[dict[str, DriftColumn], Field(min_length=1)]
    severity: Severity | None = None


class Tolerance(_Strict):
    """How far a dataset's value may lie from its source's: |dataset - source| <= `max_diff`, and
    <= `max_diff_pct` percent of |source|; each one given must hold, and with neither the two
    values must be equal. Read exactly from the YAML text (a Decimal, never a float)."""

    max_diff: Number | None = None
    max_diff_pct: Number | None = None
    severity: Severity | None = None

    @model_validator(mode="after")
    def _not_negative(self) -> Tolerance:
        for key in ("max_diff", "max_diff_pct"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise ValueError(f"{key} is a distance: >= 0, got {value}")
        return self


GivenTolerance = Annotated[Tolerance | None, BeforeValidator(_refuse_null(_EQUAL_OR_REMOVE))]


class ReconcileColumn(_Strict):
    """A numeric column's sum and/or mean, compared with the same column of the source."""

    sum: GivenTolerance = None
    mean: GivenTolerance = None

    @model_validator(mode="after")
    def _some_statistic(self) -> ReconcileColumn:
        if self.sum is None and self.mean is None:
            raise ValueError("give at least one of sum, mean (each a tolerance such as {max_diff: 0.01} or {})")
        return self


class Reconcile(_Strict):
    """This dataset against the one it was built from (Deequ's data synchronization): row counts,
    key sets (missing and extra rows counted separately) and column sums / means."""

    against: Dataset
    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    row_count: GivenTolerance = None
    key: Annotated[list[str], Field(min_length=1)] | None = None
    columns: dict[str, ReconcileColumn] = Field(default_factory=dict)
    severity: Severity | None = None

    @model_validator(mode="after")
    def _something_compared(self) -> Reconcile:
        if self.row_count is None and self.key is None and not self.columns:
            raise ValueError("give at least one of row_count, key, columns")
        if self.key is not None and len(set(self.key)) != len(self.key):
            raise ValueError("key lists a column twice")
        return self


AnomalyMetric = Literal["row_count", "null_fraction", "distinct_count", "mean", "stddev", "quantile", "freshness_lag"]
_Count = Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=1)]
_Positive = Annotated[float, BeforeValidator(_not_a_boolean), Field(gt=0)]


class _HistoryMetric(_Strict):
    """A metric judged against this contract's past runs in the results history."""

    metric: AnomalyMetric
    q: Share | None = None  # the quantile, for `metric: quantile`
    severity: Severity | None = None

    @model_validator(mode="after")
    def _quantile_needs_q(self) -> _HistoryMetric:
        if (self.metric == "quantile") != (self.q is not None):
            raise ValueError("`q` (a quantile in [0, 1]) goes with `metric: quantile`, and only with it")
        return self

    @property
    def label(self) -> str:
        return f"quantile_{self.q:g}" if self.q is not None else self.metric


class Anomaly(_HistoryMetric):
    """The metric's modified z-score (median/MAD) against its last `window` runs must be at most
    `threshold`; with fewer than `min_history` runs recorded the check warns (dq.checks.anomaly)."""

    method: Literal["mad"] = "mad"
    threshold: _Positive = 3.5
    window: _Count = 20
    min_history: _Count = 5

    @model_validator(mode="after")
    def _window_holds_min_history(self) -> Anomaly:
        if self.min_history > self.window:
            raise ValueError(f"min_history ({self.min_history}) is more than window ({self.window}) runs")
        return self


class ChangeFromLast(_HistoryMetric):
    """The metric may differ from the last run's by at most `max_pct` percent, up or down."""

    max_pct: Annotated[float, BeforeValidator(_not_a_boolean), Field(ge=0)]


def _one_per_metric(rules: list[Anomaly] | list[ChangeFromLast], key: str) -> None:
    labels = [rule.label for rule in rules]
    if len(set(labels)) != len(labels):
        raise ValueError(f"two entries under `{key}` judge the same metric")


class RowCount(CountBounds, Scoped):
    """Bounds on the number of rows, of all rows or of those a `where:` condition holds for."""

    where: Condition | None = None


# the column keys a tolerance loosens: the rules that count failing rows
_TOLERATED_COLUMN_KEYS = ("nullable: false", "unique", "min/max", "accepted_values", "pattern", "length", "references")


class ColumnRule(_Strict, Tolerated, Scoped):
    """Everything a contract says about one column; each key compiles to one check. `where:`
    applies to every check of the column but its presence and type; a tolerance to each of its
    row rules (dq.contract.scope)."""

    type: str | None = None
    description: str | None = None
    nullable: StrictBool = True  # only true/false: `yes`, `no`, `1` are not booleans in YAML 1.2
    unique: StrictBool = False
    min: Number | None = None
    max: Number | None = None
    accepted_values: list[Scalar] | None = None
    pattern: str | None = None
    length: CountBounds | None = None
    distinct_count: CountBounds | None = None
    mean: Bounds | None = None
    stddev: Bounds | None = None
    quantiles: Annotated[dict[float, Bounds], Field(min_length=1)] | None = None
    max_null_fraction: Share | None = None
    references: Reference | None = None
    anomalies: list[Anomaly] = Field(default_factory=list)
    change_from_last: list[ChangeFromLast] = Field(default_factory=list)
    severity: Severity = Severity.error
    segments: GivenSegments = None  # its aggregate rules (null fraction, mean, ...) per segment too
    where: Condition | None = None
    mostly: ExactShare | None = None
    max_failing_fraction: ExactShare | None = None

    @model_validator(mode="after")
    def _column_metrics(self) -> ColumnRule:
        for key, rules in (("anomalies", self.anomalies), ("change_from_last", self.change_from_last)):
            if any(rule.metric == "row_count" for rule in rules):
                raise ValueError(f"{key}: row_count is a table metric: put it under the contract's `{key}`")
            _one_per_metric(rules, key)
        return self

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        return None if value is None else canonical_type(value)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        """The regex must compile in RE2, which is what DuckDB runs (Python's `re` accepts
        lookarounds and backreferences that RE2 rejects): checked at load time, as `dq lint` does."""
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
            _compiles_in_re2(value)
        return value

    @field_validator("accepted_values")
    @classmethod
    def _not_empty(cls, value: list[Scalar] | None) -> list[Scalar] | None:
        if value is not None and not value:
            raise ValueError("accepted_values must list at least one value")
        return value

    @field_validator("quantiles")
    @classmethod
    def _quantile_keys(cls, value: dict[float, Bounds] | None) -> dict[float, Bounds] | None:
        for q in value or {}:
            if not 0 <= q <= 1:
                raise ValueError(f"quantile {q:g} is outside [0, 1]")
        return value

    @model_validator(mode="after")
    def _range_ordered(self) -> ColumnRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self

    @model_validator(mode="after")
    def _tolerance_has_a_row_rule(self) -> ColumnRule:
        has_row_rule = not self.nullable or self.unique or self.min is not None or self.max is not None
        has_row_rule = has_row_rule or any(
            v is not None for v in (self.accepted_values, self.pattern, self.length, self.references)
        )
        if self.tolerance_args() and not has_row_rule:
            raise ValueError(
                "mostly / max_failing_fraction loosen the column's row rules "
                f"({', '.join(_TOLERATED_COLUMN_KEYS)}), and this column has none"
            )
        return self

    @model_validator(mode="after")
    def _rules_fit_the_declared_type(self) -> ColumnRule:
        """With a declared `type`, a value that could only be compared through an implicit cast
        is refused when the contract loads: `dq lint` and `dq dbt export` (whose in-model SQL is
        written without the database) see it too, not only `validate` (dq/data/bind.py)."""
        if self.type is None:
            return self
        family = column_family(self.type)
        numeric = family in ("integer", "float", "decimal")
        if (self.min is not None or self.max is not None) and not numeric:
            raise ValueError(f"min/max need a numeric column, but the declared type is {self.type}")
        if (self.pattern is not None or self.length is not None) and family not in ("string", "enum"):
            raise ValueError(f"pattern/length need a VARCHAR column, but the declared type is {self.type}")
        for value in self.accepted_values or ():
            wrong = (
                (family in ("string", "enum", "cast") and not isinstance(value, str))
                or (numeric and isinstance(value, bool | str))
                or (family == "integer" and isinstance(value, Decimal) and value != value.to_integral_value())
                or (family == "boolean" and not isinstance(value, bool))
            )
            if wrong:
                shown = repr(value) if isinstance(value, str) else str(value).lower()
                fix = f"quote it ('{value}')" if family in ("string", "enum", "cast") else "write a value of that type"
                raise ValueError(f"accepted value {shown} does not fit the declared type {self.type}: {fix}")
        return self


class Quarantine(_Strict):
    """`dq gate --quarantine`: the share of rows the gate may set aside (rows failing an error-severity
    row rule) and still train on the rest. Only the gate reads it; `dq validate` ignores it."""

    max_fraction: Number

    @field_validator("max_fraction")
    @classmethod
    def _share(cls, value: int | Decimal) -> int | Decimal:
        if not 0 <= value <= 1:
            raise ValueError(f"max_fraction is a share of rows between 0 and 1, got {value}")
        return value


class Contract(_Strict):
    """One dataset's contract, agreed by its producer and its consumer."""

    contract: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")]
    version: str
    owner: str | None = None
    description: str | None = None
    dataset: Dataset
    primary_key: list[str] = Field(default_factory=list)
    row_count: RowCount | None = None
    freshness: Freshness | None = None
    extra_columns: Literal["allow", "forbid"] = "allow"
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    checks: list[SqlCheck] = Field(default_factory=list)
    expressions: list[Expression] = Field(default_factory=list)
    label: Label | None = None
    leakage: Leakage | None = None
    drift: Drift | None = None
    quarantine: Quarantine | None = None
    segments: GivenSegments = None  # row_count, and every rule without segments of its own
    max_segments: Annotated[int, BeforeValidator(_not_a_boolean), BeforeValidator(_not_quoted), Field(ge=1)] = (
        DEFAULT_MAX_SEGMENTS
    )
    reconcile: list[Reconcile] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)
    change_from_last: list[ChangeFromLast] = Field(default_factory=list)

    @model_validator(mode="after")
    def _table_metrics(self) -> Contract:
        for key, rules in (("anomalies", self.anomalies), ("change_from_last", self.change_from_last)):
            for rule in rules:
                if rule.metric != "row_count":
                    raise ValueError(f"{key}: {rule.metric} is a column metric: put it under `columns.<name>.{key}`")
            _one_per_metric(rules, key)
        return self

    @field_validator("version", mode="before")
    @classmethod
    def _semver(cls, value: Any) -> str:
        if not _SEMVER.match(str(value)):
            raise ValueError(f"version {str(value)!r} is not semver (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        return str(value)

    @model_validator(mode="after")
    def _declared_columns(self) -> Contract:
        declared = set(self.columns)
        for key in self.primary_key:
            if key not in declared:
                raise ValueError(f"primary_key column {key!r} is not declared under `columns`")
        if len(set(self.primary_key)) != len(self.primary_key):
            raise ValueError("primary_key lists a column twice")
        if self.freshness and self.freshness.column not in declared:
            raise ValueError(f"freshness.column {self.freshness.column!r} is not declared under `columns`")
        for key, column in self._training_columns():
            if column not in declared:
                raise ValueError(f"{key} {column!r} is not declared under `columns`")
        if self.leakage and self.leakage.max_abs_correlation_with_label is not None and self.label is None:
            raise ValueError("leakage.max_abs_correlation_with_label needs `label: {column: ...}`")
        for key, segments in self.segment_lists():
            _segments_distinct(segments, key)
            for column in segments or ():
                if column not in declared:
                    raise ValueError(f"{key}segments column {column!r} is not declared under `columns`")
        names = [check.name for check in self.checks]
        if len(set(names)) != len(names):
            raise ValueError("two entries under `checks` share a name")
        names = [expression.name for expression in self.expressions]
        if len(set(names)) != len(names):
            raise ValueError("two entries under `expressions` share a name")
        item_names = [item.name for item in self.reconcile]
        if len(item_names) > 1 and (None in item_names or len(set(item_names)) != len(item_names)):
            raise ValueError("with more than one `reconcile` entry, give each a `name` of its own")
        return self

    def segment_lists(self) -> list[tuple[str, list[str] | None]]:
        found = [("", self.segments), ("label.", self.label.segments if self.label else None)]
        return found + [(f"columns.{name}.", rule.segments) for name, rule in self.columns.items()]

    def _training_columns(self) -> list[tuple[str, str]]:
        """(key path, column) for every column the label, leakage and drift rules name."""
        found = [("label.column", self.label.column)] if self.label else []
        if self.leakage and self.leakage.disjoint_from:
            found += [("leakage.disjoint_from.key column", c) for c in self.leakage.disjoint_from.key]
        if self.leakage and self.leakage.before:
            found += [("leakage.before.column", self.leakage.before.column)]
            found += [("leakage.before.label_time", self.leakage.before.label_time)]
        if self.drift:
            found += [("drift.columns key", c) for c in self.drift.columns]
        for item in self.reconcile:
            found += [("reconcile.key column", c) for c in item.key or ()]
            found += [("reconcile.columns key", c) for c in item.columns]
        return found


def _compiles_in_re2(pattern: str) -> None:
    import duckdb  # lazy: `dq --help` does not load DuckDB

    global _re2
    with _re2_lock:
        if _re2 is None:  # one in-memory database for every pattern (opening one costs ~15 ms)
            _re2 = duckdb.connect()
        try:
            _re2.execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise ValueError(
                f"regex does not compile in DuckDB (RE2: no lookarounds, no backreferences): {first}"
            ) from None


_re2: Any = None
_re2_lock = threading.Lock()


def parse_duration(value: Any) -> timedelta:
    """'36h' -> timedelta(hours=36). Units: s, m, h, d, w."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"duration {value!r} does not parse; use a number and a unit s|m|h|d|w, e.g. 36h")
    amount, unit = float(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"duration {value!r} must be positive")
    try:
        return timedelta(**{_DURATION_UNITS[unit]: amount})
    except OverflowError:
        raise ValueError(f"duration {value!r} is too long (at most {timedelta.max.days} days)") from None


def load_contract(path: str | Path) -> Contract:
    """Read and validate one contract file. Raises `ContractError` naming file, key and fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{path}: contract file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read contract file: {exc}") from None
    try:
        document = load_yaml12(text)
    except ContractError as exc:
        raise ContractError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ContractError(f"{path}: not valid YAML: nested too deeply") from None
    if not isinstance(document, dict):
        raise ContractError(f"{path}: a contract is a YAML mapping with at least `contract`, `version`, `dataset`")
    try:
        return Contract.model_validate(document, context={"yaml_text": True})
    except ValidationError as exc:
        raise ContractError(format_validation_error(path, exc, document)) from None
    except RecursionError:
        raise ContractError(f"{path}: (top level): nested too deeply to be a contract") from None


def format_validation_error(path: Path, exc: ValidationError, document: Any = None) -> str:
    """One line per problem: `file: key.path: what is wrong (allowed: ...)`."""
    lines = []
    for error in exc.errors():
        loc = _key_path(error["loc"], document)
        where = ".".join(_show_key(part) for part in loc) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden" and loc:
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key {loc[-1]!r}" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "enum" or error["type"] == "literal_error":
            message = f"{message} (got {error.get('input')!r})"
        lines.append(f"{path}: {where}: {message}")
    return "\n".join(dict.fromkeys(lines))


def _key_path(loc: tuple[Any, ...], document: Any) -> tuple[Any, ...]:
    """pydantic's error location without the union tags it inserts; a part that is a key (or
    index) of the document is kept even if it looks like a tag (a column named `int` or `a[1]`)."""
    kept: list[Any] = []
    node = document
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            kept.append(part)
            node = node[part]
        elif not _is_union_tag(part):
            kept.append(part)
            node = None
    return tuple(kept)


def _show_key(part: Any) -> str:
    """A key as it reads in a key path; quoted when it is blank or would read as several keys."""
    text = str(part)
    return text if re.fullmatch(r"[^\s.'\"]+", text) else repr(part)


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the member type name of a union (e.g. 'float', 'function-after[...]') to loc.
    return isinstance(part, str) and (part in {"bool", "int", "float", "str"} or "[" in part)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at `loc`, walking Contract's annotations."""
    current: Any = Contract
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X; Annotated[X, ...] -> X."""
    while True:
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        origin = get_origin(annotation)
        if origin is Annotated or ((origin is Union or str(origin) == "<class 'types.UnionType'>") and len(args) == 1):
            annotation = args[0]
        else:
            return annotation
