"""Spark column types under the contract's (DuckDB's) type names, so `type:` means one thing.

A contract says `type: BIGINT` or `TIMESTAMP`; a Spark column is `bigint` or `timestamp_ntz`.
Each Spark type is named by the DuckDB type that holds the same values: Spark's `timestamp` is an
instant (DuckDB's `TIMESTAMP WITH TIME ZONE`), `timestamp_ntz` a wall-clock time (DuckDB's
`TIMESTAMP`, and what a DuckDB TIMESTAMP written to Parquet reads back as). A type with no DuckDB
counterpart keeps Spark's own name, so no `type:` of the contract matches it and no check binds to
it as if it were another type. A string with a collation other than binary is named with its
collation: a comparison on it would ignore case, and every check refuses it (dq/spark/engine.py).
"""

from __future__ import annotations

from typing import Any

_SIMPLE = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
    "binary": "BLOB",
}


def duckdb_type(data_type: Any) -> str:
    """A Spark DataType as the contract names it: DecimalType(10,2) -> 'DECIMAL(10,2)'."""
    from pyspark.sql import types as T

    if isinstance(data_type, T.DecimalType):
        return f"DECIMAL({data_type.precision},{data_type.scale})"
    if isinstance(data_type, T.StringType) and getattr(data_type, "collation", "UTF8_BINARY") != "UTF8_BINARY":
        return f"VARCHAR COLLATE {data_type.collation}"
    if isinstance(data_type, T.CharType | T.VarcharType):
        return "VARCHAR"
    simple = data_type.simpleString()
    return _SIMPLE.get(simple, simple.upper())


def spark_type(duckdb_name: str) -> str | None:
    """The Spark SQL type a DuckDB-typed contract value is read in (`CAST('...' AS type)`), or None."""
    reverse = {v: k for k, v in _SIMPLE.items()} | {"TIMESTAMPTZ": "timestamp", "INT": "int"}
    name = duckdb_name.strip().upper()
    if name.startswith("DECIMAL"):
        return name
    return reverse.get(name)


def creatable_in_duckdb(name: str) -> bool:
    """Can binding's shadow table (dq/spark/relation.py) declare a column of this type?"""
    return name in _SIMPLE.values() or name.startswith("DECIMAL(")
