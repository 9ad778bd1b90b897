"""The snapshot is what was validated: taken once, validated itself, lossless in type.

Before: the gate validated the live relation and then COPYed it again to Parquet. A view that
samples (`USING SAMPLE`, `random()`) or reads external files was evaluated twice, so training read
rows no check had seen; and Parquet silently turned a HUGEINT key into a DOUBLE (unique keys
became duplicates), an ENUM into VARCHAR, dropped a TIME WITH TIME ZONE's offset and an
INTERVAL's microseconds. Now the gate copies the relation to the staging Parquet file once,
refuses any column Parquet does not keep exactly, runs every engine on that file, and renames it
into place only on a pass.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from dq.checks.result import ContractResult
from dq.config import load_settings
from dq.data.source import Table
from dq.gate.run import SnapshotWriter
from dq.run import history
from dq.run.runner import validate

runner = CliRunner()

# os._exit: under load, native thread pools sometimes abort at interpreter teardown (exit 134,
# "terminate called without an active exception") after the work is done; dq's CLI skips it too.
PROBE = """
import json, os, sys
import dq
table = dq.load_validated(as_="arrow")
with open(sys.argv[1], "w") as f:
    json.dump({"rows": table.num_rows, "ids": sorted(table.column("id").to_pylist())}, f)
os._exit(0)
"""


@pytest.fixture(autouse=True)
def _no_outer_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DQ_SNAPSHOT", raising=False)
    monkeypatch.delenv("DQ_FINGERPRINT", raising=False)


def gate(db: Path, contract: Path, tmp_path: Path, *options: str) -> tuple[int, str, dict[str, Any]]:
    """Run `dq gate` with a CMD that records the snapshot's rows; (exit code, output, what CMD saw)."""
    from dq.cli import app

    probe, seen = tmp_path / "probe.py", tmp_path / "seen.json"
    probe.write_text(PROBE, encoding="utf-8")
    seen.unlink(missing_ok=True)
    args = [
        "gate",
        str(contract),
        "--db",
        str(db),
        "--results-dir",
        str(tmp_path / "results"),
        "--snapshot-dir",
        str(tmp_path / "snaps"),
        *options,
        "--",
        sys.executable,
        str(probe),
        str(seen),
    ]
    result = runner.invoke(app, args)
    return result.exit_code, result.output, json.loads(seen.read_text()) if seen.exists() else {}


def checks_of(output_dir: Path) -> dict[str, Any]:
    (path,) = sorted((output_dir / "results").glob("*.json"))
    result = json.loads(path.read_text())
    return {check["name"]: check for check in result["contracts"][0]["checks"]}


SAMPLED_CONTRACT = """contract: sampled
version: 1.0.0
dataset: {table: main.sampled}
row_count: {min: 1}
columns:
  id: {type: bigint, nullable: false, mean: {min: 0}}
"""
SAMPLING_VIEWS = {
    "using-sample": "CREATE VIEW sampled AS SELECT * FROM base USING SAMPLE 50 PERCENT (bernoulli)",
    "random": "CREATE VIEW sampled AS SELECT * FROM base WHERE random() < 0.5",
}


@pytest.mark.parametrize("view", SAMPLING_VIEWS, ids=list(SAMPLING_VIEWS))
def test_a_sampling_view_is_evaluated_once_and_the_snapshot_is_what_the_checks_saw(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path, view: str
) -> None:
    db = make_db("CREATE TABLE base AS SELECT range AS id FROM range(20000)", SAMPLING_VIEWS[view])
    code, out, seen = gate(db, write_contract(SAMPLED_CONTRACT), tmp_path)
    assert code == 0, out
    checks = checks_of(tmp_path)
    # the sample differs on every evaluation; the checks' row count and mean are those of the snapshot
    assert checks["row_count"]["observed"] == seen["rows"]
    assert checks["id.mean"]["observed"] == pytest.approx(sum(seen["ids"]) / len(seen["ids"]), rel=0, abs=1e-9)


def test_the_history_fingerprint_names_the_snapshot_rows(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path
) -> None:
    db = make_db("CREATE TABLE base AS SELECT range AS id FROM range(20000)", SAMPLING_VIEWS["random"])
    code, out, _ = gate(db, write_contract(SAMPLED_CONTRACT), tmp_path, "--history", str(tmp_path / "h.duckdb"))
    assert code == 0, out
    with duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True) as con:
        ((recorded, rows),) = con.execute("SELECT dataset_fingerprint, row_count FROM contracts").fetchall()
    with duckdb.connect() as con:
        parquet = tmp_path / "snaps" / "sampled.parquet"
        con.execute(f"CREATE VIEW sampled AS SELECT * FROM read_parquet('{parquet}')")
        of_snapshot = history.dataset_fingerprint(Table(con, db, "main", "sampled", {"id": "BIGINT"}))
    assert of_snapshot is not None and (recorded, rows) == of_snapshot


class _RewriteAfterChecks:
    """A Progress that rewrites the external file the view reads as soon as the checks are done,
    before the gate writes its snapshot: the race a view over files has with its producer."""

    def __init__(self, csv: Path) -> None:
        self.csv = csv

    def started(self, path: str) -> None:
        pass

    def finished(self, result: ContractResult) -> None:
        self.csv.write_text("id,income\n1,-5\n2,-7\n", encoding="utf-8")


def test_a_view_over_an_external_file_is_snapshotted_as_it_was_checked(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path
) -> None:
    csv = tmp_path / "incomes.csv"
    csv.write_text("id,income\n1,10\n2,20\n3,30\n", encoding="utf-8")
    db = make_db(f"CREATE VIEW incomes AS SELECT * FROM read_csv('{csv}')")
    contract = write_contract("""contract: incomes
version: 1.0.0
dataset: {table: main.incomes}
columns:
  income: {min: 0}
""")
    writer = SnapshotWriter(tmp_path / "snaps")
    run = validate([contract], load_settings(db=db, results_dir=tmp_path / "results"), writer, _RewriteAfterChecks(csv))
    assert not run.status.blocks, run.contracts[0].error
    with duckdb.connect() as con:
        snapshot = con.execute(
            f"SELECT id, income FROM read_parquet('{writer.written[0].path}') ORDER BY id"
        ).fetchall()
    assert snapshot == [(1, 10), (2, 20), (3, 30)]


# --- lossless in type ---------------------------------------------------------------------------

TYPES: dict[str, list[str]] = {
    "HUGEINT": [
        "170141183460469231731687303715884105727",
        "(-170141183460469231731687303715884105727)",
        "1267650600228229401496703205377",
        "1267650600228229401496703205378",
        "NULL",
    ],
    "UHUGEINT": ["340282366920938463463374607431768211455", "0"],
    "BIGINT": ["9223372036854775807", "(-9223372036854775807)"],
    "UBIGINT": ["18446744073709551615", "0"],
    "TINYINT": ["(-128)", "127"],
    "UTINYINT": ["255"],
    "DECIMAL(38,10)": ["9999999999999999999999999999.9999999999", "(-0.0000000001)"],
    "DECIMAL(4,1)": ["(-999.9)"],
    "DOUBLE": ["'nan'", "'inf'", "'-inf'", "'-0.0'", "5e-324", "1.7976931348623157e308"],
    "FLOAT": ["'nan'", "'-0.0'", "1.4e-45"],
    "BOOLEAN": ["true", "false", "NULL"],
    "VARCHAR": ["''", "'héllo 🦆'", "'a' || chr(0) || 'b'"],
    "VARCHAR COLLATE NOCASE": ["'Ab'", "'aB'"],
    "BLOB": ["'\\x00\\xFF'::BLOB", "''::BLOB"],
    "UUID": ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"],
    "JSON": ["'{\"a\": 1}'"],
    "DATE": ["'infinity'", "'-infinity'", "'0001-01-01'", "'1969-12-31'"],
    "TIME": ["'00:00:00'", "'23:59:59.999999'"],
    "TIME_NS": ["'23:59:59.999999999'"],
    "TIME WITH TIME ZONE": ["'12:34:56+05:30'", "'00:00:00+00'"],
    "TIMESTAMP": ["'infinity'", "'0001-01-01 00:00:00'", "'1969-12-31 23:59:59.999999'"],
    "TIMESTAMP_NS": ["'2262-04-11 23:47:16.854775806'", "'1970-01-01 00:00:00.000000001'"],
    "TIMESTAMP_MS": ["'2024-01-01 00:00:00.123'"],
    "TIMESTAMP_S": ["'2024-01-01 00:00:01'"],
    "TIMESTAMPTZ": ["'infinity'", "'2024-01-01 00:00:00.123456+09'"],
    "INTERVAL": ["INTERVAL '1 month 2 days 3 microseconds'", "INTERVAL '1 millisecond'"],
    "mood": ["'happy'", "'sad'"],  # an ENUM
    "INTEGER[]": ["[1, NULL, 3]", "[]"],
    "HUGEINT[]": ["[1267650600228229401496703205377]"],
    "STRUCT(a INTEGER, b VARCHAR)": ["{'a': 1, 'b': 'x'}"],
    "STRUCT(h HUGEINT)": ["{'h': 1267650600228229401496703205377}"],
    "STRUCT(t TIME WITH TIME ZONE)": ["{'t': '12:00:00+01'}"],
    "INTERVAL[]": ["[INTERVAL '3 microseconds']"],
    "MAP(VARCHAR, INTEGER)": ["MAP {'k': 1}"],
    "INTEGER[3]": ["[1, 2, 3]"],
    "BIT": ["'0101'"],
    "BIGNUM": ["123456789012345678901234567890123456789012"],
    "UNION(num INTEGER, s VARCHAR)": ["union_value(num := 2)"],
}
TYPE_CONTRACT = """contract: typed
version: 1.0.0
dataset: {table: main.typed}
row_count: {min: 1}
columns:
  id: {type: integer, nullable: false, unique: true}
"""


def _typed_db(make_db: Callable[..., Path], kind: str) -> Path:
    inserts = [f"INSERT INTO typed VALUES ({i}, {value}::{kind})" for i, value in enumerate(TYPES[kind])]
    return make_db("CREATE TYPE mood AS ENUM ('happy', 'sad')", f"CREATE TABLE typed (id INTEGER, v {kind})", *inserts)


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Every row as Python values and as DuckDB's text, with each value's type: NaN-safe, exact."""
    con.execute("SET TimeZone = 'UTC'")
    query = f"SELECT id, v, v::VARCHAR, typeof(v) FROM {relation} ORDER BY id"
    return [repr(row) for row in con.execute(query).fetchall()]


@pytest.mark.parametrize("kind", TYPES, ids=list(TYPES))
def test_every_type_round_trips_exactly_or_the_gate_refuses_it(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path, kind: str
) -> None:
    db = _typed_db(make_db, kind)
    code, out, seen = gate(db, write_contract(TYPE_CONTRACT), tmp_path)
    if code == 0:
        with duckdb.connect(str(db), read_only=True) as con:
            source = _rows(con, "typed")
        with duckdb.connect() as con:
            snapshot = _rows(con, f"read_parquet('{tmp_path / 'snaps' / 'typed.parquet'}')")
        assert snapshot == source, f"{kind} passed the gate but Parquet changed it"
        assert seen["rows"] == len(TYPES[kind])
    else:
        flat = " ".join(out.split())
        assert code == 3 and seen == {}, out
        assert "column 'v'" in flat and "Fix: cast it in the model" in flat, out
        assert not list((tmp_path / "snaps").glob("*")), "a refused snapshot left files behind"


def test_a_hugeint_key_is_refused_with_the_cast_that_keeps_it_unique(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path
) -> None:
    """2**100 + 1 and 2**100 + 2 are one DOUBLE: training would see a duplicated key."""
    db = make_db("CREATE TABLE typed AS SELECT 1267650600228229401496703205376::HUGEINT + range AS id FROM range(1, 3)")
    contract = write_contract(TYPE_CONTRACT.replace("type: integer", "type: hugeint"))
    code, out, seen = gate(db, contract, tmp_path)
    flat = " ".join(out.split())
    assert code == 3 and seen == {}, out
    assert "column 'id' is HUGEINT" in flat and "Parquet stores it as DOUBLE" in flat, out
    assert "DECIMAL(38,0)" in flat and "VARCHAR" in flat, out


ENGINE_CONTRACT = """contract: sampled
version: 1.0.0
dataset: {table: main.sampled}
row_count: {min: 1}
columns:
  id: {type: bigint, nullable: false, unique: true, max: 9999}
  plan: {type: varchar, accepted_values: [basic, pro], references: {table: main.plans, column: plan}}
  income: {type: double, min: 0, mean: {min: 0}}
"""


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
def test_every_engine_checks_the_snapshot_itself(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path, engine: str
) -> None:
    """`id <= 9999` fails on about half the sampled rows: each engine's failing-row count must be
    that of the snapshot, and references still read the live `plans` table."""
    db = make_db(
        "CREATE TABLE plans AS SELECT * FROM (VALUES ('basic'), ('pro')) t(plan)",
        "CREATE TABLE base AS SELECT range AS id, CASE WHEN range % 2 = 0 THEN 'basic' ELSE 'pro' END AS plan, "
        "(range * 1.5)::DOUBLE AS income FROM range(20000)",
        SAMPLING_VIEWS["random"],
    )
    code, out, seen = gate(db, write_contract(ENGINE_CONTRACT), tmp_path, "--engine", engine)
    assert code == 1 and seen == {}, out
    checks = checks_of(tmp_path)
    failed = {name: check for name, check in checks.items() if check["status"] != "passed"}
    assert list(failed) == ["id.range"], failed
    assert not list((tmp_path / "snaps").glob("*")), "a blocked gate left its staging copy behind"
    # the failing rows were counted on the one evaluation the checks saw: consistent with its row count
    assert 0 < failed["id.range"]["failing_rows"] < checks["row_count"]["observed"] < 20000
    assert (engine if engine != "auto" else "pandera-batch") in {check["engine"] for check in checks.values()}


@pytest.mark.parametrize("engine", ["pandera", "gx"])
def test_every_engine_passes_a_snapshot_that_holds(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path, engine: str
) -> None:
    db = make_db(
        "CREATE TABLE plans AS SELECT * FROM (VALUES ('basic'), ('pro')) t(plan)",
        "CREATE TABLE base AS SELECT range AS id, CASE WHEN range % 2 = 0 THEN 'basic' ELSE 'pro' END AS plan, "
        "(range * 1.5)::DOUBLE AS income FROM range(5000)",
        SAMPLING_VIEWS["random"],
    )
    code, out, seen = gate(db, write_contract(ENGINE_CONTRACT), tmp_path, "--engine", engine)
    assert code == 0, out
    checks = checks_of(tmp_path)
    assert checks["row_count"]["observed"] == seen["rows"]
    assert engine in {check["engine"] for check in checks.values()}


class _RewriteAfterStaging(SnapshotWriter):
    """Rewrites the external file right after the gate took its copy, before any check runs."""

    def __init__(self, directory: Path, csv: Path, text: str) -> None:
        super().__init__(directory)
        self.csv, self.text = csv, text

    def stage(self, contract: Any, table: Table) -> Table:
        staged = super().stage(contract, table)
        self.csv.write_text(self.text, encoding="utf-8")
        return staged


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
def test_a_dataset_that_references_itself_is_checked_against_its_snapshot(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path, engine: str
) -> None:
    """parent_id -> id of the same dataset: the snapshot's orphans must fail, even when a re-read of
    the live relation would hold the missing parent."""
    csv = tmp_path / "nodes.csv"
    csv.write_text("id,parent_id\n2,1\n3,2\n", encoding="utf-8")  # the copy: parent 1 is missing
    db = make_db(f"CREATE VIEW nodes AS SELECT * FROM read_csv('{csv}')")
    contract = write_contract("""contract: nodes
version: 1.0.0
dataset: {table: main.nodes}
columns:
  parent_id: {references: {table: main.nodes, column: id}}
""")
    writer = _RewriteAfterStaging(tmp_path / "snaps", csv, "id,parent_id\n1,\n2,1\n3,2\n")
    run = validate([contract], load_settings(db=db, results_dir=tmp_path / "results", engine=engine), writer)
    writer.discard()
    (check,) = [c for c in run.contracts[0].checks if c.kind == "references"]
    assert check.status.value == "failed" and check.failing_rows == 1, (check, run.contracts[0].error)


# --- collations ----------------------------------------------------------------------------------

# Under a collation, `country = 'us'` in a where, an expression or a custom check also selects
# 'US' (and 'ús', 'u\u0301s' under NOACCENT/NFC): the snapshot's view must select the same rows.
COLLATED_RULES = """contract: collated
version: 1.0.0
dataset: {table: main.t}
columns:
  country: {type: varchar}
  age: {type: integer, min: 18, where: "country = 'us'"}
expressions:
  - {name: us_adult, expr: "country <> 'us' OR age >= 18"}
checks:
  - {name: no_minor_us, sql: "select * from {dataset} where country = 'us' and age < 18"}
"""
COLLATED_CHECKS = ("age.range", "expressions.us_adult", "checks.no_minor_us")
# collation -> the minor's country, which equals 'us' only under that collation
MINOR_UNDER = {"nocase": "US", "noaccent": "ús", "nocase.noaccent": "ÚS"}


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
@pytest.mark.parametrize("collation", MINOR_UNDER, ids=list(MINOR_UNDER))
def test_a_collated_column_selects_the_same_rows_in_the_gate_as_in_validate(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path, collation: str, engine: str
) -> None:
    db = make_db(
        f"CREATE TABLE t (id INTEGER, country VARCHAR COLLATE {collation}, age INTEGER)",
        f"INSERT INTO t VALUES (1, '{MINOR_UNDER[collation]}', 10), (2, 'us', 30), (3, 'de', 10)",
    )
    contract = write_contract(COLLATED_RULES)
    validated = validate([contract], load_settings(db=db, results_dir=tmp_path / "v", engine=engine))
    code, out, seen = gate(db, contract, tmp_path, "--engine", engine)
    assert code == 1, out
    assert not seen, "the gate started training on a minor the rules select"
    checks = checks_of(tmp_path)
    by_validate = {c.name: c for c in validated.contracts[0].checks}
    for name in COLLATED_CHECKS:
        assert (checks[name]["status"], checks[name]["failing_rows"]) == ("failed", 1), (name, out)
        assert by_validate[name].failing_rows == 1, name


def test_a_collated_column_set_aside_by_the_quarantine_is_the_row_the_collation_selects(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path
) -> None:
    db = make_db(
        "CREATE TABLE t (id INTEGER, country VARCHAR COLLATE NOCASE, age INTEGER)",
        "INSERT INTO t VALUES (1, 'US', 10), (2, 'us', 30), (3, 'DE', 10)",
    )
    rules = COLLATED_RULES.split("expressions:")[0]  # the row rule alone: quarantine sets rows aside by it
    contract = write_contract(rules + "quarantine: {max_fraction: 0.5}\n")
    code, out, seen = gate(db, contract, tmp_path, "--quarantine")
    assert code == 0, out
    assert seen["ids"] == [2, 3], out  # 'US' aged 10 is set aside, as `country = 'us'` selects it


def test_a_collation_the_snapshot_cannot_put_back_is_refused(
    make_db: Callable[..., Path], write_contract: Callable[[str], Path], tmp_path: Path
) -> None:
    db = make_db(
        "CREATE TABLE t (id INTEGER, country VARCHAR COLLATE de, age INTEGER)",
        "INSERT INTO t VALUES (1, 'us', 10)",
    )
    code, out, seen = gate(db, write_contract(COLLATED_RULES), tmp_path)
    assert code == 3, out
    assert not seen
    said = " ".join(out.split())
    assert "column 'country' has a collation that Parquet does not keep" in said, out
    assert "::VARCHAR" in said
