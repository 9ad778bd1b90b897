"""Where dq finds things: the DuckDB file, the dbt project, the results directory.

Precedence, strongest first: command-line option, environment variable (DQ_DB, DQ_DBT_PROJECT,
DQ_RESULTS_DIR, DQ_HISTORY), `[tool.dq]` in the nearest pyproject.toml (paths relative to that file), default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from dq.errors import DqError

DEFAULT_DB = Path("dbt_project/warehouse.duckdb")
DEFAULT_RESULTS_DIR = Path(".dq/results")
DEFAULT_HISTORY = Path(".dq/history.duckdb")


class EngineChoice(StrEnum):
    """Which engine runs the checks. `auto` picks, per check, the fastest engine that supports it."""

    auto = "auto"
    pandera = "pandera"
    gx = "gx"


@dataclass(frozen=True)
class Settings:
    db: Path
    dbt_project: Path | None
    results_dir: Path
    engine: EngineChoice = EngineChoice.auto
    history: Path = DEFAULT_HISTORY  # the results history (dq/run/history.py)


def load_settings(
    db: Path | None = None,
    dbt_project: Path | None = None,
    results_dir: Path | None = None,
    engine: EngineChoice | str = EngineChoice.auto,
    start: Path | None = None,
    history: Path | None = None,
) -> Settings:
    """Resolve settings from arguments, environment and pyproject.toml."""
    table, base = _pyproject_table(start or Path.cwd())

    def pick(arg: Path | None, env: str, key: str, default: Path | None) -> Path | None:
        if arg is not None:
            return Path(arg)
        if os.environ.get(env):
            return Path(os.environ[env])
        if key in table:
            return base / str(table[key])
        return default

    here = start or Path.cwd()
    # inside a dbt project, that project (as dbt itself does); else the repository's dbt_project/
    dbt_default = next((d for d in (here, base / "dbt_project") if (d / "dbt_project.yml").is_file()), None)
    return Settings(
        db=pick(db, "DQ_DB", "db", DEFAULT_DB) or DEFAULT_DB,
        dbt_project=pick(dbt_project, "DQ_DBT_PROJECT", "dbt_project", dbt_default),
        results_dir=pick(results_dir, "DQ_RESULTS_DIR", "results_dir", DEFAULT_RESULTS_DIR) or DEFAULT_RESULTS_DIR,
        engine=EngineChoice(engine),
        history=pick(history, "DQ_HISTORY", "history", DEFAULT_HISTORY) or DEFAULT_HISTORY,
    )


def _pyproject_table(start: Path) -> tuple[dict[str, Any], Path]:
    """`[tool.dq]` of the nearest pyproject.toml at or above `start`, and that file's directory."""
    for directory in (start.resolve(), *start.resolve().parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise DqError(f"{candidate}: cannot read [tool.dq]: {exc}") from None
            tool = data.get("tool", {}).get("dq")
            if tool is not None:
                if not isinstance(tool, dict):
                    raise DqError(f"{candidate}: [tool.dq] must be a table")
                unknown = set(tool) - {"db", "dbt_project", "results_dir", "history"}
                if unknown:
                    raise DqError(
                        f"{candidate}: [tool.dq] has unknown keys {sorted(unknown)}; "
                        "allowed: db, dbt_project, results_dir, history"
                    )
                return tool, directory
            return {}, directory
    return {}, Path.cwd()
