"""`dq lint`: every problem in a set of contracts, found before any data is read.

The loader already rejects what pydantic can see (unknown keys, min > max, bad durations). Lint
adds what needs more context, each as one small rule:

- regexes compile in DuckDB's RE2, which is what runs them: Python's `re` accepts lookarounds and
  backreferences RE2 rejects, so a contract that loads can still crash at validation time;
- custom SQL checks parse (DuckDB's own parser, `json_serialize_sql`; no table is needed);
- `{model: ...}` datasets and references resolve through the dbt manifest;
- a referenced column is declared by the contract of the referenced dataset, when one is linted;
- drift reference profiles load and validate, and profile every drifting column;
- a `quarantine` bound has a rule to set rows aside by (else `dq gate --quarantine` drops nothing),
  and a bound of 1 comes with a `row_count` minimum (else training may start on 0 rows);
- `segments` keys apply to a rule, and no rule is segmented by its own column;
- an `anomalies` rule judges against at least 3 past runs (`min_history`): a median and MAD of
  one or two runs call nearly every change an anomaly, or none;
- contract names are unique.

Every problem names the file and the key path. Nothing is skipped silently: a model that cannot be
resolved because there is no manifest is a problem, unless the caller opted out (`--skip-dbt`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dq.checks.compile import compile_contract
from dq.contract.model import Contract, Dataset, load_contract
from dq.contract.scope import Tolerated, allowed_failing
from dq.dbt.artifacts import resolve_model
from dq.errors import ContractError, SourceError


@dataclass(frozen=True)
class Problem:
    """One problem: `file: key.path: message` (key empty when the file as a whole is wrong)."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}" if self.key else f"{self.file}: {self.message}"


@dataclass
class LintContext:
    """What the rules share: an in-memory DuckDB for RE2 and the parser, the dbt project, and
    every contract being linted (to check references between them)."""

    duckdb: duckdb.DuckDBPyConnection
    dbt_project: Path | None
    skip_dbt: bool
    contracts: dict[Path, Contract]


Rule = Callable[[Path, Contract, LintContext], Iterator[Problem]]


def lint(paths: list[Path], dbt_project: Path | None, skip_dbt: bool = False) -> tuple[int, list[Problem]]:
    """Lint every file; return how many contracts were read and every problem found."""
    problems: list[Problem] = []
    contracts: dict[Path, Contract] = {}
    for path in paths:
        try:
            contracts[path] = load_contract(path)
        except ContractError as exc:
            problems.extend(_loader_problems(path, str(exc)))
    with duckdb.connect() as con:
        context = LintContext(con, dbt_project, skip_dbt, contracts)
        for path, contract in contracts.items():
            for rule in RULES:
                problems.extend(rule(path, contract, context))
    problems.extend(unique_names(contracts))
    return len(paths), problems


def _loader_problems(path: Path, message: str) -> Iterator[Problem]:
    """The loader's lines are `file: key: message`; keep the key apart for JSON output."""
    for line in message.splitlines():
        rest = line.removeprefix(f"{path}: ")
        key, sep, text = rest.partition(": ")
        if sep and " " not in key and not key.startswith("line "):
            yield Problem(str(path), key, text)
        else:
            yield Problem(str(path), "", rest)


# ---------------------------------------------------------------------------------------------
# Rules.


def patterns_compile_in_re2(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    for column, rule in contract.columns.items():
        if rule.pattern is None:
            continue
        try:
            ctx.duckdb.execute("SELECT regexp_matches('', ?)", [rule.pattern]).fetchall()
        except duckdb.Error as exc:
            why = f"regex does not compile in DuckDB (RE2: no lookarounds, no backreferences): {_first_line(exc)}"
            yield Problem(str(path), f"columns.{column}.pattern", why)


def sql_checks_parse(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    for index, check in enumerate(contract.checks):
        sql = check.sql.replace("{dataset}", '"__dq_dataset"')
        parsed = json.loads(ctx.duckdb.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
        if parsed.get("error") and parsed.get("error_type") == "parser":
            yield Problem(
                str(path),
                f"checks.{index}.sql",
                f"check {check.name!r} does not parse: {parsed.get('error_message', 'syntax error')}",
            )
        elif parsed.get("error") or len(parsed.get("statements", [])) != 1:
            yield Problem(str(path), f"checks.{index}.sql", f"check {check.name!r} must be exactly one SELECT")


def models_resolve(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """`dataset: {model}` and `references: {model}` exist in the dbt manifest."""
    if ctx.skip_dbt:
        return
    wanted = [("dataset.model", contract.dataset.model, contract.dataset.version)]
    wanted += [
        (f"columns.{c}.references.model", r.references.model, r.references.version)
        for c, r in contract.columns.items()
        if r.references is not None
    ]
    wanted += [
        (f"reconcile.{i}.against.model", item.against.model, item.against.version)
        for i, item in enumerate(contract.reconcile)
    ]
    for key, model, version in wanted:
        if model is None:
            continue
        try:
            resolve_model(ctx.dbt_project, model, version)
        except SourceError as exc:
            yield Problem(str(path), key, f"{exc} (or pass --skip-dbt to lint without dbt)")


def references_declared(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """A referenced column must be declared by the referenced dataset's contract, if one is linted."""
    for column, rule in contract.columns.items():
        ref = rule.references
        if ref is None:
            continue
        target = Dataset(model=ref.model, table=ref.table)
        for other_path, other in ctx.contracts.items():
            if other.dataset == target and ref.column not in other.columns:
                yield Problem(
                    str(path),
                    f"columns.{column}.references.column",
                    f"column {ref.column!r} is not declared in {other_path} "
                    f"(contract {other.contract}; columns: {', '.join(other.columns)})",
                )


def reconciled_columns_declared(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """A reconciled key or column must be declared by the source's contract too, if one is linted."""
    for index, item in enumerate(contract.reconcile):
        wanted = [*(item.key or ()), *item.columns]
        for other_path, other in ctx.contracts.items():
            if other.dataset != item.against:
                continue
            for column in (c for c in wanted if c not in other.columns):
                yield Problem(
                    str(path),
                    f"reconcile.{index}.{'key' if column in (item.key or ()) else 'columns'}",
                    f"column {column!r} is not declared in {other_path}, the source's contract "
                    f"(contract {other.contract}; columns: {', '.join(other.columns)})",
                )


def drift_profiles_load(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """`drift.reference` is a profile dq can trust: the file exists and passes strict validation
    (dq.ml.profile.load_profile), and it profiles every column the contract checks for drift."""
    if contract.drift is None:
        return
    from dq.errors import DqError
    from dq.ml.profile import load_profile

    reference = Path(contract.drift.reference)
    try:
        profile = load_profile(reference)
    except DqError as exc:
        yield Problem(str(path), "drift.reference", str(exc))
        return
    profiled = set(profile.get("columns", {}))
    for column in contract.drift.columns:
        if column not in profiled:
            yield Problem(
                str(path),
                f"drift.columns.{column}",
                f"{reference} has no profile of column {column!r} (profiled: {', '.join(sorted(profiled))})",
            )


def tolerances_mean_something(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """A tolerance that allows no failing row says nothing (leave it out); one that allows every
    row to fail (`mostly: 0`, `max_failing_fraction: 1`) turns its rules off while they still read
    as guarantees in the contract."""
    ruled: list[tuple[str, Tolerated]] = [(f"columns.{c}", r) for c, r in contract.columns.items()]
    ruled += [(f"expressions.{i}", e) for i, e in enumerate(contract.expressions)]
    for key, rule in ruled:
        for name, value in rule.tolerance_args().items():
            allowed = allowed_failing({name: value})
            if allowed == 0:
                yield Problem(str(path), f"{key}.{name}", f"{name}: {value} allows no failing row: leave it out")
            elif allowed == 1:
                yield Problem(
                    str(path),
                    f"{key}.{name}",
                    f"{name}: {value} lets every row fail, so the rule can never fail: remove the rule instead",
                )


def conditions_apply(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """A column's `where:` narrows its data checks; on a column with none (only `type`), it
    narrows nothing and reads as if it did."""
    from dq.checks.compile import compile_contract

    narrowed = {spec.column for spec in compile_contract(contract) if spec.where is not None}
    for column, rule in contract.columns.items():
        if rule.where is not None and column not in narrowed:
            yield Problem(
                str(path),
                f"columns.{column}.where",
                "the column has no data rule for the condition to narrow (it applies to nullable, unique, "
                "min/max, accepted_values, pattern, length, references and the column's aggregates)",
            )


def quarantine_has_rules(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """`quarantine:` on a contract whose rules never set a row aside (no error-severity row rule of
    the kinds dq/gate/quarantine.py drops) bounds nothing: the key is a mistake, or a rule is missing."""
    if contract.quarantine is None:
        return
    from dq.checks.compile import compile_contract
    from dq.contract.model import Severity
    from dq.gate.quarantine import QUARANTINED_KINDS

    specs = compile_contract(contract)
    if not any(s.kind in QUARANTINED_KINDS and s.severity is Severity.error for s in specs):
        yield Problem(
            str(path),
            "quarantine",
            "no error-severity row rule (nullable, min/max, accepted_values, pattern, length, expressions, unique) "
            "sets rows aside, so `dq gate --quarantine` would drop nothing. Fix: add such a rule or remove the key",
        )


def quarantine_keeps_rows(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """`quarantine: {max_fraction: 1}` lets the gate set every row aside, and with no `row_count`
    minimum nothing then stops training from starting on 0 rows (each check passes on no rows)."""
    if contract.quarantine is None or contract.quarantine.max_fraction < 1:
        return
    bounds = contract.row_count
    if bounds is None or bounds.min is None or bounds.min < 1:
        yield Problem(
            str(path),
            "quarantine.max_fraction",
            "1 lets `dq gate --quarantine` set every row aside and train on 0 rows: no `row_count` minimum "
            "stops it. Fix: add `row_count: {min: N}` (the fewest rows training needs), or lower max_fraction",
        )


def segments_apply(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """A `segments` key that no rule is checked by (a column's segments without an aggregate rule
    on it) is a misplaced key, and a rule segmented by its own column measures one value per
    segment (a distinct count of 1, a class share of 100%): both are mistakes, not checks."""
    specs = [spec for spec in compile_contract(contract) if spec.segments]
    for key, segments in contract.segment_lists():
        if not segments:
            continue
        column = key.removeprefix("columns.").removesuffix(".") if key.startswith("columns.") else None
        label = contract.label.column if key == "label." and contract.label else None
        wanted = tuple(segments)
        if not any(
            spec.segments == wanted
            and (column is None or spec.columns == (column,))
            and (label is None or spec.name.startswith("label."))
            for spec in specs
        ):
            where = "this column" if column else "the label" if label else "the contract"
            yield Problem(
                str(path),
                f"{key}segments",
                f"no rule of {where} is checked per segment (segments apply to row_count, max_null_fraction, "
                "mean, stddev, distinct_count, quantiles and the label's class_fraction / max_null_fraction)",
            )
    for spec in specs:
        own = sorted(set(spec.columns) & set(spec.segments))
        if own:
            yield Problem(
                str(path),
                spec.name,
                f"segmented by its own column {own[0]!r}: each segment holds one value of it; "
                "segment by another column",
            )


MIN_SENSIBLE_HISTORY = 3


def anomaly_histories_suffice(path: Path, contract: Contract, ctx: LintContext) -> Iterator[Problem]:
    """`min_history` below 3: the MAD of two runs is half their difference, of one run 0 (any change
    is then an anomaly, dq.checks.anomaly), so the check would judge from noise."""
    rules = [("", rule) for rule in contract.anomalies]
    rules += [(f"columns.{c}.", rule) for c, column in contract.columns.items() for rule in column.anomalies]
    for prefix, rule in rules:
        if rule.min_history < MIN_SENSIBLE_HISTORY:
            yield Problem(
                str(path),
                f"{prefix}anomalies.{rule.label}.min_history",
                f"{rule.min_history} past run(s) is too few to tell an anomaly from noise: a median/MAD needs "
                f"min_history >= {MIN_SENSIBLE_HISTORY} (5 or more recommended)",
            )


RULES: tuple[Rule, ...] = (
    patterns_compile_in_re2,
    sql_checks_parse,
    models_resolve,
    references_declared,
    reconciled_columns_declared,
    drift_profiles_load,
    tolerances_mean_something,
    conditions_apply,
    quarantine_has_rules,
    quarantine_keeps_rows,
    segments_apply,
    anomaly_histories_suffice,
)


def unique_names(contracts: dict[Path, Contract]) -> Iterator[Problem]:
    seen: dict[str, Path] = {}
    for path, contract in contracts.items():
        if contract.contract in seen:
            yield Problem(
                str(path), "contract", f"name {contract.contract!r} is already used by {seen[contract.contract]}"
            )
        else:
            seen[contract.contract] = path


def _first_line(exc: Any) -> str:
    return str(exc).splitlines()[0]
