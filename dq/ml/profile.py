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
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dq.atomic import write_atomically
from dq.checks.sql import literal, quote_ident
from dq.contract.model import Contract
from dq.contract.types import NUMERIC_TYPES, TEMPORAL_TYPES
from dq.data.source import Table
from dq.errors import DqError

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
    """Write atomically (temp file + rename): a drift check never reads half a profile; and only
    a profile that `load_profile` will accept."""
    validate_profile(profile, path)
    try:
        write_atomically(path, json.dumps(profile, indent=2, sort_keys=False) + "\n")
    except OSError as exc:
        raise DqError(f"cannot write the profile to {path}: {exc}") from None


# -- reading a profile: strictly, because a drift check is only as good as its reference ----------
#
# A profile is a file people commit, copy and edit. Whatever dq cannot interpret exactly (a
# negative or fractional count, NaN or unordered edges, counts that do not add up, a kind that
# does not fit the type, a key dq does not know) is an error naming the file and the key; and a
# profile of another relation, or of a column whose type has changed, is refused when it is
# compared (`reference_column`). None of these may turn into "no drift".

Count = Annotated[int, Field(strict=True, ge=0)]
Fraction = Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
Edge = Annotated[float, Field(strict=True, allow_inf_nan=False)]
NULL_FRACTION_TOLERANCE = 1e-9


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Column(_Strict):
    type: Annotated[str, Field(min_length=1)]
    count: Count
    null_fraction: Fraction

    @model_validator(mode="after")
    def _type_fits_kind(self) -> _Column:
        kind = getattr(self, "kind")  # noqa: B009 - declared by each subclass
        if column_kind(self.type) != kind:
            raise ValueError(f"a {self.type} column is {column_kind(self.type)}, but the profile says {kind}")
        return self


class NumericColumn(_Column):
    kind: Literal["numeric"]
    edges: list[Edge]
    counts: list[Count]

    @field_validator("edges")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if any(b <= a for a, b in pairwise(edges)):
            raise ValueError("not strictly increasing")
        return edges

    @model_validator(mode="after")
    def _bins_line_up(self) -> NumericColumn:
        if len(self.counts) != len(self.edges) + 1:
            raise ValueError(f"{len(self.edges)} edges need {len(self.edges) + 1} counts, not {len(self.counts)}")
        if sum(self.counts) != self.count:
            raise ValueError(f"counts add up to {sum(self.counts)}, not to the column's count {self.count}")
        return self


class CategoricalColumn(_Column):
    kind: Literal["categorical"]
    top: dict[str, Annotated[int, Field(strict=True, ge=2)]]  # values seen once are never written
    other: Count

    @model_validator(mode="after")
    def _counts_add_up(self) -> CategoricalColumn:
        if sum(self.top.values()) + self.other != self.count:
            raise ValueError(
                f"top counts ({sum(self.top.values())}) + other ({self.other}) are not the column's count {self.count}"
            )
        return self


class OtherColumn(_Column):
    kind: Literal["other"]


COLUMN_MODELS: dict[str, type[_Column]] = {
    "numeric": NumericColumn,
    "categorical": CategoricalColumn,
    "other": OtherColumn,
}


class _Fingerprint(_Strict):
    method: str
    value: Annotated[str, Field(pattern=r"^[0-9]+:[0-9a-f]{16}$")]


class _Settings(_Strict):
    numeric_bins: Annotated[int, Field(strict=True, ge=2)]
    top_k: Annotated[int, Field(strict=True, ge=1)]


class ProfileHeader(_Strict):
    """Everything but the columns (validated one by one, so an error names its column)."""

    format: Literal["dq-profile"]
    version: Literal[1]  # the schema version: a profile of another version is re-written, not guessed at
    contract: Annotated[str, Field(min_length=1)]
    contract_version: str
    dataset: str
    relation: Annotated[str, Field(min_length=1)]
    created_at: str
    row_count: Count
    fingerprint: _Fingerprint
    settings: _Settings
    columns: dict[str, dict[str, Any]]

    @model_validator(mode="after")
    def _consistent(self) -> ProfileHeader:
        try:
            datetime.fromisoformat(self.created_at)
        except ValueError:
            raise ValueError(f"created_at: {self.created_at!r} is not an ISO 8601 time") from None
        if self.fingerprint.value.split(":", 1)[0] != str(self.row_count):
            raise ValueError(f"fingerprint: {self.fingerprint.value!r} is not of {self.row_count} rows")
        return self


def _fix(path: Path) -> str:
    return (
        f"Fix: re-run `dq profile CONTRACT --output {path}` on data you trust "
        "(a profile is written by dq, not edited by hand)"
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads keeps the last of two equal keys; a profile with one twice is ambiguous."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"key {key!r} appears more than once")
        found[key] = value
    return found


def _problem(path: Path, prefix: tuple[Any, ...], exc: ValidationError) -> DqError:
    lines = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in (*prefix, *error["loc"])) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
            shown = repr(error["input"])
            message = f"{message} (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        lines.append(f"{loc}: {message}")
    return DqError(f"drift reference profile {path} is invalid: {'; '.join(dict.fromkeys(lines))}. {_fix(path)}")


def load_profile(path: str | Path) -> dict[str, Any]:
    """Read a profile and validate all of it (see the models above); every problem is a DqError
    naming the file, the key and the fix. Returns the profile as written."""
    path = Path(path)
    fix = f"Fix: run `dq profile CONTRACT --output {path}` on data you trust"
    try:
        # NaN / Infinity parse as floats and are refused, with their key, by the models
        profile = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" (relative to the current directory {Path.cwd()})"
        raise DqError(f"drift reference profile {path} not found{where}. {fix}") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise DqError(f"drift reference profile {path} is unreadable: {exc}. {fix}") from None
    if not isinstance(profile, dict) or profile.get("format") != PROFILE_FORMAT:
        raise DqError(f'{path} is not a dq profile (no "format": "{PROFILE_FORMAT}"). {fix}')
    if profile.get("version") != PROFILE_VERSION:
        raise DqError(f"{path}: profile version {profile.get('version')!r} is not {PROFILE_VERSION}. {fix}")
    validate_profile(profile, path)
    return profile


def validate_profile(profile: Mapping[str, Any], path: Path) -> None:
    """Every rule of the format, or a DqError naming `path`, the key and the fix. `dq profile`
    checks what it is about to write the same way, so the writer and the reader cannot drift."""
    try:
        header = ProfileHeader.model_validate(profile)
    except ValidationError as exc:
        raise _problem(path, (), exc) from None
    for name, entry in header.columns.items():
        kind = entry.get("kind")
        model = COLUMN_MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise DqError(
                f"drift reference profile {path} is invalid: columns.{name}.kind: {kind!r} is not one of "
                f"{', '.join(COLUMN_MODELS)}. {_fix(path)}"
            )
        try:
            column = model.model_validate(entry)
        except ValidationError as exc:
            raise _problem(path, ("columns", name), exc) from None
        _check_nulls(path, name, column, header.row_count)
        _check_settings(path, name, column, header.settings)


def _check_nulls(path: Path, name: str, column: _Column, row_count: int) -> None:
    """count and null_fraction must describe the same rows as row_count."""
    if column.count > row_count:
        raise DqError(
            f"drift reference profile {path} is invalid: columns.{name}.count: {column.count} values in "
            f"{row_count} rows. {_fix(path)}"
        )
    expected = 0.0 if row_count == 0 else (row_count - column.count) / row_count
    if not math.isclose(column.null_fraction, expected, rel_tol=0, abs_tol=NULL_FRACTION_TOLERANCE):
        raise DqError(
            f"drift reference profile {path} is invalid: columns.{name}.null_fraction: {column.null_fraction} "
            f"contradicts count {column.count} of {row_count} rows ({expected}). {_fix(path)}"
        )


def _check_settings(path: Path, name: str, column: _Column, settings: _Settings) -> None:
    """No more bins or top values than the profile says it was built with."""
    if isinstance(column, NumericColumn) and len(column.edges) > settings.numeric_bins - 1:
        raise DqError(
            f"drift reference profile {path} is invalid: columns.{name}.edges: {len(column.edges)} edges, but "
            f"settings.numeric_bins {settings.numeric_bins} allows at most {settings.numeric_bins - 1}. {_fix(path)}"
        )
    if isinstance(column, CategoricalColumn) and len(column.top) > settings.top_k:
        raise DqError(
            f"drift reference profile {path} is invalid: columns.{name}.top: {len(column.top)} values, but "
            f"settings.top_k is {settings.top_k}. {_fix(path)}"
        )


def reference_column(
    profile: Mapping[str, Any], path: str | Path, column: str, table: Table | None = None
) -> dict[str, Any]:
    """One column of a loaded profile, checked to hold a distribution dq can compare against.

    With `table` (the relation being validated), the profile must be *of* that relation and the
    column must still have the type it was profiled with: comparing against another dataset's
    profile, or bins of another type, measures nothing and must not pass.
    """
    entry = profile["columns"].get(column)
    fix = f"Fix: re-run `dq profile` so that {path} includes it"
    if not isinstance(entry, dict):
        raise DqError(f"drift reference {path} has no column {column!r}. {fix}")
    redo = f"Fix: re-run `dq profile CONTRACT --output {path}` on trusted data of this dataset"
    if table is not None:
        same = profile.get("relation") == table.label
        if not same and (table.stands_for is None or profile.get("dataset") != table.stands_for):
            raise DqError(
                f"drift reference {path} is a profile of {profile.get('relation')} (contract "
                f"{profile.get('contract')!r}), but this contract validates {table.label}: drift against another "
                f"dataset's profile is not drift. {redo}"
            )
        now = table.columns.get(column)
        if now is not None and now != entry.get("type"):
            raise DqError(
                f"drift: {column} is {now} ({column_kind(now)}) but {path} profiled it as {entry.get('type')} "
                f"({entry.get('kind')}). {redo} (after a deliberate type change)"
            )
    kind = entry.get("kind")
    if kind == "numeric" and not entry.get("edges"):
        raise DqError(
            f"drift reference {path}: column {column!r} had no finite values when it was profiled, so there "
            f"are no bins to compare against. {redo}"
        )
    if kind == "categorical" and not entry.get("top"):
        raise DqError(
            f"drift reference {path}: in column {column!r} no value occurs more than once in the profile, so "
            f"there is no distribution to compare against (an ID-like column?). {redo}, or drop the column's "
            "drift rule"
        )
    if kind not in ("numeric", "categorical"):
        raise DqError(
            f"drift reference {path}: column {column!r} is unusable (a {entry.get('type')} column has no "
            f"distribution to compare). {fix}"
        )
    return entry
