"""A real `dbt build` with dbt-spark in session mode (no Thrift server), then the contract on the
table it built, checked by GX on Spark: a defect planted in the seed is counted exactly.

dbt runs in this process (dbtRunner), so dbt-spark's `method: session` takes the test run's own
SparkSession (`getOrCreate`): the model is built into that session's catalog and warehouse (a
temporary directory: no `spark-warehouse/` or `metastore_db/` in the repository), and dq reads it
back as `spark.table(...)` in the same session, as a training job on a cluster would validate the
table its own session just built. The expected counts come from a plain-Python pass over the seed
CSVs.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dq.checks.compile import compile_contract
from dq.checks.result import CheckResult, Status
from dq.contract.model import load_contract
from dq.gx.spark_engine import GxSparkEngine, duckdb_types
from tests.spark_session import local_session

PROJECT = Path(__file__).parent / "fixtures" / "dbt_projects" / "spark_session"
# planted defects: a repeated order id, a negative amount, an unknown customer (no segment after
# the left join), a status outside the accepted set that the pattern also rejects, a missing customer
DEFECTS = ["101,2,12.0,placed", "108,1,-3.5,shipped", "109,42,10.0,placed", "110,5,20.0,Lost", "111,,8.0,placed"]


def _dbt_build(directory: Path) -> tuple[bool, str]:
    from dbt.cli.main import dbtRunner

    messages: list[str] = []

    def keep(event: object) -> None:
        data = getattr(event, "data", None)
        message = getattr(getattr(data, "run_result", None), "message", None) or getattr(data, "msg", None)
        if message:
            messages.append(str(message))

    args = ["--project-dir", str(directory), "--profiles-dir", str(directory), "--log-path", str(directory / "logs")]
    result = dbtRunner(callbacks=[keep]).invoke(["build", "--no-version-check", "--quiet", *args])
    if result.exception is not None:
        messages.append(str(result.exception))
    return result.success, "\n".join(messages)


@pytest.fixture(scope="module")
def spark() -> Any:
    return local_session()


@pytest.fixture(scope="module")
def built(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dbt-spark's session method turns ANSI mode off in the session it builds in (its connection's
    server-side parameters): this module validates in that session as a user would, and the
    session the test run shares gets its mode back afterwards."""
    directory = tmp_path_factory.mktemp("dbt_spark") / "spark_session"
    shutil.copytree(PROJECT, directory)
    with (directory / "seeds" / "orders.csv").open("a", encoding="utf-8") as orders:
        orders.write("".join(f"{row}\n" for row in DEFECTS))
    ansi = spark.conf.get("spark.sql.ansi.enabled")
    try:
        ok, output = _dbt_build(directory)
        assert ok, output
        yield directory
    finally:
        spark.conf.set("spark.sql.ansi.enabled", ansi)


def _oracle(directory: Path) -> dict[str, int]:
    """Failing rows of every row-level check, recomputed from the seeds in plain Python."""
    segments = {row["customer_id"]: row["segment"] for row in _csv(directory / "seeds" / "customers.csv")}
    orders = _csv(directory / "seeds" / "orders.csv")
    repeated = Counter(row["order_id"] for row in orders)
    rows = [{**row, "segment": segments.get(row["customer_id"])} for row in orders]
    return {
        "order_id.not_null": sum(not r["order_id"] for r in rows),
        "customer_id.not_null": sum(not r["customer_id"] for r in rows),
        "segment.not_null": sum(r["segment"] is None for r in rows),
        "segment.accepted_values": sum(r["segment"] not in (None, "retail", "business") for r in rows),
        "amount.not_null": sum(not r["amount"] for r in rows),
        "amount.range": sum(not 0 <= float(r["amount"]) <= 1000 for r in rows),
        "status.not_null": sum(not r["status"] for r in rows),
        "status.accepted_values": sum(r["status"] not in ("placed", "shipped", "returned") for r in rows),
        "status.pattern": sum(re.fullmatch("[a-z]+", r["status"]) is None for r in rows),
        "primary_key.unique": sum(n for n in repeated.values() if n > 1),
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def results(spark: Any, built: Path) -> dict[str, CheckResult]:
    frame = spark.table("analytics.training_orders")  # what dbt-spark built, in this session
    specs = compile_contract(load_contract(built / "contract.yml"))
    found = GxSparkEngine().run_frame(specs, frame, duckdb_types(frame.schema))
    return {result.name: result for result in found}


def test_the_seed_defects_are_counted_exactly_on_the_dbt_spark_model(built: Path, results: dict) -> None:
    expected = _oracle(built)
    assert sum(expected.values()) >= len(DEFECTS)  # every planted defect breaks some check
    for name, rows in expected.items():
        result = results[name]
        assert (result.failing_rows, result.status) == (rows, Status.failed if rows else Status.passed), name


def test_the_model_s_schema_and_aggregates_hold(results: dict) -> None:
    """Types as dbt-spark built them (bigint, double, string), no extra column, the row count and
    the median (nearest-rank) of the amounts, read from the same table."""
    schema = {n: r for n, r in results.items() if n.endswith((".exists", ".type")) or n == "schema.no_extra_columns"}
    assert {n: r.status for n, r in schema.items()} == dict.fromkeys(schema, Status.passed)
    assert results["row_count"].observed == 8 + len(DEFECTS)
    amounts = sorted([19.9, 5.0, 120.0, 42.5, 7.25, 60.0, 15.0, 99.99, 12.0, -3.5, 10.0, 20.0, 8.0])
    median = amounts[(len(amounts) + 1) // 2 - 1]  # the value at rank ceil(n/2)
    assert (results["amount.quantile_0.5"].observed, results["amount.quantile_0.5"].status) == (median, Status.passed)


def test_the_gate_on_spark_blocks_the_dbt_spark_model_by_its_manifest(spark: Any, built: Path, tmp_path: Path) -> None:
    """`dataset: {model: training_orders}` resolved through the manifest dbt-spark just wrote, checked
    by dq's Spark backend (Spark SQL measures, Pandera judges) in the session that built it: every
    planted defect is counted as the oracle counts it, and the gate blocks (exit 1, GateError)."""
    import dq
    from dq.exit_codes import ExitCode, exit_code_for

    run = dq.validate(built / "contract.yml", backend="spark", spark=spark, dbt_project=built, results_dir=tmp_path)
    [contract] = run.contracts
    assert contract.error is None, contract.error
    found = {c.name: (c.failing_rows, c.status) for c in contract.checks}
    for name, rows in _oracle(built).items():
        assert found[name] == (rows, Status.failed if rows else Status.passed), name
    assert exit_code_for(run.status) is ExitCode.CHECKS_FAILED
    with pytest.raises(dq.GateError, match=r"primary_key\.unique"):
        dq.require_valid(built / "contract.yml", backend="spark", spark=spark, dbt_project=built, results_dir=tmp_path)
