"""dbt artifacts as a versioned input: resolving `{model: ...}` through `target/manifest.json`.

dq reads dbt's manifest instead of guessing table names, so a model with a custom schema or alias
is validated where dbt really wrote it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dq.errors import SourceError, option

SUPPORTED_MANIFEST_PREFIX = "https://schemas.getdbt.com/dbt/manifest/v"


@dataclass(frozen=True)
class ModelNode:
    """Where dbt materialised a node: `database` is the catalog (dbt-duckdb: the file's stem, or
    an attached database), checked against the opened file before anything is validated."""

    unique_id: str
    name: str
    schema: str
    alias: str
    database: str | None = None
    version: str | None = None


def target_dir(project_dir: Path) -> Path:
    """Where dbt writes its artifacts: env DBT_TARGET_PATH (as dbt itself reads it, relative to the
    project) or `target/`. `dq dbt build` gives every invocation its own target path this way."""
    configured = os.environ.get("DBT_TARGET_PATH")
    return project_dir / configured if configured else project_dir / "target"


def read_manifest(project_dir: Path) -> dict[str, Any]:
    return read_manifest_file(target_dir(project_dir) / "manifest.json", project_dir)


@contextmanager
def manifests_kept() -> Iterator[None]:
    """Within it, a manifest.json is parsed once per version of the file, not at every read.

    `dq dbt build` resolves every contract's model, the models its checks read and the declared
    columns through the manifest dbt wrote when it parsed: ~10 reads of one file while dbt runs,
    each a JSON parse (~10 ms for a small project, more for a big one) on dbt's own thread. A
    file whose inode, size or modification time changed is read again; callers only read the
    dict they get."""
    global _kept
    with _kept_lock:
        outer, _kept = _kept, {} if _kept is None else _kept
    try:
        yield
    finally:
        with _kept_lock:
            _kept = outer


_kept: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] | None = None
_kept_lock = threading.Lock()


def read_manifest_file(path: Path, project_dir: Path | None = None) -> dict[str, Any]:
    """A manifest.json anywhere (a dbt target, a `--state` directory), its schema version checked."""
    with _kept_lock:
        kept = _kept
    if kept is None:
        return _read_manifest_file(path, project_dir)
    try:
        stat = path.stat()
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return _read_manifest_file(path, project_dir)  # says what is wrong with the path
    with _kept_lock:
        found = kept.get(path)
    if found is not None and found[0] == version:
        return found[1]
    manifest = _read_manifest_file(path, project_dir)
    with _kept_lock:
        kept[path] = (version, manifest)
    return manifest


def _read_manifest_file(path: Path, project_dir: Path | None = None) -> dict[str, Any]:
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


def resolve_model(project_dir: Path | None, model: str, version: str | int | float | None = None) -> ModelNode:
    """The node `ref(model)` (or `ref(model, v=version)`) means, and where dbt materialised it.

    A SourceError if it is unknown or ambiguous: validating a look-alike relation is never a pass.
    """
    if project_dir is None:
        raise SourceError(
            f"dataset model {model!r} needs a dbt project. Fix: pass {option('dbt_project')} "
            "(or DQ_DBT_PROJECT, or [tool.dq] dbt_project), or use `{table: schema.table}`"
        )
    node = select_node(read_manifest(project_dir), model, version, where=f"{project_dir}'s manifest")
    return ModelNode(
        node["unique_id"],
        node["name"],
        node["schema"],
        node.get("alias") or node["name"],
        node.get("database"),
        None if node.get("version") is None else _version_text(node["version"]),
    )


def model_node(manifest: dict[str, Any], model: str) -> dict[str, Any] | None:
    """The manifest node of model `model` (columns, constraints, config), or None: the node
    `ref(model)` means, so `dq init` and `dq dbt build` read the same node `validate` checks."""
    try:
        node = select_node(manifest, model, None, where="the manifest", resource_types=("model",))
    except SourceError:
        return None
    return dict(node)


REFABLE = ("model", "seed", "snapshot")


def select_node(
    manifest: dict[str, Any],
    name: str,
    version: str | int | float | None,
    where: str,
    resource_types: tuple[str, ...] = REFABLE,
) -> dict[str, Any]:
    """The node dbt's `ref(name)` / `ref(name, v=version)` resolves to, from the root project.

    As dbt's RefableLookup does it: an unversioned node answers to its name; of a versioned
    model (`model.pkg.name.v1`, `.v2`, ...) only the node whose `version` equals its
    `latest_version` answers to the bare name, and `version` picks one explicitly. Among packages
    the root project (`metadata.project_name`) wins, as in a `ref()` from the root project; the
    same name in several other packages is ambiguous, an error listing the candidates.
    """
    named = [
        n
        for n in manifest.get("nodes", {}).values()
        if n.get("resource_type") in resource_types and n.get("name") == name
    ]
    if not named:
        known = sorted(
            {str(n.get("name")) for n in manifest.get("nodes", {}).values() if n.get("resource_type") == "model"}
        )
        raise SourceError(f"model {name!r} not found in {where} (models: {', '.join(known) or 'none'})")
    wanted = None if version is None else _version_text(version)
    matching = [n for n in named if _answers_to(n, wanted)]
    if not matching:
        raise SourceError(_no_match(name, wanted, named, where))
    by_package: dict[str, list[dict[str, Any]]] = {}
    for node in matching:
        by_package.setdefault(str(node.get("package_name")), []).append(node)
    root = manifest.get("metadata", {}).get("project_name")
    chosen = by_package.get(root) if root in by_package else None
    if chosen is None and len(by_package) == 1:
        chosen = next(iter(by_package.values()))
    if chosen is None or len(chosen) > 1:
        candidates = sorted(str(n.get("unique_id")) for n in (chosen or matching))
        raise SourceError(
            f"model {name!r} is ambiguous in {where}: {', '.join(candidates)}. Fix: rename one of the models, "
            "or name the relation with `dataset: {table: schema.table}`"
        )
    return chosen[0]


def _answers_to(node: dict[str, Any], version: str | None) -> bool:
    """Whether `ref(name)` (version None) or `ref(name, v=version)` means this node."""
    own = None if node.get("version") is None else _version_text(node["version"])
    if version is not None:
        return own == version
    if own is None:
        return True
    latest = node.get("latest_version")
    return latest is not None and own == _version_text(latest)


def _no_match(name: str, version: str | None, named: list[dict[str, Any]], where: str) -> str:
    versions = sorted({_version_text(n["version"]) for n in named if n.get("version") is not None})
    if version is not None:
        return (
            f"model {name!r} has no version {version} in {where} (versions: {', '.join(versions) or 'none'}). "
            "Fix: pin a version that exists, or run `dbt parse`"
        )
    latest = sorted({_version_text(n["latest_version"]) for n in named if n.get("latest_version") is not None})
    return (
        f"model {name!r} in {where} is versioned ({', '.join(versions)}) but no node is its latest_version "
        f"{', '.join(latest) or '(none)'}, which `ref('{name}')` means. Fix: run `dbt parse` to refresh the manifest"
    )


def _version_text(version: str | int | float) -> str:
    """dbt writes versions as numbers or strings (2, 2.0, "2"); one spelling to compare them."""
    if isinstance(version, float) and version.is_integer():
        return str(int(version))
    return str(version).strip()


def model_tests(manifest: dict[str, Any], unique_id: str) -> list[dict[str, Any]]:
    """The generic data tests attached to a model: [{name, column, kwargs}], e.g. not_null on `id`."""
    tests = []
    for node in manifest.get("nodes", {}).values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") == "test" and node.get("attached_node") == unique_id and meta:
            column, kwargs = node.get("column_name"), meta.get("kwargs", {})
            tests.append({"name": meta.get("name"), "column": column, "kwargs": kwargs})
    return tests
