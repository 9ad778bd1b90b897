"""`dq gate --quarantine`: the rows failing a row rule are set aside, training reads the rest.

Real DuckDB files, the real gate (CliRunner, CMD a real subprocess that loads the snapshot through
`dq.load_validated`), real Parquet; the split is also generated (hypothesis) and compared with a
plain-Python oracle of which rows each rule fails.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dq.contract.model import Contract, load_contract
from dq.data.source import Table
from dq.gate.quarantine import plan
from tests.conftest import MakeDb

runner = CliRunner()

# 1,000 rows: x NULL on every 100th (10 rows), y negative on every 250th (4 rows), one duplicated id
# (2 rows, one of them also NULL in x); 500 and 1000 fail two rules: 13 distinct rows fail a row rule
TABLE = [
    """CREATE TABLE t AS SELECT i AS id,
        CASE WHEN i % 100 = 0 THEN NULL ELSE i END AS x,
        CASE WHEN i % 250 = 0 THEN -1 ELSE i END AS y,
        'a' || i AS s
       FROM range(1, 1001) r(i)""",
    "INSERT INTO t VALUES (100, 7, 7, 'a-dup')",
]
BROKEN = 13
CONTRACT = """contract: t
version: 1.0.0
dataset: {{table: main.t}}
primary_key: [id]
{extra}
columns:
  id: {{type: bigint}}
  x: {{type: bigint, nullable: false}}
  y: {{type: bigint, min: 0}}
  s: {{type: varchar, pattern: '^a'}}
"""
# CMD behind the gate: what load_validated returned (row count and ids)
PROBE = """
import json, os, sys
import dq
frame = dq.load_validated(as_="arrow")
with open(sys.argv[1], "w") as f:
    ids = sorted(i for i in frame.column("id").to_pylist() if i is not None) if "id" in frame.column_names else []
    json.dump({"rows": frame.num_rows, "ids": ids, "fingerprint": os.environ["DQ_FINGERPRINT"]}, f)
sys.stdout.flush()
os._exit(0)
"""


@pytest.fixture(autouse=True)
def _no_outer_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DQ_SNAPSHOT", raising=False)
    monkeypatch.delenv("DQ_FINGERPRINT", raising=False)


Gate = Callable[..., tuple[int, str, dict[str, Any] | None, Path]]


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    """gate(db, contract, *options) -> (exit code, output, what CMD saw or None, snapshot dir)."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    seen = tmp_path / "seen.json"
    snapshots = tmp_path / "snaps"

    def run(db: Path, contract: Path, *options: str) -> tuple[int, str, dict[str, Any] | None, Path]:
        from dq.cli import app

        seen.unlink(missing_ok=True)
        args = ["gate", str(contract), "--db", str(db), "--results-dir", str(tmp_path / "results")]
        args += ["--snapshot-dir", str(snapshots), "--format", "json", "--output", str(tmp_path / "r.json"), *options]
        result = runner.invoke(app, [*args, "--", sys.executable, str(probe), str(seen)])
        return result.exit_code, result.output, json.loads(seen.read_text()) if seen.exists() else None, snapshots

    return run


def result_of(tmp_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((tmp_path / "r.json").read_text())
    return document["contracts"][0]


def rows(con: duckdb.DuckDBPyConnection, query: str) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(r) for r in con.execute(query).fetchall())


def test_clean_data_quarantines_nothing_and_trains_on_every_row(make_db: MakeDb, write_contract, gate, tmp_path):
    db = make_db("CREATE TABLE t AS SELECT i AS id, i AS x, i AS y, 'a' || i AS s FROM range(1, 101) r(i)")
    code, out, seen, snaps = gate(
        db, write_contract(CONTRACT.format(extra="quarantine: {max_fraction: 0}")), "--quarantine"
    )
    assert code == 0, out
    assert seen is not None and seen["rows"] == 100
    manifest = json.loads((snaps / "t.manifest.json").read_text())
    assert manifest["row_count"] == 100
    assert {k: manifest["quarantine"][k] for k in ("rows_checked", "rows_kept", "rows_quarantined")} == {
        "rows_checked": 100,
        "rows_kept": 100,
        "rows_quarantined": 0,
    }
    with duckdb.connect() as con:
        assert con.execute(f"SELECT count(*) FROM '{snaps / 't.quarantine.parquet'}'").fetchone() == (0,)


def test_broken_rows_within_the_bound_are_set_aside_and_training_reads_only_the_rest(
    make_db: MakeDb, write_contract, gate, tmp_path
):
    db = make_db(*TABLE)
    code, out, seen, snaps = gate(
        db, write_contract(CONTRACT.format(extra="quarantine: {max_fraction: 0.02}")), "--quarantine"
    )
    assert code == 0, out
    assert seen is not None and seen["rows"] == 1001 - BROKEN
    assert 100 not in seen["ids"] and 250 not in seen["ids"] and 1 in seen["ids"]
    kept, aside = snaps / "t.parquet", snaps / "t.quarantine.parquet"
    with duckdb.connect(str(db), read_only=True) as con:
        everything = rows(con, "SELECT * FROM t")
        kept_rows = rows(con, f"SELECT * FROM '{kept}'")
        aside_rows = rows(con, f"SELECT * FROM '{aside}'")
        # exactly the source rows, split in two: nothing lost, nothing in both, nothing invented
        assert kept_rows + aside_rows == everything
        assert not (set(kept_rows) & set(aside_rows))
        assert sorted(r[0] for r in aside_rows.elements()) == sorted(
            [100, 100, 200, 250, 300, 400, 500, 600, 700, 750, 800, 900, 1000]
        )
    manifest = json.loads((snaps / "t.manifest.json").read_text())
    # what training read is byte for byte the file the checks ran on and the gate fingerprinted
    assert seen["fingerprint"] == manifest["fingerprint"] == "sha256:" + hashlib.sha256(kept.read_bytes()).hexdigest()
    quarantine = manifest["quarantine"]
    assert manifest["row_count"] == 1001 - BROKEN and manifest["file"] == "t.parquet"
    assert quarantine["file"] == "t.quarantine.parquet"
    assert quarantine["fingerprint"] == "sha256:" + hashlib.sha256(aside.read_bytes()).hexdigest()
    assert (quarantine["rows_checked"], quarantine["rows_kept"], quarantine["rows_quarantined"]) == (1001, 988, 13)
    assert quarantine["fraction_exact"] == "13/1001" and quarantine["max_fraction"] == "0.02"
    assert quarantine["by_check"] == {
        "x.not_null": 10,
        "y.range": 4,
        "s.pattern": 0,
        "id.not_null": 0,
        "primary_key.unique": 2,
    }
    found = result_of(tmp_path)
    assert found["quarantine"]["rows_quarantined"] == 13
    assert found["quarantine"]["snapshot"] == str(kept) and found["quarantine"]["quarantine_file"] == str(aside)
    bound = next(c for c in found["checks"] if c["name"] == "quarantine.max_fraction")
    assert (bound["status"], bound["failing_rows"]) == ("passed", 13)
    # the row rules ran on the kept rows: none fails there
    assert all(c["failing_rows"] in (None, 0) for c in found["checks"] if c["name"] != "quarantine.max_fraction")


@pytest.mark.parametrize(
    ("max_fraction", "code"),
    [
        ("0.0129", 1),
        ("0.0129870129870129871", 0),  # just above 13/1001 = 0.012987012987012987...: compared exactly
        ("0.0129870129870129869", 1),  # just below
        ("0", 1),
        ("1", 0),
    ],
)
def test_the_bound_is_compared_exactly_and_beyond_it_training_never_starts(
    make_db: MakeDb, write_contract, gate, tmp_path, max_fraction: str, code: int
):
    db = make_db(*TABLE)
    contract = write_contract(CONTRACT.format(extra=f"quarantine: {{max_fraction: {max_fraction}}}"))
    exit_code, out, seen, snaps = gate(db, contract, "--quarantine")
    assert exit_code == code, out
    if code == 1:
        assert seen is None  # training did not start
        assert not snaps.exists() or list(snaps.iterdir()) == []  # nothing to train on is left behind
        assert "more than max_fraction" in out and "blocked" in out
        assert result_of(tmp_path)["quarantine"]["within_bound"] is False
    else:
        assert seen is not None and seen["rows"] == 988


def test_quarantine_without_the_contract_key_is_refused_naming_the_key_and_the_fix(
    make_db: MakeDb, write_contract, gate
):
    code, out, seen, _ = gate(make_db(*TABLE), write_contract(CONTRACT.format(extra="")), "--quarantine")
    assert code == 3 and seen is None
    assert "`quarantine`" in out and "quarantine: {max_fraction: 0.01}" in out and "without --quarantine" in out


def test_the_key_without_the_flag_gates_as_before(make_db: MakeDb, write_contract, gate, tmp_path):
    contract = write_contract(CONTRACT.format(extra="quarantine: {max_fraction: 0.5}"))
    code, out, seen, _ = gate(make_db(*TABLE), contract)
    assert code == 1 and seen is None, out
    assert "quarantine" not in result_of(tmp_path)
    clean = make_db(
        "CREATE TABLE t AS SELECT i AS id, i AS x, i AS y, 'a' || i AS s FROM range(1, 11) r(i)", name="c.duckdb"
    )
    code, out, seen, snaps = gate(clean, contract)
    assert code == 0 and seen is not None and seen["rows"] == 10, out
    assert "quarantine" not in json.loads((snaps / "t.manifest.json").read_text())
    assert not (snaps / "t.quarantine.parquet").exists()


def test_quarantine_needs_a_snapshot(make_db: MakeDb, write_contract, gate):
    contract = write_contract(CONTRACT.format(extra="quarantine: {max_fraction: 0.5}"))
    code, out, seen, _ = gate(make_db(*TABLE), contract, "--quarantine", "--no-snapshot")
    assert code == 2 and seen is None and "--no-snapshot" in out


NULLS = """contract: n
version: 1.0.0
dataset: {table: main.n}
quarantine: {max_fraction: 1}
columns:
  a: {type: integer, min: 0}
  b: {type: integer}
  c: {type: varchar, accepted_values: ['p', 'q'], length: {max: 1}}
expressions:
  - {name: a_at_least_b, expr: 'a >= b'}
"""


@pytest.mark.parametrize(
    ("a", "b", "c", "quarantined"),
    [
        ("NULL", "NULL", "NULL", False),  # every predicate NULL: no rule fails (nullability is not declared)
        ("1", "NULL", "'p'", False),  # a >= b is NULL: not a violation, as in a SQL CHECK
        ("NULL", "5", "'p'", False),  # min on NULL and a >= b on NULL: both NULL
        ("-1", "NULL", "NULL", True),  # one rule true, the others NULL
        ("1", "5", "NULL", True),  # a >= b false
        ("5", "1", "'r'", True),  # not an accepted value
        ("5", "1", "'pp'", True),  # too long (and not accepted)
        ("5", "1", "'q'", False),
    ],
)
def test_a_row_whose_predicates_are_null_lands_in_exactly_one_file(
    make_db: MakeDb, write_contract, gate, a: str, b: str, c: str, quarantined: bool
):
    db = make_db(f"CREATE TABLE n AS SELECT {a}::INTEGER AS a, {b}::INTEGER AS b, {c}::VARCHAR AS c")
    code, out, seen, snaps = gate(db, write_contract(NULLS), "--quarantine")
    assert code == 0 and seen is not None, out
    with duckdb.connect() as con:
        counts = [
            con.execute(f"SELECT count(*) FROM '{snaps / f}'").fetchone()[0]
            for f in ("n.parquet", "n.quarantine.parquet")
        ]
    assert counts == ([0, 1] if quarantined else [1, 0])


AGGREGATES = """contract: g
version: 1.0.0
dataset: {{table: main.g}}
quarantine: {{max_fraction: 0.1}}
row_count: {{min: {min_rows}}}
columns:
  v: {{type: bigint, max: 100, mean: {{max: 60}}}}
  w: {{type: bigint, min: 0, severity: warn}}
"""


@pytest.mark.parametrize(
    ("min_rows", "code", "trained_rows"),
    [
        (99, 0, 99),  # the outlier's mean (>60 over all 100 rows) is gone from the 99 rows kept: they pass
        (100, 1, None),  # 100 rows were checked, but the training set is 99: row_count fails on it
    ],
)
def test_aggregates_are_those_of_the_rows_kept(
    make_db: MakeDb, write_contract, gate, min_rows: int, code: int, trained_rows: int | None
):
    # v = 1..99 and one 1,000,000; w negative on 5 rows, but a warn rule never drops a row
    db = make_db(
        "CREATE TABLE g AS SELECT CASE WHEN i = 100 THEN 1000000 ELSE i END AS v, "
        "CASE WHEN i <= 5 THEN -1 ELSE i END AS w FROM range(1, 101) r(i)"
    )
    exit_code, out, seen, _ = gate(db, write_contract(AGGREGATES.format(min_rows=min_rows)), "--quarantine")
    assert exit_code == code, out
    assert (seen["rows"] if seen else None) == trained_rows


def test_all_rows_of_a_duplicated_key_are_set_aside_and_null_keys_kept(make_db: MakeDb, write_contract, gate):
    db = make_db(
        "CREATE TABLE k AS SELECT * FROM (VALUES (1, 'x'), (1, 'y'), (2, 'z'), (NULL, 'u'), (NULL, 'v')) v(id, s)"
    )
    contract = write_contract(
        "contract: k\nversion: 1.0.0\ndataset: {table: main.k}\nquarantine: {max_fraction: 0.4}\n"
        "columns:\n  id: {type: integer, unique: true}\n  s: {type: varchar}\n"
    )
    code, out, seen, snaps = gate(db, contract, "--quarantine")
    assert code == 0 and seen is not None and seen["rows"] == 3, out
    with duckdb.connect() as con:
        kept = sorted(con.execute(f"SELECT s FROM '{snaps / 'k.parquet'}'").fetchall())
        aside = sorted(con.execute(f"SELECT s FROM '{snaps / 'k.quarantine.parquet'}'").fetchall())
    assert (kept, aside) == ([("u",), ("v",), ("z",)], [("x",), ("y",)])


def test_a_failing_reference_is_not_quarantined_it_blocks(make_db: MakeDb, write_contract, gate):
    db = make_db(
        "CREATE TABLE p AS SELECT 1 AS id",
        "CREATE TABLE r AS SELECT * FROM (VALUES (1), (2)) v(pid)",
    )
    contract = write_contract(
        "contract: r\nversion: 1.0.0\ndataset: {table: main.r}\nquarantine: {max_fraction: 1}\n"
        "columns:\n  pid: {type: integer, references: {table: main.p, column: id}}\n"
    )
    code, out, seen, _ = gate(db, contract, "--quarantine")
    assert code == 1 and seen is None, out


# --- the split, generated, against a plain-Python oracle ------------------------------------------

GENERATED = """contract: h
version: 1.0.0
dataset: {table: main.h}
quarantine: {max_fraction: 1}
columns:
  id: {type: integer, unique: true}
  a: {type: integer, nullable: false, min: -5, max: 5}
  b: {type: integer}
  s: {type: varchar, accepted_values: ['ab', 'ba', 'b', 'abc', ''], pattern: '^a', length: {min: 1, max: 2}}
  w: {type: integer, min: 0, severity: warn}
expressions:
  - {name: a_le_b, expr: 'a <= b'}
"""
ALLOWED = {"ab", "ba", "b", "abc", ""}


def oracle_rules(ids: Counter[Any]) -> dict[str, Callable[[tuple[Any, ...]], bool]]:
    """Each error-severity row rule of GENERATED as a plain-Python test of a row (NULL is None);
    `w`'s rule is warn-severity and never sets a row aside."""
    return {
        "a.not_null": lambda r: r[1] is None,
        "a.range": lambda r: r[1] is not None and not -5 <= r[1] <= 5,
        "s.accepted_values": lambda r: r[3] is not None and r[3] not in ALLOWED,
        "s.pattern": lambda r: r[3] is not None and re.search("^a", r[3]) is None,
        "s.length": lambda r: r[3] is not None and not 1 <= len(r[3]) <= 2,
        "id.unique": lambda r: r[0] is not None and ids[r[0]] > 1,
        "expressions.a_le_b": lambda r: r[1] is not None and r[2] is not None and not r[1] <= r[2],
    }


@functools.cache
def generated_contract() -> Contract:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "h.yml"
        path.write_text(GENERATED, encoding="utf-8")
        return load_contract(path)


row_strategy = st.tuples(
    st.one_of(st.none(), st.integers(0, 6)),
    st.one_of(st.none(), st.integers(-7, 7)),
    st.one_of(st.none(), st.integers(-7, 7)),
    st.one_of(st.none(), st.sampled_from(["", "a", "ab", "abc", "b", "ba", "ac", "x"])),
    st.one_of(st.none(), st.integers(-2, 2)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row_strategy, max_size=30))
def test_the_split_matches_a_python_oracle(generated: list[tuple[Any, ...]]):
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as con:
        directory = Path(scratch)
        con.execute("CREATE TABLE h (id INTEGER, a INTEGER, b INTEGER, s VARCHAR, w INTEGER)")
        if generated:
            con.executemany("INSERT INTO h VALUES (?, ?, ?, ?, ?)", generated)
        source = directory / "all.parquet"
        con.execute(f"COPY h TO '{source}' (FORMAT parquet)")
        columns = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE h").fetchall()}
        rules = plan(generated_contract(), Table(con, directory / "x.duckdb", "main", "h", columns))
        kept, aside = directory / "kept.parquet", directory / "aside.parquet"
        split = rules.write(con, f"read_parquet('{source}')", kept, aside)
        rules_of = oracle_rules(Counter(r[0] for r in generated))
        expected_aside = Counter(r for r in generated if any(rule(r) for rule in rules_of.values()))
        expected_kept = Counter(generated) - expected_aside
        assert rows(con, f"SELECT * FROM '{kept}'") == expected_kept
        assert rows(con, f"SELECT * FROM '{aside}'") == expected_aside
        assert (split.kept, split.quarantined) == (expected_kept.total(), expected_aside.total())
        assert split.by_check == {name: sum(map(rule, generated)) for name, rule in rules_of.items()}


@pytest.mark.parametrize(
    ("columns", "problem"),
    [
        ("  id: {type: integer, nullable: false}\n", False),
        ("  id: {type: integer, unique: true}\n", False),
        ("  id: {type: integer, min: 0, severity: warn}\n", True),  # a warn rule drops no row
        ("  id: {type: integer}\n", True),
    ],
)
def test_lint_flags_a_quarantine_bound_with_no_rule_to_set_rows_aside(tmp_path: Path, columns: str, problem: bool):
    from dq.review.lint import lint

    path = tmp_path / "q.yml"
    path.write_text(
        "contract: q\nversion: 1.0.0\ndataset: {table: main.q}\nquarantine: {max_fraction: 0.01}\ncolumns:\n" + columns,
        encoding="utf-8",
    )
    _, problems = lint([path], None, skip_dbt=True)
    assert [(p.key, "would drop nothing" in p.message) for p in problems] == ([("quarantine", True)] if problem else [])


@pytest.mark.parametrize("value", ["-0.1", "1.5", "'0.1'", "true"])
def test_max_fraction_must_be_a_share(write_contract, value: str):
    from dq.errors import ContractError

    with pytest.raises(ContractError, match=r"quarantine\.max_fraction"):
        load_contract(write_contract(CONTRACT.format(extra=f"quarantine: {{max_fraction: {value}}}")))


def test_the_bound_survives_an_odcs_round_trip(write_contract):
    from dq.contract.yaml12 import load_yaml12
    from dq.formats.odcs import export_contract, import_document

    contract = load_contract(write_contract(CONTRACT.format(extra="quarantine: {max_fraction: 0.0125}")))
    imported = import_document(load_yaml12(export_contract(contract)), Path("q.odcs.yaml"))
    back = Contract.model_validate(imported.contracts[0])
    assert back.quarantine == contract.quarantine and str(back.quarantine.max_fraction) == "0.0125"


def test_a_rule_failing_on_the_data_during_the_split_is_exit_3_and_leaves_nothing(
    make_db: MakeDb, write_contract, gate
):
    contract = write_contract(
        "contract: t\nversion: 1.0.0\ndataset: {table: main.t}\nquarantine: {max_fraction: 1}\n"
        "columns:\n  s: {type: varchar}\nexpressions:\n  - {name: s_number, expr: 's::INTEGER > 0'}\n"
    )
    code, out, seen, snaps = gate(make_db(*TABLE), contract, "--quarantine")
    assert code == 3 and seen is None, out
    assert "cannot set aside the rows of t" in out
    assert not snaps.exists() or list(snaps.iterdir()) == []  # no staging file, no quarantine file


def test_several_contracts_each_get_their_own_split(make_db: MakeDb, tmp_path: Path):
    from dq.cli import app

    db = make_db(*TABLE, "CREATE TABLE u AS SELECT i AS id, i AS x, i AS y, 'a' || i AS s FROM range(1, 21) r(i)")
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "t.yml").write_text(CONTRACT.format(extra="quarantine: {max_fraction: 0.02}"), encoding="utf-8")
    other = CONTRACT.replace("contract: t", "contract: u").replace("main.t", "main.u")
    (contracts / "u.yml").write_text(other.format(extra="quarantine: {max_fraction: 0}"), encoding="utf-8")
    probe, seen = tmp_path / "probe.py", tmp_path / "seen.json"
    probe.write_text(
        "import json, os, sys\nimport dq\n"
        "counts = {c: len(dq.load_validated(contract=c, as_='arrow')) for c in ('t', 'u')}\n"
        "open(sys.argv[1], 'w').write(json.dumps(counts))\nsys.stdout.flush()\nos._exit(0)\n",
        encoding="utf-8",
    )
    snaps = tmp_path / "snaps"
    args = ["gate", str(contracts), "--db", str(db), "--results-dir", str(tmp_path / "results")]
    args += ["--snapshot-dir", str(snaps), "--quarantine", "--", sys.executable, str(probe), str(seen)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(seen.read_text()) == {"t": 988, "u": 20}
    aside = {
        name: json.loads((snaps / f"{name}.manifest.json").read_text())["quarantine"]["rows_quarantined"]
        for name in ("t", "u")
    }
    assert aside == {"t": 13, "u": 0}


@pytest.mark.parametrize(
    ("events", "check"),
    [
        ("columns:\n  eid: {}\n  user_id: {references: {table: main.users, column: id}}\n", "user_id.references"),
        # spelled differently, the same relation once resolved
        ("columns:\n  eid: {}\n  user_id: {references: {table: users, column: id}}\n", "user_id.references"),
        (
            "columns:\n  eid: {}\n  id: {}\nleakage: {disjoint_from: {table: main.users, key: [id]}}\n",
            "leakage.disjoint_from",
        ),
        (
            "columns:\n  eid: {}\n  id: {}\nreconcile:\n  - {against: {table: main.users}, row_count: {max_diff: 100}}\n",
            "reconcile.row_count",
        ),
    ],
    ids=["references", "references, other spelling", "disjoint_from", "reconcile"],
)
def test_a_check_against_another_gated_contract_s_dataset_is_refused(
    make_db: MakeDb, tmp_path: Path, events: str, check: str
) -> None:
    # users' split sets the age -1 row aside; the events check read the live users table (every row),
    # so the snapshots handed to training would break it: refused, exit 3, nothing trains
    from dq.cli import app

    db = make_db(
        "CREATE TABLE users AS SELECT i AS id, CASE WHEN i = 3 THEN -1 ELSE 30 END AS age FROM range(1, 11) r(i)",
        "CREATE TABLE events AS SELECT i AS eid, 3::BIGINT AS user_id, 100 + i AS id FROM range(1, 6) r(i)",
    )
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "users.yml").write_text(
        "contract: users\nversion: 1.0.0\ndataset: {table: main.users}\nquarantine: {max_fraction: 0.5}\n"
        "columns:\n  id: {unique: true}\n  age: {min: 0}\n",
        encoding="utf-8",
    )
    (contracts / "events.yml").write_text(
        "contract: events\nversion: 1.0.0\ndataset: {table: main.events}\nquarantine: {max_fraction: 0.5}\n" + events,
        encoding="utf-8",
    )
    snaps, seen = tmp_path / "snaps", tmp_path / "seen"
    args = ["gate", str(contracts), "--db", str(db), "--results-dir", str(tmp_path / "results")]
    args += ["--snapshot-dir", str(snaps), "--quarantine", "--", sys.executable, "-c", f"open({str(seen)!r}, 'w')"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3, result.output
    assert not seen.exists()
    assert f"events: {check} was judged against main.users, the dataset of the contract users" in result.output
    assert not snaps.exists() or not list(snaps.glob("*.parquet"))
    # gated alone, each passes (events' reference holds on the live users table)
    alone = ["gate", str(contracts / "events.yml"), "--db", str(db), "--results-dir", str(tmp_path / "results")]
    alone += ["--snapshot-dir", str(tmp_path / "alone"), "--quarantine", "--", sys.executable, "-c", "pass"]
    assert runner.invoke(app, alone).exit_code == 0


def test_a_dataset_column_named_like_the_helper_flag_is_split_as_any_column(make_db: MakeDb, write_contract, gate):
    # the split's helper flag takes a name no column has: the dataset's own __dq_quarantined survives
    db = make_db(
        "CREATE TABLE t AS SELECT i AS id, CASE WHEN i = 2 THEN -1 ELSE i END AS y, i % 2 = 0 AS __dq_quarantined "
        "FROM range(1, 11) r(i)"
    )
    contract = write_contract(
        "contract: t\nversion: 1.0.0\ndataset: {table: main.t}\nquarantine: {max_fraction: 0.5}\n"
        "columns:\n  id: {}\n  y: {min: 0}\n  __dq_quarantined: {}\n"
    )
    code, out, seen, snaps = gate(db, contract, "--quarantine")
    assert code == 0, out
    assert seen is not None and seen["ids"] == [1, *range(3, 11)]
    kept = duckdb.sql(f"SELECT id, __dq_quarantined FROM read_parquet('{snaps / 't.parquet'}') ORDER BY id").fetchall()
    assert kept == [(i, i % 2 == 0) for i in [1, *range(3, 11)]]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("quarantine: {max_fraction: 1}\n", True),
        ("quarantine: {max_fraction: 1}\nrow_count: {min: 0}\n", True),
        ("quarantine: {max_fraction: 1}\nrow_count: {min: 1}\n", False),
        ("quarantine: {max_fraction: 0.99}\n", False),  # at least one row of a non-empty table is kept
    ],
)
def test_lint_flags_a_bound_that_lets_training_start_on_no_rows(tmp_path: Path, extra: str, problem: bool):
    # every row quarantined passes a bound of 1, and each check passes on the 0 rows kept
    from dq.review.lint import lint

    path = tmp_path / "q.yml"
    path.write_text(
        f"contract: q\nversion: 1.0.0\ndataset: {{table: main.q}}\n{extra}columns:\n  id: {{min: 0}}\n",
        encoding="utf-8",
    )
    _, problems = lint([path], None, skip_dbt=True)
    expected = [("quarantine.max_fraction", True)] if problem else []
    assert [(p.key, "train on 0 rows" in p.message) for p in problems] == expected


def test_every_row_quarantined_without_a_row_count_trains_on_no_rows(make_db: MakeDb, write_contract, gate):
    # what the lint rule warns of, as the gate does it: documented, not refused at run time
    db = make_db("CREATE TABLE t AS SELECT -i AS id FROM range(1, 4) r(i)")
    contract = write_contract(
        "contract: t\nversion: 1.0.0\ndataset: {table: main.t}\nquarantine: {max_fraction: 1}\ncolumns:\n  id: {min: 0}\n"
    )
    code, out, seen, _ = gate(db, contract, "--quarantine")
    assert (code, seen and seen["rows"]) == (0, 0), out
    with_minimum = write_contract(contract.read_text().replace("columns:", "row_count: {min: 1}\ncolumns:"))
    code, out, seen, _ = gate(db, with_minimum, "--quarantine")
    assert (code, seen) == (1, None), out
