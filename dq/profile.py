"""Reference profiles: what a dataset looked like when it was trusted, written by `dq profile`.

A profile is the baseline every drift check compares against, so it is versioned and checked
when read: a profile dq cannot interpret is an error, never "no drift". Everything in it is
computed inside DuckDB in three kinds of query (one aggregate pass for counts, quantile edges
and the fingerprint; one pass that bins every numeric column; one GROUP BY per categorical
column), so profiling a table never pulls a column into Python.

Per column, by DuckDB type:

* numeric (integers, floats, decimals): up to `NUMERIC_BINS` quantile bins. The edges are
  `quantile_disc` at 1/B, 2/B, ... of the finite values (duplicates from ties removed); bin i
  holds edges[i-1] < x <= edges[i], bin 0 everything <= edges[0] (and -inf), the last bin
  everything above the last edge (and +inf, NaN). Counts per bin are stored.
* categorical (VARCHAR, BOOLEAN, ENUM...): the `TOP_K` most frequent values that occur more
  than once, with their counts, and an `other` count for the rest. A value seen once says
  nothing about a distribution and may identify a person (an e-mail address), so it is never
  written to a profile, which is meant to be committed.
* anything else (timestamps, dates, lists): only the null fraction.

The data fingerprint is `row_count` plus `sum(hash(every column))` over all rows, modulo 2^64,
computed by DuckDB: independent of row order, changed by almost any edit to any value or row
(a duplicated row counts twice). It identifies *which* data a profile describes; it is not a
cryptographic digest, and DuckDB's `hash` may change between DuckDB versions.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from dq.contract import Contract
from dq.errors import DqError
from dq.source import Table
from dq.sql import literal, quote_ident
from dq.types import NUMERIC_TYPES, TEMPORAL_TYPES

PROFILE_FORMAT = "dq-profile"
PROFILE_VERSION = 1
NUMERIC_BINS = 20
TOP_K = 50


def column_kind(duckdb_type: str) -> str:
    """'numeric', 'categorical' or 'other', from the type DuckDB reports for a column."""
    base = duckdb_type.split("(", 1)[0].strip().upper()
    if base in NUMERIC_TYPES:
        return "numeric"
    if base in TEMPORAL_TYPES or base.startswith("TIMESTAMP") or base in {"INTERVAL", "TIME", "BLOB"}:
        return "other"
    if base in {"VARCHAR", "BOOLEAN", "ENUM", "UUID"} or base.startswith("ENUM"):
        return "categorical"
    return "other"


def bin_expression(column: str, edges: Sequence[float]) -> str:
    """SQL: the bin index (0..len(edges)) of a numeric column's value; NULL stays NULL.

    The same expression bins the reference and the current data, so their counts line up.
    """
    x = f"{quote_ident(column)}::DOUBLE"
    branches = " ".join(f"WHEN {x} <= {literal(float(e))} THEN {i}" for i, e in enumerate(edges))
    return f"CASE WHEN {x} IS NULL THEN NULL {branches} ELSE {len(edges)} END"


def build_profile(
    connection: duckdb.DuckDBPyConnection, table: Table, contract: Contract, columns: Sequence[str] | None = None
) -> dict[str, Any]:
    """The reference profile of `table` (every column, or `columns`), computed in DuckDB."""
    wanted = list(columns) if columns else list(table.columns)
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise DqError(f"cannot profile {table.label}: no column {', '.join(missing)}")
    kinds = {c: column_kind(table.columns[c]) for c in wanted}
    with connection.cursor() as cursor:
        overview = _overview(cursor, table, wanted, kinds)
        rows = int(overview["__rows"])
        numeric = [c for c in wanted if kinds[c] == "numeric"]
        edges = {c: _dedupe_edges(overview[f"edges:{c}"]) for c in numeric}
        bins = _bin_counts(cursor, table.relation, edges)
        profiled: dict[str, Any] = {}
        for column in wanted:
            present = int(overview[f"count:{column}"])
            entry: dict[str, Any] = {
                "type": table.columns[column],
                "kind": kinds[column],
                "count": present,
                "null_fraction": 0.0 if rows == 0 else (rows - present) / rows,
            }
            if kinds[column] == "numeric":
                entry["edges"] = edges[column]
                entry["counts"] = bins[column]
            elif kinds[column] == "categorical":
                top = _top_values(cursor, table.relation, column)
                entry["top"] = top
                entry["other"] = present - sum(top.values())
            profiled[column] = entry
    return {
        "format": PROFILE_FORMAT,
        "version": PROFILE_VERSION,
        "contract": contract.contract,
        "contract_version": contract.version,
        "dataset": contract.dataset.describe(),
        "relation": table.label,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "row_count": rows,
        "fingerprint": {
            "method": "row_count + sum(hash(all columns)) mod 2^64 (DuckDB)",
            "value": f"{rows}:{int(overview['__hash'] or 0) % 2**64:016x}",
        },
        "settings": {"numeric_bins": NUMERIC_BINS, "top_k": TOP_K},
        "columns": profiled,
    }


def _overview(
    cursor: duckdb.DuckDBPyConnection, table: Table, columns: Sequence[str], kinds: Mapping[str, str]
) -> dict[str, Any]:
    """One aggregate pass: row count, fingerprint, non-null counts, numeric quantile edges."""
    qs = ", ".join(literal(i / NUMERIC_BINS) for i in range(1, NUMERIC_BINS))
    every = ", ".join(quote_ident(c) for c in table.columns)
    parts = ["count(*) AS __rows", f"sum(hash({every}))::HUGEINT AS __hash"]
    for c in columns:
        q = quote_ident(c)
        parts.append(f"count({q}) AS {quote_ident('count:' + c)}")
        if kinds[c] == "numeric":
            parts.append(
                f"quantile_disc({q}::DOUBLE, [{qs}]) FILTER (WHERE isfinite({q}::DOUBLE)) "
                f"AS {quote_ident('edges:' + c)}"
            )
    result = cursor.execute(f"SELECT {', '.join(parts)} FROM {table.relation}")
    names = [d[0] for d in result.description or []]
    return dict(zip(names, result.fetchall()[0], strict=True))


def _dedupe_edges(edges: Sequence[float] | None) -> list[float]:
    return sorted({float(e) for e in edges or []})


def _bin_counts(
    cursor: duckdb.DuckDBPyConnection, relation: str, edges: Mapping[str, list[float]]
) -> dict[str, list[int]]:
    """Counts per bin of every numeric column, in one pass (`histogram` of the bin index)."""
    if not edges:
        return {}
    parts = [f"histogram({bin_expression(c, e)})" for c, e in edges.items()]
    row = cursor.execute(f"SELECT {', '.join(parts)} FROM {relation}").fetchall()[0]
    counts = {}
    for (column, column_edges), histogram in zip(edges.items(), row, strict=True):
        found = dict(histogram or {})
        counts[column] = [int(found.get(i, 0)) for i in range(len(column_edges) + 1)]
    return counts


def _top_values(cursor: duckdb.DuckDBPyConnection, relation: str, column: str) -> dict[str, int]:
    q = quote_ident(column)
    rows = cursor.execute(
        f"SELECT {q}::VARCHAR AS v, count(*) AS n FROM {relation} WHERE {q} IS NOT NULL "
        f"GROUP BY 1 HAVING count(*) > 1 ORDER BY n DESC, v LIMIT {TOP_K}"
    ).fetchall()
    return {str(v): int(n) for v, n in rows}


def write_profile(profile: Mapping[str, Any], path: Path) -> None:
    """Write atomically (temp file + rename): a drift check never reads half a profile."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
            json.dump(profile, f, indent=2, sort_keys=False)
            f.write("\n")
        os.chmod(f.name, 0o644)  # a temp file is created 0600; a profile is shared and committed
        os.replace(f.name, path)
    except OSError as exc:
        raise DqError(f"cannot write the profile to {path}: {exc}") from None


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read and sanity-check a profile; every problem is a DqError naming the file and the fix."""
    path = Path(path)
    fix = f"Fix: run `dq profile CONTRACT --output {path}` on data you trust"
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (relative to the current directory {Path.cwd()})"
        raise DqError(f"drift reference profile {path} not found{where}. {fix}") from None
    except (OSError, ValueError) as exc:
        raise DqError(f"drift reference profile {path} is unreadable: {exc}. {fix}") from None
    if not isinstance(profile, dict) or profile.get("format") != PROFILE_FORMAT:
        raise DqError(f"{path} is not a dq profile (no \"format\": \"{PROFILE_FORMAT}\"). {fix}")
    if profile.get("version") != PROFILE_VERSION:
        raise DqError(f"{path}: profile version {profile.get('version')!r} is not {PROFILE_VERSION}. {fix}")
    if not isinstance(profile.get("columns"), dict):
        raise DqError(f"{path}: profile has no `columns`. {fix}")
    return profile


def reference_column(profile: Mapping[str, Any], path: str | Path, column: str) -> dict[str, Any]:
    """One column of a loaded profile, checked to hold a distribution dq can compare against."""
    entry = profile["columns"].get(column)
    fix = f"Fix: re-run `dq profile` so that {path} includes it"
    if not isinstance(entry, dict):
        raise DqError(f"drift reference {path} has no column {column!r}. {fix}")
    kind = entry.get("kind")
    try:
        if kind == "numeric":
            edges, counts = [float(e) for e in entry["edges"]], [int(n) for n in entry["counts"]]
            if len(counts) != len(edges) + 1 or edges != sorted(edges):
                raise ValueError("edges and counts do not line up")
        elif kind == "categorical":
            {str(k): int(v) for k, v in entry["top"].items()}
            int(entry["other"])
        else:
            raise ValueError(f"a {entry.get('type')} column has no distribution to compare")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DqError(f"drift reference {path}: column {column!r} is unusable ({exc}). {fix}") from None
    return entry
