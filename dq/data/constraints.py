"""What the database already proves: keys DuckDB enforces with PRIMARY KEY / UNIQUE constraints.

DuckDB refuses every INSERT or UPDATE that would duplicate a key it has a PRIMARY KEY or UNIQUE
constraint on (an ART index checks each write), so a table that has one cannot hold a duplicated
key, and a PRIMARY KEY column cannot hold a NULL. `dq dbt export` creates such constraints
through dbt's enforced model contracts. The batch engine then needs no `count(DISTINCT)` for a
`unique` check on exactly those columns, and reports it as passed by the database's constraint.

Only what a constraint proves is taken from it:

- `unique` on a column set: a constraint on exactly that set (not a subset, not a superset).
  dq counts the rows whose *complete* key (no part NULL, nor NaN on a FLOAT/DOUBLE part) repeats;
  a UNIQUE constraint lets any number of keys with a NULL part in, and those are the rows dq
  leaves out too, so it proves dq's count is 0.
- `not_null` on a column: a PRIMARY KEY containing it, unless the column is FLOAT/DOUBLE (a
  PRIMARY KEY keeps NULL out, not NaN, and NaN is a missing value to dq).

Constraints are read from `duckdb_constraints()` for base tables of the opened DuckDB file only:
a view, an attached file of another format or dq's own snapshot (a Parquet file) proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dq.contract.types import column_family
from dq.data.source import Table

KEY_CONSTRAINTS = ("PRIMARY KEY", "UNIQUE")


@dataclass(frozen=True)
class KeyConstraint:
    kind: str  # PRIMARY KEY | UNIQUE
    columns: frozenset[str]
    text: str  # as DuckDB prints it: PRIMARY KEY(customer_id)

    def describe(self, table: Table) -> str:
        return f"{self.text} on {table.label}"


def key_constraints(table: Table) -> list[KeyConstraint]:
    """The PRIMARY KEY and UNIQUE constraints DuckDB enforces on `table`; [] for anything but a
    base table of the opened file, or when the catalog cannot be read (no proof: checks run)."""
    if table.copy_of is not None:
        return []
    try:
        rows = table.connection.execute(
            "SELECT c.constraint_type, c.constraint_column_names, c.constraint_text "
            "FROM duckdb_constraints() AS c JOIN duckdb_tables() AS t ON c.table_oid = t.table_oid "
            "WHERE c.database_name = current_database() AND c.schema_name = ? AND c.table_name = ? "
            "AND NOT t.temporary AND c.constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
            [table.schema, table.name],
        ).fetchall()
    except duckdb.Error:
        return []
    return [
        KeyConstraint(str(kind), frozenset(str(c) for c in columns), str(text))
        for kind, columns, text in rows
        if columns and all(str(c) in table.columns for c in columns)
    ]


def proves_unique(columns: tuple[str, ...], constraints: list[KeyConstraint]) -> KeyConstraint | None:
    """The constraint on exactly `columns`, if any."""
    wanted = frozenset(columns)
    return next((c for c in constraints if c.columns == wanted and len(columns) == len(wanted)), None)


def proves_not_null(column: str, table: Table, constraints: list[KeyConstraint]) -> KeyConstraint | None:
    """A PRIMARY KEY holding `column`, if the column is of a type whose only missing value is NULL."""
    if column_family(table.columns.get(column, "")) == "float":
        return None
    return next((c for c in constraints if c.kind == "PRIMARY KEY" and column in c.columns), None)
