"""`dq schema`: the contract format's JSON Schema, which editors' YAML plug-ins validate against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from dq.contract.yaml12 import load_yaml12
from tests.conftest import ROOT

DQ = str(Path(sys.executable).parent / "dq")


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    done = subprocess.run([DQ, "schema"], capture_output=True, text=True, check=True)
    document = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(document)
    return document


@pytest.mark.parametrize(
    "contract",
    [*sorted((ROOT / "contracts").glob("*.yml")), *sorted((ROOT / "tests/fixtures/odcs/expected").glob("*.yml"))],
    ids=lambda p: p.name,
)
def test_every_contract_dq_loads_is_valid_against_the_schema(schema: dict[str, object], contract: Path) -> None:
    jsonschema.validate(load_yaml12(contract.read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"contract": "x", "version": "1.0.0", "dataset": {"table": "t"}, "colums": {}}, "'colums' was unexpected"),
        ({"contract": "x", "version": "1.0.0", "dataset": {"table": "t"}, "columns": {"a": {"min": "5"}}}, "'5'"),
        ({"contract": "x", "version": "1.0.0"}, "'dataset' is a required property"),
        ({"contract": "x", "version": "1.0.0", "dataset": {"path": "a.parquet", "format": "avro"}}, "'avro'"),
    ],
)
def test_the_schema_refuses_what_dq_refuses(
    schema: dict[str, object], document: dict[str, object], message: str
) -> None:
    with pytest.raises(jsonschema.ValidationError, match=message):
        jsonschema.validate(document, schema)
