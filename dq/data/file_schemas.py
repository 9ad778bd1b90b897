"""The files of a dataset must agree on their columns, or the dataset is refused.

DuckDB reads a glob with the first file's schema and casts the others into it: a DOUBLE file's
-0.4 and 100.4 read into a BIGINT column as 0 and 100, a DECIMAL(10,4) as DECIMAL(10,2), `'050'`
as 50, a TIMESTAMPTZ as a TIMESTAMP; a column only a later file holds is dropped. A CSV header
`" a",a` is read as `a` (trimmed) and `a_1` (the real `a` renamed), a duplicated header name as
`x` and `x_1`. A hive partition key that is also a column inside the files replaces the file's
values with the directory's. Each is a check judged on values the files do not hold.

So before the relation is built, every file's own columns are read (a Parquet file's schema from
its footer, a CSV's first record as text) and must be exactly the same names, with the same types
for Parquet, in every file, without duplicates (names compared case-insensitively, as DuckDB
matches them); a partition key must not be a file column (a JSON file's: any record's key); a
Parquet INT96 timestamp is refused (read in microseconds); a CSV's quoted cell with spaces outside
its quotes is refused (DuckDB drops them).
Otherwise: a SourceError naming the files, the column and the fix (exit 3).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import NamedTuple

import duckdb

from dq.checks.sql import literal
from dq.errors import SourceError


class FileColumns(NamedTuple):
    columns: list[str]  # the names every file holds (the first file's order)
    files: list[str]  # the files read
    reordered: bool = False  # a CSV glob whose headers name them in other orders (read by name)


# a Parquet column: its name, then (name, DuckDB type, children) of every node under it
_Column = tuple[tuple[str | None, str | None, int], ...]


def file_columns(
    connection: duckdb.DuckDBPyConnection,
    target: str,
    kind: str,
    csv_options: Sequence[str],
    label: str,
    *,
    hive: bool = False,
) -> FileColumns:
    """The column names every file holds (refused unless all files agree, see the module) and the
    files read. `target`: the path's SQL literal; `csv_options`: the options dq reads a CSV with.
    A JSON dataset's keys are read only when it is hive-partitioned (`hive`), for the shadowing check."""
    if kind == "parquet":
        return FileColumns(*_parquet_columns(connection, target, label))
    if kind == "csv":
        return _csv_columns(connection, target, csv_options, label)
    if kind == "json" and hive:
        return FileColumns(*_json_keys(connection, target))
    return FileColumns([], [])


def _json_keys(connection: duckdb.DuckDBPyConnection, target: str) -> tuple[list[str], list[str]]:
    """Every key of every record of the files (one pass over them, past DuckDB's sniffing sample) and the files."""
    try:
        files = [str(row[0]) for row in connection.execute(f"SELECT file FROM glob({target}) ORDER BY file").fetchall()]
        keys = connection.execute(
            f"SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects({target}, hive_partitioning = false) "
            "WHERE json_type(json) = 'OBJECT'"
        ).fetchall()
    except duckdb.Error:
        return [], []  # the read itself reports what is wrong with the files
    return sorted(str(row[0]) for row in keys), files


def refuse_shadowing_partitions(files: Sequence[str], columns: Sequence[str], label: str) -> list[str]:
    """The hive partition keys of `files` (their `key=value` directories); a key that is also a
    column inside the files is refused (DuckDB would read the directory's value, not the file's)."""
    keys: list[str] = []
    for file in files:
        for part in PurePosixPath(file.replace("\\", "/")).parent.parts:
            key, equals, _ = part.partition("=")
            if equals and key and key not in keys:
                keys.append(key)
    held = {column.lower(): column for column in columns}  # DuckDB matches names case-insensitively
    if shadowed := [key for key in keys if key.lower() in held]:
        named = "" if held[shadowed[0].lower()] == shadowed[0] else f" (as {held[shadowed[0].lower()]!r})"
        raise SourceError(
            f"{label}: the hive partition key {shadowed[0]!r} is also a column inside the files{named}, and DuckDB "
            "would read the directory's value in place of the file's (it matches names case-insensitively). Fix: "
            "rename the column or the partition directories, or read the files with `hive_partitioning: false`"
        )
    return keys


def _parquet_columns(connection: duckdb.DuckDBPyConnection, target: str, label: str) -> tuple[list[str], list[str]]:
    try:
        rows = connection.execute(
            f"SELECT file_name, name, duckdb_type, coalesce(num_children, 0), type FROM parquet_schema({target})"
        ).fetchall()
    except duckdb.Error:
        return [], []  # the read itself reports what is wrong with the files
    nodes: dict[str, list[tuple[str | None, str | None, int]]] = {}
    for file, name, kind, children, physical in rows:
        if physical == "INT96":
            raise SourceError(
                f"{label}: column {name!r} of the Parquet file {file} is an INT96 timestamp, which DuckDB reads as "
                "a TIMESTAMP in microseconds, dropping its nanoseconds (checks would judge other values than the "
                "file holds). Fix: write it as TIMESTAMP_NS / timestamp[ns] (pyarrow: "
                "use_deprecated_int96_timestamps=False; coerce_timestamps='us' only if it holds no nanoseconds)"
            )
        nodes.setdefault(str(file), []).append((name, kind, int(children)))
    schemas = {file: _top_level(file, found[1:], label) for file, found in nodes.items() if found}  # [0]: the root
    if not schemas:
        return [], []
    first, *others = schemas
    for other in others:
        _same_schema(first, schemas[first], other, schemas[other], label)
    return list(schemas[first]), list(schemas)


def _top_level(file: str, nodes: list[tuple[str | None, str | None, int]], label: str) -> dict[str, _Column]:
    """{column: its subtree} of a file's flattened schema (each node followed by its children)."""
    columns: dict[str, _Column] = {}
    at = 0
    while at < len(nodes):
        end, pending = at + 1, nodes[at][2]
        while pending and end < len(nodes):
            pending += nodes[end][2] - 1
            end += 1
        name = str(nodes[at][0])
        if name.lower() in (seen.lower() for seen in columns):  # DuckDB matches names case-insensitively
            raise SourceError(
                f"{label}: the Parquet file {file} has two columns named {name!r} (DuckDB matches names "
                "case-insensitively) and would read one of them "
                f"as {name}_1, and checks on {name!r} would judge only the other. Fix: write the file with unique "
                "column names"
            )
        columns[name] = tuple(nodes[at:end])
        at = end
    return columns


def _same_schema(first: str, theirs: dict[str, _Column], other: str, ours: dict[str, _Column], label: str) -> None:
    fix = (
        "Fix: write every file with the same schema (cast the columns before writing), or point the path at files "
        "of one schema"
    )
    for name in [*theirs, *(n for n in ours if n not in theirs)]:
        if name not in ours or name not in theirs:
            has, lacks = (first, other) if name in theirs else (other, first)
            raise SourceError(
                f"{label}: column {name!r} is in {has} but not in {lacks}; DuckDB reads every file with one schema "
                f"and would drop or refuse it. {fix}"
            )
        if ours[name] != theirs[name]:
            raise SourceError(
                f"{label}: column {name!r} is {_type(theirs[name])} in {first} but {_type(ours[name])} in {other}; "
                f"DuckDB would cast the values of one file into the other's type (e.g. a DOUBLE 100.4 read as the "
                f"BIGINT 100). {fix}"
            )


def _type(column: _Column) -> str:
    kind = column[0][1]
    return str(kind) if kind is not None and len(column) == 1 else "a " + (kind or "nested column")


def _csv_columns(
    connection: duckdb.DuckDBPyConnection, target: str, csv_options: Sequence[str], label: str
) -> FileColumns:
    """Each file's first record, read as text as dq reads the file (same quoting, its compression
    from its name): the header DuckDB would otherwise trim, rename or drop columns of."""
    try:
        files = [str(row[0]) for row in connection.execute(f"SELECT file FROM glob({target}) ORDER BY file").fetchall()]
    except duckdb.Error:
        return FileColumns([], [])
    options = ", ".join([*csv_options, "header = false", "all_varchar = true", "hive_partitioning = false"])
    first: tuple[str, list[str]] | None = None
    reordered = False
    for file in files:
        try:
            record = connection.execute(f"SELECT * FROM read_csv({literal(file)}, {options}) LIMIT 1").fetchall()
        except duckdb.Error:
            return FileColumns([], files)  # the read itself reports what is wrong with the file
        if not record:
            continue
        header = ["" if cell is None else str(cell) for cell in record[0]]
        lowered = [name.lower() for name in header]  # DuckDB matches names case-insensitively
        if duplicated := next((name for name in header if lowered.count(name.lower()) > 1), None):
            raise SourceError(
                f"{label}: the CSV file {file} names the column {duplicated!r} twice in its header (DuckDB matches "
                "names case-insensitively) and would "
                f"read the second as {duplicated}_1 and checks on {duplicated!r} would judge only the first. Fix: "
                "write the file with unique column names"
            )
        if (unnamed := next((name for name in header if name != name.strip() or not name), None)) is not None:
            raise SourceError(
                f"{label}: the CSV file {file} has the header name {unnamed!r}; DuckDB would trim it or name it "
                "itself, and a column of that name could shadow another. Fix: write the header without spaces "
                "around names and without empty names"
            )
        if first is None:
            first = (file, header)
        elif header != first[1]:
            reordered = True
        if set(header) != set(first[1]):
            extra = sorted(set(header) ^ set(first[1]))[0]
            has, lacks = (file, first[0]) if extra in header else (first[0], file)
            raise SourceError(
                f"{label}: column {extra!r} is in the header of {has} but not of {lacks}; DuckDB reads every file "
                "with the first one's columns and would drop or refuse it. Fix: write every file with the same "
                "header, or point the path at files of one layout"
            )
    return FileColumns(first[1] if first else [], files, reordered)


def refuse_padded_quotes(
    connection: duckdb.DuckDBPyConnection, files: Sequence[str], csv_options: Sequence[str], label: str
) -> None:
    """A quoted CSV cell with spaces or tabs outside its quotes (`1, "a"`, `1,"a" `) is refused: DuckDB
    drops them and reads `a`, Python's csv reads ` "a"` and `a `. Each file's lines are read raw (no
    quoting), and only a line with a space beside a quote and an even number of quotes (not inside a
    multi-line quoted cell) is matched, its quoted cells replaced by a mark, against spaces between
    the mark and a delimiter or the line's end."""
    mark = "\x01"
    for file in files:
        try:
            sniffed = connection.execute(
                f"SELECT Delimiter FROM sniff_csv({literal(file)}, {', '.join(csv_options)})"
            ).fetchall()
        except duckdb.Error:
            continue  # the read itself reports what is wrong with this file; the others are still looked at
        delimiter = str(sniffed[0][0]) if sniffed else ","
        spaces = {" ": "\t", "\t": " "}.get(delimiter, "[ \t]") + "+"  # not the delimiter itself
        edge = re.escape(delimiter)
        pattern = f"(^|{edge}){spaces}{mark}|{mark}{spaces}({edge}|\\r?$)"
        tokens = f'regexp_replace(l, \'"([^"]|"")*"\', {literal(mark)}, \'g\')'
        beside = spaces + '"|"' + spaces  # cheap: only such lines are tokenized
        quotes = "(length(l) - length(replace(l, '\"', '')))"
        lines = (
            f"read_csv({literal(file)}, columns = {{'l': 'VARCHAR'}}, header = false, auto_detect = false, "
            "delim = '\\0', quote = '', escape = '', comment = '', strict_mode = false)"
        )
        try:
            found = connection.execute(
                f"SELECT l FROM {lines} WHERE regexp_matches(l, {literal(beside)}) AND {quotes} % 2 = 0 "
                f"AND regexp_matches({tokens}, {literal(pattern)}) LIMIT 1"
            ).fetchall()
        except duckdb.Error:
            continue  # the read itself reports what is wrong with this file; the others are still looked at
        if found:
            raise SourceError(
                f"{label}: the CSV file {file} has a quoted cell with spaces outside its quotes "
                f"(line {found[0][0]!r}); "
                "DuckDB would drop the spaces, Python's csv (and pandas) keep them, so checks would judge another "
                "value than a reader sees. Fix: write the file without spaces between a delimiter and a quote "
                "(quote the whole cell, spaces inside the quotes)"
            )


def malformed_row(
    connection: duckdb.DuckDBPyConnection, files: Sequence[str], csv_options: Sequence[str]
) -> str | None:
    """Why a CSV file's rows do not read (for an error DuckDB's sniffer hides behind "Columns with
    names ... do not exist"): each file read as text with as many columns as its first line's
    fields, nothing sniffed but its delimiter; the first file whose read fails, the line and
    DuckDB's reason, or None."""
    for file in files:
        try:
            sniffed = connection.execute(
                f"SELECT Delimiter FROM sniff_csv({literal(file)}, {', '.join(csv_options)})"
            ).fetchall()
            first = connection.execute(
                f"SELECT l FROM read_csv({literal(file)}, header = false, auto_detect = false, delim = '\\0', "
                "quote = '', escape = '', comment = '', columns = {'l': 'VARCHAR'}, strict_mode = false) LIMIT 1"
            ).fetchall()
            if not first:
                continue
            # the sniffer picks another delimiter when rows are malformed (`1,"a"b` read as one `|` column):
            # the header's, the one that splits the first line into the most fields
            line = str(first[0][0] or "")
            candidates = [str(sniffed[0][0]) if sniffed else ",", ",", "\t", ";", "|"]
            delimiter = max(candidates, key=lambda d: len(next(csv.reader([line], delimiter=d), [])))
            fields = len(next(csv.reader([line], delimiter=delimiter), [""]))
            columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(fields))
            connection.execute(
                f"SELECT count(*) FROM read_csv({literal(file)}, {', '.join(csv_options)}, header = true, "
                f"auto_detect = false, delim = {literal(delimiter)}, columns = {{{columns}}})"
            ).fetchall()
        except duckdb.Error as exc:
            lines = str(exc).splitlines()
            where = next((line.split("Line:", 1)[1].strip() for line in lines if "CSV Error on Line:" in line), None)
            if where is None:
                continue
            at = next((i for i, line in enumerate(lines) if line.startswith("Original Line:")), None)
            original = lines[at].split(":", 1)[1].strip() if at is not None else ""
            reason = lines[at + 1].strip() if at is not None and at + 1 < len(lines) else ""
            return (
                f"the CSV file {file} has a malformed row at line {where} ({original!r}): "
                f"{reason.rstrip('.')}. A row must have "
                "as many fields as the header, and a quoted cell must end at its closing quote (a quote inside it "
                "doubled). Fix: correct that row (quote a cell holding the delimiter or a quote)"
            )
    return None
