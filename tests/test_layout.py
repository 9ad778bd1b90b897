"""The package layout is the architecture: data flows one way, each library sits behind one adapter,
and no module reaches into another package's private names. Read from the imports themselves
(every import, lazy ones included), so the README's Layout section cannot drift from the code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

DQ = Path(__file__).resolve().parents[1] / "dq"

# Lower layers never import higher ones. One flow: contract -> checks -> data -> engines -> run ->
# entry points (dbt, gate, review) -> reports -> CLI / Python API.
LAYERS: list[tuple[str, ...]] = [
    ("dq.errors", "dq.config", "dq.atomic", "dq.exit_codes"),
    ("dq.contract",),
    ("dq.checks",),
    ("dq.data", "dq.dbt.artifacts"),  # resolving a dataset: a table, or a dbt model via the manifest
    ("dq.ml",),
    ("dq.engines", "dq.gx"),  # GX is an engine; its Data Docs (dq.gx.docs) sit with the entry points
    ("dq.run",),
    ("dq.spark",),  # the Spark backend: its datasets, its engine and its runner (over dq.run's steps)
    ("dq.dbt", "dq.gate", "dq.review", "dq.gx.docs", "dq.formats", "dq.gx.export", "dq.engines.pandera_export"),
    ("dq.reports",),
    ("dq.commands", "dq.cli", "dq.api", "dq"),
]
# what a lower layer may still name: exit codes map a result status (its enum) to a number
ALLOWED_UPWARD = {("dq.exit_codes", "dq.checks.result")}
# each third-party library behind one adapter package
ADAPTERS = {
    "great_expectations": ("dq.gx",),
    "pandera": ("dq.engines",),
    "ibis": ("dq.engines.pandera",),
    "dbt": ("dq.dbt",),
    "pyspark": ("dq.spark", "dq.gx"),  # the Spark backend, and GX's Spark datasource
    "pandas": ("dq.engines.pandera_batch", "dq.run.frames"),  # frames: the caller's DataFrames
    "deltalake": ("dq.data.delta",),  # Delta tables on DuckDB: the log read by delta-rs
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(DQ.rglob("*.py")):
        parts = path.relative_to(DQ.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def _imports(tree: ast.Module) -> Iterator[tuple[str, list[str]]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _layer(module: str) -> int:
    best = (-1, -1)  # (length of the matching prefix, layer)
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            nested = module.startswith(prefix + ".") and prefix != "dq"  # the root is only itself
            if (module == prefix or nested) and len(prefix) > best[0]:
                best = (len(prefix), rank)
    assert best[1] >= 0, f"{module} is in no layer: add it to LAYERS"
    return best[1]


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


MODULES = dict(_modules())


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_flow_one_way(module: str) -> None:
    upward = []
    for imported, names in _imports(MODULES[module]):
        if (imported, names) == ("dq", ["__version__"]):
            continue  # the version string, defined in the root so packaging reads it
        targets = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in MODULES] or [imported]
        upward += [
            target
            for target in targets
            if target in MODULES and _layer(target) > _layer(module) and (module, target) not in ALLOWED_UPWARD
        ]
    assert upward == [], f"{module} (layer {_layer(module)}) imports a higher layer"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_another_packages_private_names(module: str) -> None:
    private = [
        f"{imported}.{name}"
        for imported, names in _imports(MODULES[module])
        for name in names
        if imported.startswith("dq.") and name.startswith("_") and _package(imported) != _package(module)
    ]
    assert private == []


@pytest.mark.parametrize("library", sorted(ADAPTERS))
def test_each_library_sits_behind_one_adapter(library: str) -> None:
    users = {m for m, tree in MODULES.items() for imported, _ in _imports(tree) if imported.split(".")[0] == library}
    assert users and all(any(u == a or u.startswith(a + ".") for a in ADAPTERS[library]) for u in users), users


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_dq_import_names_a_module_that_exists(module: str) -> None:
    # mypy ignores missing imports (third-party stubs), so a stale lazy import of a moved module
    # would only fail when that code path runs
    missing = [
        imported
        for imported, _ in _imports(MODULES[module])
        if (imported == "dq" or imported.startswith("dq.")) and imported not in MODULES
    ]
    assert missing == []
