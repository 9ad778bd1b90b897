"""A contract is checked against the relation its dataset names, as dbt's `ref()` and DuckDB's
catalogs resolve it, or the run is an error (exit 3). Never against a look-alike.

Before: a versioned dbt model resolved to whichever manifest node came first (v1, while `ref()`
means `latest_version`); a model name in two packages took the first; `{table: lake.main.t}` and
a node with `database: lake` silently validated `main.t` of the opened file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.relation import split_table_name
from dq.checks.result import Status
from dq.config import EngineChoice, Settings
from dq.data.source import resolve_table
from dq.dbt.artifacts import model_node, resolve_model
from dq.errors import SourceError
from dq.run.runner import validate

SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"


def _node(name: str, package: str = "shop", version: Any = None, latest: Any = None, **extra: Any) -> dict[str, Any]:
    unique_id = f"model.{package}.{name}" + (f".v{version}" if version is not None else "")
    alias = f"{name}_v{version}" if version is not None else name
    return {
        "unique_id": unique_id,
        "resource_type": "model",
        "package_name": package,
        "name": name,
        "database": "warehouse",
        "schema": "main",
        "alias": alias,
        "version": version,
        "latest_version": latest,
        **extra,
    }


def _project(tmp_path: Path, *nodes: dict[str, Any], project: str | None = "shop") -> Path:
    """A dbt project directory holding only target/manifest.json with `nodes` (in this order)."""
    target = tmp_path / "dbt" / "target"
    target.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {"dbt_schema_version": SCHEMA}
    if project is not None:
        metadata["project_name"] = project
    manifest = {"metadata": metadata, "nodes": {n["unique_id"]: n for n in nodes}}
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return tmp_path / "dbt"


# -- versioned models: ref('name') is latest_version --------------------------------------------


def test_a_versioned_model_resolves_to_its_latest_version_not_the_first_node(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", version=1, latest=2), _node("orders", version=2, latest=2))
    node = resolve_model(project, "orders")
    assert (node.unique_id, node.alias) == ("model.shop.orders.v2", "orders_v2")


def test_latest_version_is_the_declared_one_not_the_highest(tmp_path: Path) -> None:
    nodes = [_node("orders", version=v, latest=2) for v in (3, 1, 2)]  # v3 is a prerelease
    assert resolve_model(_project(tmp_path, *nodes), "orders").alias == "orders_v2"


def test_versions_written_as_strings_resolve_too(tmp_path: Path) -> None:
    nodes = [_node("orders", version="1", latest="2"), _node("orders", version="2", latest="2")]
    assert resolve_model(_project(tmp_path, *nodes), "orders").alias == "orders_v2"


def test_a_version_can_be_pinned_and_a_missing_one_is_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", version=1, latest=2), _node("orders", version=2, latest=2))
    assert resolve_model(project, "orders", version=1).alias == "orders_v1"
    with pytest.raises(SourceError, match=r"no version 7 .*versions: 1, 2"):
        resolve_model(project, "orders", version=7)


def test_a_versioned_model_without_its_latest_version_is_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", version=1, latest=3), _node("orders", version=2, latest=3))
    with pytest.raises(SourceError, match="latest_version 3"):
        resolve_model(project, "orders")


def test_model_node_picks_the_same_node_as_resolve_model(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", version=1, latest=2), _node("orders", version=2, latest=2))
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    assert (model_node(manifest, "orders") or {})["unique_id"] == "model.shop.orders.v2"


def test_a_validation_reads_the_latest_version_table(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders_v1 AS SELECT 1 AS id")  # fine
        con.execute("CREATE TABLE orders_v2 AS SELECT NULL::INTEGER AS id")  # what ref('orders') builds on
    project = _project(tmp_path, _node("orders", version=1, latest=2), _node("orders", version=2, latest=2))
    contract = tmp_path / "c.yml"
    contract.write_text(
        "contract: c\nversion: 1.0.0\ndataset: {model: orders}\ncolumns:\n  id: {nullable: false}\n", encoding="utf-8"
    )
    run = validate([contract], _settings(db, project, tmp_path))
    assert run.contracts[0].relation == "main.orders_v2"
    assert run.status is Status.failed


def test_a_contract_can_pin_a_model_version(tmp_path: Path) -> None:
    """`dataset: {model: orders, version: 1}` is `ref('orders', v=1)`; a version dbt lacks is exit 3."""
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders_v1 AS SELECT NULL::INTEGER AS id")
        con.execute("CREATE TABLE orders_v2 AS SELECT 1 AS id")
    project = _project(tmp_path, _node("orders", version=1, latest=2), _node("orders", version=2, latest=2))
    for version, relation, status in ((1, "main.orders_v1", Status.failed), (7, None, Status.error)):
        contract = tmp_path / f"c{version}.yml"
        contract.write_text(
            f"contract: c\nversion: 1.0.0\ndataset: {{model: orders, version: {version}}}\n"
            "columns:\n  id: {nullable: false}\n",
            encoding="utf-8",
        )
        run = validate([contract], _settings(db, project, tmp_path))
        assert run.status is status and run.contracts[0].relation == relation, run.contracts[0].error


# -- the same name in several packages ----------------------------------------------------------


def test_the_root_project_wins_like_ref_does(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", package="vendor"), _node("orders", package="shop", alias="mine"))
    assert resolve_model(project, "orders").unique_id == "model.shop.orders"


def test_one_name_in_two_other_packages_is_ambiguous(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", package="a"), _node("orders", package="b"))
    with pytest.raises(SourceError, match=r"ambiguous.*model\.a\.orders.*model\.b\.orders"):
        resolve_model(project, "orders")


def test_without_a_root_project_name_two_packages_are_ambiguous(tmp_path: Path) -> None:
    project = _project(tmp_path, _node("orders", package="a"), _node("orders", package="shop"), project=None)
    with pytest.raises(SourceError, match="ambiguous"):
        resolve_model(project, "orders")


# -- catalogs: the opened file is one catalog, named after its stem ----------------------------


def _settings(db: Path, project: Path | None, tmp_path: Path) -> Settings:
    return Settings(
        db=db,
        dbt_project=project,
        results_dir=tmp_path / "results",
        engine=EngineChoice.auto,
        history=tmp_path / "history.duckdb",
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    return db


def test_a_three_part_name_keeps_its_catalog() -> None:
    assert split_table_name("lake.main.t") == ("lake", "main", "t")
    assert split_table_name("main.t") == (None, "main", "t")
    assert split_table_name("t") == (None, "main", "t")
    assert split_table_name('"my.lake"."s"."a.b"') == ("my.lake", "s", "a.b")


def test_a_catalog_other_than_the_opened_file_is_an_error(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con, pytest.raises(SourceError) as raised:
        resolve_table(con, warehouse, "main", "t", catalog="lake")
    message = str(raised.value)
    assert "'lake'" in message and "'warehouse'" in message and "--db" in message


def test_the_opened_files_own_catalog_resolves(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert resolve_table(con, warehouse, "main", "t", catalog="warehouse").columns == {"x": "INTEGER"}
        assert resolve_table(con, warehouse, "main", "t", catalog="WAREHOUSE").label == "main.t"


def test_a_table_in_another_catalog_is_never_validated_in_the_opened_file(warehouse: Path, tmp_path: Path) -> None:
    contract = tmp_path / "c.yml"
    contract.write_text("contract: c\nversion: 1.0.0\ndataset: {table: lake.main.t}\n", encoding="utf-8")
    run = validate([contract], _settings(warehouse, None, tmp_path))
    assert run.status is Status.error
    assert "catalog 'lake'" in (run.contracts[0].error or "")


def test_a_dbt_node_in_another_database_is_an_error_naming_both(warehouse: Path, tmp_path: Path) -> None:
    project = _project(tmp_path, {**_node("t"), "database": "lake"})
    contract = tmp_path / "c.yml"
    contract.write_text("contract: c\nversion: 1.0.0\ndataset: {model: t}\n", encoding="utf-8")
    run = validate([contract], _settings(warehouse, project, tmp_path))
    error = run.contracts[0].error or ""
    assert run.status is Status.error
    assert "model.shop.t" in error and "'lake'" in error and "'warehouse'" in error and "--db" in error


def test_a_dbt_node_in_the_opened_files_database_resolves(warehouse: Path, tmp_path: Path) -> None:
    project = _project(tmp_path, _node("t"))
    contract = tmp_path / "c.yml"
    contract.write_text("contract: c\nversion: 1.0.0\ndataset: {model: t}\nrow_count: {min: 1}\n", encoding="utf-8")
    run = validate([contract], _settings(warehouse, project, tmp_path))
    assert run.status is Status.passed, run.contracts[0].error
