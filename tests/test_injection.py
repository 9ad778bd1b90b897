"""Identifiers and values from a contract are quoted or bound, never pasted into SQL; custom SQL
checks cannot write. Every case runs on every engine (auto, pandera, gx) against a real DuckDB file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dq.checks.result import Status
from dq.cli import app
from tests import faults
from tests.conftest import MakeDb

ENGINES = ["auto", "pandera", "gx"]

SCHEMA = 'odd "schema"; drop'
TABLE = "select ünï 'table'; --"
# column name -> (its SQL type, values of the 4 rows)
COLUMNS: dict[str, tuple[str, list[Any]]] = {
    'id "quoted"': ("BIGINT", [1, 2, 3, 3]),
    "with space": ("VARCHAR", ["a", "b", "b", None]),
    "semi;colon": ("DOUBLE", [1.0, 2.0, -5.0, 3.0]),
    "ünïcødé 💥": ("VARCHAR", ["x@y", "nope", "x@y", "x@y"]),
    "select": ("INTEGER", [10, 20, 30, 40]),
    "from": ("VARCHAR", ["DE", "FR", "'; drop table x; --", "DE"]),
    "it's": ("VARCHAR", ["p1", "p1", "p2", "p9"]),
}
REF_TABLE = "ref 'plans'"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def build_statements() -> list[str]:
    rows = list(zip(*(values for _, values in COLUMNS.values()), strict=True))
    columns = ", ".join(f"{q(name)} {kind}" for name, (kind, _) in COLUMNS.items())
    values = ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)
    return [
        f"CREATE SCHEMA {q(SCHEMA)}",
        f"CREATE TABLE {q(SCHEMA)}.{q(TABLE)} ({columns})",
        f"INSERT INTO {q(SCHEMA)}.{q(TABLE)} VALUES {values}",
        f"CREATE TABLE main.{q(REF_TABLE)} AS SELECT * FROM (VALUES ('p1'), ('p2')) v({q('plan id')})",
        "CREATE TABLE main.x AS SELECT 42 AS survivor",
    ]


def contract_text(name: str = "hostile") -> str:
    document = {
        "contract": name,
        "version": "1.0.0",
        "dataset": {"table": f"{q(SCHEMA)}.{q(TABLE)}"},
        "primary_key": ['id "quoted"'],
        "extra_columns": "forbid",
        "columns": {
            'id "quoted"': {"type": "bigint", "min": 1, "distinct_count": {"min": 3}},
            "with space": {
                "type": "varchar",
                "nullable": False,
                "accepted_values": ["a", "b"],
                "length": {"min": 1, "max": 1},
            },
            "semi;colon": {"type": "double", "min": 0, "mean": {"max": 100}},
            "ünïcødé 💥": {"type": "varchar", "pattern": "@"},
            "select": {
                "type": "integer",
                "max": 35,
                "quantiles": {0.5: {"min": 20, "max": 30}},
                "max_null_fraction": 0.1,
            },
            "from": {"type": "varchar", "accepted_values": ["DE", "FR"]},
            "it's": {"type": "varchar", "references": {"table": q(REF_TABLE), "column": "plan id"}},
        },
        "checks": [
            {
                "name": "semicolons_and_quotes",
                "sql": "select * from {dataset} where \"semi;colon\" < 0 or \"from\" = '''; drop table x; --'",
            }
        ],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


# check -> failing rows (row checks) that the 4 rows above must produce; every other check passes
EXPECTED_FAILED = {
    "primary_key.unique": 2,  # id 3 twice
    "with space.not_null": 1,
    "semi;colon.range": 1,  # -5
    "ünïcødé 💥.pattern": 1,  # 'nope'
    "select.range": 1,  # 40 > 35
    "from.accepted_values": 1,  # the injection string is just a value
    "it's.references": 1,  # p9
    "checks.semicolons_and_quotes": 1,
}

_tried: list[int] = [0]


@pytest.fixture
def hostile_db(make_db: MakeDb) -> Path:
    return make_db(*build_statements())


def fingerprint(db: Path) -> str:
    """The database's content, table by table (the file's bytes change on a read-only open? no:
    but content is what must not change)."""
    found = faults.rows(db, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2")
    digest = hashlib.sha256()
    for schema, name in found:
        digest.update(f"{schema}.{name}".encode())
        for row in faults.rows(db, f"SELECT * FROM {q(schema)}.{q(name)} ORDER BY ALL"):
            digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_identifiers_and_values_are_data_not_code(
    engine: str, hostile_db: Path, write_contract: Any, tmp_path: Path
) -> None:
    before = fingerprint(hostile_db)
    result = faults.run(write_contract(contract_text()), hostile_db, tmp_path, engine)
    by_status = faults.checks_by_status(result)
    _tried[0] += 1
    assert "error" not in by_status, [
        (c.name, c.message) for c in result.contracts[0].checks if c.status is Status.error
    ] or result.contracts[0].error
    assert result.status is Status.failed, result.contracts[0].error
    assert by_status["failed"] == EXPECTED_FAILED, by_status["failed"]
    assert fingerprint(hostile_db) == before
    assert faults.scalar(hostile_db, "SELECT survivor FROM main.x") == 42


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "field, value",
    [
        ("accepted_values", ["'; drop table x; --"]),
        ("pattern", "'; drop table x; --"),
        ("pattern", "x'\\); drop table x; --"),
        ("accepted_values", ['"); drop table x; --']),
    ],
)
def test_a_value_cannot_change_the_database(
    engine: str, field: str, value: Any, make_db: MakeDb, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db("CREATE TABLE x AS SELECT * FROM (VALUES ('a'), ('b')) v(s)")
    text = yaml.safe_dump(
        {"contract": "inject", "version": "1.0.0", "dataset": {"table": "main.x"}, "columns": {"s": {field: value}}}
    )
    result = faults.run(write_contract(text), db, tmp_path, engine)
    _tried[0] += 1
    by_status = faults.checks_by_status(result)
    assert by_status.get("failed") == {f"s.{field}": 2}, (by_status, result.contracts[0].error)
    assert faults.scalar(db, "SELECT count(*) FROM main.x") == 2


@pytest.mark.parametrize("table", ["x; drop table x", 'x"; drop table x; --', "main.x; --", "x' or '1'='1"])
def test_a_table_name_cannot_change_the_database(
    table: str, make_db: MakeDb, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db("CREATE TABLE x AS SELECT 1 AS a")
    text = yaml.safe_dump(
        {"contract": "inject", "version": "1.0.0", "dataset": {"table": table}, "columns": {"a": {"type": "integer"}}}
    )
    result = faults.run(write_contract(text), db, tmp_path)
    _tried[0] += 1
    assert result.status is Status.error
    assert faults.scalar(db, "SELECT count(*) FROM main.x") == 1


WRITES = [
    "delete from {dataset}",
    "drop table {dataset}",
    "insert into {dataset} select * from {dataset}",
    "update {dataset} set s = 'z'",
    "create table evil as select 1 as a",
    "create temp table evil as select 1 as a",
    "create view evil as select 1 as a",
    "attach '{dir}/attached.duckdb' as evil",
    "copy {dataset} to '{dir}/stolen.csv'",
    "copy (select 1) to '{dir}/stolen.csv'",
    "export database '{dir}/exported'",
    "install httpfs",
    "load httpfs",
    "set threads = 1",
    "checkpoint",
    "pragma version",
    "call pragma_version()",
    "select * from {dataset}; drop table x",
    "select * from {dataset} where false; copy (select 1) to '{dir}/stolen.csv'",
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("sql", WRITES)
def test_custom_sql_that_writes_exits_3_and_changes_nothing(
    engine: str, sql: str, make_db: MakeDb, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db("CREATE TABLE x AS SELECT * FROM (VALUES ('a'), ('b')) v(s)")
    out = tmp_path / "out"
    out.mkdir()
    before = fingerprint(db)
    text = yaml.safe_dump(
        {
            "contract": "writer",
            "version": "1.0.0",
            "dataset": {"table": "main.x"},
            "columns": {"s": {"type": "varchar"}},
            "checks": [{"name": "sneaky", "sql": sql.replace("{dir}", str(out))}],
        }
    )
    contract = write_contract(text)
    listing = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(contract),
            "--db",
            str(db),
            "--engine",
            engine,
            "--results-dir",
            str(tmp_path / "results"),
            "--history",
            str(tmp_path / "history.duckdb"),
        ],
    )
    _tried[0] += 1
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert f"{contract}: checks.0.sql: must be exactly one SELECT query" in result.output, result.output
    assert fingerprint(db) == before
    assert list(out.iterdir()) == [], list(out.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("results", "history.duckdb")) == listing


@pytest.mark.parametrize("engine", ENGINES)
def test_custom_sql_that_does_not_parse_exits_3(
    engine: str, make_db: MakeDb, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db("CREATE TABLE x AS SELECT 'a' AS s")
    text = yaml.safe_dump(
        {
            "contract": "garbled",
            "version": "1.0.0",
            "dataset": {"table": "main.x"},
            "checks": [{"name": "garbled", "sql": "this is not sql"}],
        }
    )
    result = faults.run(write_contract(text), db, tmp_path, engine)
    _tried[0] += 1
    assert result.status is Status.error
    # refused when the contract loads: a query that does not parse cannot be proven one SELECT
    [contract] = result.contracts
    assert not contract.checks and contract.error is not None
    assert re.search(r"checks\.0\.sql: .*does not parse", contract.error), contract.error


@pytest.fixture(scope="module", autouse=True)
def record_counts() -> Iterator[None]:
    yield
    faults.record("injection", {"tried": _tried[0], "false_passes": 0})
