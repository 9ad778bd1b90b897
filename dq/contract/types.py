"""The contract's type vocabulary, normalised to the names DuckDB's DESCRIBE prints.

Contracts are written by people (`int`, `string`, `timestamptz`); the database answers in its own
words (`INTEGER`, `VARCHAR`, `TIMESTAMP WITH TIME ZONE`). Both sides go through `canonical_type`
so a type check compares like with like.
"""

from __future__ import annotations

import re

_ALIASES: dict[str, str] = {
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "logical": "BOOLEAN",
    "tinyint": "TINYINT",
    "int1": "TINYINT",
    "smallint": "SMALLINT",
    "int2": "SMALLINT",
    "short": "SMALLINT",
    "int": "INTEGER",
    "int4": "INTEGER",
    "integer": "INTEGER",
    "signed": "INTEGER",
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
    "float4": "FLOAT",
    "real": "FLOAT",
    "double": "DOUBLE",
    "float8": "DOUBLE",
    "float64": "DOUBLE",
    "decimal": "DECIMAL",
    "numeric": "DECIMAL",
    "varchar": "VARCHAR",
    "string": "VARCHAR",
    "text": "VARCHAR",
    "char": "VARCHAR",
    "bpchar": "VARCHAR",
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
}

NUMERIC_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
    }
)
TEMPORAL_TYPES = frozenset(
    {"DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE"}
)
_DECIMAL = re.compile(r"^(decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$", re.IGNORECASE)


def canonical_type(name: str) -> str:
    """Normalise a type name; raise ValueError (naming the allowed ones) if it is unknown."""
    cleaned = " ".join(str(name).strip().lower().split())
    decimal = _DECIMAL.match(cleaned)
    if decimal:
        return f"DECIMAL({decimal.group(2)},{decimal.group(3)})"
    if cleaned in _ALIASES:
        return _ALIASES[cleaned]
    if cleaned.upper() in _ALIASES.values():
        return cleaned.upper()
    allowed = ", ".join(sorted({*_ALIASES}))
    raise ValueError(f"unknown type {name!r}; allowed: {allowed}, decimal(p,s)")


def base_type(canonical: str) -> str:
    """DECIMAL(18,3) -> DECIMAL; other names unchanged."""
    return canonical.split("(", 1)[0]


def types_match(declared: str, actual: str) -> bool:
    """Does the database's type satisfy the contract's? A bare `decimal` accepts any precision."""
    actual_canonical = canonical_type(actual) if _is_known(actual) else actual.upper()
    if declared == "DECIMAL":
        return base_type(actual_canonical) == "DECIMAL"
    return declared == actual_canonical


_DECIMAL_PARTS = re.compile(r"^\s*(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$", re.IGNORECASE)


def decimal_scale(duckdb_type: str) -> int:
    """DECIMAL(18,3) -> 3; a bare DECIMAL is DuckDB's default DECIMAL(18,3)."""
    match = _DECIMAL_PARTS.match(duckdb_type)
    return int(match.group(2)) if match else 3


def decimal_precision(duckdb_type: str) -> int:
    """DECIMAL(18,3) -> 18; a bare DECIMAL is DuckDB's default DECIMAL(18,3)."""
    match = _DECIMAL_PARTS.match(duckdb_type)
    return int(match.group(1)) if match else 18


def is_numeric(canonical: str) -> bool:
    return base_type(canonical) in NUMERIC_TYPES


def _is_known(name: str) -> bool:
    try:
        canonical_type(name)
    except ValueError:
        return False
    return True


INTEGER_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE"})
# Compared through a cast of the contract's text to the column's type (DuckDB parses it exactly).
CAST_TYPES = frozenset(
    {"DATE", "TIME", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE", "UUID"}
)


def column_family(duckdb_type: str) -> str:
    """'integer', 'float', 'decimal', 'string', 'enum', 'boolean', 'cast' (temporal, uuid) or 'other'.

    What a contract value must look like to be compared with a column of this type (dq/data/bind.py
    at run time, dq/contract/model.py at load time for a declared `type`)."""
    upper = duckdb_type.strip().upper()
    if upper.startswith("ENUM("):
        return "enum"
    try:
        base = base_type(canonical_type(upper))
    except ValueError:
        base = upper
    if base in INTEGER_TYPES:
        return "integer"
    if base in FLOAT_TYPES:
        return "float"
    if base == "DECIMAL":
        return "decimal"
    if base == "VARCHAR":
        return "string"
    if base == "BOOLEAN":
        return "boolean"
    if base in CAST_TYPES:
        return "cast"
    return "other"
