"""An independent oracle: what every check of a contract *should* find, computed in plain Python.

The engines (pandera-batch, pandera, gx) all compile the same check specs to DuckDB SQL; a bug
in the shared SQL (an implicit cast, a collation, a DOUBLE literal for a bound) is a bug in all
of them at once, and engine-parity tests cannot see it. This module shares nothing with dq: it
takes the author's *intent* (a `Rule`, with numbers kept as the exact text written in the YAML
and strings as the author meant them) and the table's rows as DuckDB hands them to Python
(`fetchall()`: int, Decimal, float, str, datetime, ...), and evaluates the rule with Python's own
arithmetic. No SQL aggregate, no dq import.

Semantics (the product's spec, see README "The contract" and issue 10):
* NULLs only violate `not_null` / `max_null_fraction`; on a FLOAT or DOUBLE column NaN is
  *missing*: it counts as NULL there and is ignored by every other rule.
* Ranges are inclusive; +-inf lie beyond any finite bound. Comparisons are exact in the column's
  own type: integers of any size exactly, DECIMALs as decimals, strings code point by code point
  (binary collation, case-sensitive, no Unicode normalisation). A bound written as a float and
  compared with a DOUBLE column is that double. Where the spec allows two readings (an integer
  bound that is not a double, on a DOUBLE column) and they give different verdicts, the oracle
  accepts either (`Expected.status is None`).
* A literal that does not fit the column's type (a number in `accepted_values` of a VARCHAR
  column, a YAML-1.1 boolean look-alike) may be refused; if it is not, it is compared without an
  implicit cast (so it matches nothing). A rule that makes no sense for the type (min/max on
  VARCHAR, a mean of dates, a class key of the wrong type, which would read as a 0% share) must
  be refused.
* mean/stddev/quantile of no values fail; quantiles are discrete nearest-rank
  (the value at rank ceil(q * n), at least 1); `unique` counts every row of a repeated value.
"""

from __future__ import annotations

import math
import re
import struct
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import duckdb

Family = str  # int, double, float32, decimal, boolean, string, enum, date, timestamp, timestamptz, ...

_INT_RANGES: dict[str, tuple[int, int]] = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "HUGEINT": (-(2**127), 2**127 - 1),
    "UTINYINT": (0, 2**8 - 1),
    "USMALLINT": (0, 2**16 - 1),
    "UINTEGER": (0, 2**32 - 1),
    "UBIGINT": (0, 2**64 - 1),
    "UHUGEINT": (0, 2**128 - 1),
}
NUMERIC = frozenset({"int", "double", "float32", "decimal"})
FLOATING = frozenset({"double", "float32"})
STRINGY = frozenset({"string", "enum"})
TEMPORAL = frozenset({"date", "timestamp", "timestamptz"})
_DECIMAL_TYPE = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_ENUM_LABEL = re.compile(r"'((?:[^']|'')*)'")


def family(data_type: str) -> Family:
    """The oracle's own reading of a type as DuckDB's information_schema prints it."""
    t = data_type.strip().upper()
    if t in _INT_RANGES:
        return "int"
    if t in ("FLOAT", "REAL", "FLOAT4"):
        return "float32"
    if t in ("DOUBLE", "FLOAT8"):
        return "double"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t == "BOOLEAN":
        return "boolean"
    if t == "VARCHAR":
        return "string"
    if t.startswith("ENUM("):
        return "enum"
    if t == "DATE":
        return "date"
    if t in ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
        return "timestamp"
    if t == "TIMESTAMP WITH TIME ZONE":
        return "timestamptz"
    if t == "TIME":
        return "time"
    if t == "TIME WITH TIME ZONE":
        return "timetz"
    return t.lower()  # interval, blob, uuid, json, ...


def enum_labels(data_type: str) -> list[str]:
    return [m.group(1).replace("''", "'") for m in _ENUM_LABEL.finditer(data_type)]


# --- the author's intent --------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    """A number exactly as written in the contract (`100000000000000001`, `0.1`, `-2.5e+3`)."""

    text: str

    @property
    def integral(self) -> bool:
        return re.fullmatch(r"[-+]?\d+", self.text) is not None

    def exact(self) -> int | Decimal:
        return int(self.text) if self.integral else Decimal(self.text)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Val:
    """One accepted value / class key: its YAML spelling and what its author meant by it.

    `value` is the YAML 1.2 (core schema) reading: str, bool, or Num. `trap` marks spellings
    that YAML 1.1 reads differently (`yes` -> True, `010` -> 8): refusing them is right too.
    """

    yaml: str
    value: str | bool | Num
    trap: bool = False


@dataclass(frozen=True)
class Rule:
    """One check a contract asks for, named as dq reports it, with the intended arguments.

    args by kind: between/length/row_count/distinct_count/mean/stddev/null_fraction: min, max
    (Num or None); quantile: q (Num), min, max; accepted_values: values (tuple of Val);
    pattern: regex; references: table, column; column_type: type (alias), either (bool: the spec
    allows both verdicts); no_extra_columns: allowed; freshness: max_age_seconds;
    label_class_fraction: key (Val or None for every class), min, max;
    disjoint_keys: table; feature_before_label: columns = (feature, label time).
    """

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "error"

    @property
    def row_level(self) -> bool:
        return self.kind in ROW_KINDS


ROW_KINDS = frozenset(
    {
        "not_null",
        "unique",
        "between",
        "accepted_values",
        "pattern",
        "length",
        "references",
        "disjoint_keys",
        "feature_before_label",
    }
)


@dataclass(frozen=True)
class Expected:
    """What a correct engine reports for one rule.

    status None: both verdicts are right (two readings of the spec, or a statistic within
    floating-point noise of its bound). refusal: "never" (a verdict is required), "may" (an
    error naming the problem is right too), "must" (only a refusal is right).
    """

    status: str | None
    failing_rows: int | None = None
    observed: Any = None
    refusal: str = "never"
    why: str = ""


def refused(why: str) -> Expected:
    return Expected(None, refusal="must", why=why)


# --- the table as Python sees it ------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """A relation's columns (information_schema types) and every row, via fetchall()."""

    relation: str
    types: dict[str, str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> list[Any]:
        index = list(self.types).index(name)
        return [row[index] for row in self.rows]

    def family(self, name: str) -> Family:
        return family(self.types[name])


def fetch(connection: duckdb.DuckDBPyConnection, schema: str, table: str) -> Fetched:
    types = dict(
        connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    )
    quoted = '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'
    rows = connection.execute(f"SELECT * FROM {quoted}").fetchall()
    return Fetched(f"{schema}.{table}", types, rows)


# --- values --------------------------------------------------------------------------------


def missing(value: Any, fam: Family) -> bool:
    """NULL, or NaN on a floating column."""
    return value is None or (fam in FLOATING and isinstance(value, float) and math.isnan(value))


def _present(values: Iterable[Any], fam: Family) -> list[Any]:
    return [v for v in values if not missing(v, fam)]


def _instant(value: Any) -> Any:
    """Dates and timestamps on one time line: a naive timestamp is UTC, a date is its midnight UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _key(value: Any, fam: Family) -> tuple[str, Any]:
    """A value as an equality key, tagged by kind so that True never equals 1 nor '1' equals 1."""
    if fam in NUMERIC:
        return ("num", value)  # int, float and Decimal compare (and hash) exactly in Python
    if fam in STRINGY:
        return ("str", value)  # code points: binary collation, case-sensitive
    if fam == "boolean":
        return ("bool", value)
    if fam in TEMPORAL:
        return ("instant", _instant(value))
    return (fam, value)


def _f32(x: float) -> float:
    try:
        return float(struct.unpack("f", struct.pack("f", x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


def readings(num: Num, fam: Family) -> list[Any]:
    """The values a contract number may mean when compared with a column of this family.

    Exact for integers and decimals. On a DOUBLE column a number written as a float is that
    double; one written as an integer is exact, or its double if the two differ (the spec
    allows both). On a FLOAT column the double and its 32-bit rounding are both readings.
    """
    exact = num.exact()
    found: list[Any] = []
    if fam == "double" or fam == "float32":
        double = float(num.text)
        found = [exact, double] if num.integral else [double]
        if fam == "float32":
            found.append(_f32(double))
    else:
        found = [exact]
    unique: list[Any] = []
    for value in found:
        if all(_exact(value) != _exact(other) for other in unique):
            unique.append(value)
    return unique


def _exact(value: Any) -> Fraction | float:
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return Fraction(value)


def _as_number(value: Any, fam: Family) -> Any:
    if fam == "boolean":
        return int(value)
    return value


def _one_status(statuses: set[str]) -> str | None:
    return statuses.pop() if len(statuses) == 1 else None


def _status(ok: bool) -> str:
    return "passed" if ok else "failed"


def _bound_readings(args: Mapping[str, Any], fam: Family) -> list[tuple[Any, Any]]:
    lows = readings(args["min"], fam) if args.get("min") is not None else [None]
    highs = readings(args["max"], fam) if args.get("max") is not None else [None]
    return [(lo, hi) for lo in lows for hi in highs]


def _within(value: Any, low: Any, high: Any) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


# --- the oracle ----------------------------------------------------------------------------


def evaluate(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    """The expected outcome of `rule` on `data` (`others`: referenced relations by name)."""
    missing_columns = [c for c in rule.columns if c not in data.types]
    if rule.kind == "column_exists":
        present = not missing_columns
        return Expected(_status(present), observed="present" if present else "missing")
    if rule.kind == "column_type":
        return _column_type(rule, data)
    if missing_columns:
        return Expected(None, refusal="must", why=f"column {missing_columns} is missing: the check cannot run")
    found = _HANDLERS[rule.kind](rule, data, others, now)
    if rule.args.get("may_refuse") and found.refusal == "never":
        # the spec leaves a choice here (e.g. a collated key: compare byte-wise, or refuse)
        return Expected(found.status, found.failing_rows, found.observed, "may", str(rule.args["may_refuse"]))
    return found


def _column_type(rule: Rule, data: Fetched) -> Expected:
    column = rule.columns[0]
    if column not in data.types:  # the exists check reports it; "not run" is right here too
        return Expected("failed", observed="missing", refusal="may")
    actual = data.types[column]
    ok = type_matches(str(rule.args["type"]), actual)
    return Expected(None if rule.args.get("either") else _status(ok), observed=actual)


# The contract vocabulary's names (README "The contract"), as the oracle reads them.
TYPE_NAMES: dict[str, str] = {
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "int1": "TINYINT",
    "smallint": "SMALLINT",
    "int2": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "int4": "INTEGER",
    "bigint": "BIGINT",
    "int8": "BIGINT",
    "long": "BIGINT",
    "int64": "BIGINT",
    "hugeint": "HUGEINT",
    "utinyint": "UTINYINT",
    "usmallint": "USMALLINT",
    "uinteger": "UINTEGER",
    "ubigint": "UBIGINT",
    "float": "FLOAT",
    "real": "FLOAT",
    "float4": "FLOAT",
    "double": "DOUBLE",
    "float8": "DOUBLE",
    "float64": "DOUBLE",
    "varchar": "VARCHAR",
    "string": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "datetime": "TIMESTAMP",
    "timestamp_ns": "TIMESTAMP_NS",
    "timestamp_ms": "TIMESTAMP_MS",
    "timestamp_s": "TIMESTAMP_S",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
    "timestamp with time zone": "TIMESTAMP WITH TIME ZONE",
    "interval": "INTERVAL",
    "blob": "BLOB",
    "bytea": "BLOB",
    "uuid": "UUID",
    "json": "JSON",
    "logical": "BOOLEAN",
    "signed": "INTEGER",
    "short": "SMALLINT",
    "char": "VARCHAR",
    "bpchar": "VARCHAR",
}


def type_matches(declared: str, actual: str) -> bool:
    """`decimal` matches any DECIMAL(p,s), `decimal(p,s)` exactly that one, an alias its type."""
    text = " ".join(declared.lower().split())
    if text in ("decimal", "numeric"):
        return actual.upper().startswith("DECIMAL(")
    exact = re.fullmatch(r"(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", text)
    if exact:
        return actual.upper().replace(" ", "") == f"DECIMAL({exact.group(1)},{exact.group(2)})"
    return TYPE_NAMES.get(text) == actual.upper()


def _not_null(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    fam = data.family(rule.columns[0])
    failing = sum(missing(v, fam) for v in data.column(rule.columns[0]))
    return Expected(_status(failing == 0), failing_rows=failing)


def _unique(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    fams = [data.family(c) for c in rule.columns]
    columns = [data.column(c) for c in rule.columns]
    keys = [
        tuple(_key(v, f) for v, f in zip(parts, fams, strict=True))
        for parts in zip(*columns, strict=True)
        if not any(missing(v, f) for v, f in zip(parts, fams, strict=True))
    ]
    counts = Counter(keys)
    failing = sum(n for n in counts.values() if n > 1)
    return Expected(_status(failing == 0), failing_rows=failing)


def _between(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    fam = data.family(rule.columns[0])
    if fam not in NUMERIC and fam != "boolean":
        return refused(f"min/max on a {data.types[rule.columns[0]]} column")
    values = [_as_number(v, fam) for v in _present(data.column(rule.columns[0]), fam)]
    counts = {sum(not _within(v, lo, hi) for v in values) for lo, hi in _bound_readings(rule.args, fam)}
    failing = counts.pop() if len(counts) == 1 else None
    status = None if failing is None else _status(failing == 0)
    return Expected(status, failing_rows=failing, refusal="may" if fam == "boolean" else "never")


def fits(val: Val, data_type: str) -> bool:
    """Does a contract literal belong to the column's type (no implicit cast needed)?"""
    fam = family(data_type)
    value = val.value
    if isinstance(value, bool):
        return fam == "boolean"
    if isinstance(value, str):
        return fam == "string" or (fam == "enum" and value in enum_labels(data_type))
    exact = value.exact()
    if fam == "int":
        low, high = _INT_RANGES[data_type.upper()]
        return exact == int(exact) and low <= int(exact) <= high
    if fam == "decimal":
        match = _DECIMAL_TYPE.match(data_type.upper().replace(" ", ""))
        if not match:
            return False
        precision, scale = int(match.group(1)), int(match.group(2))
        scaled = Fraction(exact) * 10**scale
        return scaled.denominator == 1 and abs(scaled.numerator) < 10**precision
    return fam in FLOATING


def _matches(row_value: Any, fam: Family, val: Val) -> set[bool]:
    """Whether a row value equals an accepted literal, under every reading of the literal."""
    value = val.value
    if isinstance(value, bool):
        return {fam == "boolean" and row_value is value}
    if isinstance(value, str):
        return {fam in STRINGY and row_value == value}
    if fam not in NUMERIC:
        return {False}
    return {_exact(row_value) == _exact(reading) for reading in readings(value, fam)}


def _accepted_values(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam, data_type = data.family(column), data.types[column]
    if fam not in NUMERIC | STRINGY | {"boolean"}:
        return refused(f"accepted_values on a {data_type} column")
    vals: Sequence[Val] = rule.args["values"]
    failing: set[int] = {0}
    for row_value in _present(data.column(column), fam):
        # the row fails under a reading where no literal matches it
        outcomes = {any(m) for m in _product([_matches(row_value, fam, val) for val in vals])}
        failing = {f + (0 if ok else 1) for f in failing for ok in outcomes}
    refusal = "may" if any(val.trap or not fits(val, data_type) for val in vals) else "never"
    count = failing.pop() if len(failing) == 1 else None
    return Expected(None if count is None else _status(count == 0), failing_rows=count, refusal=refusal)


def _product(options: list[set[bool]]) -> list[list[bool]]:
    combos: list[list[bool]] = [[]]
    for choice in options:
        combos = [[*combo, c] for combo in combos for c in choice]
    return combos


def _pattern(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam = data.family(column)
    if fam not in STRINGY:
        return refused(f"pattern on a {data.types[column]} column")
    regex = re.compile(str(rule.args["regex"]))
    failing = sum(regex.search(v) is None for v in _present(data.column(column), fam))
    return Expected(_status(failing == 0), failing_rows=failing)


def _length(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam = data.family(column)
    if fam not in STRINGY:
        return refused(f"length on a {data.types[column]} column")
    low, high = (rule.args[k].exact() if rule.args.get(k) is not None else None for k in ("min", "max"))
    failing = sum(not _within(len(v), low, high) for v in _present(data.column(column), fam))
    return Expected(_status(failing == 0), failing_rows=failing)


def _references(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    other = others[rule.args["table"]]
    ref_column = rule.args["column"]
    fam, ref_fam = data.family(column), other.family(ref_column)
    keys = {_key(v, ref_fam) for v in _present(other.column(ref_column), ref_fam)}
    failing = sum(_key(v, fam) not in keys for v in _present(data.column(column), fam))
    # a VARCHAR referencing an INTEGER key: refuse, or compare without a cast (every value orphan);
    # INTEGER referencing BIGINT compares exactly, but "same type or refused" is right too
    same_type = data.types[column].upper() == other.types[ref_column].upper()
    return Expected(_status(failing == 0), failing_rows=failing, refusal="never" if same_type else "may")


def _comparable(a: Family, b: Family) -> bool:
    groups = (NUMERIC, STRINGY, TEMPORAL)
    return a == b or any(a in g and b in g for g in groups)


def _null_fraction(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam = data.family(column)
    values = data.column(column)
    share = Fraction(sum(missing(v, fam) for v in values), len(values)) if values else Fraction(0)
    high = Fraction(rule.args["max"].exact())
    return Expected(_noisy(share, None, high), observed=float(share))


def _noisy(value: Fraction, low: Fraction | None, high: Fraction | None) -> str | None:
    """Verdict of a computed statistic; None (either) when floating-point noise could flip it."""
    for bound in (low, high):
        if bound is None or value == bound:
            continue
        if abs(value - bound) <= Fraction(1, 10**12) * max(Fraction(1), abs(bound)):
            return None
    return _status((low is None or value >= low) and (high is None or value <= high))


def _row_count(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    n = len(data.rows)
    low, high = (rule.args[k].exact() if rule.args.get(k) is not None else None for k in ("min", "max"))
    return Expected(_status(_within(n, low, high)), observed=n)


def _distinct_count(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam = data.family(column)
    n = len({_key(v, fam) for v in _present(data.column(column), fam)})
    low, high = (rule.args[k].exact() if rule.args.get(k) is not None else None for k in ("min", "max"))
    return Expected(_status(_within(n, low, high)), observed=n)


def _numbers(rule: Rule, data: Fetched) -> tuple[Family, list[Any]] | Expected:
    """The values a mean/stddev/quantile is taken over (a BOOLEAN's as 0/1), or why none."""
    column = rule.columns[0]
    fam = data.family(column)
    if fam not in NUMERIC and fam != "boolean":
        return refused(f"{rule.kind} of a {data.types[column]} column")
    return fam, [_as_number(v, fam) for v in _present(data.column(column), fam)]


def _exact_bounds(rule: Rule) -> tuple[Fraction | None, Fraction | None]:
    low, high = rule.args.get("min"), rule.args.get("max")
    return (
        None if low is None else Fraction(low.exact()),
        None if high is None else Fraction(high.exact()),
    )


def _mean(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    found = _numbers(rule, data)
    if isinstance(found, Expected):
        return found
    _, values = found
    if not values:
        return Expected("failed", observed=None, why="no values: a mean proves no bound")
    infinite = [v for v in values if isinstance(v, float) and math.isinf(v)]
    if infinite:
        if len({math.copysign(1, v) for v in infinite}) > 1:
            return Expected("failed", observed=math.nan, why="+inf and -inf: the mean is NaN")
        mean_inf = infinite[0]
        low, high = _exact_bounds(rule)
        return Expected(_status((low is None or mean_inf > 0) and (high is None or mean_inf < 0)), observed=mean_inf)
    mean = sum((Fraction(v) for v in values), Fraction(0)) / len(values)
    low, high = _exact_bounds(rule)
    return Expected(_noisy(mean, low, high), observed=float(mean))


def _stddev(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    found = _numbers(rule, data)
    if isinstance(found, Expected):
        return found
    _, values = found
    if len(values) < 2:
        return Expected("failed", observed=None, why="fewer than 2 values: no sample standard deviation")
    if any(isinstance(v, float) and math.isinf(v) for v in values):
        return Expected("failed", observed=math.nan, why="an infinite value: the deviation is NaN")
    exact = [Fraction(v) for v in values]
    mean = sum(exact, Fraction(0)) / len(exact)
    variance = sum(((x - mean) ** 2 for x in exact), Fraction(0)) / (len(exact) - 1)
    with localcontext() as ctx:
        ctx.prec = 60
        observed = float((Decimal(variance.numerator) / Decimal(variance.denominator)).sqrt())
    low, high = _exact_bounds(rule)
    if high is not None and high < 0:
        return Expected("failed", observed=observed)
    # stddev >= low <=> variance >= low^2 (for low > 0), stddev <= high <=> variance <= high^2: exact
    status = _noisy(variance, None if low is None or low <= 0 else low * low, None if high is None else high * high)
    return Expected(status, observed=observed)


def _quantile(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    found = _numbers(rule, data)
    if isinstance(found, Expected):
        return found
    fam, values = found
    refusal = "may" if fam == "boolean" else "never"  # documented for means (true-rate), not quantiles
    if not values:
        return Expected("failed", observed=None, refusal=refusal, why="no values: a quantile proves no bound")
    ordered = sorted(values)
    q = Fraction(rule.args["q"].exact())
    rank = max(1, math.ceil(q * len(ordered)))
    value = ordered[rank - 1]
    statuses = {_status(_within(value, lo, hi)) for lo, hi in _bound_readings(rule.args, fam)}
    return Expected(_one_status(statuses), observed=value, refusal=refusal)


def _freshness(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam = data.family(column)
    if fam not in TEMPORAL:
        return refused(f"freshness on a {data.types[column]} column")
    present = _present(data.column(column), fam)
    if not present:
        return Expected("failed", observed=None, why="no values: nothing is fresh")
    newest = max(_instant(v) for v in present)
    age = (now - newest).total_seconds()
    limit = float(rule.args["max_age_seconds"])
    status = None if abs(age - limit) < 300 else _status(age <= limit)  # dq reads the clock later
    return Expected(status, observed=round(age / 3600, 2))


def _label_class_fraction(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    column = rule.columns[0]
    fam, data_type = data.family(column), data.types[column]
    key: Val | None = rule.args.get("key")
    if key is not None and not fits(key, data_type):
        return refused(f"class key {key.yaml} does not fit the {data_type} label: its share would read as 0%")
    labelled = _present(data.column(column), fam)
    if not labelled:
        return Expected("failed", observed=None, why="no labelled rows")
    counts = Counter(_key(v, fam) for v in labelled)
    if fam == "boolean":
        for b in (False, True):
            counts.setdefault(("bool", b), 0)
    total = len(labelled)
    low, high = _exact_bounds(rule)
    if key is not None:
        wanted = {_key(r, fam) for r in _readings_of(key, fam)}
        if all(counts.get(k, 0) == 0 for k in wanted) and not rule.args.get("declared") and fam != "boolean":
            # the product's rule (README, label.class_fraction): a named class that never occurs and
            # that the label's accepted_values do not declare fails, so a typo cannot pass as 0%
            return Expected("failed", observed=None, why="a named class that never occurs", refusal="may")
        shares = {Fraction(counts.get(k, 0), total) for k in wanted}
        statuses = {_noisy(s, low, high) for s in shares}
        share = next(iter(shares))
        status = None if None in statuses else _one_status({s for s in statuses if s is not None})
        return Expected(status, observed=float(share), refusal="may" if key.trap else "never")
    shares_all = [Fraction(n, total) for n in counts.values()]
    statuses = {_noisy(s, low, high) for s in shares_all}
    status = None if None in statuses else ("failed" if "failed" in statuses else "passed")
    return Expected(status, observed=sorted(round(float(s), 6) for s in shares_all))


def _readings_of(val: Val, fam: Family) -> list[Any]:
    value = val.value
    if isinstance(value, Num):
        return readings(value, fam)
    return [value]


def _disjoint_keys(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    other = others[rule.args["table"]]
    missing_there = [c for c in rule.columns if c not in other.types]
    if missing_there:
        return refused(f"key column {missing_there} is missing from {other.relation}")
    fams = [data.family(c) for c in rule.columns]
    other_fams = [other.family(c) for c in rule.columns]
    if not all(_comparable(a, b) for a, b in zip(fams, other_fams, strict=True)):
        return refused("key types differ between the splits: no key could ever be shared")

    def keys(source: Fetched, families: list[Family]) -> list[tuple[Any, ...] | None]:
        out: list[tuple[Any, ...] | None] = []
        for parts in zip(*(source.column(c) for c in rule.columns), strict=True):
            if any(missing(v, f) for v, f in zip(parts, families, strict=True)):
                out.append(None)
            else:
                out.append(tuple(_key(v, f) for v, f in zip(parts, families, strict=True)))
        return out

    theirs = {k for k in keys(other, other_fams) if k is not None}
    failing = sum(k is not None and k in theirs for k in keys(data, fams))
    same_types = all(data.types[c].upper() == other.types[c].upper() for c in rule.columns)
    return Expected(_status(failing == 0), failing_rows=failing, refusal="never" if same_types else "may")


def _feature_before_label(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    feature, label_time = rule.columns
    fams = (data.family(feature), data.family(label_time))
    if not all(f in TEMPORAL for f in fams):
        return refused(f"leakage.before needs dates or timestamps, got {[data.types[c] for c in rule.columns]}")
    failing = sum(
        _instant(f) > _instant(t)
        for f, t in zip(data.column(feature), data.column(label_time), strict=True)
        if f is not None and t is not None
    )
    # two different time types: DuckDB would compare them through a cast (TIMESTAMP_NS to
    # TIMESTAMP drops nanoseconds, zoned against naive depends on the session zone); the product
    # refuses every mix but DATE with TIMESTAMP (README, leakage.before), and so may dq here
    types = {data.types[c].upper() for c in rule.columns}
    mixed = len(types) > 1 and types != {"DATE", "TIMESTAMP"}
    return Expected(_status(failing == 0), failing_rows=failing, refusal="may" if mixed else "never")


def _no_extra_columns(rule: Rule, data: Fetched, others: Mapping[str, Fetched], now: datetime) -> Expected:
    allowed = set(rule.args["allowed"])
    extra = [c for c in data.types if c not in allowed]
    return Expected(_status(not extra), observed=sorted(extra))


_HANDLERS = {
    "not_null": _not_null,
    "unique": _unique,
    "between": _between,
    "accepted_values": _accepted_values,
    "pattern": _pattern,
    "length": _length,
    "references": _references,
    "null_fraction": _null_fraction,
    "row_count": _row_count,
    "distinct_count": _distinct_count,
    "mean": _mean,
    "stddev": _stddev,
    "quantile": _quantile,
    "freshness": _freshness,
    "label_class_fraction": _label_class_fraction,
    "disjoint_keys": _disjoint_keys,
    "feature_before_label": _feature_before_label,
    "no_extra_columns": _no_extra_columns,
}
