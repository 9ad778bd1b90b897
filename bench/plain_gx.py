"""Plain Great Expectations, as a user would write it without dq: load into pandas, validate.

    python bench/plain_gx.py --db FILE [--table main.training_set]

The rules are bench/contract.yml's, hand-written as a GX 1.x expectation suite, validated on a
pandas datasource (ephemeral context, whole-dataframe batch). Prints one JSON line
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
import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402

IMPORT_S = time.perf_counter() - _T0


def suite() -> gx.ExpectationSuite:
    fresh_after = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=36)
    expectations = [
        # primary key
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
        # not null x5
        *(
            gxe.ExpectColumnValuesToNotBeNull(column=c)
            for c in ("country", "income", "email", "churned", "snapshot_at")
        ),
        gxe.ExpectColumnValuesToBeInSet(column="country", value_set=["DE", "FR", "US", "GB", "ES"]),
        gxe.ExpectColumnValuesToBeBetween(column="age", min_value=18, max_value=120),
        gxe.ExpectColumnValuesToNotBeNull(column="age", mostly=0.95),  # max_null_fraction 0.05
        gxe.ExpectColumnValuesToBeBetween(column="income", min_value=0),
        gxe.ExpectColumnMeanToBeBetween(column="income", min_value=20000, max_value=90000),
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex=r"^[^@\s]+@[^@\s]+$"),
        gxe.ExpectColumnMeanToBeBetween(column="churned", min_value=0.05, max_value=0.6),
        gxe.ExpectTableRowCountToBeBetween(min_value=1000),
        gxe.ExpectColumnMaxToBeBetween(column="snapshot_at", min_value=fresh_after),  # freshness 36h
    ]
    result = gx.ExpectationSuite(name="bench_training_set")
    for expectation in expectations:
        result.add_expectation(expectation)
    return result


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
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("training_set")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(suite())
    validate_s = time.perf_counter() - start

    failures = []
    for r in result.results:
        if not r.success:
            failure = f"{r.expectation_config.type}:{r.expectation_config.kwargs.get('column', 'table')}"
            if r.exception_info.get("raised_exception"):
                failure += f" ({r.exception_info.get('exception_message')})"
            failures.append(failure)
    print(
        json.dumps(
            {
                "method": "plain-gx",
                "import_s": round(IMPORT_S, 4),
                "load_s": round(load_s, 4),
                "validate_s": round(validate_s, 4),
                "rows": len(df),
                "passed": bool(result.success),
                "failures": failures,
            }
        )
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
