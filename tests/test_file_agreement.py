"""The files of a dataset agree on their columns, or it is refused (dq/data/file_schemas.py): a glob
of Parquet files of two schemas is never read as the first one's (DuckDB cast a DOUBLE 100.4 into
a BIGINT 100), a CSV header DuckDB would trim, rename or drop a column of is exit 3, and so is a
hive partition key that shadows a column inside the files or is not written as its type."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dq.checks.result import RunResult, Status
from dq.config import load_settings
from dq.run.runner import validate

DQ = str(Path(sys.executable).parent / "dq")


def _validate(tmp_path: Path, path: str, columns: str, hive: bool = False) -> RunResult:
    contract = tmp_path / "c.yml"
    hive_key = ", hive_partitioning: true" if hive else ""
    contract.write_text(
        f"contract: c\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/{path}'{hive_key}}}\ncolumns:\n{columns}",
        encoding="utf-8",
    )
    return validate([contract], load_settings(db=tmp_path / "none.duckdb", results_dir=tmp_path / "r"))


def _refused(run: RunResult, *parts: str) -> None:
    assert run.status is Status.error
    error = str(run.contracts[0].error)
    assert all(part in error for part in parts), error


def _checks(run: RunResult) -> dict[str, tuple[Status, int | None]]:
    assert run.contracts[0].error is None, run.contracts[0].error
    return {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}


def _ts(tz: str | None = None) -> pa.Array:
    return pa.array([dt.datetime(2024, 1, 1, 10)], pa.timestamp("us", tz=tz))


# (first file's column, second file's column, the types the error names)
MISMATCHED = {
    "double_into_bigint": (pa.array([5], pa.int64()), pa.array([-0.4, 100.4]), "BIGINT in", "but DOUBLE in"),
    "decimal_scale": (
        pa.array([decimal.Decimal("1.50")], pa.decimal128(10, 2)),
        pa.array([decimal.Decimal("1.5049")], pa.decimal128(10, 4)),
        "DECIMAL(10,2)",
        "DECIMAL(10,4)",
    ),
    "string_into_bigint": (pa.array([5], pa.int64()), pa.array(["050"]), "BIGINT in", "VARCHAR in"),
    "bool_into_bigint": (pa.array([5], pa.int64()), pa.array([True]), "BIGINT in", "BOOLEAN in"),
    "timestamp_into_date": (pa.array([dt.date(2024, 1, 1)]), _ts(), "DATE in", "TIMESTAMP in"),
    "timestamptz_into_timestamp": (_ts(), _ts("UTC"), "TIMESTAMP in", "TIMESTAMP WITH TIME ZONE in"),
    "double_into_float": (pa.array([0.5], pa.float32()), pa.array([0.1]), "FLOAT in", "DOUBLE in"),
    "bigint_into_integer": (pa.array([5], pa.int32()), pa.array([2**40]), "INTEGER in", "BIGINT in"),
}


@pytest.mark.parametrize("case", MISMATCHED)
def test_parquet_files_of_another_type_are_refused_never_cast(tmp_path: Path, case: str) -> None:
    first, second, first_type, second_type = MISMATCHED[case]
    (tmp_path / "d").mkdir()
    pq.write_table(pa.table({"v": first}), tmp_path / "d" / "1.parquet")
    pq.write_table(pa.table({"v": second}), tmp_path / "d" / "2.parquet")
    run = _validate(tmp_path, "d/*.parquet", "  v: {nullable: false}\n")
    _refused(run, "column 'v' is", first_type, second_type, "1.parquet", "2.parquet", "Fix: write every file")


@pytest.mark.parametrize("later", [True, False])
def test_a_parquet_column_only_one_file_holds_is_refused(tmp_path: Path, later: bool) -> None:
    (tmp_path / "d").mkdir()
    narrow, wide = pa.table({"a": [1]}), pa.table({"a": [2], "c": ["x"]})
    pq.write_table(narrow if later else wide, tmp_path / "d" / "1.parquet")
    pq.write_table(wide if later else narrow, tmp_path / "d" / "2.parquet")
    _refused(_validate(tmp_path, "d/*.parquet", "  a: {max: 1}\n"), "column 'c' is in", "but not in")


def test_a_parquet_file_with_two_columns_of_one_name_is_refused(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array([5]), pa.array([500])], names=["a", "a"])
    pq.write_table(table, tmp_path / "d.parquet")
    _refused(_validate(tmp_path, "d.parquet", "  a: {type: bigint, max: 100}\n"), "two columns named 'a'")


def test_parquet_files_of_one_schema_from_two_writers_are_read(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    nested = pa.array([{"x": 1, "tags": ["a"]}], pa.struct([("x", pa.int64()), ("tags", pa.list_(pa.string()))]))
    pq.write_table(pa.table({"a": pa.array([50], pa.int64()), "s": nested}), tmp_path / "d" / "1.parquet")
    with duckdb.connect() as con:  # DuckDB writes the same types with other Parquet annotations
        con.execute(
            "COPY (SELECT 500::BIGINT AS a, {'x': 2::BIGINT, 'tags': ['b']} AS s) "
            f"TO '{tmp_path}/d/2.parquet' (FORMAT parquet)"
        )
    assert _checks(_validate(tmp_path, "d/*.parquet", "  a: {max: 100}\n"))["a.range"] == (Status.failed, 1)


# (files, the error's words): a header DuckDB would read with other columns than it names
HEADERS = {
    "spaces_shadow_the_real_column": ({"d.csv": " a,a\n5,500\n"}, "the header name ' a'"),
    "quoted_spaces_shadow_it_too": ({"d.csv": '" a",a\n5,500\n'}, "the header name ' a'"),
    "a_name_twice": ({"d.csv": "a,a\n5,500\n"}, "names the column 'a' twice"),
    "an_empty_name": ({"d.csv": "a,\n5,500\n"}, "the header name ''"),
    "a_column_only_a_later_file_holds": ({"1.csv": "a\n5\n", "2.csv": "a,c\n6,x\n"}, "column 'c' is in the header"),
    "a_column_only_the_first_file_holds": ({"1.csv": "a,c\n6,x\n", "2.csv": "a\n5\n"}, "column 'c' is in the header"),
    "a_compressed_file_too": ({"1.csv": "a\n5\n", "2.csv.gz": "a,c\n6,x\n"}, "column 'c' is in the header"),
}


@pytest.mark.parametrize("case", HEADERS)
def test_a_csv_header_duckdb_would_read_as_other_columns_is_refused(tmp_path: Path, case: str) -> None:
    import gzip

    files, words = HEADERS[case]
    for name, text in files.items():
        data = text.encode()
        (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    glob = "d.csv" if "d.csv" in files else "*.csv*"
    done = subprocess.run(
        [DQ, "validate", str(_contract(tmp_path, glob)), "--db", str(tmp_path / "none.duckdb")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    out = " ".join((done.stdout + done.stderr).split())
    assert words in out and "Fix: write" in out and "Traceback" not in out, out


def _contract(tmp_path: Path, glob: str) -> Path:
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: c\nversion: 1.0.0\ndataset: {{path: '{glob}', format: csv}}\n"
        "columns:\n  a: {type: bigint, max: 100}\n",
        encoding="utf-8",
    )
    return contract


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_files_whose_headers_agree_in_another_order_are_read_by_name(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "1.csv").write_text("a,b\n5,1\n", encoding=encoding)
    (tmp_path / "2.csv").write_text("b,a\n2,500\n", encoding=encoding)
    assert _checks(_validate(tmp_path, "*.csv", "  a: {type: bigint, max: 100}\n"))["a.range"] == (Status.failed, 1)


@pytest.mark.parametrize(
    "columns",
    [
        "  name: {type: varchar, pattern: '^[a-z]$'}\n  id: {type: bigint, max: 5}\n",
        "  id: {type: bigint, max: 5}\n",
        "  id: {max: 5}\n  name: {pattern: '^[a-z]$'}\n",  # sniffed
    ],
)
def test_csv_files_of_text_and_number_columns_in_another_order_are_read_in_their_types(
    tmp_path: Path, columns: str
) -> None:
    # DuckDB read the glob positionally typed: id became VARCHAR (a false block 'id is VARCHAR')
    (tmp_path / "a.csv").write_text("id,name\n1,a\n7,b\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("name,id\nc,2\nDD,9\n", encoding="utf-8")
    found = _checks(_validate(tmp_path, "*.csv", columns))
    assert found["id.range"] == (Status.failed, 2)
    assert found.get("name.pattern", (Status.failed, 1)) == (Status.failed, 1)


def _partitioned(tmp_path: Path, kind: str, directories: dict[str, str]) -> None:
    for directory, column in directories.items():
        (tmp_path / "d" / directory).mkdir(parents=True)
        with duckdb.connect() as con:
            options = {"parquet": "(FORMAT parquet)", "csv": "(HEADER)", "json": "(FORMAT json)"}[kind]
            con.execute(f"COPY (SELECT 5 AS {column}) TO '{tmp_path}/d/{directory}/f.{kind}' {options}")


@pytest.mark.parametrize("kind", ["parquet", "csv", "json"])
@pytest.mark.parametrize(("directory", "column"), [("k=1", "k"), ("K=1", "k"), ("k=1", "K")])
def test_a_partition_key_that_is_also_a_file_column_is_refused(
    tmp_path: Path, kind: str, directory: str, column: str
) -> None:
    # the file's k is 5, the directory's 1; DuckDB matches K and k as one name (it read k as 1)
    _partitioned(tmp_path, kind, {directory: column})
    run = _validate(tmp_path, f"d/*/*.{kind}", "  k: {type: bigint, min: 5}\n", hive=True)
    _refused(run, f"the hive partition key {directory[0]!r} is also a column inside the files", "Fix:")
    assert run.contracts[0].checks == []


def test_a_json_key_past_the_sniffing_sample_that_a_partition_key_shadows_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d" / "k=1").mkdir(parents=True)  # DuckDB sniffs 20480 records: the last one's k was dropped
    rows = '{"v": 1}\n' * 25_000 + '{"v": 1, "k": 9}\n'
    (tmp_path / "d" / "k=1" / "f.json").write_text(rows, encoding="utf-8")
    run = _validate(tmp_path, "d/*/*.json", "  k: {type: bigint, max: 5}\n", hive=True)
    _refused(run, "the hive partition key 'k' is also a column inside the files")


@pytest.mark.parametrize("kind", ["parquet", "csv", "json"])
@pytest.mark.parametrize("spelled", ["0x05", " 5", "5 "])
def test_a_partition_key_not_written_as_its_type_is_refused(tmp_path: Path, kind: str, spelled: str) -> None:
    _partitioned(tmp_path, kind, {f"k={spelled}": "x", "k=1": "x"})
    run = _validate(tmp_path, f"d/*/*.{kind}", "  k: {max: 10}\n", hive=True)
    _refused(run, "the hive partition key 'k' is read as", f"k={spelled}, which is not written as")


@pytest.mark.parametrize("kind", ["parquet", "csv", "json"])
def test_partition_keys_written_as_their_type_are_read(tmp_path: Path, kind: str) -> None:
    _partitioned(tmp_path, kind, {"k=1": "x", "k=20": "x"})
    found = _checks(_validate(tmp_path, f"d/*/*.{kind}", "  k: {type: bigint, max: 10}\n", hive=True))
    assert found["k.range"] == (Status.failed, 1)


def test_an_int96_parquet_timestamp_is_refused_never_read_without_its_nanoseconds(tmp_path: Path) -> None:
    # DuckDB read INT96 as a TIMESTAMP in microseconds: ...123456789 and ...123456000 were one value
    values = pa.array([1_767_225_600_123_456_789, 1_767_225_600_123_456_000], pa.timestamp("ns"))
    pq.write_table(pa.table({"t": values}), tmp_path / "a.parquet", use_deprecated_int96_timestamps=True)
    run = _validate(tmp_path, "a.parquet", "  t: {type: timestamp, distinct_count: {max: 1}}\n")
    _refused(run, "column 't' of the Parquet file", "is an INT96 timestamp", "Fix: write it as TIMESTAMP_NS")
    assert run.contracts[0].checks == []
    pq.write_table(pa.table({"t": values}), tmp_path / "a.parquet")  # timestamp[ns]: read exactly
    found = _checks(_validate(tmp_path, "a.parquet", "  t: {type: timestamp_ns, distinct_count: {max: 1}}\n"))
    assert found["t.distinct_count"][0] is Status.failed
