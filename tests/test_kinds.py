"""The one table of check kinds (dq.checks.kinds.KINDS) is complete, and every module agrees with it:
an engine claims exactly the kinds the table gives it and has a builder for each, every family has
its SQL builder, the dbt exporter places kinds as the table says, specs carry only typed arguments.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dq.checks import kinds
from dq.checks.compile import compile_contract
from dq.checks.kinds import KINDS, CheckKind, Dbt, Family
from dq.checks.result import Status, failure_message
from dq.checks.spec import CheckSpec
from dq.checks.sql import failing_count_query, metric_expression, violation_predicate
from dq.contract.model import Severity, load_contract
from dq.data.source import Table, open_database, resolve_table
from dq.dbt import export as dbt_export
from dq.engines.pandera import PanderaEngine
from dq.engines.pandera_batch import PanderaBatchEngine
from dq.gx.engine import GxEngine
from tests.kind_samples import SAMPLE_ARGS, SAMPLE_TABLE, sample_spec

ROOT = Path(__file__).resolve().parents[1]
ENGINES = {kinds.BATCH: PanderaBatchEngine, kinds.PANDERA: PanderaEngine, kinds.GX: GxEngine}


@pytest.mark.parametrize("kind", list(CheckKind), ids=str)
def test_every_kind_has_every_fact(kind: CheckKind) -> None:
    facts = KINDS[kind]
    assert isinstance(facts.family, Family) and isinstance(facts.dbt, Dbt)
    assert facts.engines and facts.engines <= set(kinds.ENGINES)
    assert facts.required <= facts.args
    assert kind in SAMPLE_ARGS, "add a sample spec of the new kind to tests/kind_samples.py"
    assert facts.words(SAMPLE_ARGS[kind], sample_spec(kind).columns).strip()


@pytest.mark.parametrize("kind", list(CheckKind), ids=str)
def test_every_kind_says_why_it_failed(kind: CheckKind) -> None:
    spec = sample_spec(kind)
    observed = ["extra"] if kind is CheckKind.no_extra_columns else 7
    assert failure_message(spec, None, observed).strip()
    if spec.is_row_level:
        assert "3 rows" in failure_message(spec, 3, None)


def test_every_family_and_placement_is_used() -> None:
    assert {facts.family for facts in KINDS.values()} == set(Family)
    assert {facts.dbt for facts in KINDS.values()} == set(Dbt)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_an_engine_claims_exactly_the_kinds_the_table_gives_it(engine: str) -> None:
    claimed = {kind for kind in CheckKind if ENGINES[engine]().supports(sample_spec(kind))}
    assert claimed == kinds.run_by(engine)


@pytest.mark.parametrize("kind", sorted(kinds.SEGMENTABLE), ids=str)
def test_a_per_segment_check_is_claimed_by_pandera_batch_alone(kind: CheckKind) -> None:
    spec = sample_spec(kind)
    segmented = CheckSpec(
        spec.name, kind, spec.severity, spec.columns, {**spec.args, "segments": ("d",), "max_segments": 9}
    )
    assert {engine for engine in ENGINES if ENGINES[engine]().supports(segmented)} == {kinds.BATCH}
    assert segmented.needs_exact_sql  # Ibis and GX leave it to dq's own grouped SQL


@pytest.fixture(scope="module")
def sample_table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Table]:
    path = tmp_path_factory.mktemp("kinds") / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(SAMPLE_TABLE)
    connection = open_database(path)
    yield resolve_table(connection, path, "main", "t")
    connection.close()


RUNNABLE = [(e, k) for e in ENGINES for k in sorted(kinds.run_by(e)) if KINDS[k].family is not Family.statistic]


@pytest.mark.parametrize(("engine", "kind"), RUNNABLE, ids=[f"{e}-{k}" for e, k in RUNNABLE])
def test_an_engine_has_a_builder_for_every_kind_it_claims(engine: str, kind: CheckKind, sample_table: Table) -> None:
    # statistics need a label and a drift profile: tests/test_ml_rules.py runs them on real data
    [result] = ENGINES[engine]().run([sample_spec(kind)], sample_table)
    assert result.status in (Status.passed, Status.failed), result.message


@pytest.mark.parametrize("kind", sorted(kinds.of_family(Family.row_predicate)), ids=str)
def test_a_row_predicate_is_one_boolean_per_row(kind: CheckKind, sample_table: Table) -> None:
    query = f"SELECT count(*) FILTER (WHERE {violation_predicate(sample_spec(kind))}) FROM main.t AS __t"
    assert sample_table.connection.execute(query).fetchone()[0] >= 0


@pytest.mark.parametrize("kind", sorted(kinds.of_family(Family.row_query, Family.cross_dataset)), ids=str)
def test_a_row_query_counts_its_violating_rows(kind: CheckKind, sample_table: Table) -> None:
    query = failing_count_query(sample_spec(kind), sample_table.relation)
    assert sample_table.connection.execute(query).fetchone()[0] >= 0


@pytest.mark.parametrize("kind", sorted(kinds.of_family(Family.aggregate)), ids=str)
def test_an_aggregate_is_one_metric(kind: CheckKind, sample_table: Table) -> None:
    metric = metric_expression(sample_spec(kind), sample_table.relation)
    assert len(sample_table.connection.execute(f"SELECT {metric} FROM main.t").fetchall()) == 1


@pytest.mark.parametrize("kind", sorted(kinds.of_family(Family.reconciliation)), ids=str)
def test_a_reconciliation_is_one_metric_of_each_side(kind: CheckKind, sample_table: Table) -> None:
    from dq.checks.reconcile import metric_query

    assert len(sample_table.connection.execute(metric_query(sample_spec(kind), "main.t")).fetchall()[0]) == 4


def test_the_dbt_exporter_places_kinds_as_the_table_says() -> None:
    assert kinds.exported_as(Dbt.constraint, Dbt.assertion) == dbt_export.ASSERTABLE_KINDS
    assert kinds.exported_as(Dbt.constraint) == dbt_export.CONSTRAINT_KINDS
    assert kinds.exported_as(Dbt.constraint) <= kinds.of_family(Family.row_predicate, Family.row_query)


@pytest.mark.parametrize(
    ("args", "problem"),
    [({"min": 1, "maxx": 2}, "unknown arguments ['maxx']"), ({}, "missing arguments ['q']")],
    ids=["typo", "missing"],
)
def test_a_spec_with_arguments_its_kind_does_not_take_is_refused(args: dict[str, object], problem: str) -> None:
    kind = CheckKind.between if "maxx" in args else CheckKind.quantile
    with pytest.raises(TypeError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        CheckSpec("x", kind, Severity.error, ("c",), args)


def test_every_contract_in_the_repository_compiles_to_typed_specs() -> None:
    compiled = 0
    for path in sorted(p for d in ("contracts", "tests/fixtures", "examples") for p in (ROOT / d).rglob("*.yml")):
        try:
            contract = load_contract(path)
        except Exception:  # deliberately broken contracts (fault fixtures) are tested elsewhere
            continue
        compiled += len(compile_contract(contract))  # CheckSpec refuses untyped arguments
    assert compiled > 100
