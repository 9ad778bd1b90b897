"""`dq dbt export`: contracts -> dbt properties YAML + assertion macros; a golden file dbt accepts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dq.cli import app
from dq.contract.model import load_contract
from dq.dbt.export import MACROS_FILE, PROPERTIES_FILE, ExportError, export_files, plan_model
from dq.dbt.project_config import GATE_HOOK, PROJECT_FILE, REQUIRE_HOOK, with_dq_hooks
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "fixtures" / "dbt_export"
# Frozen copies: contracts/ evolves with other features, the golden file must not move with it.
CONTRACTS_DIR = GOLDEN / "contracts"
CONTRACTS = sorted(CONTRACTS_DIR.glob("*.yml"))


def _copy_project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(
        ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*", ".user.yml")
    )
    for rel in (PROPERTIES_FILE, MACROS_FILE):
        (project / rel).unlink(missing_ok=True)
    shutil.copytree(CONTRACTS_DIR, tmp_path / "contracts")
    return project


@pytest.mark.parametrize("rel", [PROPERTIES_FILE, MACROS_FILE], ids=lambda p: p.name)
def test_export_of_the_bundled_contracts_matches_the_golden_file(rel: Path) -> None:
    files = export_files(CONTRACTS, ROOT / "dbt_project")
    golden = GOLDEN / rel.name
    if os.environ.get("DQ_UPDATE_GOLDEN"):
        golden.write_text(files[rel], encoding="utf-8")
    # dq/checks/sql.py or dq/checks/compile.py changed on purpose? Regenerate: DQ_UPDATE_GOLDEN=1 pytest tests/test_dbt_export.py
    assert files[rel] == golden.read_text(encoding="utf-8")


def test_dbt_parses_the_export_and_links_each_model_to_its_contract(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    project = _copy_project(tmp_path)
    export = ["dbt", "export", "--contracts", str(tmp_path / "contracts"), "--dbt-project", str(project)]
    assert CliRunner().invoke(app, export).exit_code == 0
    result = dbtRunner().invoke(
        ["parse", "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(tmp_path / "t")]
    )
    assert result.success, result.exception
    nodes = {n.name: n for n in result.result.nodes.values() if n.resource_type == "model"}
    orders = nodes["customer_orders"]
    assert orders.config.meta["data_contract"]["path"] == "../contracts/customer_orders.yml"
    assert orders.contract.enforced is True
    # no PRIMARY KEY constraint: DuckDB would build an index for it; the post-hook checks the key
    assert orders.constraints == []
    assert [c.type for c in orders.columns["customer_id"].constraints] == ["not_null"]
    # the post-hook is project-level config (dbt_project.yml), dispatching on the model's name
    assert [h.sql for h in orders.config.post_hook] == [GATE_HOOK]
    # the staging view cannot take an enforced contract (a warn-severity column): post-hook only
    assert nodes["stg_customers"].contract.enforced is False
    tests = [n for n in result.result.nodes.values() if n.resource_type == "test"]
    accepted = next(t for t in tests if t.test_metadata.name == "accepted_values")
    assert accepted.test_metadata.kwargs["values"] == ["DE", "FR", "US", "GB", "ES"]  # nested under arguments:
    assert {t.config.meta["dq_check"] for t in tests} >= {"plan_id.references", "primary_key.unique"}


def test_check_fails_on_stale_files_and_passes_once_exported(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    runner = CliRunner()
    export = ["dbt", "export", "--contracts", str(tmp_path / "contracts"), "--dbt-project", str(project)]
    stale = runner.invoke(app, [*export, "--check"])
    assert stale.exit_code == 1
    assert "is stale" in stale.output
    assert runner.invoke(app, export).exit_code == 0
    assert runner.invoke(app, [*export, "--check"]).exit_code == 0
    (project / PROPERTIES_FILE).write_text("# edited by hand\n", encoding="utf-8")
    assert runner.invoke(app, [*export, "--check"]).exit_code == 1
    # a contract edited after the export makes the generated files stale too
    contract = tmp_path / "contracts" / "customer_orders.yml"
    assert runner.invoke(app, export).exit_code == 0
    contract.write_text(contract.read_text().replace("min: 500", "min: 400"), encoding="utf-8")
    assert runner.invoke(app, [*export, "--check"]).exit_code == 1


def test_a_bad_contract_is_exit_3_naming_the_file(tmp_path: Path, write_contract) -> None:  # type: ignore[no-untyped-def]
    bad = write_contract("contract: x\nversion: 1\ndataset: {model: m}\n")
    project = str(_project(tmp_path / "p"))
    out = CliRunner().invoke(app, ["dbt", "export", "--contracts", str(bad), "--dbt-project", project])
    assert out.exit_code == 3
    assert str(bad) in out.output


BASE = "contract: c\nversion: 1.0.0\ndataset: {model: m}\nextra_columns: forbid\n"


@pytest.mark.parametrize(
    ("columns", "enforced", "where"),
    [
        # (columns YAML, dbt contract enforced?, {check: constrained|asserted|dq_only})
        (
            "  id: {type: bigint, nullable: false, min: 1}",
            True,
            {"id.not_null": "constrained", "id.range": "constrained"},
        ),
        (
            "  id: {type: bigint}\n  e: {type: varchar, pattern: 'x', severity: warn}",
            False,
            {"e.pattern": "dq_only", "id.type": "asserted"},
        ),
        ("  d: {type: decimal}", False, {"d.type": "asserted"}),
        ("  t: {type: timestamp}", True, {}),
        (
            "  x: {type: double, mean: {min: 0, max: 1}, quantiles: {0.5: {min: 0, max: 1}}}",
            True,
            {"x.mean": "asserted", "x.quantile_0.5": "asserted"},
        ),
    ],
)
def test_checks_are_placed_where_dbt_can_enforce_them(
    write_contract, tmp_path: Path, columns: str, enforced: bool, where: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    path = write_contract(BASE + "columns:\n" + columns + "\n")
    export = plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    assert export.enforced is enforced
    placed = {s.name: kind for kind in ("constrained", "asserted", "dq_only") for s in getattr(export, kind)}
    for check, kind in where.items():
        assert placed[check] == kind


def test_freshness_stays_with_dq(write_contract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_contract(BASE + "freshness: {column: t, max_age: 1h}\ncolumns:\n  t: {type: timestamp}\n")
    export = plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    assert [s.name for s in export.dq_only] == ["t.freshness"]


JAFFLE = ROOT / "tests" / "fixtures" / "dbt_projects" / "jaffle_shop_duckdb"
JAFFLE_GOLDEN = GOLDEN / "jaffle_shop"


def _jaffle(tmp_path: Path) -> Path:
    project = tmp_path / "jaffle_shop"
    shutil.copytree(JAFFLE, project)
    shutil.copytree(JAFFLE_GOLDEN / "contracts", project / "contracts")
    return project


@pytest.mark.parametrize("rel", [PROPERTIES_FILE, MACROS_FILE, PROJECT_FILE], ids=lambda p: p.name)
def test_export_into_a_project_with_its_own_properties_yaml_matches_the_golden_file(rel: Path, tmp_path: Path) -> None:
    """jaffle_shop's schema.yml already patches every model: dq adds no second patch (dbt refuses
    two), the post-hook and the model check go into its dbt_project.yml, comments and order kept."""
    project = _jaffle(tmp_path)
    files = export_files(sorted((project / "contracts").glob("*.yml")), project)
    golden = JAFFLE_GOLDEN / "expected" / rel.name
    if os.environ.get("DQ_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(files[rel], encoding="utf-8")
    assert files[rel] == golden.read_text(encoding="utf-8")


def test_a_model_the_users_yaml_describes_is_gated_by_the_post_hook_alone(tmp_path: Path) -> None:
    project = _jaffle(tmp_path)
    files = export_files(sorted((project / "contracts").glob("*.yml")), project)
    assert "models: []" in files[PROPERTIES_FILE]
    assert "{{ dq_assert__orders() }}" in files[MACROS_FILE]
    path = project / "contracts" / "orders.yml"
    export = plan_model(load_contract(path), path, project, {"orders": project / "models" / "schema.yml"})
    # no enforced dbt contract (it needs a patch): the post-hook checks the schema and the
    # constraint kinds as well, as it does on a view
    assert export is not None and not export.enforced
    assert "order_id.type" in {s.name for s in export.asserted}
    assert "{{ dq_assert('orders 0.1.0', checks, constrained, false, \"contracts/orders.yml\") }}" in files[MACROS_FILE]


@pytest.mark.parametrize(
    "before",
    [
        'name: p\nmodels:\n  p:\n    +post-hook: "select 1"\n',
        'name: p\nmodels:\n  p:\n    post-hook: ["select 1"]\non-run-start: "select 2"\n',
        "name: p\n# a comment the user wrote\nmodels: {}\n",
    ],
)
def test_the_users_own_hooks_are_kept_and_dqs_are_added_once(before: str) -> None:
    import yaml

    after = with_dq_hooks(before, Path("dbt_project.yml"))
    assert with_dq_hooks(after, Path("dbt_project.yml")) == after  # idempotent
    config = yaml.safe_load(after)
    project = config["models"]["p"]
    hooks = project.get("+post-hook", project.get("post-hook"))
    assert hooks[-1] == GATE_HOOK and config["on-run-start"][-1] == REQUIRE_HOOK
    assert ("select 1" in hooks) == ("select 1" in before)
    assert ("select 2" in config["on-run-start"]) == ("select 2" in before)
    assert ("# a comment the user wrote" in after) == ("# a comment" in before)


def test_check_fails_on_a_contract_naming_a_model_the_project_lacks(tmp_path: Path) -> None:
    project = _jaffle(tmp_path)
    contract = project / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("model: orders", "model: order"), encoding="utf-8")
    args = ["dbt", "export", "--contracts", str(project / "contracts"), "--dbt-project", str(project)]
    for extra in ([], ["--check"]):
        out = CliRunner().invoke(app, [*args, *extra])
        assert out.exit_code == 3, out.output
        assert "dataset.model 'order' is not a model of" in out.output and "orders.yml" in out.output


def _project(directory: Path) -> Path:
    """A minimal dbt project holding model `m` (what BASE's contracts name)."""
    (directory / "models").mkdir(parents=True, exist_ok=True)
    (directory / "dbt_project.yml").write_text("name: p\nversion: '1.0.0'\nprofile: p\n", encoding="utf-8")
    (directory / "models" / "m.sql").write_text("select 1 as id\n", encoding="utf-8")
    return directory


def test_a_contract_naming_a_model_the_project_lacks_is_an_export_error(write_contract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """dbt only warns about a patch for a missing model and builds on: the gate would vanish (issue 12)."""
    path = write_contract(BASE.replace("{model: m}", "{model: mm}") + "columns:\n  id: {type: bigint}\n")
    with pytest.raises(ExportError, match=r"dataset.model 'mm' is not a model of .*\(models there: m\)"):
        export_files([path], _project(tmp_path))


def test_jinja_in_a_regex_is_passed_through_raw(write_contract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_contract(BASE + "columns:\n  c: {type: varchar, pattern: '^a{#b}{{2}}$'}\n")
    files = export_files([path], _project(tmp_path))
    assert "{% raw %}NOT (" in files[PROPERTIES_FILE]


def test_sql_that_would_break_jinja_is_refused(write_contract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_contract(
        BASE + "columns:\n  c: {type: varchar}\nchecks:\n  - {name: x, sql: \"select '{% endraw %}' AS x\"}\n"
    )
    with pytest.raises(ExportError, match="endraw"):
        export_files([path], _project(tmp_path))


def test_table_datasets_are_not_exported(write_contract, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_contract("contract: c\nversion: 1.0.0\ndataset: {table: main.t}\n")
    assert "models: []" in export_files([path], tmp_path)[PROPERTIES_FILE]


@pytest.mark.slow
def test_the_bundled_project_builds_with_dqs_generated_files_removed(tmp_path: Path) -> None:
    """Removing what `dq dbt export` wrote leaves a project plain `dbt build` can build (issue 12)."""
    import os
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    project = tmp_path / "project"
    shutil.copytree(root / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*"))
    (project / "models" / "dq_contracts.yml").unlink()
    (project / "macros" / "dq_contracts.sql").unlink()
    db = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DQ_DB": str(db)}
    subprocess.run([sys.executable, str(project / "generate_data.py"), "--db", str(db)], check=True, env=env)
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    built = subprocess.run(
        [dbt, "build", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
