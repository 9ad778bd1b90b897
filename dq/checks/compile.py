"""Contract -> check specs: one small function per rule kind, applied in order.

Compilation is pure (no database, no engine). Every rule a contract states yields at least one
spec, so nothing a producer and consumer agreed on can disappear between the file and the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from dq.checks.kinds import SCOPED_KINDS, SEGMENTABLE, TOLERATED_KINDS
from dq.checks.spec import CheckKind, CheckSpec
from dq.contract.model import (
    Anomaly,
    Bounds,
    ChangeFromLast,
    ColumnRule,
    Contract,
    DriftColumn,
    Reconcile,
    Severity,
    Tolerance,
)
from dq.contract.scope import Scoped, Tolerated

ColumnCompiler = Callable[[str, ColumnRule], Iterator[CheckSpec]]


def compile_contract(contract: Contract) -> tuple[CheckSpec, ...]:
    """All checks of a contract, schema checks first, names unique."""
    column_level: list[CheckSpec] = [*_schema(contract)]
    for column, rule in contract.columns.items():
        for compiler in COLUMN_COMPILERS:
            scoped = (_scoped(spec, rule) for spec in compiler(column, rule))
            column_level.extend(_with_segments(scoped, contract, rule.segments))
    table_level: list[CheckSpec] = [*_primary_key(contract)]
    table_level.extend(_with_segments(_row_count(contract), contract))
    table_level.extend(_freshness(contract))
    table_level.extend(_custom_sql(contract))
    table_level.extend(_expressions(contract))
    label_segments = contract.label.segments if contract.label else None
    table_level.extend(_reconcile(contract))
    table_level.extend(_history_rules("", (), contract.anomalies, contract.change_from_last, Severity.error))
    for training_rule in TRAINING_COMPILERS:
        table_level.extend(_with_segments(training_rule(contract), contract, label_segments))
    return _dedupe(column_level, table_level, tuple(contract.primary_key))


def _with_segments(specs: Iterator[CheckSpec], contract: Contract, own: list[str] | None = None) -> Iterator[CheckSpec]:
    """Each spec, then its per-segment twin for every segment list that applies to it (the
    contract's and the rule's own: both are checked). The whole-table check stays: a bound that
    holds in every segment need not hold over the table (a row count's max, a distinct count)."""
    for spec in specs:
        yield spec
        if spec.kind not in SEGMENTABLE:
            continue
        for segments in dict.fromkeys(tuple(s) for s in (contract.segments, own) if s):
            args = {**spec.args, "segments": segments, "max_segments": contract.max_segments}
            yield replace(spec, name=f"{spec.name}.by.{'.'.join(segments)}", args=args)


def _spec(name: str, kind: CheckKind, severity: Severity, columns: tuple[str, ...] = (), **args: object) -> CheckSpec:
    return CheckSpec(name=name, kind=kind, severity=severity, columns=columns, args=args)


def _scoped(spec: CheckSpec, rule: Scoped | Tolerated) -> CheckSpec:
    """A column's `where:` and tolerance, on each of its checks that can take them."""
    args = dict(spec.args)
    if isinstance(rule, Scoped) and rule.where is not None and spec.kind in SCOPED_KINDS:
        args["where"] = rule.where
    if isinstance(rule, Tolerated) and spec.kind in TOLERATED_KINDS:
        args.update(rule.tolerance_args())
    return spec if args == dict(spec.args) else replace(spec, args=args)


def _bounds(bounds: Bounds) -> dict[str, object]:
    return {"min": bounds.min, "max": bounds.max}


def _schema(contract: Contract) -> Iterator[CheckSpec]:
    for column, rule in contract.columns.items():
        yield _spec(f"{column}.exists", CheckKind.column_exists, rule.severity, (column,))
        if rule.type is not None:
            yield _spec(f"{column}.type", CheckKind.column_type, rule.severity, (column,), type=rule.type)
    if contract.extra_columns == "forbid":
        yield _spec(
            "schema.no_extra_columns", CheckKind.no_extra_columns, Severity.error, allowed=tuple(contract.columns)
        )


def _not_null(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    if not rule.nullable:
        yield _spec(f"{column}.not_null", CheckKind.not_null, rule.severity, (column,))


def _unique(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    if rule.unique:
        yield _spec(f"{column}.unique", CheckKind.unique, rule.severity, (column,))


def _range(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    if rule.min is not None or rule.max is not None:
        yield _spec(f"{column}.range", CheckKind.between, rule.severity, (column,), min=rule.min, max=rule.max)


def _accepted_values(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    if rule.accepted_values is not None:
        values = tuple(rule.accepted_values)
        yield _spec(f"{column}.accepted_values", CheckKind.accepted_values, rule.severity, (column,), values=values)


def _pattern(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    if rule.pattern is not None:
        yield _spec(f"{column}.pattern", CheckKind.pattern, rule.severity, (column,), regex=rule.pattern)


def _references(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    ref = rule.references
    if ref is not None:
        yield _spec(
            f"{column}.references",
            CheckKind.references,
            rule.severity,
            (column,),
            model=ref.model,
            table=ref.table,
            version=ref.version,
            ref_column=ref.column,
            dataset=ref.model or ref.table or ref.path,
            **dataset_args(ref),
        )


def _bounded(key: str, kind: CheckKind) -> ColumnCompiler:
    """Compiler for a per-column `{min, max, severity}` block such as `mean:` or `length:`."""

    def compile_bounds(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
        bounds = getattr(rule, key)
        if bounds is not None:
            yield _spec(f"{column}.{key}", kind, bounds.severity or rule.severity, (column,), **_bounds(bounds))

    return compile_bounds


def _null_fraction(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    if rule.max_null_fraction is not None:
        yield _spec(
            f"{column}.null_fraction", CheckKind.null_fraction, rule.severity, (column,), max=rule.max_null_fraction
        )


def _quantiles(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    for q, bounds in sorted((rule.quantiles or {}).items()):
        yield _spec(
            f"{column}.quantile_{q:g}",
            CheckKind.quantile,
            bounds.severity or rule.severity,
            (column,),
            q=q,
            min=bounds.min,
            max=bounds.max,
        )


def _history_rules(
    prefix: str,
    columns: tuple[str, ...],
    anomalies: list[Anomaly],
    changes: list[ChangeFromLast],
    severity: Severity,
) -> Iterator[CheckSpec]:
    """`anomalies` and `change_from_last` entries, judged against the results history (the
    runner binds the past runs as `baseline`). A name is stable across runs, which is what the
    history is looked up by: `anomalies.row_count`, `income.anomalies.mean`."""
    for rule in anomalies:
        yield _spec(
            f"{prefix}anomalies.{rule.label}",
            CheckKind.anomaly,
            rule.severity or severity,
            columns,
            metric=rule.metric,
            **({"q": rule.q} if rule.q is not None else {}),
            method=rule.method,
            threshold=rule.threshold,
            window=rule.window,
            min_history=rule.min_history,
        )
    for change in changes:
        yield _spec(
            f"{prefix}change_from_last.{change.label}",
            CheckKind.change_from_last,
            change.severity or severity,
            columns,
            metric=change.metric,
            **({"q": change.q} if change.q is not None else {}),
            max_pct=change.max_pct,
        )


def _column_history(column: str, rule: ColumnRule) -> Iterator[CheckSpec]:
    yield from _history_rules(f"{column}.", (column,), rule.anomalies, rule.change_from_last, rule.severity)


COLUMN_COMPILERS: tuple[ColumnCompiler, ...] = (
    _not_null,
    _unique,
    _range,
    _accepted_values,
    _pattern,
    _bounded("length", CheckKind.length),
    _references,
    _null_fraction,
    _bounded("distinct_count", CheckKind.distinct_count),
    _bounded("mean", CheckKind.mean),
    _bounded("stddev", CheckKind.stddev),
    _quantiles,
    _column_history,
)


def _primary_key(contract: Contract) -> Iterator[CheckSpec]:
    key = tuple(contract.primary_key)
    if not key:
        return
    for column in key:
        yield _spec(f"{column}.not_null", CheckKind.not_null, Severity.error, (column,))
    yield _spec("primary_key.unique", CheckKind.unique, Severity.error, key)


def _row_count(contract: Contract) -> Iterator[CheckSpec]:
    if contract.row_count is not None:
        bounds = contract.row_count
        spec = _spec("row_count", CheckKind.row_count, bounds.severity or Severity.error, (), **_bounds(bounds))
        yield _scoped(spec, bounds)


def _freshness(contract: Contract) -> Iterator[CheckSpec]:
    fresh = contract.freshness
    if fresh is not None:
        yield _spec(
            f"{fresh.column}.freshness",
            CheckKind.freshness,
            fresh.severity or Severity.error,
            (fresh.column,),
            max_age_seconds=fresh.max_age.total_seconds(),
        )


def _expressions(contract: Contract) -> Iterator[CheckSpec]:
    for rule in contract.expressions:
        severity = rule.severity or Severity.error
        yield _scoped(_spec(f"expressions.{rule.name}", CheckKind.expression, severity, expr=rule.expr), rule)


def _custom_sql(contract: Contract) -> Iterator[CheckSpec]:
    for check in contract.checks:
        yield _spec(f"checks.{check.name}", CheckKind.custom_sql, check.severity or Severity.error, sql=check.sql)


def _reconcile(contract: Contract) -> Iterator[CheckSpec]:
    """Per `reconcile` entry: its row count, its key set, and each column's sum and mean against
    the source, named `reconcile[.NAME].row_count`, `.key`, `.COLUMN.sum`, `.COLUMN.mean`."""
    for item in contract.reconcile:
        prefix = "reconcile" if item.name is None else f"reconcile.{item.name}"
        severity = item.severity or Severity.error
        source = _source_args(item)
        if item.row_count is not None:
            yield _tolerance_spec(
                f"{prefix}.row_count", CheckKind.reconcile_row_count, item.row_count, severity, (), source
            )
        if item.key is not None:
            yield _spec(f"{prefix}.key", CheckKind.reconcile_keys, severity, tuple(item.key), **source)
        for column, rule in item.columns.items():
            for stat, kind, tolerance in (
                ("sum", CheckKind.reconcile_sum, rule.sum),
                ("mean", CheckKind.reconcile_mean, rule.mean),
            ):
                if tolerance is not None:
                    name = f"{prefix}.{column}.{stat}"
                    yield _tolerance_spec(name, kind, tolerance, severity, (column,), source)


def _source_args(item: Reconcile) -> dict[str, Any]:
    source = item.against
    label = source.model or source.table or source.path
    return {"model": source.model, "table": source.table, "version": source.version, "dataset": label} | dataset_args(
        source
    )


def _tolerance_spec(
    name: str,
    kind: CheckKind,
    tolerance: Tolerance,
    severity: Severity,
    columns: tuple[str, ...],
    source: dict[str, Any],
) -> CheckSpec:
    return _spec(
        name,
        kind,
        tolerance.severity or severity,
        columns,
        max_diff=tolerance.max_diff,
        max_diff_pct=tolerance.max_diff_pct,
        **source,
    )


def _label_class_fraction(contract: Contract) -> Iterator[CheckSpec]:
    label = contract.label
    if label is None or label.class_fraction is None:
        return
    severity = label.severity or Severity.error
    if isinstance(label.class_fraction, Bounds):
        bounds = label.class_fraction
        declared = tuple(contract.columns[label.column].accepted_values or ())
        yield _spec(
            "label.class_fraction",
            CheckKind.label_class_fraction,
            bounds.severity or severity,
            (label.column,),
            **_bounds(bounds),
            classes=declared,
        )
        return
    declared = tuple(contract.columns[label.column].accepted_values or ())
    for value, bounds in label.class_fraction.items():
        yield _spec(
            f"label.class_fraction.{class_name(value)}",
            CheckKind.label_class_fraction,
            bounds.severity or severity,
            (label.column,),
            **_bounds(bounds),
            classes=(value,),
            only=class_name(value),
            declared=declared,
        )


def class_name(value: object) -> str:
    """A class as DuckDB prints it with ::VARCHAR (True -> 'true'), which is how it is counted."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _label_null_fraction(contract: Contract) -> Iterator[CheckSpec]:
    label = contract.label
    if label is not None and label.max_null_fraction is not None:
        yield _spec(
            "label.null_fraction",
            CheckKind.null_fraction,
            label.severity or Severity.error,
            (label.column,),
            max=label.max_null_fraction,
        )


def _leakage_association(contract: Contract) -> Iterator[CheckSpec]:
    """Numeric features by correlation, categorical ones by how well a value predicts the label.

    Which columns are features is decided at run time (every column but the label and the
    primary key), so an undeclared column that leaks is caught too.
    """
    leak, label = contract.leakage, contract.label
    if leak is None or leak.max_abs_correlation_with_label is None or label is None:
        return
    severity = leak.severity or Severity.error
    limit, exclude = leak.max_abs_correlation_with_label, tuple(contract.primary_key)
    yield _spec(
        "leakage.correlation_with_label",
        CheckKind.correlation_with_label,
        severity,
        (label.column,),
        max=limit,
        exclude=exclude,
    )
    yield _spec(
        "leakage.categorical_determines_label",
        CheckKind.categorical_determines_label,
        severity,
        (label.column,),
        max=limit,
        exclude=exclude,
        min_category_rows=leak.min_category_rows,
    )


def _leakage_disjoint(contract: Contract) -> Iterator[CheckSpec]:
    leak = contract.leakage
    if leak is not None and leak.disjoint_from is not None:
        other = leak.disjoint_from
        yield _spec(
            "leakage.disjoint_from",
            CheckKind.disjoint_keys,
            other.severity or leak.severity or Severity.error,
            tuple(other.key),
            model=other.model,
            table=other.table,
            version=other.version,
            dataset=other.model or other.table or other.path,
            **dataset_args(other),
        )


def _leakage_before(contract: Contract) -> Iterator[CheckSpec]:
    leak = contract.leakage
    if leak is not None and leak.before is not None:
        before = leak.before
        yield _spec(
            "leakage.before",
            CheckKind.feature_before_label,
            before.severity or leak.severity or Severity.error,
            (before.column, before.label_time),
        )


_DRIFT_STATISTICS: tuple[tuple[str, CheckKind, str], ...] = (
    ("psi_max", CheckKind.drift_psi, "max"),
    ("ks_max", CheckKind.drift_ks, "max"),
    ("chi2_p_min", CheckKind.drift_chi2, "min"),
    ("linf_max", CheckKind.drift_linf, "max"),
)


def _drift(contract: Contract) -> Iterator[CheckSpec]:
    drift = contract.drift
    if drift is None:
        return
    for column, rule in drift.columns.items():
        yield from _drift_column(column, rule, drift.reference, rule.severity or drift.severity or Severity.error)


def _drift_column(column: str, rule: DriftColumn, reference: str, severity: Severity) -> Iterator[CheckSpec]:
    for key, kind, side in _DRIFT_STATISTICS:
        bound = getattr(rule, key)
        if bound is not None:
            name = f"drift.{column}.{kind.value.removeprefix('drift_')}"
            yield _spec(name, kind, severity, (column,), reference=reference, **{side: bound})


TRAINING_COMPILERS: tuple[Callable[[Contract], Iterator[CheckSpec]], ...] = (
    _label_class_fraction,
    _label_null_fraction,
    _leakage_association,
    _leakage_disjoint,
    _leakage_before,
    _drift,
)


def _dedupe(
    column_level: list[CheckSpec], table_level: list[CheckSpec], primary_key: tuple[str, ...]
) -> tuple[CheckSpec, ...]:
    """One spec per check, names unique, nothing dropped.

    The same check stated twice is kept once, with the strictest severity: a primary key column
    declared `nullable: false` and `unique: true` is checked once, not twice. *Different* checks
    that happen to get the same name (a column called `label`, `checks` or `primary_key`, whose
    `max_null_fraction`, `exists` or `unique` reads like a `label:`, `checks:` or `primary_key`
    rule) are all kept: table-level rules keep their names, the later claimant becomes `NAME#2`.
    """
    ordered = [*column_level, *table_level]
    first_table_level = len(column_level)
    final: list[CheckSpec | None] = [None] * len(ordered)
    holder: dict[str, int] = {}  # name -> index in `ordered` of the spec that carries it
    claim_order = [*range(first_table_level, len(ordered)), *range(first_table_level)]
    for index in claim_order:
        spec = ordered[index]
        if (
            index < first_table_level
            and spec.kind is CheckKind.unique
            and len(primary_key) == 1
            and spec.columns == primary_key
            and spec.where is None
            and spec.allowed_failing is None
        ):
            continue  # the primary key's own (error-severity) uniqueness check covers it
        name, suffix = spec.name, 1
        while name in holder:
            other = holder[name]
            kept = final[other]
            assert kept is not None
            if _same_check(kept, spec):
                severity = Severity.error if Severity.error in (kept.severity, spec.severity) else kept.severity
                position = min(index, other)  # where the check first appears in the contract
                final[other] = None
                final[position] = replace(kept, severity=severity)
                holder[name] = position
                break
            suffix += 1
            name = f"{spec.name}#{suffix}"
        else:
            final[index] = spec if name == spec.name else replace(spec, name=name)
            holder[name] = index
    return tuple(spec for spec in final if spec is not None)


def _same_check(a: CheckSpec, b: CheckSpec) -> bool:
    return a.kind is b.kind and a.columns == b.columns and dict(a.args) == dict(b.args)


def dataset_args(dataset: Any) -> dict[str, Any]:
    """The file keys of a referenced dataset, for a spec's args (none for a model or a table, so
    compiled specs of contracts without files are unchanged)."""
    if getattr(dataset, "path", None) is None:
        return {}
    return {"path": dataset.path, "format": dataset.format, "hive_partitioning": dataset.hive_partitioning}
