"""Plain Pandera on polars, as a user would write it without dq: the peer to beat.

    python bench/pandera_polars.py --db FILE [--table main.training_set] [--lazy]

The table is read from DuckDB with `.pl()` (Arrow, zero-copy where it can) into a polars
DataFrame, or with `.pl(lazy=True)` into a LazyFrame (`--lazy`), and validated with a
`pandera.polars.DataFrameSchema` holding bench/contract.yml's rules (lazy=True: every check runs
and every failure is collected). On a LazyFrame Pandera checks only the schema unless told
otherwise, so `--lazy` validates with `ValidationDepth.SCHEMA_AND_DATA`: the data checks run too.
Prints one JSON line {"method", "import_s", "load_s", "validate_s", "rows", "passed", "failures"};
exits 0 when the data passes, 1 otherwise.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402 - the imports are timed
import json  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import duckdb  # noqa: E402
import pandera.polars as pa  # noqa: E402
import polars as pl  # noqa: E402
from pandera.config import ValidationDepth, config_context  # noqa: E402
from pandera.errors import SchemaErrors  # noqa: E402

IMPORT_S = time.perf_counter() - _T0


def _aggregate(name: str, expr: pl.Expr) -> pa.Check:
    """A check on one aggregate of the column (`expr` of pl.col(key)); Pandera polars checks
    return a frame of booleans."""
    return pa.Check(lambda data: data.lazyframe.select(expr), name=name)


def schema() -> pa.DataFrameSchema:
    fresh_after = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=36)
    return pa.DataFrameSchema(
        {
            "customer_id": pa.Column(nullable=False, unique=True),
            "country": pa.Column(nullable=False, checks=pa.Check.isin(["DE", "FR", "US", "GB", "ES"])),
            "age": pa.Column(nullable=True, checks=pa.Check.in_range(18, 120)),
            "income": pa.Column(
                nullable=False,
                checks=[
                    pa.Check.ge(0),
                    _aggregate("mean_between_20000_90000", pl.col("income").mean().is_between(20000, 90000)),
                ],
            ),
            "email": pa.Column(nullable=False, checks=pa.Check.str_matches(r"^[^@\s]+@[^@\s]+$")),
            "churned": pa.Column(
                nullable=False,
                checks=_aggregate(
                    "true_rate_0.05_0.6", pl.col("churned").cast(pl.Float64).mean().is_between(0.05, 0.6)
                ),
            ),
            "snapshot_at": pa.Column(
                nullable=False, checks=_aggregate("fresh_36h", pl.col("snapshot_at").max() >= fresh_after)
            ),
        },
        checks=[
            pa.Check(lambda data: data.lazyframe.select(pl.len() >= 1000), name="row_count_min_1000"),
            pa.Check(
                lambda data: data.lazyframe.select(pl.col("age").null_count() / pl.len() <= 0.05),
                name="age_null_fraction_max_0.05",
            ),
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--table", default="main.training_set")
    parser.add_argument("--lazy", action="store_true", help="validate a LazyFrame (.pl(lazy=True))")
    args = parser.parse_args()

    start = time.perf_counter()
    con = duckdb.connect(args.db, read_only=True)
    frame: pl.DataFrame | pl.LazyFrame = con.table(args.table).pl(lazy=args.lazy)
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    failures: list[str] = []
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            validated = schema().validate(frame, lazy=True)
        # a LazyFrame stays lazy: its checks ran (each collects what it needs); no rows are loaded
        rows = validated.height if isinstance(validated, pl.DataFrame) else None
    except SchemaErrors as exc:
        cases = exc.failure_cases
        failures = sorted({f"{row['column']}:{row['check']}" for row in cases.iter_rows(named=True)})
        rows = None
    validate_s = time.perf_counter() - start
    con.close()

    print(
        json.dumps(
            {
                "method": "pandera-polars-lazy" if args.lazy else "pandera-polars",
                "import_s": round(IMPORT_S, 4),
                "load_s": round(load_s, 4),
                "validate_s": round(validate_s, 4),
                "rows": rows,
                "passed": not failures,
                "failures": failures,
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
