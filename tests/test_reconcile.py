"""`reconcile:` a dataset against its source, on real DuckDB files (and Parquet files), judged by
the default engine: row counts, key sets (missing and extra rows counted separately), column sums
and means, each equal or within a tolerance read exactly from the YAML text. A generated test
compares the counts with an independent plain-Python oracle (collections.Counter, Decimal sums).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dq.checks.result import CheckResult, Status
from dq.exit_codes import ExitCode, exit_code_for
from tests import faults

SCHEMA = "(k INTEGER, amount DECIMAL(18,2), x DOUBLE)"
BASE = "(1, 10.00, 0.5), (2, 20.00, 1.5), (3, 30.00, 2.5)"
FULL = """
  - against: {table: main.src}
    row_count: {}
    key: [k]
    columns:
      amount: {sum: {}, mean: {}}
"""


def _contract(reconcile: str, dataset: str = "{table: main.ds}") -> str:
    return (
        f"contract: reconciled\nversion: 1.0.0\ndataset: {dataset}\n"
        "columns:\n  k: {}\n  amount: {}\n  x: {}\nreconcile:" + reconcile
    )


def _run(
    tmp_path: Path, statements: tuple[str, ...], reconcile: str, engine: str = "auto", dataset: str = "{table: main.ds}"
) -> tuple[Status, dict[str, CheckResult]]:
    db = tmp_path / "w.duckdb"
    db.unlink(missing_ok=True)
    faults.execute(db, *statements)
    contract = tmp_path / "reconciled.yml"
    contract.write_text(_contract(reconcile, dataset), encoding="utf-8")
    result = faults.run(contract, db, tmp_path, engine)
    [found] = result.contracts
    assert found.error is None, found.error
    return result.status, {c.name: c for c in found.checks if c.kind.startswith("reconcile")}


def _typed(rows: str) -> str:
    return (
        f"SELECT k::INTEGER AS k, amount::DECIMAL(18,2) AS amount, x::DOUBLE AS x FROM (VALUES {rows}) v(k, amount, x)"
    )


def _build(source: str, dataset: str) -> tuple[str, ...]:
    return (f"CREATE TABLE main.src AS {_typed(source)}", f"CREATE TABLE main.ds AS {_typed(dataset)}")


# (case, source rows, dataset rows, reconcile block, {check: (status, observed)}): a key check's
# observed is its missing/extra counts (failing rows = missing + extra), a metric's the two values
# and their signed difference
CASES: list[tuple[str, str, str, str, dict[str, tuple[Status, Any]]]] = [
    (
        "equal",
        BASE,
        BASE,
        FULL,
        {
            "reconcile.row_count": (Status.passed, {"dataset": 3, "source": 3, "diff": 0}),
            "reconcile.key": (Status.passed, {"missing": 0, "extra": 0}),
            "reconcile.amount.sum": (Status.passed, {"dataset": 60, "source": 60, "diff": 0}),
            "reconcile.amount.mean": (Status.passed, {"dataset": 20, "source": 20, "diff": 0}),
        },
    ),
    (
        "one row missing",
        BASE,
        "(1, 10.00, 0.5), (2, 20.00, 1.5)",
        FULL,
        {
            "reconcile.row_count": (Status.failed, {"dataset": 2, "source": 3, "diff": -1}),
            "reconcile.key": (Status.failed, {"missing": 1, "extra": 0}),
            "reconcile.amount.sum": (Status.failed, {"dataset": 30, "source": 60, "diff": -30}),
            "reconcile.amount.mean": (Status.failed, {"dataset": 15, "source": 20, "diff": -5}),
        },
    ),
    (
        "one row extra",
        BASE,
        f"{BASE}, (4, 0.00, 0.0)",
        FULL,
        {
            "reconcile.row_count": (Status.failed, {"dataset": 4, "source": 3, "diff": 1}),
            "reconcile.key": (Status.failed, {"missing": 0, "extra": 1}),
            "reconcile.amount.sum": (Status.passed, {"dataset": 60, "source": 60, "diff": 0}),
            "reconcile.amount.mean": (Status.failed, {"dataset": 15, "source": 20, "diff": -5}),
        },
    ),
    (
        "a key fanned out here, a duplicated source key collapsed",
        "(1, 10.00, 0.5), (1, 10.00, 0.5), (2, 20.00, 1.5)",
        "(1, 10.00, 0.5), (2, 20.00, 1.5), (2, 20.00, 1.5)",
        FULL,
        {
            "reconcile.row_count": (Status.passed, {"dataset": 3, "source": 3, "diff": 0}),
            "reconcile.key": (Status.failed, {"missing": 1, "extra": 1}),
            "reconcile.amount.sum": (Status.failed, {"dataset": 50, "source": 40, "diff": 10}),
        },
    ),
    (
        "NULL keys never match",
        f"{BASE}, (NULL, 1.00, 0.0)",
        f"{BASE}, (NULL, 1.00, 0.0), (NULL, 1.00, 0.0)",
        FULL,
        {
            "reconcile.row_count": (Status.failed, {"dataset": 5, "source": 4, "diff": 1}),
            "reconcile.key": (Status.failed, {"missing": 1, "extra": 2}),
        },
    ),
    (
        "a DECIMAL sum one cent off, compared equal",
        BASE,
        "(1, 10.00, 0.5), (2, 20.01, 1.5), (3, 30.00, 2.5)",
        FULL,
        {
            "reconcile.key": (Status.passed, {"missing": 0, "extra": 0}),
            "reconcile.amount.sum": (
                Status.failed,
                {"dataset": Decimal("60.01"), "source": 60, "diff": Decimal("0.01")},
            ),
        },
    ),
    (
        "one cent off, within max_diff 0.01 (the boundary holds)",
        BASE,
        "(1, 10.00, 0.5), (2, 20.01, 1.5), (3, 30.00, 2.5)",
        "\n  - against: {table: main.src}\n    columns:\n      amount: {sum: {max_diff: 0.01}}\n",
        {"reconcile.amount.sum": (Status.passed, {"dataset": Decimal("60.01"), "source": 60, "diff": Decimal("0.01")})},
    ),
    (
        "one cent off, beyond max_diff 0.009",
        BASE,
        "(1, 10.00, 0.5), (2, 20.01, 1.5), (3, 30.00, 2.5)",
        "\n  - against: {table: main.src}\n    columns:\n      amount: {sum: {max_diff: 0.009}}\n",
        {"reconcile.amount.sum": (Status.failed, {"dataset": Decimal("60.01"), "source": 60, "diff": Decimal("0.01")})},
    ),
    (
        "row count 1 short of 3: within 33.34%, beyond 33.33%",
        BASE,
        "(1, 10.00, 0.5), (2, 20.00, 1.5)",
        "\n  - {name: loose, against: {table: main.src}, row_count: {max_diff_pct: 33.34}}"
        "\n  - {name: tight, against: {table: main.src}, row_count: {max_diff_pct: 33.33}}\n",
        {
            "reconcile.loose.row_count": (Status.passed, {"dataset": 2, "source": 3, "diff": -1}),
            "reconcile.tight.row_count": (Status.failed, {"dataset": 2, "source": 3, "diff": -1}),
        },
    ),
    (
        "both tolerances must hold",
        BASE,
        "(1, 10.00, 0.5), (2, 20.00, 1.5)",
        "\n  - {against: {table: main.src}, row_count: {max_diff: 1, max_diff_pct: 10}}\n",
        {"reconcile.row_count": (Status.failed, {"dataset": 2, "source": 3, "diff": -1})},
    ),
    (
        "a mean within a percentage, a double mean exactly equal (warn severity)",
        BASE,
        "(1, 10.00, 0.5), (2, 20.00, 1.5), (3, 30.06, 2.5)",
        "\n  - against: {table: main.src}\n    severity: warn\n    columns:\n"
        "      amount: {mean: {max_diff_pct: 0.1}}\n      x: {mean: {max_diff: 0}}\n",
        {
            "reconcile.amount.mean": (
                Status.passed,
                {"dataset": Decimal("20.02"), "source": 20, "diff": Decimal("0.02")},
            ),
            "reconcile.x.mean": (Status.passed, {"dataset": 1.5, "source": 1.5, "diff": 0}),
        },
    ),
]


CASES.append(
    (
        "+inf in a double column: no finite sum to compare, the check fails",
        BASE,
        "(1, 10.00, 0.5::DOUBLE), (2, 20.00, 'Infinity'::DOUBLE), (3, 30.00, 2.5)",
        "\n  - {against: {table: main.src}, columns: {x: {sum: {max_diff: 1000}}}}\n",
        {"reconcile.x.sum": (Status.failed, {"dataset": None, "source": 4.5, "diff": None})},
    )
)


@pytest.mark.parametrize(
    ("source", "dataset", "reconcile", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_reconciliation_counts_exactly(
    tmp_path: Path, source: str, dataset: str, reconcile: str, expected: dict[str, tuple[Status, Any]]
) -> None:
    _, checks = _run(tmp_path, _build(source, dataset), reconcile)
    for name, (status, observed) in expected.items():
        check = checks[name]
        assert (check.status, check.observed, check.engine) == (status, observed, "pandera-batch"), check.message
        if check.kind == "reconcile_keys":
            assert check.failing_rows == observed["missing"] + observed["extra"]


def test_unmatched_keys_are_sampled_in_order_and_named_in_the_message(tmp_path: Path) -> None:
    status, checks = _run(
        tmp_path,
        _build(f"{BASE}, (5, 1.00, 0.0), (5, 1.00, 0.0)", "(1, 10.00, 0.5), (2, 20.00, 1.5), (9, 1.00, 0.0)"),
        FULL,
    )
    key = checks["reconcile.key"]
    assert status is Status.failed and key.failing_rows == 4
    assert key.samples == [
        {"unmatched": "extra", "k": 9, "rows": 1},
        {"unmatched": "missing", "k": 3, "rows": 1},
        {"unmatched": "missing", "k": 5, "rows": 2},
    ]
    assert key.message == (
        "4 rows unmatched by (k): 3 missing (in main.src, not here), 1 extra (here, not in main.src)"
    )
    assert (
        checks["reconcile.row_count"].message
        == "3 here vs 5 in main.src (diff -2), expected row count equal to main.src's"
    )


def test_collated_string_keys_are_compared_byte_wise(tmp_path: Path) -> None:
    statements = (
        "CREATE TABLE main.src (k VARCHAR COLLATE NOCASE, amount DECIMAL(18,2), x DOUBLE)",
        "INSERT INTO main.src VALUES ('a', 1, 1), ('b', 1, 1)",
        "CREATE TABLE main.ds (k VARCHAR COLLATE NOCASE, amount DECIMAL(18,2), x DOUBLE)",
        "INSERT INTO main.ds VALUES ('A', 1, 1), ('b', 1, 1)",
    )
    _, checks = _run(tmp_path, statements, "\n  - {against: {table: main.src}, key: [k]}\n")
    assert (checks["reconcile.key"].status, checks["reconcile.key"].observed) == (
        Status.failed,
        {"missing": 1, "extra": 1},
    )


def test_doubles_are_summed_with_compensation(tmp_path: Path) -> None:
    # a plain double sum of 1e16, 1, -1e16 is 0; Kahan's keeps the 1, which equals the source's
    statements = (
        "CREATE TABLE main.src AS SELECT 1 AS k, 1.0::DECIMAL(18,2) AS amount, 1.0::DOUBLE AS x",
        "CREATE TABLE main.ds AS SELECT * FROM (VALUES (1, 1.0::DECIMAL(18,2), 1e16::DOUBLE), "
        "(2, 0, 1.0), (3, 0, -1e16)) v(k, amount, x)",
    )
    _, checks = _run(tmp_path, statements, "\n  - {against: {table: main.src}, columns: {x: {sum: {}}}}\n")
    assert (checks["reconcile.x.sum"].status, checks["reconcile.x.sum"].observed) == (
        Status.passed,
        {"dataset": 1, "source": 1, "diff": 0},
    )


@pytest.mark.parametrize(
    ("source_type", "block", "message"),
    [
        ("BIGINT", "key: [k]", "key column k is INTEGER here but BIGINT in main.src"),
        ("DOUBLE", "columns: {k: {sum: {}}}", "k is INTEGER here and DOUBLE in main.src"),
        ("VARCHAR", "columns: {k: {mean: {}}}", "k is INTEGER here and VARCHAR in main.src"),
    ],
    ids=["key types differ", "integer vs double sum", "mean of text"],
)
def test_columns_of_different_types_are_not_compared(
    tmp_path: Path, source_type: str, block: str, message: str
) -> None:
    statements = (
        f"CREATE TABLE main.src AS SELECT 1::{source_type} AS k, 1.0::DECIMAL(18,2) AS amount, 1.0 AS x",
        "CREATE TABLE main.ds AS SELECT 1::INTEGER AS k, 1.0::DECIMAL(18,2) AS amount, 1.0 AS x",
    )
    status, checks = _run(tmp_path, statements, f"\n  - {{against: {{table: main.src}}, {block}}}\n")
    [check] = checks.values()
    assert status is Status.error and exit_code_for(status) is ExitCode.NOT_VALIDATED
    assert check.status is Status.error and message in check.message


def test_double_keys_and_a_missing_source_are_refused(tmp_path: Path) -> None:
    statements = (
        "CREATE TABLE main.src AS SELECT 1 AS k, 1.0::DECIMAL(18,2) AS amount, 1.0::DOUBLE AS x",
        "CREATE TABLE main.ds AS SELECT * FROM main.src",
    )
    block = (
        "\n  - {name: a, against: {table: main.src}, key: [x]}\n  - {name: b, against: {table: main.nope}, key: [k]}\n"
    )
    status, checks = _run(tmp_path, statements, block)
    assert status is Status.error
    assert "doubles are no key" in checks["reconcile.a.key"].message
    assert "the source dataset" in checks["reconcile.b.key"].message


@pytest.mark.parametrize("engine", ["pandera", "gx"])
def test_the_other_engines_route_reconciliation_to_dq_sql(tmp_path: Path, engine: str) -> None:
    _, checks = _run(tmp_path, _build(BASE, "(1, 10.00, 0.5)"), FULL, engine=engine)
    assert {c.engine for c in checks.values()} == {"pandera-batch"}
    assert checks["reconcile.key"].observed == {"missing": 2, "extra": 0}


def test_a_file_dataset_is_reconciled_against_a_table_and_files(tmp_path: Path) -> None:
    files = tmp_path / "export"
    files.mkdir()
    statements = (
        *_build(BASE, BASE),
        f"COPY (SELECT * FROM main.src WHERE k <> 2) TO '{files}/part-0.parquet' (FORMAT parquet)",
    )
    block = (
        f"\n  - {{name: table, against: {{table: main.src}}, key: [k], columns: {{amount: {{sum: {{}}}}}}}}"
        f"\n  - {{name: files, against: {{path: '{files}/*.parquet'}}, row_count: {{}}, key: [k]}}\n"
    )
    status, checks = _run(tmp_path, statements, block, dataset=f"{{path: '{files}/*.parquet'}}")
    assert status is Status.failed
    assert checks["reconcile.table.key"].observed == {"missing": 1, "extra": 0}
    assert checks["reconcile.table.amount.sum"].observed == {"dataset": 40, "source": 60, "diff": -20}
    assert checks["reconcile.files.row_count"].status is Status.passed  # the files against themselves
    assert checks["reconcile.files.key"].observed == {"missing": 0, "extra": 0}


# --- generated cases against a plain-Python oracle ---------------------------------------------------

_ROWS = st.lists(st.tuples(st.one_of(st.none(), st.integers(0, 6)), st.integers(-500, 500)), max_size=12)


def _values(rows: list[tuple[int | None, int]]) -> str:
    return ", ".join(f"({'NULL' if k is None else k}, {cents / 100:.2f}, 0.0)" for k, cents in rows)


def _oracle(source: list[tuple[int | None, int]], dataset: list[tuple[int | None, int]]) -> dict[str, Any]:
    here = Counter(k for k, _ in dataset if k is not None)
    there = Counter(k for k, _ in source if k is not None)
    nulls_here, nulls_there = sum(k is None for k, _ in dataset), sum(k is None for k, _ in source)
    sum_here = sum((Decimal(c) / 100 for _, c in dataset), Decimal(0))
    sum_there = sum((Decimal(c) / 100 for _, c in source), Decimal(0))
    return {
        "missing": sum((there - here).values()) + nulls_there,
        "extra": sum((here - there).values()) + nulls_here,
        "count_diff": len(dataset) - len(source),
        "sum_diff": sum_here - sum_there,
        # the exact means (none over no rows), as rationals: judged against `max_diff: 0.5`
        "mean_diff": None
        if not dataset or not source
        else abs(Fraction(sum_here) / len(dataset) - Fraction(sum_there) / len(source)),
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=_ROWS, dataset=_ROWS)
def test_generated_reconciliations_match_a_python_oracle(
    tmp_path: Path, source: list[tuple[int | None, int]], dataset: list[tuple[int | None, int]]
) -> None:
    empty = "SELECT NULL::INTEGER AS k, NULL::DECIMAL(18,2) AS amount, NULL::DOUBLE AS x WHERE false"
    statements = tuple(
        f"CREATE TABLE main.{name} AS {_typed(_values(rows)) if rows else empty}"
        for name, rows in (("src", source), ("ds", dataset))
    )
    _, checks = _run(
        tmp_path,
        statements,
        "\n  - {name: exact, against: {table: main.src}, row_count: {}, key: [k], columns: {amount: {sum: {}}}}"
        "\n  - {name: loose, against: {table: main.src}, row_count: {max_diff_pct: 25},"
        " columns: {amount: {mean: {max_diff: 0.5}}}}\n",
    )
    expected = _oracle(source, dataset)
    key = checks["reconcile.exact.key"]
    assert key.observed == {"missing": expected["missing"], "extra": expected["extra"]}
    assert key.status is (Status.passed if expected["missing"] + expected["extra"] == 0 else Status.failed)
    assert checks["reconcile.exact.row_count"].observed["diff"] == expected["count_diff"]
    assert checks["reconcile.exact.amount.sum"].observed["diff"] == expected["sum_diff"]
    summed = checks["reconcile.exact.amount.sum"].status
    assert summed is (Status.passed if expected["sum_diff"] == 0 else Status.failed)
    within_pct = abs(expected["count_diff"]) * 100 <= 25 * len(source)
    assert checks["reconcile.loose.row_count"].status is (Status.passed if within_pct else Status.failed)
    mean_ok = expected["mean_diff"] is not None and expected["mean_diff"] <= Fraction(1, 2)
    assert checks["reconcile.loose.amount.mean"].status is (Status.passed if mean_ok else Status.failed)


# --- the contract key: loading, dq diff, dq lint -----------------------------------------------------


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("\n  - {against: {table: main.src}, row_count: {max_dif: 1}}\n", "unknown key 'max_dif'"),
        ("\n  - {against: {table: main.src}, row_count: {max_diff: -1}}\n", "max_diff is a distance: >= 0"),
        ("\n  - {against: {table: main.src}, row_count: {max_diff_pct: '5'}}\n", "write it without quotes"),
        ("\n  - {against: {table: main.src}}\n", "give at least one of row_count, key, columns"),
        ("\n  - {against: {table: main.src}, key: [order_id]}\n", "'order_id' is not declared under `columns`"),
        ("\n  - {against: {table: main.src}, columns: {amount: {}}}\n", "give at least one of sum, mean"),
        ("\n  - {against: {table: a}, key: [k]}\n  - {against: {table: b}, key: [k]}\n", "give each a `name`"),
        (
            "\n  - against: {table: main.src}\n    row_count:\n    key: [k]\n",
            'row_count: is null (a key with no value). Fix: write `{}` for "equal"',
        ),
        ("\n  - {against: {table: main.src}, columns: {amount: {sum: , mean: {}}}}\n", "columns.amount.sum: is null"),
    ],
    ids=[
        "typo",
        "negative",
        "quoted number",
        "nothing compared",
        "undeclared key",
        "no statistic",
        "unnamed",
        "null row_count",
        "null sum",
    ],
)
def test_a_reconcile_entry_dq_cannot_read_exactly_is_refused(tmp_path: Path, block: str, words: str) -> None:
    from dq.contract.model import load_contract
    from dq.errors import ContractError

    path = tmp_path / "c.yml"
    path.write_text(_contract(block), encoding="utf-8")
    with pytest.raises(ContractError, match="reconcile") as raised:
        load_contract(path)
    assert words in str(raised.value)


OLD_RECONCILE = {
    "name": "raw",
    "against": {"table": "main.src"},
    "row_count": {"max_diff_pct": 1},
    "key": ["k"],
    "columns": {"amount": {"sum": {"max_diff": Decimal("0.01")}, "mean": {}}},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**OLD_RECONCILE, **changes}


DIFF_CASES: list[tuple[str, list[dict[str, Any]], list[tuple[str, str]]]] = [
    ("entry dropped", [], [("reconcile.raw", "breaking")]),
    ("entry added", [OLD_RECONCILE, {**OLD_RECONCILE, "name": "more"}], [("reconcile.more", "tightening")]),
    ("another source", [_with(against={"table": "main.other"})], [("reconcile.raw.against", "breaking")]),
    ("row count dropped", [_with(row_count=None)], [("reconcile.raw.row_count", "breaking")]),
    ("pct loosened", [_with(row_count={"max_diff_pct": 2})], [("reconcile.raw.row_count.max_diff_pct", "breaking")]),
    (
        "pct tightened",
        [_with(row_count={"max_diff_pct": 0.5})],
        [("reconcile.raw.row_count.max_diff_pct", "tightening")],
    ),
    (
        "equal loosened to a tolerance",
        [_with(columns={"amount": {"sum": {"max_diff": Decimal("0.01")}, "mean": {"max_diff": 1}}})],
        [("reconcile.raw.columns.amount.mean.max_diff", "breaking")],
    ),
    (
        "sum made equal",
        [_with(columns={"amount": {"sum": {}, "mean": {}}})],
        [("reconcile.raw.columns.amount.sum.max_diff", "tightening")],
    ),
    (
        "sum loosened by a cent",
        [_with(columns={"amount": {"sum": {"max_diff": Decimal("0.02")}, "mean": {}}})],
        [("reconcile.raw.columns.amount.sum.max_diff", "breaking")],
    ),
    (
        "mean dropped",
        [_with(columns={"amount": {"sum": {"max_diff": Decimal("0.01")}}})],
        [("reconcile.raw.columns.amount.mean", "breaking")],
    ),
    ("key dropped", [_with(key=None)], [("reconcile.raw.key", "breaking")]),
    ("key grown", [_with(key=["k", "x"])], [("reconcile.raw.key", "tightening")]),
    ("key replaced", [_with(key=["x"])], [("reconcile.raw.key", "breaking")]),
    ("made a warning", [_with(severity="warn")], [("reconcile.raw.severity", "breaking")]),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in DIFF_CASES], ids=[c[0] for c in DIFF_CASES])
def test_dq_diff_classifies_reconcile_changes(new: list[dict[str, Any]], expected: list[tuple[str, str]]) -> None:
    from dq.contract.model import Contract
    from dq.review.diff import diff_contracts

    base = {
        "contract": "reconciled",
        "version": "1.0.0",
        "dataset": {"table": "main.ds"},
        "columns": {"k": {}, "amount": {}, "x": {}},
    }
    old = Contract.model_validate({**base, "reconcile": [OLD_RECONCILE]})
    changed = Contract.model_validate(
        {**base, "reconcile": [{k: v for k, v in e.items() if v is not None} for e in new]}
    )
    assert [(c.path, c.impact.value) for c in diff_contracts(old, changed).changes] == expected
    assert diff_contracts(old, old).changes == []


def test_dq_lint_resolves_the_source_model_and_its_declared_columns(tmp_path: Path) -> None:
    from dq.review.lint import lint

    source = tmp_path / "src.yml"
    source.write_text(
        "contract: src\nversion: 1.0.0\ndataset: {table: main.src}\ncolumns:\n  k: {}\n", encoding="utf-8"
    )
    reconciled = tmp_path / "reconciled.yml"
    reconciled.write_text(
        _contract(
            "\n  - {name: a, against: {table: main.src}, key: [k], columns: {amount: {sum: {}}}}"
            "\n  - {name: b, against: {model: stg_src}, row_count: {}}\n"
        ),
        encoding="utf-8",
    )
    _, problems = lint([source, reconciled], tmp_path)  # no manifest in tmp_path: the model cannot resolve
    assert [(p.file, p.key) for p in problems] == [
        (str(reconciled), "reconcile.1.against.model"),
        (str(reconciled), "reconcile.0.columns"),
    ]
    assert "'amount' is not declared in" in problems[1].message
    assert lint([source, reconciled], tmp_path, skip_dbt=True)[1] == problems[1:]


def test_odcs_carries_reconcile_as_a_dq_property_and_back() -> None:
    from dq.checks.compile import compile_contract
    from dq.contract.model import Contract, load_contract
    from dq.contract.yaml12 import load_yaml12
    from dq.formats.odcs import export_contract, import_document

    contract = load_contract(Path(__file__).parent / "fixtures" / "compile" / "reconcile.yml")
    text = export_contract(contract)
    assert "property: dq.reconcile" in text and "max_diff: 0.000001" in text  # the exact digits, no float
    [back] = import_document(load_yaml12(text), Path("reconcile.odcs.yaml")).contracts
    assert compile_contract(Contract.model_validate(back)) == compile_contract(contract)


# --- dq dbt export: the post-hook asserts counts and keys against a dbt model ------------------------

HOOKED = """contract: ds
version: 1.0.0
dataset: {model: ds}
columns:
  k: {type: integer}
  s: {type: varchar}
  x: {type: double}
reconcile:
  - name: src
    against: {model: src}
    row_count: {max_diff_pct: 50}
    key: [k, s]
    columns: {x: {sum: {}}}
  - name: tab
    against: {table: main.src}
    row_count: {}
  - name: double_key
    against: {model: src}
    key: [x]
"""


def _post_hook(tmp_path: Path) -> tuple[list[str], list[str], str]:
    """(asserted checks, dq-only checks, the post-hook's SQL as dbt would render it for model ds)."""
    import jinja2

    from dq.contract.model import load_contract
    from dq.dbt import export as dbt_export

    path = tmp_path / "ds.yml"
    path.write_text(HOOKED, encoding="utf-8")
    export = dbt_export.plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    macros = dbt_export.render_macros([export]) + "\n{{ dq_assert__ds() }}"

    class This(SimpleNamespace):
        def __str__(self) -> str:
            return '"main"."ds"'

    globals_ = {
        "this": This(database="memory", schema="main", identifier="ds"),  # run on duckdb.connect()
        "config": SimpleNamespace(get=lambda key, default=None: "table"),
        "model": {"unique_id": "model.p.ds"},  # the node as dbt's context gives it: no enforced contract
        "execute": False,  # parse time: no log()
        "var": lambda name, default=None: default,
        "ref": lambda name: f'"main"."{name}"',
    }
    sql = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(macros).render(**globals_)
    names = [s.name for s in export.asserted if s.kind.value.startswith("reconcile")]
    return names, [s.name for s in export.dq_only], sql


def test_the_post_hook_asserts_counts_and_keys_against_a_model_only(tmp_path: Path) -> None:
    asserted, dq_only, _ = _post_hook(tmp_path)
    assert asserted == ["reconcile.src.row_count", "reconcile.src.key"]
    # a DOUBLE sum, a table source and a DOUBLE key cannot be stated exactly in the hook
    assert {"reconcile.src.x.sum", "reconcile.tab.row_count", "reconcile.double_key.key"} <= set(dq_only)


@pytest.mark.parametrize(
    ("here", "failure"),
    [
        ("(1, 'a', 1.0), (2, 'b', 2.0)", None),
        ("(1, 'a', 1.0)", "reconcile.src.key (1 rows unmatched)"),  # 1 row of 2: the 50% count boundary holds
        ("(1, 'a', 1.0), (2, 'B', 2.0)", "reconcile.src.key (2 rows unmatched)"),  # byte-wise, not NOCASE
        ("(1, 'a', 1.0), (1, 'a', 1.0), (3, 'c', 1.0)", "reconcile.src.key (3 rows unmatched)"),
        ("(NULL, 'a', 1.0), (2, 'b', 2.0)", "reconcile.src.key (2 rows unmatched)"),
        (
            "(1, 'a', 1.0), (2, 'b', 2.0), (3, 'c', 1.0), (4, 'd', 1.0)",
            "reconcile.src.row_count (observed 4 rows vs 2)",
        ),
    ],
    ids=[
        "equal",
        "count within the tolerance, a key missing",
        "case differs",
        "fan-out, missing and extra",
        "NULL key",
        "beyond the tolerance",
    ],
)
def test_the_post_hook_finds_what_dq_finds(tmp_path: Path, here: str, failure: str | None) -> None:
    import duckdb

    *_, sql = _post_hook(tmp_path)
    con = duckdb.connect()
    schema = "(k INTEGER, s VARCHAR COLLATE NOCASE, x DOUBLE)"
    con.execute(f"CREATE TABLE main.src {schema}")
    con.execute("INSERT INTO main.src VALUES (1, 'a', 1.0), (2, 'b', 2.0)")
    con.execute(f"CREATE TABLE main.ds {schema}")
    con.execute(f"INSERT INTO main.ds VALUES {here}")
    if failure is None:
        assert con.execute(sql).fetchall() == []
        return
    with pytest.raises(duckdb.InvalidInputException) as raised:
        con.execute(sql)
    assert failure in str(raised.value)
    assert ("row_count" in failure) is ("row_count" in str(raised.value))


def test_the_post_hook_refuses_keys_of_different_types_rather_than_cast(tmp_path: Path) -> None:
    import duckdb

    *_, sql = _post_hook(tmp_path)
    con = duckdb.connect()
    con.execute("CREATE TABLE main.src AS SELECT 1::BIGINT AS k, 'a' AS s, 1.0::DOUBLE AS x")
    con.execute("CREATE TABLE main.ds AS SELECT 1::INTEGER AS k, 'a' AS s, 1.0::DOUBLE AS x")
    with pytest.raises(duckdb.InvalidInputException, match="key columns' types differ from the source's"):
        con.execute(sql)


@pytest.mark.parametrize("kind", ["pandera", "gx"])
def test_code_exports_list_reconciliation_as_not_exported(tmp_path: Path, kind: str) -> None:
    from typer.testing import CliRunner

    from dq.cli import app

    db = tmp_path / "w.duckdb"
    faults.execute(db, *_build(BASE, BASE))
    contract = tmp_path / "reconciled.yml"
    contract.write_text(_contract(FULL), encoding="utf-8")
    result = CliRunner().invoke(app, ["export", kind, str(contract), "--db", str(db)])
    assert result.exit_code == 0, result.output
    for name in ("reconcile.row_count", "reconcile.key", "reconcile.amount.sum", "reconcile.amount.mean"):
        assert name in result.stderr and "reconciles with the source dataset" in result.stderr


def test_dq_dbt_build_waits_for_the_model_a_reconciliation_reads(tmp_path: Path) -> None:
    from dq.contract.model import load_contract
    from dq.dbt.cross import models_read

    path = tmp_path / "ds.yml"
    path.write_text(HOOKED, encoding="utf-8")
    assert models_read(load_contract(path)) == {"src"}


def test_the_training_code_reconciles_its_frame_with_the_source_frame(tmp_path: Path) -> None:
    import pandas as pd

    import dq

    contract = tmp_path / "reconciled.yml"
    contract.write_text(_contract(FULL), encoding="utf-8")
    source = pd.DataFrame({"k": [1, 2, 3], "amount": [1.0, 2.0, 3.0], "x": [0.5, 1.5, 2.5]})
    frame = source.iloc[[0, 2, 2]]
    result = dq.validate(contract, data=frame, frames={"main.src": source}, results_dir=tmp_path / "r")
    checks = {c.name: c for c in result.contracts[0].checks}
    assert checks["reconcile.key"].observed == {"missing": 1, "extra": 1}
    assert checks["reconcile.key"].samples == [
        {"unmatched": "extra", "k": 3, "rows": 1},
        {"unmatched": "missing", "k": 2, "rows": 1},
    ]
    assert checks["reconcile.row_count"].status is Status.passed


@pytest.mark.parametrize(
    ("source", "dataset", "diff"),
    [
        ("(1, 9007199254740993), (2, 0)", "(1, 9007199254740992), (2, 0)", -1),  # DuckDB's DOUBLE sum: 0
        ("(1, 340282366920938463463374607431768211455), (2, 1)", "(1, 0), (2, 1)", -(2**128 - 1)),
    ],
    ids=["2**53 + 1", "the largest UHUGEINT"],
)
def test_uhugeint_sums_and_means_are_exact(tmp_path: Path, source: str, dataset: str, diff: int) -> None:
    # DuckDB sums UHUGEINT as DOUBLE; dq sums its 64-bit halves exactly
    statements = (
        f"CREATE TABLE main.src AS SELECT k::INTEGER AS k, a::UHUGEINT AS amount, 0.0 AS x FROM (VALUES {source}) v(k, a)",
        f"CREATE TABLE main.ds AS SELECT k::INTEGER AS k, a::UHUGEINT AS amount, 0.0 AS x FROM (VALUES {dataset}) v(k, a)",
    )
    status, checks = _run(
        tmp_path, statements, "\n  - {against: {table: main.src}, columns: {amount: {sum: {}, mean: {}}}}\n"
    )
    assert status is Status.failed
    assert checks["reconcile.amount.sum"].observed["diff"] == diff
    assert Fraction(checks["reconcile.amount.mean"].observed["diff"]) == Fraction(diff, 2)


@pytest.mark.parametrize(
    ("key_type", "refused"),
    [
        ("STRUCT(a INTEGER, b DOUBLE)", True),
        ("DOUBLE[]", True),
        ("MAP(INTEGER, FLOAT)", True),
        ("STRUCT(a STRUCT(b DOUBLE[]))", True),
        ('STRUCT("double" INTEGER)', False),  # a field named "double" is no double
        ("STRUCT(a INTEGER, b VARCHAR)", False),
    ],
)
def test_keys_holding_a_double_anywhere_are_refused(tmp_path: Path, key_type: str, refused: bool) -> None:
    value = {
        "STRUCT(a INTEGER, b DOUBLE)": "{'a': 1, 'b': 'NaN'}",
        "DOUBLE[]": "['NaN']",
        "MAP(INTEGER, FLOAT)": "MAP {1: 'NaN'}",
        "STRUCT(a STRUCT(b DOUBLE[]))": "{'a': {'b': ['NaN']}}",
        'STRUCT("double" INTEGER)': "{'double': 1}",
        "STRUCT(a INTEGER, b VARCHAR)": "{'a': 1, 'b': 'x'}",
    }[key_type]
    statements = tuple(
        f"CREATE TABLE main.{t} AS SELECT ({value})::{key_type} AS k, 1.0::DECIMAL(18,2) AS amount, 1.0 AS x"
        for t in ("src", "ds")
    )
    status, checks = _run(tmp_path, statements, "\n  - {against: {table: main.src}, key: [k]}\n")
    check = checks["reconcile.key"]
    if refused:
        assert status is Status.error and "doubles are no key" in check.message
    else:
        assert (status, check.observed) == (Status.passed, {"missing": 0, "extra": 0})
