"""Where dq finds things: the DuckDB file, the dbt project, the results directory.

Precedence, strongest first: command-line option, environment variable (DQ_DB, DQ_DBT_PROJECT,
DQ_RESULTS_DIR, DQ_HISTORY, DQ_BACKEND), `[tool.dq]` in the nearest pyproject.toml (paths relative to
that file), default. `[tool.dq.spark]` holds the Spark backend's `master` and `conf` (dq/spark/session.py).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
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


class Backend(StrEnum):
    """Where the checks run: the embedded DuckDB (default) or Apache Spark (dq/spark/)."""

    duckdb = "duckdb"
    spark = "spark"


@dataclass(frozen=True)
class SparkSettings:
    """`[tool.dq.spark]`: the master URL (None: Spark's own configuration, which defaults to
    `local[*]`) and extra Spark conf, applied when dq starts the session itself."""

    master: str | None = None
    conf: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Settings:
    db: Path
    dbt_project: Path | None
    results_dir: Path
    engine: EngineChoice = EngineChoice.auto
    history: Path = DEFAULT_HISTORY  # the results history (dq/run/history.py)
    backend: Backend = Backend.duckdb
    spark: SparkSettings = field(default_factory=SparkSettings)


def load_settings(
    db: Path | None = None,
    dbt_project: Path | None = None,
    results_dir: Path | None = None,
    engine: EngineChoice | str = EngineChoice.auto,
    start: Path | None = None,
    history: Path | None = None,
    backend: Backend | str | None = None,
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
        backend=_backend(backend, table),
        spark=_spark(table.get("spark")),
    )


def _backend(arg: Backend | str | None, table: dict[str, Any]) -> Backend:
    chosen, where = (arg, "--backend") if arg is not None else (os.environ.get("DQ_BACKEND"), "DQ_BACKEND")
    if not chosen:
        chosen, where = table.get("backend", Backend.duckdb.value), "[tool.dq] backend"
    try:
        return Backend(str(chosen).lower())
    except ValueError:
        raise DqError(f"{where} is {chosen!r}; allowed: {', '.join(b.value for b in Backend)}") from None


def _spark(table: Any) -> SparkSettings:
    """`[tool.dq.spark]`: `master = "spark://host:7077"`, `conf = {"spark.executor.memory" = "4g"}`."""
    if table is None:
        return SparkSettings()
    if not isinstance(table, dict) or set(table) - {"master", "conf"}:
        raise DqError("[tool.dq.spark] must be a table with only `master` (a string) and `conf` (a table)")
    master, conf = table.get("master"), table.get("conf", {})
    if master is not None and not isinstance(master, str):
        raise DqError(f"[tool.dq.spark] master must be a string such as 'local[*]', not {master!r}")
    if not isinstance(conf, dict) or any(isinstance(v, dict | list) for v in conf.values()):
        raise DqError("[tool.dq.spark] conf must be a table of Spark settings, e.g. {'spark.executor.memory' = '4g'}")
    text = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in conf.items()}
    return SparkSettings(master, MappingProxyType(text))


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
                unknown = set(tool) - {"db", "dbt_project", "results_dir", "history", "backend", "spark"}
                if unknown:
                    raise DqError(
                        f"{candidate}: [tool.dq] has unknown keys {sorted(unknown)}; "
                        "allowed: db, dbt_project, results_dir, history, backend, spark"
                    )
                return tool, directory
            return {}, directory
    return {}, Path.cwd()
