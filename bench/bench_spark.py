"""The same contract on Spark and on DuckDB, measured in one run, as ratios: dq end to end
(`dq.validate` of one contract over one Parquet file, `backend="duckdb"` vs `backend="spark"`: the
Spark SQL engine), and GX on Spark (dq.gx.spark_engine) vs dq's GX on DuckDB (dq.gx.engine).

    .venv/bin/python bench/bench_spark.py [--rows 1000000 10000000] [--repeat 1] [--out bench/out/spark]

Data: bench/run.py's generator (DuckDB), written once to Parquet that Spark reads. Specs:
bench/contract.yml compiled and bound against the DuckDB table exactly as the runner binds them;
both engines get the specs both claim (GX states no Kahan-summed mean of a DOUBLE: those stay with
pandera-batch on either backend). Each engine's time is the validation alone; the Spark session's
start-up is reported on its own line (it is paid once per process); one untimed warm-up run on
1,000 rows takes GX's import out of the first measurement. Verdicts and failing-row counts
of the two engines are compared on every run; a difference marks the row INVALID.
Spark runs `local[*]` on this machine: it does not pay off on a few cores (the README says where it
does). Writes <out>/results_spark.md and .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dq  # noqa: E402
from bench.run import ensure_data  # noqa: E402
from dq.checks.compile import compile_contract  # noqa: E402
from dq.checks.spec import CheckSpec  # noqa: E402
from dq.contract.model import load_contract  # noqa: E402
from dq.data.bind import bind_spec, collated_columns, nan_holding_columns  # noqa: E402
from dq.data.source import Table, open_database, resolve_table  # noqa: E402
from dq.gx.engine import GxEngine  # noqa: E402
from dq.gx.spark_engine import GxSparkEngine  # noqa: E402

CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "spark")
    parser.add_argument("--master", default="local[*]")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    spark = _session(args.master, out)
    session_s = time.perf_counter() - started
    _measure(spark, out, 1000, 1)  # warm-up, not reported: GX's import and first-use costs
    rows = [_measure(spark, out, n, args.repeat) for n in args.rows]
    report = {
        "machine": {"python": platform.python_version(), "cpus": spark.sparkContext.defaultParallelism},
        "master": args.master,
        "spark_session_start_s": round(session_s, 2),
        "rows": rows,
    }
    (out / "results_spark.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (out / "results_spark.md").write_text(_markdown(report), encoding="utf-8")
    print(_markdown(report))


def _session(master: str, out: Path) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName("dq-bench")
    for key, value in {**CONF, "spark.sql.warehouse.dir": str(out / "spark-warehouse")}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _specs(table: Table) -> list[CheckSpec]:
    contract = load_contract(ROOT / "bench" / "contract.yml")
    collated, nan_present = collated_columns(table), nan_holding_columns(table)
    bound = [bind_spec(spec, table, collated, nan_present) for spec in compile_contract(contract)]
    duck, spark = GxEngine(), GxSparkEngine()
    return [spec for spec in bound if duck.supports(spec) and spark.supports(spec)]


def _measure(spark: Any, out: Path, n: int, repeat: int) -> dict[str, Any]:
    data = ensure_data(out, n)
    db = Path(data["path"])
    table = resolve_table(open_database(db), db, "main", "training_set")
    parquet = out / f"training_set_{n}.parquet"
    if not parquet.exists() or parquet.stat().st_mtime < db.stat().st_mtime:
        table.connection.execute(f"COPY main.training_set TO '{parquet}' (FORMAT parquet)")
    specs = _specs(table)
    frame = spark.read.parquet(str(parquet))
    duck_s, spark_s, same = [], [], True
    for _ in range(repeat):
        start = time.perf_counter()
        on_duckdb = GxEngine().run(specs, table)
        duck_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        on_spark = GxSparkEngine().run_frame(specs, frame, table.columns)
        spark_s.append(time.perf_counter() - start)
        same &= [(r.status, r.failing_rows) for r in on_duckdb] == [(r.status, r.failing_rows) for r in on_spark]
    gx_duckdb, gx_spark = statistics.median(duck_s), statistics.median(spark_s)
    return {
        **_dq_end_to_end(spark, parquet, repeat),
        "rows": n,
        "checks": len(specs),
        "gx_duckdb_s": round(gx_duckdb, 2),
        "gx_spark_s": round(gx_spark, 2),
        "spark_over_duckdb": round(gx_spark / gx_duckdb, 2),
        "statuses": sorted({r.status.value for r in on_spark}),
        "same_verdicts_and_counts": same,
    }


def _dq_end_to_end(spark: Any, parquet: Path, repeat: int) -> dict[str, Any]:
    """`dq.validate` of bench/contract.yml over the Parquet file on both backends: every check."""
    text = (ROOT / "bench" / "contract.yml").read_text(encoding="utf-8")
    text = text.replace("dataset: {table: main.training_set}", f"dataset: {{path: '{parquet}'}}")
    with tempfile.TemporaryDirectory() as scratch:
        contract = Path(scratch) / "bench_on_parquet.yml"
        contract.write_text(text, encoding="utf-8")
        times: dict[str, list[float]] = {"duckdb": [], "spark": []}
        verdicts: dict[str, Any] = {}
        for _ in range(repeat):
            for backend in ("duckdb", "spark"):
                start = time.perf_counter()
                session = spark if backend == "spark" else None  # spark= alone means the Spark backend
                run = dq.validate(contract, backend=backend, spark=session, results_dir=Path(scratch) / "results")
                times[backend].append(time.perf_counter() - start)
                verdicts[backend] = [(c.name, c.status, c.failing_rows) for r in run.contracts for c in r.checks]
                assert all(r.error is None for r in run.contracts), [r.error for r in run.contracts]
    dq_duckdb, dq_spark = statistics.median(times["duckdb"]), statistics.median(times["spark"])
    return {
        "dq_checks": len(verdicts["duckdb"]),
        "dq_duckdb_s": round(dq_duckdb, 2),
        "dq_spark_s": round(dq_spark, 2),
        "dq_spark_over_duckdb": round(dq_spark / dq_duckdb, 2),
        "dq_same_verdicts_and_counts": verdicts["duckdb"] == verdicts["spark"],
    }


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Spark ({report['master']}, {report['machine']['cpus']} cores) vs DuckDB: dq end to end over one Parquet "
        "file (every check), and GX on Spark vs dq's GX on DuckDB (the checks both state); "
        f"Spark session start-up {report['spark_session_start_s']} s (once per process, not in the times).",
        "",
        "| rows | checks | on DuckDB (s) | on Spark (s) | Spark / DuckDB | verdicts and counts |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["rows"]:
        same = "same" if row["dq_same_verdicts_and_counts"] else "INVALID: they differ"
        lines.append(
            f"| {row['rows']:,} | {row['dq_checks']} (dq, every check) | {row['dq_duckdb_s']} | {row['dq_spark_s']} | "
            f"{row['dq_spark_over_duckdb']}x | {same} |"
        )
        same = "same" if row["same_verdicts_and_counts"] else "INVALID: they differ"
        lines.append(
            f"| {row['rows']:,} | {row['checks']} | {row['gx_duckdb_s']} | {row['gx_spark_s']} | "
            f"{row['spark_over_duckdb']}x | {same} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
