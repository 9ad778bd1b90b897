"""A text file's cells must be written as exactly their column's type, or the file is refused.

DuckDB reads CSV and JSON leniently: a CSV cell `1.5` in a BIGINT column is read as 2, `0x10` as
16, `1_000` as 1000, `03/04/2026 10:00` as a timestamp in a guessed day/month order,
`2026-03-04 10:00+05:30` in a TIMESTAMP column as 10:00 (the offset dropped), `1.005` in a
DECIMAL(10,2) as 1.01; a JSON `1.5` or `true` after the rows its type was sniffed from is read
into a BIGINT as 2 or 1; an integer in a column read as DOUBLE loses its last digits. Each is a
check judged on a value the file does not hold, and a reader training on the file (Python's csv
or json, pandas, polars) would see another.

So once the typed view of a CSV or JSON is made, the file is read again as text and every cell of
a column with a rule below must match its type's exact shape (ISO dates and timestamps, plain
integers, decimals within the scale, numbers a DOUBLE holds); the first cell that does not is an
error naming column and value (exit 3). A JSON VARCHAR column's every value must be a JSON string
(a 7, true, {...} or [...] past the sniffing sample was turned into text). Other types without a
rule (a CSV's VARCHAR, UUID, nested types, ...) are read as DuckDB reads them; JSON numbers
written with a fraction or exponent (`1.000`, `1e3`)
reach this check only through DuckDB's own reading of them as DOUBLE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import duckdb

from dq.checks.sql import literal, quote_ident
from dq.errors import SourceError

_INTEGER_TYPES = frozenset(
    ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"]
)
_TIMESTAMP_TYPES = frozenset(["TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"])
_PAD = "[ \t]*"
_DAY = "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
# fraction digits a type keeps (more would be cut off in silence); zeros past them change nothing
_SECOND_DIGITS = {"TIMESTAMP_S": 0, "TIMESTAMP_MS": 3, "TIMESTAMP_NS": 9}
_UTC = "(Z|[+-]00(:?00)?)"  # a TIMESTAMP keeps the wall time: only a zero offset leaves it unchanged
_OFFSET = "( ?(Z|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2})?)?)| [A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*)"
_NUMBER = "[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?"
_NOT_A_NUMBER = "(?i:[+-]?(inf|infinity|nan))"
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def _clock(digits: int) -> str:
    fraction = f"([.][0-9]{{0,{digits}}}0*)?" if digits else "([.]0*)?"
    return f"[0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}}{fraction})?"


def _shape(column_type: str, json: bool) -> str | None:
    """The regex a cell of this type must match in full, or None for a type without a rule."""
    pad = "" if json else _PAD
    if column_type in _INTEGER_TYPES:  # `5.0` (pandas' integers beside a missing value) is 5 exactly
        return "-?[0-9]+" if json else f"{pad}[+-]?[0-9]+([.]0*)?{pad}"
    if decimal := _DECIMAL.fullmatch(column_type):
        scale = int(decimal.group(2))
        fraction = f"[0-9]{{0,{scale}}}0*"
        return f"{pad}[+-]?([0-9]+([.]{fraction})?|[.]{fraction}){pad}"
    if column_type in ("DOUBLE", "FLOAT"):
        return f"{pad}({_NUMBER}|{_NOT_A_NUMBER}){pad}"
    if column_type == "BOOLEAN":
        return "(true|false)" if json else f"{pad}(?i:true|false|t|f|1|0){pad}"
    if column_type == "DATE":
        return f"{pad}{_DAY}{pad}"
    if column_type in _TIMESTAMP_TYPES:
        return f"{pad}{_DAY}([ T]{_clock(_SECOND_DIGITS.get(column_type, 6))}{_UTC}?)?{pad}"
    if column_type == "TIMESTAMP WITH TIME ZONE":
        return f"{pad}{_DAY}([ T]{_clock(6)}{_OFFSET}?)?{pad}"
    if column_type == "TIME":
        return f"{pad}{_clock(6)}{pad}"
    return None


def _integer_not_held(text: str, float_type: str) -> str:
    """SQL: the cell is an integer (`5`, `5.000`) that no value of the float type equals."""
    digits = f"regexp_replace(trim({text}), '[.]0*$', '')"
    as_int = f"TRY_CAST({digits} AS HUGEINT)"
    held = f"TRY_CAST(TRY_CAST({digits} AS {float_type}) AS HUGEINT)"
    integral = f"regexp_full_match(trim({text}), '[+-]?[0-9]+([.]0*)?')"
    return f"({integral} AND ({as_int} IS NULL OR {as_int} IS DISTINCT FROM {held}))"


def json_text_type(column_type: str) -> str:
    """The type a JSON column is read again in: its raw JSON (`"7"`, quoted) for a number or a boolean,
    whose shape no string matches, and for a VARCHAR (whose every value must be a JSON string, quoted);
    VARCHAR (the string's text) for the rest."""
    numeric = column_type in _INTEGER_TYPES or column_type in ("DOUBLE", "FLOAT", "BOOLEAN", "VARCHAR")
    return "JSON" if numeric or _DECIMAL.fullmatch(column_type) else "VARCHAR"


def ruled_columns(columns: Mapping[str, str], *, json: bool = False) -> dict[str, str]:
    """The columns whose cells have an exact shape to match: {name: type}; of a JSON file (`json`),
    its VARCHAR columns too (every value a JSON string: DuckDB turns a 7 or a true into text)."""
    return {
        name: kind
        for name, kind in columns.items()
        if _shape(kind, json=False) is not None or (json and kind == "VARCHAR")
    }


def refuse_inexact_cells(
    connection: duckdb.DuckDBPyConnection,
    text_source: str,
    columns: Mapping[str, str],
    rows: int | None,
    label: str,
    *,
    json: bool,
    partition_keys: Mapping[str, str] | None = None,
) -> None:
    """Read `text_source` (the same file, its ruled columns as text) once; raise a SourceError for
    the first column holding a cell not written as its type, or if the two reads count other rows.
    `partition_keys` (hive directories' `key=value`) are held to JSON's shapes: no padding (`k= 5`)."""
    from dq.data.files import FILE_COLUMN

    keys = partition_keys or {}
    ruled = {
        name: kind
        for name, kind in ruled_columns(columns, json=json).items()
        if kind != "VARCHAR" or name not in keys  # a partition key's text is any text
    }
    if not ruled:
        return
    found = []
    for name, kind in ruled.items():
        text = f"CAST({quote_ident(name)} AS VARCHAR)"
        if kind == "VARCHAR":  # a JSON string's raw JSON is quoted; a number's, boolean's, object's or array's not
            bad = f"NOT starts_with({text}, '\"')"
        else:
            bad = f"NOT regexp_full_match({text}, {literal(_shape(kind, json or name in keys) or '')})"
        if kind in ("DOUBLE", "FLOAT"):
            bad = f"({bad} OR {_integer_not_held(text, kind)})"
        where = f"WHERE {text} IS NOT NULL AND {bad}"
        found.append(f"min({text}) FILTER ({where}), arg_min({quote_ident(FILE_COLUMN)}, {text}) FILTER ({where})")
    try:
        row = connection.execute(f"SELECT count(*), {', '.join(found)} FROM {text_source}").fetchall()[0]
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise SourceError(f"{label}: cannot read its cells again as text to check they are exact ({first})") from None
    if rows is not None and int(row[0]) != rows:
        raise SourceError(
            f"{label}: read as text it has {row[0]} rows, read in its types {rows}; dq cannot tell which rows the "
            "file holds. Fix: write the file with a header row and one record per line"
        )
    for (name, kind), cell, file in zip(ruled.items(), row[1::2], row[2::2], strict=True):
        if cell is not None and name in keys:
            raise SourceError(
                f"{label}: the hive partition key {name!r} is read as {kind}, but a directory names it {name}={cell}, "
                f"which is not written as a {kind} exactly (DuckDB would read another value: {_why(kind)}). Fix: "
                f"name the directories with the values as a {kind} is written, or rename them to text that reads "
                "as VARCHAR"
            )
        if cell is not None and kind == "VARCHAR":
            raise SourceError(
                f"{label}: column {name!r} is read as VARCHAR, but it holds the JSON value {cell} (in {file}), "
                "which is no string (a number, boolean, object or array): DuckDB would turn it into the text "
                f"{cell!r}, a reader of the JSON sees a {_json_kind(cell)}. Fix: write that key's values all as JSON "
                "strings, or declare the column's `type` as its values are (BIGINT, BOOLEAN, JSON, ...)"
            )
        if cell is not None and json and cell.startswith('"'):
            raise SourceError(
                f"{label}: column {name!r} is read as {kind}, but it holds the JSON string {cell} (in {file}), "
                "which DuckDB "
                f"would cast into a {kind} (a reader of the JSON sees a string). Fix: write that key's values all "
                "as JSON numbers or booleans of its type, or all as strings"
            )
        if cell is not None:
            raise SourceError(
                f"{label}: column {name!r} is read as {kind}, but it holds {cell!r} (in {file}), "
                "which is not written as a "
                f"{kind} exactly (DuckDB would read another value: {_why(kind)}). Fix: "
                + (
                    "write those values as JSON strings, or provide the data as Parquet with an exact type"
                    if json
                    else "correct the file, or declare the column's `type` as the file holds it (VARCHAR keeps the "
                    "text as it is)"
                )
            )


def _json_kind(raw: str) -> str:
    if raw.startswith("{"):
        return "object"
    if raw.startswith("["):
        return "array"
    return "boolean" if raw in ("true", "false") else "number"


def _why(kind: str) -> str:
    if kind in _INTEGER_TYPES:
        return "integers are plain digits; a fraction would be rounded, hex or `_` read as a number"
    if kind.startswith("DECIMAL"):
        return "more fraction digits than the scale would be rounded"
    if kind in ("DOUBLE", "FLOAT"):
        return f"an integer no {kind} holds would lose its last digits"
    if kind in ("DATE", *_TIMESTAMP_TYPES, "TIMESTAMP WITH TIME ZONE"):
        return (
            "dates and timestamps are ISO (2026-03-04 10:00:00): another order is a guess; a TIMESTAMP drops an offset"
        )
    return "its text has another form"
