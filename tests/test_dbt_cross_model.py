"""`dq dbt build` judges a check that reads another model on the version this run builds (issue 12).

`orders` does not ref `shoppers` (the customers), so dbt may build it while `shoppers` is still
being rebuilt (the Python model below sleeps: 4 threads), or before it (one thread: dbt takes
`orders` first). Checked at once, `orders`' `references: {model: shoppers}` would read the
previous run's `shoppers`: an orphan passes, a new customer blocks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dq.cli import app

pytestmark = pytest.mark.slow

SLOW_CUSTOMERS = """\
import time


def model(dbt, session):
    dbt.config(materialized="table")
    time.sleep(1.0)  # rebuilt slowly: with 4 threads, orders finishes first
    return dbt.ref("raw_shoppers")
"""
ORDERS_CONTRACT = """\
contract: orders
version: 1.0.0
owner: shop
dataset: {model: orders}
columns:
  order_id: {type: integer, nullable: false}
  customer_id: {type: integer, references: {model: shoppers, column: customer_id}}
"""


def _project(base: Path, threads: int) -> Path:
    project = base / "shop"
    (project / "models").mkdir(parents=True)
    (project / "seeds").mkdir()
    (project / "dbt_project.yml").write_text(
        "name: shop\nversion: '1.0.0'\nconfig-version: 2\nprofile: shop\n", encoding="utf-8"
    )
    (project / "profiles.yml").write_text(
        f"shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {base / 'shop.duckdb'}\n"
        f"      threads: {threads}\n",
        encoding="utf-8",
    )
    (project / "models" / "shoppers.py").write_text(SLOW_CUSTOMERS, encoding="utf-8")
    (project / "models" / "orders.sql").write_text("select * from {{ ref('raw_orders') }}\n", encoding="utf-8")
    (base / "contracts").mkdir()
    (base / "contracts" / "orders.yml").write_text(ORDERS_CONTRACT, encoding="utf-8")
    return project


def _seed(project: Path, customers: list[int], orders: list[tuple[int, int]]) -> None:
    rows = "".join(f"{c}\n" for c in customers)
    (project / "seeds" / "raw_shoppers.csv").write_text("customer_id\n" + rows, encoding="utf-8")
    rows = "".join(f"{o},{c}\n" for o, c in orders)
    (project / "seeds" / "raw_orders.csv").write_text("order_id,customer_id\n" + rows, encoding="utf-8")


def _build(project: Path, name: str) -> tuple[int, str, Path]:
    target = project.parent / "targets" / name
    args = ["dbt", "build", "--contracts", str(project.parent / "contracts"), "--dbt-project", str(project)]
    args += ["--results-dir", str(project.parent / "results"), "--target-path", str(target), "--quiet"]
    out = CliRunner().invoke(app, args)
    return out.exit_code, out.output, target


def _references(target: Path) -> dict[str, object]:
    run = json.loads((target / "dq" / "orders.json").read_text())
    return next(c for c in run["contracts"][0]["checks"] if c["name"] == "customer_id.references")


@pytest.mark.parametrize(
    "threads", [1, 4], ids=["one thread: checked once shoppers is built", "four threads: waits for shoppers"]
)
def test_an_orphan_against_the_customers_this_run_builds_blocks_and_a_new_customer_passes(
    tmp_path: Path, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DQ_HISTORY", str(tmp_path / "history.duckdb"))
    project = _project(tmp_path, threads)
    _seed(project, [1, 2, 3], [(10, 1), (11, 3)])
    code, output, _ = _build(project, "first")
    assert code == 0, output

    # customer 3 is gone in this run's shoppers: order 11 is an orphan (the previous table still has 3)
    _seed(project, [1, 2], [(10, 1), (11, 3)])
    code, output, target = _build(project, "orphan")
    assert code == 1, output
    check = _references(target)
    assert check["status"] == "failed" and check["failing_rows"] == 1

    # customer 4 is new in this run, and so is its order: clean (the previous table lacks 4)
    _seed(project, [1, 2, 3, 4], [(10, 1), (11, 3), (12, 4)])
    code, output, target = _build(project, "new_customer")
    assert code == 0, output
    assert _references(target)["status"] == "passed"
