"""The Python pre-check: training code refuses to start on data that fails its contract.

result = dq.require_valid("contracts/training_set.yml", db="warehouse.duckdb")
result = dq.require_valid("contracts/training_set.yml", data=df, frames={"stg_plans": plans})
result = dq.validate("contracts/training_set.yml", data=df)   # the result, never an exception
result = dq.require_valid("contracts/training_set.yml", spark=session)  # on Spark, in the job's own session

@dq.gated("contracts/training_set.yml")
def train(): ...

df = dq.load_validated()   # behind `dq gate`: the verified snapshot of the validated rows
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar

from dq.checks.result import RunResult, Status
from dq.config import Backend, EngineChoice, load_settings
from dq.contract.discovery import find_contracts
from dq.errors import GateError, SnapshotError, python_interface
from dq.run.runner import validate as run_contracts

P = ParamSpec("P")
R = TypeVar("R")


def require_valid(
    *contracts: str | Path,
    db: str | Path | None = None,
    dbt_project: str | Path | None = None,
    engine: EngineChoice | str = EngineChoice.auto,
    results_dir: str | Path | None = None,
    data: Any = None,
    frames: Mapping[str, Any] | None = None,
    backend: Backend | str | None = None,
    spark: Any = None,
) -> RunResult:
    """Validate; return the result if the data may be used, else raise `GateError` carrying it.

    With `data=` (a pandas or polars DataFrame, a pyarrow Table) the one contract is checked on
    that frame in process instead of on its table; `frames={"stg_plans": plans}` names the other
    datasets its references, disjointness and custom SQL read (dq/run/frames.py).
    """
    result = validate(
        *contracts,
        db=db,
        dbt_project=dbt_project,
        engine=engine,
        results_dir=results_dir,
        data=data,
        frames=frames,
        backend=backend,
        spark=spark,
    )
    if result.status.blocks:
        raise GateError(_explain(result), result)
    return result


def validate(
    *contracts: str | Path,
    db: str | Path | None = None,
    dbt_project: str | Path | None = None,
    engine: EngineChoice | str = EngineChoice.auto,
    results_dir: str | Path | None = None,
    data: Any = None,
    frames: Mapping[str, Any] | None = None,
    backend: Backend | str | None = None,
    spark: Any = None,
) -> RunResult:
    """Validate and return the result, whatever the verdict (`result.status`; the CLI's exit code
    for it is `dq.exit_codes.exit_code_for(result.status)`).

    `spark=` (a SparkSession) runs the checks on Spark in that session (`backend="spark"` is then
    implied; another `backend=` with it is a ValueError); `backend=` otherwise picks the backend as
    `--backend` does.

    Bad input (a contract that does not load, a frame dq cannot check exactly) is an `error`
    result, as on the command line; only a call without contracts, or with `data=` and more than
    one contract, raises (ValueError).
    """
    if not contracts:
        raise ValueError("validate needs at least one contract path")
    if spark is not None and backend is not None and Backend(backend) is not Backend.spark:
        # the session would be silently ignored, or the backend asked for: neither is what was meant
        raise ValueError(f"spark= runs the checks on Spark; backend={Backend(backend).value!r} contradicts it")
    settings = load_settings(
        db=Path(db) if db is not None else None,
        dbt_project=Path(dbt_project) if dbt_project is not None else None,
        results_dir=Path(results_dir) if results_dir is not None else None,
        engine=engine,
        backend=Backend.spark if spark is not None else backend,
    )
    # directories expand exactly as on the command line: every contract under them is read
    paths = find_contracts(contracts).paths
    if settings.backend is Backend.spark:
        if data is not None or frames is not None:
            raise ValueError("data=/frames= are checked on DuckDB; on Spark, register them as tables of the session")
        from dq.spark.run import validate_on_spark

        with python_interface():
            return validate_on_spark(paths, settings, spark=spark)
    if data is None and frames is None:
        with python_interface():  # messages say `dbt_project=`, not `--dbt-project`
            return run_contracts(paths, settings)
    if db is not None or dbt_project is not None:
        # the frames are the data: a database given as well would be silently left unread
        raise ValueError("data=/frames= are the datasets to check; do not pass db= or dbt_project= with them")
    from dq.run.frames import validate_frames

    with python_interface():
        return validate_frames(paths, settings, data, frames or {})


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
    from dq.gate.snapshot_load import load  # no DuckDB in the training process

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
