"""The exported in-model gate cannot vanish, and `dq dbt build` never trusts a gate that did not run.

Each test copies the vendored jaffle_shop with its frozen contracts (tests/fixtures/dbt_export/
jaffle_shop/contracts), changes one thing a real project does (a package-scoped or rendered var,
other model and macro paths, an attached database, an ephemeral model, a versioned model), exports,
and runs a real `dbt build` / `dq dbt build` on a refund booked as a negative payment, which
stg_payments' `amount: {min: 0}` must block with exactly one failing row.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

# `dq dbt build` run in-process (CliRunner) loads Pandera without pandas when this process has not
# imported pandas yet (dq/engines/preload.py): a later test of the pandas export in the same worker
# then finds a pandas-less pandera.typing. Importing pandas at collection keeps that out of the
# tests that run next to these (the full suite does so through test_frames.py and others).
import pandas  # noqa: F401
import pytest
import yaml

from tests.conftest import ROOT
from tests.test_dbt_real_projects import _append_csv, _dbt, _dq

pytestmark = pytest.mark.slow
JAFFLE = ROOT / "tests" / "fixtures" / "dbt_projects" / "jaffle_shop_duckdb"
CONTRACTS = ROOT / "tests" / "fixtures" / "dbt_export" / "jaffle_shop" / "contracts"
DEFECT = "114,3,credit_card,-500"  # a refund: stg_payments.amount -5.0 against `min: 0`


def _jaffle(tmp_path: Path, profile_extra: dict[str, Any] | None = None) -> Path:
    project = tmp_path / "jaffle_shop"
    shutil.copytree(JAFFLE, project)
    shutil.copytree(CONTRACTS, project / "contracts")
    output = {"type": "duckdb", "path": str(tmp_path / "wh.duckdb"), "threads": 4, **(profile_extra or {})}
    profile = {"jaffle_shop": {"target": "dev", "outputs": {"dev": output}}}
    (project / "profiles.yml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    return project


def _export(project: Path, *extra: str) -> tuple[int, str]:
    return _dq("dbt", "export", "--contracts", str(project / "contracts"), "--dbt-project", str(project), *extra)


def _dq_build(project: Path, *dbt_args: str) -> tuple[int, str]:
    return _dq("dbt", "build", "--dbt-project", str(project), "--contracts", str(project / "contracts"),
               "--results-dir", str(project.parent / "results"), "--quiet", *dbt_args)  # fmt: skip


def _check(project: Path, model: str, check: str) -> dict[str, Any]:
    runs = sorted((project / "target" / "dq").iterdir(), key=lambda p: p.stat().st_mtime)
    result = json.loads((runs[-1] / "dq" / f"{model}.json").read_text())["contracts"][0]
    return dict(next(c for c in result["checks"] if c["name"] == check))


def _edit_project(project: Path, edit: Any) -> None:
    path = project / "dbt_project.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


# ---- 1. a gate switched off where dq cannot see it ---------------------------------------------


def _package_scoped_var(project: Path) -> None:
    _edit_project(project, lambda c: c.setdefault("vars", {}).update({"jaffle_shop": {"dq_enforce": False}}))


def _rendered_var(project: Path) -> None:
    _edit_project(
        project, lambda c: c.setdefault("vars", {}).update({"dq_enforce": "{{ env_var('DQ_GATE', 'true') }}"})
    )
    os.environ["DQ_GATE"] = "false"


@pytest.mark.parametrize("switch_off", [_package_scoped_var, _rendered_var], ids=["package-scoped", "jinja-rendered"])
def test_dq_dbt_build_runs_the_row_checks_itself_when_the_gate_did_not_run(
    tmp_path: Path, switch_off: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A var dq cannot read statically switched the post-hook off: only the gate's own marker,
    logged when it renders the enforcing query, lets dq take its row checks as held."""
    monkeypatch.delenv("DQ_GATE", raising=False)
    project = _jaffle(tmp_path)
    assert _export(project)[0] == 0
    code, output = _dq_build(project)
    assert code == 0, output
    held = _check(project, "stg_payments", "amount.range")
    assert (held["engine"], held["status"]) == ("dbt", "passed")  # the marker was seen: held in the model
    _append_csv(project / "seeds" / "raw_payments.csv", DEFECT)
    switch_off(project)
    ok, log = _dbt(project)
    assert ok, log  # the gate is off in dbt: plain dbt build publishes the refund
    code, output = _dq_build(project)
    assert code == 1, output
    check = _check(project, "stg_payments", "amount.range")
    assert check["status"] == "failed" and check["failing_rows"] == 1
    assert check["engine"] != "dbt"


def test_constrained_checks_stay_in_the_post_hook_when_dbt_did_not_load_dqs_patch(tmp_path: Path) -> None:
    """stg_payments as a table no other YAML describes gets an enforced contract with constraints
    from dq's patch; without that patch in dbt the post-hook must check them itself."""
    project = _jaffle(tmp_path)
    staging = project / "models" / "staging"
    schema = yaml.safe_load((staging / "schema.yml").read_text(encoding="utf-8"))
    schema["models"] = [m for m in schema["models"] if m["name"] != "stg_payments"]
    (staging / "schema.yml").write_text(yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")
    sql = staging / "stg_payments.sql"
    sql.write_text("{{ config(materialized='table') }}\n" + sql.read_text(encoding="utf-8"), encoding="utf-8")
    code, output = _export(project)
    assert code == 0, output
    assert "checks, constrained, true" in (project / "macros" / "dq_contracts.sql").read_text()
    _append_csv(project / "seeds" / "raw_payments.csv", DEFECT)
    ok, log = _dbt(project)
    assert not ok and "Constraint Error" in log, log  # dq's patch loaded: the CHECK constraint stops it
    (project / "models" / "dq_contracts.yml").unlink()  # e.g. left out of a deploy, or a path dbt skips
    ok, log = _dbt(project)
    assert not ok
    assert "dq contract stg_payments 0.1.0 failed: amount.range (1 rows)" in log, log


# ---- 2. other model and macro paths ------------------------------------------------------------


def test_export_writes_where_dbt_reads_with_other_model_and_macro_paths(tmp_path: Path) -> None:
    project = _jaffle(tmp_path)
    (project / "models").rename(project / "transform")
    _edit_project(project, lambda c: c.update({"model-paths": ["transform"], "macro-paths": ["dbt_macros"]}))
    code, output = _export(project)
    assert code == 0, output
    assert (project / "transform" / "dq_contracts.yml").is_file()
    assert (project / "dbt_macros" / "dq_contracts.sql").is_file()
    assert not (project / "models").exists() and not (project / "macros").exists()
    assert _export(project, "--check")[0] == 0
    (project / "dbt_macros" / "dq_contracts.sql").write_text("{# edited #}\n", encoding="utf-8")
    assert _export(project, "--check")[0] == 1  # --check reads where dbt reads
    assert _export(project)[0] == 0
    _append_csv(project / "seeds" / "raw_payments.csv", DEFECT)
    ok, log = _dbt(project)
    assert not ok
    assert "dq contract stg_payments 0.1.0 failed: amount.range (1 rows)" in log, log
    code, output = _dq_build(project)
    assert code == 1, output
    check = _check(project, "stg_payments", "amount.range")
    assert check["status"] == "failed" and check["failing_rows"] == 1


# ---- 4. an attached database with the same schema.table ---------------------------------------


def test_schema_checks_read_only_the_models_own_database(tmp_path: Path) -> None:
    """`attach:` puts a second catalog beside the model's: its main.stg_payments has the column
    the contract requires and the model lacks; it must not count."""
    with duckdb.connect(str(tmp_path / "prod.duckdb")) as con:
        con.execute(
            "CREATE TABLE main.stg_payments (payment_id INTEGER, order_id INTEGER, payment_method VARCHAR, "
            "amount DOUBLE, note VARCHAR)"
        )
    project = _jaffle(
        tmp_path, {"attach": [{"path": str(tmp_path / "prod.duckdb"), "alias": "prod", "read_only": True}]}
    )
    contract = project / "contracts" / "stg_payments.yml"
    text = contract.read_text(encoding="utf-8").replace("extra_columns: forbid", "extra_columns: allow")
    contract.write_text(text + "  note:\n    type: varchar\n", encoding="utf-8")
    assert _export(project)[0] == 0
    ok, log = _dbt(project)
    assert not ok
    assert "note.exists (1 bad column(s))" in log, log


# ---- 3. an ephemeral model ---------------------------------------------------------------------


def _ephemeral_in_sql(project: Path) -> None:
    sql = project / "models" / "staging" / "stg_payments.sql"
    sql.write_text("{{ config(materialized='ephemeral') }}\n" + sql.read_text(encoding="utf-8"), encoding="utf-8")


def _ephemeral_folder(project: Path) -> None:
    _edit_project(project, lambda c: c["models"]["jaffle_shop"]["staging"].update({"+materialized": "ephemeral"}))


def _ephemeral_in_yaml(project: Path) -> None:
    path = project / "models" / "staging" / "schema.yml"
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(m for m in schema["models"] if m["name"] == "stg_payments")["config"] = {"materialized": "ephemeral"}
    path.write_text(yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("make_ephemeral", [_ephemeral_in_sql, _ephemeral_folder, _ephemeral_in_yaml])
def test_a_contract_on_an_ephemeral_model_is_refused_at_export(tmp_path: Path, make_ephemeral: Any) -> None:
    """dbt inlines an ephemeral model into its children: no relation, no post-hook, no gate."""
    project = _jaffle(tmp_path)
    make_ephemeral(project)
    for extra in ([], ["--check"]):
        code, output = _export(project, *extra)
        assert code == 3, output
        assert "stg_payments.yml" in output and "'stg_payments' is materialized as ephemeral" in output, output
        assert "Fix: materialize stg_payments as a view or table" in output


def test_a_model_made_ephemeral_after_the_export_fails_the_build(tmp_path: Path) -> None:
    project = _jaffle(tmp_path)
    assert _export(project)[0] == 0
    _ephemeral_in_sql(project)
    _append_csv(project / "seeds" / "raw_payments.csv", DEFECT)
    ok, log = _dbt(project)
    assert not ok
    assert "contract contracts/stg_payments.yml gates model 'stg_payments', which is materialized as ephemeral" in log
    code, output = _dq_build(project)
    assert code == 3, output
    assert "ephemeral" in output, output


def test_dq_dbt_build_says_a_contracts_model_is_ephemeral(tmp_path: Path) -> None:
    project = _jaffle(tmp_path)  # no export: dq's callback alone
    _ephemeral_in_sql(project)
    code, output = _dq_build(project)
    assert code == 3, output
    assert "dataset.model 'stg_payments': is materialized as ephemeral" in " ".join(output.split()), output


# ---- 5. a versioned model ----------------------------------------------------------------------


def _versioned_customers(project: Path) -> None:
    """customers in two versions, v2 the latest; v1 keeps a legacy column the contract forbids."""
    models = project / "models"
    sql = (models / "customers.sql").read_text(encoding="utf-8")
    (models / "customers.sql").unlink()
    (models / "customers_v2.sql").write_text(sql, encoding="utf-8")
    (models / "customers_v1.sql").write_text(f"select *, 1 as legacy from (\n{sql}\n) as v2\n", encoding="utf-8")
    schema = yaml.safe_load((models / "schema.yml").read_text(encoding="utf-8"))
    customers = next(m for m in schema["models"] if m["name"] == "customers")
    customers.update({"latest_version": 2, "versions": [{"v": 1}, {"v": 2}]})
    (models / "schema.yml").write_text(yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("pinned", [None, 1])
def test_a_versioned_models_contract_gates_the_version_it_resolves_to(tmp_path: Path, pinned: int | None) -> None:
    project = _jaffle(tmp_path)
    _versioned_customers(project)
    if pinned is not None:
        contract = project / "contracts" / "customers.yml"
        text = contract.read_text(encoding="utf-8").replace(
            "  model: customers\n", f"  model: customers\n  version: {pinned}\n"
        )
        contract.write_text(text, encoding="utf-8")
    code, output = _export(project)
    assert code == 0, output  # `{model: customers}` is the versioned model, not a missing one
    ok, log = _dbt(project)
    code, output = _dq_build(project)
    if pinned is None:  # ref('customers') is v2: v1's legacy column is no business of the contract
        assert ok, log
        assert code == 0, output
        assert _check(project, "customers", "schema.no_extra_columns")["status"] == "passed"
    else:
        assert not ok
        assert "dq contract customers 0.1.0 failed: schema.no_extra_columns (1 bad column(s))" in log, log
        assert code == 1, output


# ---- 6. a hook after the gate, a NaN past a NOT NULL constraint, seeds and snapshots --------------


def test_a_model_hook_that_runs_after_the_gate_makes_dq_judge_the_published_table(tmp_path: Path) -> None:
    """dbt appends a model's own post-hooks after the project's (dq's gate): one that updates the
    table changes the rows the gate passed, so its marker cannot stand for the published table."""
    project = _jaffle(tmp_path)
    schema_path = project / "models" / "schema.yml"
    schema = yaml.safe_load(schema_path.read_text(encoding="utf-8"))
    customers = next(m for m in schema["models"] if m["name"] == "customers")
    customers["config"] = {"post_hook": "update {{ this }} set customer_lifetime_value = -7 where customer_id = 1"}
    schema_path.write_text(yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")
    assert _export(project)[0] == 0
    code, output = _dq_build(project)
    assert code == 1, output
    check = _check(project, "customers", "customer_lifetime_value.range")
    assert (check["status"], check["failing_rows"]) == ("failed", 1)
    assert check["engine"] != "dbt"


def test_a_nan_in_a_not_null_double_of_an_enforced_table_fails_its_constraint(tmp_path: Path) -> None:
    """dbt's NOT NULL lets a NaN through; a NaN is a missing value to dq, so the exported
    constraints of a FLOAT/DOUBLE `nullable: false` column also hold `NOT isnan(...)`."""
    project = _jaffle(tmp_path)
    (project / "models" / "pay_t.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select payment_id, order_id, payment_method, amount from {{ ref('stg_payments') }}\n"
        "union all select 1000, 1, 'coupon', 'nan'::double\n",
        encoding="utf-8",
    )
    (project / "contracts" / "pay_t.yml").write_text(
        "contract: pay_t\nversion: 1.0.0\ndataset: {model: pay_t}\nextra_columns: forbid\ncolumns:\n"
        "  payment_id: {type: integer, nullable: false, unique: true}\n  order_id: {type: integer, nullable: false}\n"
        "  payment_method: {type: varchar, nullable: false}\n  amount: {type: double, nullable: false, min: 0}\n",
        encoding="utf-8",
    )
    assert _export(project)[0] == 0
    ok, log = _dbt(project)
    assert not ok, log
    assert "pay_t" in log
    code, output = _dq_build(project)
    assert code == 1, output


def test_a_contract_on_a_seed_is_validated_by_dq_dbt_build(tmp_path: Path) -> None:
    """`dq dbt export` gates models only, but `dq dbt build` validates every contract's node as it
    finishes, a seed's and a snapshot's too: never a contract left out in silence."""
    project = _jaffle(tmp_path)
    for contract in (project / "contracts").glob("*.yml"):
        contract.unlink()
    (project / "contracts" / "raw_payments.yml").write_text(
        "contract: raw_payments\nversion: 1.0.0\ndataset: {model: raw_payments}\ncolumns:\n"
        "  id: {type: integer, nullable: false, unique: true}\n  amount: {type: integer, max: 100000}\n",
        encoding="utf-8",
    )
    _append_csv(project / "seeds" / "raw_payments.csv", "114,3,credit_card,99999999")
    code, output = _dq_build(project)
    assert code == 1, output
    check = _check(project, "raw_payments", "amount.range")
    assert (check["status"], check["failing_rows"]) == ("failed", 1)
