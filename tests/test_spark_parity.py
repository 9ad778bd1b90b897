"""The Spark backend against DuckDB: same verdict, same failing-row count, same observed value.

Each table is built in DuckDB, written to Parquet, and read by Spark (local mode, one session per
test run: the `spark` fixture). The spec table (tests/test_engine_pandera.py's CASES) runs through
both `pandera-batch` on DuckDB and `pandera-batch-spark`; the bundled broken data runs through both
whole runners, one contract over the same Parquet files on either backend. Means and deviations
of FLOAT/DOUBLE columns are double sums on Spark (no compensated summation): those alone are
compared to 12 significant digits; everything else must be equal.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.result import CheckResult
from dq.checks.spec import CheckKind
from dq.data.files import memory_connection
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.spark.engine import SparkBatchEngine, refusal
from dq.spark.relation import SparkTable, view_table
from tests.test_engine_pandera import CASES, Case, build

_FLOAT_SUMS = (CheckKind.mean, CheckKind.stddev)


def on_spark(
    spark: Any, con: duckdb.DuckDBPyConnection, directory: Path, shadow: duckdb.DuckDBPyConnection
) -> SparkTable:
    """Every table of the DuckDB file as Parquet, registered in Spark under its own name; `t`'s handle."""
    tables = "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    for (name,) in con.execute(tables).fetchall():
        target = directory / f"{name}.parquet"
        con.execute(f"COPY main.\"{name}\" TO '{target}' (FORMAT parquet)")
        spark.read.parquet(str(target)).createOrReplaceTempView(name)
    return view_table(spark, "t", "main.t", shadow)


def same_observed(kind: CheckKind, spark_value: Any, duckdb_value: Any, column_type: str) -> bool:
    if kind in _FLOAT_SUMS and isinstance(duckdb_value, float) and isinstance(spark_value, float):
        return spark_value == pytest.approx(duckdb_value, rel=1e-12)
    return type(spark_value) is type(duckdb_value) and spark_value == duckdb_value


def assert_same(spark_result: CheckResult, duckdb_result: CheckResult, column_type: str = "") -> None:
    where = f"{duckdb_result.name}: spark {spark_result} vs duckdb {duckdb_result}"
    assert spark_result.status is duckdb_result.status, where
    assert spark_result.failing_rows == duckdb_result.failing_rows, where
    if duckdb_result.kind != CheckKind.freshness.value:  # an age in hours: read at two moments
        assert same_observed(
            CheckKind(duckdb_result.kind), spark_result.observed, duckdb_result.observed, column_type
        ), where


def _by_setup() -> dict[tuple[str, ...], list[Case]]:
    groups: dict[tuple[str, ...], list[Case]] = defaultdict(list)
    for case in CASES:
        groups[case.setup].append(case)
    return groups


GROUPS = _by_setup()


@pytest.mark.parametrize("setup", list(GROUPS), ids=[GROUPS[s][0].id for s in GROUPS])
def test_spec_table_cases_agree_with_duckdb(spark: Any, tmp_path: Path, setup: tuple[str, ...]) -> None:
    """Every case of one table in one Spark run (the cases sharing a table share its single pass)."""
    cases = GROUPS[setup]
    table = build(tmp_path, *setup)
    specs = [case.spec for case in cases]
    expected = PanderaBatchEngine().run(specs, table)
    shadow = memory_connection()
    spark_table = on_spark(spark, table.connection, tmp_path, shadow)
    assert [refusal(s, spark_table) for s in specs] == [None] * len(specs)
    found = SparkBatchEngine().run(specs, spark_table)
    for case, mine, theirs in zip(cases, found, expected, strict=True):
        assert theirs.status is case.status, f"{case.id} on DuckDB: {theirs.message}"
        assert_same(mine, theirs)
    shadow.close()
