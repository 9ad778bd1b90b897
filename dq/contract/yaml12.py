"""Contract YAML read as YAML 1.2 (core schema), with exact numbers and no duplicated keys.

PyYAML implements YAML 1.1, whose implicit types surprise people writing contracts:
`accepted_values: [yes, no, on, off]` become booleans, `010` is the octal 8, `1:30` the
sexagesimal 90, `2024-01-01` a date, and a float such as `0.1` or `100000000000000001.0` is
rounded to a binary double before anything can compare it exactly. A gate that compares values
"as written" cannot start from that, so contracts are read with the YAML 1.2 core schema:

- booleans are only `true`/`false` (any case of those two words, as the spec lists them);
- integers are `[-+]?[0-9]+` (decimal, leading zeros allowed), `0o17`, `0x1F`;
- floats keep their decimal text exactly, as `decimal.Decimal` (`.inf`/`.nan` become floats so
  the contract model can refuse them with a clear message);
- everything else, `yes`, `on`, `1_000`, `1:30`, `2024-01-01`, is a string.

A key that appears twice in one mapping is an error: PyYAML would silently keep the last one.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

import yaml

from dq.errors import ContractError

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)

_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


# libyaml parses (C), when PyYAML was built with it: ~8x faster than PyYAML's own parser, which
# matters on the start-up path of every command. Resolving and constructing are Python in both,
# so the core schema below applies unchanged; tests/test_yaml12.py holds the two parsers' results
# equal on generated documents, and the pure-Python loader is kept as that oracle.
_FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Yaml12Loader(_FAST_LOADER):
    """A safe loader with the YAML 1.2 core schema's implicit types and duplicate-key refusal."""


class PurePythonYaml12Loader(yaml.SafeLoader):
    """The same schema on PyYAML's pure-Python parser: the oracle the fast loader is tested against."""


for _loader in (Yaml12Loader, PurePythonYaml12Loader):
    # Replace (not extend) the 1.1 resolvers: a copy per loader class, so PyYAML's own loaders are untouched.
    _loader.yaml_implicit_resolvers = {}
    for _tag, _pattern, _first in (
        (_BOOL_TAG, _BOOL, "tfTF"),
        (_NULL_TAG, _NULL, ["~", "n", "N", ""]),
        (_INT_TAG, _INT, "-+0123456789"),
        (_FLOAT_TAG, _FLOAT, "-+0123456789."),
    ):
        _loader.add_implicit_resolver(_tag, _pattern, list(_first))


def _construct_bool(loader: Yaml12Loader, node: yaml.ScalarNode) -> bool:
    text = loader.construct_scalar(node)
    if not _BOOL.fullmatch(str(text)):
        raise ContractError(f"line {node.start_mark.line + 1}: {text!r} is not a boolean (write true or false)")
    return str(text).lower() == "true"


def _construct_int(loader: Yaml12Loader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not _INT.fullmatch(text):
        raise ContractError(f"line {node.start_mark.line + 1}: {text!r} is not an integer")
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _construct_float(loader: Yaml12Loader, node: yaml.ScalarNode) -> Decimal | float:
    text = str(loader.construct_scalar(node))
    if not _FLOAT.fullmatch(text) and not _INT.fullmatch(text):
        raise ContractError(f"line {node.start_mark.line + 1}: {text!r} is not a number")
    lowered = text.lower()
    if lowered.endswith((".inf", ".nan")):
        return float(lowered.replace(".", ""))  # refused later by the model, with the key path
    if _INT.fullmatch(text):
        return Decimal(_construct_int(loader, node))
    return Decimal(text)


def _mapping_without_duplicates(loader: Yaml12Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)  # `<<: *anchor` merge keys, as SafeLoader does
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):  # `? [a, b]: c` is valid YAML, but no contract key
            line = key_node.start_mark.line + 1
            raise ContractError(f"line {line}: a key must be a plain value, not a {type(key).__name__}")
        if key in seen:
            raise ContractError(f"line {key_node.start_mark.line + 1}: key {key!r} appears twice")
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


for _loader in (Yaml12Loader, PurePythonYaml12Loader):
    _loader.add_constructor(_BOOL_TAG, _construct_bool)
    _loader.add_constructor(_INT_TAG, _construct_int)
    _loader.add_constructor(_FLOAT_TAG, _construct_float)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load_yaml12(text: str, loader: type = Yaml12Loader) -> Any:
    """Parse one YAML document with the core schema. Raises ContractError or yaml.YAMLError."""
    return yaml.load(text, Loader=loader)


class _ExactDumper(yaml.SafeDumper):
    """SafeDumper that writes a Decimal as the number it is (`0.10`, not a double's `0.1000…01`)."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = format(value, "f")
    return dumper.represent_scalar(_FLOAT_TAG, text if "." in text else text + ".0")


_ExactDumper.add_representer(Decimal, _represent_decimal)


def dump_yaml(document: Any, **options: Any) -> str:
    """yaml.safe_dump, with exact Decimals: what dq writes for dbt or as a draft contract."""
    return yaml.dump(document, Dumper=_ExactDumper, **options)
