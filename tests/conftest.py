"""Shared fixtures: a tiny DuckDB table builder and, once per session, a real dbt build."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Tests never append to a developer's (or CI's) real results history or job summary.
os.environ.setdefault("DQ_HISTORY", str(Path(tempfile.mkdtemp(prefix="dq-test-history-")) / "history.duckdb"))
os.environ.pop("GITHUB_STEP_SUMMARY", None)

MakeDb = Callable[..., Path]


@pytest.fixture
def make_db(tmp_path: Path) -> MakeDb:
    """make_db("CREATE TABLE t AS SELECT ...", ...) -> path of a fresh DuckDB file."""

    def build(*statements: str, name: str = "test.duckdb") -> Path:
        path = tmp_path / name
        with duckdb.connect(str(path)) as con:
            for statement in statements:
                con.execute(statement)
        return path

    return build


@pytest.fixture
def write_contract(tmp_path: Path) -> Callable[[str], Path]:
    counter = iter(range(10_000))

    def write(text: str) -> Path:
        path = tmp_path / f"contract_{next(counter)}.yml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _build_warehouse(db: Path, variant: str) -> None:
    env = {**os.environ, "DQ_DB": str(db)}
    subprocess.run(
        [sys.executable, "dbt_project/generate_data.py", "--db", str(db), "--variant", variant],
        cwd=ROOT,
        check=True,
        env=env,
    )
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    # defective variants are built with the exported in-model gates off (`dq_enforce: false`),
    # so the defects reach the tables and dq's own gate is what is tested on them
    enforce = [] if variant == "clean" else ["--vars", "{dq_enforce: false}"]
    # each build writes dbt's target and logs beside its database, then installs its manifest where
    # dq reads it (dbt_project/target/) by an atomic rename: a test reading the bundled manifest
    # while another worker builds a variant sees one whole manifest, never a half-written file
    target, logs = db.parent / "dbt-target", db.parent / "dbt-logs"
    paths = ["--target-path", str(target), "--log-path", str(logs)]
    subprocess.run(
        [dbt, "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project", "--quiet", *paths, *enforce],
        cwd=ROOT,
        check=True,
        env=env,
    )
    shared = ROOT / "dbt_project" / "target"
    shared.mkdir(exist_ok=True)
    staged = shared / f".manifest-{os.getpid()}.json"
    shutil.copyfile(target / "manifest.json", staged)
    os.replace(staged, shared / "manifest.json")


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on a file: pytest-xdist's workers take turns, one builds, all share."""
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shared by every pytest-xdist worker of this run (the workers' common parent), or
    this process's own base directory when the tests run without workers."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real `dbt build` of dbt_project/ per variant per test run: {'clean': db, 'broken': db}.
    Under pytest-xdist the first worker to need it builds it and the others wait and share it."""
    root = _run_root(tmp_path_factory)
    base = root / "warehouse"
    # every variant is a `warehouse.duckdb` (in its own directory): DuckDB names a file's catalog
    # after its stem, dbt records that catalog as each node's `database`, and dq refuses a node
    # whose database is not the opened file's. One stem keeps the shared manifest valid for all.
    dbs = {variant: base / variant / "warehouse.duckdb" for variant in ("broken", "clean")}
    with _exclusive(root / "warehouse.lock"):
        if not (base / "built").exists():
            shutil.rmtree(base, ignore_errors=True)
            for variant, db in dbs.items():
                db.parent.mkdir(parents=True)
                _build_warehouse(db, variant)
            (base / "built").touch()
    return dbs


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """After GX or dbt used DuckDB in this process, DuckDB's nanobind bindings print dozens of
    "leaked instance" lines at interpreter teardown, after pytest's summary. Skip the teardown
    (as `dq` itself does) so the summary stays the last thing CI reads."""
    if _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])


@pytest.fixture(scope="session")
def spark() -> object:
    """One local SparkSession per test run (starting one costs seconds), started as dq starts its
    own (dq/spark/session.py). Without pyspark installed (`pip install -e '.[dev,spark]'`, which
    `make test` does) the Spark tests fail loudly instead of being skipped."""
    from dq.config import load_settings
    from dq.spark.session import spark_session

    return spark_session(load_settings())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`) each test module runs whole on
    one worker (module fixtures, such as the fault matrix's table, see every case of their module),
    and every module that uses Spark runs on the same worker, so a run starts one JVM, not one per worker."""
    spark_modules = {item.module.__name__ for item in items if "spark" in getattr(item, "fixturenames", ())}
    for item in items:
        module = item.module.__name__
        item.add_marker(pytest.mark.xdist_group("spark" if module in spark_modules else module))
