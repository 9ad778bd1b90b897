"""Reconciliation in the exported dbt post-hook: a row count and a key set against a dbt model,
the two dq can state exactly in SQL written without the database.

A source that is a table or files, a version-pinned model, sums and means (DOUBLE differences and
averages are not exact in SQL) stay with dq. A key is exported only when every key column is
declared with a type (not FLOAT/DOUBLE) under an error-severity column rule: declared strings are
compared byte-wise (`COLLATE "binary"`, which DuckDB refuses on a non-VARCHAR column: the hook
errors, never casts), and the hook raises an error when the two sides' live key types differ, so
no side is ever cast. The post-hook failing blocks the build, as exit 3 blocks a gate.
"""

from __future__ import annotations

from dataclasses import replace

from dq.checks.kinds import CheckKind
from dq.checks.reconcile import keys_query
from dq.checks.relation import Placeholder, quote_ident
from dq.checks.spec import CheckSpec
from dq.checks.sql import literal
from dq.contract.model import Contract, Severity
from dq.contract.types import column_family

EXPORTED = frozenset({CheckKind.reconcile_row_count, CheckKind.reconcile_keys})


def exportable(spec: CheckSpec, contract: Contract) -> bool:
    """Can the post-hook state this reconciliation exactly (see the module's docstring)?"""
    if spec.kind not in EXPORTED or not spec.args.get("model") or spec.args.get("version") is not None:
        return False
    if spec.kind is CheckKind.reconcile_row_count:
        return True
    rules = [contract.columns.get(column) for column in spec.columns]
    return all(
        rule is not None
        and rule.type is not None
        and rule.severity is Severity.error
        and column_family(rule.type) not in ("float", "other")
        for rule in rules
    )


def assertion_row(spec: CheckSpec, this: str, source: Placeholder) -> str:
    """`UNION ALL SELECT name, failing, observed` for the post-hook's assertion query."""
    name = literal(spec.name)
    if spec.kind is CheckKind.reconcile_row_count:
        return (
            f"\nUNION ALL SELECT {name}, CASE WHEN {_beyond(spec)} THEN 1 ELSE 0 END, "
            f"'observed ' || h || ' rows vs ' || s FROM "
            f"(SELECT (SELECT count(*) FROM {this}) AS h, (SELECT count(*) FROM {source}) AS s) AS q"
        )
    bound = replace(spec, args={**spec.args, "relation": source})  # string_keys: from the declared types
    types = " || ', ' || ".join(f"typeof(any_value({quote_ident(c)}))" for c in spec.columns)
    differ = f"(SELECT {types} FROM {this}) IS DISTINCT FROM (SELECT {types} FROM {source})"
    why = literal(f"{spec.name}: the key columns' types differ from the source's; comparing them would cast")
    count = f"(SELECT missing + extra FROM ({keys_query(bound, this)}))"
    return (
        f"\nUNION ALL SELECT {name}, n, n || ' rows unmatched' FROM "
        f"(SELECT CASE WHEN {differ} THEN error({why}) ELSE {count} END) AS q(n)"
    )


def declared_string_keys(spec: CheckSpec, contract: Contract) -> tuple[str, ...]:
    """The key columns declared as strings: compared byte-wise in the hook."""
    rules = [(c, contract.columns.get(c)) for c in spec.columns]
    return tuple(c for c, rule in rules if rule is not None and column_family(str(rule.type)) == "string")


def _beyond(spec: CheckSpec) -> str:
    """The row counts h (here) and s (source) differ by more than the tolerance, in exact numbers."""
    tests = []
    if spec.args.get("max_diff") is not None:
        tests.append(f"abs(h - s) > {literal(spec.args['max_diff'])}")
    if spec.args.get("max_diff_pct") is not None:
        tests.append(f"abs(h - s) * 100 > {literal(spec.args['max_diff_pct'])} * s")
    return " OR ".join(tests) or "h <> s"
