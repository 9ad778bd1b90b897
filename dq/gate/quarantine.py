"""`dq gate --quarantine`: set aside the rows that fail a row rule, train on the rest.

Which rows: those failing an error-severity check of the row-predicate family (`nullable: false`,
`min`/`max`, `accepted_values`, `pattern`, `length`, `expressions`) and every row of a duplicated
key (`unique`, `primary_key`). Dropping all copies of a key, not all but one, because dq cannot
know which copy is right, and keeping any one of them would pick one by the scan order. Not
quarantined, so they must pass on the kept rows as they stand: `references` (dropping rows can
orphan a self-reference, and the failure lies in the other dataset), custom SQL (its rows need not
be rows of the dataset), the leakage rules (a leak is a pipeline defect that dropping rows would
hide) and every aggregate, statistic and schema rule. Warn-severity rules never drop a row.

How: one boolean per row, the OR of each rule's violation predicate with NULL read as "no
violation" (`coalesce(..., false)`, as a check counts a row only where its predicate is true), so
every row lands in exactly one of two files, each written by one `COPY` over the staged copy. The
checks then run on the kept file, which is what training reads: aggregates and statistics are
those of the training set, and the row rules re-run there prove the split (any row a split let
through fails its check, and the gate blocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb

from dq.checks.compile import compile_contract
from dq.checks.kinds import Family, of_family
from dq.checks.result import CheckResult, Status
from dq.checks.spec import CheckKind, CheckSpec
from dq.checks.sql import key_sql, literal, violation_predicate
from dq.contract.model import Contract, Severity
from dq.data.bind import BindError, bind_spec, collated_columns
from dq.data.source import Table
from dq.errors import SnapshotError

QUARANTINED_KINDS = of_family(Family.row_predicate) | {CheckKind.unique}
CHECK_NAME = "quarantine.max_fraction"
QUARANTINE_SUFFIX = ".quarantine.parquet"


@dataclass(frozen=True)
class Plan:
    """The bound row rules whose failing rows a contract's gate sets aside, and the bound."""

    contract: str
    max_fraction: int | Decimal
    specs: tuple[CheckSpec, ...]

    def flags(self) -> list[str]:
        """One SQL boolean per rule, over `... AS __t`, true on a row that violates it and never NULL."""
        return [row_flag(spec) for spec in self.specs]

    def write(self, connection: duckdb.DuckDBPyConnection, source: str, kept: Path, quarantined: Path) -> Split:
        """Split the rows of `source` (a `read_parquet(...)`) into the two files; one COPY each.
        A rule whose SQL fails on the data (a cast in an expression) is a SnapshotError, exit 3."""
        try:
            return self._write(connection, source, kept, quarantined)
        except duckdb.Error as exc:
            raise SnapshotError(
                f"cannot set aside the rows of {self.contract} that fail its row rules: {exc}. Fix: a rule's SQL "
                "fails on these rows (`dq validate` names the check), or gate without --quarantine"
            ) from None

    def _write(self, connection: duckdb.DuckDBPyConnection, source: str, kept: Path, quarantined: Path) -> Split:
        flags = self.flags()
        column = free_column(connection, source, "__dq_quarantined")
        any_flag = f"coalesce({' OR '.join(flags) or 'false'}, false)"
        marked = f"SELECT *, {any_flag} AS {column} FROM {source} AS __t"
        counts: list[int] = []
        for path, where in ((kept, f"NOT {column}"), (quarantined, column)):
            query = f"SELECT * EXCLUDE ({column}) FROM ({marked}) WHERE {where}"
            counts.append(
                int(connection.execute(f"COPY ({query}) TO {literal(str(path))} (FORMAT parquet)").fetchall()[0][0])
            )
        by_check: dict[str, int] = {}
        if flags:
            # counted over the quarantine file alone (within the bound, a small share of the rows): every
            # violating row is in it, and so is every copy of a duplicated key, so each rule finds
            # there exactly the rows it finds in the whole copy
            aside = f"read_parquet({literal(str(quarantined))})"
            per_rule = ", ".join(f"{flag} AS f{i}" for i, flag in enumerate(flags))
            totals = ", ".join(f"count(*) FILTER (WHERE f{i})" for i in range(len(flags)))
            row = connection.execute(f"SELECT {totals} FROM (SELECT {per_rule} FROM {aside} AS __t)").fetchall()[0]
            by_check = {spec.name: int(n) for spec, n in zip(self.specs, row, strict=True)}
        return Split(self.max_fraction, counts[0], counts[1], quarantined, by_check)


@dataclass
class Split:
    """What a split wrote: `path` is the quarantine file (staging until published)."""

    max_fraction: int | Decimal
    kept: int
    quarantined: int
    path: Path
    by_check: dict[str, int] = field(default_factory=dict)
    fingerprint: str | None = None

    @property
    def checked(self) -> int:
        return self.kept + self.quarantined

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.quarantined, self.checked) if self.checked else Fraction(0)

    @property
    def within_bound(self) -> bool:
        """Exact: quarantined / checked <= max_fraction as rationals (a Decimal is one exactly)."""
        return self.fraction <= Fraction(self.max_fraction)

    def summary(self) -> dict[str, Any]:
        """The counts the JSON result and the manifest carry (files are added when published)."""
        return {
            "rows_checked": self.checked,
            "rows_kept": self.kept,
            "rows_quarantined": self.quarantined,
            "fraction": float(self.fraction),
            "fraction_exact": f"{self.quarantined}/{self.checked}",  # as counted, not reduced
            "max_fraction": str(self.max_fraction),
            "within_bound": self.within_bound,
            "by_check": dict(self.by_check),
        }

    def check(self) -> CheckResult:
        """The bound as a check of the contract: its failure blocks the gate (exit 1) like any other."""
        status = Status.passed if self.within_bound else Status.failed
        share = f"{self.quarantined:,} of {self.checked:,} rows ({float(self.fraction):.4%})"
        if self.within_bound:
            message = f"{share} quarantined, within max_fraction {self.max_fraction}"
        else:
            message = (
                f"{share} fail a row rule and would be quarantined, more than max_fraction {self.max_fraction}: "
                "training does not start"
            )
        return CheckResult(
            name=CHECK_NAME,
            kind="quarantine",
            columns=(),
            severity=Severity.error.value,
            engine="dq",
            status=status,
            expected=f"at most {self.max_fraction} of rows quarantined",
            observed=float(self.fraction),
            failing_rows=self.quarantined,
            message=message,
        )


def plan(contract: Contract, table: Table, path: str | None = None) -> Plan:
    """The contract's quarantine rules, bound to `table`'s column types; SnapshotError (exit 3)
    when the contract does not allow quarantine."""
    if contract.quarantine is None:
        where = path or f"the contract {contract.contract}"
        raise SnapshotError(
            f"{where}: `dq gate --quarantine` needs the key `quarantine` in the contract, which bounds the share "
            "of rows the gate may set aside. Fix: add `quarantine: {max_fraction: 0.01}` (or the share you accept) "
            "to the contract, or run the gate without --quarantine"
        )
    specs = []
    # the split reads the staged copy with the relation's collations put back (dq/gate/snapshot.py):
    # accepted values and keys compare byte-wise on a collated column, as the checks do
    collated = collated_columns(table)
    for spec in compile_contract(contract):
        if spec.kind not in QUARANTINED_KINDS or spec.severity is not Severity.error:
            continue
        if any(c not in table.columns for c in spec.columns):
            continue  # the check itself errors (column missing): the run blocks
        try:
            specs.append(bind_spec(spec, table, collated))
        except BindError:
            continue  # the check itself reports the BindError (exit 3): the run blocks
    return Plan(contract.contract, contract.quarantine.max_fraction, tuple(specs))


def free_column(connection: duckdb.DuckDBPyConnection, source: str, name: str) -> str:
    """`name`, or `name` with underscores appended, so that it names no column of `source`: the
    helper flag then never collides with a dataset column (DuckDB names ignore case)."""
    taken = {str(row[0]).casefold() for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    while name.casefold() in taken:
        name += "_"
    return name


def row_flag(spec: CheckSpec) -> str:
    """True on a row the rule quarantines, never NULL."""
    if spec.kind is CheckKind.unique:
        keys, present = key_sql(spec)
        return f"coalesce(({present}) AND count(*) OVER (PARTITION BY {keys}) > 1, false)"
    if spec.kind not in QUARANTINED_KINDS:
        raise SnapshotError(f"{spec.name}: a {spec.kind} check does not quarantine rows")
    return f"coalesce(({violation_predicate(spec)}), false)"
