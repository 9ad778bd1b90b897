"""The floor: every aggregate bench/contract.yml needs, in ONE hand-written SQL statement.

    python bench/floor.py --db FILE [--table main.training_set] [--scan]

`floor` runs a single pass over the table computing null counts, range / accepted-values / regex
violation counts, the row count, avg(income), avg(churned::int), max(snapshot_at), age's null
fraction and count(DISTINCT customer_id) vs count(customer_id) for the key, then compares them with
the contract's thresholds (hard-coded here, as a user would). It is the lower bound for what any
engine can do with the same checks on the same DuckDB file, with DuckDB's default settings.

`--scan` is the bare full scan: `SELECT count(*), bit_xor(hash(<all 14 columns>))`. A plain
`count(*)` would be answered without reading any column, and per-column `count(col)` / `min(col)`
can be shortcut by DuckDB's statistics; hashing every column of every row forces every value of
every column to be read and decoded (the hash itself is cheap next to the decode).

`--copy-to FILE.parquet` then writes the table with a plain `COPY (SELECT * FROM table) TO FILE
(FORMAT parquet)` in the same process: the floor of a gate, which validates and hands training a
Parquet snapshot (dq gate's own bench row is compared with this).

Prints one JSON line: {"method", "query_s", "passed", "failures", "observed"} (and "copy_s"); exits 0
when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

COLUMNS = (
    "customer_id",
    "country",
    "age",
    "income",
    "email",
    "plan_id",
    "monthly_price",
    "signed_up_at",
    "first_order_at",
    "n_orders",
    "total_spend",
    "n_events_30d",
    "snapshot_at",
    "churned",
)

FLOOR_SQL = r"""
SELECT
    count(*)                                                          AS n_rows,
    count(*) - count(customer_id)                                     AS customer_id_nulls,
    count(DISTINCT customer_id)                                       AS customer_id_distinct,
    count(customer_id)                                                AS customer_id_count,
    count(*) - count(country)                                         AS country_nulls,
    count(*) FILTER (WHERE country NOT IN ('DE', 'FR', 'US', 'GB', 'ES'))  AS country_not_accepted,
    count(*) FILTER (WHERE age < 18 OR age > 120)                     AS age_out_of_range,
    (count(*) - count(age)) / count(*)                                AS age_null_fraction,
    count(*) - count(income)                                          AS income_nulls,
    count(*) FILTER (WHERE income < 0 OR isnan(income))               AS income_below_min,
    avg(income)                                                       AS income_mean,
    count(*) - count(email)                                           AS email_nulls,
    count(*) FILTER (WHERE NOT regexp_matches(email, '^[^@\s]+@[^@\s]+$'))  AS email_not_matching,
    count(*) - count(churned)                                         AS churned_nulls,
    avg(churned::INTEGER)                                             AS churned_mean,
    count(*) - count(snapshot_at)                                     AS snapshot_at_nulls,
    max(snapshot_at)                                                  AS snapshot_at_max
FROM {table}
"""


def scan_sql(table: str) -> str:
    return f"SELECT count(*) AS n_rows, bit_xor(hash({', '.join(COLUMNS)})) AS digest FROM {table}"


def evaluate(obs: dict[str, Any]) -> list[str]:
    """The contract's thresholds (bench/contract.yml), applied to the observed aggregates."""
    n = obs["n_rows"]
    max_age = timedelta(hours=36)
    now = datetime.now(UTC).replace(tzinfo=None)
    newest = obs["snapshot_at_max"]
    failed = {
        "row_count": n < 1000,
        "primary_key": obs["customer_id_nulls"] != 0 or obs["customer_id_distinct"] != obs["customer_id_count"],
        "country.not_null": obs["country_nulls"] != 0,
        "country.accepted_values": obs["country_not_accepted"] != 0,
        "age.range": obs["age_out_of_range"] != 0,
        "age.null_fraction": n == 0 or obs["age_null_fraction"] > 0.05,
        "income.not_null": obs["income_nulls"] != 0,
        "income.range": obs["income_below_min"] != 0,
        "income.mean": obs["income_mean"] is None or not 20000 <= obs["income_mean"] <= 90000,
        "email.not_null": obs["email_nulls"] != 0,
        "email.pattern": obs["email_not_matching"] != 0,
        "churned.not_null": obs["churned_nulls"] != 0,
        "churned.mean": obs["churned_mean"] is None or not 0.05 <= obs["churned_mean"] <= 0.6,
        "snapshot_at.not_null": obs["snapshot_at_nulls"] != 0,
        "snapshot_at.freshness": newest is None or now - newest > max_age,
    }
    return [name for name, bad in failed.items() if bad]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--table", default="main.training_set")
    parser.add_argument("--scan", action="store_true", help="bare full scan of every column instead")
    parser.add_argument("--copy-to", help="then COPY the table to this Parquet file (a gate's floor)")
    args = parser.parse_args()

    con = duckdb.connect(args.db, read_only=True)
    start = time.perf_counter()
    cursor = con.execute(scan_sql(args.table) if args.scan else FLOOR_SQL.format(table=args.table))
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    query_s = time.perf_counter() - start
    copy_s = None
    if args.copy_to:
        start = time.perf_counter()
        target = args.copy_to.replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {args.table}) TO '{target}' (FORMAT parquet)")
        copy_s = round(time.perf_counter() - start, 4)
    con.close()
    assert row is not None
    obs = dict(zip(names, row, strict=True))
    failures = [] if args.scan else evaluate(obs)
    print(
        json.dumps(
            {
                "method": "scan" if args.scan else "floor-copy" if args.copy_to else "floor",
                "query_s": round(query_s, 4),
                "copy_s": copy_s,
                "passed": not failures,
                "failures": failures,
                "observed": {k: v if isinstance(v, int | float | str | None) else str(v) for k, v in obs.items()},
            }
        )
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
