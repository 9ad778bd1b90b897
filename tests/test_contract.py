"""The contract loader: valid files load; every invalid one names file, key path and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from dq.contract.model import Severity, load_contract
from dq.errors import ContractError

HEAD = "contract: c\nversion: 1.0.0\ndataset: {table: main.t}\n"


def test_the_issue_example_loads(write_contract: Callable[[str], Path]) -> None:
    contract = load_contract(
        write_contract(
            HEAD
            + """primary_key: [id]
row_count: {min: 1000}
freshness: {column: ts, max_age: 36h}
columns:
  id: {type: bigint, nullable: false, unique: true}
  ts: {type: timestamp}
  email: {type: string, pattern: '^[^@\\s]+@[^@\\s]+$', severity: warn}
  income: {type: double, min: 0, mean: {min: 20000, max: 90000, severity: warn}, quantiles: {0.5: {max: 1e6}}}
checks:
  - name: no_future
    sql: select * from {dataset} where ts > now()
"""
        )
    )
    assert contract.freshness is not None and contract.freshness.max_age == timedelta(hours=36)
    assert contract.columns["email"].type == "VARCHAR"
    assert contract.columns["email"].severity is Severity.warn
    assert contract.columns["income"].mean is not None and contract.columns["income"].mean.severity is Severity.warn


@pytest.mark.parametrize(
    ("body", "key", "hint"),
    [
        ("colums: {}\n", "colums", "allowed keys: contract, version"),
        ("columns: {a: {minn: 1}}\n", "columns.a.minn", "allowed keys: type, description, nullable"),
        ("columns: {a: {min: 5, max: 1}}\n", "columns.a", "min (5) is greater than max (1)"),
        ("columns: {a: {pattern: '('}}\n", "columns.a.pattern", "regex does not compile"),
        ("columns: {a: {type: integr}}\n", "columns.a.type", "unknown type 'integr'; allowed:"),
        ("columns: {a: {nullable: maybe}}\n", "columns.a.nullable", "boolean"),
        ("columns: {a: {severity: fatal}}\n", "columns.a.severity", "'error' or 'warn'"),
        ("columns: {a: {accepted_values: []}}\n", "columns.a.accepted_values", "at least one value"),
        ("columns: {a: {max_null_fraction: 1.5}}\n", "columns.a.max_null_fraction", "less than or equal to 1"),
        ("columns: {a: {length: {min: -1}}}\n", "columns.a.length", "whole numbers >= 0"),
        ("columns: {a: {mean: {}}}\n", "columns.a.mean", "at least one of min or max"),
        ("columns: {a: {quantiles: {1.5: {max: 1}}}}\n", "columns.a.quantiles", "outside [0, 1]"),
        ("columns: {a: {}}\nfreshness: {column: a, max_age: 3 days}\n", "freshness.max_age", "unit s|m|h|d|w"),
        ("columns: {a: {}}\nfreshness: {column: b, max_age: 3d}\n", "(top level)", "'b' is not declared"),
        ("primary_key: [id]\n", "(top level)", "primary_key column 'id' is not declared"),
        ("row_count: {min: 10, max: 1}\n", "row_count", "greater than max"),
        ("extra_columns: sometimes\n", "extra_columns", "'allow' or 'forbid'"),
        ("checks: [{name: a b, sql: select 1}]\n", "checks.0.name", "should match pattern"),
        ("checks: [{name: a, sql: select 1}, {name: a, sql: select 2}]\n", "(top level)", "share a name"),
    ],
)
def test_invalid_contract_names_file_key_and_fix(
    write_contract: Callable[[str], Path], body: str, key: str, hint: str
) -> None:
    path = write_contract(HEAD + body)
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    message = str(caught.value)
    assert f"{path}: {key}: " in message
    assert hint in message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("contract: c\nversion: 1.0\ndataset: {table: t}\n", "version: version '1.0' is not semver"),
        ("contract: c\nversion: 1.0.0\ndataset: {model: a, table: b}\n", "dataset: give exactly one of"),
        ("contract: c\nversion: 1.0.0\n", "dataset: required key is missing"),
        ("contract: c\ncontract: d\nversion: 1.0.0\n", "line 2: key 'contract' appears twice"),
        ("- a\n- b\n", "a contract is a YAML mapping"),
        ("contract: [unclosed\n", "not valid YAML"),
        ("", "a contract is a YAML mapping"),
    ],
)
def test_malformed_documents(write_contract: Callable[[str], Path], text: str, hint: str) -> None:
    path = write_contract(text)
    with pytest.raises(ContractError, match=str(path)) as caught:
        load_contract(path)
    assert hint in str(caught.value)


def test_missing_file_is_a_contract_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="contract file not found"):
        load_contract(tmp_path / "nope.yml")
