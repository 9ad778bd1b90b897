"""Text files are read as the values they hold, or refused: a CSV's dates only in ISO form (no
guessed day/month order), a JSON integer DuckDB would read as an inexact DOUBLE an error. The
JSON rule is checked against Python's json module (exact integers) on generated files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dq.checks.result import RunResult, Status
from dq.config import load_settings
from dq.run.runner import validate


def _run(tmp_path: Path, data: str, name: str, columns: str) -> RunResult:
    (tmp_path / name).write_text(data, encoding="utf-8")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: text\nversion: 1.0.0\ndataset: {{path: '{tmp_path / name}'}}\ncolumns:\n{columns}",
        encoding="utf-8",
    )
    return validate([contract], load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r"))


def _status(run: RunResult, check: str) -> Status:
    assert run.contracts[0].error is None, run.contracts[0].error
    return next(c.status for c in run.contracts[0].checks if c.name == check)


# 03/04/2026 and 04/05/2026 fit both day/month orders: DuckDB's sniffer would pick one in silence
AMBIGUOUS = "id,day\n1,03/04/2026\n2,04/05/2026\n"


def test_a_csv_date_in_another_form_than_iso_is_text_not_a_guessed_date(tmp_path: Path) -> None:
    # read as the text it is: its values are the file's strings, not dates in a guessed order
    run = _run(tmp_path, AMBIGUOUS, "d.csv", "  day: {accepted_values: ['03/04/2026', '04/05/2026']}\n")
    assert _status(run, "day.accepted_values") is Status.passed
    assert run.status is Status.passed


def test_a_declared_date_column_in_another_form_than_iso_is_an_error_naming_the_value(tmp_path: Path) -> None:
    run = _run(tmp_path, AMBIGUOUS, "d.csv", "  day: {type: DATE}\n")
    assert run.status is Status.error
    error = str(run.contracts[0].error)
    assert 'Could not convert string "03/04/2026"' in error and "ISO" in error, error


def test_iso_dates_in_a_csv_are_dates(tmp_path: Path) -> None:
    run = _run(tmp_path, "id,day\n1,2026-03-04\n2,2026-04-05\n", "d.csv", "  day: {type: DATE}\n")
    assert _status(run, "day.type") is Status.passed


def _json_number(rng: random.Random) -> object:
    return rng.choice(
        [
            rng.randint(-1000, 1000),
            2**53 + rng.randint(-3, 3),
            -(2**53) - rng.randint(0, 3),
            2**63 + rng.randint(0, 5),
            2**64 + rng.randint(0, 5),
            10**40 + rng.randint(0, 5),
            2**60,  # an integer past 2**53 that a DOUBLE holds exactly
            rng.choice([0.5, -2.25, 1e300, 3.0]),
            None,
        ]
    )


def _inexact_as_double(values: list[object]) -> bool:
    """Python's oracle: some integer is not equal to the DOUBLE nearest it."""
    return any(isinstance(v, int) and float(v) != v for v in values)


@pytest.mark.parametrize("seed", range(25))
def test_a_json_integer_no_double_equals_is_an_error_when_duckdb_reads_a_double(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    values = [_json_number(rng) for _ in range(rng.randint(1, 6))]
    lines = "".join(json.dumps({"id": i, "x": v}) + "\n" for i, v in enumerate(values))
    run = _run(tmp_path, lines, "x.jsonl", "  id: {nullable: false}\n")
    kind = _duckdb_type(tmp_path / "x.jsonl")
    if kind in ("DOUBLE", "FLOAT") and _inexact_as_double(values):
        assert run.status is Status.error, (values, kind)
        assert "column 'x' is read as DOUBLE" in str(run.contracts[0].error)
    else:
        # read exactly: integers DuckDB keeps as integers, or a DOUBLE column whose integers it holds
        assert run.contracts[0].error is None, (values, kind, run.contracts[0].error)
        assert run.status is Status.passed


def _duckdb_type(path: Path) -> str:
    import duckdb

    rows = duckdb.connect().execute(f"DESCRIBE SELECT x FROM read_json('{path}')").fetchall()
    return str(rows[0][1])


def test_some_generated_files_are_refused_and_some_read() -> None:
    """The generator reaches both sides of the rule (else the oracle test proves nothing)."""
    outcomes = set()
    for seed in range(25):
        rng = random.Random(seed)
        values = [_json_number(rng) for _ in range(rng.randint(1, 6))]
        mixed = any(isinstance(v, float) for v in values) or any(isinstance(v, int) and v >= 2**64 for v in values)
        outcomes.add(mixed and _inexact_as_double(values))
    assert outcomes == {True, False}


LATE_FRACTION = "x\n" + "2\n" * 30_000 + "1.5\n"  # past DuckDB's sniffing sample
LATE_JSON = "".join('{"x": 2}\n' for _ in range(30_000))

# name: (file, content, columns (or other contract keys), the run's status)
CASES: dict[str, tuple[str, str, str, Status]] = {
    # --- refused: DuckDB would read another value than the file holds ---------------------------
    "a CSV row starting with # is a row, not a comment": (
        "x.csv",
        "id,label\n1,a\n#2,b\n3,c\n",
        "  id: {type: BIGINT}\n",
        Status.error,
    ),
    "a fraction in a declared BIGINT is not rounded": (
        "x.csv",
        "x\n1.5\n3\n",
        "  x: {type: BIGINT, min: 2}\n",
        Status.error,
    ),
    "a fraction in a declared INTEGER is not rounded to 0": (
        "x.csv",
        "x\n0.4\n",
        "  x: {type: INTEGER, accepted_values: [0]}\n",
        Status.error,
    ),
    "a fraction after the sniffed sample is not rounded": ("x.csv", LATE_FRACTION, "  x: {min: 2}\n", Status.error),
    "a hex literal in a BIGINT is not read as a number": ("x.csv", "x\n0x10\n", "  x: {type: BIGINT}\n", Status.error),
    "a binary literal in a BIGINT is not read as a number": (
        "x.csv",
        "x\n0b101\n",
        "  x: {type: BIGINT}\n",
        Status.error,
    ),
    "digits grouped by _ in a BIGINT are not read as a number": (
        "x.csv",
        "x\n1_000\n",
        "  x: {type: BIGINT}\n",
        Status.error,
    ),
    "more fraction digits than a DECIMAL's scale are not rounded": (
        "x.csv",
        "x\n1.005\n",
        "  x: {type: 'DECIMAL(10,2)', min: 1.01}\n",
        Status.error,
    ),
    "a US-order timestamp is not read in a guessed order": (
        "x.csv",
        "ts\n03/04/2026 10:00:00\n",
        "  ts: {nullable: false}\n",
        Status.error,
    ),
    "a declared TIMESTAMP does not drop an offset": (
        "x.csv",
        "ts\n2026-03-04 10:00:00+05:30\n",
        "  ts: {type: TIMESTAMP}\n",
        Status.error,
    ),
    "a CSV integer no DOUBLE equals, in a column sniffed as DOUBLE, is refused": (
        "x.csv",
        "x\n9007199254740993\n0.5\n",
        "  x: {max: 9007199254740992}\n",
        Status.error,
    ),
    "a JSON fraction after the sniffed sample is not rounded into a BIGINT": (
        "x.jsonl",
        LATE_JSON + '{"x": 1.5}\n',
        "  x: {min: 2}\n",
        Status.error,
    ),
    "a JSON true after the sniffed sample is not read as 1": (
        "x.jsonl",
        LATE_JSON + '{"x": true}\n',
        "  x: {min: 2}\n",
        Status.error,
    ),
    "a sniffed ' quote does not join rows": (
        "x.csv",
        "note,x\n'80s hits,5\nbig order,50\nsingers',3\n",
        "  x: {type: BIGINT, max: 10}\n",
        Status.failed,
    ),
    "a sniffed \\ escape does not join rows": (
        "x.csv",
        'x,y\n5,"a\\"\n50,b"\n',
        "  x: {type: BIGINT, max: 10}\n",
        Status.failed,
    ),
    "an integer written 9007199254740993.0 in a DOUBLE column is refused": (
        "x.csv",
        "x\n9007199254740993.0\n0.5\n",
        "  x: {max: 9007199254740992}\n",
        Status.error,
    ),
    "fraction digits past a TIMESTAMP's microseconds are not cut off": (
        "x.csv",
        "ts\n2026-03-04 10:00:00.1234567\n",
        "  ts: {type: TIMESTAMP}\n",
        Status.error,
    ),
    "a fraction in a TIMESTAMP_S is not cut off": (
        "x.csv",
        "ts\n2026-03-04 10:00:00.4\n",
        "  ts: {type: TIMESTAMP_S}\n",
        Status.error,
    ),
    # --- an integer bound on a DOUBLE column keeps its meaning -----------------------------------
    "a DOUBLE above an integer max fails, though the max's nearest DOUBLE is that value": (
        "x.jsonl",
        '{"x": 9007199254740996}\n{"x": 0.5}\n',
        "  x: {max: 9007199254740995}\n",
        Status.failed,
    ),
    "2**64 read as a DOUBLE fails a max of 2**64 - 1": (
        "x.jsonl",
        '{"x": 18446744073709551616}\n',
        "  x: {max: 18446744073709551615}\n",
        Status.failed,
    ),
    # --- read exactly: passes ---------------------------------------------------------------------
    "ISO dates and timestamps, with T, fractions and offsets": (
        "x.csv",
        "d,ts,tz\n2026-03-04,2026-03-04T10:00:00.125,2026-03-04 10:00:00Z\n2026-3-5,2026-03-05 11:00,2026-03-05T11:00:00+02:00\n",
        "  d: {type: DATE}\n  ts: {type: TIMESTAMP}\n  tz: {type: TIMESTAMPTZ}\n",
        Status.passed,
    ),
    "padded and signed integers, booleans, empty cells": (
        "x.csv",
        "n,b\n 12 ,true\n+5,FALSE\n,\n",
        "  n: {type: BIGINT, min: 5, max: 12}\n  b: {type: BOOLEAN}\n",
        Status.passed,
    ),
    "doubles in every written form": (
        "x.csv",
        "x\n1e300\n-2.5\n.5\ninf\n9007199254740992\n",
        "  x: {type: DOUBLE}\n",
        Status.passed,
    ),
    "integers written 5.0 beside a missing value (pandas' to_csv)": (
        "x.csv",
        "id,x\n0,5.0\n1,\n2,7.0\n",
        "  x: {type: BIGINT, min: 5, max: 7}\n",
        Status.passed,
    ),
    "a DECIMAL's trailing zeros past its scale": (
        "x.csv",
        "x\n1.500\n",
        "  x: {type: 'DECIMAL(10,2)'}\n",
        Status.passed,
    ),
    "a TIMESTAMP written in UTC with Z": (
        "x.csv",
        "ts\n2026-03-04T10:00:00Z\n",
        "  ts: {type: TIMESTAMP}\n",
        Status.passed,
    ),
    "a TIMESTAMPTZ with a named zone or an offset in seconds": (
        "x.csv",
        "ts\n2026-03-04 10:00:00 America/New_York\n2026-03-04 10:00:00+05:30:00\n",
        "  ts: {type: TIMESTAMPTZ}\n",
        Status.passed,
    ),
    "a DECIMAL within its scale": (
        "x.csv",
        "x\n1.5\n-0.25\n3\n",
        "  x: {type: 'DECIMAL(10,2)', min: -1}\n",
        Status.passed,
    ),
    "JSON integers past 2**53 DuckDB keeps as BIGINT": (
        "x.jsonl",
        '{"x": 9007199254740993}\n{"x": -5}\n',
        "  x: {max: 9007199254740993}\n",
        Status.passed,
    ),
}


@pytest.mark.parametrize(("name", "content", "columns", "expected"), CASES.values(), ids=CASES.keys())
def test_each_cell_is_read_as_the_file_holds_it_or_the_file_is_refused(
    tmp_path: Path, name: str, content: str, columns: str, expected: Status
) -> None:
    run = _run(tmp_path, content, name, columns)
    assert run.status is expected, (run.contracts[0].error, [(c.name, c.status) for c in run.contracts[0].checks])


def test_a_refused_cell_is_named_with_its_column_and_value(tmp_path: Path) -> None:
    run = _run(tmp_path, "x\n1\n1.5\n", "x.csv", "  x: {type: BIGINT}\n")
    error = str(run.contracts[0].error)
    assert "column 'x' is read as BIGINT, but it holds '1.5'" in error and "Fix:" in error, error


def _on_partitions(tmp_path: Path, files: dict[str, str], columns: str) -> RunResult:
    """Validate `columns` on a hive-partitioned CSV dataset: {directory: the CSV's text}."""
    for directory, text in files.items():
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "a.csv").write_text(text, encoding="utf-8")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: hive\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/*/*.csv', hive_partitioning: true}}\n"
        f"columns:\n{columns}",
        encoding="utf-8",
    )
    return validate([contract], load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r"))


def test_a_partition_key_is_checked_as_its_directory_spells_it(tmp_path: Path) -> None:
    run = _on_partitions(tmp_path, {"k=0x05": "x\n1\n"}, "  k: {accepted_values: [5]}\n")
    assert run.status is not Status.passed, [(c.name, c.status) for c in run.contracts[0].checks]


def test_no_csv_row_is_dropped_as_a_comment(tmp_path: Path) -> None:
    run = _run(tmp_path, "id,label\n1,a\n#2,b\n3,c\n", "x.csv", "  label: {accepted_values: [a, c]}\n")
    checks = {c.name: c for c in run.contracts[0].checks}
    assert checks["label.accepted_values"].status is Status.failed and checks["label.accepted_values"].failing_rows == 1


def test_a_declared_type_on_a_partition_key_reads_the_key_in_it(tmp_path: Path) -> None:
    files = {"k=1": "x\n5\n", "k=2": "x\n6\n"}
    run = _on_partitions(tmp_path, files, "  x: {type: BIGINT}\n  k: {type: SMALLINT, max: 1}\n")
    checks = {c.name: c for c in run.contracts[0].checks}
    assert run.contracts[0].error is None, run.contracts[0].error
    assert checks["k.type"].status is Status.passed  # read as SMALLINT, as declared
    assert checks["k.range"].status is Status.failed and checks["k.range"].failing_rows == 1


# (file, contract columns, the check, its status and failing rows): in a CSV only an unquoted empty
# cell is NULL; `""` is the empty string, as Python's csv reads it (DuckDB read it as NULL)
QUOTED_EMPTY = {
    "length": ('a\n"x"\n""\n', "  a: {type: varchar, length: {min: 1}}\n", "a.length", (Status.failed, 1)),
    "unique": ('k\n""\n""\nx\n', "  k: {type: varchar, unique: true}\n", "k.unique", (Status.failed, 2)),
    "pattern": ('a\nUS\n""\n', "  a: {type: varchar, pattern: '^[A-Z]{2}$'}\n", "a.pattern", (Status.failed, 1)),
    "accepted": (
        'a\nUS\n""\n',
        "  a: {type: varchar, accepted_values: [US]}\n",
        "a.accepted_values",
        (Status.failed, 1),
    ),
    "not_null": ('a\n""\n', "  a: {type: varchar, nullable: false}\n", "a.not_null", (Status.passed, 0)),
    "unquoted_is_null": ("a,b\nx,\n", "  b: {nullable: false}\n", "b.not_null", (Status.failed, 1)),
}


@pytest.mark.parametrize("case", QUOTED_EMPTY)
def test_a_quoted_empty_csv_cell_is_the_empty_string_not_null(tmp_path: Path, case: str) -> None:
    data, columns, check, verdict = QUOTED_EMPTY[case]
    run = _run(tmp_path, data, "d.csv", columns)
    assert run.contracts[0].error is None, run.contracts[0].error
    found = {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}
    assert found[check] == verdict, found


def test_a_quoted_empty_cell_is_an_orphan_of_a_reference(tmp_path: Path) -> None:
    (tmp_path / "plans.csv").write_text("k\nx\n", encoding="utf-8")
    columns = f"  k: {{type: varchar, references: {{path: '{tmp_path}/plans.csv', column: k}}}}\n"
    run = _run(tmp_path, 'k\n""\nx\n', "d.csv", columns)
    assert next(c.failing_rows for c in run.contracts[0].checks if c.name == "k.references") == 1


def test_a_quoted_empty_cell_in_a_typed_column_is_refused_not_null(tmp_path: Path) -> None:
    run = _run(tmp_path, 'a\n1\n""\n', "d.csv", "  a: {type: bigint}\n")
    assert run.status is Status.error


LATE_NUMBERS = "".join('{"a": 5}\n' for _ in range(30_000))  # past DuckDB's sniffing sample


@pytest.mark.parametrize(
    ("columns", "last"),
    [
        ("  a: {type: bigint, max: 100}\n", '"7"'),
        ("  a: {max: 100}\n", '" 7"'),
        ("  a: {type: bigint}\n", '"0x10"'),
    ],
)
def test_a_json_string_in_a_number_column_is_refused_not_cast(tmp_path: Path, columns: str, last: str) -> None:
    run = _run(tmp_path, LATE_NUMBERS + f'{{"a": {last}}}\n', "d.ndjson", columns)
    assert run.status is Status.error
    assert f"column 'a' is read as BIGINT, but it holds the JSON string {last}" in str(run.contracts[0].error)


@pytest.mark.parametrize(
    ("sniffed", "last", "columns", "kind"),
    [("true", '"true"', "  a: {accepted_values: [true]}\n", "BOOLEAN"), ("0.5", '"0.25"', "  a: {max: 1}\n", "DOUBLE")],
)
def test_a_json_string_in_a_boolean_or_double_column_is_refused(
    tmp_path: Path, sniffed: str, last: str, columns: str, kind: str
) -> None:
    data = f'{{"a": {sniffed}}}\n' * 30_000 + f'{{"a": {last}}}\n'
    run = _run(tmp_path, data, "d.ndjson", columns)
    assert run.status is Status.error
    assert f"is read as {kind}, but it holds the JSON string {last}" in str(run.contracts[0].error)


def test_json_numbers_null_and_missing_keys_are_still_read(tmp_path: Path) -> None:
    run = _run(tmp_path, '{"a": 5}\n{"a": null}\n{}\n{"a": 500, "s": "x"}\n', "d.ndjson", "  a: {max: 100}\n")
    assert _status(run, "a.range") is Status.failed
    assert next(c.failing_rows for c in run.contracts[0].checks if c.name == "a.range") == 1


@pytest.mark.parametrize(
    ("value", "kind"), [("7", "number"), ("true", "boolean"), ('{"k": 1}', "object"), ("[1]", "array")]
)
def test_a_json_non_string_past_the_sniffing_sample_in_a_varchar_column_is_refused(
    tmp_path: Path, value: str, kind: str
) -> None:
    # DuckDB sniffed s as VARCHAR from the first 20480 records and turned the later 7 into the text '7'
    data = '{"s": "a"}\n' * 25_000 + f'{{"s": {value}}}\n'
    run = _run(tmp_path, data, "a.json", "  s: {type: varchar, accepted_values: ['a', '7', 'true', '[1]']}\n")
    assert run.status is Status.error and run.contracts[0].checks == []
    error = str(run.contracts[0].error)
    assert "column 's' is read as VARCHAR, but it holds the JSON value" in error, error
    assert f"a reader of the JSON sees a {kind}" in error and str(tmp_path / "a.json") in error and "Fix:" in error


def test_json_strings_and_nulls_in_a_varchar_column_are_read(tmp_path: Path) -> None:
    data = '{"s": "a"}\n{"s": null}\n{}\n{"s": "7"}\n{"s": "x\\ny"}\n'
    run = _run(tmp_path, data, "a.json", "  s: {type: varchar, accepted_values: ['a', '7']}\n")
    assert run.contracts[0].error is None, run.contracts[0].error
    found = {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}
    assert found["s.accepted_values"] == (Status.failed, 1)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ('id,name\n1,a\n1, "a"\n', "a.csv"),  # DuckDB read a, Python's csv ' "a"'
        ('id,name\n1,"a" \n', "a.csv"),  # DuckDB read a, Python's csv 'a '
        ('id,name\r\n1,"a"\t\r\n', "a.csv"),
        ('name,id\n "a",1\n', "a.csv"),
        ('id\tname\n1\t "a"\n', "a.tsv"),
    ],
)
def test_a_csv_quoted_cell_with_spaces_outside_its_quotes_is_refused(tmp_path: Path, data: str, name: str) -> None:
    run = _run(tmp_path, data, name, "  id: {type: bigint}\n  name: {type: varchar, pattern: '^[a-z]$'}\n")
    assert run.status is Status.error and run.contracts[0].checks == []
    error = str(run.contracts[0].error)
    assert f"the CSV file {tmp_path / name} has a quoted cell with spaces outside its quotes" in error, error
    assert "Fix:" in error


@pytest.mark.parametrize(
    ("data", "failing"),
    [
        ('id,name\n1,"a"\n2,"b, c "\n3," d "\n', 2),  # spaces inside the quotes are the value's
        ('id,name\n1,"a ""q"" "\n2,b\n', 1),
        ('id,name\n1,"x\n  y "\n2,b\n', 1),  # a multi-line quoted cell
        ("id,name\n1,a b\n2, b\n", 2),  # unquoted spaces: both readers keep them
    ],
)
def test_csv_quoted_cells_without_spaces_outside_their_quotes_are_read(tmp_path: Path, data: str, failing: int) -> None:
    run = _run(tmp_path, data, "a.csv", "  id: {type: bigint}\n  name: {type: varchar, pattern: '^[a-z]$'}\n")
    assert run.contracts[0].error is None, run.contracts[0].error
    found = {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}
    assert found["name.pattern"] == (Status.failed, failing)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ('id,name\n1,"a"b\n', "unterminated quote"),  # DuckDB's sniffer then read one `|` column 'id,name'
        ("id,name\n1,a\n2,a,zzz\n", "Expected Number of Columns: 2 Found: 3"),
        ("id;name\n1;a\n2;a;zzz\n", "Expected Number of Columns: 2 Found: 3"),
    ],
)
def test_a_malformed_csv_row_is_named_with_its_file_and_line(tmp_path: Path, data: str, reason: str) -> None:
    # was "Columns with names: "name","id" do not exist in the CSV File"
    run = _run(tmp_path, data, "a.csv", "  id: {type: bigint}\n  name: {type: varchar}\n")
    assert run.status is Status.error and run.contracts[0].checks == []
    error = str(run.contracts[0].error)
    line = data.count("\n")
    assert f"the CSV file {tmp_path / 'a.csv'} has a malformed row at line {line}" in error, error
    assert reason in error and "do not exist" not in error and "Fix:" in error
