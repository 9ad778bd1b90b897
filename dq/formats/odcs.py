"""ODCS v3 (the Open Data Contract Standard) both ways, through its own pydantic model.

Export: what ODCS states natively is written natively (types, `required`, `unique`, primary keys,
`logicalTypeOptions` minimum/maximum/pattern/length, library quality metrics `nullValues`,
`invalidValues`, `rowCount`, `sql` checks, foreign-key `relationships`, a `latency` SLA for
freshness); what it cannot state is kept under `customProperties` as `dq.<key>` with dq's own
value, so that dq -> ODCS -> dq compiles to the same checks (tests/test_odcs.py).

Import: every property of the file is either enforced, or documentation dq has nothing to check
against (tags, servers, team members, business names, ...: listed back to the user, never dropped
silently), or an error naming the property: a rule dq cannot enforce exactly (a quality metric
with a tolerance dq has no equivalent for, a custom engine's check, a nested property...) must not
turn into a contract that checks less than the file says. The file is read as YAML 1.2 with exact
numbers (dq/contract/yaml12.py), checked key by key against the ODCS model (whose nested objects would
otherwise ignore an unknown key), then validated by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from dq.contract.model import DEFAULT_MAX_SEGMENTS, ColumnRule, Contract, format_validation_error
from dq.contract.types import column_family
from dq.contract.yaml12 import dump_yaml, load_yaml12
from dq.errors import ContractError

API_VERSION = "v3.1.0"
PREFIX = "dq."
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_LOGICAL = {"integer": "integer", "float": "number", "decimal": "number", "string": "string", "boolean": "boolean"}
_UNITS = {
    "s": "s", "sec": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d",
    "w": "w", "week": "w", "weeks": "w",
}  # fmt: skip
# documentation: nothing in them is a rule about the data
_DOC_TOP = {"tags", "servers", "dataProduct", "domain", "tenant", "support", "price", "roles"}
_DOC_TOP |= {"authoritativeDefinitions", "contractCreatedTs", "slaDefaultElement", "context", "status", "id"}
_DOC_OBJECT = {"id", "businessName", "tags", "authoritativeDefinitions", "dataGranularityDescription"}
_DOC_OBJECT |= {"deprecated", "synonyms", "context"}
_DOC_PROPERTY = {"id", "businessName", "tags", "authoritativeDefinitions", "classification", "examples"}
_DOC_PROPERTY |= {"criticalDataElement", "partitioned", "partitionKeyPosition", "encryptedName", "synonyms"}
_DOC_PROPERTY |= {"transformSourceObjects", "transformLogic", "transformDescription", "deprecated", "logicalType"}
_DOC_QUALITY = {"id", "name", "description", "dimension", "businessImpact", "scheduler", "schedule", "tags"}
_DOC_QUALITY |= {"authoritativeDefinitions", "method", "type", "unit", "severity", "customProperties"}


_SCOPE_KEYS = ("where", "mostly", "max_failing_fraction")  # dq.contract.scope: dq-only in ODCS


class OdcsError(ContractError):
    """An ODCS file dq cannot honour fully, or a dq contract ODCS cannot carry: names the property."""


# --- export --------------------------------------------------------------------------------------


def export_contract(contract: Contract) -> str:
    """The contract as ODCS v3 YAML, validated by the ODCS model before it is returned."""
    from open_data_contract_standard.model import OpenDataContractStandard

    document = to_odcs(contract)
    try:
        OpenDataContractStandard.model_validate(document)
    except ValidationError as exc:  # a bug in the export, never a file to hand out
        raise OdcsError(f"the ODCS export of {contract.contract} is not valid ODCS: {exc}") from None
    return dump_yaml(document, sort_keys=False, allow_unicode=True)


def to_odcs(contract: Contract) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": contract.contract,
        "name": contract.contract,
        "version": contract.version,
        "status": "active",
    }
    if contract.description:
        document["description"] = {"purpose": contract.description}
    if contract.owner:
        document["team"] = [{"username": contract.owner, "role": "owner"}]
    dataset = contract.dataset
    obj: dict[str, Any] = {"name": _dataset_name(dataset.model_dump(exclude_none=True))}
    if dataset.table is not None:
        obj["physicalName"] = dataset.table
    obj["physicalType"] = "files" if dataset.path is not None else "table"
    obj["properties"] = [_property(name, rule, contract) for name, rule in contract.columns.items()]
    quality = _object_quality(contract)
    if quality:
        obj["quality"] = quality
    custom = [_custom("dataset", dataset.model_dump(exclude_none=True))]
    if contract.extra_columns != "allow":
        custom.append(_custom("extra_columns", contract.extra_columns))
    if contract.segments:
        custom.append(_custom("segments", list(contract.segments)))
    if contract.max_segments != DEFAULT_MAX_SEGMENTS:
        custom.append(_custom("max_segments", contract.max_segments))
    for key in ("label", "leakage", "drift", "quarantine"):
        value = getattr(contract, key)
        if value is not None:
            custom.append(_custom(key, value.model_dump(exclude_defaults=True)))
    if contract.reconcile:  # ODCS has no reconciliation rule: dq's own value, as for label/leakage/drift
        custom.append(_custom("reconcile", [item.model_dump(exclude_defaults=True) for item in contract.reconcile]))
    if contract.expressions:  # ODCS has no row rule across columns: dq's own value
        custom.append(_custom("expressions", [item.model_dump(exclude_defaults=True) for item in contract.expressions]))
    custom += _history_custom(contract.anomalies, contract.change_from_last)
    freshness = contract.freshness
    if freshness is not None:
        if freshness.severity is None:
            value, unit = _duration(freshness.max_age)
            element = f"{obj['name']}.{freshness.column}"
            document["slaProperties"] = [{"property": "latency", "value": value, "unit": unit, "element": element}]
        else:
            custom.append(
                _custom("freshness", {**freshness.model_dump(), "max_age": _duration_text(freshness.max_age)})
            )
    obj["customProperties"] = custom
    document["schema"] = [obj]
    return document


def _dataset_name(dataset: dict[str, Any]) -> str:
    if "model" in dataset:
        return str(dataset["model"])
    if "table" in dataset:
        return str(dataset["table"]).split(".")[-1].strip('"')
    stem = Path(str(dataset["path"])).name.split(".")[0].strip("*") or "files"
    return stem


def _property(name: str, rule: ColumnRule, contract: Contract) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": name}
    if rule.type is not None:
        prop["physicalType"] = rule.type
        logical = _LOGICAL.get(column_family(rule.type)) or _logical_temporal(rule.type)
        if logical:
            prop["logicalType"] = logical
    if rule.description:
        prop["description"] = rule.description
    if name in contract.primary_key:
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = contract.primary_key.index(name) + 1
    if not rule.nullable:
        prop["required"] = True
    if rule.unique:
        prop["unique"] = True
    options: dict[str, Any] = {}
    if rule.min is not None:
        options["minimum"] = rule.min
    if rule.max is not None:
        options["maximum"] = rule.max
    if rule.pattern is not None:
        options["pattern"] = rule.pattern
    custom: list[dict[str, Any]] = []
    if rule.length is not None and rule.length.severity is None:
        if rule.length.min is not None:
            options["minLength"] = rule.length.min
        if rule.length.max is not None:
            options["maxLength"] = rule.length.max
    elif rule.length is not None:
        custom.append(_custom("length", rule.length.model_dump(exclude_none=True)))
    if options:
        prop["logicalTypeOptions"] = options
    severity = "warning" if rule.severity.value == "warn" else "error"
    quality: list[dict[str, Any]] = []
    if rule.accepted_values is not None:
        quality.append(
            {"metric": "invalidValues", "arguments": {"validValues": list(rule.accepted_values)}, "mustBe": 0}
        )
    if rule.max_null_fraction is not None:
        percent = Decimal(repr(rule.max_null_fraction)) * 100
        quality.append({"metric": "nullValues", "unit": "percent", "mustBeLessOrEqualTo": _number(percent)})
    for entry in quality:
        entry["severity"] = severity
    if quality:
        prop["quality"] = quality
    if rule.references is not None:
        ref = rule.references.model_dump(exclude_none=True)
        column = ref.pop("column")
        prop["relationships"] = [{"type": "foreignKey", "to": f"{_dataset_name(ref)}.{column}"}]
        custom.append(_custom("references", rule.references.model_dump(exclude_none=True)))
    if rule.severity.value != "error":
        custom.append(_custom("severity", rule.severity.value))
    for key in ("distinct_count", "mean", "stddev"):
        value = getattr(rule, key)
        if value is not None:
            custom.append(_custom(key, value.model_dump(exclude_none=True)))
    if rule.quantiles is not None:
        custom.append(_custom("quantiles", {q: b.model_dump(exclude_none=True) for q, b in rule.quantiles.items()}))
    if rule.segments:
        custom.append(_custom("segments", list(rule.segments)))
    custom += _history_custom(rule.anomalies, rule.change_from_last)
    # ODCS has no row filter and no share of failing rows on `required`, `minimum`, ...: dq's own
    # keys, so dq -> ODCS -> dq keeps them (another reader sees the stricter, unfiltered rules)
    for key in _SCOPE_KEYS:
        if getattr(rule, key) is not None:
            custom.append(_custom(key, getattr(rule, key)))
    if custom:
        prop["customProperties"] = custom
    return prop


_HISTORY_KEYS = ("anomalies", "change_from_last")
# the contract's own keys ODCS has no field for, carried as `dq.<key>` custom properties of the
# object (to_odcs writes each one it has, the reader takes back exactly these)
_DQ_TABLE_KEYS = (
    "extra_columns",
    "label",
    "leakage",
    "drift",
    "quarantine",
    "segments",
    "max_segments",
    "reconcile",
    "expressions",
    *_HISTORY_KEYS,
)


def _history_custom(anomalies: list[Any], changes: list[Any]) -> list[dict[str, Any]]:
    """Checks over dq's results history: ODCS has no such rule, so dq's own value is kept."""
    out = []
    for key, rules in (("anomalies", anomalies), ("change_from_last", changes)):
        if rules:
            out.append(_custom(key, [rule.model_dump(exclude_none=True) for rule in rules]))
    return out


def _logical_temporal(duckdb_type: str) -> str | None:
    upper = duckdb_type.upper()
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    return {"DATE": "date", "TIME": "time", "UUID": "string", "JSON": "string"}.get(upper)


def _object_quality(contract: Contract) -> list[dict[str, Any]]:
    quality: list[dict[str, Any]] = []
    rows = contract.row_count
    if rows is not None:
        entry: dict[str, Any] = {"metric": "rowCount"}
        if rows.min is not None and rows.max is not None:
            entry["mustBeBetween"] = [rows.min, rows.max]
        elif rows.min is not None:
            entry["mustBeGreaterOrEqualTo"] = rows.min
        else:
            entry["mustBeLessOrEqualTo"] = rows.max
        if rows.severity is not None:
            entry["severity"] = "warning" if rows.severity.value == "warn" else "error"
            entry["customProperties"] = [_custom("severity", rows.severity.value)]
        if rows.where is not None:
            entry.setdefault("customProperties", []).append(_custom("where", rows.where))
        quality.append(entry)
    for check in contract.checks:
        query = check.sql.replace("{dataset}", "{object}")
        sql: dict[str, Any] = {"type": "sql", "name": check.name, "query": f"SELECT count(*) FROM (\n{query}\n)"}
        sql["mustBe"] = 0
        if check.description:
            sql["description"] = check.description
        custom = [_custom("sql", check.sql)]
        if check.severity is not None:
            sql["severity"] = "warning" if check.severity.value == "warn" else "error"
            custom.append(_custom("severity", check.severity.value))
        sql["customProperties"] = custom
        quality.append(sql)
    return quality


def _custom(key: str, value: Any) -> dict[str, Any]:
    return {"property": PREFIX + key, "value": _plain(value)}


def _plain(value: Any) -> Any:
    """A dq value as YAML writes it: enums as their text, timedeltas as durations."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, timedelta):
        return _duration_text(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value
    return value


def _number(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value.normalize()


def _duration(age: timedelta) -> tuple[int | Decimal, str]:
    seconds = Decimal(str(age.total_seconds()))
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return int(seconds // size), unit
    return _number(seconds), "s"


def _duration_text(age: timedelta) -> str:
    value, unit = _duration(age)
    return f"{value}{unit}"


# --- import --------------------------------------------------------------------------------------


@dataclass
class Imported:
    """The dq contracts an ODCS file holds (one per schema object) and what was not a rule."""

    contracts: list[dict[str, Any]]
    documentation: list[str] = field(default_factory=list)  # key paths kept out: nothing to check

    def yaml(self, index: int = 0) -> str:
        return dump_yaml(self.contracts[index], sort_keys=False, allow_unicode=True)


def import_file(path: str | Path) -> Imported:
    """Read an ODCS v3 file; OdcsError naming file and property for anything dq cannot honour."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        document = load_yaml12(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise OdcsError(f"{path}: cannot read: {exc}") from None
    except ContractError as exc:
        raise OdcsError(f"{path}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError and its kin
        raise OdcsError(f"{path}: not valid YAML: {exc}") from None
    return import_document(document, path)


def import_document(document: Any, path: Path) -> Imported:
    from open_data_contract_standard.model import OpenDataContractStandard

    if not isinstance(document, dict):
        raise OdcsError(f"{path}: an ODCS contract is a YAML mapping")
    _known_keys(document, OpenDataContractStandard, "", path)
    try:
        OpenDataContractStandard.model_validate(document)
    except ValidationError as exc:
        raise OdcsError(
            format_validation_error(path, exc, document).replace("unknown key", "not an ODCS key")
        ) from None
    reader = _Reader(path, document)
    contracts = reader.contracts()
    for contract in contracts:  # what dq writes must load as a dq contract
        try:
            Contract.model_validate(contract)
        except ValidationError as exc:
            raise OdcsError(
                f"{path}: the imported contract {contract.get('contract')!r} does not load: "
                + format_validation_error(Path(str(contract.get("contract"))), exc, contract)
            ) from None
    return Imported(contracts, reader.documentation)


def _known_keys(value: Any, annotation: Any, where: str, path: Path) -> None:
    """Every key of `value` is a field of its ODCS model (by alias), recursively: the ODCS model
    forbids unknown keys only at the top, and pydantic would drop them silently below."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _known_keys(item, _item_annotation(annotation), f"{where}[{index}]", path)
        return
    models = _models_in(annotation, lists=False)
    if not isinstance(value, dict) or not models:
        return

    def fields_of(model: type[BaseModel]) -> dict[str, Any]:
        return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}

    # a union (Team | list[TeamMember]): the model whose fields hold the most of the keys
    target = max(models, key=lambda model: len(set(value) & set(fields_of(model))))
    fields = fields_of(target)
    for key, item in value.items():
        if key not in fields:
            shown = f"{where}.{key}" if where else str(key)
            raise OdcsError(f"{path}: {shown}: not a property of ODCS {API_VERSION} ({target.__name__})")
        _known_keys(item, fields[key], f"{where}.{key}" if where else str(key), path)


def _item_annotation(annotation: Any) -> Any:
    """list[X] (or X | list[Y] | None) -> the items' annotation."""
    if get_origin(annotation) is list:
        return get_args(annotation)[0]
    for arg in get_args(annotation):
        if get_origin(arg) is list:
            return get_args(arg)[0]
    return None


def _models_in(annotation: Any, lists: bool = True) -> list[type[BaseModel]]:
    annotation = getattr(annotation, "__forward_arg__", annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, str):  # a forward reference ("SchemaProperty")
        from open_data_contract_standard import model as odcs

        found = getattr(odcs, annotation, None)
        return [found] if isinstance(found, type) and issubclass(found, BaseModel) else []
    origin = get_origin(annotation)
    if origin in (list, dict) and not lists:
        return []
    if origin is Union or str(origin) == "<class 'types.UnionType'>" or origin in (list, dict):
        models: list[type[BaseModel]] = []
        for arg in get_args(annotation):
            models += _models_in(arg, lists)
        return models
    return []


class _Reader:
    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path, self.document = path, document
        self.documentation: list[str] = []

    def fail(self, where: str, why: str) -> OdcsError:
        return OdcsError(f"{self.path}: {where}: {why}")

    def contracts(self) -> list[dict[str, Any]]:
        doc = self.document
        api = str(doc.get("apiVersion", ""))
        if not api.startswith("v3."):
            raise self.fail("apiVersion", f"dq reads ODCS v3 (v3.0.x, v3.1.x), got {api or 'nothing'!r}")
        if doc.get("kind", "DataContract") != "DataContract":
            raise self.fail("kind", f"expected DataContract, got {doc.get('kind')!r}")
        self.documentation += [key for key in doc if key in _DOC_TOP]
        objects = doc.get("schema") or []
        if not objects:
            raise self.fail("schema", "no schema object: there is no dataset to check")
        top_custom = self._dq_custom(doc.get("customProperties"), "customProperties", set())
        if top_custom:
            raise self.fail("customProperties", f"dq keys belong on the schema object, got {sorted(top_custom)}")
        freshness = self._latency(doc.get("slaProperties") or [], objects)
        return [self._object(obj, index, len(objects), freshness) for index, obj in enumerate(objects)]

    def _base(self, obj_name: str, many: bool) -> dict[str, Any]:
        doc = self.document
        name = obj_name if many else str(doc.get("name") or doc.get("id") or obj_name)
        if not _NAME.match(name):
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".-0123456789") or "imported"
        version = str(doc.get("version", "")).lstrip("v")
        contract: dict[str, Any] = {"contract": name, "version": version}
        owner = self._owner(doc.get("team"))
        if owner:
            contract["owner"] = owner
        description = doc.get("description") or {}
        text = "\n".join(
            f"{label}{description[key]}"
            for key, label in (("purpose", ""), ("usage", "Usage: "), ("limitations", "Limitations: "))
            if description.get(key)
        )
        if text:
            contract["description"] = text
        extra = set(description) - {"purpose", "usage", "limitations"}
        self.documentation += [f"description.{key}" for key in sorted(extra)]
        return contract

    def _owner(self, team: Any) -> str | None:
        members = team.get("members") if isinstance(team, dict) else team
        owners = [m for m in members or [] if str(m.get("role", "")).casefold() == "owner"]
        if members:
            self.documentation.append("team")
        if len(owners) == 1:
            return str(owners[0].get("username") or owners[0].get("name"))
        return None

    def _latency(self, slas: list[dict[str, Any]], objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """slaProperties `latency` of an element `object.column` -> freshness of that object."""
        found: dict[str, dict[str, Any]] = {}
        for index, sla in enumerate(slas):
            where = f"slaProperties[{index}]"
            if sla.get("property") != "latency":
                self.documentation.append(f"{where} ({sla.get('property')})")
                continue
            element = str(sla.get("element") or "")
            obj, _, column = element.rpartition(".")
            if not column or (not obj and len(objects) > 1):
                raise self.fail(f"{where}.element", "latency needs the timestamp column, as `object.column`")
            unit = _UNITS.get(str(sla.get("unit", "")).casefold())
            value = sla.get("value")
            if unit is None or isinstance(value, bool) or not isinstance(value, int | Decimal):
                raise self.fail(where, f"latency {value!r} {sla.get('unit')!r} is not a number and a unit s|m|h|d|w")
            found[obj or str(objects[0].get("name"))] = {"column": column, "max_age": f"{value}{unit}"}
        return found

    def _object(
        self, obj: dict[str, Any], index: int, count: int, freshness: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        where = f"schema[{index}]"
        name = str(obj.get("name") or obj.get("physicalName") or f"object_{index}")
        contract = self._base(name, count > 1)
        self.documentation += [f"{where}.{key}" for key in obj if key in _DOC_OBJECT]
        if obj.get("logicalType") not in (None, "object"):
            raise self.fail(f"{where}.logicalType", f"{obj['logicalType']!r}: dq checks tables (logicalType object)")
        custom = self._dq_custom(
            obj.get("customProperties"),
            f"{where}.customProperties",
            {"dataset", "freshness", *_DQ_TABLE_KEYS},
        )
        table = obj.get("physicalName") or obj.get("name")
        contract["dataset"] = custom.pop("dataset", None) or {"table": str(table)}
        if obj.get("description") and "description" not in contract:
            contract["description"] = obj["description"]
        columns: dict[str, dict[str, Any]] = {}
        keys: list[tuple[int, str]] = []
        for position, prop in enumerate(obj.get("properties") or []):
            column, rule, key_position = self._property(prop, f"{where}.properties[{position}]")
            columns[column] = rule
            if key_position is not None:
                keys.append((key_position, column))
        for rel_index, relation in enumerate(obj.get("relationships") or []):
            self._relationship(relation, f"{where}.relationships[{rel_index}]", columns, None)
        if keys:
            contract["primary_key"] = [column for _, column in sorted(keys)]
        checks: list[dict[str, Any]] = []
        for q_index, quality in enumerate(obj.get("quality") or []):
            self._object_quality(quality, f"{where}.quality[{q_index}]", contract, checks)
        if name in freshness:
            contract["freshness"] = freshness[name]
        for key in ("freshness", *_DQ_TABLE_KEYS):
            if key in custom:
                contract[key] = custom.pop(key)
        contract["columns"] = columns
        if checks:
            contract["checks"] = checks
        return contract

    def _property(self, prop: dict[str, Any], where: str) -> tuple[str, dict[str, Any], int | None]:
        name = prop.get("name")
        if not name:
            raise self.fail(f"{where}.name", "a property needs a name (the column)")
        for key in ("properties", "items", "map", "enum"):
            if prop.get(key) is not None:
                raise self.fail(f"{where}.{key}", "nested, array, map and enum properties are not checked by dq")
        if prop.get("physicalName"):  # the column as the database spells it; `name` is its logical name
            if prop["physicalName"] != name:
                self.documentation.append(f"{where}.name ({name!r}: the column is {prop['physicalName']!r})")
            name = prop["physicalName"]
        physical = prop.get("physicalType")
        if physical is None and prop.get("logicalType") not in (None, "object"):
            raise self.fail(
                f"{where}.logicalType",
                f"{prop['logicalType']!r} without a physicalType: dq checks the column's DuckDB type. "
                "Fix: give physicalType",
            )
        # with a physicalType, the logicalType is its family: nothing more to check
        self.documentation += [f"{where}.{key}" for key in prop if key in _DOC_PROPERTY - {"logicalType"}]
        rule: dict[str, Any] = {}
        if physical is not None:
            rule.update(self._type(str(physical), f"{where}.physicalType"))
        if prop.get("description"):
            rule["description"] = prop["description"]
        if prop.get("required"):
            rule["nullable"] = False
        if prop.get("unique"):
            rule["unique"] = True
        self._options(prop.get("logicalTypeOptions") or {}, f"{where}.logicalTypeOptions", rule)
        stated = set(rule) - {"description"}  # the column's rules outside its quality list
        for q_index, quality in enumerate(prop.get("quality") or []):
            self._property_quality(quality, f"{where}.quality[{q_index}]", rule)
        custom = self._dq_custom(
            prop.get("customProperties"),
            f"{where}.customProperties",
            {
                "length",
                "references",
                "severity",
                "distinct_count",
                "mean",
                "stddev",
                "quantiles",
                "segments",
                *_HISTORY_KEYS,
                *_SCOPE_KEYS,
            },
        )
        for rel_index, relation in enumerate(prop.get("relationships") or []):
            if "references" not in custom:
                self._relationship(relation, f"{where}.relationships[{rel_index}]", {name: rule}, name)
        severities = rule.pop("__severities", [])
        warned = [at for at, severity in severities if severity == "warn"]
        if warned and "severity" not in custom:
            others = len(severities) > len(warned) or bool(stated) or bool(prop.get("relationships"))
            if others:  # a warning would cover the column's blocking rules too: weaker than the file
                raise self.fail(
                    f"{warned[0]}.severity",
                    "a warning on one rule of a column: dq's severity covers every check of the column, so the "
                    "column's other rules would stop blocking. Fix: make it error, or move the rule to its own column",
                )
            rule["severity"] = "warn"
        rule.update(custom)
        key_position = prop.get("primaryKeyPosition") or (0 if prop.get("primaryKey") else None)
        if prop.get("primaryKey") is False:
            key_position = None
        return str(name), rule, key_position

    def _type(self, physical: str, where: str) -> dict[str, Any]:
        from dq.contract.types import canonical_type

        sized = re.fullmatch(r"\s*(varchar|char|character varying|string)\s*\(\s*(\d+)\s*\)\s*", physical, re.I)
        if sized:  # DuckDB's VARCHAR(n) holds any length: dq checks the length instead
            return {"type": "varchar", "length": {"max": int(sized.group(2))}}
        try:
            return {"type": canonical_type(physical)}
        except ValueError as exc:
            raise self.fail(where, f"{exc}. Fix: give the DuckDB type of the column") from None

    def _options(self, options: dict[str, Any], where: str, rule: dict[str, Any]) -> None:
        for key, value in options.items():
            if key == "minimum":
                rule["min"] = value
            elif key == "maximum":
                rule["max"] = value
            elif key == "pattern":
                rule["pattern"] = value
            elif key in ("minLength", "maxLength"):
                rule.setdefault("length", {})["min" if key == "minLength" else "max"] = value
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and _whole(value) and _integer(rule):
                # on an integer column, > n is >= n + 1 exactly (dq's bounds are inclusive)
                rule["min" if key == "exclusiveMinimum" else "max"] = int(value) + (
                    1 if key == "exclusiveMinimum" else -1
                )
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                raise self.fail(
                    f"{where}.{key}", "dq's bounds are inclusive; an exclusive bound is exact only on an integer column"
                )
            else:
                raise self.fail(f"{where}.{key}", "dq has no check for this option")

    def _property_quality(self, quality: dict[str, Any], where: str, rule: dict[str, Any]) -> None:
        self._runnable(quality, where)
        metric = quality.get("metric") or quality.get("rule")
        zero = _only_operator(quality) == ("mustBe", 0)
        arguments = quality.get("arguments") or {}
        if quality.get("type") == "text":
            self.documentation.append(f"{where} (text)")
            return
        if metric == "nullValues" and zero:
            rule["nullable"] = False
        elif (
            metric == "nullValues"
            and quality.get("unit") == "percent"
            and _only_operator(quality)[0]
            in (
                "mustBeLessOrEqualTo",
                "mustBe",
            )
        ):
            percent = _only_operator(quality)[1]
            rule["max_null_fraction"] = float(Decimal(str(percent)) / 100)
        elif metric == "duplicateValues" and zero and not arguments:
            rule["unique"] = True
        elif metric == "invalidValues" and zero and set(arguments) == {"validValues"}:
            rule["accepted_values"] = [v for v in arguments["validValues"] if v is not None]
        elif metric == "invalidValues" and zero and set(arguments) == {"pattern"}:
            rule["pattern"] = arguments["pattern"]
        else:
            raise self.fail(where, f"{_describe(quality)}: dq has no check that states this exactly")
        rule.setdefault("__severities", []).append((where, self._severity(quality, where)))

    def _object_quality(
        self, quality: dict[str, Any], where: str, contract: dict[str, Any], checks: list[dict[str, Any]]
    ) -> None:
        self._runnable(quality, where)
        metric = quality.get("metric") or quality.get("rule")
        allowed = {"sql", "severity", "where"}
        custom = self._dq_custom(quality.get("customProperties"), f"{where}.customProperties", allowed)
        severity = custom.get("severity")
        if quality.get("type") == "text":
            self.documentation.append(f"{where} (text)")
        elif metric == "rowCount":
            bounds = _count_bounds(quality, lambda why: self.fail(where, why))
            severity = severity or self._severity(quality, where)
            contract["row_count"] = {**bounds, **({"severity": severity} if severity else {})}
            if "where" in custom:
                contract["row_count"]["where"] = custom.pop("where")
        elif "where" in custom:
            raise self.fail(f"{where}.customProperties", "dq.where narrows a rowCount rule only")
        elif quality.get("type") == "sql" or quality.get("query"):
            check: dict[str, Any] = {"name": _check_name(quality, len(checks))}
            check["sql"] = custom.get("sql") or _violations_query(quality, lambda why: self.fail(where, why))
            if quality.get("description"):
                check["description"] = quality["description"]
            if severity or (severity := self._severity(quality, where)):
                check["severity"] = severity
            checks.append(check)
        else:
            raise self.fail(where, f"{_describe(quality)}: dq has no check that states this exactly")

    def _runnable(self, quality: dict[str, Any], where: str) -> None:
        if quality.get("type") == "custom" or quality.get("engine") or quality.get("implementation"):
            engine = quality.get("engine") or "a custom engine"
            raise self.fail(where, f"a check for {engine} (type custom) is not run by dq. Fix: state it as SQL")
        known = _DOC_QUALITY | {"metric", "rule", "arguments", "query"} | set(_OPERATORS)
        for key in quality:
            if key not in known:
                raise self.fail(f"{where}.{key}", "dq does not read this property of a quality rule")

    def _severity(self, quality: dict[str, Any], where: str) -> str | None:
        value = quality.get("severity")
        if value is None:
            return None
        text = str(value).casefold()
        if text in ("error", "critical", "high", "blocker"):
            return None  # dq's default
        if text in ("warn", "warning", "info", "low", "minor"):
            return "warn"
        raise self.fail(f"{where}.severity", f"{value!r}: dq knows error (blocks) and warning (reported)")

    def _relationship(
        self, relation: dict[str, Any], where: str, columns: dict[str, dict[str, Any]], column: str | None
    ) -> None:
        if str(relation.get("type", "foreignKey")) != "foreignKey":
            raise self.fail(f"{where}.type", f"dq checks foreignKey relationships, got {relation.get('type')!r}")
        source, target = relation.get("from", column), relation.get("to")
        if isinstance(source, list) or isinstance(target, list):
            raise self.fail(where, "a compound foreign key is not checked by dq (one column per reference)")
        if not isinstance(target, str) or "." not in target or not isinstance(source, str):
            raise self.fail(f"{where}.to", "a foreign key names `object.column`")
        own = source.rpartition(".")[2]
        if own not in columns:
            raise self.fail(f"{where}.from", f"column {own!r} is not a property of this object")
        table, _, ref_column = target.rpartition(".")
        columns[own]["references"] = {"table": table, "column": ref_column}

    def _dq_custom(self, custom: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for index, entry in enumerate(custom or []):
            key = str(entry.get("property") or "")
            if not key.startswith(PREFIX):
                self.documentation.append(f"{where}[{index}] ({key})")
                continue
            name = key.removeprefix(PREFIX)
            if name not in allowed:
                raise self.fail(f"{where}[{index}]", f"{key} is not a dq key here (dq keys here: {sorted(allowed)})")
            found[name] = entry.get("value")
        return found


_OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | Decimal) and value == int(value)


def _integer(rule: dict[str, Any]) -> bool:
    return rule.get("type") is not None and column_family(str(rule["type"])) == "integer"


def _only_operator(quality: dict[str, Any]) -> tuple[str, Any]:
    given = [(key, quality[key]) for key in _OPERATORS if quality.get(key) is not None]
    return given[0] if len(given) == 1 else ("", None)


def _describe(quality: dict[str, Any]) -> str:
    metric = quality.get("metric") or quality.get("rule") or quality.get("type") or "a rule"
    operator, value = _only_operator(quality)
    unit = f" {quality['unit']}" if quality.get("unit") else ""
    return f"{metric} {operator} {value}{unit}".strip() if operator else str(metric)


def _count_bounds(quality: dict[str, Any], fail: Any) -> dict[str, Any]:
    operator, value = _only_operator(quality)
    if quality.get("unit") not in (None, "rows"):
        raise fail(f"rowCount in {quality['unit']!r}: dq counts rows")

    def whole(number: Any) -> int:
        if isinstance(number, bool) or not isinstance(number, int | Decimal) or number != int(number):
            raise fail(f"rowCount {operator} {number!r}: a row count is a whole number")
        return int(number)

    if operator == "mustBeBetween":
        return {"min": whole(value[0]), "max": whole(value[1])}
    if operator in ("mustBeGreaterOrEqualTo", "mustBeGreaterThan"):
        return {"min": whole(value) + (operator == "mustBeGreaterThan")}
    if operator in ("mustBeLessOrEqualTo", "mustBeLessThan"):
        return {"max": whole(value) - (operator == "mustBeLessThan")}
    if operator == "mustBe":
        return {"min": whole(value), "max": whole(value)}
    raise fail(f"rowCount {_describe(quality)}: give one of mustBe, mustBeBetween, mustBeGreater…/mustBeLess…")


def _violations_query(quality: dict[str, Any], fail: Any) -> str:
    """An ODCS SQL rule (a query returning one number, compared with an operator) as a dq check
    (a query whose rows are violations): one row when the number is outside what the rule says."""
    query = str(quality.get("query") or "").strip().rstrip(";")
    if not query:
        raise fail("a sql rule needs a query")
    query = query.replace("{object}", "{dataset}").replace("{table}", "{dataset}")
    if "{property}" in query or "{column}" in query:
        raise fail("{property} in a schema-level rule names no column. Fix: write the column name")
    operator, value = _only_operator(quality)
    if not operator:
        raise fail("a sql rule needs exactly one operator (mustBe, mustBeLessThan, ...)")
    tests = {
        "mustBe": "v = {0}",
        "mustNotBe": "v <> {0}",
        "mustBeGreaterThan": "v > {0}",
        "mustBeGreaterOrEqualTo": "v >= {0}",
        "mustBeLessThan": "v < {0}",
        "mustBeLessOrEqualTo": "v <= {0}",
        "mustBeBetween": "v BETWEEN {0} AND {1}",
        "mustNotBeBetween": "v NOT BETWEEN {0} AND {1}",
    }
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, bool) or not isinstance(v, int | Decimal | float) for v in values):
        raise fail(f"{operator} {value!r}: a sql rule compares a number")
    holds = tests[operator].format(*values)
    return f"SELECT v FROM (\n{query}\n) AS q(v) WHERE v IS NULL OR NOT ({holds})"


def _check_name(quality: dict[str, Any], index: int) -> str:
    for candidate in (quality.get("name"), quality.get("id")):
        if candidate:
            name = re.sub(r"[^A-Za-z0-9_]", "_", str(candidate))
            return name if re.match(r"^[A-Za-z_]", name) else f"check_{name}"
    return f"sql_{index + 1}"
