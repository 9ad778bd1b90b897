"""One valid spec of every check kind, for tests that go over all kinds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dq.checks.kinds import CheckKind
from dq.checks.relation import Relation
from dq.checks.spec import CheckSpec
from dq.contract.model import Severity

K = CheckKind
_REF = {"model": None, "table": "main.other", "dataset": "other", "relation": Relation("main", "other")}
SAMPLE_ARGS: dict[CheckKind, dict[str, Any]] = {
    K.column_exists: {},
    K.column_type: {"type": "BIGINT"},
    K.no_extra_columns: {"allowed": ("c", "d")},
    K.not_null: {},
    K.unique: {},
    K.between: {"min": 0, "max": Decimal("9.5")},
    K.accepted_values: {"values": ("a", "b")},
    K.pattern: {"regex": "^[a-z]+$"},
    K.length: {"min": 1, "max": 8},
    K.references: {**_REF, "ref_column": "id"},
    K.custom_sql: {"sql": "select * from {dataset} where c < 0"},
    K.row_count: {"min": 1},
    K.null_fraction: {"max": Decimal("0.05")},
    K.distinct_count: {"min": 2},
    K.mean: {"min": 0, "max": 10},
    K.stddev: {"max": 3},
    K.quantile: {"q": Decimal("0.5"), "min": 0, "max": 10},
    K.freshness: {"max_age_seconds": 86400.0},
    K.label_class_fraction: {"min": Decimal("0.1"), "only": "yes"},
    K.correlation_with_label: {"max": Decimal("0.9")},
    K.categorical_determines_label: {"max": Decimal("0.9")},
    K.drift_psi: {"reference": "profiles/p.json", "max": Decimal("0.2")},
    K.drift_ks: {"reference": "profiles/p.json", "max": Decimal("0.2")},
    K.drift_chi2: {"reference": "profiles/p.json", "min": Decimal("0.01")},
    K.drift_linf: {"reference": "profiles/p.json", "max": Decimal("0.2")},
    K.disjoint_keys: {k: v for k, v in _REF.items()},
    K.feature_before_label: {},
    K.expression: {"expr": "c <= d -- a comment"},
    K.reconcile_row_count: {**_REF, "max_diff": 1},
    K.reconcile_keys: dict(_REF),
    K.reconcile_sum: {**_REF, "max_diff_pct": Decimal("0.5")},
    K.reconcile_mean: {**_REF, "max_diff": Decimal("0.01"), "max_diff_pct": 1},
}
# columns of `SAMPLE_TABLE`: c, d BIGINT, s VARCHAR, ts TIMESTAMP (default: c)
SAMPLE_COLUMNS: dict[CheckKind, tuple[str, ...]] = {
    K.feature_before_label: ("c", "d"),
    K.row_count: (),
    K.reconcile_row_count: (),
    K.custom_sql: (),
    K.expression: (),
    K.accepted_values: ("s",),
    K.pattern: ("s",),
    K.length: ("s",),
    K.freshness: ("ts",),
}
SAMPLE_TABLE = (
    "CREATE TABLE main.t AS SELECT * FROM (VALUES (1, 2, 'a', TIMESTAMP '2020-01-01'), "
    "(2, 1, 'zz9', now()::TIMESTAMP), (2, 5, NULL, NULL)) v(c, d, s, ts);"
    "CREATE TABLE main.other AS SELECT * FROM (VALUES (1, 1), (7, 7)) v(id, c)"
)


def sample_spec(kind: CheckKind, column: str = "c", severity: Severity = Severity.error) -> CheckSpec:
    columns = SAMPLE_COLUMNS.get(kind, (column,))
    return CheckSpec(f"sample.{kind.value}", kind, severity, columns, SAMPLE_ARGS[kind])
