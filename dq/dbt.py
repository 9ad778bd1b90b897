"""dbt artifacts as a versioned input: resolving `{model: ...}` through `target/manifest.json`.

dq reads dbt's manifest instead of guessing table names, so a model with a custom schema or alias
is validated where dbt really wrote it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dq.errors import SourceError

SUPPORTED_MANIFEST_PREFIX = "https://schemas.getdbt.com/dbt/manifest/v"


@dataclass(frozen=True)
class ModelNode:
    unique_id: str
    name: str
    schema: str
    alias: str


def target_dir(project_dir: Path) -> Path:
    """Where dbt writes its artifacts: env DBT_TARGET_PATH (as dbt itself reads it, relative to the
    project) or `target/`. `dq dbt build` gives every invocation its own target path this way."""
    configured = os.environ.get("DBT_TARGET_PATH")
    return project_dir / configured if configured else project_dir / "target"


def read_manifest(project_dir: Path) -> dict[str, Any]:
    return read_manifest_file(target_dir(project_dir) / "manifest.json", project_dir)


def read_manifest_file(path: Path, project_dir: Path | None = None) -> dict[str, Any]:
    """A manifest.json anywhere (a dbt target, a `--state` directory), its schema version checked."""
    project_dir = project_dir or path.parent
    if not path.is_file():
        raise SourceError(
            f"dbt manifest {path} not found. Fix: run `dbt parse --project-dir {project_dir} "
            f"--profiles-dir {project_dir}` (or `make demo`), or use `dataset: {{table: schema.table}}`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SourceError(f"cannot read dbt manifest {path}: {exc}") from None
    version = str(manifest.get("metadata", {}).get("dbt_schema_version", ""))
    if not version.startswith(SUPPORTED_MANIFEST_PREFIX):
        raise SourceError(f"{path} is not a dbt manifest (dbt_schema_version {version!r})")
    return manifest


def resolve_model(project_dir: Path | None, model: str) -> ModelNode:
    """The schema and alias dbt materialises `model` as; a SourceError if it is unknown."""
    if project_dir is None:
        raise SourceError(
            f"dataset model {model!r} needs a dbt project. Fix: pass --dbt-project DIR "
            "(or DQ_DBT_PROJECT, or [tool.dq] dbt_project), or use `{table: schema.table}`"
        )
    manifest = read_manifest(project_dir)
    nodes = [
        node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in ("model", "seed", "snapshot") and node.get("name") == model
    ]
    if not nodes:
        known = sorted(n["name"] for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model")
        raise SourceError(f"model {model!r} not found in {project_dir}'s manifest (models: {', '.join(known)})")
    node = nodes[0]
    return ModelNode(node["unique_id"], node["name"], node["schema"], node.get("alias") or node["name"])


def model_node(manifest: dict[str, Any], model: str) -> dict[str, Any] | None:
    """The manifest node of model `model` (columns, constraints, config), or None."""
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == model:
            return dict(node)
    return None


def model_tests(manifest: dict[str, Any], unique_id: str) -> list[dict[str, Any]]:
    """The generic data tests attached to a model: [{name, column, kwargs}], e.g. not_null on `id`."""
    tests = []
    for node in manifest.get("nodes", {}).values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") == "test" and node.get("attached_node") == unique_id and meta:
            column, kwargs = node.get("column_name"), meta.get("kwargs", {})
            tests.append({"name": meta.get("name"), "column": column, "kwargs": kwargs})
    return tests
