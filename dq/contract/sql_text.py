"""What DuckDB's parser makes of a contract's SQL text, before anything runs it.

A custom check's query is refused at load time unless it is one SELECT as written and once dq
wraps it: `x < 0); copy (select 42) to 'f.csv'; select (0` is three statements inside a wrapper.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def single_select(query: str, what: str) -> None:
    """Raise ValueError (its text starting with `what`) unless DuckDB's parser reads `query` as
    exactly one SELECT statement."""
    import duckdb  # lazy: `dq --help` does not load DuckDB

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise ValueError(f"{what}does not parse: {str(exc).splitlines()[0]}") from None
    kinds = [statement.type.name for statement in statements]
    if kinds != ["SELECT"]:
        raise ValueError(f"{what}must be exactly one SELECT query, got {', '.join(kinds) or 'none'}")


def parse_expression(expression: str) -> dict[str, Any]:
    """DuckDB's parse of `SELECT (expression) FROM __dq_dataset` (json_serialize_sql), after
    proving the text is exactly one expression; ValueError otherwise."""
    import duckdb  # lazy: `dq --help` does not load DuckDB

    try:
        duckdb.SQLExpression(expression)
    except duckdb.Error as exc:
        raise ValueError(f"is not one SQL expression: {str(exc).splitlines()[0]}") from None
    query = f"SELECT (\n{expression}\n) AS __dq_expression FROM __dq_dataset"
    with duckdb.connect() as con:
        parsed: dict[str, Any] = json.loads(con.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
    if parsed.get("error"):
        raise ValueError(f"does not parse: {parsed.get('error_message', 'syntax error')}")
    node = parsed["statements"][0]["node"]
    if len(node["select_list"]) != 1 or node["from_table"].get("table_name") != "__dq_dataset":
        raise ValueError("is not one SQL expression")
    return parsed


def nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every expression node of a parse tree, depth first."""
    if isinstance(tree, dict):
        if "class" in tree:
            yield tree
        for value in tree.values():
            yield from nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from nodes(value)


def function_names(parsed: dict[str, Any]) -> set[str]:
    """The functions an expression calls, by name (operators such as `+` included)."""
    select = parsed["statements"][0]["node"]["select_list"]
    return {str(n.get("function_name", "")).lower() for n in nodes(select) if n["class"] == "FUNCTION"}


def _is_null_constant(node: Any) -> bool:
    if not isinstance(node, dict) or node.get("class") != "CONSTANT":
        return False
    return node.get("literal", {}).get("kind") == "NULL_LITERAL" or bool(node.get("value", {}).get("is_null"))


def one_boolean_expression(expression: str) -> None:
    """Raise ValueError unless DuckDB's parser reads `expression` as exactly one expression over
    the row that can decide it: it is pasted, in parentheses on lines of its own, into predicates
    dq and the dbt exporter build, so it must not be able to close them (`x) OR (y`), add a
    statement (`a; drop table t`), read another relation (a subquery), expand to several columns
    (`COLUMNS(*) >= 0` is AND-ed by DuckDB under dq's NOT and fails only if every column does),
    compare with NULL (`x <> NULL` is never true nor false: it can never fail) or change from run
    to run (`random()`)."""
    import duckdb

    parsed = parse_expression(expression)
    select = parsed["statements"][0]["node"]["select_list"]
    found = list(nodes(select))
    classes = {n["class"] for n in found}
    if "SUBQUERY" in classes:
        raise ValueError("reads another relation (a subquery): write a custom check under `checks:` instead")
    if "WINDOW" in classes:
        raise ValueError("uses a window function: it must hold row by row")
    if "STAR" in classes:
        raise ValueError("uses * or COLUMNS(...): name the columns, one rule per column")
    for n in found:
        operands = [n.get("left"), n.get("right")] if n["class"] == "COMPARISON" else []
        if n["class"] == "OPERATOR" and n.get("type") in ("COMPARE_IN", "COMPARE_NOT_IN"):
            operands = n.get("children", [])
        if any(_is_null_constant(o) for o in operands):
            raise ValueError("compares with NULL, which is never true or false: use IS NULL / IS NOT NULL")
    with duckdb.connect() as con:
        volatile = {
            str(name).lower()
            for (name,) in con.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE stability = 'VOLATILE'"
            ).fetchall()
        }
    if used := sorted(function_names(parsed) & volatile):
        raise ValueError(f"calls {', '.join(used)}, which can give another answer on every run")
