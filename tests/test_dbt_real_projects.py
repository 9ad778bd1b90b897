"""The whole dbt path on dbt projects dq did not write (issue 12), vendored under tests/fixtures/dbt_projects/.

For each project: plain `dbt build`; `dq init --from-dbt` for every model; `dq validate` of the
drafts (and again after one ordinary new row per model); `dq dbt export`; plain `dbt build` with
the exported gates; `dq dbt build`; then an injected defect, blocked with its exact failing-row
count both inside the model (exported gate) and by dq's callback; and a renamed model, which
fails the build instead of dropping its gate. One build per project is shared by the module and
copied into each test that changes it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from dq.cli import app
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
VENDORED = ROOT / "tests" / "fixtures" / "dbt_projects"


def _append_csv(path: Path, row: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text + ("" if text.endswith("\n") else "\n") + row + "\n", encoding="utf-8")


def _taxi_sources(db: Path) -> None:
    """What the project's own Dagster assets load from NYC's trip files (same columns, same
    types), generated deterministically here: tests download nothing."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            """CREATE TABLE zones AS SELECT i AS zone_id,
                 CASE i WHEN 1 THEN 'Newark Airport' WHEN 2 THEN 'JFK Airport' ELSE 'Zone ' || i END AS zone,
                 ['EWR', 'Queens', 'Manhattan', 'Bronx', 'Brooklyn', 'Staten Island'][1 + i % 6] AS borough,
                 'POINT(0 0)' AS geometry
               FROM range(1, 41) t(i)"""
        )
        con.execute(
            """CREATE TABLE trips AS SELECT (1 + i % 2)::INTEGER AS vendor_id,
                 (1 + i % 40)::INTEGER AS pickup_zone_id, (1 + (i * 7) % 40)::INTEGER AS dropoff_zone_id,
                 (1 + i % 6)::DOUBLE AS rate_code_id, (i % 5)::INTEGER AS payment_type,
                 TIMESTAMP '2023-03-01' + to_minutes(i * 13 + 5 + i % 50) AS dropoff_datetime,
                 TIMESTAMP '2023-03-01' + to_minutes(i * 13) AS pickup_datetime,
                 round(0.5 + (i % 97) / 7.0, 2) AS trip_distance, (1 + i % 4)::DOUBLE AS passenger_count,
                 round(5 + (i % 89) * 0.75, 2) AS total_amount, '2023-03' AS partition_date
               FROM range(0, 3000) t(i)"""
        )


def _negative_fare(directory: Path, db: Path) -> None:
    """A refund loaded as a trip with a negative total: stg_trips' drafted `total_amount: {min: 0}`."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            "INSERT INTO trips SELECT * REPLACE (-12.5 AS total_amount, pickup_datetime + INTERVAL 1 SECOND "
            "AS pickup_datetime) FROM trips LIMIT 1"
        )


@dataclass(frozen=True)
class Project:
    name: str
    profile: str
    models: tuple[str, ...]
    inject: Callable[[Path, Path], None]  # writes the defect into a copy of the project (dir, database)
    blocked_model: str  # the model the defect stops
    blocked_check: str  # the check that stops it
    failing_rows: int
    rename: tuple[str, str]  # (model file, new file name) for the vanishing-gate test
    prepare: Callable[[Path], None] | None = None  # loads the sources into the database
    vars: dict[str, str] | None = None  # dbt --vars every run needs


PROJECTS = [
    Project(
        name="jaffle_shop_duckdb",
        profile="jaffle_shop",
        models=("customers", "orders", "stg_customers", "stg_orders", "stg_payments"),
        # a refund booked as a negative payment: stg_payments' drafted `amount: {min: 0}` holds it
        inject=lambda p, _: _append_csv(p / "seeds" / "raw_payments.csv", "114,3,credit_card,-500"),
        blocked_model="stg_payments",
        blocked_check="amount.range",
        failing_rows=1,
        rename=("models/orders.sql", "models/order_facts.sql"),
    ),
    Project(
        name="dagster_university_analytics",
        profile="dagster_dbt_university",
        models=("stg_trips", "stg_zones", "location_metrics", "daily_metrics"),
        inject=_negative_fare,
        blocked_model="stg_trips",
        blocked_check="total_amount.range",
        failing_rows=1,
        rename=("models/marts/location_metrics.sql", "models/marts/zone_metrics.sql"),  # a leaf: nothing refs it
        prepare=_taxi_sources,
        # daily_metrics is incremental: its incremental runs filter on these
        vars={"min_date": "2023-03-01", "max_date": "2023-03-31"},
    ),
]


def _vars(project: Project, **extra: object) -> list[str]:
    merged = {**(project.vars or {}), **extra}
    return ["--vars", json.dumps(merged)] if merged else []


def _profile(project: Project, directory: Path, db: Path) -> None:
    """The vendored profile points at a file relative to where dbt runs: tests use their own."""
    outputs = {"dev": {"type": "duckdb", "path": str(db), "threads": 4}}
    (directory / "profiles.yml").write_text(
        yaml.safe_dump({project.profile: {"target": "dev", "outputs": outputs}}), encoding="utf-8"
    )


def _dbt(directory: Path, *args: str) -> tuple[bool, str]:
    from dbt.cli.main import dbtRunner

    from dq.dbt.build import release_dbt_database

    messages: list[str] = []

    def keep(event: object) -> None:
        data = getattr(event, "data", None)
        message = getattr(getattr(data, "run_result", None), "message", None) or getattr(data, "msg", None)
        if message:
            messages.append(str(message))

    try:
        result = dbtRunner(callbacks=[keep]).invoke(
            ["build", "--project-dir", str(directory), "--profiles-dir", str(directory), "--quiet", *args]
        )
    finally:
        release_dbt_database()
    if result.exception is not None:
        messages.append(str(result.exception))
    return result.success, "\n".join(messages)


def _dq(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, list(args))
    return out.exit_code, out.output


def _install_packages(directory: Path) -> None:
    """What `dbt deps` would put in dbt_packages/ (a generated directory, never committed): the
    vendored copy of each package the project's packages.yml names, as the tests run offline."""
    packages = directory / "packages.yml"
    if packages.is_file() and "dbt_utils" in packages.read_text(encoding="utf-8"):
        shutil.copytree(VENDORED / "packages" / "dbt_utils", directory / "dbt_packages" / "dbt_utils")


@pytest.fixture(scope="module", params=PROJECTS, ids=lambda p: p.name)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, Path]]:
    """The vendored project copied, built by plain dbt, drafted (`dq init`) and exported."""
    project: Project = request.param
    base = tmp_path_factory.mktemp(project.name)
    directory = base / "project"
    shutil.copytree(VENDORED / project.name, directory)
    _install_packages(directory)
    _profile(project, directory, base / "warehouse.duckdb")
    if project.prepare is not None:
        project.prepare(base / "warehouse.duckdb")
    saved = os.environ.get("DQ_HISTORY")
    os.environ["DQ_HISTORY"] = str(base / "history.duckdb")
    ok, log = _dbt(directory, *_vars(project))
    assert ok, f"plain dbt build of the vendored {project.name} must pass: {log}"
    for model in project.models:
        code, output = _dq(
            "init", "--from-dbt", model, "--dbt-project", str(directory), "--db", str(base / "warehouse.duckdb"),
            "--out", str(base / "contracts" / f"{model}.yml"),
        )  # fmt: skip
        assert code == 0, output
    code, output = _dq("dbt", "export", "--contracts", str(base / "contracts"), "--dbt-project", str(directory))
    assert code == 0, output
    yield project, directory
    if saved is None:
        os.environ.pop("DQ_HISTORY", None)
    else:
        os.environ["DQ_HISTORY"] = saved


def _copy(built: tuple[Project, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the built project, its database and its contracts."""
    project, directory = built
    shutil.copytree(directory.parent / "contracts", tmp_path / "contracts")
    shutil.copy(directory.parent / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    copy = tmp_path / "project"
    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("logs"))
    _profile(project, copy, tmp_path / "warehouse.duckdb")
    return copy, tmp_path / "warehouse.duckdb"


def _validate(directory: Path, db: Path, *contracts: Path) -> tuple[int, str]:
    results = directory.parent / "results"
    return _dq("validate", *map(str, contracts), "--db", str(db), "--dbt-project", str(directory),
               "--results-dir", str(results))  # fmt: skip


def test_every_draft_passes_on_its_data_and_after_an_ordinary_new_row(
    built: tuple[Project, Path], tmp_path: Path
) -> None:
    project, _ = built
    directory, db = _copy(built, tmp_path)
    contracts = [tmp_path / "contracts" / f"{m}.yml" for m in project.models]
    code, output = _validate(directory, db, *contracts)
    assert code == 0, output
    for contract in contracts:
        assert "DRAFT" in contract.read_text()
    # one new row per model: a copy of an existing row with a new value in every unique column
    with duckdb.connect(str(db)) as con:
        for model, contract in zip(project.models, contracts, strict=True):
            draft = yaml.safe_load(contract.read_text())
            unique = {c for c, rule in draft["columns"].items() if rule.get("unique")} | set(
                draft.get("primary_key", [])
            )
            kind = con.execute(
                f"SELECT table_type FROM information_schema.tables WHERE table_name = '{model}'"
            ).fetchall()
            if kind and kind[0][0] == "VIEW":
                continue  # a view's rows are its source's: the table models carry the new rows
            columns = list(draft["columns"])
            values = [_next_value(c, draft["columns"][c].get("type", ""), model) if c in unique else c for c in columns]
            con.execute(f"INSERT INTO {model} SELECT {', '.join(values)} FROM {model} LIMIT 1")
    code, output = _validate(directory, db, *contracts)
    assert code == 0, output


def _next_value(column: str, kind: str, model: str) -> str:
    """A value of `column` no row has yet: the next number, a later time, a longer text."""
    if kind.lower() in ("varchar", "text", "string"):
        return f"(SELECT max({column}) || '+1' FROM {model})"
    if kind.lower().startswith(("date", "timestamp")):
        return f"(SELECT max({column}) + INTERVAL 1 DAY FROM {model})"
    return f"(SELECT max({column}) + 1 FROM {model})"


def test_the_exported_gates_pass_plain_dbt_build_and_dq_dbt_build_on_clean_data(
    built: tuple[Project, Path], tmp_path: Path
) -> None:
    project, _ = built
    directory, _ = _copy(built, tmp_path)
    ok, log = _dbt(directory, *_vars(project))
    assert ok, log
    code, output = _dq("dbt", "build", "--dbt-project", str(directory), "--contracts", str(tmp_path / "contracts"),
                       "--results-dir", str(tmp_path / "results"), "--quiet", *_vars(project))  # fmt: skip
    assert code == 0, output
    # the row checks the exported gate just held inside the model are taken from it, not re-run
    # (dq/dbt/in_model.py); the callback still judges the rest
    result = _result(directory, project.blocked_model)
    engines = {c["engine"] for c in result["checks"] if c["status"] == "passed"}
    assert "dbt" in engines and engines - {"dbt"}, engines
    assert project.blocked_check in {c["name"] for c in result["checks"] if c["engine"] == "dbt"}


def _result(directory: Path, model: str) -> dict[str, Any]:
    runs = sorted((directory / "target" / "dq").iterdir(), key=lambda p: p.stat().st_mtime)
    return dict(json.loads((runs[-1] / "dq" / f"{model}.json").read_text())["contracts"][0])


def _check(directory: Path, model: str, check: str) -> dict[str, object]:
    return next(c for c in _result(directory, model)["checks"] if c["name"] == check)


@pytest.mark.parametrize("gate", ["in the model (exported)", "dq's callback (exported gates off)"])
def test_an_injected_defect_is_blocked_with_its_exact_failing_row_count(
    built: tuple[Project, Path], tmp_path: Path, gate: str
) -> None:
    project, _ = built
    directory, db = _copy(built, tmp_path)
    project.inject(directory, db)
    inside = gate.startswith("in the model")
    off = _vars(project) if inside else _vars(project, dq_enforce=False)
    if inside:
        ok, log = _dbt(directory, *off)  # plain dbt: the exported gate alone stops it
        assert not ok
        assert f"{project.blocked_check} ({project.failing_rows} rows)" in log, log
    code, output = _dq("dbt", "build", "--dbt-project", str(directory), "--contracts", str(tmp_path / "contracts"),
                       "--results-dir", str(tmp_path / "results"), "--quiet", *off)  # fmt: skip
    assert code == 1, output
    check = _check(directory, project.blocked_model, project.blocked_check)
    assert check["status"] == "failed"
    assert check["failing_rows"] == project.failing_rows


def test_a_renamed_model_fails_the_build_instead_of_dropping_its_gate(
    built: tuple[Project, Path], tmp_path: Path
) -> None:
    project, _ = built
    directory, _ = _copy(built, tmp_path)
    old, new = project.rename
    (directory / old).rename(directory / new)
    ok, log = _dbt(directory, *_vars(project))
    assert not ok
    model = Path(old).stem
    assert f"gates model '{model}', which this project does not have" in log, log
