"""ODCS v3 both ways: dq -> ODCS -> dq compiles to the same checks (golden), the export is valid
ODCS (the standard's pydantic model and JSON Schema), the standard's own published examples are
imported (or refused naming the property), and an imported contract really checks data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dq.checks.compile import compile_contract
from dq.checks.result import Status
from dq.config import load_settings
from dq.contract.model import Contract, load_contract
from dq.contract.yaml12 import load_yaml12
from dq.formats.odcs import OdcsError, export_contract, import_document, import_file
from dq.run.runner import validate
from tests.conftest import ROOT, MakeDb

FIXTURES = ROOT / "tests" / "fixtures" / "odcs"
PUBLISHED = FIXTURES / "bitol"
DQ = str(Path(sys.executable).parent / "dq")
# every rule kind, each severity form, files and a pinned model version: what the bundled
# contracts do not show
EVERYTHING = """
contract: everything
version: 2.1.0-rc.1
owner: ml-platform
description: every key dq has
dataset: {path: 'data/train/*/*.parquet', hive_partitioning: true}
primary_key: [id, part]
row_count: {min: 10, max: 100000000000000001, severity: warn}
freshness: {column: at, max_age: 90m, severity: warn}
extra_columns: forbid
segments: [part]
max_segments: 50
columns:
  id: {type: bigint, nullable: false, unique: true, min: -5, max: 100000000000000001}
  part: {type: 'decimal(18,3)', min: 0.001, max: 12345678901234.567, accepted_values: [1.5, 2]}
  name:
    type: varchar
    pattern: '^[a-z]+$'
    length: {min: 1, max: 9, severity: warn}
    accepted_values: ['a', 'b']
    max_null_fraction: 0.07
    distinct_count: {min: 1}
  score:
    type: double
    mean: {min: 0.1, max: 0.9}
    stddev: {max: 0.3, severity: warn}
    quantiles: {0.25: {min: 0.01}, 0.75: {max: 0.99}}
    severity: warn
    segments: [name, flag]
  other_id: {type: integer, references: {model: others, version: 2, column: id}}
  at: {type: timestamptz}
  flag: {type: boolean, nullable: false}
label: {column: flag, class_fraction: {true: {min: 0.1, max: 0.9}}, max_null_fraction: 0, segments: [name]}
leakage:
  max_abs_correlation_with_label: 0.9
  min_category_rows: 50
  disjoint_from: {path: 'data/eval/*.csv', key: [id]}
  before: {column: at, label_time: at}
drift:
  reference: profiles/x.json
  columns:
    score: {psi_max: 0.2, ks_max: 0.1}
expressions:
  - {name: part_below_id, expr: 'part <= id', description: across columns, where: flag, mostly: 0.99}
  - {name: soft_rule, expr: 'score >= 0', severity: warn}
checks:
  - name: ids_positive
    sql: select * from {dataset} where id < 0
    description: no negative ids
  - name: soft
    sql: select * from {dataset} where score > 1
    severity: warn
"""


def _round_trip(contract: Contract) -> Contract:
    text = export_contract(contract)
    imported = import_document(load_yaml12(text), Path("export.odcs.yaml"))
    assert len(imported.contracts) == 1
    return Contract.model_validate(imported.contracts[0])


@pytest.mark.parametrize("name", [p.name for p in sorted((ROOT / "contracts").glob("*.yml"))] + ["everything"])
def test_dq_to_odcs_to_dq_compiles_to_the_same_checks(tmp_path: Path, name: str) -> None:
    if name == "everything":
        (tmp_path / "everything.yml").write_text(EVERYTHING, encoding="utf-8")
        contract = load_contract(tmp_path / "everything.yml")
    else:
        contract = load_contract(ROOT / "contracts" / name)
    back = _round_trip(contract)
    assert compile_contract(back) == compile_contract(contract)
    assert (back.contract, back.version, back.owner, back.description) == (
        contract.contract,
        contract.version,
        contract.owner,
        contract.description,
    )


def test_the_export_is_valid_odcs_and_matches_its_golden_file() -> None:
    from open_data_contract_standard.model import OpenDataContractStandard

    text = export_contract(load_contract(ROOT / "contracts" / "training_set.yml"))
    golden = FIXTURES / "training_set.odcs.yaml"
    if os.environ.get("DQ_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), "run with DQ_UPDATE_GOLDEN=1 after a deliberate change"
    document = yaml.safe_load(text)
    OpenDataContractStandard.model_validate(document)
    import jsonschema

    jsonschema.validate(document, json.loads(OpenDataContractStandard.json_schema()))


@pytest.mark.parametrize("example", ["column-completeness", "table-columns-with-partition", "table-column-description"])
def test_published_examples_dq_can_honour_import_to_their_golden_contracts(example: str) -> None:
    imported = import_file(PUBLISHED / f"{example}.odcs.yaml")
    text = imported.yaml()
    golden = FIXTURES / "expected" / f"{example}.yml"
    if os.environ.get("DQ_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    Contract.model_validate(load_yaml12(text))
    assert imported.documentation  # business names, tags, ...: reported, not dropped in silence


@pytest.mark.parametrize(
    ("example", "message"),
    [
        ("column-validity", r"schema\[0\]\.properties\[0\]\.quality\[0\]: invalidValues mustBeLessOrEqualTo 5 percent"),
        ("column-custom", r"schema\[0\]\.properties\[0\]\.quality\[0\]: a check for soda \(type custom\)"),
        ("all-data-types", r"schema\[0\]\.properties\[1\]\.logicalTypeOptions\.exclusiveMinimum"),
        ("full-example", r"schema\[0\]\.relationships\[0\]: a compound foreign key"),
    ],
)
def test_published_examples_dq_cannot_honour_are_errors_naming_the_property(example: str, message: str) -> None:
    with pytest.raises(OdcsError, match=message):
        import_file(PUBLISHED / f"{example}.odcs.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("schema", 0, "properties", 0, "requird", True), r"schema\[0\]\.properties\[0\]\.requird: not a property"),
        (
            ("schema", 0, "quality", 0, "mustBeBetwen", [1, 2]),
            r"schema\[0\]\.quality\[0\]\.mustBeBetwen: not a property",
        ),
        (("apiVersion", "v2.2.2"), r"apiVersion: dq reads ODCS v3"),
        (("schema", 0, "customProperties", 0, "property", "dq.nonsense"), r"dq.nonsense is not a dq key here"),
    ],
)
def test_an_unknown_or_unsupported_property_is_an_error_never_dropped(change: tuple[object, ...], message: str) -> None:
    document = load_yaml12(export_contract(load_contract(ROOT / "contracts" / "stg_customers.yml")))
    *path, key, value = change
    node = document
    for part in path:
        node = node[part]  # type: ignore[index]
    node[key] = value  # type: ignore[index]
    with pytest.raises(OdcsError, match=message):
        import_document(document, Path("changed.odcs.yaml"))


def test_an_imported_published_example_checks_real_data(tmp_path: Path, make_db: MakeDb) -> None:
    """column-completeness says UniqueID has no nulls: the imported contract blocks a table with one."""
    db = make_db('CREATE TABLE "Air_Quality" AS SELECT * FROM (VALUES (1), (NULL), (3)) AS t("UniqueID")')
    done = subprocess.run(
        [DQ, "import", "odcs", str(PUBLISHED / "column-completeness.odcs.yaml"), "--out", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "not checked (documentation only)" in done.stderr
    contract = tmp_path / "c" / "my_table.yml"
    run = validate([contract], load_settings(db=db, results_dir=tmp_path / "r"))
    found = {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}
    assert found["UniqueID.not_null"] == (Status.failed, 1)
    assert found["UniqueID.type"] == (Status.passed, None)


def test_cli_errors_are_exit_3_with_the_property_and_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [DQ, "import", "odcs", str(PUBLISHED / "column-custom.odcs.yaml")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 3
    assert "schema[0].properties[0].quality[0]" in done.stderr
    assert "Traceback" not in done.stderr
    exported = subprocess.run(
        [DQ, "export", "odcs", str(ROOT / "contracts" / "training_set.yml"), "--out", str(tmp_path / "t.odcs.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    back = subprocess.run(
        [DQ, "import", "odcs", str(tmp_path / "t.odcs.yaml")], capture_output=True, text=True, check=False
    )
    assert back.returncode == 0, back.stderr
    (tmp_path / "back.yml").write_text(back.stdout, encoding="utf-8")
    assert compile_contract(load_contract(tmp_path / "back.yml")) == compile_contract(
        load_contract(ROOT / "contracts" / "training_set.yml")
    )


def test_a_warning_on_one_rule_of_a_column_is_refused_rather_than_weakening_the_others() -> None:
    document = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "c",
        "version": "1.0.0",
        "schema": [
            {
                "name": "t",
                "properties": [
                    {
                        "name": "email",
                        "physicalType": "varchar",
                        "required": True,
                        "quality": [
                            {
                                "metric": "invalidValues",
                                "arguments": {"pattern": "@"},
                                "mustBe": 0,
                                "severity": "warning",
                            }
                        ],
                    },
                    {
                        "name": "note",
                        "quality": [
                            {
                                "metric": "invalidValues",
                                "arguments": {"pattern": "x"},
                                "mustBe": 0,
                                "severity": "warning",
                            }
                        ],
                    },
                ],
            }
        ],
    }
    with pytest.raises(OdcsError, match=r"schema\[0\]\.properties\[0\]\.quality\[0\]\.severity: a warning on one rule"):
        import_document(document, Path("warn.odcs.yaml"))
    document["schema"][0]["properties"].pop(0)  # type: ignore[index]
    imported = import_document(document, Path("warn.odcs.yaml"))
    assert imported.contracts[0]["columns"]["note"] == {"pattern": "x", "severity": "warn"}
