"""The fault-injection matrix: one defect class at a time, injected into a copy of the clean bundled
data (the session `warehouse` fixture's dbt build), validated in-process with the default engine.

Each case states exactly which checks must fail and with how many failing rows (or which
observed value); every count is also recomputed by a hand-written SQL query on the injected copy,
so dq's count is compared with one that shares none of dq's SQL. The clean copy must pass with no
failed, warned or errored check. The table the run produces is written to `.dq/reliability.md`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from dq.checks.result import Status
from dq.exit_codes import ExitCode, exit_code_for
from tests import faults

T = "main.training_set"

# A contract on the bundled training_set that the clean build meets with no warning at all, with
# one rule per defect class below. (The bundled contract tolerates 8 malformed legacy e-mails
# with a warn; here the e-mail rule is "no whitespace", which the clean data meets.)
MATRIX_CONTRACT: dict[str, Any] = {
    "contract": "fault_matrix",
    "version": "1.0.0",
    "dataset": {"table": T},
    "primary_key": ["customer_id"],
    "row_count": {"min": 1000},
    "freshness": {"column": "snapshot_at", "max_age": "36h"},
    "extra_columns": "forbid",
    "label": {"column": "churned", "class_fraction": {"min": 0.05, "max": 0.95}},
    "columns": {
        "customer_id": {"type": "bigint", "nullable": False},
        "country": {"type": "varchar", "nullable": False, "accepted_values": ["DE", "FR", "US", "GB", "ES"]},
        "age": {
            "type": "integer",
            "min": 18,
            "max": 120,
            "max_null_fraction": 0.05,
            "quantiles": {0.5: {"min": 40, "max": 70}},
        },
        "income": {"type": "double", "nullable": False, "min": 0, "mean": {"min": 20000, "max": 90000}},
        "email": {"type": "varchar", "nullable": False, "pattern": r"^\S+$"},
        "plan_id": {
            "type": "varchar",
            "nullable": False,
            "distinct_count": {"min": 3},
            "references": {"table": "main.stg_plans", "column": "plan_id"},
        },
        "monthly_price": {"type": "double", "min": 0, "max": 1000},
        "signed_up_at": {"type": "timestamp", "nullable": False},
        "first_order_at": {"type": "timestamp"},
        "n_orders": {"type": "bigint", "nullable": False, "min": 0, "max": 100},
        "total_spend": {"type": "double", "nullable": False, "min": 0},
        "n_events_30d": {"type": "bigint", "nullable": False, "min": 0},
        "n_support_events_90d": {"type": "bigint", "nullable": False, "min": 0},
        "snapshot_at": {"type": "timestamp", "nullable": False},
        "churned": {"type": "boolean", "nullable": False},
    },
    "checks": [
        {"name": "no_orders_before_signup", "sql": "select * from {dataset} where first_order_at < signed_up_at"}
    ],
}

# A compound key lives on the raw orders: (customer_id, ordered_at) identifies an order.
ORDERS_CONTRACT: dict[str, Any] = {
    "contract": "orders_matrix",
    "version": "1.0.0",
    "dataset": {"table": "raw.orders"},
    "primary_key": ["customer_id", "ordered_at"],
    "columns": {
        "order_id": {"type": "bigint", "nullable": False, "unique": True},
        "customer_id": {"type": "bigint"},
        "ordered_at": {"type": "timestamp"},
        "amount": {"type": "double"},
    },
}

# The training set reconciled with what it is built from: one row per staged customer, and the
# per-customer order aggregates summing to the feature table's (customers without orders add 0).
RECONCILE_CONTRACT: dict[str, Any] = {
    "contract": "training_set_reconciled",
    "version": "1.0.0",
    "dataset": {"table": T},
    "columns": {"customer_id": {"type": "bigint"}, "n_orders": {}, "total_spend": {}},
    "reconcile": [
        {"name": "customers", "against": {"table": "main.stg_customers"}, "row_count": {}, "key": ["customer_id"]},
        {
            "name": "orders",
            "against": {"table": "main.customer_orders"},
            "columns": {"n_orders": {"sum": {}}, "total_spend": {"sum": {"max_diff": 0.01}}},
        },
    ],
}
_NO_ORDERS = f"SELECT customer_id FROM {T} WHERE n_orders = 0 ORDER BY customer_id"
_COUNT_DIFF = f"SELECT (SELECT count(*) FROM {T}) - (SELECT count(*) FROM main.stg_customers)"
_UNMATCHED = (
    f"SELECT (SELECT count(*) FROM main.stg_customers s ANTI JOIN {T} t USING (customer_id)) + "
    f"(SELECT count(*) FROM {T}) - (SELECT count(DISTINCT customer_id) FROM {T} WHERE customer_id IN "
    "(SELECT customer_id FROM main.stg_customers))"
)

ALL_DUPLICATED_KEYS = (
    f"SELECT count(*) FROM {T} WHERE customer_id IN (SELECT customer_id FROM {T} GROUP BY 1 HAVING count(*) > 1)"
)


@dataclass(frozen=True)
class Case:
    """One defect class: how it is injected and what the gate must find."""

    defect: str
    inject: tuple[str, ...]
    # check name -> (exact failing rows or observed value | None to take the hand count, hand-written SQL)
    failed: dict[str, tuple[Any, str | None]]
    status: Status = Status.failed
    errored: dict[str, str] = field(default_factory=dict)  # check -> why it could not run (in its message)
    contract: dict[str, Any] = field(default_factory=lambda: MATRIX_CONTRACT)
    patch: Callable[[dict[str, Any]], None] | None = None
    # the classes the trust review found (issue 10) run on every engine; the row shows the first
    engines: tuple[str, ...] = ("auto",)


def _allow_extra(contract: dict[str, Any]) -> None:
    contract["extra_columns"] = "allow"


def _customer_id_max_1e17(contract: dict[str, Any]) -> None:
    contract["columns"]["customer_id"]["max"] = 100000000000000000


EVERY_ENGINE = ("auto", "pandera", "gx")


def _order_after_signup_rule(contract: dict[str, Any]) -> None:
    contract["expressions"] = [{"name": "ordered_after_signup", "expr": "first_order_at >= signed_up_at"}]


def _age_mostly_0_999(contract: dict[str, Any]) -> None:
    contract["columns"]["age"]["mostly"] = 0.999  # at most 1 row in 1,000 (the table has >= 1,000)


def _price_range_in_de_only(contract: dict[str, Any]) -> None:
    contract["columns"]["monthly_price"]["where"] = "country = 'DE'"


def _rows_in_es(contract: dict[str, Any]) -> None:
    contract["row_count"] = {"min": 1, "where": "country = 'ES'"}


_DE = f"(SELECT customer_id FROM {T} WHERE country = 'DE' ORDER BY customer_id LIMIT 3)"
_NOT_DE = f"(SELECT customer_id FROM {T} WHERE country <> 'DE' ORDER BY customer_id LIMIT 2)"


def _label_per_country(contract: dict[str, Any]) -> None:
    contract["label"] = {**contract["label"], "segments": ["country"]}


# one country's churners relabelled: the overall share stays in bounds, that country's does not
_FR_SEGMENT = [{"segment": "country='FR'", "values": {"country": "FR"}, "observed": {"false": 1.0, "true": 0.0}}]


def _not_run(column: str, *kinds: str) -> dict[str, str]:
    return {f"{column}.{kind}": f"column {column} is missing" for kind in kinds}


CASES: list[Case] = [
    Case(
        "duplicated primary key (join fan-out)",
        (f"INSERT INTO {T} SELECT * FROM {T} WHERE customer_id <= 5",),
        {"primary_key.unique": (10, ALL_DUPLICATED_KEYS)},
    ),
    Case(
        "compound-key duplicate",
        (
            "INSERT INTO raw.orders SELECT order_id + 1000000, customer_id, ordered_at, amount "
            "FROM raw.orders ORDER BY order_id LIMIT 4",
        ),
        {
            "primary_key.unique": (
                8,
                "SELECT count(*) FROM raw.orders WHERE (customer_id, ordered_at) IN "
                "(SELECT (customer_id, ordered_at) FROM raw.orders GROUP BY 1 HAVING count(*) > 1)",
            )
        },
        contract=ORDERS_CONTRACT,
    ),
    Case(
        "null in a not-null column",
        (f"UPDATE {T} SET country = NULL WHERE customer_id % 250 = 0",),
        {"country.not_null": (8, f"SELECT count(*) FROM {T} WHERE country IS NULL")},
    ),
    Case(
        "null fraction over its bound",
        (f"UPDATE {T} SET age = NULL WHERE customer_id % 10 = 0",),
        {"age.null_fraction": (None, f"SELECT round(avg(CASE WHEN age IS NULL THEN 1 ELSE 0 END), 6) FROM {T}")},
    ),
    Case(
        "value below its range",
        (f"UPDATE {T} SET age = 3 WHERE customer_id IN (2, 4, 6)",),
        {"age.range": (3, f"SELECT count(*) FROM {T} WHERE age < 18 OR age > 120")},
    ),
    Case(
        "value above its range",
        (f"UPDATE {T} SET age = 250 WHERE customer_id IN (7, 8, 9, 10)",),
        {"age.range": (4, f"SELECT count(*) FROM {T} WHERE age < 18 OR age > 120")},
    ),
    Case(
        "value outside the accepted set",
        (f"UPDATE {T} SET country = 'NL' WHERE customer_id <= 6",),
        {
            "country.accepted_values": (
                6,
                f"SELECT count(*) FROM {T} WHERE country NOT IN ('DE', 'FR', 'US', 'GB', 'ES')",
            )
        },
    ),
    Case(
        "regex mismatch",
        (f"UPDATE {T} SET email = 'user ' || customer_id || '@example.com' WHERE customer_id BETWEEN 100 AND 104",),
        {"email.pattern": (5, f"SELECT count(*) FROM {T} WHERE email LIKE '% %'")},
    ),
    Case(
        "orphan foreign key",
        (f"UPDATE {T} SET plan_id = 'platinum' WHERE customer_id % 400 = 1",),
        {
            "plan_id.references": (
                5,
                f"SELECT count(*) FROM {T} t LEFT JOIN main.stg_plans p USING (plan_id) WHERE p.plan_id IS NULL",
            )
        },
    ),
    Case(
        "row count too low",
        (f"DELETE FROM {T} WHERE customer_id > 999",),
        {"row_count": (999, f"SELECT count(*) FROM {T}")},
    ),
    Case(
        "empty table",
        (f"DELETE FROM {T}",),
        {
            "row_count": (0, f"SELECT count(*) FROM {T}"),
            "income.mean": (None, f"SELECT avg(income) FROM {T}"),
            "age.quantile_0.5": (None, f"SELECT median(age) FROM {T}"),
            "plan_id.distinct_count": (0, f"SELECT count(DISTINCT plan_id) FROM {T}"),
            "snapshot_at.freshness": (None, f"SELECT max(snapshot_at) FROM {T}"),
            "label.class_fraction": (None, f"SELECT max(churned::INT) FROM {T}"),
        },
    ),
    Case(
        "stale freshness column",
        (f"UPDATE {T} SET snapshot_at = snapshot_at - INTERVAL 3 DAY",),
        {
            "snapshot_at.freshness": (
                None,
                f"SELECT date_diff('second', max(snapshot_at), (now() AT TIME ZONE 'UTC')) / 3600.0 FROM {T}",
            )
        },
    ),
    Case(
        "a column dropped",
        (f"ALTER TABLE {T} DROP COLUMN n_support_events_90d",),
        {"n_support_events_90d.exists": ("missing", None)},
        status=Status.error,
        errored=_not_run("n_support_events_90d", "type", "not_null", "range"),
    ),
    Case(
        "a column retyped (integer -> varchar)",
        (f"ALTER TABLE {T} ALTER n_orders TYPE VARCHAR",),
        {
            "n_orders.type": (
                "VARCHAR",
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'training_set' AND column_name = 'n_orders'",
            )
        },
        # numeric bounds on a varchar would need an implicit cast: "could not validate", never a pass
        status=Status.error,
        errored={"n_orders.range": "numeric bounds need a numeric column, but n_orders is VARCHAR"},
    ),
    Case(
        "a column renamed",
        (f"ALTER TABLE {T} RENAME n_events_30d TO n_events_last_30d",),
        {"n_events_30d.exists": ("missing", None), "schema.no_extra_columns": (["n_events_last_30d"], None)},
        status=Status.error,
        errored=_not_run("n_events_30d", "type", "not_null", "range"),
    ),
    Case(
        "an extra column (forbidden)",
        (f"ALTER TABLE {T} ADD COLUMN debug_score DOUBLE",),
        {"schema.no_extra_columns": (["debug_score"], None)},
    ),
    Case(
        "an extra column (allowed)",
        (f"ALTER TABLE {T} ADD COLUMN debug_score DOUBLE",),
        {},
        status=Status.passed,
        patch=_allow_extra,
    ),
    Case(
        "mean shifted past its bound",
        (f"UPDATE {T} SET income = income * 3",),
        {"income.mean": (None, f"SELECT avg(income) FROM {T}")},
    ),
    Case(
        "median shifted past its bound",
        (f"UPDATE {T} SET age = 19 WHERE age < 65",),
        {"age.quantile_0.5": (19, f"SELECT quantile_disc(age, 0.5) FROM {T}")},
    ),
    Case(
        "distinct values collapsed",
        (f"UPDATE {T} SET plan_id = 'basic'",),
        {"plan_id.distinct_count": (1, f"SELECT count(DISTINCT plan_id) FROM {T}")},
    ),
    Case(
        "label class fraction out of bounds",
        (f"UPDATE {T} SET churned = false WHERE customer_id % 50 <> 0",),
        {"label.class_fraction": (None, f"SELECT avg(churned::INT) FROM {T}")},
    ),
    Case(
        "NaN in a not-null double column",
        (f"UPDATE {T} SET total_spend = 'NaN' WHERE customer_id IN (11, 12)",),
        # NaN is a missing value (as pandas counts it): `nullable: false` blocks it, ranges leave it alone
        {"total_spend.not_null": (2, f"SELECT count(*) FROM {T} WHERE total_spend IS NULL OR isnan(total_spend)")},
        engines=EVERY_ENGINE,
    ),
    Case(
        "case variant in a COLLATE NOCASE column",
        (
            f"ALTER TABLE {T} ALTER country TYPE VARCHAR COLLATE NOCASE",
            f"UPDATE {T} SET country = lower(country) WHERE customer_id IN (31, 32, 33)",
        ),
        {"country.accepted_values": (3, f"SELECT count(*) FROM {T} WHERE regexp_matches(country, '[a-z]')")},
        engines=EVERY_ENGINE,
    ),
    Case(
        "integer one above a bound past 2^53 (a double would round it away)",
        (f"UPDATE {T} SET customer_id = 100000000000000001 WHERE customer_id = 50",),
        {"customer_id.range": (1, f"SELECT count(*) FROM {T} WHERE customer_id > 100000000000000000")},
        patch=_customer_id_max_1e17,
        engines=EVERY_ENGINE,
    ),
    Case(
        "+inf in a double column",
        (f"UPDATE {T} SET monthly_price = 'Infinity' WHERE customer_id IN (13, 14, 15)",),
        {"monthly_price.range": (3, f"SELECT count(*) FROM {T} WHERE isinf(monthly_price)")},
    ),
    Case(
        "-inf in a double column",
        (f"UPDATE {T} SET total_spend = '-Infinity' WHERE customer_id IN (16, 17, 18, 19)",),
        {"total_spend.range": (4, f"SELECT count(*) FROM {T} WHERE isinf(total_spend)")},
    ),
    Case(
        "timestamps with time zones",
        ("SET TimeZone = 'UTC'", f"ALTER TABLE {T} ALTER snapshot_at TYPE TIMESTAMPTZ"),
        {
            "snapshot_at.type": (
                "TIMESTAMP WITH TIME ZONE",
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'training_set' AND column_name = 'snapshot_at'",
            )
        },
    ),
    Case(
        "unicode look-alike string",
        (f"UPDATE {T} SET country = 'D' || chr(1045) WHERE customer_id IN (20, 21, 22)",),  # Cyrillic Ye
        {"country.accepted_values": (3, f"SELECT count(*) FROM {T} WHERE NOT regexp_matches(country, '^[A-Z]+$')")},
    ),
    Case(
        "whitespace-only strings",
        (f"UPDATE {T} SET email = '   ' WHERE customer_id IN (23, 24)",),
        {"email.pattern": (2, f"SELECT count(*) FROM {T} WHERE trim(email) = ''")},
    ),
    Case(
        "custom SQL rule violated (order before signup)",
        (f"UPDATE {T} SET first_order_at = signed_up_at - INTERVAL 1 DAY WHERE customer_id IN (1, 3, 5)",),
        {"checks.no_orders_before_signup": (3, f"SELECT count(*) FROM {T} WHERE first_order_at < signed_up_at")},
    ),
    Case(
        "rows lost between the source and the dataset",
        (f"DELETE FROM {T} WHERE customer_id IN ({_NO_ORDERS} LIMIT 3)",),
        {"reconcile.customers.row_count": (None, _COUNT_DIFF), "reconcile.customers.key": (3, _UNMATCHED)},
        contract=RECONCILE_CONTRACT,
        engines=EVERY_ENGINE,
    ),
    Case(
        "rows fanned out between the source and the dataset",
        (f"INSERT INTO {T} SELECT * FROM {T} WHERE customer_id IN ({_NO_ORDERS} LIMIT 2)",),
        {"reconcile.customers.row_count": (None, _COUNT_DIFF), "reconcile.customers.key": (2, _UNMATCHED)},
        contract=RECONCILE_CONTRACT,
    ),
    Case(
        "an aggregate that no longer sums to its source's",
        (f"UPDATE {T} SET n_orders = n_orders + 1 WHERE customer_id = (SELECT min(customer_id) FROM {T})",),
        {
            "reconcile.orders.n_orders.sum": (
                None,
                f"SELECT (SELECT sum(n_orders) FROM {T}) - (SELECT sum(n_orders) FROM main.customer_orders)",
            )
        },
        contract=RECONCILE_CONTRACT,
    ),
    Case(
        "cross-column rule violated (an expression, and the same rule as custom SQL)",
        (f"UPDATE {T} SET first_order_at = signed_up_at - INTERVAL 1 DAY WHERE customer_id IN (3, 5, 7)",),
        {
            "expressions.ordered_after_signup": (3, f"SELECT count(*) FROM {T} WHERE first_order_at < signed_up_at"),
            "checks.no_orders_before_signup": (3, f"SELECT count(*) FROM {T} WHERE first_order_at < signed_up_at"),
        },
        patch=_order_after_signup_rule,
        engines=EVERY_ENGINE,
    ),
    Case(
        "one segment's label collapsed (per-country class balance)",
        (f"UPDATE {T} SET churned = false WHERE country = 'FR'",),
        {
            "label.class_fraction.by.country": (
                {"segments": 5, "failing": 1, "failing_segments": _FR_SEGMENT},
                f"SELECT count(*) FROM {T} WHERE country = 'FR'",
            )
        },
        patch=_label_per_country,
    ),
    Case(
        "bad rows past a rule's tolerance (mostly: 0.999)",
        (f"UPDATE {T} SET age = 5 WHERE customer_id <= 20",),
        {"age.range": (20, f"SELECT count(*) FROM {T} WHERE age < 18")},
        patch=_age_mostly_0_999,
        engines=EVERY_ENGINE,
    ),
    Case(
        "one bad row within a rule's tolerance (mostly: 0.999; declared harmless)",
        (f"UPDATE {T} SET age = 5 WHERE customer_id = 1",),
        {},
        status=Status.passed,
        patch=_age_mostly_0_999,
    ),
    Case(
        "bad rows inside a rule's where (and outside it, declared harmless)",
        (f"UPDATE {T} SET monthly_price = -1 WHERE customer_id IN {_DE} OR customer_id IN {_NOT_DE}",),
        {
            "monthly_price.range": (
                3,
                f"SELECT count(*) FROM {T} WHERE country = 'DE' AND monthly_price < 0",
            )
        },
        patch=_price_range_in_de_only,
        engines=EVERY_ENGINE,
    ),
    Case(
        "a segment emptied (row_count with where)",
        (f"DELETE FROM {T} WHERE country = 'ES'",),
        {"row_count": (0, f"SELECT count(*) FROM {T} WHERE country = 'ES'")},
        patch=_rows_in_es,
    ),
]

_rows: list[dict[str, Any]] = []


@pytest.fixture(scope="module", autouse=True)
def reliability_table() -> Iterator[None]:
    """After the module ran, write the matrix it produced (in CASES order) to .dq/reliability.md."""
    yield
    order = {case.defect: i for i, case in enumerate(CASES)}
    rows = sorted(_rows, key=lambda row: order.get(row["defect"].split(" (on ")[0], -1))
    must_block = [r for r in rows if r["must_block"]]
    faults.record(
        "fault_matrix",
        {
            "rows": rows,
            "classes": len(rows) - sum(1 for r in rows if r["defect"] == "none (the clean copy)"),
            "should_block": len(must_block),
            "blocked": sum(1 for r in must_block if r["blocked"]),
            "harmless_passed": sum(1 for r in rows if not r["must_block"] and not r["blocked"]),
            "false_passes": sum(1 for r in must_block if not r["blocked"]),
        },
    )


def _contract_file(case: Case, directory: Path, clean_db: Path) -> Path:
    document = yaml.safe_load(yaml.safe_dump(case.contract))  # a deep copy
    # Columns the dbt project gains later are declared without rules, so `extra_columns: forbid`
    # still holds on the clean build and only the injected column is extra.
    relation = document["dataset"]["table"].split(".")
    for (column,) in faults.rows(
        clean_db,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        relation,
    ):
        document["columns"].setdefault(column, {"description": "not under test here"})
    if case.patch is not None:
        case.patch(document)
    path = directory / "contract.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_clean_copy_passes_with_no_failure(warehouse: dict[str, Path], tmp_path: Path) -> None:
    db = faults.copy_db(warehouse["clean"], tmp_path)
    for contract in (MATRIX_CONTRACT, ORDERS_CONTRACT, RECONCILE_CONTRACT):
        path = _contract_file(Case("clean", (), {}, contract=contract), tmp_path, warehouse["clean"])
        result = faults.run(path, db, tmp_path)
        by_status = faults.checks_by_status(result)
        assert result.status is Status.passed, by_status
        assert set(by_status) == {"passed"}, by_status
        assert exit_code_for(result.status) is ExitCode.OK
    _rows.append(
        {
            "defect": "none (the clean copy)",
            "injection": "-",
            "checks": ["every check"],
            "result": "PASS (exit 0)",
            "found": "no failed, warned or errored check",
            "must_block": False,
            "blocked": False,
        }
    )


@pytest.mark.parametrize(
    ("case", "engine"),
    [(c, e) for c in CASES for e in c.engines],
    ids=[c.defect + ("" if len(c.engines) == 1 else f" [{e}]") for c in CASES for e in c.engines],
)
def test_injected_defect_is_blocked_by_exactly_its_check(
    case: Case, engine: str, warehouse: dict[str, Path], tmp_path: Path
) -> None:
    db = faults.copy_db(warehouse["clean"], tmp_path)
    faults.execute(db, *case.inject)
    result = faults.run(_contract_file(case, tmp_path, warehouse["clean"]), db, tmp_path, engine)
    by_status = faults.checks_by_status(result)

    assert result.status is case.status, by_status
    assert by_status.get("failed", {}).keys() == case.failed.keys(), by_status
    assert by_status.get("error", {}).keys() == case.errored.keys(), by_status
    assert not by_status.get("warned"), by_status
    for name, why in case.errored.items():
        message = next(c.message for c in result.contracts[0].checks if c.name == name)
        assert why in message, message

    shown = []
    for name, (exact, hand_sql) in case.failed.items():
        found = by_status["failed"][name]
        hand = faults.scalar(db, hand_sql) if hand_sql else exact
        if ".by." in name:  # a per-segment check: its failing segments exactly, their rows by hand
            rows = [entry.pop("rows") for entry in found["failing_segments"]]
            assert (found, rows) == (exact, [hand]), (name, found, rows, hand)
            named = ", ".join(
                f"{e['segment']} ({n} rows)" for e, n in zip(found["failing_segments"], rows, strict=True)
            )
            shown.append(f"{name}: {found['failing']} of {found['segments']} segments fail, {named} = {hand} rows")
            continue
        elif exact is not None:
            assert found == exact, (name, found)
        if isinstance(found, dict) and "diff" in found:  # a reconciliation: both sides and their difference
            assert found["diff"] == hand and hand != 0, (name, found, hand)
        elif name == "snapshot_at.freshness" and hand is not None:
            assert found == pytest.approx(float(hand), abs=0.05), (name, found, hand)
        elif name == "label.class_fraction" and hand is not None:
            assert min(found.values()) == pytest.approx(min(float(hand), 1 - float(hand)), abs=1e-6)
        elif hand_sql is not None and exact is None and hand is not None:
            assert float(found) == pytest.approx(float(hand), rel=1e-9), (name, found, hand)
        elif hand_sql is not None and exact is None:
            assert found is None, (name, found)  # nothing to aggregate: the bound cannot hold
        elif hand_sql is not None:
            assert _same(found, hand), (name, found, hand)
        shown.append(f"{name}: {_show(found)} = {_show(hand)}")

    blocked = result.status.blocks
    code = exit_code_for(result.status)
    assert blocked is (case.status is not Status.passed)
    if engine != case.engines[0]:
        return  # one row per class: the first engine's; the others asserted the same above
    _rows.append(
        {
            "defect": case.defect + ("" if len(case.engines) == 1 else f" (on {', '.join(case.engines)})"),
            "injection": "; ".join(s for s in case.inject if not s.startswith("SET ")),
            "checks": list(case.failed) or ["(none: extra columns allowed)"],
            "result": f"{'BLOCK' if blocked else 'PASS'} ({result.status.value}, exit {int(code)})",
            "found": "; ".join(shown) or "-",
            "must_block": case.status is not Status.passed,
            "blocked": blocked,
        }
    )


def _same(found: Any, hand: Any) -> bool:
    if isinstance(found, float) or isinstance(hand, float):
        return math.isclose(float(found), float(hand), rel_tol=1e-9)
    return bool(found == hand)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


@pytest.mark.parametrize("engine", ["auto", "pandera", "gx"])
@pytest.mark.parametrize(
    "bounds, failing",
    [
        ({"min": 0}, 1),  # -inf
        ({"max": 10}, 1),  # +inf
        ({"min": 0, "max": 10}, 2),  # +inf and -inf
    ],
)
def test_nan_is_missing_and_infinities_are_outside_every_range_on_every_engine(
    engine: str, bounds: dict[str, float], failing: int, make_db: Callable[..., Path], tmp_path: Path
) -> None:
    """NaN is a missing value (as pandas, Pandera and GX on pandas count it): only `nullable:
    false` and `max_null_fraction` see it, exactly as they see NULL. +-inf are values, outside
    every finite range."""
    db = make_db(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1.0), ('NaN'::DOUBLE), ('Infinity'::DOUBLE), "
        "('-Infinity'::DOUBLE), (NULL)) v(x)"
    )
    contract = tmp_path / "nan.yml"
    contract.write_text(
        yaml.safe_dump(
            {
                "contract": "nan",
                "version": "1.0.0",
                "dataset": {"table": "main.t"},
                "columns": {"x": {"type": "double", "nullable": False, **bounds}},
            }
        ),
        encoding="utf-8",
    )
    result = faults.run(contract, db, tmp_path, engine)
    assert faults.checks_by_status(result).get("failed") == {"x.range": failing, "x.not_null": 2}


def _row_defect(case: Case) -> bool:
    """A defect that only rules `dq gate --quarantine` sets rows aside by can see."""
    from dq.checks.compile import compile_contract
    from dq.contract.model import Contract, Severity
    from dq.gate.quarantine import QUARANTINED_KINDS

    if case.status is not Status.failed or case.errored or not case.failed:
        return False
    document = yaml.safe_load(yaml.safe_dump(case.contract))
    if case.patch is not None:
        case.patch(document)
    specs = {s.name: s for s in compile_contract(Contract.model_validate(document))}
    return all(
        name in specs and specs[name].kind in QUARANTINED_KINDS and specs[name].severity is Severity.error
        for name in case.failed
    )


@pytest.mark.parametrize("case", [c for c in CASES if _row_defect(c)], ids=lambda c: c.defect)
def test_quarantine_sets_aside_exactly_the_rows_of_a_row_defect(
    case: Case, warehouse: dict[str, Path], tmp_path: Path
) -> None:
    """The same injections under `dq gate --quarantine` (in process, the gate's own snapshot hook):
    each rule sets aside exactly the rows the hand-written SQL counts, every other rule none, no row
    is lost, and the rows kept pass every check."""
    from dq.gate.run import SnapshotWriter
    from dq.run.runner import validate

    db = faults.copy_db(warehouse["clean"], tmp_path)
    faults.execute(db, *case.inject)
    path = _contract_file(case, tmp_path, warehouse["clean"])
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**document, "quarantine": {"max_fraction": 1}}, sort_keys=False), encoding="utf-8")
    writer = SnapshotWriter(tmp_path / "snaps", quarantine=True)
    result = validate([path], faults.settings(db, tmp_path), on_validated=writer)
    found = result.contracts[0].quarantine
    assert result.status is Status.passed and found is not None, faults.checks_by_status(result)
    hand = {name: faults.scalar(db, sql) if sql else exact for name, (exact, sql) in case.failed.items()}
    assert {name: n for name, n in found["by_check"].items() if n} == hand
    assert found["rows_checked"] == faults.scalar(db, f"SELECT count(*) FROM {case.contract['dataset']['table']}")
    assert found["rows_kept"] + found["rows_quarantined"] == found["rows_checked"]
    if len(hand) == 1:
        assert found["rows_quarantined"] == next(iter(hand.values()))
    assert writer.written[0].row_count == found["rows_kept"]


def _judged_against_history(contract: dict[str, Any]) -> None:
    contract["anomalies"] = [{"metric": "row_count", "min_history": 5}]
    contract["change_from_last"] = [{"metric": "row_count", "max_pct": 10}]


HISTORY_CASE = Case(
    "a volume drop against the results history (anomalies, change_from_last on row_count)",
    (f"DELETE FROM {T} WHERE customer_id % 10 < 3",),
    {
        "anomalies.row_count": (None, f"SELECT count(*) FROM {T}"),
        "change_from_last.row_count": (None, f"SELECT count(*) FROM {T}"),
    },
    patch=_judged_against_history,
)


@pytest.mark.parametrize("engine", EVERY_ENGINE)
def test_a_volume_drop_is_caught_against_the_history_of_clean_runs(
    engine: str, warehouse: dict[str, Path], tmp_path: Path
) -> None:
    """Five clean runs build the history; a sixth clean run passes; then 30% of the rows go and
    both history rules block, observing exactly the row count a hand-written count(*) gives. Every
    engine routes them to pandera-batch, which alone reads the history."""
    db = faults.copy_db(warehouse["clean"], tmp_path)
    contract = _contract_file(HISTORY_CASE, tmp_path, warehouse["clean"])
    for run in range(6):
        result = faults.run(contract, db, tmp_path, engine)
        statuses = {c.name: c.status for c in result.contracts[0].checks if c.name.endswith("row_count")}
        expected = Status.warned if run < 5 else Status.passed  # too short a history warns, never passes
        assert statuses["anomalies.row_count"] is expected, (run, statuses)
    faults.execute(db, *HISTORY_CASE.inject)
    result = faults.run(contract, db, tmp_path, engine)
    failed = faults.checks_by_status(result).get("failed", {})
    hand = faults.scalar(db, f"SELECT count(*) FROM {T}")
    assert failed == {"anomalies.row_count": hand, "change_from_last.row_count": hand}, failed
    assert exit_code_for(result.status) is ExitCode.CHECKS_FAILED
