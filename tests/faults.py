"""Helpers for the reliability tests: copy a warehouse, run dq in-process or as a subprocess, and
record what the tests tried into `.dq/reliability.md` (git-ignored), the source of the README's
reliability section (docs/readme/reliability.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from dq.checks.result import RunResult
from dq.config import EngineChoice, Settings
from dq.run.runner import validate

ROOT = Path(__file__).resolve().parents[1]
DQ = str(Path(sys.executable).parent / "dq")
RELIABILITY_DIR = ROOT / ".dq" / "reliability"
RELIABILITY_MD = ROOT / ".dq" / "reliability.md"


def copy_db(source: Path, directory: Path, name: str = "copy.duckdb") -> Path:
    """A private copy of a DuckDB file: every fault is injected into its own copy, never the original."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    shutil.copy(source, target)
    return target


def execute(db: Path, *statements: str) -> None:
    """Apply statements with a short-lived write connection (closed before dq opens the file)."""
    with duckdb.connect(str(db)) as con:
        for statement in statements:
            con.execute(statement)


def scalar(db: Path, query: str) -> Any:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()[0][0]


def rows(db: Path, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


def settings(db: Path, work: Path, engine: EngineChoice | str = EngineChoice.auto) -> Settings:
    """Settings that keep every artefact (results, history) inside the test's own directory."""
    return Settings(
        db=db,
        dbt_project=None,
        results_dir=work / "results",
        engine=EngineChoice(engine),
        history=work / "history.duckdb",
    )


def run(contract: Path, db: Path, work: Path, engine: EngineChoice | str = EngineChoice.auto) -> RunResult:
    """dq.run.runner.validate, in-process: the same path `dq validate` takes, without a process per case."""
    return validate([contract], settings(db, work, engine))


def checks_by_status(result: RunResult) -> dict[str, dict[str, Any]]:
    """{status: {check name: failing rows or observed}} over every contract of a run."""
    found: dict[str, dict[str, Any]] = {}
    for contract in result.contracts:
        for check in contract.checks:
            value = check.failing_rows if check.failing_rows is not None else check.observed
            found.setdefault(check.status.value, {})[check.name] = value
    return found


def dq_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real `dq` executable in a subprocess (no shared state with the test process)."""
    full_env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", **(env or {})}
    return subprocess.run(
        [DQ, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


def record(section: str, payload: dict[str, Any]) -> None:
    """Store one test module's figures and rebuild `.dq/reliability.md` from every module's."""
    RELIABILITY_DIR.mkdir(parents=True, exist_ok=True)
    (RELIABILITY_DIR / f"{section}.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    # two pytest-xdist workers may finish modules at once: each writes a whole file and renames it
    partial = RELIABILITY_MD.with_name(f".{RELIABILITY_MD.name}.{os.getpid()}")
    partial.write_text(render_reliability(), encoding="utf-8")
    os.replace(partial, RELIABILITY_MD)


def render_reliability() -> str:
    """The README's reliability figures, from whichever test modules have run."""
    sections = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RELIABILITY_DIR.glob("*.json"))}
    lines: list[str] = []
    matrix = sections.get("fault_matrix")
    if matrix:
        lines += [
            "| # | defect class | injected into a copy of the clean data | check | result | failing rows / observed "
            "(dq = hand-written SQL) |",
            "|---|---|---|---|---|---|",
        ]
        for i, row in enumerate(matrix["rows"], 1):
            lines.append(
                f"| {i} | {row['defect']} | `{_cell(row['injection'])}` | {_cell(', '.join(row['checks']))} | "
                f"{row['result']} | {_cell(row['found'])} |"
            )
        lines.append("")
    counts = _counts(sections)
    if counts:
        lines += ["| figure | value |", "|---|---|", *[f"| {k} | {v} |" for k, v in counts], ""]
    return "\n".join(lines)


def _counts(sections: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    matrix = sections.get("fault_matrix")
    if matrix:
        found.append(("fault classes injected", matrix["classes"]))
        found.append(("fault classes blocked", f"{matrix['blocked']} of {matrix['should_block']} that must block"))
        found.append(("declared-harmless variants that pass (no false alarm)", matrix["harmless_passed"]))
    tried = 0
    for name, label in (
        ("fuzz_contracts", "contract documents fuzzed (hypothesis)"),
        ("injection", "identifier / value / write-attempt injections"),
        ("database_faults", "database faults (engines x faults)"),
        ("concurrency", "concurrent gates and killed runs"),
        ("binding", "typed values, exact bounds, collations, NaN, YAML 1.2 (cases x engines)"),
        ("oracle_fuzz", "generated cases checked against the oracle, CI slice (cases x engines)"),
    ):
        if name in sections:
            found.append((label, sections[name]["tried"]))
            tried += int(sections[name]["tried"])
    if tried:
        found.append(("bad inputs tried in all", tried))
    passes = sum(int(s.get("false_passes", 0)) for s in sections.values())
    found.append(("false passes", passes))
    return found


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def pass_count(results: Sequence[RunResult]) -> int:
    return sum(1 for r in results if not r.status.blocks)
