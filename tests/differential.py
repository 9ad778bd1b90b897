"""The differential fuzzer: generated tables and contracts, every engine against tests/oracle.py.

A *round* is one generated DuckDB table (every type the contract vocabulary names, plus ENUM,
HUGEINT, DECIMAL(38,10), TIME/TIMESTAMP WITH TIME ZONE, collated VARCHARs, NaN, +-inf, unicode
look-alikes, integers near 2^53/2^63) with its referenced tables, and one contract holding many
rules on it, written as YAML and read back by `dq.contract.model.load_contract` (so YAML parsing is
under test too). Each engine validates the round's contract once (GX costs seconds per run, so
rules are batched per table); the oracle evaluates each rule on the rows DuckDB returns to Python.

A *case* is one rule on one round. Per engine it ends as:
* agree   - same verdict, failing-row count and observed value as the oracle;
* refused - dq refused it (ContractError at load, or an `error` result) and the oracle says
  refusing is right;
* a disagreement, labelled by how bad it is (LABELS): FALSE PASS (dq passes what must fail: the
  worst), FALSE FAIL, WRONG COUNT, WRONG OBSERVED, MISSING CHECK, CRASH (validate_contract
  raised), REFUSED VALID (dq refused what the oracle can evaluate), ACCEPTED INVALID (dq gave a
  verdict on a rule that must be refused), INEXACT OBSERVED (right verdict, the observed value
  shown through a DOUBLE).

Used by tests/test_oracle_fuzz.py (a fixed-seed CI slice) and bench/fuzz_oracle.py (>= 10,000
cases). Rules the loader rejects are found one at a time first (loading is cheap) and left out of
the round's contract, so one refused rule does not hide every other rule's verdict; a run that
crashes (or an engine that errors every check alike) is bisected to the rules responsible.

Engines are named by what `--engine` asks for: "pandera-batch" is `--engine auto` (which routes
label rules to pandera, as dq does); a result's own `engine` says who ran it. Everything goes
through `dq.run.runner.validate_contract` on a read-only `dq.data.source.open_database` connection, as
`dq validate` does, minus the history.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb

from tests.oracle import Expected, Num, Rule, Val, evaluate, fetch

ENGINES = ("pandera-batch", "pandera", "gx")
_ENGINE_CHOICE = {"pandera-batch": "auto", "pandera": "pandera", "gx": "gx"}

# Disagreement labels, worst first (a false pass lets bad data into training).
FALSE_PASS = "FALSE PASS"
LABELS = (
    FALSE_PASS,
    "FALSE FAIL",
    "WRONG COUNT",
    "WRONG OBSERVED",
    "MISSING CHECK",
    "CRASH",
    "REFUSED VALID",
    "ACCEPTED INVALID",
    "INEXACT OBSERVED",
)


# --- column kinds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A column type the generator can produce: its DDL, its values (SQL text) and type names."""

    key: str
    ddl: str
    cast: str  # the type values are CAST to ('' = write the text as a raw SQL literal)
    family: str
    pool: tuple[str, ...]
    good: tuple[str, ...] = ()  # contract type names that match
    bad: tuple[str, ...] = ()  # contract type names that do not
    collated: bool = False


_STRINGS = (
    "DE",
    "de",
    "De",
    "FR",
    "US",
    "é",
    "e\u0301",
    "E",
    "ß",
    "SS",
    "ss",
    "1",
    " 1",
    "01",
    "1 ",
    "2",
    "2.0",
    "+2",
    "yes",
    "no",
    "NO",
    "SE",
    "Yes",
    "true",
    "t",
    "on",
    "off",
    "y",
    "",
    " ",
    "\t",
    "NaN",
    "a@b.c",
    "user @x.io",
    "naïve",
    "nai\u0308ve",
    "💥",
    "x" * 40,
    "it's",
    "ǅ",
    "İ",
    "\u0131",
    "\u00a0",
    "Å",
    "\u212b",
    "basic",
    "BASIC",
    "Basic",
    "010",
    "1:30",
    "1_000",
    "null",
)
_ENUM_LABELS = ("sad", "ok", "happy", "yes", "Yes", "De", "de", "1")
_DOUBLES = (
    "0.1",
    "0.2",
    "0.30000000000000004",
    "0.3",
    "1e+17",
    "9007199254740992.0",
    "9007199254740994.0",
    "-0.0",
    "0.0",
    "1.0",
    "2.5",
    "-1.5",
    "1e+308",
    "5e-324",
    "NaN",
    "Infinity",
    "-Infinity",
    "100.0",
    "2.0",
    "3.0",
)
_FLOATS = (
    "0.5",
    "1.25",
    "-2.0",
    "3.0",
    "0.0",
    "-0.0",
    "16777216.0",
    "16777217.0",
    "0.1",
    "NaN",
    "Infinity",
    "-Infinity",
    "2.0",
    "1.0",
)


def _ints(*values: int) -> tuple[str, ...]:
    return tuple(str(v) for v in values)


def kinds(now: datetime) -> list[Kind]:
    """Every generated column type; temporal pools are relative to `now` (freshness is)."""
    ago = [timedelta(hours=h) for h in (1, 5, 30, 40, 72, 24 * 400, -2)]
    stamps = (*((now - d).replace(tzinfo=None).isoformat(sep=" ") for d in ago), "1970-01-01 00:00:00")
    zones = (timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), UTC)
    tz_stamps = tuple((now - d).astimezone(z).isoformat(sep=" ") for d, z in zip(ago, zones * 3, strict=False))
    today = now.date()
    dates = (*(str(today - timedelta(days=d)) for d in (0, 1, 2, 10, -3)), "1970-01-01", "2000-02-29")
    i = "integer"
    return [
        Kind("tinyint", "TINYINT", "TINYINT", "int", _ints(-128, 127, 0, 1, -1, 5, 10), ("tinyint", "int1"), (i,)),
        Kind("smallint", "SMALLINT", "SMALLINT", "int", _ints(-32768, 32767, 0, 7, 100), ("int2",), (i,)),
        Kind(
            "integer",
            "INTEGER",
            "INTEGER",
            "int",
            _ints(-(2**31), 2**31 - 1, 0, 1, 2, 3, 42, -7, 100),
            ("int", "integer", "int4", "signed"),
            ("bigint", "float"),
        ),
        Kind(
            "bigint",
            "BIGINT",
            "BIGINT",
            "int",
            _ints(2**53, 2**53 + 1, 2**53 - 1, 2**63 - 1, -(2**63), 10**17, 10**17 + 1, 0, 1, 2, -1),
            ("bigint", "int8", "long", "int64"),
            ("integer", "hugeint", "ubigint"),
        ),
        Kind(
            "hugeint",
            "HUGEINT",
            "HUGEINT",
            "int",
            _ints(2**127 - 1, -(2**127), 2**64 + 1, 2**53 + 1, 10**30 + 1, 0, 1, -1),
            ("hugeint",),
            ("bigint", "double"),
        ),
        Kind("utinyint", "UTINYINT", "UTINYINT", "int", _ints(0, 255, 1, 128), ("utinyint",), ("tinyint",)),
        Kind("usmallint", "USMALLINT", "USMALLINT", "int", _ints(0, 65535, 1), ("usmallint",), ("smallint",)),
        Kind("uinteger", "UINTEGER", "UINTEGER", "int", _ints(0, 2**32 - 1, 1, 2**31), ("uinteger",), (i,)),
        Kind(
            "ubigint",
            "UBIGINT",
            "UBIGINT",
            "int",
            _ints(0, 2**64 - 1, 2**63, 2**53 + 1, 1),
            ("ubigint",),
            ("bigint", "hugeint"),
        ),
        Kind("float", "FLOAT", "FLOAT", "float32", _FLOATS, ("float", "real", "float4"), ("double",)),
        Kind("double", "DOUBLE", "DOUBLE", "double", _DOUBLES, ("double", "float8", "float64"), ("float", "decimal")),
        Kind(
            "decimal38",
            "DECIMAL(38,10)",
            "DECIMAL(38,10)",
            "decimal",
            (
                "1234567890123456789012345678.0123456789",
                "-9999999999999999999999999999.9999999999",
                "0.0000000001",
                "0.1",
                "1",
                "0",
                "2.5",
                "12345678901234567890.1234567891",
                "12345678901234567890.1234567890",
            ),
            ("decimal", "decimal(38,10)", "numeric(38, 10)"),
            ("decimal(38,9)", "double", "hugeint"),
        ),
        Kind(
            "decimal18",
            "DECIMAL(18,3)",
            "DECIMAL(18,3)",
            "decimal",
            ("0.001", "123.456", "999999999999999.999", "-0.5", "0", "2"),
            ("decimal", "decimal(18,3)"),
            ("decimal(18,2)", "bigint"),
        ),
        Kind(
            "decimal4",
            "DECIMAL(4,1)",
            "DECIMAL(4,1)",
            "decimal",
            ("0.1", "999.9", "-999.9", "1.0", "2.5"),
            ("decimal(4,1)", "numeric"),
            ("decimal(4,2)",),
        ),
        Kind(
            "boolean",
            "BOOLEAN",
            "BOOLEAN",
            "boolean",
            ("true", "false"),
            ("boolean", "bool", "logical"),
            ("varchar", "tinyint"),
        ),
        Kind("varchar", "VARCHAR", "VARCHAR", "string", _STRINGS, ("varchar", "string", "text"), ("json", "blob")),
        Kind("nocase", "VARCHAR COLLATE NOCASE", "VARCHAR", "string", _STRINGS, ("varchar",), ("json",), True),
        Kind("noaccent", "VARCHAR COLLATE NOACCENT", "VARCHAR", "string", _STRINGS, ("varchar",), ("json",), True),
        Kind("enum", "mood", "mood", "enum", _ENUM_LABELS, (), ("varchar", "string")),
        Kind("date", "DATE", "DATE", "date", dates, ("date",), ("timestamp", "varchar")),
        Kind(
            "timestamp",
            "TIMESTAMP",
            "TIMESTAMP",
            "timestamp",
            stamps,
            ("timestamp", "datetime"),
            ("timestamptz", "timestamp_ns", "date"),
        ),
        Kind("timestamp_ns", "TIMESTAMP_NS", "TIMESTAMP_NS", "timestamp", stamps, ("timestamp_ns",), ("timestamp",)),
        Kind("timestamp_ms", "TIMESTAMP_MS", "TIMESTAMP_MS", "timestamp", stamps, ("timestamp_ms",), ("timestamp",)),
        Kind("timestamp_s", "TIMESTAMP_S", "TIMESTAMP_S", "timestamp", stamps, ("timestamp_s",), ("timestamp",)),
        Kind(
            "timestamptz",
            "TIMESTAMPTZ",
            "TIMESTAMPTZ",
            "timestamptz",
            tz_stamps,
            ("timestamptz", "timestamp with time zone"),
            ("timestamp",),
        ),
        Kind(
            "time",
            "TIME",
            "TIME",
            "time",
            ("00:00:00", "23:59:59.999999", "12:30:00"),
            ("time",),
            ("timestamp", "interval"),
        ),
        Kind(
            "timetz",
            "TIMETZ",
            "TIMETZ",
            "timetz",
            ("12:00:00+01", "10:00:00+00", "23:00:00-05"),
            (),
            ("time", "timestamptz"),
        ),
        Kind(
            "interval",
            "INTERVAL",
            "INTERVAL",
            "interval",
            ("1 day", "2 hours", "-1 day", "45 minutes"),
            ("interval",),
            ("time",),
        ),
        Kind("blob", "BLOB", "BLOB", "blob", ("\\x00ab", "", "abc"), ("blob", "bytea"), ("varchar",)),
        Kind(
            "uuid",
            "UUID",
            "UUID",
            "uuid",
            ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000"),
            ("uuid",),
            ("varchar",),
        ),
        Kind("json", "JSON", "JSON", "json", ('{"a": 1}', "[]", '"x"'), ("json",), ("varchar",)),
    ]


ENUM_DDL = "CREATE TYPE mood AS ENUM (" + ", ".join("'" + v.replace("'", "''") + "'" for v in _ENUM_LABELS) + ")"


def sql_value(kind: Kind, text: str | None) -> str:
    if text is None:
        return "NULL"
    return f"CAST('{text.replace(chr(39), chr(39) * 2)}' AS {kind.cast})"


# --- tables, rules, contracts ---------------------------------------------------------------


@dataclass
class Column:
    name: str
    kind: Kind
    values: list[str | None]
    severity: str = "error"


@dataclass
class GenTable:
    name: str
    columns: list[Column]

    @property
    def n_rows(self) -> int:
        return len(self.columns[0].values) if self.columns else 0

    def statements(self) -> list[str]:
        ddl = ", ".join(f'"{c.name}" {c.kind.ddl}' for c in self.columns)
        out = [f'CREATE TABLE main."{self.name}" ({ddl})']
        if self.n_rows:
            rows = [
                "(" + ", ".join(sql_value(c.kind, c.values[r]) for c in self.columns) + ")" for r in range(self.n_rows)
            ]
            out.append(f'INSERT INTO main."{self.name}" VALUES ' + ", ".join(rows))
        return out

    def keep_rows(self, rows: Sequence[int]) -> GenTable:
        return replace(self, columns=[replace(c, values=[c.values[r] for r in rows]) for c in self.columns])

    def keep_columns(self, names: set[str]) -> GenTable:
        return replace(self, columns=[c for c in self.columns if c.name in names])


Fragment = tuple[tuple[str, ...], str]  # (key path, YAML text of the value)


@dataclass
class Draft:
    """One rule and the YAML that states it (key paths into the contract)."""

    rule: Rule
    fragments: list[Fragment]
    tables: tuple[str, ...] = ()  # other relations it needs (references, disjoint_from)


@dataclass
class Round:
    """One generated table, its neighbours and the rules of its contract."""

    seed: int
    index: int
    now: datetime
    main: GenTable
    others: list[GenTable]
    declared: list[str]  # columns under `columns:` (a declared column may be missing: a ghost)
    drafts: list[Draft]

    def statements(self) -> list[str]:
        needs_enum = any(c.kind.key == "enum" for t in [self.main, *self.others] for c in t.columns)
        return ([ENUM_DDL] if needs_enum else []) + [s for t in [self.main, *self.others] for s in t.statements()]

    def severity(self, column: str) -> str:
        return next((c.severity for c in self.main.columns if c.name == column), "error")


def yaml_number(text: str) -> str:
    """A float spelled so YAML 1.1 and 1.2 both read a float (PyYAML reads `1e+17` as a string)."""
    if "e" not in text.lower() or text.lower() in ("nan", "infinity", "-infinity"):
        return text
    mantissa, exponent = text.lower().split("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[0] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


def yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render(round_: Round, drafts: Sequence[Draft], name: str | None = None) -> str:
    """The contract YAML: header, top-level rules, then one flow mapping per declared column."""
    tree: dict[str, Any] = {}
    columns: dict[str, dict[str, Any]] = {c: {} for c in round_.declared}
    for column in round_.declared:
        if round_.severity(column) != "error":
            columns[column]["severity"] = round_.severity(column)
    for draft in drafts:
        for path, text in draft.fragments:
            node: dict[str, Any] = columns if path[0] == "columns" else tree
            keys = path[1:] if path[0] == "columns" else path
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = text
    lines = [f"contract: {name or f'fuzz_{round_.seed}_{round_.index}'}", "version: 1.0.0", "dataset: {table: main.t}"]
    lines += [f"{key}: {_flow(value)}" for key, value in tree.items()]
    lines.append("columns:" if columns else "columns: {}")
    lines += [f"  {column}: {_flow(body)}" for column, body in columns.items()]
    return "\n".join(lines) + "\n"


def _flow(node: Any) -> str:
    if isinstance(node, str):
        return node
    return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in node.items()) + "}"


# --- the generator ----------------------------------------------------------------------------


class Generator:
    """Seeded: (seed, index) always gives the same round (temporal values relative to `now`)."""

    def __init__(self, seed: int, now: datetime | None = None) -> None:
        self.seed = seed
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.kinds = kinds(self.now)

    def round(self, index: int, n_rows: int | None = None) -> Round:
        rng = random.Random(f"{self.seed}:{index}")
        n = n_rows if n_rows is not None else rng.choice([0, 1, 2, *([8] * 2), *range(5, 26)])
        main = GenTable("t", [self._column(rng, kind, kind.key, n) for kind in self.kinds])
        main.columns += self._special_columns(rng, n)
        for column in main.columns:
            if rng.random() < 0.08 and column.kind.family not in ("date", "timestamp", "timestamptz"):
                column.severity = "warn"
        others = [self._ref_table(rng, f"ref{i}") for i in range(3)]
        declared = [c.name for c in main.columns if rng.random() < 0.97]
        ghost = rng.random() < 0.3
        if ghost:
            declared.append("ghost")
        round_ = Round(self.seed, index, self.now, main, others, declared, [])
        # the disjoint_from key is declared before any rule is drawn: exists/no_extra_columns see it
        disjoint = None
        if rng.random() < 0.7:
            others.append(self._other_split(rng, round_))
            disjoint = self._disjoint(rng, round_, others[-1])
        round_.drafts = list(self._drafts(rng, round_))
        if disjoint is not None:
            round_.drafts.append(disjoint)
        return round_

    def _column(self, rng: random.Random, kind: Kind, name: str, n: int) -> Column:
        null_share = rng.choice([0.0, 0.0, 0.1, 0.3, 1.0 if rng.random() < 0.1 else 0.2])
        pool = list(kind.pool)
        if len(pool) > 4 and rng.random() < 0.5:
            pool = rng.sample(pool, rng.randint(2, 5))  # fewer distinct values: duplicates, tight bounds
        values = [None if rng.random() < null_share else rng.choice(pool) for _ in range(n)]
        return Column(name, kind, values)

    def _special_columns(self, rng: random.Random, n: int) -> list[Column]:
        by_key = {k.key: k for k in self.kinds}
        labels = {
            "varchar": ["yes", "no", "no", "no", "Yes"],
            "boolean": ["true", "false", "false"],
            "integer": ["0", "1", "1"],
            "double": ["0.0", "1.0", "1.0", "NaN"],
        }
        label_kind = rng.choice(sorted(labels))
        label = Column("label", by_key[label_kind], [rng.choice(labels[label_kind]) for _ in range(n)])
        if rng.random() < 0.3:
            label.values = [None if rng.random() < 0.2 else v for v in label.values]
        feature_kind = by_key[rng.choice(["timestamp", "timestamptz", "date", "timestamp_ns"])]
        label_time_kind = by_key[rng.choice(["timestamp", "timestamptz", "date"])]
        feature = self._column(rng, feature_kind, "feature_ts", n)
        label_time = self._column(rng, label_time_kind, "label_ts", n)
        return [label, feature, label_time]

    def _ref_table(self, rng: random.Random, name: str) -> GenTable:
        kind = rng.choice([k for k in self.kinds if k.family in ("int", "double", "decimal", "string", "enum")])
        values: list[str | None] = [*rng.sample(list(kind.pool), min(len(kind.pool), rng.randint(1, 6)))]
        if rng.random() < 0.3:
            values.append(None)
        return GenTable(name, [Column("k", kind, values)])

    def _other_split(self, rng: random.Random, round_: Round) -> GenTable:
        keys = rng.sample(["integer", "bigint", "varchar", "nocase", "double", "hugeint"], rng.randint(1, 2))
        by_key = {k.key: k for k in self.kinds}
        n = rng.randint(0, 6)
        columns = []
        for key in keys:
            kind = by_key[key] if rng.random() < 0.8 else rng.choice(self.kinds[:16])
            columns.append(Column(key, kind, [rng.choice(kind.pool) for _ in range(n)]))
        return GenTable("other", columns)

    def _disjoint(self, rng: random.Random, round_: Round, other: GenTable) -> Draft:
        key = tuple(c.name for c in other.columns)
        for column in key:
            if column not in round_.declared:
                round_.declared.append(column)
        collated = [c.name for c in round_.main.columns + other.columns if c.name in key and c.kind.collated]
        args: dict[str, Any] = {"table": "main.other"}
        if collated:
            args["may_refuse"] = f"collated key column {collated}: compare byte-wise, or refuse"
        rule = Rule("leakage.disjoint_from", "disjoint_keys", key, args)
        keys = ", ".join(key)
        return Draft(rule, [(("leakage", "disjoint_from"), f"{{table: main.other, key: [{keys}]}}")], ("other",))

    # -- rules ------------------------------------------------------------------------------

    def _drafts(self, rng: random.Random, round_: Round) -> Iterator[Draft]:
        columns = {c.name: c for c in round_.main.columns}
        for name in round_.declared:
            yield Draft(Rule(f"{name}.exists", "column_exists", (name,), severity=round_.severity(name)), [])
        for name in round_.declared:
            column = columns.get(name)
            if column is None:  # the ghost: declared, not in the table
                if rng.random() < 0.5:
                    yield self._type(round_, name, "integer", False)
                continue
            yield from self._column_rules(rng, round_, column)
        yield from self._table_rules(rng, round_, columns)

    def _type(self, round_: Round, column: str, alias: str, either: bool) -> Draft:
        rule = Rule(
            f"{column}.type", "column_type", (column,), {"type": alias, "either": either}, round_.severity(column)
        )
        plain = not any(ch in alias for ch in " ,[]{}:#")  # decimal(18,3) must be quoted in a flow mapping
        return Draft(rule, [(("columns", column, "type"), alias if plain else yaml_string(alias))])

    def _column_rules(self, rng: random.Random, round_: Round, column: Column) -> Iterator[Draft]:
        kind, name, sev = column.kind, column.name, column.severity
        if name == "label":
            return
        present = [v for v in column.values if v is not None]
        numeric = kind.family in ("int", "double", "float32", "decimal")
        if (kind.good or kind.bad) and rng.random() < 0.6:
            good = rng.random() < 0.6 and bool(kind.good)
            alias = rng.choice(kind.good if good else kind.bad)
            yield self._type(round_, name, alias, either=kind.collated)
        if rng.random() < 0.35:
            yield Draft(
                Rule(f"{name}.not_null", "not_null", (name,), severity=sev), [(("columns", name, "nullable"), "false")]
            )
        if rng.random() < 0.3:
            yield Draft(
                Rule(f"{name}.unique", "unique", (name,), severity=sev), [(("columns", name, "unique"), "true")]
            )
        if rng.random() < 0.3:
            limit = rng.choice(["0", "0.1", "0.2", "0.25", "0.5", "1"])
            yield Draft(
                Rule(f"{name}.null_fraction", "null_fraction", (name,), {"max": Num(limit)}, sev),
                [(("columns", name, "max_null_fraction"), limit)],
            )
        if rng.random() < 0.3:
            n_distinct = len(set(present))
            bounds = self._count_bounds(rng, n_distinct)
            yield Draft(
                Rule(f"{name}.distinct_count", "distinct_count", (name,), bounds, sev),
                [(("columns", name, "distinct_count"), _bounds_yaml(bounds))],
            )
        if numeric or kind.family == "boolean" or rng.random() < 0.08:
            if rng.random() < (0.6 if numeric else 0.2):
                bounds = self._value_bounds(rng, kind, present)
                frags: list[Fragment] = [(("columns", name, k), yaml_number(v.text)) for k, v in bounds.items() if v]
                yield Draft(Rule(f"{name}.range", "between", (name,), bounds, sev), frags)
            for stat in ("mean", "stddev"):
                if rng.random() < (0.3 if numeric or kind.family == "boolean" else 0.05):
                    bounds = self._stat_bounds(rng, kind, present)
                    yield Draft(
                        Rule(f"{name}.{stat}", stat, (name,), bounds, sev),
                        [(("columns", name, stat), _bounds_yaml(bounds))],
                    )
            if rng.random() < (0.4 if numeric or kind.family == "boolean" else 0.05):
                for q in rng.sample(
                    ["0", "0.01", "0.1", "0.25", "0.3", "0.5", "0.75", "0.9", "0.99", "1"], rng.randint(1, 3)
                ):
                    bounds = self._value_bounds(rng, kind, present)
                    label = f"{float(q):g}"
                    rule = Rule(f"{name}.quantile_{label}", "quantile", (name,), {"q": Num(q), **bounds}, sev)
                    yield Draft(rule, [(("columns", name, "quantiles", q), _bounds_yaml(bounds))])
        if kind.family in ("string", "enum", "int", "double", "float32", "decimal", "boolean") and rng.random() < 0.45:
            vals = self._accepted(rng, kind, present)
            text = "[" + ", ".join(v.yaml for v in vals) + "]"
            yield Draft(
                Rule(f"{name}.accepted_values", "accepted_values", (name,), {"values": tuple(vals)}, sev),
                [(("columns", name, "accepted_values"), text)],
            )
        stringy = kind.family in ("string", "enum")
        if stringy or rng.random() < 0.03:
            if rng.random() < 0.4:
                regex = rng.choice(_PATTERNS)
                yield Draft(
                    Rule(f"{name}.pattern", "pattern", (name,), {"regex": regex}, sev),
                    [(("columns", name, "pattern"), "'" + regex.replace("'", "''") + "'")],
                )
            if rng.random() < 0.35:
                bounds = self._count_bounds(rng, rng.choice([0, 1, 2, 3, 5, 40]))
                yield Draft(
                    Rule(f"{name}.length", "length", (name,), bounds, sev),
                    [(("columns", name, "length"), _bounds_yaml(bounds))],
                )
        if (numeric or stringy) and rng.random() < 0.3:
            target = rng.choice([t for t in round_.others if t.name.startswith("ref")])
            args: dict[str, Any] = {"table": f"main.{target.name}", "column": "k"}
            if kind.collated or target.columns[0].kind.collated:
                args["may_refuse"] = "a collated column: compare byte-wise, or refuse"
            rule = Rule(f"{name}.references", "references", (name,), args, sev)
            yield Draft(
                rule, [(("columns", name, "references"), f"{{table: main.{target.name}, column: k}}")], (target.name,)
            )

    def _table_rules(self, rng: random.Random, round_: Round, columns: dict[str, Column]) -> Iterator[Draft]:
        declared = [c for c in round_.declared if c in columns]
        if rng.random() < 0.5:
            bounds = self._count_bounds(rng, round_.main.n_rows)
            yield Draft(Rule("row_count", "row_count", (), bounds), [(("row_count",), _bounds_yaml(bounds))])
        if rng.random() < 0.35:
            allowed = tuple(round_.declared)
            yield Draft(
                Rule("schema.no_extra_columns", "no_extra_columns", (), {"allowed": allowed}),
                [(("extra_columns",), "forbid")],
            )
        temporal = [c for c in declared if columns[c].kind.family in ("date", "timestamp", "timestamptz")]
        if temporal and rng.random() < 0.7:
            column = rng.choice(temporal)
            max_age = rng.choice(["36h", "2d", "90m", "1w", "3600s", "4h", "1.5h", "400d"])
            seconds = _duration_seconds(max_age)
            yield Draft(
                Rule(f"{column}.freshness", "freshness", (column,), {"max_age_seconds": seconds}),
                [(("freshness",), f"{{column: {column}, max_age: {max_age}}}")],
            )
        if rng.random() < 0.45:
            key = rng.sample(
                [c for c in declared if columns[c].kind.family in ("int", "string", "double")], rng.choice([1, 1, 2])
            )
            for column in key:
                yield Draft(Rule(f"{column}.not_null", "not_null", (column,)), [])
            yield Draft(Rule("primary_key.unique", "unique", tuple(key)), [(("primary_key",), f"[{', '.join(key)}]")])
        if "label" in declared and rng.random() < 0.7:
            yield self._class_fraction(rng, columns["label"])
        if {"feature_ts", "label_ts"} <= set(declared) and rng.random() < 0.6:
            yield Draft(
                Rule("leakage.before", "feature_before_label", ("feature_ts", "label_ts")),
                [(("leakage", "before"), "{column: feature_ts, label_time: label_ts}")],
            )

    def _class_fraction(self, rng: random.Random, label: Column) -> Draft:
        low, high = sorted(rng.sample(["0", "0.05", "0.1", "0.25", "0.3", "0.5", "0.6", "0.75", "0.9", "1"], 2))
        bounds = {"min": Num(low) if rng.random() < 0.6 else None, "max": Num(high)}
        text = _bounds_yaml(bounds)
        if rng.random() < 0.3:
            rule = Rule("label.class_fraction", "label_class_fraction", ("label",), {"key": None, **bounds})
            return Draft(rule, [(("label",), f"{{column: label, class_fraction: {text}}}")])
        keys = {
            "varchar": [
                Val("yes", "yes", True),
                Val("'yes'", "yes"),
                Val('"no"', "no"),
                Val("no", "no", True),
                Val("Yes", "Yes", True),
                Val("'Yes'", "Yes"),
            ],
            "boolean": [Val("true", True), Val("false", False), Val("yes", "yes", True), Val("'true'", "true")],
            "integer": [Val("1", Num("1")), Val("0", Num("0")), Val("true", True), Val("'1'", "1")],
            "double": [Val("1", Num("1")), Val("1.0", Num("1.0")), Val("0", Num("0")), Val("true", True)],
        }[label.kind.key]
        key = rng.choice(keys)
        value = key.value
        name = (
            str(value).lower()
            if isinstance(value, bool)
            else str(float(value.text))
            if isinstance(value, Num) and not value.integral
            else str(value)
        )
        rule = Rule(f"label.class_fraction.{name}", "label_class_fraction", ("label",), {"key": key, **bounds})
        return Draft(rule, [(("label",), f"{{column: label, class_fraction: {{{key.yaml}: {text}}}}}")])

    # -- values and bounds -------------------------------------------------------------------

    def _count_bounds(self, rng: random.Random, around: int) -> dict[str, Num | None]:
        low = max(0, around + rng.choice([-2, -1, 0, 0, 1]))
        high = max(low, around + rng.choice([-1, 0, 0, 1, 3]))
        which = rng.choice(["min", "max", "both"])
        return {"min": Num(str(low)) if which != "max" else None, "max": Num(str(high)) if which != "min" else None}

    def _value_bounds(self, rng: random.Random, kind: Kind, present: list[str]) -> dict[str, Num | None]:
        def one() -> Num:
            finite = [v for v in present if _finite(v)] if kind.family != "boolean" else ["0", "1"]
            base = rng.choice(finite or list(kind.pool if kind.family != "boolean" else ("0", "1")))
            if kind.family == "boolean" or not _finite(base):
                return Num(rng.choice(["0", "1", "0.5"]))
            return Num(_near(rng, kind, base))

        bounds = [one(), one()]
        bounds.sort(key=lambda n: Fraction(n.exact()))
        which = rng.choice(["min", "max", "both", "both"])
        return {"min": bounds[0] if which != "max" else None, "max": bounds[1] if which != "min" else None}

    def _stat_bounds(self, rng: random.Random, kind: Kind, present: list[str]) -> dict[str, Num | None]:
        numbers = [float(_truth(v)) for v in present if _finite(v) or kind.family == "boolean"]
        center = sum(numbers) / len(numbers) if numbers else 0.0
        spread = max(abs(center), 1.0)

        def near() -> Num:
            delta = rng.choice([0.0, 0.0, 0.01, -0.01, 0.5, -0.5, 2.0, -2.0])
            value = center + delta * spread
            return Num(repr(float(value)) if math.isfinite(value) else "0")

        low, high = sorted([near(), near()], key=lambda n: float(n.text))
        which = rng.choice(["min", "max", "both"])
        return {"min": low if which != "max" else None, "max": high if which != "min" else None}

    def _accepted(self, rng: random.Random, kind: Kind, present: list[str]) -> list[Val]:
        vals: list[Val] = []
        for _ in range(rng.randint(1, 4)):
            source = rng.choice(present) if present and rng.random() < 0.7 else rng.choice(kind.pool)
            vals.append(self._literal(rng, kind, source))
        if rng.random() < 0.35:
            vals.append(rng.choice(_TRAPS))
        return vals

    def _literal(self, rng: random.Random, kind: Kind, text: str) -> Val:
        if kind.family in ("string", "enum"):
            return Val(yaml_string(text), text)
        if kind.family == "boolean":
            return Val(text, text == "true")
        if not _finite(text):
            return Val(yaml_string(text), text)  # 'NaN' as a string: does not fit a number column
        if rng.random() < 0.15:
            return Val(yaml_string(text), text)  # a quoted number: a string, not a number
        return Val(yaml_number(text), Num(text))


_PATTERNS = (
    "^[A-Z]{2}$",
    "^[a-z]+$",
    "^[0-9]+$",
    "^ ",
    " $",
    "é",
    "^.{2}$",
    "^$",
    "(?i)^de$",
    "^[^@ ]+@[^@ ]+$",
    "e",
    "^[A-Za-z]*$",
    "[.]",
    "^.$",
    "1",
    "^(yes|no)$",
)

# Unquoted YAML scalars that do not mean what they look like (`yes` is a boolean in YAML 1.1; in
# YAML 1.2 it is the string 'yes'); the intended value is the YAML 1.2 core-schema reading.
_TRAPS = (
    Val("yes", "yes", True),
    Val("no", "no", True),
    Val("on", "on", True),
    Val("off", "off", True),
    Val("Yes", "Yes", True),
    Val("NO", "NO", True),  # Norway, in YAML 1.1 False
    Val("y", "y"),
    Val("1:30", "1:30", True),
    Val("1_000", "1_000", True),
    Val("010", Num("10"), True),
    Val("1", Num("1")),
    Val("2.0", Num("2.0")),
    Val("0x1F", Num("31")),
    Val("true", True),
    Val("'1'", "1"),
    Val('" 1"', " 1"),
    Val("'01'", "01"),
    Val("'2.0'", "2.0"),
)


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _truth(text: str) -> str:
    return {"true": "1", "false": "0"}.get(text, text)


def _near(rng: random.Random, kind: Kind, text: str) -> str:
    """A bound at, or one step beside, a value in the column (where exactness decides)."""
    step = rng.choice([0, 0, 0, -1, 1, 10])
    if step == 10:
        scaled = float(text) * rng.choice([0.5, 2.0, -1.0]) + 1.0
        return yaml_number(repr(scaled)) if math.isfinite(scaled) else text
    if kind.family == "int":
        return str(int(text) + step)
    if kind.family == "decimal":
        scale = int(kind.ddl.split(",")[1].rstrip(")"))
        return str(Decimal(text) + step * Decimal(10) ** -scale)
    value = float(text)
    for _ in range(abs(step)):
        value = math.nextafter(value, math.copysign(math.inf, step))
    return repr(value) if math.isfinite(value) else text


def _bounds_yaml(bounds: dict[str, Num | None]) -> str:
    parts = [f"{k}: {yaml_number(v.text)}" for k, v in bounds.items() if v is not None]
    return "{" + ", ".join(parts) + "}"


def _duration_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return float(text[:-1]) * units[text[-1]]


# --- running dq and the oracle -----------------------------------------------------------------


@dataclass
class Outcome:
    """One case on one engine: how dq's answer relates to the oracle's."""

    round: Round
    draft: Draft
    engine: str
    expected: Expected
    verdict: str  # "agree", "refused", or one of LABELS
    detail: str = ""
    got: str = ""


@dataclass
class RoundResult:
    outcomes: list[Outcome] = field(default_factory=list)
    load_refused: dict[str, str] = field(default_factory=dict)  # check name -> ContractError text


def build(path: Path, statements: Sequence[str]) -> None:
    with duckdb.connect(str(path)) as writer:
        for statement in statements:
            writer.execute(statement)


def oracle(round_: Round, path: Path, drafts: Sequence[Draft]) -> dict[str, Expected]:
    """Expected outcome per check name, from the rows of the built database."""
    with duckdb.connect(str(path), read_only=True) as reader:
        main = fetch(reader, "main", "t")
        others = {f"main.{t.name}": fetch(reader, "main", t.name) for t in round_.others}
    return {d.rule.name: evaluate(d.rule, main, others, datetime.now(UTC)) for d in drafts}


def load_refusals(round_: Round, drafts: Sequence[Draft], workdir: Path) -> dict[str, str]:
    """Which rules the loader rejects on their own (each in a contract with only that rule)."""
    from dq.contract.model import load_contract
    from dq.errors import ContractError

    refused: dict[str, str] = {}
    path = workdir / "single.yml"
    for draft in drafts:
        if not draft.fragments:
            continue
        path.write_text(render(round_, [draft]), encoding="utf-8")
        try:
            load_contract(path)
        except ContractError as exc:
            refused[draft.rule.name] = str(exc)
    return refused


def run_engine(db: Path, contract: Path, engine: str) -> dict[str, Any] | str:
    """dq's results by check name, or why the contract as a whole got no verdict.

    A ContractError is "refused at load"; any other DqError "could not validate"; an exception
    that escapes `validate_contract` (the runner turns it into an error result, exit 3) is
    "CRASH: ...", which `run_round` bisects to the rules that cause it.
    """
    from dq.checks.result import ContractResult
    from dq.config import EngineChoice, Settings
    from dq.contract.model import load_contract
    from dq.data.source import open_database
    from dq.errors import DqError
    from dq.run.runner import validate_contract

    try:
        loaded = load_contract(contract)
    except DqError as exc:
        return f"refused at load: {exc}"
    settings = Settings(
        db=db,
        dbt_project=None,
        results_dir=db.parent / "results",
        engine=EngineChoice(_ENGINE_CHOICE[engine]),
        history=db.parent / "history.duckdb",
    )
    result = ContractResult(contract=loaded.contract, path=str(contract))
    connection = open_database(db)
    try:
        with quiet():
            validate_contract(loaded, connection, settings, result)
    except DqError as exc:
        return f"could not validate: {exc}"
    except Exception as exc:
        return f"CRASH: {type(exc).__name__}: {str(exc)[:300]}"
    finally:
        connection.close()
    return {check.name: check for check in result.checks}


def _crashed(found: dict[str, Any] | str, engine: str = "") -> str | None:
    """Why a run gave no per-check verdicts: a crash, a whole-contract load failure, or an engine
    that errored every check it was given with one "crashed" message."""
    if isinstance(found, str):
        return found if found.startswith(("CRASH", "refused at load")) else None
    errors = [c for c in found.values() if c.engine == engine]
    messages = {c.message for c in errors if c.status.value == "error"}
    if len(errors) > 1 and len(messages) == 1 and all(c.status.value == "error" for c in errors):
        message = messages.pop()
        return message if "crash" in message.lower() else None
    return None


def _run_bisected(round_: Round, drafts: list[Draft], db: Path, engine: str, workdir: Path) -> dict[str, Any]:
    """Results by check name. A run that crashes (or fails to load as a whole, or has the engine
    error every check alike) is split in halves until the rules responsible are found, so one
    crash does not hide every other verdict."""
    if not drafts:
        return {}
    contract = workdir / "contract.yml"
    contract.write_text(render(round_, drafts), encoding="utf-8")
    found = run_engine(db, contract, engine)
    why = _crashed(found, engine)
    if why is None or len(drafts) == 1:
        return {d.rule.name: found for d in drafts} if isinstance(found, str) else found
    half = len(drafts) // 2
    return {
        **_run_bisected(round_, drafts[:half], db, engine, workdir),
        **_run_bisected(round_, drafts[half:], db, engine, workdir),
    }


def run_round(round_: Round, engines: Sequence[str], workdir: Path) -> RoundResult:
    """Build the round's database, find load refusals, run each engine once, compare every case.

    Rules that crashed an earlier engine are run apart on the later ones (two runs instead of a
    bisection: GX pays seconds per run).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "fuzz.duckdb"
    for stale in (db, workdir / "fuzz.duckdb.wal"):
        stale.unlink(missing_ok=True)
    build(db, round_.statements())
    drafts = _distinct(round_.drafts)
    out = RoundResult(load_refused=load_refusals(round_, drafts, workdir))
    kept = [d for d in drafts if d.rule.name not in out.load_refused]
    expected = oracle(round_, db, drafts)
    names = {d.rule.name for d in drafts}
    suspects: list[Draft] = []
    for engine in engines:
        rest = [d for d in kept if d not in suspects]
        found = {
            **_run_bisected(round_, rest, db, engine, workdir),
            **_run_bisected(round_, suspects, db, engine, workdir),
        }
        suspects += [
            d for d in rest if isinstance(found.get(d.rule.name), str) and _crashed(found[d.rule.name]) is not None
        ]
        for draft in drafts:
            refusal = out.load_refused.get(draft.rule.name)
            result: Any = f"refused at load: {refusal}" if refusal else found.get(draft.rule.name)
            out.outcomes.append(compare(round_, draft, engine, expected[draft.rule.name], result))
        for name, check in found.items():
            if name not in names and not isinstance(check, str):
                out.outcomes.append(_unexpected(round_, engine, name, check))
    return out


def _distinct(drafts: Sequence[Draft]) -> list[Draft]:
    """One draft per check name, as dq reports one check per name.

    A primary-key column's `nullable: false` and the key's own not-null are one check, with the
    strictest severity. A one-column key's uniqueness *is* that column's `unique: true` (dq
    reports it once, as primary_key.unique): the column's draft is folded into the key's.
    """
    keys = [d.rule.columns for d in drafts if d.rule.name == "primary_key.unique"]
    folded = {f"{key[0]}.unique" for key in keys if len(key) == 1}
    seen: dict[str, Draft] = {}
    key_first = sorted(drafts, key=lambda d: d.rule.name != "primary_key.unique")  # the key's rule is kept
    for draft in key_first:
        name = "primary_key.unique" if draft.rule.name in folded else draft.rule.name
        if name not in seen:
            seen[name] = Draft(draft.rule, [], draft.tables)
        kept = seen[name]
        kept.fragments.extend(f for f in draft.fragments if f not in kept.fragments)
        if name == draft.rule.name and "error" in (kept.rule.severity, draft.rule.severity):
            kept.rule = replace(kept.rule, severity="error")
    return list(seen.values())


def _unexpected(round_: Round, engine: str, name: str, check: Any) -> Outcome:
    rule = Rule(name, str(check.kind), tuple(check.columns))
    got = f"{check.status.value} (a check the contract was not meant to produce)"
    return Outcome(round_, Draft(rule, []), engine, Expected(None), "MISSING CHECK", f"unexpected check {name}", got)


def compare(round_: Round, draft: Draft, engine: str, expected: Expected, result: Any) -> Outcome:
    """Classify dq's answer for one case against the oracle's."""
    rule = draft.rule

    def outcome(verdict: str, detail: str = "", got: str = "") -> Outcome:
        return Outcome(round_, draft, engine, expected, verdict, detail, got)

    if result is None:
        return outcome("MISSING CHECK", f"dq reported no check named {rule.name}", "absent")
    if isinstance(result, str) and result.startswith("CRASH"):
        return outcome("CRASH", "validate_contract raised (the runner makes this exit 3)", result)
    if isinstance(result, str):
        if expected.refusal != "never":
            return outcome("refused", got=result)
        return outcome("REFUSED VALID", "dq refused a rule the oracle can evaluate", result)
    status = result.status.value
    got = _describe(result)
    if status == "error":
        if expected.refusal != "never":
            return outcome("refused", got=got)
        return outcome("REFUSED VALID", "dq could not validate a rule the oracle can evaluate", got)
    if expected.refusal == "must":
        return outcome("ACCEPTED INVALID", expected.why, got)
    verdict = "passed" if status == "passed" else "failed"
    want = "warned" if rule.severity == "warn" else "failed"
    if status in ("failed", "warned") and status != want:
        return outcome(
            "FALSE FAIL" if status == "failed" else FALSE_PASS, f"severity {rule.severity} gave {status}", got
        )
    if expected.status is not None and verdict != expected.status:
        return outcome(FALSE_PASS if verdict == "passed" else "FALSE FAIL", "", got)
    if rule.row_level:
        if expected.failing_rows is not None and result.failing_rows != expected.failing_rows:
            return outcome("WRONG COUNT", f"failing rows {result.failing_rows} != {expected.failing_rows}", got)
        return outcome("agree", got=got)
    same, why = same_observed(rule, expected.observed, result.observed)
    if same:
        return outcome("agree", got=got)
    # right verdict, value shown through a DOUBLE (a DECIMAL or a 2^53+1 quantile): least bad
    return outcome("INEXACT OBSERVED" if "rounding to DOUBLE" in why else "WRONG OBSERVED", why, got)


def _describe(result: Any) -> str:
    parts = [result.status.value]
    if result.failing_rows is not None:
        parts.append(f"failing_rows={result.failing_rows}")
    if result.observed is not None:
        parts.append(f"observed={result.observed!r}")
    if result.status.value == "error" or result.message:
        parts.append(f"message={result.message[:200]!r}")
    parts.append(f"engine={result.engine}")
    return ", ".join(parts)


def _number(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
        return float(value)
    return value


def same_observed(rule: Rule, want: Any, got: Any) -> tuple[bool, str]:
    """Is dq's observed value the oracle's (exact for counts and quantiles, close for statistics)?"""
    want, got = _number(want), _number(got)
    kind = rule.kind
    if kind == "no_extra_columns":
        return sorted(got or []) == want, f"extra columns {got} != {want}"
    if kind in ("column_type", "column_exists"):
        return got == want, f"{got!r} != {want!r}"
    if kind == "label_class_fraction":
        if isinstance(got, dict) and isinstance(want, list):
            shares = sorted(float(v) for v in got.values())
            ok = len(shares) == len(want) and all(abs(a - b) < 1e-6 for a, b in zip(shares, want, strict=True))
            return ok, f"shares {shares} != {want}"
        return True, ""  # a named class: the verdict decides; dq shows every class's share
    if isinstance(want, float) and math.isnan(want) and got is None:
        return True, ""  # GX hands a NaN statistic back as None; both fail the bound
    if kind == "stddev" and got is None and isinstance(want, float) and abs(want) > 1e150:
        return True, ""  # DuckDB's sum of squares overflows past ~1e154: dq fails closed (no value)
    if want is None or got is None:
        return want is None and got is None, f"{got!r} != {want!r}"
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got), f"{got!r} != NaN"
    if kind in ("row_count", "distinct_count", "quantile"):
        try:
            exact = Fraction(got) == Fraction(want) if _finite_number(got) and _finite_number(want) else got == want
        except (TypeError, ValueError):
            return False, f"{got!r} != {want!r}"
        if exact:
            return True, ""
        rounded = _finite_number(got) and float(got) == float(want)
        return False, f"{got!r} != {want!r}" + (" (equal only after rounding to DOUBLE)" if rounded else "")
    if kind == "freshness":
        return abs(float(got) - float(want)) <= 0.1, f"age {got} h != {want} h"
    if kind == "null_fraction":
        return abs(float(got) - float(want)) <= 1e-6, f"{got!r} != {want!r}"
    try:
        a, b = float(got), float(want)
    except (TypeError, ValueError):
        return False, f"{got!r} != {want!r}"
    if math.isinf(b) or math.isinf(a):
        return a == b, f"{got!r} != {want!r}"
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), f"{got!r} != {want!r}"


def _finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(value)


# --- minimal reproductions ----------------------------------------------------------------------


@dataclass
class Repro:
    """A disagreement boiled down: the DDL, the contract and what each side said."""

    label: str
    kind: str
    engine: str
    statements: list[str]
    contract: str
    oracle: str
    dq: str
    detail: str

    def text(self) -> str:
        sql = ";\n".join(self.statements) + ";"
        return (
            f"**{self.label}** `{self.kind}` on engine `{self.engine}` — {self.detail}\n\n"
            f"```sql\n{sql}\n```\n\n```yaml\n{self.contract}```\n\n"
            f"- oracle: {self.oracle}\n- dq: {self.dq}\n"
        )


def shrink(outcome: Outcome, budget: int = 60) -> Repro:
    """The smallest table (columns, then rows) and contract that still show the same disagreement."""
    round_, draft, engine = outcome.round, outcome.draft, outcome.engine
    used = set(draft.rule.columns)
    main = round_.main.keep_columns(used or {c.name for c in round_.main.columns[:1]})

    def others_for(drafts: Sequence[Draft]) -> list[GenTable]:
        return [t for t in round_.others if any(t.name in d.tables for d in drafts)]

    candidate = replace(
        round_,
        main=main,
        others=others_for([draft]),
        declared=[c for c in round_.declared if c in used],
        drafts=[draft],
    )
    if draft.rule.kind == "no_extra_columns":
        candidate = replace(round_, others=[], drafts=[draft])
    tries = [0]

    def still(c: Round) -> Outcome | None:
        tries[0] += 1
        with tempfile.TemporaryDirectory(prefix="dq-shrink-") as tmp:
            found = [o for o in run_round(c, [engine], Path(tmp)).outcomes if o.draft.rule.name == draft.rule.name]
        return found[0] if found and found[0].verdict == outcome.verdict else None

    best = still(candidate)
    if best is None:  # the disagreement needs its neighbours (several rules on one column, say)
        same_columns = [d for d in round_.drafts if (set(d.rule.columns) <= used and d.rule.columns) or d is draft]
        candidate = replace(candidate, drafts=same_columns, others=others_for(same_columns))
        best = still(candidate)
    if best is None:
        candidate, best = round_, outcome
    rows = list(range(candidate.main.n_rows))
    chunk = max(1, len(rows) // 2)
    while chunk >= 1 and tries[0] < budget:
        index = 0
        while index < len(rows) and tries[0] < budget:
            keep = rows[:index] + rows[index + chunk :]
            trial = replace(candidate, main=candidate.main.keep_rows(keep))
            found = still(trial)
            if found is not None:
                rows, best = keep, found
            else:
                index += chunk
        chunk //= 2
    final = replace(candidate, main=candidate.main.keep_rows(rows))
    expected = best.expected
    said = f"{expected.status or 'either verdict'}"
    if expected.failing_rows is not None:
        said += f", failing_rows={expected.failing_rows}"
    if expected.observed is not None:
        said += f", observed={expected.observed!r}"
    said += f" (refusal: {expected.refusal}{'; ' + expected.why if expected.why else ''})"
    return Repro(
        best.verdict,
        draft.rule.kind,
        engine,
        final.statements(),
        render(final, final.drafts),
        said,
        best.got,
        best.detail,
    )


# --- summaries -------------------------------------------------------------------------------------


def class_of(outcome: Outcome) -> tuple[str, str, str]:
    """A disagreement's class: how bad, which rule kind, on which column type."""
    columns = {c.name: c.kind.ddl for c in outcome.round.main.columns}
    types = "/".join(columns.get(c, "missing column") for c in outcome.draft.rule.columns) or "table"
    return outcome.verdict, outcome.draft.rule.kind, types


def tally(outcomes: Sequence[Outcome]) -> dict[str, Tally]:
    counts: dict[str, Tally] = {}
    for o in outcomes:
        counts.setdefault(o.engine, Tally()).add(o.verdict)
    return counts


class Tally(dict[str, int]):
    """agree / refused / disagreement counts of one engine."""

    def add(self, verdict: str) -> None:
        key = verdict if verdict in ("agree", "refused") else "disagree"
        self[key] = self.get(key, 0) + 1
        if key == "disagree":
            self[verdict] = self.get(verdict, 0) + 1


def summary_table(outcomes: Sequence[Outcome]) -> str:
    rows = [
        "| engine | cases | agree | refused (rightly) | disagree | false passes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for engine, c in sorted(tally(outcomes).items()):
        cases = c.get("agree", 0) + c.get("refused", 0) + c.get("disagree", 0)
        rows.append(
            f"| {engine} | {cases} | {c.get('agree', 0)} | {c.get('refused', 0)} | {c.get('disagree', 0)} "
            f"| {c.get(FALSE_PASS, 0)} |"
        )
    return "\n".join(rows)


def coverage_table(outcomes: Sequence[Outcome]) -> str:
    """Cases per rule kind (all engines): what the generator reached, and how it ended."""
    by_kind: dict[str, Tally] = {}
    for o in outcomes:
        by_kind.setdefault(o.draft.rule.kind, Tally()).add(o.verdict)
    rows = ["| rule kind | engine-cases | agree | refused | disagree |", "|---|---:|---:|---:|---:|"]
    for kind, c in sorted(by_kind.items()):
        total = c.get("agree", 0) + c.get("refused", 0) + c.get("disagree", 0)
        rows.append(f"| {kind} | {total} | {c.get('agree', 0)} | {c.get('refused', 0)} | {c.get('disagree', 0)} |")
    return "\n".join(rows)


@contextlib.contextmanager
def time_zone(name: str | None) -> Iterator[None]:
    """Run with the process time zone `name` (DuckDB's session TimeZone follows TZ at connect)."""
    import os
    import time

    if name is None:
        yield
        return
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def classes(outcomes: Sequence[Outcome]) -> dict[tuple[str, str, str], list[Outcome]]:
    """Disagreements by class, worst label first."""
    found: dict[tuple[str, str, str], list[Outcome]] = {}
    for o in outcomes:
        if o.verdict not in ("agree", "refused"):
            found.setdefault(class_of(o), []).append(o)
    return dict(sorted(found.items(), key=lambda kv: (LABELS.index(kv[0][0]), kv[0][1], kv[0][2])))


def generate_rounds(seed: int, count: int, now: datetime | None = None) -> Iterator[Round]:
    generator = Generator(seed, now)
    for index in range(count):
        yield generator.round(index)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """GX prints progress and warnings; a fuzz run's output is its summary."""
    import io
    import warnings

    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        yield
