"""Measuring a reconciliation (dq.checks.reconcile) for the batch engine: one statement per check,
reading the dataset and its source, and the exact numbers Pandera then judges."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dq.checks.reconcile import allowed_difference, keys_query, metric_query, shown, statistic
from dq.checks.spec import CheckSpec
from dq.contract.types import column_family
from dq.data.source import Table


@dataclass(frozen=True)
class Compared:
    """|dataset - source| (None: a side has no value, which never passes), the most the tolerance
    allows, and what a report shows: both values and their signed difference."""

    distance: Fraction | None
    allowed: Fraction
    observed: dict[str, Any]


def compare_metric(spec: CheckSpec, table: Table) -> Compared:
    """Raises duckdb.Error when DuckDB cannot take an aggregate (a sum past DECIMAL(38))."""
    here_total, here_count, there_total, there_count = table.connection.execute(
        metric_query(spec, table.relation)
    ).fetchall()[0]
    here, there = statistic(spec, here_total, here_count), statistic(spec, there_total, there_count)
    floats = column_family(str(spec.args.get("column_type", ""))) == "float"
    diff = None if here is None or there is None else here - there
    observed = {"dataset": shown(here, floats), "source": shown(there, floats), "diff": shown(diff, floats)}
    allowed = allowed_difference(spec, there if there is not None else Fraction(0))
    return Compared(None if diff is None else abs(diff), allowed, observed)


def unmatched_keys(spec: CheckSpec, table: Table) -> dict[str, int]:
    """{'missing': rows of the source unmatched here, 'extra': rows here unmatched in the source}."""
    missing, extra = table.connection.execute(keys_query(spec, table.relation)).fetchall()[0]
    return {"missing": int(missing), "extra": int(extra)}
