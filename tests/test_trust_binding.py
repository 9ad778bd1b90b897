"""Issue 10's classes 1-4, 6 and 11, as the gate meets them: values compared in the column's own
type, never through an implicit cast, a YAML 1.1 boolean, a double, a collation or a NaN.

Each case is (table, contract columns, expected outcome per check) and runs on every engine.
Before binding (dq/data/bind.py), the YAML 1.2 loader (dq/contract/yaml12.py) and NaN-as-missing, every "failed"
or "error" below was a pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dq.checks.result import Status
from dq.contract.model import load_contract
from dq.errors import ContractError
from tests import faults

ENGINES = ["auto", "pandera", "gx"]
_tried = [0]


@pytest.fixture(scope="module", autouse=True)
def record_counts() -> Iterator[None]:
    """The README's figures: how many (case, engine) runs this module tried; each asserts no pass."""
    yield
    faults.record("binding", {"tried": _tried[0], "false_passes": 0})


@pytest.fixture(autouse=True)
def _count() -> None:
    _tried[0] += 1


HEAD = "contract: trust\nversion: 1.0.0\ndataset: {table: main.t}\n"

# (id, CREATE/INSERT statements, contract body, {check: (status, failing rows or message regex)})
CASES: list[tuple[str, tuple[str, ...], str, dict[str, tuple[Status, Any]]]] = [
    (
        "numbers as accepted values on a VARCHAR column are refused, not cast",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('01'), (' 1'), ('2.0'), ('1')) v(code)",),
        "columns:\n  code: {accepted_values: [1, 2]}\n",
        {"code.accepted_values": (Status.error, r"1 is a number, but code is VARCHAR: quote it \('1'\)")},
    ),
    (
        "quoted accepted values compare text exactly",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('01'), (' 1'), ('2.0'), ('1')) v(code)",),
        "columns:\n  code: {accepted_values: ['1', '2']}\n",
        {"code.accepted_values": (Status.failed, 3)},
    ),
    (
        "yes/no are strings (YAML 1.2), so 't' and '1' fail",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('yes'), ('no'), ('t'), ('1'), ('on')) v(answer)",),
        "columns:\n  answer: {accepted_values: [yes, no, on]}\n",
        {"answer.accepted_values": (Status.failed, 2)},
    ),
    (
        "a boolean accepted value on a VARCHAR column is refused",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('true'), ('t')) v(flag)",),
        "columns:\n  flag: {accepted_values: [true]}\n",
        {"flag.accepted_values": (Status.error, r"true is a boolean, but flag is VARCHAR")},
    ),
    (
        "an integer bound above 2^53 is exact",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (100000000000000001::BIGINT), (5::BIGINT)) v(n)",),
        "columns:\n  n: {max: 100000000000000000}\n",
        {"n.range": (Status.failed, 1)},
    ),
    (
        "epoch nanoseconds: off by one is caught",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1700000000000000001::BIGINT)) v(ns)",),
        "columns:\n  ns: {min: 1700000000000000002}\n",
        {"ns.range": (Status.failed, 1)},
    ),
    (
        "a HUGEINT bound beyond BIGINT is exact",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (170141183460469231731687303715884105727::HUGEINT)) v(h)",),
        "columns:\n  h: {max: 170141183460469231731687303715884105726}\n",
        {"h.range": (Status.failed, 1)},
    ),
    (
        "a decimal bound finer than the column's scale is rounded inward, exactly",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.001::DECIMAL(10,3)), (1.000::DECIMAL(10,3))) v(d)",),
        "columns:\n  d: {max: 1.0005}\n",
        {"d.range": (Status.failed, 1)},
    ),
    (
        "a FLOAT 0.1 is within max: 0.1 (compared as a FLOAT, not as a double)",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (0.1::FLOAT), (0.2::FLOAT)) v(f)",),
        "columns:\n  f: {max: 0.1}\n",
        {"f.range": (Status.failed, 1)},
    ),
    (
        "numeric bounds on a VARCHAR column are refused",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('10'), ('9')) v(s)",),
        "columns:\n  s: {min: 5}\n",
        {"s.range": (Status.error, r"numeric bounds need a numeric column, but s is VARCHAR")},
    ),
    (
        "COLLATE NOCASE does not make 'de' an accepted 'DE'",
        ("CREATE TABLE t (country VARCHAR COLLATE NOCASE)", "INSERT INTO t VALUES ('DE'), ('de'), ('De')"),
        "columns:\n  country: {accepted_values: [DE]}\n",
        {"country.accepted_values": (Status.failed, 2)},
    ),
    (
        "COLLATE NOACCENT does not merge 'e' and 'é' in distinct_count",
        ("CREATE TABLE t (w VARCHAR COLLATE NOACCENT)", "INSERT INTO t VALUES ('e'), ('é'), ('E')"),
        "columns:\n  w: {distinct_count: {min: 3}}\n",
        {"w.distinct_count": (Status.passed, None)},
    ),
    (
        "COLLATE NOCASE keys 'a' and 'A' are different keys",
        ("CREATE TABLE t (k VARCHAR COLLATE NOCASE)", "INSERT INTO t VALUES ('a'), ('A'), ('b'), ('b')"),
        "columns:\n  k: {unique: true}\n",
        {"k.unique": (Status.failed, 2)},
    ),
    (
        "50 NaN fail nullable: false and max_null_fraction: 0",
        ("CREATE TABLE t AS SELECT CASE WHEN i < 50 THEN 'NaN'::DOUBLE ELSE i END AS x FROM range(100) r(i)",),
        "columns:\n  x: {nullable: false, max_null_fraction: 0}\n",
        {"x.not_null": (Status.failed, 50), "x.null_fraction": (Status.failed, None)},
    ),
    (
        "a DECIMAL accepted value with more decimals than the column can never match: refused",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.25::DECIMAL(5,2))) v(p)",),
        "columns:\n  p: {accepted_values: [1.25, 1.125]}\n",
        {"p.accepted_values": (Status.error, r"1\.125 has more than 2 decimals")},
    ),
    (
        "a pattern on a number column is refused, not matched against its text",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (123), (45)) v(n)",),
        "columns:\n  n: {pattern: '^1'}\n",
        {"n.pattern": (Status.error, r"needs a VARCHAR column, but n is INTEGER")},
    ),
    (
        "length on a LIST column is refused (it would count elements)",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (['a', 'b'])) v(l)",),
        "columns:\n  l: {length: {max: 1}}\n",
        {"l.length": (Status.error, r"needs a VARCHAR column, but l is VARCHAR\[\]")},
    ),
    (
        "ENUM, HUGEINT, TIME WITH TIME ZONE and JSON are not the types Ibis reads them as",
        (
            "CREATE TABLE t (e ENUM('a', 'b'), h HUGEINT, tt TIMETZ, j JSON, ok VARCHAR)",
            "INSERT INTO t VALUES ('a', 1, '10:00:00+02', '{}', 'x')",
        ),
        "columns:\n  e: {type: varchar}\n  h: {type: 'decimal(38,0)'}\n  tt: {type: time}\n"
        "  j: {type: varchar}\n  ok: {type: varchar}\n",
        {
            "e.type": (Status.failed, None),
            "h.type": (Status.failed, None),
            "tt.type": (Status.failed, None),
            "j.type": (Status.failed, None),
            "ok.type": (Status.passed, None),
        },
    ),
    # the adversarial review's classes (issue 10): bounds past a float type's range, tiny values
    (
        "max: 1e400 on a DOUBLE is not +inf: an infinite row fails",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.0::DOUBLE), ('inf'::DOUBLE)) v(x)",),
        "columns:\n  x: {type: double, max: 1e400}\n",
        {"x.range": (Status.failed, 1)},
    ),
    (
        "max: 1e39 on a FLOAT is not +inf",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.0::FLOAT), ('inf'::FLOAT)) v(x)",),
        "columns:\n  x: {type: float, max: 1e39}\n",
        {"x.range": (Status.failed, 1)},
    ),
    (
        "min: -3.5e38 on a FLOAT is not -inf",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.0::FLOAT), ('-inf'::FLOAT)) v(x)",),
        "columns:\n  x: {type: float, min: -3.5e38}\n",
        {"x.range": (Status.failed, 1)},
    ),
    (
        "min: 1e-400 is not 0: a 0.0 row fails",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (0.0::DOUBLE), (1.0::DOUBLE)) v(x)",),
        "columns:\n  x: {type: double, min: 1e-400}\n",
        {"x.range": (Status.failed, 1)},
    ),
    (
        "a mean bound of 1e400 is not +inf: an infinite mean fails",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.0::DOUBLE), ('inf'::DOUBLE)) v(x)",),
        "columns:\n  x: {type: double, mean: {max: 1e400}}\n",
        {"x.mean": (Status.failed, None)},
    ),
    (
        "an accepted value past DOUBLE's range is refused, not read as +inf",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.0::DOUBLE), ('inf'::DOUBLE)) v(x)",),
        "columns:\n  x: {type: double, accepted_values: [1.0, 1e400]}\n",
        {"x.accepted_values": (Status.error, r"outside the range of DOUBLE")},
    ),
    (
        "a tiny accepted value is refused, not read as 0.0",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (1.0::DOUBLE), (0.0::DOUBLE)) v(x)",),
        "columns:\n  x: {type: double, accepted_values: [1.0, 1e-400]}\n",
        {"x.accepted_values": (Status.error, r"outside the range of DOUBLE")},
    ),
    (
        "a TIMESTAMP_NS accepted value keeps its nanoseconds",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('2024-01-01 00:00:00'::TIMESTAMP_NS)) v(ts)",),
        "columns:\n  ts: {accepted_values: ['2024-01-01 00:00:00.000000001']}\n",
        {"ts.accepted_values": (Status.failed, 1)},
    ),
    (
        "'infinity' is not 9999-12-31",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (DATE '9999-12-31'), ('infinity'::DATE)) v(d)",),
        "columns:\n  d: {accepted_values: ['infinity']}\n",
        {"d.accepted_values": (Status.failed, 1)},
    ),
    (
        "leakage.before compares times, never text",
        ("CREATE TABLE t AS SELECT * FROM (VALUES ('2024-06-01', '2024-1-15')) v(fts, lts)",),
        "columns:\n  fts: {}\n  lts: {}\nleakage: {before: {column: fts, label_time: lts}}\n",
        {"leakage.before": (Status.error, r"never as text")},
    ),
    (
        "date accepted values are parsed as DATE, exactly",
        ("CREATE TABLE t AS SELECT * FROM (VALUES (DATE '2024-01-01'), (DATE '2024-01-02')) v(d)",),
        "columns:\n  d: {accepted_values: ['2024-01-01']}\n",
        {"d.accepted_values": (Status.failed, 1)},
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("ddl", "body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_are_compared_in_the_columns_own_type(
    engine: str,
    ddl: tuple[str, ...],
    body: str,
    expected: dict[str, tuple[Status, Any]],
    make_db: Any,
    write_contract: Any,
    tmp_path: Path,
) -> None:
    db = make_db(*ddl)
    result = faults.run(write_contract(HEAD + body), db, tmp_path, engine)
    checks = {c.name: c for c in result.contracts[0].checks}
    for name, (status, detail) in expected.items():
        check = checks[name]
        assert check.status is status, (name, check.status, check.message, check.engine)
        if status is Status.error:
            assert re.search(detail, check.message or ""), check.message
        elif detail is not None:
            assert check.failing_rows == detail, (name, check.failing_rows, check.engine)
    if any(status is Status.error for status, _ in expected.values()):
        assert result.status is Status.error  # exit 3: could not validate, never a pass


LABEL_CASES = [
    (
        "yes/no label: `yes` is the string class",
        "VARCHAR",
        "('yes'),('yes'),('yes'),('yes'),('yes'),('yes'),('yes'),('yes'),('yes'),('no')",
        "yes",
        Status.failed,
    ),
    (
        "a DOUBLE label's class 1 is 1.0",
        "DOUBLE",
        "(1.0),(1.0),(1.0),(1.0),(1.0),(1.0),(1.0),(1.0),(1.0),(0.0)",
        "1",
        Status.failed,
    ),
    ("a named class that never occurs fails (typo)", "VARCHAR", "('yes'),('no')", "'Yes'", Status.failed),
    ("true on an INTEGER label is refused", "INTEGER", "(1),(0)", "true", Status.error),
]


@pytest.mark.parametrize(
    ("ddl_type", "values", "key", "status"), [c[1:] for c in LABEL_CASES], ids=[c[0] for c in LABEL_CASES]
)
def test_label_class_keys_are_typed_like_the_label(
    ddl_type: str, values: str, key: str, status: Status, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(f"CREATE TABLE t (y {ddl_type})", f"INSERT INTO t VALUES {values}")
    body = f"columns:\n  y: {{}}\nlabel: {{column: y, class_fraction: {{{key}: {{max: 0.5}}}}}}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path)
    [check] = [c for c in result.contracts[0].checks if c.name.startswith("label.class_fraction")]
    assert check.status is status, (check.name, check.status, check.message, check.observed)


@pytest.mark.parametrize("engine", ENGINES)
def test_references_between_different_types_are_refused(
    engine: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(
        "CREATE TABLE p (plan_id INTEGER)",
        "INSERT INTO p VALUES (2)",
        "CREATE TABLE t AS SELECT * FROM (VALUES (' 2'), ('2')) v(plan_id)",
    )
    body = "columns:\n  plan_id: {references: {table: main.p, column: plan_id}}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path, engine)
    [check] = [c for c in result.contracts[0].checks if c.name == "plan_id.references"]
    assert check.status is Status.error and "VARCHAR but main.p.plan_id is INTEGER" in (check.message or "")


@pytest.mark.parametrize("engine", ENGINES)
def test_references_compare_collated_keys_byte_wise(
    engine: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(
        "CREATE TABLE p (plan_id VARCHAR COLLATE NOCASE)",
        "INSERT INTO p VALUES ('basic')",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('BASIC'), ('basic')) v(plan_id)",
    )
    body = "columns:\n  plan_id: {references: {table: main.p, column: plan_id}}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path, engine)
    [check] = [c for c in result.contracts[0].checks if c.name == "plan_id.references"]
    assert check.status is Status.failed and check.failing_rows == 1, (check.status, check.message)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("columns: {a: {min: '5'}}", r"columns\.a\.min: expected a number, got str '5'"),
        ("columns: {a: {max: .nan}}", r"columns\.a\.max: a bound must be a finite number"),
        ("columns: {a: {max: true}}", r"columns\.a\.max: expected a number, got the boolean true"),
        ("columns: {a: {pattern: '(?=x)y'}}", r"columns\.a\.pattern: regex does not compile in DuckDB"),
        (
            "checks: [{name: smuggle, sql: \"select * from {dataset} where x < 0); copy (select 42) to 'f.csv'; select (0\"}]",
            r"checks\.0\.sql: check 'smuggle' does not parse",
        ),
        ("checks: [{name: two, sql: 'select 1; select 2'}]", r"checks\.0\.sql: must be exactly one SELECT query"),
        # with a declared type, what would need an implicit cast is refused at load (lint, dbt export)
        (
            "columns: {code: {type: varchar, accepted_values: [1, 2]}}",
            r"columns\.code: accepted value 1 does not fit the declared type VARCHAR: quote it \('1'\)",
        ),
        ("columns: {n: {type: varchar, min: 5}}", r"columns\.n: min/max need a numeric column"),
        ("columns: {n: {type: bigint, pattern: '^1'}}", r"columns\.n: pattern/length need a VARCHAR column"),
        ("columns: {b: {type: boolean, accepted_values: ['true']}}", r"accepted value 'true' does not fit"),
        ("columns: {n: {type: integer, accepted_values: [1.5]}}", r"accepted value 1\.5 does not fit"),
        ('columns: {n: {unique: !!bool "true\\n"}}', r"is not a boolean"),
        ("columns: {n: {unique: yes}}", r"columns\.n\.unique: Input should be a valid boolean"),
        ("columns: {n: {max_null_fraction: true}}", r"expected a number, got the boolean true"),
        ("columns: {n: {quantiles: {}}}", r"columns\.n\.quantiles"),
        ("freshness: {column: n, max_age: 99999999999999999999w}\ncolumns: {n: {}}", r"freshness\.max_age: .*too long"),
    ],
)
def test_the_loader_refuses_what_cannot_be_read_exactly(yaml_text: str, message: str, write_contract: Any) -> None:
    with pytest.raises(ContractError, match=message):
        load_contract(write_contract(HEAD + yaml_text + "\n"))


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("True", True),
        ("FALSE", False),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", "1_000"),
        ("1:30", "1:30"),
        ("2024-01-01", "2024-01-01"),
        ("100000000000000001", 100000000000000001),
    ],
)
def test_yaml_is_read_as_yaml_1_2(scalar: str, expected: Any, write_contract: Any) -> None:
    contract = load_contract(write_contract(HEAD + f"columns: {{a: {{accepted_values: [{scalar}]}}}}\n"))
    [value] = contract.columns["a"].accepted_values or []
    assert value == expected and type(value) is type(expected)


def test_float_bounds_keep_their_decimal_text(write_contract: Any) -> None:
    from decimal import Decimal

    contract = load_contract(write_contract(HEAD + "columns: {a: {min: 0.1, max: 100000000000000001.5}}\n"))
    assert contract.columns["a"].min == Decimal("0.1") and contract.columns["a"].max == Decimal("100000000000000001.5")


def test_smuggled_custom_sql_writes_nothing_even_past_the_loader(make_db: Any, tmp_path: Path) -> None:
    """The run-time guard (dq.checks.sql.custom_sql) holds on its own: a spec built without the loader."""
    from dq.checks.spec import CheckKind, CheckSpec
    from dq.checks.sql import custom_sql

    target = tmp_path / "f.csv"
    spec = CheckSpec(
        "checks.s",
        CheckKind.custom_sql,
        load_contract_severity(),
        args={"sql": f"select * from {{dataset}} where x < 0); copy (select 42) to '{target}'; select (0"},
    )
    with pytest.raises(ValueError, match="does not parse"):
        custom_sql(spec, '"main"."t"')
    assert not target.exists()


def load_contract_severity() -> Any:
    from dq.contract.model import Severity

    return Severity.error


@pytest.mark.parametrize(
    ("feature", "ddl_expr", "named"),
    [
        ("notes", "CASE WHEN y THEN NULL ELSE 'n' || i END", "notes (missing)"),
        ("score", "CASE WHEN y THEN 'NaN'::DOUBLE ELSE (i % 7)::DOUBLE END", "score (missing)"),
        (
            "cancelled_at",
            "TIMESTAMP '2024-01-01' + INTERVAL (CASE WHEN y THEN 100 ELSE 0 END + i % 3) DAY",
            "cancelled_at",
        ),
    ],
)
def test_leakage_sees_missingness_and_timestamps(
    feature: str, ddl_expr: str, named: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(
        f"CREATE TABLE t AS SELECT i AS id, y, {ddl_expr} AS {feature} "
        "FROM (SELECT i, i % 3 = 0 AS y FROM range(300) r(i))"
    )
    body = (
        f"primary_key: [id]\ncolumns:\n  id: {{}}\n  y: {{}}\n  {feature}: {{}}\n"
        "label: {column: y}\nleakage: {max_abs_correlation_with_label: 0.9}\n"
    )
    result = faults.run(write_contract(HEAD + body), db, tmp_path)
    [check] = [c for c in result.contracts[0].checks if c.name == "leakage.correlation_with_label"]
    assert check.status is Status.failed and named in str(check.observed), (check.status, check.observed)


@pytest.mark.parametrize("engine", ENGINES)
def test_several_quantiles_of_one_column_are_each_measured(
    engine: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    """GX resolved one quantile per column: p90 was judged on p10's value, so `max: 50` passed."""
    db = make_db("CREATE TABLE t AS SELECT i::DOUBLE AS x FROM range(100) r(i)")
    body = "columns:\n  x: {quantiles: {0.1: {min: 0, max: 50}, 0.9: {min: 0, max: 50}}}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path, engine)
    checks = {c.name: c for c in result.contracts[0].checks}
    assert checks["x.quantile_0.1"].status is Status.passed and checks["x.quantile_0.1"].observed == 9
    assert checks["x.quantile_0.9"].status is Status.failed and checks["x.quantile_0.9"].observed == 89


@pytest.mark.parametrize(
    ("ddl", "label_values", "key", "bounds"),
    [
        # -0.0 and 0.0 are one class (they were counted as two texts)
        ("y DOUBLE", "CASE WHEN i < 30 THEN 0.0 WHEN i < 90 THEN -0.0 ELSE 1.0 END", "0", "{max: 0.5}"),
        # a COLLATE NOCASE label: 'yes' and 'YES' are two classes
        (
            "y VARCHAR COLLATE NOCASE",
            "CASE WHEN i < 10 THEN 'yes' WHEN i < 90 THEN 'YES' ELSE 'no' END",
            "yes",
            "{min: 0.5}",
        ),
    ],
    ids=["negative zero", "collated label"],
)
def test_label_classes_are_counted_by_value_byte_wise(
    ddl: str, label_values: str, key: str, bounds: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(f"CREATE TABLE t (i INTEGER, {ddl})", f"INSERT INTO t SELECT i, {label_values} FROM range(100) r(i)")
    body = f"columns:\n  i: {{}}\n  y: {{}}\nlabel: {{column: y, class_fraction: {{{key}: {bounds}}}}}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path)
    [check] = [c for c in result.contracts[0].checks if c.name.startswith("label.class_fraction")]
    assert check.status is Status.failed, (check.observed, check.message)


@pytest.mark.parametrize(
    ("feature_ddl", "feature"),
    [
        ("CASE WHEN y THEN 'a' ELSE 'A' END COLLATE NOCASE", "f"),
        ("CASE WHEN y THEN TIME '10:00' ELSE TIME '11:00' END", "f"),
        ("CASE WHEN y THEN ['a'] ELSE ['b'] END", "f"),
        ("CASE WHEN y THEN 'a'::BLOB ELSE 'b'::BLOB END", "f"),
        ("CASE WHEN y THEN INTERVAL 1 DAY ELSE INTERVAL 2 DAY END", "f"),
    ],
    ids=["collated text", "TIME", "LIST", "BLOB", "INTERVAL"],
)
def test_leakage_reads_features_of_every_type(
    feature_ddl: str, feature: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(
        f"CREATE TABLE t AS SELECT i AS id, y, {feature_ddl} AS f FROM (SELECT i, i % 2 = 0 AS y FROM range(200) r(i))"
    )
    body = "primary_key: [id]\ncolumns:\n  id: {}\n  y: {}\n  f: {}\nlabel: {column: y}\n"
    body += "leakage: {max_abs_correlation_with_label: 0.9}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path)
    [check] = [c for c in result.contracts[0].checks if c.name == "leakage.categorical_determines_label"]
    assert check.status is Status.failed and feature in str(check.observed), (check.status, check.observed)


# the second adversarial round (issue 10): exactness of aggregates and comparisons across types
ROUND_TWO: list[tuple[str, str, str, str, Status]] = [
    (
        "a DOUBLE mean that a plain sum cancels to 0",
        "SELECT * FROM (VALUES (1, 1e16::DOUBLE), (2, -1), (3, -1e16)) v(i, x)",
        "x: {mean: {min: 0}}",
        "x.mean",
        Status.failed,
    ),
    (
        "a DOUBLE mean whose sum overflows is no value, not -inf",
        "SELECT * FROM (VALUES (-1e308::DOUBLE), (-1e308), (1e308), (1e308), (1e308)) v(x)",
        "x: {mean: {max: 1e307}}",
        "x.mean",
        Status.failed,
    ),
    (
        "a BIGINT deviation is not taken through doubles",
        "SELECT 100000000000000000 + (i % 2) AS x FROM range(100) r(i)",
        "x: {stddev: {max: 0.4}}",
        "x.stddev",
        Status.failed,
    ),
    (
        "a DECIMAL(18,3) quantile keeps its last digit",
        "SELECT 123456789012345.679::DECIMAL(18,3) AS x",
        "x: {quantiles: {0.5: {max: 123456789012345.678}}}",
        "x.quantile_0.5",
        Status.failed,
    ),
    (
        "a BIGINT quantile one past 2^53",
        "SELECT 9007199254740993::BIGINT AS x",
        "x: {quantiles: {0.5: {max: 9007199254740992}}}",
        "x.quantile_0.5",
        Status.failed,
    ),
    (
        "a DECIMAL bound far past the type's range is the type's extreme, not a crash",
        "SELECT 10.5::DECIMAL(18,3) AS x",
        "x: {max: 1e100}",
        "x.range",
        Status.passed,
    ),
    (
        "leakage.before refuses a BIGINT against a DOUBLE (a lossy cast)",
        "SELECT 9007199254740993::BIGINT AS f, 9007199254740992.0::DOUBLE AS l",
        "f: {}\n  l: {}\nleakage: {before: {column: f, label_time: l}}",
        "leakage.before",
        Status.error,
    ),
    (
        "leakage.before refuses TIME against TIMESTAMP",
        "SELECT TIME '10:00' AS f, TIMESTAMP '2024-01-01' AS l",
        "f: {}\n  l: {}\nleakage: {before: {column: f, label_time: l}}",
        "leakage.before",
        Status.error,
    ),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("ddl", "columns", "check", "status"), [c[1:] for c in ROUND_TWO], ids=[c[0] for c in ROUND_TWO]
)
def test_aggregates_and_comparisons_are_exact_on_every_engine(
    engine: str,
    ddl: str,
    columns: str,
    check: str,
    status: Status,
    make_db: Any,
    write_contract: Any,
    tmp_path: Path,
) -> None:
    db = make_db(f"CREATE TABLE t AS {ddl}")
    result = faults.run(write_contract(HEAD + "columns:\n  " + columns + "\n"), db, tmp_path, engine)
    [found] = [c for c in result.contracts[0].checks if c.name == check]
    assert found.status is status, (found.status, found.observed, found.message, found.engine)
    assert "internal error" not in (result.contracts[0].error or "")


@pytest.mark.parametrize(
    ("feature", "label"),
    [
        ("(i % 2) * 1e200", "(i % 2)::INTEGER"),  # corr overflows
        ("(i % 2) * 1e-200", "(i % 2)::INTEGER"),  # corr underflows to NaN
        ("(100000000000000000 + i % 2)::BIGINT", "(i % 2)::INTEGER"),  # constant as a double
        ("(i % 3)::INTEGER", "(i % 3 = 1)"),  # determines the label with corr 0
        ("CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END", "CASE WHEN i % 2 = 0 THEN 'yes' ELSE 'no' END"),  # text label
    ],
    ids=["overflow", "underflow", "bigint", "corr 0", "text label"],
)
def test_a_feature_that_determines_the_label_is_caught_whatever_its_scale(
    feature: str, label: str, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    db = make_db(f"CREATE TABLE t AS SELECT i, {label} AS y, {feature} AS f FROM range(200) r(i)")
    body = "primary_key: [i]\ncolumns:\n  i: {}\n  y: {}\n  f: {}\nlabel: {column: y}\n"
    body += "leakage: {max_abs_correlation_with_label: 0.9}\n"
    result = faults.run(write_contract(HEAD + body), db, tmp_path)
    assert result.status is Status.failed, [
        (c.name, c.status, c.observed, c.message) for c in result.contracts[0].checks
    ]


@pytest.mark.parametrize(("bounds", "status"), [("{min: 1e307}", Status.passed), ("{max: 1e307}", Status.failed)])
def test_a_double_deviation_past_1e154_is_measured_not_overflowed(
    bounds: str, status: Status, make_db: Any, write_contract: Any, tmp_path: Path
) -> None:
    """The deviation of 1e308 and 0.0 is 7.07e307: squares overflow, the scaled pass does not."""
    db = make_db("CREATE TABLE t AS SELECT * FROM (VALUES (1e308::DOUBLE), (0.0::DOUBLE)) v(x)")
    result = faults.run(write_contract(HEAD + f"columns:\n  x: {{stddev: {bounds}}}\n"), db, tmp_path)
    [check] = [c for c in result.contracts[0].checks if c.name == "x.stddev"]
    assert check.status is status and check.observed == pytest.approx(7.071067811865476e307), check.observed
