"""Contract changes, classified the way a reviewer needs them: who does this change hurt?

- **breaking**: a consumer (a model trained on this data) can now receive data it was promised it
  would not: a column removed or renamed, a type changed, a column that becomes nullable, new
  accepted values in a label or category, a bound loosened, the key changed, a check removed or
  made a warning. Breaking changes need a MAJOR version bump.
- **tightening**: the producer must now deliver more (new not-null, narrower range, new check).
  Safe for consumers; the producer's pipeline may start failing the gate.
- **compatible**: documentation, a new optional column.

One rule is one small function `(old, new) -> changes`; `diff_contracts` applies them all. A
change that cannot be proven to be narrower (an edited regex, an edited SQL check) is breaking:
fail closed, a human decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dq.contract.model import Anomaly, Bounds, ChangeFromLast, ColumnRule, Contract, Reconcile, Severity, Tolerance
from dq.contract.scope import Tolerated, allowed_failing


class Impact(StrEnum):
    breaking = "breaking"
    tightening = "tightening"
    compatible = "compatible"


@dataclass(frozen=True)
class Change:
    """One change: where (key path), what, its class, and why it is in that class."""

    path: str
    change: str
    impact: Impact
    reason: str


@dataclass
class ContractDiff:
    """Every change between two versions of one contract (either side may be absent)."""

    old_label: str
    new_label: str
    contract: str
    old_version: str | None
    new_version: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return any(change.impact is Impact.breaking for change in self.changes)

    @property
    def major_bumped(self) -> bool:
        if self.old_version is None or self.new_version is None:
            return False
        return major(self.new_version) > major(self.old_version)

    @property
    def blocks(self) -> bool:
        """A breaking change without a MAJOR bump: the review must not pass as is."""
        return self.breaking and not self.major_bumped

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "old": self.old_label,
            "new": self.new_label,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "breaking": self.breaking,
            "major_bumped": self.major_bumped,
            "blocks": self.blocks,
            "changes": [
                {"path": c.path, "change": c.change, "class": c.impact.value, "reason": c.reason} for c in self.changes
            ],
        }


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


def diff_contracts(old: Contract, new: Contract, old_label: str = "old", new_label: str = "new") -> ContractDiff:
    """Apply every contract rule; column rules run on the columns both versions declare."""
    result = ContractDiff(old_label, new_label, new.contract, old.version, new.version)
    for rule in CONTRACT_RULES:
        result.changes.extend(rule(old, new))
    return result


def added_contract(new: Contract, label: str) -> ContractDiff:
    change = Change("(contract)", "new contract", Impact.compatible, "nothing consumed it before")
    return ContractDiff("(none)", label, new.contract, None, new.version, [change])


def removed_contract(old: Contract, label: str) -> ContractDiff:
    change = Change("(contract)", "contract deleted", Impact.breaking, "consumers lose every guarantee it gave")
    return ContractDiff(label, "(deleted)", old.contract, old.version, None, [change])


# ---------------------------------------------------------------------------------------------
# Building blocks shared by the rules.


def _lower(path: str, old: float | Decimal | None, new: float | Decimal | None) -> Iterator[Change]:
    """A lower bound (min): lowering or dropping it lets smaller values through."""
    if old == new:
        return
    if new is None:
        yield Change(path, f"removed (was {_n(old)})", Impact.breaking, "lower bound removed: any value may arrive")
    elif old is None:
        yield Change(path, f"added ({_n(new)})", Impact.tightening, "new lower bound")
    elif new < old:
        yield Change(path, f"{_n(old)} -> {_n(new)}", Impact.breaking, "bound loosened: lower values may arrive")
    else:
        yield Change(path, f"{_n(old)} -> {_n(new)}", Impact.tightening, "narrower range")


def _upper(path: str, old: float | Decimal | None, new: float | Decimal | None) -> Iterator[Change]:
    """An upper bound (max, max_null_fraction, max_age): raising or dropping it lets more through."""
    if old == new:
        return
    if new is None:
        yield Change(path, f"removed (was {_n(old)})", Impact.breaking, "upper bound removed: any value may arrive")
    elif old is None:
        yield Change(path, f"added ({_n(new)})", Impact.tightening, "new upper bound")
    elif new > old:
        yield Change(path, f"{_n(old)} -> {_n(new)}", Impact.breaking, "bound loosened: higher values may arrive")
    else:
        yield Change(path, f"{_n(old)} -> {_n(new)}", Impact.tightening, "narrower range")


def _severity(path: str, old: Severity | None, new: Severity | None) -> Iterator[Change]:
    old, new = old or Severity.error, new or Severity.error
    if old is Severity.error and new is Severity.warn:
        yield Change(path, "error -> warn", Impact.breaking, "a violation no longer blocks the gate")
    elif old is Severity.warn and new is Severity.error:
        yield Change(path, "warn -> error", Impact.tightening, "a violation now blocks the gate")


def _flag(path: str, old: bool, new: bool, what: str) -> Iterator[Change]:
    """A boolean guarantee (unique): dropping it is breaking, adding it tightens."""
    if old and not new:
        yield Change(path, "true -> false", Impact.breaking, f"{what} no longer guaranteed")
    elif new and not old:
        yield Change(path, "false -> true", Impact.tightening, f"{what} now required")


def _presence(path: str, old: object, new: object, what: str) -> Iterator[Change]:
    """A whole check appearing or disappearing. Yields nothing when both exist."""
    if old is not None and new is None:
        yield Change(path, "removed", Impact.breaking, f"check removed: {what} no longer guaranteed")
    elif old is None and new is not None:
        yield Change(path, "added", Impact.tightening, f"new check: {what}")


def _segments(path: str, old: list[str] | None, new: list[str] | None) -> Iterator[Change]:
    """`segments:` lists: adding them adds per-segment twins of the rules (the whole-table checks
    stay), removing or changing them drops checks a consumer relied on."""
    before, after = list(old or ()), list(new or ())
    if set(before) == set(after):
        if before != after:
            yield Change(path, f"{before} -> {after}", Impact.compatible, "the same segments, listed in another order")
        return
    if not before:
        yield Change(path, f"added {after}", Impact.tightening, "every segment must now meet the rules on its own")
    elif not after:
        yield Change(
            path,
            f"removed (was {before})",
            Impact.breaking,
            "segments no longer checked: one can fail inside the whole",
        )
    else:
        yield Change(
            path, f"{before} -> {after}", Impact.breaking, "other segments: the segments checked before are not"
        )


def _bounds_block(path: str, old: Bounds | None, new: Bounds | None, what: str) -> Iterator[Change]:
    """A `{min, max, severity}` block (mean, length, row_count, a quantile ...)."""
    yield from _presence(path, old, new, what)
    if old is not None and new is not None:
        yield from _lower(f"{path}.min", old.min, new.min)
        yield from _upper(f"{path}.max", old.max, new.max)
        yield from _severity(f"{path}.severity", old.severity, new.severity)


def _history(
    path: str,
    old: list[Anomaly],
    new: list[Anomaly],
    old_changes: list[ChangeFromLast],
    new_changes: list[ChangeFromLast],
) -> Iterator[Change]:
    """`anomalies` and `change_from_last` entries, matched by metric. A higher threshold, max_pct
    or min_history (more runs merely warn) is breaking; a window or method change is breaking too:
    dq cannot prove another baseline at least as strict."""
    before, after = {a.label: a for a in old}, {a.label: a for a in new}
    for label in sorted(before.keys() | after.keys()):
        where, a, b = f"{path}anomalies.{label}", before.get(label), after.get(label)
        yield from _presence(where, a, b, f"anomaly of {label} against the results history")
        if a is None or b is None:
            continue
        yield from _upper(f"{where}.threshold", a.threshold, b.threshold)
        yield from _upper(f"{where}.min_history", a.min_history, b.min_history)
        for key in ("window", "method"):
            if getattr(a, key) != getattr(b, key):
                change = f"{getattr(a, key)} -> {getattr(b, key)}"
                yield Change(f"{where}.{key}", change, Impact.breaking, "another baseline: not provably as strict")
        yield from _severity(f"{where}.severity", a.severity, b.severity)
    was, now = {c.label: c for c in old_changes}, {c.label: c for c in new_changes}
    for label in sorted(was.keys() | now.keys()):
        where, c, d = f"{path}change_from_last.{label}", was.get(label), now.get(label)
        yield from _presence(where, c, d, f"change of {label} from the last run")
        if c is not None and d is not None:
            yield from _upper(f"{where}.max_pct", c.max_pct, d.max_pct)
            yield from _severity(f"{where}.severity", c.severity, d.severity)


def _row_tolerance(path: str, old: Tolerated, new: Tolerated) -> Iterator[Change]:
    """`mostly` / `max_failing_fraction`, compared as the exact share of rows allowed to fail
    (none when absent): a larger share lets more bad rows through to consumers."""
    before, after = allowed_failing(old.tolerance_args()) or 0, allowed_failing(new.tolerance_args()) or 0
    shown = f"{_tolerance_text(old)} -> {_tolerance_text(new)}"
    if after > before:
        yield Change(path, shown, Impact.breaking, "tolerance loosened: more failing rows may arrive")
    elif after < before:
        yield Change(path, shown, Impact.tightening, "tolerance tightened: fewer failing rows may pass")


def _tolerance_text(rule: Tolerated) -> str:
    args = rule.tolerance_args()
    return ", ".join(f"{key}: {_n(value)}" for key, value in args.items()) or "none"


def _where(path: str, old: str | None, new: str | None, aggregates: bool) -> Iterator[Change]:
    """A `where:` condition. Adding or editing one is breaking: rows outside it are no longer
    checked (dq cannot prove an edited condition covers as many rows). Dropping one tightens a
    row rule (every row is checked now), but moves an aggregate (a mean, a row count) anywhere."""
    if old == new:
        return
    if old is None:
        yield Change(path, f"added ({new})", Impact.breaking, "rule narrowed: rows outside the condition go unchecked")
    elif new is None and not aggregates:
        yield Change(path, f"removed (was {old})", Impact.tightening, "rule widened: every row is checked now")
    elif new is None:
        yield Change(
            path, f"removed (was {old})", Impact.breaking, "an aggregate over other rows: no bound carries over"
        )
    else:
        yield Change(
            path, f"{old} -> {new}", Impact.breaking, "condition changed: dq cannot prove it covers as many rows"
        )


def _n(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------------------------
# Column rules: (column, old rule, new rule) -> changes.

ColumnRuleCheck = Callable[[str, ColumnRule, ColumnRule], Iterator[Change]]

_INT_WIDTH = {"TINYINT": 1, "SMALLINT": 2, "INTEGER": 3, "BIGINT": 4, "HUGEINT": 5}
_FLOAT_WIDTH = {"FLOAT": 1, "DOUBLE": 2}


def type_change(old: str, new: str) -> str:
    """'narrowed', 'widened' or 'changed' (a different family) for two canonical types."""
    for widths in (_INT_WIDTH, _FLOAT_WIDTH):
        if old in widths and new in widths:
            return "narrowed" if widths[new] < widths[old] else "widened"
    return "changed"


def column_type(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    path = f"columns.{column}.type"
    if old.type == new.type:
        return
    if new.type is None:
        yield Change(path, f"removed (was {old.type})", Impact.breaking, "type no longer checked")
    elif old.type is None:
        yield Change(path, f"added ({new.type})", Impact.tightening, "new type check")
    else:
        how = type_change(old.type, new.type)
        yield Change(path, f"{old.type} -> {new.type}", Impact.breaking, f"type {how}: consumers read another type")


def column_nullable(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    path = f"columns.{column}.nullable"
    if not old.nullable and new.nullable:
        yield Change(path, "false -> true", Impact.breaking, "column becomes nullable: consumers may get NULLs")
    elif old.nullable and not new.nullable:
        yield Change(path, "true -> false", Impact.tightening, "new not-null")


def column_unique(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    yield from _flag(f"columns.{column}.unique", old.unique, new.unique, "uniqueness")


def column_range(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    yield from _lower(f"columns.{column}.min", old.min, new.min)
    yield from _upper(f"columns.{column}.max", old.max, new.max)


def column_accepted_values(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    """New values in a label or category are breaking: a model has never seen them."""
    path = f"columns.{column}.accepted_values"
    before, after = old.accepted_values, new.accepted_values
    if before is None or after is None:
        yield from _presence(path, before, after, "accepted values")
        return
    added = [v for v in after if v not in before]
    dropped = [v for v in before if v not in after]
    if added:
        yield Change(
            path,
            f"added {_values(added)}",
            Impact.breaking,
            "new values in a label or category: a model trained on this data never saw them",
        )
    if dropped:
        yield Change(path, f"removed {_values(dropped)}", Impact.tightening, "fewer accepted values")


def column_pattern(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    path = f"columns.{column}.pattern"
    yield from _presence(path, old.pattern, new.pattern, "pattern")
    if old.pattern is not None and new.pattern is not None and old.pattern != new.pattern:
        yield Change(
            path,
            f"/{old.pattern}/ -> /{new.pattern}/",
            Impact.breaking,
            "regex changed: dq cannot prove the new one accepts no more than the old one",
        )


def column_references(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    path = f"columns.{column}.references"
    yield from _presence(path, old.references, new.references, "referential integrity")
    if old.references is not None and new.references is not None and old.references != new.references:
        yield Change(path, f"{_ref(old)} -> {_ref(new)}", Impact.breaking, "values now checked against another dataset")


def column_null_fraction(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    yield from _upper(f"columns.{column}.max_null_fraction", old.max_null_fraction, new.max_null_fraction)


def column_stat_blocks(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    for key in ("length", "distinct_count", "mean", "stddev"):
        yield from _bounds_block(f"columns.{column}.{key}", getattr(old, key), getattr(new, key), key)


def column_quantiles(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    before, after = old.quantiles or {}, new.quantiles or {}
    for q in sorted({*before, *after}):
        yield from _bounds_block(f"columns.{column}.quantiles.{q:g}", before.get(q), after.get(q), f"quantile {q:g}")


def column_segments(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    yield from _segments(f"columns.{column}.segments", old.segments, new.segments)


def column_history(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    yield from _history(f"columns.{column}.", old.anomalies, new.anomalies, old.change_from_last, new.change_from_last)


def column_severity(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    yield from _severity(f"columns.{column}.severity", old.severity, new.severity)


def column_scope(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    """The column's `where:` (on all its checks) and tolerance (on its row rules)."""
    aggregates = [old.max_null_fraction, old.distinct_count, old.mean, old.stddev, old.quantiles]
    # its history checks measure their metric over the rows in scope too
    measured = any(a is not None for a in aggregates) or bool(old.anomalies or old.change_from_last)
    yield from _where(f"columns.{column}.where", old.where, new.where, measured)
    yield from _row_tolerance(f"columns.{column}.tolerance", old, new)


def column_description(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    if old.description != new.description:
        yield Change(f"columns.{column}.description", "edited", Impact.compatible, "documentation only")


# The column keys the rules above understand. A key added to the contract format later is not
# silently ignored: until it gets a rule, any change to it is breaking (fail closed).
COLUMN_KEYS_WITH_RULES = frozenset(
    {
        "type",
        "description",
        "nullable",
        "unique",
        "min",
        "max",
        "accepted_values",
        "pattern",
        "length",
        "distinct_count",
        "mean",
        "stddev",
        "quantiles",
        "max_null_fraction",
        "references",
        "anomalies",
        "change_from_last",
        "severity",
        "where",
        "mostly",
        "max_failing_fraction",
        "segments",
    }
)


def column_other_keys(column: str, old: ColumnRule, new: ColumnRule) -> Iterator[Change]:
    for key in type(new).model_fields:
        if key not in COLUMN_KEYS_WITH_RULES and getattr(old, key) != getattr(new, key):
            yield _unclassified(f"columns.{column}.{key}")


def _unclassified(path: str) -> Change:
    return Change(
        path,
        "changed",
        Impact.breaking,
        "dq diff has no rule for this key yet: treated as breaking until a person reviews it",
    )


COLUMN_RULES: tuple[ColumnRuleCheck, ...] = (
    column_type,
    column_nullable,
    column_unique,
    column_range,
    column_accepted_values,
    column_pattern,
    column_references,
    column_null_fraction,
    column_stat_blocks,
    column_quantiles,
    column_segments,
    column_history,
    column_severity,
    column_scope,
    column_description,
    column_other_keys,
)


def _values(values: list[Any]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _ref(rule: ColumnRule) -> str:
    ref = rule.references
    return "" if ref is None else f"{ref.model or ref.table}.{ref.column}"


# ---------------------------------------------------------------------------------------------
# Contract rules: (old, new) -> changes.

ContractRuleCheck = Callable[[Contract, Contract], Iterator[Change]]


def contract_name(old: Contract, new: Contract) -> Iterator[Change]:
    if old.contract != new.contract:
        yield Change(
            "contract",
            f"{old.contract} -> {new.contract}",
            Impact.breaking,
            "renamed: consumers and the results history refer to it by name",
        )


def contract_dataset(old: Contract, new: Contract) -> Iterator[Change]:
    if old.dataset != new.dataset:
        yield Change(
            "dataset",
            f"{old.dataset.describe()} -> {new.dataset.describe()}",
            Impact.breaking,
            "the contract now describes another dataset",
        )


def contract_docs(old: Contract, new: Contract) -> Iterator[Change]:
    for key in ("owner", "description"):
        if getattr(old, key) != getattr(new, key):
            yield Change(key, "edited", Impact.compatible, "documentation only")


def contract_primary_key(old: Contract, new: Contract) -> Iterator[Change]:
    if old.primary_key == new.primary_key:
        return
    change = f"{old.primary_key or '(none)'} -> {new.primary_key or '(none)'}"
    if not old.primary_key:
        yield Change("primary_key", change, Impact.tightening, "new key: not null + unique now required")
    else:
        yield Change("primary_key", change, Impact.breaking, "primary key changed: joins and dedup on it break")


def contract_row_count(old: Contract, new: Contract) -> Iterator[Change]:
    yield from _bounds_block("row_count", old.row_count, new.row_count, "row count")
    if old.row_count is not None and new.row_count is not None:
        yield from _where("row_count.where", old.row_count.where, new.row_count.where, aggregates=True)


def contract_freshness(old: Contract, new: Contract) -> Iterator[Change]:
    before, after = old.freshness, new.freshness
    yield from _presence("freshness", before, after, "freshness")
    if before is None or after is None:
        return
    if before.column != after.column:
        yield Change(
            "freshness.column",
            f"{before.column} -> {after.column}",
            Impact.breaking,
            "freshness now measured on another column",
        )
    yield from _upper("freshness.max_age", _hours(before.max_age), _hours(after.max_age))
    yield from _severity("freshness.severity", before.severity, after.severity)


def contract_extra_columns(old: Contract, new: Contract) -> Iterator[Change]:
    if old.extra_columns == "forbid" and new.extra_columns == "allow":
        yield Change("extra_columns", "forbid -> allow", Impact.breaking, "undeclared columns may now appear")
    elif old.extra_columns == "allow" and new.extra_columns == "forbid":
        yield Change("extra_columns", "allow -> forbid", Impact.tightening, "undeclared columns now fail")


def contract_columns(old: Contract, new: Contract) -> Iterator[Change]:
    """Removed, renamed and added columns; every column rule on the columns both declare."""
    removed = [c for c in old.columns if c not in new.columns]
    added = [c for c in new.columns if c not in old.columns]
    for before, after in _renames(old, new, removed, added):
        removed.remove(before)
        added.remove(after)
        yield Change(
            f"columns.{before}",
            f"renamed to {after}",
            Impact.breaking,
            "column renamed: consumers reading the old name break",
        )
    for column in removed:
        yield Change(f"columns.{column}", "removed", Impact.breaking, "column removed: consumers reading it break")
    for column in added:
        yield _added_column(column, new)
    for column in old.columns:
        if column in new.columns:
            for rule in COLUMN_RULES:
                yield from rule(column, old.columns[column], new.columns[column])


def _added_column(column: str, new: Contract) -> Change:
    rule = new.columns[column]
    if not rule.nullable or column in new.primary_key:
        return Change(
            f"columns.{column}", "added (required)", Impact.tightening, "new required column: producers must supply it"
        )
    return Change(f"columns.{column}", "added (optional)", Impact.compatible, "new optional column")


def _renames(old: Contract, new: Contract, removed: list[str], added: list[str]) -> list[tuple[str, str]]:
    """A removed and an added column with the same rules (descriptions aside) is one rename."""

    def shape(rule: ColumnRule) -> ColumnRule:
        return rule.model_copy(update={"description": None})

    pairs: list[tuple[str, str]] = []
    free = list(added)
    for before in removed:
        matches = [after for after in free if shape(new.columns[after]) == shape(old.columns[before])]
        if len(matches) == 1:
            pairs.append((before, matches[0]))
            free.remove(matches[0])
    return pairs


def contract_checks(old: Contract, new: Contract) -> Iterator[Change]:
    before = {check.name: check for check in old.checks}
    after = {check.name: check for check in new.checks}
    for name in sorted(before.keys() | after.keys()):
        path = f"checks.{name}"
        yield from _presence(path, before.get(name), after.get(name), f"SQL check {name}")
        if name in before and name in after:
            # the exact text: a line break ends a `--` comment, spaces inside a literal are data
            if before[name].sql != after[name].sql:
                yield Change(
                    f"{path}.sql", "edited", Impact.breaking, "query changed: dq cannot prove it is at least as strict"
                )
            yield from _severity(f"{path}.severity", before[name].severity, after[name].severity)
            if before[name].description != after[name].description:
                yield Change(f"{path}.description", "edited", Impact.compatible, "documentation only")


def contract_expressions(old: Contract, new: Contract) -> Iterator[Change]:
    """Rules across columns: a new one tightens, a removed or rewritten one is breaking (dq cannot
    prove an edited expression at least as strict), a severity follows the usual rule."""
    before = {rule.name: rule for rule in old.expressions}
    after = {rule.name: rule for rule in new.expressions}
    for name in sorted(before.keys() | after.keys()):
        path = f"expressions.{name}"
        yield from _presence(path, before.get(name), after.get(name), f"expression {name}")
        if name in before and name in after:
            # the exact text: a line break ends a `--` comment, spaces inside a literal are data
            if before[name].expr != after[name].expr:
                yield Change(
                    f"{path}.expr", "edited", Impact.breaking, "expression changed: dq cannot prove it is as strict"
                )
            yield from _where(f"{path}.where", before[name].where, after[name].where, aggregates=False)
            yield from _row_tolerance(f"{path}.tolerance", before[name], after[name])
            yield from _severity(f"{path}.severity", before[name].severity, after[name].severity)
            if before[name].description != after[name].description:
                yield Change(f"{path}.description", "edited", Impact.compatible, "documentation only")


def contract_quarantine(old: Contract, new: Contract) -> Iterator[Change]:
    """`quarantine.max_fraction` is a tolerance: allowing it, or raising it, lets `dq gate
    --quarantine` train with more of the rows dropped, so it is breaking; lowering or removing it tightens."""
    before = old.quarantine.max_fraction if old.quarantine else None
    after = new.quarantine.max_fraction if new.quarantine else None
    path = "quarantine.max_fraction"
    if before == after:
        return
    if before is None:
        yield Change(
            path, f"added ({_n(after)})", Impact.breaking, "the gate may now train without rows that fail a row rule"
        )
    elif after is None:
        yield Change(path, f"removed (was {_n(before)})", Impact.tightening, "the gate no longer sets rows aside")
    elif after > before:
        yield Change(
            path, f"{_n(before)} -> {_n(after)}", Impact.breaking, "tolerance loosened: more rows may be dropped"
        )
    else:
        yield Change(path, f"{_n(before)} -> {_n(after)}", Impact.tightening, "fewer rows may be dropped")


def contract_reconcile(old: Contract, new: Contract) -> Iterator[Change]:
    """Reconciliation entries, matched by name (an unnamed single entry by being the only one):
    dropping an entry, a comparison or a key column, loosening a tolerance, or pointing it at
    another source is breaking; the reverse tightens."""
    before = {item.name or "": item for item in old.reconcile}
    after = {item.name or "": item for item in new.reconcile}
    for name in sorted(before.keys() | after.keys()):
        path = "reconcile" + (f".{name}" if name else "")
        old_item, new_item = before.get(name), after.get(name)
        yield from _presence(path, old_item, new_item, f"reconciliation with {_source(old_item or new_item)}")
        if old_item is not None and new_item is not None:
            yield from _reconcile_item(path, old_item, new_item)


def _reconcile_item(path: str, old: Reconcile, new: Reconcile) -> Iterator[Change]:
    if old.against != new.against:
        yield Change(
            f"{path}.against",
            f"{_source(old)} -> {_source(new)}",
            Impact.breaking,
            "reconciled against another source: the old one is no longer matched",
        )
    yield from _key_columns(f"{path}.key", old.key, new.key)
    yield from _tolerance(f"{path}.row_count", old.row_count, new.row_count, "row count reconciliation")
    for column in sorted(old.columns.keys() | new.columns.keys()):
        before, after = old.columns.get(column), new.columns.get(column)
        for stat in ("sum", "mean"):
            yield from _tolerance(
                f"{path}.columns.{column}.{stat}",
                getattr(before, stat, None),
                getattr(after, stat, None),
                f"{stat} of {column} reconciled",
            )
    yield from _severity(f"{path}.severity", old.severity, new.severity)


def _key_columns(path: str, old: list[str] | None, new: list[str] | None) -> Iterator[Change]:
    """Fewer key columns match more rows as equal (and none match nothing): a key set shrunk or
    dropped is breaking, one grown or added tightens, any other edit is breaking."""
    if old == new:
        return
    if new is None or old is None:
        yield from _presence(path, old, new, "key sets reconciled")
    elif set(old) < set(new):
        yield Change(path, f"{old} -> {new}", Impact.tightening, "a longer key: rows must match on more columns")
    else:
        yield Change(path, f"{old} -> {new}", Impact.breaking, "key changed: rows are matched on other columns")


def _tolerance(path: str, old: Tolerance | None, new: Tolerance | None, what: str) -> Iterator[Change]:
    """A tolerance with neither side given means equal: its absolute limit is 0, not "none"."""
    yield from _presence(path, old, new, what)
    if old is None or new is None:
        return
    for key in ("max_diff", "max_diff_pct"):
        yield from _upper(f"{path}.{key}", _effective(old, key), _effective(new, key))
    yield from _severity(f"{path}.severity", old.severity, new.severity)


def _effective(tolerance: Tolerance, key: str) -> Decimal | None:
    value = getattr(tolerance, key)
    if tolerance.max_diff is None and tolerance.max_diff_pct is None and key == "max_diff":
        return Decimal(0)
    return None if value is None else Decimal(value)


def _source(item: Reconcile | None) -> str:
    return "" if item is None else item.against.describe()


def contract_history(old: Contract, new: Contract) -> Iterator[Change]:
    yield from _history("", old.anomalies, new.anomalies, old.change_from_last, new.change_from_last)


def _hours(value: Any) -> float:
    return float(value.total_seconds() / 3600)


CONTRACT_KEYS_WITH_RULES = frozenset(
    {
        "contract",
        "version",
        "owner",
        "description",
        "dataset",
        "primary_key",
        "row_count",
        "freshness",
        "extra_columns",
        "columns",
        "checks",
        "expressions",
        "quarantine",
        "segments",
        "max_segments",
        "reconcile",
        "anomalies",
        "change_from_last",
    }
)


def contract_segments(old: Contract, new: Contract) -> Iterator[Change]:
    yield from _segments("segments", old.segments, new.segments)
    before, after = (c.label.segments if c.label else None for c in (old, new))
    yield from _segments("label.segments", before, after)
    if old.max_segments > new.max_segments:
        change = f"{old.max_segments} -> {new.max_segments}"
        yield Change("max_segments", change, Impact.tightening, "more segment columns now stop the run (exit 3)")
    elif old.max_segments < new.max_segments:
        change = f"{old.max_segments} -> {new.max_segments}"
        # a run that stopped with exit 3 (too many segments) can now pass: a loosening
        yield Change("max_segments", change, Impact.breaking, "a run refused for too many segments can now pass")


def contract_other_keys(old: Contract, new: Contract) -> Iterator[Change]:
    """Top-level keys no rule understands yet (see COLUMN_KEYS_WITH_RULES): breaking if changed."""
    for key in type(new).model_fields:
        before, after = getattr(old, key), getattr(new, key)
        if key == "label" and before is not None and after is not None:
            # label.segments has its rule (contract_segments); the rest of the label has none yet
            before, after = before.model_copy(update={"segments": None}), after.model_copy(update={"segments": None})
        if key not in CONTRACT_KEYS_WITH_RULES and before != after:
            yield _unclassified(key)


CONTRACT_RULES: tuple[ContractRuleCheck, ...] = (
    contract_name,
    contract_dataset,
    contract_docs,
    contract_primary_key,
    contract_row_count,
    contract_freshness,
    contract_extra_columns,
    contract_columns,
    contract_checks,
    contract_expressions,
    contract_quarantine,
    contract_segments,
    contract_reconcile,
    contract_history,
    contract_other_keys,
)
