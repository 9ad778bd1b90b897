"""The Spark backend end to end: settings, regex translation, the bundled broken data, the CLI.

The bundled contract (contracts/training_set.yml) runs over the dbt-built training set written to
Parquet, the same contract file on both backends: every check must have the same verdict, failing-
row count and observed value on Spark as on DuckDB (means and deviations of doubles to 12 digits:
tests/test_spark_parity.py says why), and the same number of sample rows, its label and leakage
statistics included (its drift rules compare to a profile of the dbt model, not of these files:
tests/test_spark_stats.py runs them). A contract with a check Spark refuses exits 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

import dq
from dq.checks.result import RunResult, Status
from dq.cli import app
from dq.config import Backend, load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode, exit_code_for
from dq.run.runner import validate
from dq.spark.regex import UnsafeRegex, java_regex
from tests.test_spark_parity import assert_same

ROOT = Path(__file__).resolve().parents[1]


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "env", "pyproject", "expected"),
    [
        (None, None, None, Backend.duckdb),
        (None, None, 'backend = "spark"', Backend.spark),
        (None, "spark", 'backend = "duckdb"', Backend.spark),
        ("duckdb", "spark", 'backend = "spark"', Backend.duckdb),
    ],
)
def test_backend_option_beats_env_beats_pyproject(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    arg: str | None,
    env: str | None,
    pyproject: str | None,
    expected: Backend,
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.dq]\n{pyproject or ''}\n", encoding="utf-8")
    monkeypatch.delenv("DQ_BACKEND", raising=False)
    if env:
        monkeypatch.setenv("DQ_BACKEND", env)
    assert load_settings(start=tmp_path, backend=arg).backend is expected


def test_spark_master_and_conf_come_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dq.spark]\nmaster = "spark://lake:7077"\nconf = {"spark.executor.memory" = "4g", "spark.sql.ansi.enabled" = true}\n',
        encoding="utf-8",
    )
    spark = load_settings(start=tmp_path).spark
    assert (spark.master, dict(spark.conf)) == (
        "spark://lake:7077",
        {"spark.executor.memory": "4g", "spark.sql.ansi.enabled": "true"},
    )


@pytest.mark.parametrize(
    "table",
    ['backend = "flink"', "[tool.dq.spark]\nmaster = 7", "[tool.dq.spark]\nconf = 1", "[tool.dq.spark]\nmastr = 'x'"],
)
def test_a_bad_backend_setting_is_refused(tmp_path: Path, table: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.dq]\n{table}\n", encoding="utf-8")
    with pytest.raises(DqError):
        load_settings(start=tmp_path)


# --- regexes: RE2's meaning in Java's dialect, or refused -----------------------------------

PATTERNS = [r"^[a-z]+$", r"^[^@\s]+@[^@\s]+$", r"a.c", r"\d{2,3}", r"x\S*y", r"^(?:ab|cd)+?$", r"[\w.-]+", r"\.\$"]
SUBJECTS = ["abc", "a@b", "a @b", "a\rc", "a\nc", "abc\n", "12", "1234", "x\u000by", "x\ty", "abcd", "a.b-c", ".$", "é"]


def test_translated_regexes_match_what_re2_matches(spark: Any) -> None:
    """Oracle: DuckDB's regexp_matches (RE2) on every pattern x subject, against Spark's RLIKE on
    the translation, in one query each."""
    import duckdb

    pairs = [(p, s) for p in PATTERNS for s in SUBJECTS]
    re2 = [duckdb.execute("SELECT regexp_matches(?, ?)", [s, p]).fetchall()[0][0] for p, s in pairs]
    frame = spark.createDataFrame([(s, java_regex(p)) for p, s in pairs], "s string, p string")
    java = [row[0] for row in frame.selectExpr("s RLIKE p").collect()]
    assert java == re2


@pytest.mark.parametrize(
    "pattern", [r"\bword\b", r"a*+", r"[a[b]]", r"[a&&b]", r"(?i)abc", r"\p{L}", r"a{,2}", r"\v", r"[]a]"]
)
def test_a_regex_whose_meaning_may_differ_is_refused(pattern: str) -> None:
    with pytest.raises(UnsafeRegex):
        java_regex(pattern)


# --- the bundled broken data: the same contract over the same Parquet files -------------------


def _parquet_contract(warehouse: Path, directory: Path, unsafe_regex: bool = False) -> Path:
    """contracts/training_set.yml over Parquet copies of its datasets (written by DuckDB), without
    its drift rules (profiles/training_set.json is a profile of the dbt model, not of the files)."""
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name in ("training_set", "stg_plans", "eval_set"):
            con.execute(f"COPY main.{name} TO '{directory / name}.parquet' (FORMAT parquet)")
    contract = yaml.safe_load((ROOT / "contracts" / "training_set.yml").read_text(encoding="utf-8"))
    contract["dataset"] = {"path": str(directory / "training_set.parquet")}
    contract["columns"]["plan_id"]["references"] = {"path": str(directory / "stg_plans.parquet"), "column": "plan_id"}
    contract["leakage"]["disjoint_from"] = {"path": str(directory / "eval_set.parquet"), "key": ["customer_id"]}
    del contract["drift"]
    if unsafe_regex:
        contract["columns"]["email"]["pattern"] = r"\bx\b"  # Java's \b is not RE2's
    path = directory / "training_set.yml"
    path.write_text(yaml.safe_dump(contract, sort_keys=False), encoding="utf-8")
    return path


def _run(contract: Path, tmp_path: Path, backend: Backend, spark_session: Any = None) -> RunResult:
    settings = load_settings(db=tmp_path / "absent.duckdb", results_dir=tmp_path / "results", backend=backend)
    if backend is Backend.spark:  # the Python API, in the test run's session
        return dq.validate(contract, results_dir=tmp_path / "results", spark=spark_session)
    return validate([contract], settings)


def test_broken_data_gives_the_same_verdicts_counts_and_values_on_spark(
    spark: Any, warehouse: dict[str, Path], tmp_path: Path
) -> None:
    contract = _parquet_contract(warehouse["broken"], tmp_path / "broken")
    on_duckdb, on_spark = (_run(contract, tmp_path, b, spark) for b in (Backend.duckdb, Backend.spark))
    [theirs], [mine] = on_duckdb.contracts, on_spark.contracts
    assert theirs.error is None and mine.error is None, mine.error
    assert on_duckdb.status is Status.failed and on_spark.status is Status.failed
    assert [c.name for c in mine.checks] == [c.name for c in theirs.checks]
    failed = 0
    for spark_check, duckdb_check in zip(mine.checks, theirs.checks, strict=True):
        assert_same(spark_check, duckdb_check)
        assert len(spark_check.samples) == len(duckdb_check.samples), spark_check.name
        assert spark_check.message == duckdb_check.message or spark_check.kind in ("mean", "stddev", "freshness")
        failed += spark_check.status is Status.failed
    assert failed >= 5  # the broken variant's fan-out, nulls, ranges, orphans and staleness
    statistics = {"label.class_fraction.true", "leakage.correlation_with_label", "leakage.categorical_determines_label"}
    assert {c.name: c.engine for c in mine.checks if c.name in statistics} == dict.fromkeys(
        statistics, "pandera-batch-spark"
    )


# --- the command line --------------------------------------------------------------------------


def test_dq_validate_backend_spark_exits_0_clean_1_broken_3_unsupported(
    spark: Any, warehouse: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process (the CLI finds the test run's active session, as a job's own session is found)."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["validate", "--backend", "spark", "--results-dir", str(tmp_path / "results"), "--format", "json"]
    clean = _parquet_contract(warehouse["clean"], tmp_path / "clean")
    broken = _parquet_contract(warehouse["broken"], tmp_path / "broken")
    unsafe = _parquet_contract(warehouse["clean"], tmp_path / "unsafe", unsafe_regex=True)
    codes = {
        name: runner.invoke(app, [*args, str(path)])
        for name, path in [("clean", clean), ("broken", broken), ("unsafe", unsafe)]
    }
    assert {name: r.exit_code for name, r in codes.items()} == {"clean": 0, "broken": 1, "unsafe": 3}, codes[
        "unsafe"
    ].output
    refused = codes["unsafe"].output
    assert "cannot run on the spark backend" in refused and "email.pattern" in refused


# --- a catalog table, values Spark's SQL text would change, refusals ---------------------------

TRICKY = ["C:\\x", "${spark.app.name}", "it's", "a\\'b"]


def _catalog_contract(tmp_path: Path, email_rule: str, name: str) -> Path:
    values = ", ".join(f"'{v.replace(chr(39), chr(39) * 2)}'" for v in TRICKY)
    path = tmp_path / f"{name}.yml"
    path.write_text(
        f"""contract: people
version: 1.0.0
dataset: {{table: global_temp.dq_people}}
primary_key: [id]
columns:
  id: {{type: bigint, nullable: false, unique: true}}
  note: {{accepted_values: [{values}]}}
  email: {{{email_rule}}}
""",
        encoding="utf-8",
    )
    return path


def test_a_catalog_table_with_tricky_values_and_the_refusals(spark: Any, tmp_path: Path) -> None:
    """`{table: db.t}` through Spark's catalog; text values bound as parameters (a literal would lose
    its backslashes, and `${...}` would be substituted); an unsafe regex and another engine refused."""
    rows = [(1, TRICKY[0], "a@x.io"), (2, TRICKY[1], "b@x"), (2, TRICKY[2], "c d@x"), (4, TRICKY[3], None)]
    rows += [(5, "pyspark-shell", "e@x"), (6, "C:x", "f@x")]
    spark.createDataFrame(rows, "id bigint, note string, email string").createOrReplaceGlobalTempView("dq_people")
    good = _catalog_contract(tmp_path, r"pattern: '^[^@\s]+@[^@\s]+$'", "good")
    result = dq.validate(good, results_dir=tmp_path / "results", spark=spark)
    [contract] = result.contracts
    assert contract.error is None, contract.error
    found = {c.name: (c.status, c.failing_rows) for c in contract.checks if c.failing_rows is not None}
    assert found["primary_key.unique"] == (Status.failed, 2)
    assert found["note.accepted_values"] == (Status.failed, 2)  # 'pyspark-shell' and 'C:x'
    assert found["email.pattern"] == (Status.failed, 1)  # 'c d@x'

    unsafe = _catalog_contract(tmp_path, r"pattern: '\bx\b'", "unsafe")
    [refused] = dq.validate(unsafe, results_dir=tmp_path / "results", spark=spark).contracts
    assert refused.checks == [] and "cannot run on the spark backend" in (refused.error or "")
    assert "email.pattern" in (refused.error or "") and "\\b" in (refused.error or "")
    # --engine gx: GX's Spark datasource runs what it states exactly, the rest is routed; same counts
    [on_gx] = dq.validate(good, results_dir=tmp_path / "results", spark=spark, engine="gx").contracts
    assert on_gx.error is None, on_gx.error
    assert {c.name: (c.status, c.failing_rows) for c in on_gx.checks if c.failing_rows is not None} == found
    assert {c.engine for c in on_gx.checks} >= {"gx-spark"}
    [other_engine] = dq.validate(good, results_dir=tmp_path / "results", spark=spark, engine="pandera").contracts
    assert "does not run on the spark backend" in (other_engine.error or "")


def test_a_csv_contract_runs_alike_on_both_backends_and_a_bad_cell_is_refused(spark: Any, tmp_path: Path) -> None:
    """A CSV's declared types are how both backends read it; a cell that is not of its type is exit 3."""
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("id,x,d\n1,0.5,2024-01-01\n2,,2024-02-30\n2,7.25,2024-03-01\n".replace("2024-02-30", "2024-02-29"))
    bad.write_text("id,x,d\n1,0.5,2024-01-01\n2,oops,2024-03-01\n")
    verdicts = {}
    for data in (good, bad):
        contract = tmp_path / f"{data.stem}.yml"
        contract.write_text(
            f"""contract: csv
version: 1.0.0
dataset: {{path: '{data}'}}
columns:
  id: {{type: bigint, unique: true}}
  x: {{type: double, nullable: false, max: 5}}
  d: {{type: date, accepted_values: ['2024-01-01', '2024-02-29']}}
""",
            encoding="utf-8",
        )
        on_duckdb = _run(contract, tmp_path, Backend.duckdb)
        on_spark = _run(contract, tmp_path, Backend.spark, spark)
        verdicts[data.stem] = (int(exit_code_for(on_duckdb.status)), int(exit_code_for(on_spark.status)))
        if data is good:
            for mine, theirs in zip(on_spark.contracts[0].checks, on_duckdb.contracts[0].checks, strict=True):
                assert_same(mine, theirs)
    assert verdicts == {"good": (1, 1), "bad": (3, 3)}
    # a session with ANSI mode off (older clusters) casts a bad cell to NULL: still refused, exit 3
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        refused = _run(tmp_path / "bad.yml", tmp_path, Backend.spark, spark)
    finally:
        spark.conf.set("spark.sql.ansi.enabled", ansi)
    assert exit_code_for(refused.status) is ExitCode.NOT_VALIDATED
    assert "x (DOUBLE): 1 cell(s)" in (refused.contracts[0].error or ""), refused.contracts[0].error


# Files Spark's default reader reads other rows from than DuckDB does. A well-formed file passes on
# Spark with DuckDB's rows, checks and all; a malformed one is exit 3 on Spark (and blocks on
# DuckDB), never a pass of what PERMISSIVE mode left of it (an extra cell dropped, a short row or
# a bad JSON line made NULLs), of a quoted newline read as two rows, or of `""` / a backslash read
# as Spark's escapes.
FILES_AS_DUCKDB_READS_THEM = {
    "a quoted cell holding a newline is one row": (
        "d.csv",
        'id,name\n1,"x\ny"\n2,z\n',
        "row_count: {min: 2, max: 2}\ncolumns:\n  id: {type: bigint, nullable: false}\n"
        '  name: {nullable: false, accepted_values: ["x\\ny", z]}\n',
        ExitCode.OK,
    ),
    "a doubled quote inside a quoted cell is one quote": (
        "d.csv",
        'id,name\n1,"say ""hi"""\n2,"a,b"\n',
        "columns:\n  id: {type: bigint}\n  name: {accepted_values: ['say \"hi\"', 'a,b']}\n",
        ExitCode.OK,
    ),
    "a backslash is a character, not an escape": (
        "d.csv",
        'id,name\n1,"C:\\"\n2,b\n',
        "row_count: {max: 2}\ncolumns:\n  id: {type: bigint}\n  name: {accepted_values: ['C:\\', b]}\n",
        ExitCode.OK,
    ),
    "a row with a cell too many is malformed": (
        "d.csv",
        "id,name\n1,a\n2,b,EXTRA\n",
        "columns:\n  id: {type: bigint, nullable: false}\n  name: {nullable: false}\n",
        ExitCode.NOT_VALIDATED,
    ),
    "a row with a cell too many is malformed in an untyped CSV too": (
        "d.csv",
        "id,name\n1,a\n2,b\n3,c,EXTRA\n4,d\n",
        "row_count: {min: 1}\ncolumns:\n  id: {}\n  name: {}\n",
        ExitCode.NOT_VALIDATED,
    ),
    "a row with a cell too few is malformed": (
        "d.csv",
        "id,name\n1,a\n2\n",
        "columns:\n  id: {type: bigint}\n",
        ExitCode.NOT_VALIDATED,
    ),
    **{
        f"a {kind} cell {cell!r} that Spark's cast reads and DuckDB refuses": (
            "d.csv",
            f"id,v\n1,{good}\n2,{cell}\n",
            f"columns:\n  id: {{type: bigint}}\n  v: {{type: {kind}}}\n",
            ExitCode.NOT_VALIDATED,
        )
        for kind, good, cell in [
            ("date", "2024-01-05", "2024"),
            ("date", "2024-01-05", "2024-03"),
            ("date", "2024-01-05", "+2024-01-05"),
            ("timestamp", "2024-01-05 10:00:00", "2024"),
            ("double", "0.5", "5d"),
            ("double", "0.5", "5f"),
            ("double", "0.5", "0x1p3"),
            ("float", "0.5", "5d"),
            ("bigint", "5", "1.5"),
            ("bigint", "5", "0x10"),
            ("'decimal(10,2)'", "1.250", "1.005"),
            ("timestamptz", "2024-01-05 10:00:00+02:00", "2024"),
        ]
    },
    "a header name with spaces around it is refused, not trimmed into the real column's": (
        "d.csv",
        " a,a\n5,500\n",
        "columns:\n  a: {type: bigint, max: 100}\n",
        ExitCode.NOT_VALIDATED,
    ),
    "a header naming a column twice is refused": (
        "d.csv",
        "a,a\n5,500\n",
        "columns:\n  a: {type: bigint, max: 100}\n",
        ExitCode.NOT_VALIDATED,
    ),
    "a quoted empty cell is the empty string, not NULL": (
        "d.csv",
        'id,name\n1,"x"\n2,""\n3,\n',
        "columns:\n  id: {type: bigint}\n  name: {type: varchar, length: {min: 1}}\n",
        ExitCode.CHECKS_FAILED,
    ),
    "a JSON integer no double equals, in a key read as double, is refused": (
        "d.jsonl",
        '{"id": 1, "x": 9007199254740993}\n{"id": 2, "x": 0.5}\n',
        "row_count: {min: 1}\ncolumns:\n  id: {type: bigint}\n",
        ExitCode.NOT_VALIDATED,
    ),
    "a JSON integer past 2**64 no double equals, beside a fraction, is refused": (
        "d.jsonl",
        '{"id": 1, "x": 18446744073709551617}\n{"id": 2, "x": 0.5}\n',
        "row_count: {min: 1}\ncolumns:\n  id: {type: bigint}\n",
        ExitCode.NOT_VALIDATED,
    ),
    "JSON integers a double holds exactly, beside fractions, are read": (
        "d.jsonl",
        '{"id": 1, "x": 1152921504606846976}\n{"id": 2, "x": 0.5}\n{"id": 3, "x": 7}\n',
        "row_count: {min: 1}\ncolumns:\n  id: {type: bigint}\n  x: {min: 0}\n",
        ExitCode.OK,
    ),
    "a JSON line that does not parse is malformed": (
        "d.jsonl",
        '{"id": 1, "name": "a"}\n{"id": 2, "name": \n{"id": 3, "name": "c"}\n',
        "row_count: {min: 1}\ncolumns:\n  id: {type: bigint}\n",
        ExitCode.NOT_VALIDATED,
    ),
}


@pytest.mark.parametrize(
    ("file_name", "content", "rules", "expected"),
    FILES_AS_DUCKDB_READS_THEM.values(),
    ids=FILES_AS_DUCKDB_READS_THEM.keys(),
)
def test_csv_and_json_files_are_read_on_spark_as_duckdb_reads_them_or_refused(
    spark: Any, tmp_path: Path, file_name: str, content: str, rules: str, expected: ExitCode
) -> None:
    data = tmp_path / file_name
    data.write_text(content, encoding="utf-8")
    contract = tmp_path / "c.yml"
    contract.write_text(f"contract: c\nversion: 1.0.0\ndataset: {{path: '{data}'}}\n{rules}", encoding="utf-8")
    on_duckdb = _run(contract, tmp_path, Backend.duckdb)
    on_spark = _run(contract, tmp_path, Backend.spark, spark)
    assert exit_code_for(on_spark.status) is expected, (on_spark.contracts[0].error, on_spark.contracts[0].checks)
    assert (exit_code_for(on_duckdb.status) is ExitCode.OK) is (expected is ExitCode.OK), on_duckdb.contracts[0]
    if expected is not ExitCode.NOT_VALIDATED:
        for mine, theirs in zip(on_spark.contracts[0].checks, on_duckdb.contracts[0].checks, strict=True):
            assert_same(mine, theirs)


@pytest.mark.parametrize("second", ["double", "extra_column"])
def test_parquet_files_of_two_schemas_are_refused_on_spark_as_on_duckdb(
    spark: Any, tmp_path: Path, second: str
) -> None:
    (tmp_path / "d").mkdir()
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 5::BIGINT AS a) TO '{tmp_path}/d/1.parquet' (FORMAT parquet)")
        other = "SELECT 100.4::DOUBLE AS a" if second == "double" else "SELECT 6::BIGINT AS a, 'x' AS c"
        con.execute(f"COPY ({other}) TO '{tmp_path}/d/2.parquet' (FORMAT parquet)")
    contract = tmp_path / "c.yml"
    contract.write_text(
        f"contract: c\nversion: 1.0.0\ndataset: {{path: '{tmp_path}/d/*.parquet'}}\ncolumns:\n  a: {{max: 100}}\n",
        encoding="utf-8",
    )
    for run in (_run(contract, tmp_path, Backend.duckdb), _run(contract, tmp_path, Backend.spark, spark)):
        assert exit_code_for(run.status) is ExitCode.NOT_VALIDATED
        assert "column 'a' is BIGINT in" in str(run.contracts[0].error) or "column 'c' is in" in str(
            run.contracts[0].error
        ), run.contracts[0].error


# --- the gate on Spark: the trusted snapshot written by the session that validated --------------

READ_SNAPSHOT = "import dq; frame = dq.load_validated(); print('rows', len(frame))"


def test_the_gate_on_spark_trains_on_its_fingerprinted_snapshot_and_blocks_broken_data(
    spark: Any, warehouse: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean: the checks ran on the Parquet file Spark wrote, and the training command reads that
    file through dq.load_validated() (fingerprint verified). Broken: exit 1, CMD never starts,
    nothing is left to train on."""
    import json
    import sys

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    outcomes = {}
    for variant in ("clean", "broken"):
        contract = _parquet_contract(warehouse[variant], tmp_path / variant)
        snapshots = tmp_path / f"snapshots_{variant}"
        args = ["gate", "--backend", "spark", "--snapshot-dir", str(snapshots), "--results-dir", str(tmp_path / "r")]
        outcomes[variant] = (
            runner.invoke(app, [*args, str(contract), "--", sys.executable, "-c", READ_SNAPSHOT]),
            snapshots,
        )
    clean, clean_dir = outcomes["clean"]
    assert clean.exit_code == 0, clean.output
    manifest = json.loads((clean_dir / "churn_training_set.manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "spark" and manifest["row_count"] == 2000
    broken, broken_dir = outcomes["broken"]
    assert broken.exit_code == 1, broken.output
    assert not broken_dir.exists() or list(broken_dir.iterdir()) == []


@pytest.mark.parametrize(
    "rules, refused",
    [
        ("  v: {type: bigint, min: 0, where: 'v > 1'}\n", "v.range"),
        ("  v: {type: bigint, min: 0, mostly: 0.5}\n", "v.range"),
        ("  v: {type: bigint, mean: {min: 0}, where: 'v > 1'}\n", "v.mean"),
        ("  v: {type: bigint}\nanomalies: [{metric: row_count}]\n", "anomalies.row_count"),
        ("  v: {type: bigint}\nchange_from_last: [{metric: row_count, max_pct: 5}]\n", "change_from_last.row_count"),
        ("  v: {type: bigint}\nreconcile: [{against: {table: global_temp.dq_small}, row_count: {}}]\n", "reconcile"),
    ],
)
def test_rules_measured_on_duckdb_only_are_refused_on_spark_never_measured_whole(
    spark: Any, tmp_path: Path, rules: str, refused: str
) -> None:
    """A `where:`, a tolerance, a reconciliation or a check over the history is not stated by the
    Spark engine: measured without its scope it would judge other rows, so it is refused (exit 3)
    before anything runs, naming the check and the backend."""
    spark.createDataFrame([(1,), (2,), (-3,)], "v bigint").createOrReplaceGlobalTempView("dq_small")
    contract = tmp_path / "small.yml"
    contract.write_text(
        f"contract: small\nversion: 1.0.0\ndataset: {{table: global_temp.dq_small}}\ncolumns:\n{rules}",
        encoding="utf-8",
    )
    run = dq.validate(contract, results_dir=tmp_path / "results", spark=spark)
    [result] = run.contracts
    assert result.checks == [] and "cannot run on the spark backend" in (result.error or ""), result.error
    assert refused in (result.error or "")
    assert exit_code_for(run.status) is ExitCode.NOT_VALIDATED


@pytest.mark.parametrize(
    "rules, refused",
    [
        ("expressions:\n  - {name: casts, expr: 'CAST(s AS INT) > 0'}\n", "expressions.casts"),
        ("checks:\n  - {name: casts, sql: 'SELECT * FROM {dataset} WHERE CAST(s AS INT) <= 0'}\n", "casts"),
    ],
    ids=["expression", "custom sql"],
)
def test_contract_sql_is_refused_in_a_session_with_ansi_mode_off(
    spark: Any, tmp_path: Path, rules: str, refused: str
) -> None:
    """Without ANSI mode Spark reads CAST('x' AS INT) as NULL, which an expression rule (NULL holds)
    and a custom query (no violating row) would pass, where DuckDB and ANSI Spark raise (exit 3).
    dq leaves the caller's session as it is, so it refuses the rule there: exit 3, never a pass."""
    spark.createDataFrame([("x",), ("5",)], "s string").createOrReplaceGlobalTempView("dq_text")
    contract = tmp_path / "text.yml"
    contract.write_text(
        f"contract: text\nversion: 1.0.0\ndataset: {{table: global_temp.dq_text}}\ncolumns:\n  s: {{}}\n{rules}",
        encoding="utf-8",
    )
    verdicts = {}
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    for mode in ("true", "false"):
        spark.conf.set("spark.sql.ansi.enabled", mode)
        try:
            run = dq.validate(contract, results_dir=tmp_path / "results", spark=spark)
        finally:
            spark.conf.set("spark.sql.ansi.enabled", ansi)
        verdicts[mode] = exit_code_for(run.status)
        if mode == "false":
            assert refused in (run.contracts[0].error or ""), run.contracts[0].error
            assert "ansi" in (run.contracts[0].error or "").lower(), run.contracts[0].error
    assert verdicts == {"true": ExitCode.NOT_VALIDATED, "false": ExitCode.NOT_VALIDATED}


NAN_RULES = {
    "nullable: false fails on the NaN": "f: {nullable: false}",
    "max_null_fraction counts the NaN": "f: {max_null_fraction: 0.0}",
    "a range leaves the NaN to nullability": "f: {min: 0, max: 5}",
    "accepted values leave the NaN out": "f: {accepted_values: [1.0, 2.0]}",
    "two NaNs are no duplicate key": "f: {unique: true}",
    "a distinct count leaves the NaN out": "f: {distinct_count: {max: 2}}",
}


@pytest.mark.parametrize("rule", NAN_RULES.values(), ids=NAN_RULES.keys())
def test_gx_on_spark_leaves_a_column_holding_nan_to_dqs_sql(spark: Any, tmp_path: Path, rule: str) -> None:
    """dq counts a NaN as missing, GX as a value: `--engine gx` on DuckDB sends a check of a column
    holding a NaN to pandera-batch, and so must `--engine gx --backend spark` (GX on Spark passed
    `nullable: false` over a NaN, and failed ranges, accepted values and keys on it)."""
    import duckdb

    data = tmp_path / "d.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM (VALUES (1, 'NaN'::DOUBLE), (2, 'NaN'::DOUBLE), (3, 1.0), (4, 2.0)) v(id, f)) TO '{data}'"
    )
    contract = tmp_path / "c.yml"
    contract.write_text(f"contract: c\nversion: 1.0.0\ndataset: {{path: '{data}'}}\ncolumns:\n  {rule}\n")
    theirs = dq.validate(contract, results_dir=tmp_path / "r", backend="duckdb", engine="gx")
    mine = dq.validate(contract, results_dir=tmp_path / "r", spark=spark, engine="gx")
    [duck_check] = [c for c in theirs.contracts[0].checks if c.name.startswith("f.") and c.name != "f.exists"]
    [spark_check] = [c for c in mine.contracts[0].checks if c.name.startswith("f.") and c.name != "f.exists"]
    assert (spark_check.status, spark_check.failing_rows) == (duck_check.status, duck_check.failing_rows)
    assert spark_check.engine == "pandera-batch-spark", spark_check.engine


# --- why `--engine pandera` stays refused on Spark (issue 16's evaluation) ---------------------


def test_pandera_on_ibis_pyspark_runs_but_cannot_be_the_gate(spark: Any) -> None:
    """Pandera's Ibis backend (what `--engine pandera` runs on DuckDB) does run on Ibis's PySpark
    backend, and its element-wise checks find the same failure cases there as on DuckDB. It is not
    used as a Spark engine: it accepts `Column(unique=True)` and never checks it (on either backend:
    dq's Pandera engine checks keys with its own grouped query and states quantiles, regexes and
    NaN handling in DuckDB SQL), and it reports samples, not failing-row counts. dq's Spark SQL
    engine judges with Pandera instead, as the DuckDB default does. If Pandera starts checking
    `unique` here, this test says so and the engine can be revisited."""
    import ibis
    import pandera.ibis as pa

    rows = [(1, 5.0, "a"), (2, None, "b"), (2, -1.0, "zz"), (None, float("nan"), None)]
    spark.createDataFrame(rows, "id long, x double, s string").createOrReplaceTempView("dq_pandera_ibis")
    on_spark = ibis.pyspark.connect(spark).table("dq_pandera_ibis")
    duck = ibis.duckdb.connect()
    duck.raw_sql(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1::BIGINT, 5.0::DOUBLE, 'a'), (2, NULL, 'b'), "
        "(2, -1.0, 'zz'), (NULL, 'nan'::DOUBLE, NULL)) v(id, x, s)"
    )
    on_duckdb = duck.table("t")
    rules = pa.DataFrameSchema(
        {
            "id": pa.Column(ibis.dtype("int64"), nullable=False),
            "x": pa.Column(ibis.dtype("float64"), pa.Check.ge(0), nullable=True),
            "s": pa.Column(ibis.dtype("string"), pa.Check.isin(["a", "b"]), nullable=True),
        }
    )

    def failures(table: Any) -> set[tuple[str, str]]:
        with pytest.raises(pa.errors.SchemaErrors) as caught:
            rules.validate(table, lazy=True)
        cases = caught.value.failure_cases  # a pandas DataFrame of samples, one row per failure case
        return {
            (str(row.check), str(row.failure_case)) for row in cases.itertuples() if row.check != "not_nullable"
        } | {("not_nullable", str(row.column)) for row in cases.itertuples() if row.check == "not_nullable"}

    assert (
        failures(on_spark)
        == failures(on_duckdb)
        == {
            ("greater_than_or_equal_to(0)", "{'x': -1.0}"),
            ("isin(['a', 'b'])", "{'s': 'zz'}"),
            ("not_nullable", "id"),
        }
    )
    unique_only = pa.DataFrameSchema({"id": pa.Column(ibis.dtype("int64"), unique=True, nullable=True)})
    for table in (on_spark, on_duckdb):
        unique_only.validate(table, lazy=True)  # id 2 is duplicated, and Pandera's Ibis backend passes it


def test_a_session_with_another_backend_is_a_usage_error(spark: Any, tmp_path: Path) -> None:
    """`spark=` means the Spark backend: asking for DuckDB beside it would silently ignore one of
    the two (a benchmark once timed Spark twice that way), so it raises before anything runs."""
    with pytest.raises(ValueError, match=r"spark= runs the checks on Spark; backend='duckdb' contradicts it"):
        dq.validate(ROOT / "contracts", backend="duckdb", spark=spark, results_dir=tmp_path)
