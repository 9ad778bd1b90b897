"""GX Data Docs for the compiled suites, built from real GX validation results.

Each contract compiles (dq/compile.py) to the same expectations the GX engine runs; they are
validated against the DuckDB table through a GX Checkpoint whose UpdateDataDocsAction renders
the site. The context is ephemeral (nothing but the site is written) with one filesystem Data
Docs site at `out_dir`; no network is needed to build it, though GX's pages load their CSS/JS
from CDNs when viewed, so offline they render unstyled.

The GX adapter (dq/engines/gx.py) exposes only `build_suite` publicly; its DuckDB fixes
(result buffering, reflection, the shared read-only connection) and its spec->expectation plan
are needed here too, so this module imports those helpers by name, in one place (`_engine`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dq.compile import compile_contract
from dq.config import Settings
from dq.contract import load_contract
from dq.errors import DqError
from dq.source import Table, open_database
from dq.spec import CheckKind, CheckSpec
from dq.sql import quote_relation

SITE = "dq"


@dataclass
class ContractDocs:
    """What one contract contributed to the site."""

    contract: str
    path: str
    suites: list[str] = field(default_factory=list)
    expectations: int = 0
    failed: int = 0
    not_compiled: list[str] = field(default_factory=list)  # "check: why" for specs GX cannot express


@dataclass
class DocsBuild:
    index: Path
    contracts: list[ContractDocs]


def build_docs(contract_paths: Sequence[Path], settings: Settings, out_dir: Path) -> DocsBuild:
    """Validate every contract's GX suite and render the Data Docs site into `out_dir`.

    Raises DqError (bad contract, missing table, GX failure): no half-built site is reported as built.
    """
    from dq.runner import resolve_dataset

    connection = open_database(settings.db)
    try:
        prepared = []
        for path in contract_paths:
            contract = load_contract(path)
            table = resolve_dataset(contract.dataset, connection, settings)
            specs = [_bind_reference(s, connection, settings) for s in compile_contract(contract)]
            prepared.append((ContractDocs(contract.contract, str(path)), specs, table))
        try:
            return _build(prepared, out_dir.resolve())
        except DqError:
            raise
        except Exception as exc:
            raise DqError(f"great_expectations could not build Data Docs: {type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


def _bind_reference(spec: CheckSpec, connection: Any, settings: Settings) -> CheckSpec:
    """A references check needs the other dataset's SQL relation, as the runner binds it."""
    if spec.kind is not CheckKind.references:
        return spec
    from dq.files import target_dataset
    from dq.runner import resolve_dataset

    target = target_dataset(spec.args)
    ref = resolve_dataset(target, connection, settings)
    return replace(spec, args={**spec.args, "relation": quote_relation(ref.schema, ref.name)})


def _build(prepared: list[tuple[ContractDocs, list[CheckSpec], Table]], out_dir: Path) -> DocsBuild:
    g = _engine()
    gx = g._import_gx()
    g._install_result_buffering()
    with g._quiet():
        context = gx.get_context(mode="ephemeral")
    g._disable_progress_bars(context)
    _store_numpy_verdicts(context.validation_results_store)
    context.add_data_docs_site(
        site_name=SITE,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    if not prepared:
        raise DqError("no contracts to document")
    first_table = prepared[0][2]
    datasource = context.data_sources.add_sql(
        name="dq", connection_string=f"duckdb:///{first_table.db_path}", kwargs={"creator": g._creator(first_table)}
    )
    g._fix_reflection(datasource.get_execution_engine().engine)
    definitions: dict[str, ContractDocs] = {}
    try:
        for docs, specs, table in prepared:
            definitions.update(_definitions(gx, g, context, datasource, docs, specs, table, definitions))
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="dq_docs",
                validation_definitions=[context.validation_definitions.get(name) for name in definitions],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[SITE])],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0},
            )
        )
        with g._quiet():
            outcome = checkpoint.run()
    finally:
        datasource.get_execution_engine().close()
    for key, result in outcome.run_results.items():
        docs = definitions[key.expectation_suite_identifier.name]
        docs.expectations += len(result.results)
        docs.failed += sum(not r.success for r in result.results)
    index = out_dir / "index.html"
    if not index.is_file():
        raise DqError(f"great_expectations reported success but wrote no {index}")
    return DocsBuild(index=index, contracts=[docs for docs, _, _ in prepared])


def _definitions(
    gx: Any,
    g: Any,
    context: Any,
    datasource: Any,
    docs: ContractDocs,
    specs: list[CheckSpec],
    table: Table,
    taken: Collection[str],
) -> dict[str, ContractDocs]:
    """One suite + validation definition per batch the GX engine would use (table; BOOLEAN casts)."""
    plans = g._plan(specs, table.columns)
    n = len(taken)
    docs.not_compiled = [f"{p.spec.name}: {p.error}" for p in plans if p.error is not None]
    batches = {"table": _table_asset(datasource, table, f"{n}_{docs.contract}")}
    cast = g._cast_query(plans, table)
    if cast is not None:
        batches["cast"] = datasource.add_query_asset(f"{n}_{docs.contract}_cast", query=cast)
    found: dict[str, ContractDocs] = {}
    for key, asset in batches.items():
        expectations = [e for p in plans if p.batch == key and p.error is None for e in p.expectations]
        if not expectations:
            continue
        name = docs.contract if key == "table" else f"{docs.contract}.booleans_as_double"
        if name in taken:  # two contracts with one name: keep both suites
            name = f"{name}.{n}"
        suite = context.suites.add(gx.ExpectationSuite(name=name))
        for expectation in expectations:
            suite.add_expectation(expectation)
        batch = asset.add_batch_definition_whole_table("all")
        context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        docs.suites.append(name)
        found[name] = docs
    return found


def _store_numpy_verdicts(store: Any) -> None:
    """Let this context's result store save verdicts that are numpy booleans.

    Some GX expectations (aggregate bounds on a SQL batch) return `success` as `numpy.bool`,
    which GX's own JSON store cannot serialize, so the Checkpoint dies before writing any docs.
    Patched on this one store instance, not the class.
    """
    serialize = store.serialize

    def serialize_plain(value: Any) -> Any:
        for result in getattr(value, "results", []):
            result.success = bool(result.success)
        return serialize(value)

    store.serialize = serialize_plain


def _table_asset(datasource: Any, table: Table, name: str) -> Any:
    """As the engine's `_table_asset` (names quoted so GX neither lower-cases nor double-quotes)."""
    import sqlalchemy as sa

    return datasource.add_table_asset(
        name,
        table_name=sa.sql.quoted_name(table.name, quote=True),
        schema_name=sa.sql.quoted_name(table.schema, quote=True),
    )


def _engine() -> Any:
    from dq.engines import gx

    return gx
