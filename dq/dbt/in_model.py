"""Which checks `dq dbt build` may take as judged by the exported in-model gate.

With `dq dbt export`'s files current and the model's gate proven to have run in this build (its post-hook logs a marker
when it renders the enforcing query: dq.dbt.export.GATE_MARKER), a model dbt reports as built has
passed its post-hook (and constraints) inside its own transaction: dq's own SQL
(`dq/checks/sql.py`), every violation counted, over the very rows the callback would read next.
Re-running the same row checks in the callback doubles the build's cost (a view's columns
recomputed, a regex over every row) for the same verdict, so the callback takes those verdicts
(engine `dbt`, 0 failing rows) and runs the rest: aggregates (their observed values go to the
history), references (the post-hook may read a model this run rebuilds later: dq/dbt/cross.py),
dq-only kinds, and any row check whose exported SQL is not exact for the live table (an undeclared
type, a column whose live type differs from the declared one, a collated column: see docs/dbt.md,
"How exact the exported gate is").
"""

from __future__ import annotations

from pathlib import Path

from dq.checks.result import CheckResult, Status
from dq.checks.spec import CheckKind, CheckSpec
from dq.contract.model import Contract
from dq.errors import DqError

ROW_KINDS = frozenset(
    {
        CheckKind.not_null,
        CheckKind.between,
        CheckKind.accepted_values,
        CheckKind.pattern,
        CheckKind.length,
        CheckKind.unique,
    }
)
ENGINE = "dbt"


def in_model_checks(contracts: dict[str, tuple[Path, Contract]], project_dir: Path) -> dict[str, frozenset[str]]:
    """model -> the row checks its exported gate asserts exactly; empty when the exported files are
    not those the contracts produce now (never exported, stale, other contracts).

    What dq *could* take from the gate, not what it does: the callback takes these only for a
    model whose gate logged, in this run, that it rendered its enforcing query
    (`Build.held_by_gate`). Whether the gate is on is never read from `vars:` here: a var can be
    package-scoped, rendered from Jinja, given on the command line or by a selector, and dbt
    alone knows what it came to."""
    from dq.dbt.export import export_plan, stale_files

    if not contracts:
        return {}
    try:
        files, plans = export_plan([(contract, path) for path, contract in contracts.values()], project_dir)
        if stale_files(files, project_dir):
            return {}
    except DqError:
        return {}
    out: dict[str, frozenset[str]] = {}
    for plan in plans:
        contract = plan.contract
        typed = {name for name, rule in contract.columns.items() if rule.type not in (None, "DECIMAL")}
        out[plan.model] = frozenset(
            s.name
            for s in (*plan.asserted, *plan.constrained)
            if s.kind in ROW_KINDS and s.columns and set(s.columns) <= typed
        )
    return out


def held_in_model(spec: CheckSpec) -> CheckResult:
    return CheckResult.from_spec(
        spec,
        ENGINE,
        Status.passed,
        observed=0,
        failing_rows=0,
        message="held inside the model: dq's exported SQL ran in dbt's transaction before the table was published",
    )
