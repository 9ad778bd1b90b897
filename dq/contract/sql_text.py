"""What DuckDB's parser makes of a contract's SQL text, before anything runs it.

A custom check's query is refused at load time unless it is one SELECT as written and once dq
wraps it: `x < 0); copy (select 42) to 'f.csv'; select (0` is three statements inside a wrapper.
"""

from __future__ import annotations


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


def one_boolean_expression(expression: str) -> None:
    """Raise ValueError unless DuckDB's parser reads `expression` as exactly one expression over
    the row, without a subquery or a window: it is pasted, in parentheses on lines of its own,
    into predicates dq and the dbt exporter build, so it must not be able to close them
    (`x) OR (y`), add a statement (`a; drop table t`) or read another relation."""
    import json

    import duckdb  # lazy: `dq --help` does not load DuckDB

    try:
        duckdb.SQLExpression(expression)
    except duckdb.Error as exc:
        raise ValueError(f"is not one SQL expression: {str(exc).splitlines()[0]}") from None
    query = f"SELECT (\n{expression}\n) AS __dq_expression FROM __dq_dataset"
    with duckdb.connect() as con:
        parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
    if parsed.get("error"):
        raise ValueError(f"does not parse: {parsed.get('error_message', 'syntax error')}")
    node = parsed["statements"][0]["node"]
    tree = json.dumps(node["select_list"])
    if len(node["select_list"]) != 1 or node["from_table"].get("table_name") != "__dq_dataset":
        raise ValueError("is not one SQL expression")
    if '"SUBQUERY"' in tree:
        raise ValueError("reads another relation (a subquery): write a custom check under `checks:` instead")
    if '"WINDOW"' in tree:
        raise ValueError("uses a window function: it must hold row by row")
