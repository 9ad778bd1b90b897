"""One DuckDB connection handed to engines as their 'cursor' too.

Engines open cursors of a table's connection for Ibis and for their own SQL; a DuckDB cursor is a
new connection to the same database and does not see objects registered on another one (an Arrow
object: a caller's frame, a Delta table's dataset). So a table whose data is such an object lives
on a `SharedConnection`: `cursor()` returns the same connection and a borrower's `close()` leaves
it open. Only the owner (the run's connection, `owner=True`) closes the real one.
"""

from __future__ import annotations

from typing import Any

import duckdb


class SharedConnection:
    def __init__(self, connection: duckdb.DuckDBPyConnection, owner: bool = False) -> None:
        self._connection = connection
        self._owner = owner

    def cursor(self) -> SharedConnection:
        return SharedConnection(self._connection)

    def close(self) -> None:
        if self._owner:
            self._connection.close()

    def __enter__(self) -> SharedConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._connection, attribute)


def raw(connection: Any) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection itself, under a SharedConnection or not."""
    return connection._connection if isinstance(connection, SharedConnection) else connection


def shares(connection: Any) -> bool:
    return isinstance(connection, SharedConnection)
