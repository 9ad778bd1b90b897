"""The contract loader's two parsers agree: libyaml (fast, C) and PyYAML's own (the oracle).

dq/contract/yaml12.py reads contracts with libyaml's parser when PyYAML has it; its YAML 1.2 core
schema (booleans, exact numbers, duplicate keys refused) is resolved and constructed in Python
on top of either parser. A parser difference would change what a contract says, so generated
documents (scalars in every spelling the schema treats specially, nesting, anchors and merge
keys, flow and block styles, comments, quoting, broken YAML) must give the same value of the
same types, or fail on both, with the same error for dq's own refusals.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
import yaml

from dq.contract.yaml12 import PurePythonYaml12Loader, Yaml12Loader, load_yaml12
from dq.errors import ContractError

SCALARS = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "True",
    "TRUE",
    "false",
    "tRuE",
    "null",
    "Null",
    "~",
    "",
    "0",
    "-0",
    "+1",
    "010",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1:30",
    "12e3",
    "1.5",
    ".5",
    "5.",
    "-.inf",
    ".NaN",
    ".inf",
    "1e400",
    "100000000000000001.0",
    "0.1",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "'quoted'",
    '"dq\\t"',
    '"\\u00e9"',
    "'it''s'",
    "a b",
    "a: b",
    "'#x'",
    "x #c",
    "é",
    "!!str 5",
    "!!int 7",
    "!!float 2",
    '!!bool "true"',
    "*a",
    "&a 3",
    "[1, 2]",
    "{k: v}",
    "|\n  block\n",
    ">\n  fold\n",
    "\t",
    "- x",
    "? k",
    "@x",
    "`x",
    "%x",
    "'unterminated",
    '"bad \\q"',
    "{",
    "]",
    "key: [1, 2",
]
KEYS = ["a", "b", "c", "yes", "1", "on", "'a'", "<<", "? [x]"]


def _document(rng: random.Random, depth: int = 0) -> str:
    """A small YAML document: a block mapping of generated keys and values, sometimes broken."""
    lines = []
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(KEYS)
        if depth < 2 and rng.random() < 0.3:
            inner = _document(rng, depth + 1)
            lines.append(f"{key}:")
            lines.extend("  " + line for line in inner.splitlines())
        elif rng.random() < 0.2:
            items = ", ".join(rng.choice(SCALARS[:45]) for _ in range(rng.randint(0, 3)))
            lines.append(f"{key}: [{items}]")
        else:
            lines.append(f"{key}: {rng.choice(SCALARS)}")
    if depth == 0 and rng.random() < 0.2:
        lines.insert(0, "base: &base {k: 1, j: 2.50}")
        lines.append("merged: {<<: *base, k: 3}")
    return "\n".join(lines) + "\n"


def _typed(value: Any) -> Any:
    """The value with every leaf's type spelled out: 1, 1.0, True and Decimal('1') differ."""
    if isinstance(value, dict):
        return {repr(_typed(k)): _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, str(value) if isinstance(value, Decimal) else value)


def _outcome(text: str, loader: type) -> tuple[str, Any]:
    try:
        return "ok", _typed(load_yaml12(text, loader))
    except ContractError as exc:  # dq's own refusals: the same message from both
        return "refused", str(exc)
    except yaml.YAMLError:  # a syntax error: both refuse it (their wording may differ)
        return "invalid", None


def test_the_fast_loader_is_libyaml_where_pyyaml_has_it() -> None:
    assert issubclass(Yaml12Loader, yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
    assert not issubclass(PurePythonYaml12Loader, getattr(yaml, "CSafeLoader", ()) or ())


@pytest.mark.parametrize("seed", range(4))
def test_generated_documents_read_the_same_with_either_parser(seed: int) -> None:
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    for _ in range(500):
        text = _document(rng)
        fast, oracle = _outcome(text, Yaml12Loader), _outcome(text, PurePythonYaml12Loader)
        if oracle[0] == "invalid" and "\t" in text:
            # a tab before the end of a line is separation white space in YAML 1.2 (libyaml reads
            # `key: <tab>` as `key:`, a null); PyYAML's own parser refuses it as a token
            oracle = _outcome(text.replace("\t", ""), PurePythonYaml12Loader)
        assert fast == oracle, text
        outcomes[fast[0]] = outcomes.get(fast[0], 0) + 1
    assert set(outcomes) == {"ok", "refused", "invalid"}, outcomes  # the generator reaches all three


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: \t\n", {"a": None}),
        ("a: yes\n", {"a": "yes"}),
        ("a: 010\n", {"a": 10}),
        ("a: 0.1\n", {"a": Decimal("0.1")}),
        ("a: 1:30\n", {"a": "1:30"}),
        ("a: 2024-01-01\n", {"a": "2024-01-01"}),
        ("a: True\n", {"a": True}),
    ],
)
def test_the_core_schema_holds_on_the_fast_loader(text: str, value: Any) -> None:
    assert _typed(load_yaml12(text)) == _typed(value)
