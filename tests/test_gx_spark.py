"""GX on Spark (dq.gx.spark_engine) against GX on DuckDB: the same specs, the same verdicts, the
same exact failing-row counts and observed values.

Data is made in DuckDB, written to Parquet and read by a real local Spark session: the DuckDB
engines' spec table (tests/test_engine_pandera.CASES, which tests/test_engine_parity.py proves
every DuckDB engine meets exactly) and one sample spec of every kind, run by dq's DuckDB GX engine
beside. GX on Spark starts a Spark job per metric, so each table is validated once and the
parametrized cases read the results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.kinds import CheckKind
from dq.checks.result import CheckResult, Status
from dq.checks.spec import CheckSpec
from dq.data.source import Table, open_database, resolve_table
from dq.gx.engine import GxEngine
from dq.gx.java_regex import UntranslatableRegex, java_regex
from dq.gx.spark_engine import SPARK_KINDS, GxSparkEngine, duckdb_types
from tests.kind_samples import SAMPLE_TABLE, sample_spec
from tests.spark_session import local_session
from tests.test_engine_pandera import CASES, Case

SPARK = GxSparkEngine()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    yield local_session()


def duckdb_table(directory: Path, *statements: str) -> Table:
    """A DuckDB file holding `statements`' table t, reopened read-only as the runner does."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "warehouse.duckdb"
    with duckdb.connect(str(path)) as writer:
        for statement in statements:
            writer.execute(statement)
    return resolve_table(open_database(path), path, "main", "t")


def spark_frame(spark: Any, table: Table, directory: Path) -> Any:
    """Table t as Spark reads it: DuckDB writes Parquet, Spark reads the file."""
    parquet = directory / "t.parquet"
    table.connection.execute(f"COPY main.t TO '{parquet}' (FORMAT parquet)")
    return spark.read.parquet(str(parquet))


# --- every kind: the sample spec on both GX engines ------------------------------------------


@pytest.fixture(scope="module")
def kind_results(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[CheckResult, CheckResult]]:
    """{kind: (GX on DuckDB's result or None, GX on Spark's)} for one sample spec of every kind."""
    directory = tmp_path_factory.mktemp("kinds")
    table = duckdb_table(directory, *SAMPLE_TABLE.split(";"))
    frame = spark_frame(spark, table, directory)
    assert duckdb_types(frame.schema) == table.columns
    specs = [sample_spec(kind) for kind in CheckKind]
    duck = GxEngine()
    claimed = [spec for spec in specs if duck.supports(spec)]
    on_duckdb = dict(zip(claimed, duck.run(claimed, table), strict=True))
    on_spark = SPARK.run_frame(specs, frame, table.columns)
    assert [r.name for r in on_spark] == [s.name for s in specs]  # one result per spec, in order
    return {spec.kind.value: (on_duckdb.get(spec), result) for spec, result in zip(specs, on_spark, strict=True)}


@pytest.mark.parametrize("kind", list(CheckKind), ids=[k.value for k in CheckKind])
def test_every_kind_matches_gx_on_duckdb_or_is_refused(kind: CheckKind, kind_results: dict) -> None:
    on_duckdb, on_spark = kind_results[kind.value]
    assert on_spark.engine == "gx-spark"
    if kind not in SPARK_KINDS:
        assert not SPARK.supports(sample_spec(kind))
        assert on_spark.status is Status.error and kind.value in on_spark.message, on_spark.message
        return
    assert on_duckdb is not None, "GX on DuckDB runs every kind GX on Spark runs"
    assert on_spark.status is on_duckdb.status, on_spark.message
    assert on_spark.failing_rows == on_duckdb.failing_rows
    if kind is CheckKind.freshness:  # hours since now(), read a few seconds apart
        assert on_spark.observed == pytest.approx(on_duckdb.observed, abs=0.05)
    else:
        assert on_spark.observed == on_duckdb.observed
        assert type(on_spark.observed) is type(on_duckdb.observed)


# --- the DuckDB engines' spec table ----------------------------------------------------------


class CaseRuns:
    """Each distinct table of CASES validated once on Spark, with every spec asked of it."""

    def __init__(self, spark: Any, base: Path) -> None:
        self.spark, self.base = spark, base
        self.results: dict[str, CheckResult] = {}

    def result(self, case: Case) -> CheckResult:
        if case.id not in self.results:
            group = [c for c in CASES if c.setup == case.setup]
            directory = self.base / re.sub(r"\W", "_", case.id)
            table = duckdb_table(directory, *case.setup)
            frame = spark_frame(self.spark, table, directory)
            assert duckdb_types(frame.schema) == table.columns, "Spark reads DuckDB's Parquet types as dq names them"
            results = SPARK.run_frame([c.spec for c in group], frame, table.columns)
            self.results.update({c.id: r for c, r in zip(group, results, strict=True)})
        return self.results[case.id]


@pytest.fixture(scope="module")
def case_runs(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> CaseRuns:
    return CaseRuns(spark, tmp_path_factory.mktemp("cases"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_spec_table_case_on_spark(case: Case, case_runs: CaseRuns) -> None:
    result = case_runs.result(case)
    if not SPARK.supports(case.spec):
        assert case.spec.kind in (CheckKind.custom_sql, CheckKind.references, CheckKind.expression)
        assert result.status is Status.error and case.spec.kind.value in result.message
        return
    assert result.status is case.status, result.message
    if case.spec.is_row_level:
        assert result.failing_rows == case.failing_rows
    elif case.id != "freshness_stale":
        expected = pytest.approx(case.observed) if isinstance(case.observed, float) else case.observed
        assert result.observed == expected


def test_a_spec_gx_spark_cannot_state_is_an_error_not_a_pass(spark: Any, tmp_path: Path) -> None:
    table = duckdb_table(tmp_path, "CREATE TABLE t AS SELECT * FROM (VALUES ('a'), ('b')) v(s)")
    frame = spark_frame(spark, table, tmp_path)
    specs = [
        CheckSpec(
            "s.lookahead", CheckKind.pattern, sample_spec(CheckKind.pattern).severity, ("s",), {"regex": "a(?=b)"}
        ),
        sample_spec(CheckKind.not_null, column="s"),
    ]
    refused, counted = SPARK.run_frame(specs, frame, table.columns)
    assert refused.status is Status.error and "regex" in refused.message
    assert counted.status is Status.passed and counted.failing_rows == 0


# --- RE2 (DuckDB) vs Java (Spark) regexes -----------------------------------------------------

# strings where RE2's and Java's defaults part: newlines, \r, the vertical tab, a non-ASCII letter
STRINGS = ["", "a", "ab", "a\n", "a\nb", "a\rb", "\x0b", " ", "éfoo", "foo bar", "x:y", "A1_", "a$b", "[a]", "ß"]
REGEXES = [
    "^a$",
    "a.b",
    "^[a-z]+$",
    "\\s",
    "\\S+",
    "[\\s]",
    "\\bfoo",
    "o\\B",
    "[[:alpha:]]+",
    "[[:space:]]",
    "[^[:alnum:]]",
    "^\\w+$",
    "\\d",
    "a\\$b",
    "\\Q[a]\\E",
    "\\x{e9}",
    "(?:a|b)+$",
    "[a$]",
    "^.*$",
]


@pytest.fixture(scope="module")
def regex_matches(spark: Any) -> dict[tuple[str, str], tuple[bool, bool]]:
    """{(regex, string): (DuckDB's regexp_matches, Spark's rlike of the translation)}."""
    from pyspark.sql import functions as F

    pairs = [(regex, text) for regex in REGEXES for text in STRINGS]
    with duckdb.connect() as con:
        duck = [bool(con.execute("SELECT regexp_matches(?, ?)", [t, r]).fetchone()[0]) for r, t in pairs]  # type: ignore[index]
    frame = spark.createDataFrame(
        [(i, t, java_regex(r)) for i, (r, t) in enumerate(pairs)], "i int, t string, r string"
    )
    java = {row.i: row.m for row in frame.select("i", F.expr("t RLIKE r").alias("m")).collect()}
    return {pair: (duck[i], bool(java[i])) for i, pair in enumerate(pairs)}


@pytest.mark.parametrize("regex", REGEXES)
def test_translated_regex_matches_what_duckdb_matches(regex: str, regex_matches: dict) -> None:
    differ = {text: got for (r, text), got in regex_matches.items() if r == regex and got[0] != got[1]}
    assert differ == {}, f"(DuckDB, Spark) differ for {regex!r}"


@pytest.mark.parametrize(
    "regex",
    [
        "(?i)abc",
        "(?m)^a$",
        "a(?=b)",
        "(?P<x>a)",
        "(a)\\1",
        "a++",
        "\\pL",
        "\\p{Greek}",
        "[a&&b]",
        "[a[b]]",
        "\\h",
        "\\v",
        "\\Z",
        "[]a]",
        "x{,3}",
        "[[:foo:]]",
        "a\\",
    ],
)
def test_regex_with_another_java_meaning_is_refused(regex: str) -> None:
    with pytest.raises(UntranslatableRegex):
        java_regex(regex)
    assert not SPARK.supports(
        CheckSpec("s.p", CheckKind.pattern, sample_spec(CheckKind.pattern).severity, ("s",), {"regex": regex})
    )


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_freshness_of_a_zoned_timestamp_does_not_depend_on_the_session_time_zone(
    spark: Any, tmp_path: Path, zone: str
) -> None:
    """Spark hands a TIMESTAMP WITH TIME ZONE back as the session's wall clock; the newest value
    two hours old must read two hours old whatever that zone is, as on DuckDB."""
    table = duckdb_table(
        tmp_path, "CREATE TABLE t AS SELECT now() - INTERVAL 2 HOUR AS ts UNION ALL SELECT now() - INTERVAL 50 HOUR"
    )
    assert table.columns == {"ts": "TIMESTAMP WITH TIME ZONE"}
    frame = spark_frame(spark, table, tmp_path)
    severity = sample_spec(CheckKind.freshness).severity
    specs = [
        CheckSpec(f"ts.fresh_{hours}h", CheckKind.freshness, severity, ("ts",), {"max_age_seconds": hours * 3600.0})
        for hours in (3, 1)
    ]
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", zone)
    try:
        on_spark = SPARK.run_frame(specs, frame, duckdb_types(frame.schema))
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    on_duckdb = GxEngine().run(specs, table)
    assert [r.status for r in on_spark] == [r.status for r in on_duckdb] == [Status.passed, Status.failed]
    for mine, theirs in zip(on_spark, on_duckdb, strict=True):
        assert mine.observed == pytest.approx(theirs.observed, abs=0.05) and mine.observed == pytest.approx(
            2.0, abs=0.2
        )


def test_the_callers_session_keeps_no_view_or_cache_and_a_view_of_gx_s_name_is_never_replaced(
    spark: Any, tmp_path: Path
) -> None:
    table = duckdb_table(tmp_path, "CREATE TABLE t AS SELECT 1::BIGINT AS id")
    frame = spark_frame(spark, table, tmp_path)
    typed = [sample_spec(CheckKind.column_type, column="id"), sample_spec(CheckKind.not_null, column="id")]
    [checked, _] = SPARK.run_frame(typed, frame, table.columns)
    assert checked.status is Status.passed and checked.observed == "BIGINT"
    assert not spark.catalog.tableExists("tmp_view") and not frame.is_cached
    spark.createDataFrame([(7,)], "mine int").createOrReplaceTempView("tmp_view")  # the caller's own view
    try:
        refused, counted = SPARK.run_frame(typed, frame, table.columns)
        assert refused.status is Status.error and "tmp_view" in refused.message
        assert counted.status is Status.passed
        assert spark.table("tmp_view").collect()[0].mine == 7
    finally:
        spark.catalog.dropTempView("tmp_view")
