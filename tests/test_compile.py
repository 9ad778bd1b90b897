"""Contract -> specs, as golden files: a change in what a contract compiles to is a reviewed diff.

Regenerate after an intended change with `DQ_UPDATE_GOLDEN=1 pytest tests/test_compile.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dq.checks.compile import compile_contract
from dq.checks.spec import CheckKind
from dq.contract.model import load_contract

FIXTURES = Path(__file__).parent / "fixtures" / "compile"


def _as_json(path: Path) -> str:
    specs = compile_contract(load_contract(path))
    rows = [
        {
            "name": s.name,
            "kind": s.kind.value,
            "severity": s.severity.value,
            "columns": list(s.columns),
            "args": dict(s.args),
            "expected": s.expectation(),
        }
        for s in specs
    ]
    return json.dumps(rows, indent=2, default=str) + "\n"


@pytest.mark.parametrize("contract", sorted(FIXTURES.glob("*.yml")), ids=lambda p: p.stem)
def test_compiled_specs_match_golden(contract: Path) -> None:
    golden = FIXTURES / "expected" / f"{contract.stem}.json"
    actual = _as_json(contract)
    if os.environ.get("DQ_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_every_rule_yields_a_spec_and_names_are_unique() -> None:
    kinds = set()
    for fixture in sorted(FIXTURES.glob("*.yml")):
        specs = compile_contract(load_contract(fixture))
        names = [s.name for s in specs]
        assert len(names) == len(set(names)), fixture.name
        kinds |= {s.kind for s in specs}
    assert kinds == set(CheckKind), f"kinds never compiled: {set(CheckKind) - kinds}"


def test_single_column_primary_key_is_checked_once() -> None:
    specs = compile_contract(load_contract(FIXTURES / "training_set.yml"))
    unique = [s for s in specs if s.kind is CheckKind.unique]
    assert [(s.name, s.columns) for s in unique] == [("primary_key.unique", ("customer_id",))]
