"""A reference profile is validated strictly when it is read: a profile dq cannot interpret
exactly, or one that describes another relation, is an error (exit 3) naming the file, the key and
the fix, never a drift check that passes.

Before: a negated bin count, empty or NaN edges, a wrong `type`, or another dataset's profile
were accepted, and could turn a drift failure into a pass.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dq.checks.result import Status
from dq.config import EngineChoice, Settings
from dq.contract.model import Contract
from dq.data.source import resolve_table
from dq.errors import DqError
from dq.ml import profile
from dq.run.runner import validate
from tests.conftest import MakeDb

ROWS = 400
# reference: income spread over 0..399, country DE/FR; the current data has income shifted far up
REFERENCE_SQL = (
    "CREATE TABLE training_set AS SELECT range::DOUBLE AS income, "
    "CASE WHEN range % 2 = 0 THEN 'DE' ELSE 'FR' END AS country FROM range(400)"
)
CONTRACT_TEXT = (
    "contract: c\nversion: 1.0.0\ndataset: {table: main.training_set}\ncolumns:\n  income: {}\n  country: {}\n"
    "drift:\n  reference: REF\n  columns:\n    income: {psi_max: 0.1}\n    country: {linf_max: 0.1}\n"
)


def _build(make_db: MakeDb, *extra: str) -> tuple[Path, dict[str, Any]]:
    """A DuckDB file with main.training_set, and the profile `dq profile` writes of it."""
    db = make_db(REFERENCE_SQL, "CREATE TABLE other AS SELECT * FROM training_set", *extra)
    contract = Contract.model_validate({"contract": "c", "version": "1.0.0", "dataset": {"table": "main.training_set"}})
    with duckdb.connect(str(db), read_only=True) as con:
        built = profile.build_profile(con, resolve_table(con, db, "main", "training_set"), contract)
    return db, built


def _write(tmp_path: Path, document: Any, name: str = "ref.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
    return path


def _run(db: Path, reference: Path, tmp_path: Path) -> Any:
    contract = tmp_path / "c.yml"
    contract.write_text(CONTRACT_TEXT.replace("REF", str(reference)), encoding="utf-8")
    settings = Settings(
        db=db,
        dbt_project=None,
        results_dir=tmp_path / "results",
        engine=EngineChoice.auto,
        history=tmp_path / "history.duckdb",
    )
    return validate([contract], settings)


def _drift_checks(run: Any) -> dict[str, Any]:
    return {c.name: c for c in run.contracts[0].checks if c.name.startswith("drift.")}


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        document = document[part]
    if value is _DELETE:
        del document[last]
    else:
        document[last] = value


_DELETE = object()


def _negate_first_count(d: dict[str, Any]) -> None:
    d["columns"]["income"]["counts"][0] = -d["columns"]["income"]["counts"][0]


def _nan_edge(d: dict[str, Any]) -> None:
    d["columns"]["income"]["edges"][3] = math.nan


def _swap_edges(d: dict[str, Any]) -> None:
    edges = d["columns"]["income"]["edges"]
    edges[1], edges[2] = edges[2], edges[1]


def _drop_one_count(d: dict[str, Any]) -> None:
    d["columns"]["income"]["counts"].pop()


TAMPERED: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "negated bin count": (_negate_first_count, "columns.income.counts"),
    "NaN edge": (_nan_edge, "columns.income.edges"),
    "edges out of order": (_swap_edges, "columns.income.edges"),
    "counts do not line up with edges": (_drop_one_count, "columns.income"),
    "empty edges": (lambda d: _set(d, "columns.income.edges", []), "columns.income"),
    "counts as strings": (
        lambda d: _set(d, "columns.income.counts", [str(n) for n in d["columns"]["income"]["counts"]]),
        "columns.income.counts",
    ),
    "bool count": (lambda d: _set(d, "columns.country.other", False), "columns.country.other"),
    "fractional count": (lambda d: _set(d, "columns.country.other", 0.5), "columns.country.other"),
    "negated top count": (lambda d: _set(d, "columns.country.top.DE", -200), "columns.country.top.DE"),
    "top counts do not add up": (lambda d: _set(d, "columns.country.top.DE", 2), "columns.country"),
    "wrong kind for the type": (lambda d: _set(d, "columns.income.kind", "categorical"), "columns.income"),
    "type that is not the column's kind": (lambda d: _set(d, "columns.income.type", "VARCHAR"), "columns.income"),
    "unknown kind": (lambda d: _set(d, "columns.income.kind", "continuous"), "columns.income.kind"),
    "unknown key": (lambda d: _set(d, "columns.income.bins", [1, 2]), "columns.income.bins"),
    "unknown top-level key": (lambda d: _set(d, "trusted", True), "trusted"),
    "missing relation": (lambda d: _set(d, "relation", _DELETE), "relation"),
    "no version": (lambda d: _set(d, "version", _DELETE), "version"),
    "future version": (lambda d: _set(d, "version", 2), "version"),
    "negative row count": (lambda d: _set(d, "row_count", -1), "row_count"),
    "null fraction out of range": (lambda d: _set(d, "columns.income.null_fraction", 1.5), "columns.income"),
    "null fraction that contradicts the counts": (
        lambda d: _set(d, "columns.income.null_fraction", 0.5),
        "columns.income",
    ),
    "fingerprint of another row count": (lambda d: _set(d, "fingerprint.value", "7:0000000000000000"), "fingerprint"),
    "more edges than bins": (lambda d: _set(d, "settings.numeric_bins", 3), "columns.income.edges"),
    "more top values than top_k": (lambda d: _set(d, "settings.top_k", 1), "columns.country.top"),
    "infinite null fraction": (
        lambda d: _set(d, "columns.income.null_fraction", math.inf),
        "columns.income.null_fraction",
    ),
}


@pytest.mark.parametrize("tamper", list(TAMPERED), ids=list(TAMPERED))
def test_a_tampered_profile_is_refused_on_load_naming_the_key(make_db: MakeDb, tmp_path: Path, tamper: str) -> None:
    _, built = _build(make_db)
    change, key = TAMPERED[tamper]
    document = copy.deepcopy(built)
    change(document)
    path = _write(tmp_path, document)
    with pytest.raises(DqError) as raised:
        profile.load_profile(path)
    message = str(raised.value)
    assert str(path) in message and key in message and "dq profile" in message, message


def test_a_duplicated_key_is_refused(tmp_path: Path, make_db: MakeDb) -> None:
    _, built = _build(make_db)
    text = json.dumps(built).replace('"row_count": ', '"row_count": 1, "row_count": ', 1)
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DqError, match=r"row_count.*more than once"):
        profile.load_profile(path)


def test_what_dq_profile_writes_is_accepted_as_is(make_db: MakeDb, tmp_path: Path) -> None:
    _, built = _build(make_db)
    path = tmp_path / "p.json"
    profile.write_profile(built, path)
    assert profile.load_profile(path) == json.loads(path.read_text())


def test_the_committed_reference_profile_is_valid() -> None:
    assert profile.load_profile(Path(__file__).resolve().parents[1] / "profiles" / "training_set.json")["columns"]


def test_an_untampered_profile_still_measures_drift(make_db: MakeDb, tmp_path: Path) -> None:
    db, built = _build(make_db)
    assert all(c.status is Status.passed for c in _drift_checks(_run(db, _write(tmp_path, built), tmp_path)).values())
    shifted = make_db(
        "CREATE TABLE training_set AS SELECT (range + 10000)::DOUBLE AS income, 'IT' AS country FROM range(400)",
        name="warehouse.duckdb",
    )
    checks = _drift_checks(_run(shifted, _write(tmp_path, built), tmp_path))
    assert {c.status for c in checks.values()} == {Status.failed}


@pytest.mark.parametrize("tamper", ["negated bin count", "empty edges", "NaN edge", "wrong kind for the type"])
def test_a_tampered_profile_turns_a_drift_check_into_an_error_not_a_pass(
    make_db: MakeDb, tmp_path: Path, tamper: str
) -> None:
    _, built = _build(make_db)
    document = copy.deepcopy(built)
    TAMPERED[tamper][0](document)
    shifted = make_db(
        "CREATE TABLE training_set AS SELECT (range + 10000)::DOUBLE AS income, 'IT' AS country FROM range(400)",
        name="shifted.duckdb",
    )
    run = _run(shifted, _write(tmp_path, document), tmp_path)
    assert run.status is Status.error
    assert all(c.status is Status.error for c in _drift_checks(run).values())


def test_another_relations_profile_is_an_error(make_db: MakeDb, tmp_path: Path) -> None:
    db, _ = _build(make_db)
    other = Contract.model_validate({"contract": "c", "version": "1.0.0", "dataset": {"table": "main.other"}})
    with duckdb.connect(str(db), read_only=True) as con:
        of_other = profile.build_profile(con, resolve_table(con, db, "main", "other"), other)
    run = _run(db, _write(tmp_path, of_other), tmp_path)
    checks = _drift_checks(run)
    assert run.status is Status.error and all(c.status is Status.error for c in checks.values())
    message = checks["drift.income.psi"].message
    assert "main.other" in message and "main.training_set" in message and "dq profile" in message


def test_a_column_whose_type_changed_since_it_was_profiled_is_an_error(make_db: MakeDb, tmp_path: Path) -> None:
    _, built = _build(make_db)
    now = make_db(
        "CREATE TABLE training_set AS SELECT range::DECIMAL(10, 1) AS income, 'DE' AS country FROM range(400)",
        name="now.duckdb",
    )
    message = _drift_checks(_run(now, _write(tmp_path, built), tmp_path))["drift.income.psi"].message
    assert "DECIMAL(10,1)" in message and "DOUBLE" in message and "dq profile" in message


def test_a_reference_with_no_distribution_for_the_column_is_an_error(make_db: MakeDb, tmp_path: Path) -> None:
    db = make_db(
        "CREATE TABLE training_set AS SELECT NULL::DOUBLE AS income, (range::VARCHAR) AS country FROM range(400)",
        name="ids.duckdb",
    )  # income all NULL; every country value unique
    contract = Contract.model_validate({"contract": "c", "version": "1.0.0", "dataset": {"table": "main.training_set"}})
    with duckdb.connect(str(db), read_only=True) as con:
        built = profile.build_profile(con, resolve_table(con, db, "main", "training_set"), contract)
    path = _write(tmp_path, built)
    profile.load_profile(path)  # a valid profile: it says what the data was
    checks = _drift_checks(_run(db, path, tmp_path))
    assert "no finite values" in checks["drift.income.psi"].message
    assert "no value occurs more than once" in checks["drift.country.linf"].message
    assert {c.status for c in checks.values()} == {Status.error}
