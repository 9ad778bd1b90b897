"""`dq diff`: every classification rule is one case (old contract, new contract) -> (key, class)."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dq.cli import app
from dq.contract.model import Contract
from dq.review.diff import Impact, diff_contracts, type_change

BASE: dict[str, Any] = {
    "contract": "churn",
    "version": "1.0.0",
    "owner": "ml",
    "description": "features",
    "dataset": {"table": "main.training_set"},
    "primary_key": ["customer_id"],
    "row_count": {"min": 1000, "max": 5000},
    "freshness": {"column": "snapshot_at", "max_age": "36h"},
    "extra_columns": "forbid",
    "columns": {
        "customer_id": {"type": "bigint", "nullable": False, "unique": True},
        "country": {"type": "varchar", "nullable": False, "accepted_values": ["DE", "FR"]},
        "age": {"type": "integer", "min": 18, "max": 120, "max_null_fraction": 0.05, "quantiles": {0.5: {"min": 40}}},
        "income": {"type": "double", "mean": {"min": 20000, "max": 90000}},
        "email": {"type": "varchar", "pattern": "^[^@]+@[^@]+$", "severity": "warn", "description": "contact"},
        "plan_id": {"type": "varchar", "references": {"table": "main.plans", "column": "plan_id"}},
        "snapshot_at": {"type": "timestamp", "nullable": False},
        "churned": {"type": "boolean", "nullable": False},
    },
    "checks": [{"name": "no_future", "sql": "select * from {dataset} where snapshot_at > now()"}],
}

DELETE = object()


def patched(patch: dict[str, Any], base: dict[str, Any] = BASE) -> dict[str, Any]:
    """BASE with `patch` merged in (nested dicts merge; DELETE removes a key)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = patched(value, out[key])
        else:
            out[key] = value
    return out


def col(name: str, **rules: Any) -> dict[str, Any]:
    return {"columns": {name: rules}}


# (case id, patch turning BASE into the OLD contract, patch turning BASE into the NEW one, key path, class)
CASES = [
    # breaking for consumers
    ("column removed", {}, {"columns": {"income": DELETE}}, "columns.income", Impact.breaking),
    (
        "column renamed",
        {},
        {"columns": {"email": DELETE, "e_mail": BASE["columns"]["email"]}},
        "columns.email",
        Impact.breaking,
    ),
    ("type narrowed", {}, col("customer_id", type="integer"), "columns.customer_id.type", Impact.breaking),
    ("type widened", {}, col("age", type="bigint"), "columns.age.type", Impact.breaking),
    ("type changed", {}, col("age", type="double"), "columns.age.type", Impact.breaking),
    ("type check removed", {}, col("age", type=DELETE), "columns.age.type", Impact.breaking),
    ("column becomes nullable", {}, col("churned", nullable=True), "columns.churned.nullable", Impact.breaking),
    ("uniqueness dropped", {}, col("customer_id", unique=False), "columns.customer_id.unique", Impact.breaking),
    (
        "accepted value added to a category",
        {},
        col("country", accepted_values=["DE", "FR", "IT"]),
        "columns.country.accepted_values",
        Impact.breaking,
    ),
    (
        "accepted values dropped",
        {},
        col("country", accepted_values=DELETE),
        "columns.country.accepted_values",
        Impact.breaking,
    ),
    ("min lowered", {}, col("age", min=16), "columns.age.min", Impact.breaking),
    ("min removed", {}, col("age", min=DELETE), "columns.age.min", Impact.breaking),
    ("max raised", {}, col("age", max=130), "columns.age.max", Impact.breaking),
    (
        "max_null_fraction raised",
        {},
        col("age", max_null_fraction=0.2),
        "columns.age.max_null_fraction",
        Impact.breaking,
    ),
    ("mean bound loosened", {}, col("income", mean={"min": 10000}), "columns.income.mean.min", Impact.breaking),
    (
        "quantile bound loosened",
        {},
        col("age", quantiles={0.5: {"min": 30}}),
        "columns.age.quantiles.0.5.min",
        Impact.breaking,
    ),
    ("mean check removed", {}, col("income", mean=DELETE), "columns.income.mean", Impact.breaking),
    ("row_count min lowered", {}, {"row_count": {"min": 10}}, "row_count.min", Impact.breaking),
    ("row_count check removed", {}, {"row_count": DELETE}, "row_count", Impact.breaking),
    ("freshness loosened", {}, {"freshness": {"max_age": "72h"}}, "freshness.max_age", Impact.breaking),
    ("primary key changed", {}, {"primary_key": ["customer_id", "snapshot_at"]}, "primary_key", Impact.breaking),
    ("severity lowered error -> warn", {}, col("age", severity="warn"), "columns.age.severity", Impact.breaking),
    (
        "block severity lowered",
        {},
        col("income", mean={"severity": "warn"}),
        "columns.income.mean.severity",
        Impact.breaking,
    ),
    ("pattern edited", {}, col("email", pattern="^.+@.+$"), "columns.email.pattern", Impact.breaking),
    ("pattern removed", {}, col("email", pattern=DELETE), "columns.email.pattern", Impact.breaking),
    (
        "reference retargeted",
        {},
        col("plan_id", references={"table": "main.plans_v2", "column": "plan_id"}),
        "columns.plan_id.references",
        Impact.breaking,
    ),
    ("SQL check removed", {}, {"checks": []}, "checks.no_future", Impact.breaking),
    ("quarantine allowed", {}, {"quarantine": {"max_fraction": 0.01}}, "quarantine.max_fraction", Impact.breaking),
    (
        "quarantine max_fraction raised",
        {"quarantine": {"max_fraction": 0.01}},
        {"quarantine": {"max_fraction": 0.02}},
        "quarantine.max_fraction",
        Impact.breaking,
    ),
    (
        "quarantine max_fraction lowered",
        {"quarantine": {"max_fraction": 0.02}},
        {"quarantine": {"max_fraction": 0.01}},
        "quarantine.max_fraction",
        Impact.tightening,
    ),
    (
        "quarantine removed",
        {"quarantine": {"max_fraction": 0.02}},
        {},
        "quarantine.max_fraction",
        Impact.tightening,
    ),
    (
        "SQL check edited",
        {},
        {"checks": [{"name": "no_future", "sql": "select 1"}]},
        "checks.no_future.sql",
        Impact.breaking,
    ),
    ("extra columns now allowed", {}, {"extra_columns": "allow"}, "extra_columns", Impact.breaking),
    ("dataset moved", {}, {"dataset": {"table": "main.other"}}, "dataset", Impact.breaking),
    # tightening for producers
    ("new not-null", {}, col("age", nullable=False), "columns.age.nullable", Impact.tightening),
    ("narrower range", {}, col("age", min=21), "columns.age.min", Impact.tightening),
    ("max lowered", {}, col("age", max=100), "columns.age.max", Impact.tightening),
    ("new range check", {}, col("income", min=0), "columns.income.min", Impact.tightening),
    (
        "new accepted-values restriction",
        col("email", accepted_values=DELETE),
        col("email", accepted_values=["a@b"]),
        "columns.email.accepted_values",
        Impact.tightening,
    ),
    (
        "accepted value removed",
        {},
        col("country", accepted_values=["DE"]),
        "columns.country.accepted_values",
        Impact.tightening,
    ),
    ("new stat check", {}, col("income", stddev={"max": 5}), "columns.income.stddev", Impact.tightening),
    ("severity raised warn -> error", {}, col("email", severity="error"), "columns.email.severity", Impact.tightening),
    (
        "new required column",
        {},
        col("plan_price", type="double", nullable=False),
        "columns.plan_price",
        Impact.tightening,
    ),
    (
        "new SQL check",
        {},
        {"checks": [*BASE["checks"], {"name": "x", "sql": "select 1"}]},
        "checks.x",
        Impact.tightening,
    ),
    ("new primary key", {"primary_key": []}, {}, "primary_key", Impact.tightening),
    ("extra columns now forbidden", {"extra_columns": "allow"}, {}, "extra_columns", Impact.tightening),
    ("freshness tightened", {}, {"freshness": {"max_age": "24h"}}, "freshness.max_age", Impact.tightening),
    # compatible
    ("new optional column", {}, col("nickname", type="varchar"), "columns.nickname", Impact.compatible),
    ("column description", {}, col("email", description="e-mail"), "columns.email.description", Impact.compatible),
    ("owner", {}, {"owner": "data"}, "owner", Impact.compatible),
    ("description", {}, {"description": "new words"}, "description", Impact.compatible),
    # segments: adding per-segment twins tightens; dropping or changing them loosens
    ("segments added", {}, {"segments": ["country"]}, "segments", Impact.tightening),
    ("segments removed", {"segments": ["country"]}, {}, "segments", Impact.breaking),
    ("segments changed", {"segments": ["country"]}, {"segments": ["churned"]}, "segments", Impact.breaking),
    (
        "segments reordered",
        {"segments": ["country", "churned"]},
        {"segments": ["churned", "country"]},
        "segments",
        Impact.compatible,
    ),
    ("column segments added", {}, col("age", segments=["country"]), "columns.age.segments", Impact.tightening),
    (
        "column segments removed",
        col("age", segments=["country"]),
        col("age", segments=None),
        "columns.age.segments",
        Impact.breaking,
    ),
    (
        "label segments added",
        {"label": {"column": "churned"}},
        {"label": {"column": "churned", "segments": ["country"]}},
        "label.segments",
        Impact.tightening,
    ),
    (
        "label segments removed",
        {"label": {"column": "churned", "segments": ["country"]}},
        {"label": {"column": "churned"}},
        "label.segments",
        Impact.breaking,
    ),
    ("max_segments lowered", {}, {"max_segments": 10}, "max_segments", Impact.tightening),
    ("max_segments raised", {"max_segments": 10}, {}, "max_segments", Impact.breaking),  # exit 3 can now pass
]


@pytest.mark.parametrize(("old_patch", "new_patch", "key", "impact"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(old_patch: dict[str, Any], new_patch: dict[str, Any], key: str, impact: Impact) -> None:
    old = Contract.model_validate(patched(old_patch))
    new = Contract.model_validate(patched(new_patch))
    changes = diff_contracts(old, new).changes
    assert [(c.path, c.impact) for c in changes] == [(key, impact)], changes


def test_a_key_without_a_rule_is_breaking_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: a contract key added to the format before dq diff learns it still counts."""
    import dq.review.diff

    monkeypatch.setattr(dq.review.diff, "CONTRACT_KEYS_WITH_RULES", dq.review.diff.CONTRACT_KEYS_WITH_RULES - {"owner"})
    monkeypatch.setattr(dq.review.diff, "COLUMN_KEYS_WITH_RULES", dq.review.diff.COLUMN_KEYS_WITH_RULES - {"unique"})
    old = Contract.model_validate(BASE)
    new = Contract.model_validate(patched({"owner": "x", **col("age", unique=True)}))
    assert [(c.path, c.impact) for c in diff_contracts(old, new).changes] == [
        ("owner", Impact.compatible),
        ("columns.age.unique", Impact.tightening),  # the rules still run ...
        ("columns.age.unique", Impact.breaking),
        ("owner", Impact.breaking),  # ... and the catch-all flags them
    ]


def test_identical_contracts_have_no_changes() -> None:
    assert diff_contracts(Contract.model_validate(BASE), Contract.model_validate(BASE)).changes == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("BIGINT", "INTEGER", "narrowed"),
        ("INTEGER", "BIGINT", "widened"),
        ("DOUBLE", "FLOAT", "narrowed"),
        ("INTEGER", "VARCHAR", "changed"),
        ("INTEGER", "DOUBLE", "changed"),
    ],
)
def test_type_change(old: str, new: str, expected: str) -> None:
    assert type_change(old, new) == expected


# ------------------------------------------------------------------------------------------ CLI

runner = CliRunner()


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("new_patch", "exit_code"),
    [
        ({}, 0),  # no change
        ({"owner": "someone"}, 0),  # compatible
        (col("age", min=21), 0),  # tightening
        (col("age", min=16), 1),  # breaking, version not bumped
        ({**col("age", min=16), "version": "1.1.0"}, 1),  # a MINOR bump is not enough
        ({**col("age", min=16), "version": "2.0.0"}, 0),  # breaking with a MAJOR bump
    ],
    ids=["same", "compatible", "tightening", "breaking", "breaking-minor-bump", "breaking-major-bump"],
)
def test_cli_exit_codes(tmp_path: Path, new_patch: dict[str, Any], exit_code: int) -> None:
    old = write(tmp_path / "old.yml", BASE)
    new = write(tmp_path / "new.yml", patched(new_patch))
    result = runner.invoke(app, ["diff", str(old), str(new)])
    assert result.exit_code == exit_code, result.output


def test_cli_json(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", BASE)
    new = write(tmp_path / "new.yml", patched(col("country", accepted_values=["DE", "FR", "IT"])))
    result = runner.invoke(app, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["blocks"] is True
    [change] = document["contracts"][0]["changes"]
    assert change == {
        "path": "columns.country.accepted_values",
        "change": "added [IT]",
        "class": "breaking",
        "reason": "new values in a label or category: a model trained on this data never saw them",
    }


def test_cli_bad_contract_exits_3(tmp_path: Path) -> None:
    old = write(tmp_path / "old.yml", BASE)
    new = write(tmp_path / "new.yml", patched(col("age", minn=3)))
    result = runner.invoke(app, ["diff", str(old), str(new)])
    assert result.exit_code == 3
    assert "columns.age.minn: unknown key" in result.output


def test_cli_needs_two_files_or_base(tmp_path: Path) -> None:
    assert runner.invoke(app, ["diff", str(write(tmp_path / "a.yml", BASE))]).exit_code == 2


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo, check=True, capture_output=True
    )


def test_base_compares_every_changed_contract_with_the_git_ref(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    write(contracts / "churn.yml", BASE)
    write(contracts / "untouched.yml", {**BASE, "contract": "untouched"})
    write(contracts / "gone.yml", {**BASE, "contract": "gone"})
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    write(contracts / "churn.yml", patched(col("age", max=130)))  # breaking, uncommitted
    write(contracts / "new.yml", {**BASE, "contract": "new"})  # untracked
    (contracts / "gone.yml").unlink()
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["diff", "--base", "main", "--format", "json"])

    assert result.exit_code == 1, result.output
    by_name = {d["contract"]: d for d in json.loads(result.stdout)["contracts"]}
    assert set(by_name) == {"churn", "gone", "new"}
    assert [c["path"] for c in by_name["churn"]["changes"]] == ["columns.age.max"]
    assert by_name["churn"]["old"] == "main:contracts/churn.yml"
    assert by_name["gone"]["changes"][0]["class"] == "breaking"
    assert by_name["new"]["changes"][0]["class"] == "compatible"

    write(contracts / "churn.yml", patched({**col("age", max=130), "version": "2.0.0"}))
    write(contracts / "gone.yml", {**BASE, "contract": "gone"})
    assert runner.invoke(app, ["diff", "--base", "main"]).exit_code == 0


def test_base_with_an_unknown_ref_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["diff", "--base", "no-such-ref"])
    assert result.exit_code == 3
    assert "no-such-ref" in result.output
