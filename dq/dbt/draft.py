"""`dq init --from-dbt MODEL`: draft a contract from what dbt declares and what the data shows.

dbt's manifest gives the columns, their descriptions, generic tests (not_null, unique,
accepted_values, relationships) and constraints; one profiling scan in DuckDB gives the types,
null fractions, min/max and distinct counts, then one small `SELECT DISTINCT ... LIMIT` per
low-cardinality text column gives its accepted values. Bounds are drafted as a reviewer would keep
them, not as today's extremes: none on keys and ids (a surrogate key grows with every row), a
non-negative column gets `min: 0` (and a fraction `max: 1`), and no other range is guessed. So the
draft passes on the data it was drafted from and still does after an ordinary new row; what it
left out of dbt's declaration is named in a comment. It is marked for review, because observed is
not agreed: a person decides which bounds are promises.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from dq.checks.sql import quote_ident
from dq.contract.types import canonical_type, is_numeric
from dq.contract.yaml12 import dump_yaml
from dq.data.source import Table, open_database, resolve_table
from dq.dbt.artifacts import model_tests, read_manifest, select_node

LOW_CARDINALITY = 10  # at most this many distinct text values become `accepted_values`
HEADER = "# DRAFT: review before use. Drafted by `dq init --from-dbt {model}` from the dbt manifest and the data\n"
HEADER2 = "# in {db}: observed, not yet what producer and consumer agreed. No ranges on keys; no maxima guessed.\n"


def draft_contract(model: str, project_dir: Path, db: Path) -> str:
    """The draft contract's YAML text."""
    manifest = read_manifest(project_dir)
    node = dict(select_node(manifest, model, None, where=f"{project_dir}'s manifest", resource_types=("model",)))
    connection = open_database(db)
    try:
        table = resolve_table(
            connection,
            db,
            node["schema"],
            node.get("alias") or node["name"],
            catalog=node.get("database"),
            origin=f"dbt model {model!r}",
        )
        profile = profile_table(table)
    finally:
        connection.close()
    tests = model_tests(manifest, node["unique_id"])
    document = _contract(model, node, tests, table, profile)
    notes = "".join(f"# {line}\n" for line in skipped_notes(node, tests, profile, document))
    return (
        HEADER.format(model=model)
        + HEADER2.format(db=db)
        + notes
        + dump_yaml(document, sort_keys=False, width=1000, allow_unicode=True)
    )


def skipped_notes(
    node: dict[str, Any], tests: list[dict[str, Any]], profile: dict[str, Any], document: dict[str, Any]
) -> list[str]:
    """One line per dbt column (or dbt test) the draft does not carry, and why."""
    notes = []
    columns = document["columns"]
    for name in node.get("columns") or {}:
        if name not in profile["columns"]:
            notes.append(f"skipped dbt column {name}: declared in dbt's YAML, but {node['name']} has no such column")
    for test in tests:
        column, kind = str(test["column"]), str(test["name"])
        rule = columns.get(column)
        if rule is None:
            continue
        if kind == "not_null" and rule.get("nullable") is not False:
            notes.append(f"skipped dbt test not_null on {column}: the data has NULLs in it")
        elif kind == "unique" and not rule.get("unique") and document.get("primary_key") != [column]:
            notes.append(f"skipped dbt test unique on {column}: the data has duplicates in it")
        elif kind not in ("not_null", "unique", "accepted_values", "relationships"):
            notes.append(f"skipped dbt test {kind} on {column}: no contract rule drafts it")
    keys = [c for c, rule in columns.items() if rule.get("_key")]
    for rule in columns.values():
        rule.pop("_key", None)
    if keys:
        notes.append(f"no range on {', '.join(keys)}: keys and ids grow with every new row")
    return notes


def profile_table(table: Table) -> dict[str, Any]:
    """rows, and per column: nulls, distinct, min, max (numeric), values (low-cardinality text)."""
    parts = ["count(*)"]
    for column, kind in table.columns.items():
        col = quote_ident(column)
        parts += [f"count(*) - count({col})", f"count(DISTINCT {col})"]
        numeric = _is_numeric(kind)
        parts += [f"min({col})::DOUBLE", f"max({col})::DOUBLE"] if numeric else ["NULL", "NULL"]
    row = table.connection.execute(f"SELECT {', '.join(parts)} FROM {table.relation}").fetchall()[0]
    profile: dict[str, Any] = {"rows": int(row[0]), "columns": {}}
    for i, (column, kind) in enumerate(table.columns.items()):
        nulls, distinct, low, high = row[1 + 4 * i : 5 + 4 * i]
        stats = {"type": kind, "nulls": int(nulls), "distinct": int(distinct), "min": low, "max": high}
        if kind.upper() == "VARCHAR" and 0 < distinct <= LOW_CARDINALITY:
            col = quote_ident(column)
            query = f"SELECT DISTINCT {col} FROM {table.relation} WHERE {col} IS NOT NULL ORDER BY 1"
            values = table.connection.execute(f"{query} LIMIT {LOW_CARDINALITY}").fetchall()
            stats["values"] = [v[0] for v in values]
        profile["columns"][column] = stats
    return profile


def _is_numeric(kind: str) -> bool:
    try:
        return is_numeric(canonical_type(kind))
    except ValueError:
        return False


def _contract(
    model: str, node: dict[str, Any], tests: list[dict[str, Any]], table: Table, profile: dict[str, Any]
) -> dict[str, Any]:
    rows = profile["rows"]
    declared = node.get("columns") or {}
    by_column: dict[str, set[str]] = {}
    for test in tests:
        by_column.setdefault(str(test["column"]), set()).add(str(test["name"]))
    keys = _primary_key(node, tests, profile)
    columns: dict[str, Any] = {}
    for column, stats in profile["columns"].items():
        rule = _column(column, stats, rows, declared.get(column, {}), by_column.get(column, set()), tests)
        columns[column] = rule
        if stats["min"] is not None and (column in keys or _is_id(column) or "references" in rule):
            rule["_key"] = True  # noted in the header, removed before the YAML is written
        elif stats["min"] is not None:
            rule.update(_range(stats))
    document: dict[str, Any] = {
        "contract": model,
        "version": "0.1.0",
        "owner": "TODO",
        "description": (node.get("description") or f"TODO: what one row of {model} is.").strip(),
        "dataset": {"model": model},
    }
    if keys:
        document["primary_key"] = keys
    document["row_count"] = {"min": 1 if rows else 0}
    document["extra_columns"] = "forbid"
    document["columns"] = columns
    return document


def _column(
    name: str, stats: dict[str, Any], rows: int, declared: dict[str, Any], dbt_tests: set[str], tests: list[dict]
) -> dict[str, Any]:
    rule: dict[str, Any] = {"type": _type_name(stats["type"])}
    if declared.get("description"):
        rule["description"] = declared["description"].strip()
    constraints = {c.get("type") for c in declared.get("constraints") or []}
    # dbt's tests and constraints say what was meant; the draft keeps them only where the data
    # agrees, so that it passes on the data it was drafted from (a disagreement is for review)
    if stats["nulls"] == 0:
        rule["nullable"] = False
    elif rows:
        rule["max_null_fraction"] = math.ceil(stats["nulls"] / rows * 100) / 100
    all_distinct = stats["distinct"] == rows - stats["nulls"]
    if ("unique" in dbt_tests or "unique" in constraints) and all_distinct:
        rule["unique"] = True
    accepted = [t["kwargs"].get("values") for t in tests if t["column"] == name and t["name"] == "accepted_values"]
    values = list(accepted[0]) if accepted and accepted[0] else []
    if "values" in stats:
        values += [v for v in stats["values"] if v not in values]
    if values:
        rule["accepted_values"] = values
    for test in tests:
        if test["column"] == name and test["name"] == "relationships":
            target = _ref_name(str(test["kwargs"].get("to", "")))
            if target:
                rule["references"] = {"model": target, "column": test["kwargs"].get("field")}
    return rule


def _is_id(column: str) -> bool:
    name = column.lower()
    return name == "id" or name.endswith("_id") or name.endswith("_key")


def _range(stats: dict[str, Any]) -> dict[str, Any]:
    """A range a reviewer would keep: `min: 0` for a column that is never negative (and `max: 1`
    for a fraction); today's maximum, or a negative minimum, is no promise: left out."""
    low, high = stats["min"], stats["max"]
    if low is None or low < 0:
        return {}
    integer = stats["type"].upper() in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT")
    if not integer and high is not None and high <= 1 and high > 0:
        return {"min": 0, "max": 1}
    return {"min": 0}


def _primary_key(node: dict[str, Any], tests: list[dict[str, Any]], profile: dict[str, Any]) -> list[str]:
    """dbt's primary_key constraint; else a dbt-tested unique + not_null column; else a column the
    data shows to be a key (no NULLs, every value distinct), preferring names ending in `id`."""
    for constraint in node.get("constraints") or []:
        if constraint.get("type") == "primary_key" and constraint.get("columns"):
            return list(constraint["columns"])
    tested: dict[str, set[str]] = {}
    for test in tests:
        tested.setdefault(str(test["column"]), set()).add(str(test["name"]))
    for column, names in tested.items():
        if {"unique", "not_null"} <= names and column in profile["columns"]:
            return [column]
    rows = profile["rows"]
    candidates = [c for c, s in profile["columns"].items() if rows and s["nulls"] == 0 and s["distinct"] == rows]
    candidates.sort(key=lambda c: (not c.endswith("id"), list(profile["columns"]).index(c)))
    return candidates[:1]


def _type_name(kind: str) -> str:
    try:
        return canonical_type(kind).lower()
    except ValueError:
        return kind.lower()


def _ref_name(to: str) -> str | None:
    """ "ref('stg_plans')" -> 'stg_plans'."""
    import re

    match = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", to)
    return match.group(1) if match else None
