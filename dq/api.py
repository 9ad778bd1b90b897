"""The Python pre-check: training code refuses to start on data that fails its contract.

result = dq.require_valid("contracts/training_set.yml", db="warehouse.duckdb")

@dq.gated("contracts/training_set.yml")
def train(): ...

df = dq.load_validated()   # behind `dq gate`: the verified snapshot of the validated rows
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from dq.config import EngineChoice, load_settings
from dq.discovery import find_contracts
from dq.errors import GateError, SnapshotError, python_interface
from dq.result import RunResult, Status
from dq.runner import validate

P = ParamSpec("P")
R = TypeVar("R")


def require_valid(
    *contracts: str | Path,
    db: str | Path | None = None,
    dbt_project: str | Path | None = None,
    engine: EngineChoice | str = EngineChoice.auto,
    results_dir: str | Path | None = None,
) -> RunResult:
    """Validate; return the result if the data may be used, else raise `GateError` carrying it."""
    if not contracts:
        raise ValueError("require_valid needs at least one contract path")
    settings = load_settings(
        db=Path(db) if db is not None else None,
        dbt_project=Path(dbt_project) if dbt_project is not None else None,
        results_dir=Path(results_dir) if results_dir is not None else None,
        engine=engine,
    )
    # directories expand exactly as on the command line: every contract under them is read
    with python_interface():  # messages say `dbt_project=`, not `--dbt-project`
        result = validate(find_contracts(contracts).paths, settings)
    if result.status.blocks:
        raise GateError(_explain(result), result)
    return result


def gated(*contracts: str | Path, **options: str | Path | None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: validate before every call of the wrapped training function."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            require_valid(*contracts, **options)  # type: ignore[arg-type]
            return function(*args, **kwargs)

        return wrapper

    return decorate


def load_validated(
    path: str | Path | None = None, *, as_: Literal["pandas", "polars", "arrow"] = "pandas", contract: str | None = None
) -> Any:
    """The rows `dq gate` validated, from its snapshot, after checking the fingerprint.

    `path` defaults to DQ_SNAPSHOT (set by `dq gate` for CMD); a directory holding several
    contracts' snapshots needs `contract`. `as_` is "pandas", "polars" or "arrow". Raises
    `SnapshotError` if the manifest is missing or the bytes do not match the fingerprint, so a
    training script never reads rows other than the validated ones.
    """
    from dq.snapshot_load import load  # no DuckDB in the training process

    env_path = os.environ.get("DQ_SNAPSHOT")
    if path is None:
        if not env_path:
            raise SnapshotError(
                "DQ_SNAPSHOT is not set: run this under `dq gate CONTRACT -- CMD`, or pass the snapshot's path"
            )
        path = env_path
    # DQ_FINGERPRINT comes from the gate's process, not from the snapshot directory, so it also
    # catches a snapshot whose Parquet file and manifest were both replaced.
    same = env_path is not None and Path(path).resolve() == Path(env_path).resolve()
    expected = os.environ.get("DQ_FINGERPRINT") if same else None
    return load(path, as_=as_, contract=contract, expected=expected)


def _explain(result: RunResult) -> str:
    lines = [f"dq gate: {result.status.value}; training must not start"]
    for contract in result.contracts:
        if contract.error:
            lines.append(f"  {contract.path}: {contract.error}")
        for check in contract.checks:
            if check.status in (Status.failed, Status.error):
                lines.append(f"  {contract.contract}: {check.name} {check.status.value}: {check.message}".rstrip(": "))
    return "\n".join(lines)
