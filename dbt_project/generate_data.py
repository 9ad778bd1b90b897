"""Deterministic raw-data generator for the bundled ``dq_demo`` dbt project.

Writes schema ``raw`` (customers, plans, orders, events, labels, crm_flags, eval_customers,
snapshot_meta) into a DuckDB file.
All rows are produced inside DuckDB from ``range(N)`` and ``hash()``, so ten million
customers take seconds, and the same arguments always give identical table contents.
Every timestamp is relative to ``as_of`` (default: now, UTC, truncated to the hour).

``--variant broken`` injects real defects that the downstream models carry into the
training set: a duplicated plan row (join fan-out), 30% NULL ages, out-of-range ages and
incomes, an orphan plan id, orders before signup, orphan refund orders, and an as_of ten
days in the past (stale snapshot).

``--variant drifted`` is fresh and passes the schema-level rules a data engineer writes, but is
wrong for training: incomes shifted up by 60%, a new country ('IT', 15% of customers), the label
flipped (churn rate ~ 1 - the clean rate), a leaked feature (``retention_offer`` agrees with the
label for 99.5% of customers; in the clean data it is an independent 10% flag), 20% of the
evaluation customers also in the training set, and 5% of events observed after the label time.

Labels are raw data (``raw.labels``: churned, label_ts), as an outcome table would be; the clean
label is a logistic score of the customer's orders, recent and support events and plan price.

    python dbt_project/generate_data.py --db dbt_project/warehouse.duckdb
    python dbt_project/generate_data.py --db /tmp/broken.duckdb --variant broken --customers 100000
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import duckdb

# u(i, salt): a deterministic pseudo-uniform number in (0, 1).
MACROS = """
CREATE OR REPLACE TEMP MACRO u(i, salt) AS ((hash(i, salt) % 1000000)::DOUBLE + 0.5) / 1000000.0;
"""


def parse_as_of(value: str | None) -> datetime:
    """Return a naive UTC timestamp: the given ISO time, or now truncated to the hour."""
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def build_sql(n: int, as_of: datetime, broken: bool, drifted: bool = False) -> list[str]:
    """The statements that (re)create schema raw."""
    b = "TRUE" if broken else "FALSE"
    d = "TRUE" if drifted else "FALSE"
    ts = f"TIMESTAMP '{as_of.isoformat(sep=' ')}'"
    n_orphan_orders = max(10, n // 500) if broken else 0
    pro_dup = "UNION ALL SELECT 'pro', 39.0" if broken else ""
    return [
        "DROP SCHEMA IF EXISTS raw CASCADE",
        "CREATE SCHEMA raw",
        f"CREATE TABLE raw.snapshot_meta AS SELECT {ts} AS as_of",
        # broken: 'pro' appears twice -> joining customers to plans duplicates customers.
        f"""CREATE TABLE raw.plans AS
        SELECT plan_id::VARCHAR AS plan_id, monthly_price::DOUBLE AS monthly_price
        FROM (VALUES ('basic', 9.0), ('plus', 19.0), ('pro', 29.0), ('team', 79.0),
                     ('enterprise', 249.0)) v(plan_id, monthly_price)
        {pro_dup}""",
        f"""CREATE TABLE raw.customers AS
        WITH base AS (
            SELECT i + 1 AS customer_id, u(i, 1) AS u_country, u(i, 2) AS u_age_null,
                   u(i, 3) AS u_age, u(i, 4) AS u1, u(i, 5) AS u2, u(i, 6) AS u_email,
                   u(i, 7) AS u_plan, u(i, 8) AS u_signup, u(i, 9) AS u_defect
            FROM range({n}) t(i)
        )
        SELECT
            customer_id::BIGINT AS customer_id,
            CASE WHEN {d} AND u_defect < 0.15 THEN 'IT'
                 WHEN u_country < 0.30 THEN 'DE' WHEN u_country < 0.50 THEN 'FR'
                 WHEN u_country < 0.75 THEN 'US' WHEN u_country < 0.90 THEN 'GB' ELSE 'ES' END
                AS country,
            CASE WHEN u_age_null < (CASE WHEN {b} THEN 0.30 ELSE 0.01 END) THEN NULL
                 WHEN {b} AND u_defect < 0.01 THEN 150
                 ELSE 18 + floor(u_age * 73)::INTEGER END::INTEGER AS age,
            round(CASE WHEN {b} AND u_defect >= 0.99 THEN -1 WHEN {d} THEN 1.6 ELSE 1 END
                  * exp(10.7 + 0.5 * sqrt(-2 * ln(u1)) * cos(2 * pi() * u2)), 2)::DOUBLE AS income,
            CASE WHEN u_email < 0.005 THEN 'user' || customer_id || '.example.com'
                 ELSE 'user' || customer_id || '@example.com' END AS email,
            CASE WHEN {b} AND u_defect BETWEEN 0.02 AND 0.04 THEN 'legacy'
                 WHEN u_plan < 0.40 THEN 'basic' WHEN u_plan < 0.65 THEN 'plus'
                 WHEN u_plan < 0.85 THEN 'pro' WHEN u_plan < 0.95 THEN 'team' ELSE 'enterprise' END
                AS plan_id,
            ({ts} - to_seconds((30 + floor(u_signup * 1065 * 86400))::BIGINT))::TIMESTAMP
                AS signed_up_at
        FROM base
        ORDER BY customer_id""",
        # 0-4 orders per customer (mean 2), strictly between signup and as_of.
        # broken: 2% of orders land before signup; orphan refunds for unknown customers.
        f"""CREATE TABLE raw.orders AS
        WITH slots AS (
            SELECT c.customer_id, c.signed_up_at, k,
                   u(c.customer_id, 100) AS u_n, u(c.customer_id * 8 + k, 101) AS u_t,
                   u(c.customer_id * 8 + k, 102) AS u_amt, u(c.customer_id * 8 + k, 103) AS u_defect
            FROM raw.customers c CROSS JOIN range(5) r(k)
        ), orders AS (
            SELECT (customer_id * 8 + k)::BIGINT AS order_id, customer_id::BIGINT AS customer_id,
                   CASE WHEN {b} AND u_defect < 0.02
                        THEN signed_up_at - to_seconds((3600 + floor(u_t * 30 * 86400))::BIGINT)
                        ELSE signed_up_at + to_seconds(floor(
                             u_t * (epoch({ts}) - epoch(signed_up_at)))::BIGINT)
                   END::TIMESTAMP AS ordered_at,
                   round(5 + 195 * u_amt * u_amt, 2)::DOUBLE AS amount
            FROM slots WHERE k < floor(u_n * 5)
            UNION ALL
            SELECT (-(i + 1))::BIGINT, ({n} + 1 + i)::BIGINT,
                   ({ts} - to_seconds((86400 * (1 + i % 60))::BIGINT))::TIMESTAMP,
                   -round(20 + 100 * u(i, 104), 2)::DOUBLE
            FROM range({n_orphan_orders}) t(i)
        )
        SELECT * FROM orders ORDER BY order_id""",
        # 0-6 events per customer (mean 3) within the 90 days before as_of.
        # drifted: 5% of events happen after as_of, i.e. after the label time (a feature from the future).
        f"""CREATE TABLE raw.events AS
        SELECT (c.customer_id * 8 + k)::BIGINT AS event_id, c.customer_id::BIGINT AS customer_id,
               CASE WHEN {d} AND u(c.customer_id * 8 + k, 203) < 0.05
                    THEN {ts} + to_seconds((3600 + floor(u(c.customer_id * 8 + k, 204) * 5 * 86400))::BIGINT)
                    ELSE {ts} - to_seconds(floor(u(c.customer_id * 8 + k, 201) * 90 * 86400)::BIGINT)
               END::TIMESTAMP AS event_at,
               CASE WHEN u(c.customer_id * 8 + k, 202) < 0.35 THEN 'login'
                    WHEN u(c.customer_id * 8 + k, 202) < 0.75 THEN 'view'
                    WHEN u(c.customer_id * 8 + k, 202) < 0.93 THEN 'click' ELSE 'support' END
                   AS event_type
        FROM raw.customers c CROSS JOIN range(7) r(k)
        WHERE k < floor(u(c.customer_id, 200) * 7)
        ORDER BY event_id""",
        # The label, observed at as_of: a logistic score of the features plus hash noise.
        # drifted: flipped.
        f"""CREATE TABLE raw.labels AS
        WITH o AS (SELECT customer_id, count(*) AS n FROM raw.orders GROUP BY 1),
        a AS (SELECT customer_id,
                     count(*) FILTER (WHERE event_at >= {ts} - INTERVAL 30 DAY) AS n_30d,
                     count(*) FILTER (WHERE event_type = 'support' AND event_at >= {ts} - INTERVAL 90 DAY)
                         AS n_support_90d
              FROM raw.events GROUP BY 1),
        p AS (SELECT plan_id, max(monthly_price) AS price FROM raw.plans GROUP BY 1)
        SELECT c.customer_id,
               ((1.0 / (1.0 + exp(-(-0.9 - 0.45 * coalesce(o.n, 0) - 0.25 * coalesce(a.n_30d, 0)
                                    + 0.9 * coalesce(a.n_support_90d, 0)
                                    + CASE WHEN coalesce(p.price, 0) <= 9 THEN 0.4 ELSE 0.0 END)))
                 > (hash(c.customer_id, 'churn') % 1000000)::DOUBLE / 1000000.0) <> {d})::BOOLEAN AS churned,
               {ts} AS label_ts
        FROM raw.customers c
        LEFT JOIN o ON o.customer_id = c.customer_id
        LEFT JOIN a ON a.customer_id = c.customer_id
        LEFT JOIN p ON p.plan_id = c.plan_id
        ORDER BY c.customer_id""",
        # CRM flags. drifted: the retention offer is sent to churners, i.e. it leaks the label.
        f"""CREATE TABLE raw.crm_flags AS
        SELECT l.customer_id,
               CASE WHEN {d} THEN l.churned <> (u(l.customer_id, 300) < 0.005)
                    ELSE u(l.customer_id, 300) < 0.10 END AS retention_offer
        FROM raw.labels l ORDER BY l.customer_id""",
        # Customers held out for evaluation: ids after the training customers.
        # drifted: 20% of them are training customers (train/eval overlap).
        f"""CREATE TABLE raw.eval_customers AS
        SELECT DISTINCT CASE WHEN {d} AND u(i, 400) < 0.20 THEN 1 + hash(i, 401) % {n}
                             ELSE {n} + 1 + i END::BIGINT AS customer_id
        FROM range({max(1, n // 4)}) t(i)
        ORDER BY customer_id""",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="DuckDB file to write (schema raw is replaced)")
    parser.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    parser.add_argument("--variant", choices=["clean", "broken", "drifted"], default="clean")
    parser.add_argument("--as-of", default=None, help="ISO timestamp (default: now, UTC, hour)")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be >= 1")

    as_of = parse_as_of(args.as_of)
    broken = args.variant == "broken"
    if broken:
        as_of -= timedelta(days=10)  # stale snapshot: freshness must fail

    start = time.perf_counter()
    con = duckdb.connect(args.db)
    try:
        con.execute(MACROS)
        con.execute("BEGIN")
        for stmt in build_sql(args.customers, as_of, broken, drifted=args.variant == "drifted"):
            con.execute(stmt)
        con.execute("COMMIT")
        counts = {
            t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]  # type: ignore[index]
            for t in ("customers", "plans", "orders", "events", "labels", "eval_customers")
        }
    finally:
        con.close()
    elapsed = time.perf_counter() - start
    summary = ", ".join(f"{t}={c}" for t, c in counts.items())
    print(f"raw data ({args.variant}, as_of={as_of.isoformat()}) -> {args.db}: {summary} [{elapsed:.1f}s]")


if __name__ == "__main__":
    main()
