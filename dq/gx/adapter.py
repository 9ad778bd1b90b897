"""Great Expectations adapted to DuckDB: what the engine and Data Docs both need to run GX on the
database dq opened (read-only, through its own connection), quietly, with exact results.

Each adaptation works around a named GX / duckdb-engine behaviour; none changes GX for any other
engine in the process.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from dq.data.source import Table


def table_asset(datasource: Any, table: Table, name: str = "table") -> Any:
    """A table asset whose names reach SQL exactly as DuckDB spells them.

    GX lower-cases a plain schema name and quotes an already quoted one a second time; an
    SQLAlchemy `quoted_name(quote=True)` survives both and is quoted once when compiled.
    """
    import sqlalchemy as sa

    return datasource.add_table_asset(
        name,
        table_name=sa.sql.quoted_name(table.name, quote=True),
        schema_name=sa.sql.quoted_name(table.schema, quote=True),
    )


def creator(table: Table) -> Callable[[], Any]:
    """SQLAlchemy connections as cursors of dq's own read-only DuckDB connection.

    A second `duckdb.connect()` to the same file in the same process must use the same
    configuration, and duckdb-engine always adds a `custom_user_agent`, so even
    `connect_args={"read_only": True}` fails with "different configuration". A cursor shares the
    database instance, so GX reads exactly the read-only database dq opened.
    """
    from duckdb_engine import ConnectionWrapper

    return lambda: ConnectionWrapper(table.connection.cursor())


def import_gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with quiet():
        import great_expectations as gx
    return gx


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Keep GX's prints, progress bars and warnings off dq's stdout/stderr."""
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        yield


def disable_progress_bars(context: Any) -> None:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)


def install_result_buffering() -> None:
    """Make `SqlAlchemyExecutionEngine.execute_query` buffer DuckDB results before returning.

    GX 1.x runs `with self.get_connection() as connection: result = connection.execute(query)`
    and returns `result` after the `with` block has closed the connection. Most drivers keep the
    cursor's rows; duckdb-engine shares one DuckDB connection between all cursors, so the rollback
    on close discards the pending result and `resolve_metric_bundle` reads `[]`, failing every
    expectation with `IndexError: list index out of range` (GX issues #10738 and #11579).

    The fix freezes the result inside the `with` block and returns a fresh `Result` over the
    buffered rows (it still has fetchall/fetchone/fetchmany/scalar/iteration). It only touches
    engines whose dialect is duckdb, and installing it twice is a no-op. The original method stays
    reachable as `__wrapped__`.
    """
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    current = SqlAlchemyExecutionEngine.execute_query
    if getattr(current, "_dq_duckdb_buffering", False):
        return

    def execute_query(self: Any, query: Any) -> Any:
        if self.dialect_name != "duckdb":
            return current(self, query)
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            if result.returns_rows:
                return result.freeze()()
        return result

    execute_query._dq_duckdb_buffering = True  # type: ignore[attr-defined]
    execute_query.__wrapped__ = current  # type: ignore[attr-defined]
    execute_query.__doc__ = current.__doc__
    SqlAlchemyExecutionEngine.execute_query = execute_query


def fix_reflection(engine: Any) -> None:
    """Column reflection for this one engine from DuckDB's information_schema.

    On SQLAlchemy 2.1 the PostgreSQL reflection duckdb-engine inherits joins `pg_collation` (and
    its primary-key query casts to REGCLASS); DuckDB has neither, so `inspector.get_columns`
    raises, and GX silently falls back to `SELECT * FROM <table> LIMIT 1`, which drops the
    schema (a table outside `main` is "not found") and every column type. The dialect *instance*
    of GX's own engine is patched, not the dialect class: no other engine in the process changes.
    """
    import sqlalchemy as sa

    dialect = engine.dialect
    if getattr(dialect, "_dq_reflection", False):
        return
    names = dialect.ischema_names

    def sa_type(data_type: str) -> Any:
        text = data_type.strip().lower()
        if text.startswith(("decimal", "numeric")):
            return sa.Numeric()
        kind = (
            names.get(text)
            or names.get(text.split("(")[0])
            or {
                "double": sa.Double,
                "float": sa.Float,
                "blob": sa.LargeBinary,
            }.get(text)
        )
        return kind() if kind is not None else sa.types.NullType()

    def get_columns(connection: Any, table_name: str, schema: str | None = None, **_: Any) -> list[dict]:
        # `x.t` is schema x of the opened file, or table t of an attached database x: the gate's
        # snapshot is one (dq/gate/snapshot.py), and without its columns GX would fall back to LIMIT 1
        rows = connection.execute(
            sa.text(
                "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_name = :table AND ((table_catalog = current_database() "
                "AND table_schema = coalesce(:schema, current_schema())) "
                "OR (table_catalog = :schema AND table_schema = 'main')) "
                "ORDER BY ordinal_position"
            ),
            {"schema": schema, "table": str(table_name)},
        ).fetchall()
        if not rows:
            raise sa.exc.NoSuchTableError(table_name)
        return [
            {"name": name, "type": sa_type(kind), "nullable": nullable == "YES", "default": default}
            for name, kind, nullable, default in rows
        ]

    def get_pk_constraint(connection: Any, table_name: str, schema: str | None = None, **_: Any) -> dict:
        return {"constrained_columns": [], "name": None}

    dialect.get_columns = get_columns
    dialect.get_pk_constraint = get_pk_constraint
    dialect._dq_reflection = True
