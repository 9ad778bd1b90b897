"""Frames in the training code: `dq.validate` / `dq.require_valid` on pandas, polars and Arrow
objects, in process, with the table path's verdicts; and every frame dq cannot check exactly is
refused with the column and the fix, never passed."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import dq
from dq.checks.result import RunResult, Status
from dq.contract.model import load_contract
from dq.errors import GateError
from tests.conftest import ROOT
from tests.test_ml_rules import drifted_db  # noqa: F401  (the session fixture: one dbt build of the drifted variant)

CONTRACTS = sorted((ROOT / "contracts").glob("*.yml"))
# pandas as a training script holds it: nullable integer / boolean / string dtypes (numpy float64
# with NaN for a missing double), timestamps as datetime64
_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.bool_(): pd.BooleanDtype()}
KINDS: dict[str, Callable[[pa.Table], Any]] = {
    "arrow": lambda t: t,
    "polars": lambda t: pl.from_arrow(t),
    "pandas": lambda t: t.to_pandas(types_mapper=_PANDAS_TYPES.get),
}


@pytest.fixture(autouse=True)
def _from_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the drift reference profile is relative to the current directory


def _tables(db: Path) -> dict[str, pa.Table]:
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        return {n: con.sql(f'SELECT * FROM main."{n}"').to_arrow_table() for n in names}


def _verdicts(run: RunResult) -> dict[str, tuple[Status, int | None, Any]]:
    assert run.contracts[0].error is None, run.contracts[0].error
    return {c.name: (c.status, c.failing_rows, c.observed) for c in run.contracts[0].checks}


def _same_observed(a: Any, b: Any, name: str = "") -> bool:
    if name.endswith("freshness") and isinstance(a, float) and isinstance(b, float):
        # an age in hours, shown to 2 decimals: the second run starts moments later and may round up
        return abs(a - b) <= 0.011
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)  # a sum's last bits depend on DuckDB's thread order
    return str(a) == str(b)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("variant", ["clean", "broken"])
def test_frames_get_the_table_paths_verdicts_and_counts(
    warehouse: dict[str, Path], tmp_path: Path, kind: str, variant: str
) -> None:
    db = warehouse[variant]
    frames = {name: KINDS[kind](table) for name, table in _tables(db).items()}
    for contract in CONTRACTS:
        own = load_contract(contract).dataset.model
        assert own is not None
        on_table = dq.validate(contract, db=db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path)
        others = {name: frame for name, frame in frames.items() if name != own}
        on_frame = dq.validate(contract, data=frames[own], frames=others, results_dir=tmp_path)
        expected, found = _verdicts(on_table), _verdicts(on_frame)
        assert list(found) == list(expected)
        for name, (status, failing, observed) in expected.items():
            assert found[name][:2] == (status, failing), (contract.name, name, found[name], expected[name])
            assert _same_observed(found[name][2], observed, name), (contract.name, name)
        assert on_frame.status == on_table.status
        assert on_frame.contracts[0].relation.startswith("frame data (")
    if variant == "broken":  # the defects are caught on frames too
        with pytest.raises(GateError, match=r"primary_key\.unique failed"):
            dq.require_valid(
                ROOT / "contracts" / "training_set.yml",
                data=frames["training_set"],
                frames={"stg_plans": frames["stg_plans"]},
                results_dir=tmp_path,
            )


def _contract(tmp_path: Path, columns: str, extra: str = "") -> Path:
    path = tmp_path / "frame.yml"
    path.write_text(
        f"contract: frame\nversion: 1.0.0\ndataset: {{table: main.events}}\n{extra}columns:\n{columns}",
        encoding="utf-8",
    )
    return path


def _only(run: RunResult) -> dict[str, tuple[Status, int | None]]:
    return {c.name: (c.status, c.failing_rows) for c in run.contracts[0].checks}


def test_missing_values_count_the_same_in_pandas_polars_and_arrow(tmp_path: Path) -> None:
    """pandas' NaN is its missing value; polars and Arrow keep NaN apart from NULL. dq counts both
    as missing, so `nullable: false` fails the same two rows whichever frame holds them."""
    contract = _contract(tmp_path, "  x: {type: double, nullable: false}\n")
    frames = [
        pd.DataFrame({"x": [1.0, math.nan, None]}),
        pl.DataFrame({"x": [1.0, math.nan, None]}),
        pa.table({"x": pa.array([1.0, math.nan, None])}),
    ]
    for frame in frames:
        assert _only(dq.validate(contract, data=frame, results_dir=tmp_path))["x.not_null"] == (Status.failed, 2)


def test_large_integers_and_decimals_stay_exact(tmp_path: Path) -> None:
    contract = _contract(
        tmp_path,
        "  k: {type: bigint, unique: true, max: 1152921504606846976}\n  d: {type: 'decimal(20,2)', min: 0.01}\n",
    )
    big = 2**60
    frame = pd.DataFrame(
        {
            "k": pd.array([big, big + 1], dtype="Int64"),
            "d": pd.Series([Decimal("0.01"), Decimal("0.00")], dtype=object),
        }
    )
    arrow = pa.Table.from_pandas(frame, preserve_index=False).cast(
        pa.schema([("k", pa.int64()), ("d", pa.decimal128(20, 2))])
    )
    for data in (frame.assign(d=arrow["d"].to_pandas()), arrow):
        found = _only(dq.validate(contract, data=data, results_dir=tmp_path))
        # 2**60 + 1 is one above max and unique: a float64 on the way would make both 2**60
        assert found["k.unique"] == (Status.passed, 0)
        assert found["k.range"] == (Status.failed, 1)
        assert found["d.range"] == (Status.failed, 1)


def test_timezone_aware_columns_are_instants(tmp_path: Path) -> None:
    contract = _contract(
        tmp_path, "  at: {type: timestamptz, nullable: false}\n", extra="freshness: {column: at, max_age: 2h}\n"
    )
    now = datetime.now(UTC)
    fresh = pd.DataFrame({"at": pd.Series([now - timedelta(minutes=30)]).dt.tz_convert("Asia/Tokyo")})
    stale = pl.DataFrame({"at": [now - timedelta(hours=3)]}).with_columns(
        pl.col("at").dt.convert_time_zone("US/Pacific")
    )
    assert dq.validate(contract, data=fresh, results_dir=tmp_path).status is Status.passed
    assert _only(dq.validate(contract, data=stale, results_dir=tmp_path))["at.freshness"][0] is Status.failed


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": pd.Series([1, 2.5], dtype=object)}), r"object column x mixes kinds of values"),
        (pd.DataFrame({"x": pd.Series([None, None], dtype=object)}), r"column x is an object column holding no values"),
        (
            pd.DataFrame({"x": pd.Series([datetime(2024, 1, 1), datetime(2024, 1, 1, tzinfo=UTC)], dtype=object)}),
            r"column x mixes timezone-aware and naive datetimes",
        ),
        (pd.DataFrame({"x": [1.0]}, index=pd.Index([7], name="customer_id")), r"its index \(customer_id\)"),
        (pd.DataFrame({1: [1.0]}), r"column name 1 is not a string"),
        (pl.DataFrame({"x": [None, None]}), r"column x has no type"),
        (pl.LazyFrame({"x": [1.0]}), r"LazyFrame"),
        ({"x": [1.0]}, r"is a builtins.dict; dq checks a pandas.DataFrame"),
        (
            pl.DataFrame({"x": pl.Series([Decimal("1.5"), Decimal("1.5")], dtype=pl.Object)}),
            r"column x is of type Object",
        ),
        (
            pd.DataFrame({"x": pd.Series([date(2024, 1, 1), datetime(2024, 1, 1, 23, 59)], dtype=object)}),
            r"object column x mixes dates and datetimes",
        ),
        (
            pd.DataFrame({"x": pd.Series([datetime(2024, 1, 1, 23, 59), date(2024, 1, 2)], dtype=object)}),
            r"object column x mixes dates and datetimes",
        ),
        (pa.table({"x": pa.array([1704153540000], pa.date64())}), r"date64 column x holds a time of day"),
        # a dictionary's values, a struct's field, a list's items: DuckDB read the day of each alone
        (
            pa.table({"x": pa.array([1704153540000], pa.date64()).dictionary_encode()}),
            r"date64 column x holds a time of day",
        ),
        (
            pa.table({"x": pa.StructArray.from_arrays([pa.array([1704153540000], pa.date64())], ["d"])}),
            r"date64 column x holds a time of day",
        ),
        (
            pa.table({"x": pa.array([[1704067200000, 1704153540000]], pa.list_(pa.date64()))}),
            r"date64 column x holds a time of day",
        ),
        # nanoseconds DuckDB's INTERVAL (microseconds) or Arrow's timestamp[us] would drop
        (pd.DataFrame({"x": pd.to_timedelta([1500, 1700], unit="ns")}), r"column x is a duration in nanoseconds"),
        (pl.DataFrame({"x": pl.Series([1500, 1700]).cast(pl.Duration("ns"))}), r"column x is a duration in nanos"),
        (
            pa.table({"x": pa.array([[1000, 1001]], pa.list_(pa.duration("ns")))}),
            r"column x is a duration in nanoseconds",
        ),
        (
            pd.DataFrame({"x": pd.Series([pd.Timestamp("2026-01-01 00:00:00.000000001")], dtype=object)}),
            r"object column x holds pd.Timestamp values with nanoseconds",
        ),
        (pd.DataFrame({"x": pd.Series([1, 2**70], dtype=object)}), r"holds the integer 1180591620717411303424, past"),
        (pd.DataFrame({"x": pd.Series([1, -(2**63) - 1], dtype=object)}), r"holds the integer -9223372036854775809"),
    ],
)
def test_a_frame_dq_cannot_check_exactly_is_refused(tmp_path: Path, frame: Any, message: str) -> None:
    contract = _contract(tmp_path, "  x: {nullable: false}\n")
    run = dq.validate(contract, data=frame, results_dir=tmp_path)
    assert run.status is Status.error
    assert run.contracts[0].error is not None
    assert re.search(message, run.contracts[0].error), run.contracts[0].error
    with pytest.raises(GateError):
        dq.require_valid(contract, data=frame, results_dir=tmp_path)


def test_references_and_custom_sql_read_other_frames_by_name(tmp_path: Path) -> None:
    contract = tmp_path / "orders.yml"
    contract.write_text(
        "contract: orders\nversion: 1.0.0\ndataset: {model: orders}\ncolumns:\n"
        "  customer_id: {type: bigint, references: {table: main.customers, column: id}}\n"
        "checks:\n  - name: big_spenders_exist\n"
        "    sql: select * from {dataset} where customer_id not in (select id from customers) and customer_id > 3\n",
        encoding="utf-8",
    )
    orders = pl.DataFrame({"customer_id": [1, 2, 3]})
    customers = pa.table({"id": [1, 2]})
    run = dq.validate(contract, data=orders, frames={"customers": customers}, results_dir=tmp_path)
    found = _only(run)
    assert found["customer_id.references"] == (Status.failed, 1)
    assert found["checks.big_spenders_exist"] == (Status.passed, 0)
    missing = dq.validate(contract, data=orders, results_dir=tmp_path)
    error = {c.name: c for c in missing.contracts[0].checks}["customer_id.references"].message
    assert missing.status is Status.error
    assert "table main.customers is not among the frames passed" in str(error)
    assert "frames={'customers': df}" in str(error)


def test_a_frame_named_like_the_contracts_dataset_needs_no_data_argument(tmp_path: Path) -> None:
    contract = _contract(tmp_path, "  x: {nullable: false}\n")
    run = dq.validate(contract, frames={"events": pd.DataFrame({"x": [1.0, None]})}, results_dir=tmp_path)
    assert _only(run)["x.not_null"] == (Status.failed, 1)
    both = dq.validate(
        contract,
        data=pd.DataFrame({"x": [1.0]}),
        frames={"main.events": pd.DataFrame({"x": [2.0]})},
        results_dir=tmp_path,
    )
    assert "pass it once" in str(both.contracts[0].error)


@pytest.mark.parametrize("engine", ["pandera", "gx"])
def test_every_engine_reads_the_frames(warehouse: dict[str, Path], tmp_path: Path, engine: str) -> None:
    """Pandera's Ibis backend and GX run on cursors of the connection; the frames are registered on
    one connection only, so dq hands them that connection (frames.SharedConnection)."""
    db = warehouse["broken"]
    tables = _tables(db)
    contract = ROOT / "contracts" / "training_set.yml"
    on_table = dq.validate(contract, db=db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path, engine=engine)
    others = {"stg_plans": tables["stg_plans"], "eval_set": tables["eval_set"]}
    on_frame = dq.validate(contract, data=tables["training_set"], frames=others, results_dir=tmp_path, engine=engine)
    expected = {name: found[:2] for name, found in _verdicts(on_table).items()}
    assert {name: found[:2] for name, found in _verdicts(on_frame).items()} == expected
    assert on_frame.status is Status.failed


def test_a_database_given_with_frames_is_refused_not_ignored(tmp_path: Path) -> None:
    contract = _contract(tmp_path, "  x: {nullable: false}\n")
    with pytest.raises(ValueError, match="do not pass db="):
        dq.validate(contract, data=pd.DataFrame({"x": [1.0]}), db=tmp_path / "w.duckdb", results_dir=tmp_path)
    with pytest.raises(ValueError, match="data= is one dataset"):
        dq.validate(contract, ROOT / "contracts" / "training_set.yml", data=pd.DataFrame({"x": [1.0]}))


def test_a_record_batch_is_checked_like_a_table(tmp_path: Path) -> None:
    contract = _contract(tmp_path, "  x: {type: bigint, min: 2}\n")
    batch = pa.RecordBatch.from_pydict({"x": [1, 2, 3]})
    assert _only(dq.validate(contract, data=batch, results_dir=tmp_path))["x.range"] == (Status.failed, 1)


@pytest.mark.parametrize("kind", ["arrow", "polars"])
def test_the_ml_rules_block_drifted_frames_as_they_block_the_table(
    drifted_db: Path,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    kind: str,
) -> None:
    """The drifted warehouse (label flipped, leakage, train/eval overlap, drift): on frames, every
    label, leakage and drift check reaches the table path's verdict, the overlap with `eval_set`
    found through the frame passed by name."""
    tables = {name: KINDS[kind](table) for name, table in _tables(drifted_db).items()}
    contract = ROOT / "contracts" / "training_set.yml"
    on_table = dq.validate(contract, db=drifted_db, dbt_project=ROOT / "dbt_project", results_dir=tmp_path)
    others = {"stg_plans": tables["stg_plans"], "eval_set": tables["eval_set"]}
    on_frame = dq.validate(contract, data=tables["training_set"], frames=others, results_dir=tmp_path)
    expected = {name: found[:2] for name, found in _verdicts(on_table).items()}
    assert {name: found[:2] for name, found in _verdicts(on_frame).items()} == expected
    flagged = {name for name, (status, _) in expected.items() if status is Status.failed}
    assert {"label.class_fraction.true", "leakage.disjoint_from", "drift.income.psi", "leakage.before"} <= flagged


@pytest.mark.parametrize(
    ("frame", "failing"),
    [
        (pa.table({"x": pa.array([1704067200000, 1704153600000], pa.date64())}), 1),  # midnights: 01-01, 01-02
        (pd.DataFrame({"x": pd.Series([date(2024, 1, 1), date(2024, 1, 2)], dtype=object)}), 1),
        (pa.table({"x": pa.array([1704067200000, 1704153600000], pa.date64()).dictionary_encode()}), 1),
    ],
)
def test_dates_at_midnight_and_plain_dates_are_read(tmp_path: Path, frame: Any, failing: int) -> None:
    contract = _contract(tmp_path, "  x: {type: date, accepted_values: ['2024-01-01']}\n")
    found = _only(dq.validate(contract, data=frame, results_dir=tmp_path))
    assert found["x.accepted_values"] == (Status.failed, failing)


@pytest.mark.parametrize(
    ("frame", "unique"),
    [
        (pd.DataFrame({"x": pd.to_timedelta([1000, 3000], unit="ns")}), Status.passed),  # whole microseconds
        (pl.DataFrame({"x": pl.Series([1000, 3000]).cast(pl.Duration("ns"))}), Status.passed),
        (pd.DataFrame({"x": pd.Series([pd.Timestamp("2026-01-01 00:00:00.000001")] * 2, dtype=object)}), Status.failed),
    ],
)
def test_durations_and_timestamps_without_nanoseconds_are_read(tmp_path: Path, frame: Any, unique: Status) -> None:
    contract = _contract(tmp_path, "  x: {nullable: false, unique: true}\n")
    found = _only(dq.validate(contract, data=frame, results_dir=tmp_path))
    assert found["x.not_null"] == (Status.passed, 0)
    assert found["x.unique"][0] is unique
