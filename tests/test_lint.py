"""`dq lint`: each problem a contract can have is one case -> (file, key path, message); exit 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dq.cli import app
from dq.review.lint import lint

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

GOOD = """\
contract: customers
version: 1.0.0
dataset: {table: main.customers}
columns:
  customer_id: {type: bigint}
  email: {type: varchar, pattern: '^[^@]+@[^@]+$'}
checks:
  - name: no_empty_email
    sql: select * from {dataset} where email = ''
"""

# (case id, contract text, key path of the one expected problem, words in its message)
CASES = [
    (
        "unknown key (loader)",
        GOOD.replace("{type: bigint}", "{type: bigint, minn: 3}"),
        "columns.customer_id.minn",
        "unknown key 'minn'",
    ),
    (
        "lookahead: Python re accepts it, RE2 does not",
        GOOD.replace("'^[^@]+@[^@]+$'", "'^(?=.*@).+$'"),
        "columns.email.pattern",
        "does not compile in DuckDB (RE2",
    ),
    ("backreference", GOOD.replace("'^[^@]+@[^@]+$'", "'^(a)\\1$'"), "columns.email.pattern", "RE2"),
    (
        "SQL check does not parse",
        GOOD.replace("where email = ''", "where email = = ''"),
        "checks.0.sql",
        "'no_empty_email' does not parse",
    ),
    (
        "two statements in a SQL check",
        GOOD.replace("where email = ''", "where true; select 1"),
        "checks.0.sql",
        "exactly one SELECT",
    ),
    (
        "a SQL check that writes",
        GOOD.replace("select * from {dataset} where email = ''", "drop table x"),
        "checks.0.sql",
        "exactly one SELECT",
    ),
    (
        "unknown dbt model",
        GOOD.replace("{table: main.customers}", "{model: no_such_model}"),
        "dataset.model",
        "model 'no_such_model' not found",
    ),
    (
        "unknown referenced model",
        GOOD.replace("{type: bigint}", "{type: bigint, references: {model: nope, column: id}}"),
        "columns.customer_id.references.model",
        "model 'nope' not found",
    ),
]


@pytest.fixture(scope="module")
def dbt_project(warehouse: dict[str, Path]) -> Path:
    """The bundled dbt project; the session's real dbt build left target/manifest.json in it."""
    assert (ROOT / "dbt_project" / "target" / "manifest.json").is_file()
    return ROOT / "dbt_project"


@pytest.mark.parametrize(("text", "key", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem(tmp_path: Path, dbt_project: Path, text: str, key: str, words: str) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text, encoding="utf-8")
    count, problems = lint([path], dbt_project)
    assert count == 1
    assert [(p.file, p.key) for p in problems] == [(str(path), key)], problems
    assert words in problems[0].message


def test_good_contract_has_no_problem(tmp_path: Path, dbt_project: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(GOOD, encoding="utf-8")
    assert lint([path], dbt_project) == (1, [])


def test_referenced_column_must_be_declared_by_the_referenced_contract(tmp_path: Path) -> None:
    (tmp_path / "customers.yml").write_text(GOOD, encoding="utf-8")
    orders = tmp_path / "orders.yml"
    orders.write_text(
        "contract: orders\nversion: 1.0.0\ndataset: {table: main.orders}\ncolumns:\n"
        "  customer_id: {references: {table: main.customers, column: id}}\n",
        encoding="utf-8",
    )
    _, problems = lint([tmp_path / "customers.yml", orders], None)
    assert [(p.file, p.key) for p in problems] == [(str(orders), "columns.customer_id.references.column")]
    assert "'id' is not declared in" in problems[0].message


def test_contract_names_are_unique(tmp_path: Path) -> None:
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text(GOOD, encoding="utf-8")
    _, problems = lint([tmp_path / "a.yml", tmp_path / "b.yml"], None)
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yml'}: contract: name 'customers' is already used by {tmp_path / 'a.yml'}"
    ]


def test_a_model_without_a_manifest_is_a_problem_unless_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text(GOOD.replace("{table: main.customers}", "{model: customers}"), encoding="utf-8")
    _, problems = lint([path], tmp_path)  # a directory without target/manifest.json
    assert [p.key for p in problems] == ["dataset.model"]
    assert "manifest" in problems[0].message and "--skip-dbt" in problems[0].message
    assert lint([path], tmp_path, skip_dbt=True) == (1, [])


# ------------------------------------------------------------------------------------------ CLI


def test_cli_bundled_contracts_are_clean(dbt_project: Path) -> None:
    result = runner.invoke(app, ["lint", str(ROOT / "contracts"), "--dbt-project", str(dbt_project)])
    assert result.exit_code == 0, result.output
    assert "3 contracts, 0 problems" in result.output


def test_cli_reports_every_problem_and_exits_3(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD.replace("'^[^@]+@[^@]+$'", "'(?<=x)y'"), encoding="utf-8")
    (tmp_path / "b.yml").write_text("contract: b\nversion: one\n", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(tmp_path), "--skip-dbt"])
    assert result.exit_code == 3
    lines = result.output.splitlines()
    assert f"{tmp_path / 'a.yml'}: columns.email.pattern: regex does not compile" in result.output
    assert f"{tmp_path / 'b.yml'}: version: version 'one' is not semver (MAJOR.MINOR.PATCH, e.g. 1.0.0)" in lines
    assert f"{tmp_path / 'b.yml'}: dataset: required key is missing" in lines
    assert lines[-1] == "dq lint: 2 contracts, 3 problems"


def test_cli_json(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(GOOD.replace("= ''", "= = ''"), encoding="utf-8")
    result = runner.invoke(app, ["lint", str(tmp_path / "a.yml"), "--format", "json"])
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["contracts"] == 1
    assert [(p["file"], p["key"]) for p in document["problems"]] == [(str(tmp_path / "a.yml"), "checks.0.sql")]


def test_cli_empty_directory_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lint", str(tmp_path)])
    assert result.exit_code == 3
    assert "no contract files" in result.output


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (
            lambda p: p["columns"]["income"].__setitem__("counts", [-1, *p["columns"]["income"]["counts"][1:]]),
            "drift.reference",
            "counts",
        ),
        (
            lambda p: p.__setitem__("columns", {k: v for k, v in p["columns"].items() if k != "income"}),
            "drift.columns.income",
            "no profile of column 'income'",
        ),
    ],
    ids=["a negated bin count", "a drifting column the profile lacks"],
)
def test_drift_reference_profiles_are_linted(mutate: object, key: str, words: str, tmp_path: Path) -> None:
    profile = json.loads((ROOT / "profiles" / "training_set.json").read_text(encoding="utf-8"))
    mutate(profile)  # type: ignore[operator]
    reference = tmp_path / "profile.json"
    reference.write_text(json.dumps(profile), encoding="utf-8")
    path = tmp_path / "c.yml"
    text = GOOD.replace("dataset: {table: main.customers}", "dataset: {table: main.training_set}")
    text = text.replace("columns:\n", "columns:\n  income: {type: double}\n", 1)
    path.write_text(
        text + f"drift:\n  reference: {reference}\n  columns:\n    income: {{psi_max: 0.2}}\n", encoding="utf-8"
    )
    _, problems = lint([path], None, skip_dbt=True)
    assert [(p.key, words in p.message) for p in problems] == [(key, True)], problems
