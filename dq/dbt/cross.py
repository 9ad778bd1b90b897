"""Checks that read another model, during `dq dbt build`: judged only on the version this run builds.

`references: {model: customers}` on `orders` (or `leakage.disjoint_from`, `reconcile: [{against: ...}]`) reads
`customers`. dbt orders `orders` after `customers` only if its SQL refs it; otherwise both may be
built at once, or `customers` later in the run, and a check run when `orders` finishes would read
the previous run's `customers`: a new orphan passes, a new customer blocks falsely. So, for each
model such a check reads:

- not selected in this run: its table is the current one; check now;
- finished in this run: check now if it succeeded, else the check is an error (not built);
- running: wait for it to finish (its thread needs nothing from ours), then check;
- selected but not started yet: check it when that model finishes (waiting could deadlock a
  run with fewer threads than waiters). The result joins the contract's result then; dbt has
  already moved on from the model, so this blocks the run (exit 1), not its children.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from dq.checks.spec import CheckKind, CheckSpec
from dq.contract.model import Contract

CROSS_KINDS = (
    CheckKind.references,
    CheckKind.disjoint_keys,
    CheckKind.reconcile_row_count,
    CheckKind.reconcile_keys,
    CheckKind.reconcile_sum,
    CheckKind.reconcile_mean,
)


def read_model(spec: CheckSpec) -> str | None:
    """The other model a spec reads, or None."""
    if spec.kind in CROSS_KINDS and spec.args.get("model"):
        return str(spec.args["model"])
    return None


def models_read(contract: Contract) -> set[str]:
    from dq.checks.compile import compile_contract

    own = contract.dataset.model
    return {m for m in map(read_model, compile_contract(contract)) if m is not None and m != own}


def selected_names() -> set[str] | None:
    """Names of the refable nodes dbt selected for this run (dbt keeps them in a module global
    while it runs), or None when this dbt does not say: then every model counts as selected."""
    try:
        from dbt import selected_resources
    except ImportError:
        return None
    found = getattr(selected_resources, "SELECTED_RESOURCES", None)
    if not found:
        return None
    names = set()
    for unique_id in found:
        parts = str(unique_id).split(".")
        if len(parts) >= 3 and parts[0] in ("model", "seed", "snapshot"):
            names.add(parts[2])
    return names


@dataclass
class Progress:
    """Which nodes of this run have started and finished (by name), shared by dbt's threads."""

    started: set[str] = field(default_factory=set)
    finished: dict[str, str] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self, name: str) -> None:
        with self._changed:
            self.started.add(name)

    def finish(self, name: str, status: str) -> None:
        with self._changed:
            self.finished[name] = status
            self._changed.notify_all()

    def wait_running(self, names: Iterable[str]) -> None:
        """Block until every model of `names` that is running has finished."""
        with self._changed:
            self._changed.wait_for(lambda: all(n in self.finished or n not in self.started for n in names))

    def state(self, name: str, selected: set[str] | None) -> str:
        """'current' (not rebuilt in this run), 'built', 'failed', 'running' or 'later'."""
        with self._changed:
            if name in self.finished:
                return "built" if self.finished[name] == "success" else "failed"
            if name in self.started:
                return "running"
            if selected is not None and name not in selected:
                return "current"
            return "later"
