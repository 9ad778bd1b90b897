"""Plain pointblank, as a user would write it without dq, on its DuckDB path (through Ibis).

    python bench/pointblank_peer.py --db FILE [--table main.training_set]

The table is an Ibis table of a read-only DuckDB connection, so pointblank's checks run as SQL
inside DuckDB (one query or more per step), not on a DataFrame. The steps are bench/contract.yml's
rules. Prints one JSON line {"method", "import_s", "load_s", "validate_s", "rows", "passed",
"failures"}; exits 0 when every step passes, 1 otherwise.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402 - the imports are timed
import json  # noqa: E402
import sys  # noqa: E402
from datetime import timedelta  # noqa: E402

import ibis  # noqa: E402
import pointblank as pb  # noqa: E402

IMPORT_S = time.perf_counter() - _T0


def validation(table: object) -> pb.Validate:
    # a step fails at its first failing row (error=1), the null fraction at 5% of rows
    steps = pb.Validate(data=table, tbl_name="training_set", thresholds=pb.Thresholds(error=1))
    for column in ("customer_id", "country", "income", "email", "churned", "snapshot_at"):
        steps = steps.col_vals_not_null(columns=column)
    return (
        steps.rows_distinct(columns_subset=["customer_id"])
        .col_vals_in_set(columns="country", set=["DE", "FR", "US", "GB", "ES"])
        .col_vals_between(columns="age", left=18, right=120, na_pass=True)
        .col_vals_not_null(columns="age", thresholds=pb.Thresholds(error=0.05))  # max_null_fraction 0.05
        .col_vals_ge(columns="income", value=0)
        .col_avg_ge(columns="income", value=20000)
        .col_avg_le(columns="income", value=90000)
        .col_vals_regex(columns="email", pattern=r"^[^@\s]+@[^@\s]+$")
        .col_avg_ge(columns="churned", value=0.05)
        .col_avg_le(columns="churned", value=0.6)
        .data_freshness(column="snapshot_at", max_age=timedelta(hours=36))
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--table", default="main.training_set")
    args = parser.parse_args()

    start = time.perf_counter()
    con = ibis.duckdb.connect(args.db, read_only=True)
    schema, name = args.table.split(".", 1) if "." in args.table else ("main", args.table)
    table = con.table(name, database=schema)
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    interrogated = validation(table).interrogate()
    rows = int(table.count().execute())
    # row_count: {min: 1000} (pointblank's row_count_match is an equality)
    failures = ["row_count"] if rows < 1000 else []
    validate_s = time.perf_counter() - start
    report = json.loads(interrogated.get_json_report())
    failures += [
        f"{step.get('assertion_type')}:{step.get('column')}"
        for step in report
        if step.get("error") or step.get("eval_error")
    ]
    con.disconnect()

    print(
        json.dumps(
            {
                "method": "pointblank",
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
