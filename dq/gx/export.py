"""`dq export gx`: a contract as a GX 1.x expectation suite (JSON) that GX loads and runs.

The suite is the one dq's GX engine runs (dq/gx/engine.py `build_suite`), compiled from the
contract's checks bound to the dataset's real column types. Every expectation carries
`meta.dq_spec`, the dq check it states. Checks GX has no expectation for (label, leakage and drift
statistics) and checks GX cannot state exactly on this data (collated strings, integers past 2**53,
bounds past the type's range: `spec.needs_exact_sql`) are left out and listed, with why, under the
suite's `meta.dq_not_exported` and on stderr.

Custom SQL, regex and reference checks are `UnexpectedRowsExpectation`s whose query reads the
batch as `{batch}` and the referenced tables by name: run the suite on a SQL datasource of the same
database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dq.checks.spec import HISTORY_KINDS, TRAINING_KINDS, CheckKind, CheckSpec
from dq.config import Settings
from dq.errors import DqError
from dq.formats.bound import Bound, bound_checks


def export_suite(path: str | Path, settings: Settings) -> tuple[str, list[tuple[str, str]]]:
    """The suite as JSON text and the checks left out, with why."""
    from dq.gx import adapter
    from dq.gx.engine import GxEngine

    engine = GxEngine()
    with adapter.quiet():
        adapter.import_gx().get_context(mode="ephemeral")  # GX suites belong to a context
    with bound_checks(path, settings) as bound:
        exported = []
        skipped = list(bound.skipped)
        for spec in bound.specs:
            if spec.kind in HISTORY_KINDS:
                skipped.append((spec.name, "judged against dq's results history of past runs: GX has no such suite"))
            elif spec.kind in TRAINING_KINDS:
                skipped.append((spec.name, "no GX expectation states this statistic (dq computes it in DuckDB)"))
            elif not engine.supports(spec):
                skipped.append((spec.name, _inexact(spec)))
            else:
                exported.append(spec)
        try:
            suite = _suite(exported, bound, skipped)
        except Exception as exc:
            raise DqError(f"great_expectations could not build the suite: {type(exc).__name__}: {exc}") from None
    document: dict[str, Any] = dict(suite.to_json_dict())
    document["meta"] = {
        **dict(document.get("meta") or {}),
        "dq_contract": bound.contract.contract,
        "dq_version": bound.contract.version,
        "dq_not_exported": [{"check": name, "why": why} for name, why in skipped],
    }
    return json.dumps(document, indent=2, default=str) + "\n", skipped


def _inexact(spec: CheckSpec) -> str:
    """Why GX cannot state this check exactly (the routing rules of dq/checks/spec.py, in words)."""
    column_type = spec.args.get("column_type") or "this"
    if spec.segments:
        return "a per-segment check (`segments`): no GX expectation is judged per group of rows"
    if spec.kind.value.startswith("reconcile_"):
        return "reconciles with the source dataset: dq's own SQL (exact sums, byte-wise keys) states it"
    if spec.kind in (CheckKind.mean, CheckKind.stddev):
        return f"GX averages with a plain float sum, inexact on a {column_type} column (dq uses compensated sums)"
    if spec.where is not None or spec.allowed_failing is not None:
        return "a where: condition (SQL, not GX's row_condition language) or a tolerance (GX's mostly is a float)"
    if spec.needs_exact_sql:
        return "needs dq's own SQL: a collated string, NaN counted as missing, or a value past a double's range"
    if not spec.measured_exactly_outside_dq_sql:
        return f"GX hands the values to SQL as Python floats, inexact on a {column_type} column"
    return "GX's expectations cannot state it on this column"


def _suite(specs: list[CheckSpec], bound: Bound, skipped: list[tuple[str, str]]) -> Any:
    """build_suite's expectations, with equal ones kept once (GX keeps one copy of equal
    expectations) and `meta.dq_specs` listing every dq check each one states."""
    from dq.gx import adapter
    from dq.gx.engine import _identity, plan_expectations

    gx = adapter.import_gx()
    suite = gx.ExpectationSuite(name=bound.contract.contract)
    kept: dict[str, Any] = {}
    for plan in plan_expectations(specs, bound.table.columns):
        if plan.error is not None:
            skipped.append((plan.spec.name, plan.error))
            continue
        if plan.batch != "table":  # a BOOLEAN's mean: GX's SQL averages it only on a cast of the table
            skipped.append((plan.spec.name, "GX cannot average a BOOLEAN column of the table (dq uses a cast)"))
            continue
        for expectation in plan.expectations:
            identity = _identity(expectation.configuration)
            if identity in kept:
                kept[identity].meta["dq_specs"].append(plan.spec.name)
                continue
            expectation.meta = {"dq_spec": plan.spec.name, "dq_specs": [plan.spec.name]}
            kept[identity] = expectation
    for expectation in kept.values():
        suite.add_expectation(expectation)
    return suite
