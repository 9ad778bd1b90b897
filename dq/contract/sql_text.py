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
