"""Per-segment rules (`segments: [country]`): every segment judged on its own, in one grouped query.

Spec cases state the data, the rule and exactly which segments fail with which observed value; a
generated test compares every verdict and observed value with a plain-Python grouping of the same
rows (tests/oracle-style: it shares none of dq's SQL). Misuse fails closed: an undeclared segment
column, a runaway segment column (more than `max_segments` values: exit 3), an empty dataset.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dq.checks.compile import compile_contract
from dq.checks.result import ContractResult, RunResult, Status
from dq.config import EngineChoice, load_settings
from dq.contract.model import load_contract
from dq.errors import ContractError
from dq.exit_codes import ExitCode, exit_code_for
from dq.run.runner import validate
from tests.conftest import MakeDb

ROWS = "CREATE TABLE t AS SELECT * FROM (VALUES {values}) v({columns})"


def _run(tmp_path: Path, db: Path, contract: dict[str, Any], engine: str = "auto") -> ContractResult:
    path = tmp_path / "contract.yml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    settings_ = load_settings(db=db, results_dir=tmp_path / "results", engine=EngineChoice(engine))
    run: RunResult = validate([path], settings_)
    [result] = run.contracts
    return result


def _contract(columns: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"contract": "seg", "version": "1.0.0", "dataset": {"table": "main.t"}, **top, "columns": columns}


def _check(result: ContractResult, name: str) -> Any:
    assert result.error is None, result.error
    [check] = [c for c in result.checks if c.name == name]
    return check


def _failing(check: Any) -> dict[str, Any]:
    return {entry["segment"]: entry["observed"] for entry in check.observed["failing_segments"]}


# (what the case shows, CREATE TABLE, contract, the per-segment check, status, segments checked,
# failing segments -> observed value)
CASES = [
    (
        "null fraction per country, a NULL country is a segment of its own",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('DE', NULL), ('DE', 1), ('FR', 2), ('FR', 3), (NULL, NULL)) v(country, age)",
        _contract({"country": {}, "age": {"max_null_fraction": 0.4}}, segments=["country"]),
        "age.null_fraction.by.country",
        Status.failed,
        3,
        {"country='DE'": 0.5, "country=NULL": 1.0},
    ),
    (
        "a rule's own segments; text quoted as SQL quotes it",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('O''Brien', 10), ('O''Brien', 30), ('x', 1)) v(name, v)",
        _contract({"name": {}, "v": {"mean": {"min": 5}, "segments": ["name"]}}),
        "v.mean.by.name",
        Status.failed,
        2,
        {"name='x'": 1.0},
    ),
    (
        "decimal segment values exactly as DuckDB prints them",
        "CREATE TABLE t AS SELECT d::DECIMAL(6,2) AS d, i FROM (VALUES (1.5, 1), (1.5, 2), (2, 3)) v(d, i)",
        _contract({"d": {}, "i": {}}, segments=["d"], row_count={"min": 2}),
        "row_count.by.d",
        Status.failed,
        2,
        {"d=2.00": 1},
    ),
    (
        "timestamp_ns segments keep their nanoseconds: two segments, not one",
        "CREATE TABLE t AS SELECT ts::TIMESTAMP_NS AS ts FROM (VALUES ('2024-01-01 00:00:00.000000001'), "
        "('2024-01-01 00:00:00.000000002')) v(ts)",
        _contract({"ts": {}}, segments=["ts"], row_count={"min": 2}),
        "row_count.by.ts",
        Status.failed,
        2,
        {"ts='2024-01-01 00:00:00.000000001'": 1, "ts='2024-01-01 00:00:00.000000002'": 1},
    ),
    (
        "a COLLATE NOCASE segment column is grouped byte-wise: 'de' and 'DE' are two segments",
        "CREATE TABLE t (c VARCHAR COLLATE NOCASE, v INTEGER); INSERT INTO t VALUES ('DE', 1), ('de', 1), ('DE', 1)",
        _contract({"c": {}, "v": {}}, segments=["c"], row_count={"min": 2}),
        "row_count.by.c",
        Status.failed,
        2,
        {"c='de'": 1},
    ),
    (
        "a DOUBLE segment: -0.0 and 0.0 are one segment, named 0.0 whichever comes first; NaN is one",
        "CREATE TABLE t AS SELECT * FROM (VALUES (-0.0::DOUBLE), (0.0::DOUBLE), ('NaN'::DOUBLE)) v(x)",
        _contract({"x": {}}, segments=["x"], row_count={"min": 3}),
        "row_count.by.x",
        Status.failed,
        2,
        {"x=0.0": 2, "x=nan": 1},
    ),
    (
        "two segment columns; booleans and integers unquoted; distinct count per segment",
        "CREATE TABLE t AS SELECT * FROM (VALUES (true, 1, 'a'), (true, 1, 'b'), (false, 1, 'a'), (false, 2, 'a')) "
        "v(b, n, x)",
        _contract({"b": {}, "n": {}, "x": {"distinct_count": {"min": 2}, "segments": ["b", "n"]}}),
        "x.distinct_count.by.b.n",
        Status.failed,
        3,
        {"b=false, n=1": 1, "b=false, n=2": 1},
    ),
    (
        "stddev per segment; a one-row segment has no deviation and fails, as a one-row table does",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('a', 3), ('b', 5)) v(s, v)",
        _contract({"s": {}, "v": {"stddev": {"max": 2}}}, segments=["s"]),
        "v.stddev.by.s",
        Status.failed,
        2,
        {"s='b'": None},
    ),
    (
        "stddev of big integers shifted by the segment's own value, not another segment's 1e17",
        "CREATE TABLE t AS SELECT s, v::BIGINT AS v FROM (VALUES ('a', 100000000000000000), ('b', 0), ('b', 1), "
        "('b', 0), ('b', 1)) v(s, v)",
        _contract({"s": {}, "v": {"stddev": {"min": 0.5}}}, segments=["s"]),
        "v.stddev.by.s",
        Status.failed,
        2,
        {"s='a'": None},  # b's deviation is 0.577..., as doubles shifted by 1e17 it read 0
    ),
    (
        "stddev of DECIMAL per segment, each shifted by its own value",
        "CREATE TABLE t AS SELECT s, v::DECIMAL(18,1) AS v FROM (VALUES ('a', 10000000000000000.0), "
        "('a', 10000000000000000.1), ('b', 0.0), ('b', 0.1)) v(s, v)",
        _contract({"s": {}, "v": {"stddev": {"min": 0.07}}}, segments=["s"]),
        "v.stddev.by.s",
        Status.passed,
        2,
        {},
    ),
    (
        "every segment holds: the check passes and counts its segments",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2), ('c', 3)) v(s, v)",
        _contract({"s": {}, "v": {"quantiles": {0.5: {"min": 1, "max": 3}}}}, segments=["s"]),
        "v.quantile_0.5.by.s",
        Status.passed,
        3,
        {},
    ),
    (
        "a warn-severity rule warns per segment",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 20)) v(s, v)",
        _contract({"s": {}, "v": {"mean": {"max": 10, "severity": "warn"}}}, segments=["s"]),
        "v.mean.by.s",
        Status.warned,
        2,
        {"s='b'": 20.0},
    ),
    (
        "every class's share per segment: a declared class absent from a segment is 0% there",
        "CREATE TABLE t AS SELECT * FROM (VALUES ('x', 'a'), ('x', 'b'), ('x', 'c'), ('z', 'a'), ('z', 'b')) v(s, y)",
        _contract(
            {"s": {}, "y": {"accepted_values": ["a", "b", "c"]}},
            segments=["s"],
            label={"column": "y", "class_fraction": {"min": 0.2}},
        ),
        "label.class_fraction.by.s",
        Status.failed,
        2,
        {"s='z'": {"a": 0.5, "b": 0.5, "c": 0.0}},
    ),
    (
        "an empty dataset has no segment to show the bound holds: it fails",
        "CREATE TABLE t (s VARCHAR, v INTEGER)",
        _contract({"s": {}, "v": {"max_null_fraction": 0.5}}, segments=["s"]),
        "v.null_fraction.by.s",
        Status.failed,
        0,
        {},
    ),
]


@pytest.mark.parametrize(
    ("create", "contract", "name", "status", "checked", "failing"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_segment_is_judged_and_each_failing_one_named(
    make_db: MakeDb,
    tmp_path: Path,
    create: str,
    contract: dict[str, Any],
    name: str,
    status: Status,
    checked: int,
    failing: dict[str, Any],
) -> None:
    db = make_db(*create.split("; "))
    check = _check(_run(tmp_path, db, contract), name)
    assert (check.status, check.engine) == (status, "pandera-batch"), check.message
    assert check.observed["segments"] == checked
    assert check.observed["failing"] == len(failing)
    shares = any(isinstance(value, dict) for value in failing.values())  # exact, rounded to 6 places
    assert _failing(check) == (failing if shares else pytest.approx(failing))
    for segment in failing:
        assert segment in check.message
    if not checked:
        assert "no segments to check" in check.message


def test_the_whole_table_check_still_runs_beside_its_segments(make_db: MakeDb, tmp_path: Path) -> None:
    # every country within max 3 rows, the table of 4 rows is not: per segment does not replace it
    db = make_db("CREATE TABLE t AS SELECT * FROM (VALUES ('DE'), ('DE'), ('FR'), ('FR')) v(country)")
    result = _run(tmp_path, db, _contract({"country": {}}, segments=["country"], row_count={"max": 3}))
    assert _check(result, "row_count").status is Status.failed
    assert _check(result, "row_count.by.country").status is Status.passed


def test_the_label_balance_per_country(make_db: MakeDb, tmp_path: Path) -> None:
    """The ML engineer's question: is the churn label balanced in every country, not just overall?"""
    db = make_db(
        "CREATE TABLE t AS SELECT CASE WHEN i < 100 THEN 'DE' WHEN i < 200 THEN 'FR' ELSE 'US' END AS country, "
        "CASE WHEN i < 200 THEN i % 5 = 0 ELSE i % 50 = 0 END AS churned FROM range(300) r(i)"
    )
    label = {"column": "churned", "class_fraction": {True: {"min": 0.1, "max": 0.5}}}
    every = {"column": "churned", "class_fraction": {"min": 0.1}, "segments": ["country"]}
    columns = {"country": {}, "churned": {}}
    one = _run(tmp_path, db, _contract(columns, segments=["country"], label=label))
    overall = _check(one, "label.class_fraction.true")
    assert overall.status is Status.passed  # 42 of 300 churn overall: 14%
    by_country = _check(one, "label.class_fraction.true.by.country")
    assert by_country.status is Status.failed
    assert _failing(by_country) == {"country='US'": {"false": 0.98, "true": 0.02}}
    assert by_country.observed["failing_segments"][0]["rows"] == 100
    assert "country='US': class shares {false: 0.98, true: 0.02}" in by_country.message
    both = _check(_run(tmp_path, db, _contract(columns, label=every)), "label.class_fraction.by.country")
    assert (both.status, both.observed["segments"], list(_failing(both))) == (Status.failed, 3, ["country='US'"])


@pytest.mark.parametrize("engine", ["pandera", "gx"])
def test_other_engines_route_per_segment_checks_to_pandera_batch(make_db: MakeDb, tmp_path: Path, engine: str) -> None:
    db = make_db("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', NULL)) v(s, v)")
    result = _run(tmp_path, db, _contract({"s": {}, "v": {"max_null_fraction": 0.5}}, segments=["s"]), engine)
    whole, parts = _check(result, "v.null_fraction"), _check(result, "v.null_fraction.by.s")
    assert (whole.engine, whole.status) == (engine, Status.passed)
    assert (parts.engine, parts.status, list(_failing(parts))) == ("pandera-batch", Status.failed, ["s='b'"])


def test_a_runaway_segment_column_cannot_be_validated(make_db: MakeDb, tmp_path: Path) -> None:
    db = make_db("CREATE TABLE t AS SELECT i AS id, i % 7 AS v FROM range(12) r(i)")
    contract = _contract({"id": {}, "v": {"mean": {"min": 0}}}, segments=["id"], max_segments=11)
    result = _run(tmp_path, db, contract)
    check = _check(result, "v.mean.by.id")
    assert check.status is Status.error
    assert "more than 11 segments (max_segments: 11)" in check.message
    run = RunResult(run_id="x", started_at="now", contracts=[result])
    assert exit_code_for(run.status) is ExitCode.NOT_VALIDATED
    assert _check(_run(tmp_path, db, {**contract, "max_segments": 12}), "v.mean.by.id").status is Status.passed


def test_a_segment_column_missing_from_the_table_is_an_error(make_db: MakeDb, tmp_path: Path) -> None:
    db = make_db("CREATE TABLE t AS SELECT 1 AS v")
    check = _check(
        _run(tmp_path, db, _contract({"country": {}, "v": {}}, segments=["country"], row_count={"min": 1})),
        "row_count.by.country",
    )
    assert check.status is Status.error and "segment column 'country'" in check.message


@pytest.mark.parametrize(
    ("top", "column", "problem"),
    [
        ({"segments": ["country"]}, {}, "segments column 'country' is not declared under `columns`"),
        ({}, {"segments": ["v", "v"]}, "columns.v.segments lists a column twice"),
        ({"segments": []}, {}, "segments: List should have at least 1 item"),
        ({"max_segments": 0}, {}, "max_segments: Input should be greater than or equal to 1"),
        ({"max_segments": True}, {}, "max_segments: expected a number, got the boolean true"),
        ({"max_segments": "5"}, {}, "max_segments: expected a number, got str '5' (write it without quotes)"),
        ({"segments": None}, {}, "segments: is null (a key with no value). Fix: list the columns"),
        ({}, {"segments": None}, "columns.v.segments: is null"),
    ],
    ids=["undeclared", "twice", "empty", "zero", "boolean", "quoted", "null", "null on a column"],
)
def test_a_contract_that_misuses_segments_is_refused(
    write_contract: Callable[[str], Path], top: dict[str, Any], column: dict[str, Any], problem: str
) -> None:
    contract = _contract({"v": column}, **top)
    with pytest.raises(ContractError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        load_contract(write_contract(yaml.safe_dump(contract)))


def test_segments_compile_to_twins_of_the_aggregate_rules_only(write_contract: Callable[[str], Path]) -> None:
    contract = _contract(
        {"s": {}, "t": {}, "v": {"min": 0, "mean": {"min": 1}, "max_null_fraction": 0.1, "segments": ["t"]}},
        segments=["s"],
        row_count={"min": 1},
        max_segments=50,
    )
    specs = compile_contract(load_contract(write_contract(yaml.safe_dump(contract))))
    segmented = {s.name: (s.segments, s.args["max_segments"]) for s in specs if s.segments}
    assert segmented == {
        "v.mean.by.s": (("s",), 50),
        "v.mean.by.t": (("t",), 50),
        "v.null_fraction.by.s": (("s",), 50),
        "v.null_fraction.by.t": (("t",), 50),
        "row_count.by.s": (("s",), 50),
    }
    assert {"v.range", "v.mean", "v.null_fraction", "row_count"} <= {s.name for s in specs if not s.segments}


# --- generated: every verdict and observed value against a plain-Python grouping ----------------

SEGMENT = st.sampled_from(["DE", "FR", "O'B", None])
ROW = st.tuples(SEGMENT, st.one_of(st.none(), st.integers(-50, 50)), st.booleans())
LIMITS = st.fixed_dictionaries(
    {
        "rows": st.integers(0, 6),
        "nulls": st.sampled_from([0.0, 0.25, 0.5]),
        "mean": st.integers(-20, 20),
        "share": st.sampled_from([0.2, 0.5, 0.8]),
        "distinct": st.integers(0, 4),
    }
)


def _oracle(rows: list[tuple[Any, ...]], limits: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Check name -> {failing segment name: observed}, by plain Python grouping (Fractions: exact)."""
    groups: dict[Any, list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    failing: dict[str, dict[str, Any]] = {"count": {}, "nulls": {}, "mean": {}, "share": {}, "distinct": {}}
    # a named class seen nowhere and not declared reads as a typo (as over the whole table): every
    # segment fails, showing the classes it has
    typo = not any(r[2] for r in rows)
    for segment, members in groups.items():
        name = "s=NULL" if segment is None else "s='" + segment.replace("'", "''") + "'"
        values = [r[1] for r in members if r[1] is not None]
        if len(members) < limits["rows"]:
            failing["count"][name] = len(members)
        nulls = Fraction(len(members) - len(values), len(members))
        if nulls > Fraction(limits["nulls"]):
            failing["nulls"][name] = float(nulls)
        mean = Fraction(sum(values), len(values)) if values else None
        if mean is None or mean < limits["mean"]:
            failing["mean"][name] = None if mean is None else float(mean)
        if len(set(values)) < limits["distinct"]:
            failing["distinct"][name] = len(set(values))
        share = Fraction(sum(r[2] for r in members), len(members))
        if typo:
            failing["share"][name] = {"false": 1.0}
        elif share > Fraction(limits["share"]):
            failing["share"][name] = {"false": round(float(1 - share), 6), "true": round(float(share), 6)}
    return failing


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=30), limits=LIMITS)
def test_per_segment_verdicts_match_a_plain_python_grouping(
    rows: list[tuple[Any, ...]], limits: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        db = tmp / "w.duckdb"
        with duckdb.connect(str(db)) as con:
            con.execute("CREATE TABLE t (s VARCHAR, v INTEGER, y BOOLEAN)")
            con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
        contract = _contract(
            {
                "s": {},
                "v": {
                    "max_null_fraction": limits["nulls"],
                    "mean": {"min": limits["mean"]},
                    "distinct_count": {"min": limits["distinct"]},
                },
                "y": {},
            },
            segments=["s"],
            row_count={"min": limits["rows"]},
            label={"column": "y", "class_fraction": {True: {"max": limits["share"]}}},
        )
        result = _run(tmp, db, contract)
    expected = _oracle(rows, limits)
    names = {
        "count": "row_count.by.s",
        "nulls": "v.null_fraction.by.s",
        "mean": "v.mean.by.s",
        "share": "label.class_fraction.true.by.s",
        "distinct": "v.distinct_count.by.s",
    }
    segments = len({row[0] for row in rows})
    for key, name in names.items():
        check = _check(result, name)
        assert check.observed["segments"] == segments
        found = {
            segment: float(v) if key == "mean" and v is not None else v for segment, v in _failing(check).items()
        }  # exact: Decimal
        assert found == (expected[key] if key == "share" else pytest.approx(expected[key])), name
        assert check.status is (Status.failed if expected[key] else Status.passed), name


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-3, 3)), min_size=1, max_size=12),
    offset=st.sampled_from([0, 10**17, -(10**17)]),
)
def test_per_segment_stddev_of_big_integers_matches_python(rows: list[tuple[str, int]], offset: int) -> None:
    # segment 'big' holds one value 1e17 away from the rest: a table-wide shift by it would read
    # every small segment's deviation as 0; each segment's own shift keeps it (statistics.stdev)
    import statistics

    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        db = tmp / "w.duckdb"
        with duckdb.connect(str(db)) as con:
            con.execute("CREATE TABLE t (s VARCHAR, v BIGINT)")
            con.execute("INSERT INTO t VALUES ('big', 100000000000000000)")
            con.executemany("INSERT INTO t VALUES (?, ?)", [(seg, v + offset) for seg, v in rows])
        # max 0: every segment with a deviation fails and shows it; a one-value segment has none
        result = _run(tmp, db, _contract({"s": {}, "v": {"stddev": {"max": 0}}}, segments=["s"]))
    groups: dict[str, list[int]] = {"big": [10**17]}
    for seg, v in rows:
        groups.setdefault(seg, []).append(v + offset)
    expected: dict[str, Any] = {}
    for seg, values in groups.items():
        deviation = statistics.stdev(values) if len(values) > 1 else None
        if deviation is None or deviation > 0:
            expected[f"s='{seg}'"] = deviation
    assert _failing(_check(result, "v.stddev.by.s")) == pytest.approx(expected)


# --- lint and dbt export ------------------------------------------------------------------------

LINT_CASES = [
    (
        "a column's segments with no aggregate rule on it",
        {"v": {"min": 0, "segments": ["s"]}},
        {},
        "columns.v.segments",
    ),
    ("contract segments and no rule to segment", {"v": {"min": 0}}, {"segments": ["s"]}, "segments"),
    (
        "segmented by its own column",
        {"v": {"distinct_count": {"min": 1}}},
        {"segments": ["v"]},
        "v.distinct_count.by.v",
    ),
]


@pytest.mark.parametrize(("columns", "top", "key"), [c[1:] for c in LINT_CASES], ids=[c[0] for c in LINT_CASES])
def test_lint_finds_segments_that_check_nothing(
    write_contract: Callable[[str], Path], columns: dict[str, Any], top: dict[str, Any], key: str
) -> None:
    from dq.review.lint import lint

    path = write_contract(yaml.safe_dump(_contract({"s": {}, **columns}, **top)))
    count, problems = lint([path], None, skip_dbt=True)
    assert count == 1
    assert [(p.file, p.key) for p in problems] == [(str(path), key)], problems


def test_lint_passes_segments_that_apply(write_contract: Callable[[str], Path]) -> None:
    from dq.review.lint import lint

    contract = _contract(
        {"s": {}, "v": {"mean": {"min": 0}, "segments": ["s"]}, "y": {}},
        segments=["s"],
        label={"column": "y", "class_fraction": {"min": 0.1}, "segments": ["s"]},
    )
    assert lint([write_contract(yaml.safe_dump(contract))], None, skip_dbt=True) == (1, [])


def test_dbt_export_keeps_per_segment_checks_dq_only(write_contract: Callable[[str], Path], tmp_path: Path) -> None:
    """dbt's post-hook asserts whole-table metrics; a per-segment check exported as one would be weaker."""
    from dq.dbt.export import plan_model

    contract = {**_contract({"s": {}, "v": {"mean": {"min": 0}}}, segments=["s"]), "dataset": {"model": "m"}}
    path = write_contract(yaml.safe_dump(contract))
    export = plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    assert {s.name for s in export.dq_only} == {"v.mean.by.s"}
    assert "v.mean" in {s.name for s in export.asserted}


@pytest.mark.parametrize("target", ["pandera", "gx"])
def test_schema_exports_leave_per_segment_checks_out_and_say_why(make_db: MakeDb, tmp_path: Path, target: str) -> None:
    """An exported Pandera schema or GX suite states whole-table checks only: a per-segment check
    exported as one would be weaker than the contract."""
    db = make_db("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('b', 2)) v(s, v)")
    path = tmp_path / "contract.yml"
    path.write_text(yaml.safe_dump(_contract({"s": {}, "v": {"mean": {"min": 0}}}, segments=["s"])), encoding="utf-8")
    settings_ = load_settings(db=db, results_dir=tmp_path / "results")
    if target == "pandera":
        from dq.engines.pandera_export import export_module as export
    else:
        from dq.gx.export import export_suite as export
    text, skipped = export(path, settings_)
    assert dict(skipped)["v.mean.by.s"].startswith("a per-segment check (`segments`)")
    if target == "pandera":
        assert "name='v.mean'" in text and "name='v.mean.by.s'" not in text
    else:
        # an INTEGER mean is judged as an exact fraction: GX's float average is left out too, saying why
        expectations = json.dumps(json.loads(text)["expectations"])
        assert "v.mean" not in expectations and "plain float sum" in dict(skipped)["v.mean"]
