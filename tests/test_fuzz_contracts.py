"""The contract loader, fuzzed: whatever a contract file holds, loading it ends in a valid
`Contract` or a `ContractError` whose every line names the file (and, for a document that is a
mapping, the key) — never another exception, never a traceback. Through the CLI the same files
exit 3, or, when they are valid contracts, reach a verdict on real data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dq.cli import app
from dq.contract.model import Contract, load_contract
from dq.errors import ContractError
from tests import faults

VALID: dict[str, Any] = {
    "contract": "fuzzed",
    "version": "1.0.0",
    "dataset": {"table": "main.t"},
    "primary_key": ["id"],
    "row_count": {"min": 1, "max": 10},
    "freshness": {"column": "at", "max_age": "36h"},
    "extra_columns": "forbid",
    "columns": {
        "id": {"type": "bigint", "nullable": False, "unique": True, "min": 1},
        "x": {
            "type": "double",
            "min": 0,
            "max": 10,
            "mean": {"min": 0, "max": 10},
            "quantiles": {0.5: {"min": 0, "max": 10}},
            "max_null_fraction": 0.5,
        },
        "s": {
            "type": "varchar",
            "accepted_values": ["a", "b"],
            "pattern": "^[ab]$",
            "length": {"min": 1, "max": 1},
            "distinct_count": {"min": 1},
        },
        "at": {"type": "timestamp"},
    },
    "checks": [{"name": "no_big_x", "sql": "select * from {dataset} where x > 10"}],
}
TABLE = (
    "CREATE TABLE t AS SELECT id::BIGINT AS id, x::DOUBLE AS x, s, now() AT TIME ZONE 'UTC' AS \"at\" "
    "FROM (VALUES (1, 1.5, 'a'), (2, 2.5, 'b')) v(id, x, s)"
)

# Every key path of the valid contract, so mutations land on real keys (and on unknown ones).
KEY_WORDS = [
    "contract",
    "version",
    "dataset",
    "table",
    "model",
    "primary_key",
    "row_count",
    "min",
    "max",
    "freshness",
    "column",
    "max_age",
    "extra_columns",
    "columns",
    "type",
    "nullable",
    "unique",
    "accepted_values",
    "pattern",
    "length",
    "mean",
    "stddev",
    "quantiles",
    "max_null_fraction",
    "references",
    "severity",
    "checks",
    "name",
    "sql",
    "label",
    "leakage",
    "drift",
    "id",
    "x",
    "s",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "1.0.0",
            "36h",
            "-1h",
            "0s",
            "warn",
            "error",
            "forbid",
            "bigint",
            "decimal(3,1)",
            "[",
            "(?P<",
            "main.t",
            '"a"."b"',
            "'; drop table t; --",
            "\x00",
            "ünï",
            "1e400",
            ".nan",
        ]
    ),
)
keys = st.one_of(st.sampled_from(KEY_WORDS), st.text(max_size=8), st.integers(), st.booleans(), st.none())
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)

_tried: list[int] = [0, 0]  # loader cases, CLI cases


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


PATHS = list(_paths(VALID))


def _mutate(document: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    copy = yaml.safe_load(yaml.safe_dump(document))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def _assert_loads_or_names_file_and_key(path: Path, document: Any) -> Contract | None:
    """The property: a Contract, or a ContractError with `file: where: what` on every line."""
    _tried[0] += 1
    try:
        return load_contract(path)
    except ContractError as exc:
        message = str(exc)
    assert message.strip(), "an empty error message"
    assert "Traceback" not in message
    for line in message.splitlines():
        if not line.startswith(f"{path}: "):
            continue  # YAML's own error text runs over several lines after `file: not valid YAML:`
        rest = line.removeprefix(f"{path}: ")
        documented = ("not valid YAML", "a contract is a YAML mapping", "line ", "cannot read")
        if isinstance(document, dict) and not rest.startswith(documented):
            assert re.match(r"^\S.*?: \S", rest), f"no key path in: {line}"
    assert message.startswith(f"{path}: "), message
    return None


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=documents)
def test_random_yaml_documents_load_or_fail_naming_file_and_key(document: Any, tmp_path: Path) -> None:
    path = tmp_path / "random.yml"
    path.write_text(_dump(document), encoding="utf-8")
    _assert_loads_or_names_file_and_key(path, document)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.sampled_from(PATHS), value=documents, delete=st.booleans())
def test_random_values_in_valid_shapes_load_or_fail_naming_file_and_key(
    at: tuple[Any, ...], value: Any, delete: bool, tmp_path: Path
) -> None:
    document = _mutate(VALID, at, value, delete)
    path = tmp_path / "mutated.yml"
    path.write_text(_dump(document), encoding="utf-8")
    contract = _assert_loads_or_names_file_and_key(path, document)
    if contract is not None:
        for column in contract.columns.values():  # a valid contract never holds a bound that compares as NaN
            for bound in (column.min, column.max):
                assert bound is None or math.isfinite(bound)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        st.lists(
            st.sampled_from(
                [
                    "{",
                    "}",
                    "[",
                    "]",
                    ":",
                    "- ",
                    "? ",
                    "&a ",
                    "*a ",
                    "!!python/object ",
                    "\n",
                    "  ",
                    "contract",
                    "columns",
                    "!!binary ",
                    "'",
                    '"',
                    "#",
                    "|",
                    ">",
                    "%YAML 1.1\n",
                    "---\n",
                ]
            ),
            max_size=40,
        ).map("".join),
    )
)
def test_random_text_loads_or_fails_naming_the_file(text: str, tmp_path: Path) -> None:
    path = tmp_path / "text.yml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _assert_loads_or_names_file_and_key(path, None)


@pytest.mark.parametrize(
    "text",
    [
        "? [a, b]\n: c\n",  # a key that is a list
        "[" * 5000 + "]" * 5000,  # nested deeper than Python's recursion limit
        "a: &x [*x]\n",  # a recursive alias
        "contract: !!python/object/apply:os.system [true]\n",  # an unsafe tag
        _dump({**VALID, "row_count": {"min": 1e400}}),  # parses as inf
        _dump({**VALID, "columns": {**VALID["columns"], "x": {"min": float("nan")}}}),
        "contract: a\ncontract: b\n",  # a duplicated key
        "\ufeffcontract: x\n",  # a byte-order mark and nothing else valid
    ],
)
def test_known_hostile_documents_are_contract_errors(text: str, tmp_path: Path) -> None:
    path = tmp_path / "hostile.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as raised:
        load_contract(path)
    assert str(raised.value).startswith(f"{path}: ")
    _tried[0] += 1


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fuzz_db") / "t.duckdb"
    faults.execute(db, TABLE)
    return db


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.sampled_from(PATHS), value=documents, delete=st.booleans())
def test_cli_exits_3_naming_the_file_or_reaches_a_verdict(
    at: tuple[Any, ...], value: Any, delete: bool, tiny_db: Path, tmp_path: Path
) -> None:
    document = _mutate(VALID, at, value, delete)
    path = tmp_path / "cli.yml"
    path.write_text(_dump(document), encoding="utf-8")
    try:
        load_contract(path)
        loads = True
    except ContractError:
        loads = False
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(path),
            "--db",
            str(tiny_db),
            "--results-dir",
            str(tmp_path / "results"),
            "--history",
            str(tmp_path / "history.duckdb"),
        ],
    )
    _tried[1] += 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if not loads:
        assert result.exit_code == 3, result.output
        assert str(path) in result.output
    else:
        assert result.exit_code in (0, 1, 3), result.output


def test_valid_base_contract_passes_on_its_data(tiny_db: Path, tmp_path: Path) -> None:
    """The fuzzing starts from a contract that really validates (so mutations are near-misses)."""
    path = tmp_path / "valid.yml"
    path.write_text(_dump(VALID), encoding="utf-8")
    result = faults.run(path, tiny_db, tmp_path)
    assert not result.status.blocks, faults.checks_by_status(result)


def test_zz_record_counts() -> None:
    """Runs last in this module: how many documents were tried, for the README's figures."""
    faults.record("fuzz_contracts", {"tried": sum(_tried), "loader": _tried[0], "cli": _tried[1], "false_passes": 0})
