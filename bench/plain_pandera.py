"""Plain Pandera, as a user would write it without dq: load the table into pandas, validate it.

    python bench/plain_pandera.py --db FILE [--table main.training_set]

The rules are bench/contract.yml's, hand-written as a `pandera.pandas.DataFrameSchema` (lazy, so
every check runs and every failure is collected). Prints one JSON line
{"method", "import_s", "load_s", "validate_s", "rows", "passed", "failures"}; exits 0 when the data
passes, 1 otherwise.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402 - the imports are timed
import json  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import pandera.pandas as pa  # noqa: E402
from pandera.errors import SchemaErrors  # noqa: E402

IMPORT_S = time.perf_counter() - _T0


def schema() -> pa.DataFrameSchema:
    fresh_after = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=36))
    return pa.DataFrameSchema(
        {
            "customer_id": pa.Column(nullable=False, unique=True),
            "country": pa.Column(nullable=False, checks=pa.Check.isin(["DE", "FR", "US", "GB", "ES"])),
            "age": pa.Column(nullable=True, checks=pa.Check.in_range(18, 120)),
            "income": pa.Column(
                nullable=False,
                checks=[
                    pa.Check.ge(0),
                    pa.Check(lambda s: 20000 <= s.mean() <= 90000, name="mean_between_20000_90000"),
                ],
            ),
            "email": pa.Column(nullable=False, checks=pa.Check.str_matches(r"^[^@\s]+@[^@\s]+$")),
            "churned": pa.Column(
                nullable=False, checks=pa.Check(lambda s: 0.05 <= s.mean() <= 0.6, name="true_rate_0.05_0.6")
            ),
            "snapshot_at": pa.Column(
                nullable=False, checks=pa.Check(lambda s: s.max() >= fresh_after, name="fresh_36h")
            ),
        },
        checks=[
            pa.Check(lambda df: len(df) >= 1000, name="row_count_min_1000"),
            pa.Check(lambda df: df["age"].isna().mean() <= 0.05, name="age_null_fraction_max_0.05"),
        ],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--table", default="main.training_set")
    args = parser.parse_args()

    start = time.perf_counter()
    with duckdb.connect(args.db, read_only=True) as con:
        df = con.table(args.table).df()
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    failures: list[str] = []
    try:
        schema().validate(df, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        pairs = zip(cases["column"], cases["check"], strict=True)
        failures = sorted({f"{column}:{check}" for column, check in pairs})
    validate_s = time.perf_counter() - start

    print(
        json.dumps(
            {
                "method": "plain-pandera",
                "import_s": round(IMPORT_S, 4),
                "load_s": round(load_s, 4),
                "validate_s": round(validate_s, 4),
                "rows": len(df),
                "passed": not failures,
                "failures": failures,
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
