"""The results history: every run's verdict and every check's observed value, in one DuckDB file.

Why a database and not the JSON files alone: a slow drift (a mean creeping towards its bound, a
null fraction growing run after run) is only visible across runs, and a query over a table answers
"what did `income.mean` look like over the last 30 runs" without opening 30 files.

Durability rules, in the order they matter:

- One run is appended in ONE transaction (runs + contracts + checks rows). DuckDB writes a
  transaction to its WAL only at COMMIT, so a process killed half-way leaves no trace of that run:
  never a `passed` run without its checks, never checks without their run.
- DuckDB lets one process write a file at a time. The file is opened only for the short append,
  and a lock held by another process is retried with a bounded backoff (`LOCK_TIMEOUT_S`). If the
  lock never frees up, the append raises `HistoryError` and the run is an error (exit 3): a result
  that could not be made durable never becomes a verdict.
- The schema is versioned (`dq_meta.schema_version`) and created on first use, under an exclusive
  lock on the history's directory, so a process never opens a file another process is still creating
  (DuckDB reads a half-written header as "not a valid DuckDB database").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dq.data.fingerprint import FINGERPRINT_FACT, fingerprint_aggregates
from dq.errors import DqError

if TYPE_CHECKING:
    from dq.checks.result import CheckResult, ContractResult, RunResult
    from dq.config import Settings
    from dq.data.source import Table

SCHEMA_VERSION = "1"
LOCK_TIMEOUT_S = 10.0
FINGERPRINT_VERSION = "v1"

_DDL = (
    "CREATE TABLE IF NOT EXISTS dq_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, started_at TIMESTAMP, finished_at TIMESTAMP,
        recorded_at TIMESTAMP NOT NULL, status VARCHAR NOT NULL, command VARCHAR,
        result_path VARCHAR, dq_version VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS contracts (
        run_id VARCHAR NOT NULL, contract VARCHAR NOT NULL, path VARCHAR, contract_version VARCHAR,
        dataset VARCHAR, relation VARCHAR, dataset_fingerprint VARCHAR, row_count BIGINT,
        status VARCHAR NOT NULL, error VARCHAR, duration_s DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS checks (
        run_id VARCHAR NOT NULL, contract VARCHAR NOT NULL, contract_version VARCHAR,
        dataset VARCHAR, relation VARCHAR, dataset_fingerprint VARCHAR, check_name VARCHAR NOT NULL,
        kind VARCHAR, columns VARCHAR, severity VARCHAR, engine VARCHAR, status VARCHAR NOT NULL,
        observed VARCHAR, observed_value DOUBLE, expected VARCHAR, failing_rows BIGINT, message VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS events (
        run_id VARCHAR NOT NULL, event VARCHAR NOT NULL, status VARCHAR NOT NULL,
        exit_code INTEGER, time TIMESTAMP NOT NULL, detail VARCHAR)""",
)


class HistoryError(DqError):
    """The history file could not be opened, read or appended to."""


# ---------------------------------------------------------------------------------------------
# Fingerprint: computed on the warehouse connection, while the validated relation is still open.


def dataset_fingerprint(table: Table) -> tuple[str, int] | None:
    """A content fingerprint of the relation and its row count, in one scan inside DuckDB, or
    none at all when the engine's pass already measured it (`Table.facts`).

    `sum(hash(row))` over every row (as a HUGEINT, so it does not wrap) is order-independent and,
    unlike `bit_xor`, does not cancel out duplicated rows: a join fan-out changes it. It is combined
    with the column names and types (DuckDB's row hash ignores names). Equal fingerprints mean the
    same multiset of rows with near certainty; they are comparable only between runs of the same
    DuckDB version (its hash function is not a stable format). None if the scan fails: the
    fingerprint documents a run, it never decides one.
    """
    measured = table.facts.get(FINGERPRINT_FACT)
    if measured is None:
        rows_sql, total_sql = fingerprint_aggregates(table)
        try:
            measured = table.connection.execute(f"SELECT {rows_sql}, {total_sql} FROM {table.relation}").fetchall()[0]
        except duckdb.Error:
            return None
    rows, total = measured
    columns = json.dumps(sorted(table.columns.items()))
    digest = hashlib.sha256(f"{columns}\n{total}".encode()).hexdigest()[:16]
    return f"{FINGERPRINT_VERSION}:{rows}:{digest}", int(rows)


# ---------------------------------------------------------------------------------------------
# Writing.


def append_run(
    path: Path,
    run: RunResult,
    fingerprints: Mapping[str, tuple[str, int] | None] | None = None,
    *,
    timeout_s: float | None = None,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Append one run (keyed by contract path in `fingerprints`) atomically, or raise HistoryError.

    `before_commit` runs inside the open transaction; tests use it to kill a run mid-append.
    """
    fingerprints = fingerprints or {}
    with _writer(path, timeout_s) as con:
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run.run_id,
                _timestamp(run.started_at),
                _timestamp(run.finished_at),
                _utcnow(),
                run.status.value,
                _command_line(),
                run.result_path,
                _dq_version(),
            ],
        )
        for contract in run.contracts:
            fingerprint, row_count = fingerprints.get(contract.path) or (None, None)
            con.execute(
                "INSERT INTO contracts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run.run_id,
                    contract.contract,
                    contract.path,
                    contract.version,
                    contract.dataset,
                    contract.relation,
                    fingerprint,
                    row_count,
                    contract.status.value,
                    contract.error,
                    contract.duration_s,
                ],
            )
            rows = [_check_row(run.run_id, contract, fingerprint, check) for check in contract.checks]
            if rows:  # one multi-row INSERT: executemany runs a statement per row (~1 ms each)
                values = ", ".join([f"({', '.join(['?'] * len(rows[0]))})"] * len(rows))
                con.execute(f"INSERT INTO checks VALUES {values}", [v for row in rows for v in row])
        if before_commit is not None:
            before_commit()


def record_event(
    settings: Settings, run_id: str, event: str, exit_code: int, *, detail: str = "", timeout_s: float | None = None
) -> None:
    """Record what happened after the verdict, e.g. ("training", 1): "validation passed, training
    failed" is then a fact in the history, not a guess from a missing log line."""
    with _writer(settings.history, timeout_s) as con:
        con.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, event, "passed" if exit_code == 0 else "failed", exit_code, _utcnow(), detail or None],
        )


@contextmanager
def _writer(path: Path, timeout_s: float | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside one transaction: committed on success, rolled back on any error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryError(f"cannot create the results history directory {path.parent}: {exc}") from None
    _create_atomically(path)
    con = connect(path, read_only=False, timeout_s=timeout_s)
    try:
        con.execute("BEGIN TRANSACTION")
        _ensure_schema(con, path)
        yield con
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _rollback(con)
        raise HistoryError(f"cannot append to the results history {path}: {exc}") from None
    except BaseException:
        _rollback(con)
        raise
    finally:
        con.close()


def _create_atomically(path: Path) -> None:
    """Make `path` a complete history file if it does not exist yet, so that no process ever
    opens one another process is still creating (DuckDB reads a half-written header as "not a
    valid DuckDB database"). Every writer takes an exclusive lock on the history's directory to look, and
    the one that finds no file creates it, schema and checkpoint included, before letting go."""
    with _creation_lock(path):
        if path.exists():
            return
        con = duckdb.connect(str(path))
        try:
            con.execute("BEGIN TRANSACTION")
            _ensure_schema(con, path)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()


@contextmanager
def _creation_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: one process at a time, as DuckDB's own lock allows
        yield
        return
    # the history's directory is the lock: no lock file is left beside the history
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    for statement in _DDL:
        con.execute(statement)
    found = con.execute("SELECT value FROM dq_meta WHERE key = 'schema_version'").fetchall()
    if not found:
        con.execute("INSERT INTO dq_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    elif found[0][0] != SCHEMA_VERSION:
        raise HistoryError(
            f"results history {path} has schema version {found[0][0]}, this dq writes {SCHEMA_VERSION}. "
            "Fix: point --history / DQ_HISTORY at a new file, or upgrade dq"
        )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction open (BEGIN failed): nothing to undo
        con.execute("ROLLBACK")


def _check_row(run_id: str, contract: ContractResult, fingerprint: str | None, check: CheckResult) -> list[Any]:
    return [
        run_id,
        contract.contract,
        contract.version,
        contract.dataset,
        contract.relation,
        fingerprint,
        check.name,
        check.kind,
        json.dumps(list(check.columns)),
        check.severity,
        check.engine,
        check.status.value,
        None if check.observed is None else json.dumps(check.observed, default=str),
        numeric_value(check),
        check.expected,
        check.failing_rows,
        check.message or None,
    ]


def numeric_value(check: CheckResult) -> float | None:
    """The number to chart for a check: its observed metric, else its failing-row count."""
    value = check.observed
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return float(value)
    return None if check.failing_rows is None else float(check.failing_rows)


# ---------------------------------------------------------------------------------------------
# Opening, with a bounded wait for another process's lock.


def connect(path: Path, *, read_only: bool, timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the history file, retrying while another process holds its lock (up to `timeout_s`,
    default LOCK_TIMEOUT_S)."""
    timeout_s = LOCK_TIMEOUT_S if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            remaining = deadline - time.monotonic()
            if "lock" not in str(exc).lower():
                raise HistoryError(f"cannot open the results history {path}: {exc}") from None
            if remaining <= 0:
                raise HistoryError(
                    f"the results history {path} stayed locked by another process for {timeout_s:g} s, so this "
                    f"run could not be recorded ({exc}). Fix: retry; if it persists, find the process holding it"
                ) from None
            time.sleep(min(delay * random.uniform(0.5, 1.0), remaining))
            delay = min(delay * 2, 0.2)


# ---------------------------------------------------------------------------------------------
# Reading (dq history).


def read_rows(path: Path, query: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    """Run a read query on the history; an empty list if nothing was ever recorded there."""
    if not path.is_file():
        raise HistoryError(
            f"no results history at {path} (nothing recorded yet, or the wrong file). "
            "Fix: run `dq validate` first, or pass --history / DQ_HISTORY"
        )
    con = connect(path, read_only=True)
    try:
        if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'runs'").fetchall():
            return []
        cursor = con.execute(query, list(params))
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error as exc:
        raise HistoryError(f"cannot read the results history {path}: {exc}") from None
    finally:
        con.close()


def recent_runs(path: Path, limit: int) -> list[dict[str, Any]]:
    """The latest runs, newest first, with their contracts and the gate's training outcome."""
    return read_rows(
        path,
        """SELECT r.run_id, r.started_at AS time, r.status, r.command,
                  (SELECT string_agg(c.contract || ' ' || coalesce(c.contract_version, '?'), ', ' ORDER BY c.contract)
                     FROM contracts c WHERE c.run_id = r.run_id) AS contracts,
                  (SELECT string_agg(e.event || ' ' || e.status || ' (' || e.exit_code || ')', ', ' ORDER BY e.time)
                     FROM events e WHERE e.run_id = r.run_id) AS events
           FROM runs r ORDER BY r.recorded_at DESC LIMIT ?""",
        [limit],
    )


def check_series(path: Path, contract: str, check: str, limit: int) -> list[dict[str, Any]]:
    """One check of one contract across the latest `limit` runs, oldest first."""
    return read_rows(
        path,
        """SELECT * FROM (
             SELECT r.started_at AS time, r.recorded_at, c.run_id, c.contract_version AS version,
                    c.dataset_fingerprint AS fingerprint,
                    c.status, c.observed, c.observed_value, c.expected, c.failing_rows
             FROM checks c JOIN runs r USING (run_id)
             WHERE c.contract = ? AND c.check_name = ?
             ORDER BY r.recorded_at DESC LIMIT ?)
           ORDER BY recorded_at""",
        [contract, check, limit],
    )


def contract_overview(path: Path, contract: str, limit: int) -> list[dict[str, Any]]:
    """Per check of a contract: its latest status and observed value, and its numeric series
    over the latest `limit` runs (oldest first) for a sparkline."""
    return read_rows(
        path,
        """WITH recent AS (
             SELECT c.*, r.recorded_at,
                    row_number() OVER (PARTITION BY c.check_name ORDER BY r.recorded_at DESC) AS age
             FROM checks c JOIN runs r USING (run_id) WHERE c.contract = ?)
           SELECT check_name AS "check",
                  count(*) AS runs,
                  sum(CASE WHEN status IN ('failed', 'error') THEN 1 ELSE 0 END) AS failed_runs,
                  arg_min(status, age) AS last_status,
                  arg_min(observed, age) AS last_observed,
                  arg_min(expected, age) AS expected,
                  list(observed_value ORDER BY recorded_at) AS series
           FROM recent WHERE age <= ? GROUP BY check_name ORDER BY check_name""",
        [contract, limit],
    )


def baseline(path: Path, contract: str, dataset: str | None, check: str, kind: str, window: int) -> tuple[float, ...]:
    """One check's past values, oldest first (`baselines` for one check)."""
    return baselines(path, contract, dataset, {check: (kind, window)}).get(check, ())


def baselines(
    path: Path, contract: str, dataset: str | None, wanted: Mapping[str, tuple[str, int]]
) -> dict[str, tuple[float, ...]]:
    """Per check name (with its kind and window in `wanted`), its observed values in the latest
    `window` runs that count, oldest first: what this run's `anomaly` / `change_from_last` checks
    are judged against (dq.checks.anomaly). One open of the file and one query per contract:
    opening the history costs more than reading it.

    A run counts when it checked the same contract name on the same dataset, the check has the
    same name and kind, neither the check nor that contract's result was `error` (an error's
    value, if any, is no measurement of the data), and its value is a finite number. Failed and
    warned runs count: median and MAD ignore a minority of outliers by construction, and leaving
    failed runs out would make a real, lasting change of level fail forever. This run is not in
    the history yet (it is appended after its verdict), so it is never its own baseline.
    No history file yet: no runs. The creation lock is taken to look, so a file another process
    is still creating is never opened half-written."""
    if not wanted or not path.parent.is_dir():
        return {}
    with _creation_lock(path):
        exists = path.is_file()
    if not exists:
        return {}
    values = ", ".join(["(?, ?, ?)"] * len(wanted))
    rows = read_rows(
        path,
        f"""WITH wanted(check_name, kind, window_size) AS (VALUES {values}),
           ranked AS (
             SELECT c.check_name, c.observed_value AS value, w.window_size,
                    row_number() OVER (PARTITION BY c.check_name ORDER BY r.recorded_at DESC, c.run_id DESC) AS age
             FROM checks c JOIN runs r USING (run_id) JOIN wanted w ON w.check_name = c.check_name AND w.kind = c.kind
             WHERE c.contract = ? AND c.dataset IS NOT DISTINCT FROM ?
               AND c.status <> 'error' AND isfinite(c.observed_value)
               AND NOT EXISTS (SELECT 1 FROM contracts k WHERE k.run_id = c.run_id AND k.contract = c.contract
                               AND k.dataset IS NOT DISTINCT FROM c.dataset AND k.status = 'error'))
           SELECT check_name, value FROM ranked WHERE age <= window_size ORDER BY check_name, age DESC""",
        [*(v for name, (kind, window) in wanted.items() for v in (name, kind, window)), contract, dataset],
    )
    found: dict[str, list[float]] = {}
    for row in rows:
        found.setdefault(row["check_name"], []).append(float(row["value"]))
    return {name: tuple(series) for name, series in found.items()}


def known_names(path: Path, contract: str | None = None) -> list[str]:
    """Contract names in the history, or the check names of one contract (for error messages)."""
    if contract is None:
        rows = read_rows(path, "SELECT DISTINCT contract AS name FROM contracts ORDER BY 1")
    else:
        rows = read_rows(
            path, "SELECT DISTINCT check_name AS name FROM checks WHERE contract = ? ORDER BY 1", [contract]
        )
    return [row["name"] for row in rows]


# ---------------------------------------------------------------------------------------------


def _timestamp(value: str | None) -> datetime | None:
    """ISO-8601 (as the runner writes it) -> naive UTC, the one time zone the history stores."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _command_line() -> str:
    """How this process was started: the runs table says which command (validate, gate) ran."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return shlex.join([program, *sys.argv[1:]])


def _dq_version() -> str:
    from dq import __version__

    return __version__
