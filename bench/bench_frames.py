"""Peak memory of `dq.validate(contract, data=frame)` on a frame the training process already holds.

    .venv/bin/python bench/bench_frames.py --rows 10000000 [--kind arrow|polars|pandas]

Builds bench/run.py's training_set shape (14 columns) as an Arrow table in process, converts it to
the chosen kind, then resets the kernel's peak-RSS mark (`/proc/self/clear_refs`, Linux) and runs
dq's checks (bench/contract.yml) on the frame. Prints the frame's own size, the RSS before the
checks and the peak RSS while they ran: the difference is what validating costs on top of the
frame. A copy of the frame into DuckDB or pandas would add about the frame's size; registering the
Arrow data adds none of it. Not a test: figures go to README's Benchmarks.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _status(key: str) -> int:
    """VmRSS / VmHWM of this process in bytes (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def _frame(rows: int, kind: str) -> Any:
    import duckdb

    from bench.run import GENERATE_SQL

    snapshot = datetime.now(UTC).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")
    with duckdb.connect() as con:
        con.execute(GENERATE_SQL.format(rows=rows, snapshot=snapshot))
        table = con.sql("SELECT * FROM training_set").to_arrow_table()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table), table.nbytes
    if kind == "pandas":
        import pandas as pd
        import pyarrow as pa

        types = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}
        return table.to_pandas(types_mapper=types.get), table.nbytes
    return table, table.nbytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    # table: the same rows in a DuckDB file, validated on the table path (the figure to compare with)
    parser.add_argument("--kind", choices=("arrow", "polars", "pandas", "table"), default="arrow")
    args = parser.parse_args(argv)

    import dq

    frame, arrow_bytes = _frame(args.rows, "arrow" if args.kind == "table" else args.kind)
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "bench.duckdb"
        if args.kind == "table":
            import duckdb

            with duckdb.connect(str(db)) as con:
                con.execute("CREATE TABLE training_set AS SELECT * FROM frame")
            del frame
        before = _status("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (peak RSS) to the current RSS
        started = time.perf_counter()
        contract, results = ROOT / "bench" / "contract.yml", Path(scratch) / "results"
        if args.kind == "table":
            result = dq.validate(contract, db=db, results_dir=results)
        else:
            result = dq.validate(contract, data=frame, results_dir=results)
        seconds = time.perf_counter() - started
        peak = _status("VmHWM")
    mb = 1024 * 1024
    report = {
        "rows": args.rows,
        "kind": args.kind,
        "status": result.status.value,
        "frame_arrow_mb": round(arrow_bytes / mb),
        "rss_before_mb": round(before / mb),
        "peak_rss_mb": round(peak / mb),
        "added_by_validation_mb": round((peak - before) / mb),
        "validate_s": round(seconds, 2),
    }
    print(json.dumps(report))
    return 0 if result.status.value == "passed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
