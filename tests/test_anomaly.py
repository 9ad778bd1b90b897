"""Checks over the results history: `anomalies` (median/MAD modified z-score against the last N
runs) and `change_from_last` (percent change from the last run).

Every history here is constructed with the history's own API (`history.append_run`) in a temp
DuckDB file, then a real `validate` runs on a real DuckDB table and is judged against it. The
z-scores are checked against an independent oracle written with `statistics.median`.
"""

from __future__ import annotations

import math
import random
import statistics
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from dq.checks import anomaly
from dq.checks.compile import compile_contract
from dq.checks.result import CheckResult, ContractResult, RunResult, Status
from dq.checks.spec import CheckKind, CheckSpec
from dq.cli import app
from dq.config import Settings, load_settings
from dq.contract.model import Severity, load_contract
from dq.data.source import Table
from dq.errors import ContractError
from dq.run import history
from dq.run.runner import validate
from tests.conftest import MakeDb
from tests.test_engine_pandera import build

CONTRACT = """\
contract: orders
version: 1.0.0
dataset: {table: main.orders}
anomalies:
  - {metric: row_count, threshold: 3.5, window: 20, min_history: 5}
change_from_last:
  - {metric: row_count, max_pct: 10}
"""
ANOMALY, CHANGE = "anomalies.row_count", "change_from_last.row_count"
DATASET = "table main.orders"


def a_run(
    run_id: str,
    values: dict[str, float | None],
    *,
    contract: str = "orders",
    dataset: str = DATASET,
    status: Status = Status.passed,
    error: str | None = None,
) -> RunResult:
    """A recorded run of `contract` whose checks (by name) observed `values`."""
    checks = [
        CheckResult(
            name,
            CheckKind.anomaly.value if ".anomalies." in f".{name}" else CheckKind.change_from_last.value,
            (),
            "error",
            "pandera-batch",
            status,
            "",
            observed=value,
        )
        for name, value in values.items()
    ]
    result = ContractResult(contract, f"{contract}.yml", "1.0.0", dataset, "main.orders", checks=checks, error=error)
    return RunResult(run_id, "2026-01-01T00:00:00+00:00", [result], "2026-01-01T00:00:01+00:00")


def record(path: Path, *row_counts: float, **options: Any) -> None:
    """Append one run per row count, oldest first (run ids sort as they were appended)."""
    start = len(history.read_rows(path, "SELECT run_id FROM runs")) if path.is_file() else 0
    for offset, count in enumerate(row_counts):
        run_id = f"{options.get('contract', 'orders')}-{start + offset:04d}"
        history.append_run(path, a_run(run_id, {ANOMALY: count, CHANGE: count}, **options))


@pytest.fixture
def setup(tmp_path: Path, make_db: MakeDb) -> Callable[..., tuple[Settings, Path]]:
    """setup(rows, contract=CONTRACT) -> (settings, contract path): a table of `rows` rows."""

    def make(rows: int, contract: str = CONTRACT) -> tuple[Settings, Path]:
        db = tmp_path / "w.duckdb"
        if db.exists():
            db.unlink()
        make_db(f"CREATE TABLE orders AS SELECT range AS id, range % 3 AS x FROM range({rows})", name="w.duckdb")
        path = tmp_path / "orders.yml"
        path.write_text(contract, encoding="utf-8")
        settings = load_settings(db=db, results_dir=tmp_path / "results", history=tmp_path / "h" / "history.duckdb")
        return settings, path

    return make


def run(settings: Settings, path: Path) -> dict[str, CheckResult]:
    [contract] = validate([path], settings).contracts
    assert contract.error is None, contract.error
    return {check.name: check for check in contract.checks}


def oracle_z(value: float, past: list[float]) -> float:
    """Iglewicz-Hoaglin with the MAD = 0 rules, from `statistics` alone (independent of dq)."""
    center = statistics.median(past)
    mad = statistics.median([abs(x - center) for x in past])
    if mad:
        return 0.6745 * abs(value - center) / mad
    mean_ad = statistics.fmean([abs(x - center) for x in past])
    if mean_ad:
        return abs(value - center) / (1.253314 * mean_ad)
    return 0.0 if value == center else math.inf


HISTORY = [100, 102, 98, 101, 99, 100, 103, 97]  # median 100, MAD 1.5


# ------------------------------------------------------------------------------- the verdicts


@pytest.mark.parametrize(
    ("rows", "status"),
    [(100, Status.passed), (107, Status.passed), (108, Status.failed), (150, Status.failed), (92, Status.failed)],
    ids=["median", "within", "just-past", "spike", "drop"],
)
def test_a_row_count_is_judged_by_its_modified_z_score(setup: Any, rows: int, status: Status) -> None:
    settings, path = setup(rows)
    record(settings.history, *HISTORY)
    check = run(settings, path)[ANOMALY]
    z = oracle_z(rows, HISTORY)
    assert (check.status, check.observed, check.engine) == (status, rows, "pandera-batch")
    assert (z <= 3.5) is (status is Status.passed)
    assert f"is {z:.4f} robust z-scores from the median 100 of the last 8 runs (MAD 1.5)" in check.message


def test_a_spike_fails_with_its_exact_z_score(setup: Any) -> None:
    settings, path = setup(150)
    record(settings.history, *HISTORY)
    check = run(settings, path)[ANOMALY]
    assert check.status is Status.failed
    assert check.message == (
        "row_count 150 is 22.4833 robust z-scores from the median 100 of the last 8 runs (MAD 1.5); expected at most 3.5"
    )
    assert f"{oracle_z(150, HISTORY):.4f}" == "22.4833"  # 0.6745 * |150 - 100| / 1.5


@pytest.mark.parametrize(("recorded", "needed"), [(0, 5), (1, 5), (4, 5)])
def test_too_short_a_history_warns_and_says_how_many_runs_it_has(setup: Any, recorded: int, needed: int) -> None:
    settings, path = setup(1000)  # far off any history: still only a warning, never a verdict
    record(settings.history, *[100] * recorded)
    check = run(settings, path)[ANOMALY]
    runs = f"{recorded} earlier run{'' if recorded == 1 else 's'}"
    assert check.status is Status.warned  # severity error: warned all the same, and reported
    assert check.observed == 1000
    assert check.message == (
        f"the results history holds {runs} of this check, {needed} needed before row_count is judged (observed 1000)"
    )


def test_the_window_takes_only_the_latest_runs(setup: Any) -> None:
    settings, path = setup(1000)
    record(settings.history, *[10] * 30, *[1000] * 5)  # 35 runs; the window (20) holds 15 of 10 and 5 of 1000
    check = run(settings, path)[ANOMALY]
    assert check.message.startswith("row_count 1000 is ") and "of the last 20 runs" in check.message
    assert check.status is Status.passed  # median 10, MAD 0, mean absolute deviation 247.5: z = 3.1915
    assert f"{oracle_z(1000, [10] * 15 + [1000] * 5):.4f}" == "3.1915"


# ------------------------------------------------------------------------------- MAD = 0


@pytest.mark.parametrize(
    ("past", "rows", "status", "words"),
    [
        ([100, 100, 100, 100, 130], 100, Status.passed, "(MAD 0, mean absolute deviation 6)"),
        ([100, 100, 100, 100, 130], 130, Status.failed, "(MAD 0, mean absolute deviation 6)"),
        ([100, 100, 100, 100, 100], 100, Status.passed, "(constant history)"),
        ([100, 100, 100, 100, 100], 101, Status.failed, "(constant history)"),
        ([100, 100, 100, 100, 100], 99, Status.failed, "(constant history)"),
    ],
    ids=["mean-ad-same", "mean-ad-off", "constant-same", "constant-up", "constant-down"],
)
def test_mad_zero_falls_back_to_the_mean_absolute_deviation_then_to_any_change(
    setup: Any, past: list[int], rows: int, status: Status, words: str
) -> None:
    settings, path = setup(rows)
    record(settings.history, *past)
    check = run(settings, path)[ANOMALY]
    z = oracle_z(rows, [float(p) for p in past])
    assert check.status is status
    assert f"is {anomaly.z_text(z)} robust z-scores" in check.message and words in check.message
    if math.isinf(z):
        assert "infinitely many robust z-scores" in check.message


def test_the_constant_history_epsilon_is_relative_and_tiny() -> None:
    assert anomaly.robust_z(1e6 + 1e-7, [1e6] * 5).z == 0  # summation noise of a double
    assert math.isinf(anomaly.robust_z(1e11 + 1, [1e11] * 5).z)  # one row in 10**11 is a change


# ------------------------------------------------------------------------------- change_from_last


@pytest.mark.parametrize(
    ("last", "rows", "status", "change"),
    [
        (100, 110, Status.passed, "a 10.0000%"),
        (100, 90, Status.passed, "a 10.0000%"),
        (100, 111, Status.failed, "a 11.0000%"),
        (100, 89, Status.failed, "a 11.0000%"),
        (0, 0, Status.passed, "a 0.0000%"),
        (0, 1, Status.failed, "an infinite"),
    ],
    ids=["up-at-bound", "down-at-bound", "up-past", "down-past", "zero-same", "from-zero"],
)
def test_change_from_last_is_judged_in_both_directions(
    setup: Any, last: int, rows: int, status: Status, change: str
) -> None:
    settings, path = setup(rows)
    record(settings.history, 5000, last)  # only the last run counts
    check = run(settings, path)[CHANGE]
    assert check.status is status
    assert check.message == (f"row_count {rows} is {change} change from the last run's {last}; expected at most 10%")


def test_change_from_last_with_no_earlier_run_warns(setup: Any) -> None:
    settings, path = setup(10)
    check = run(settings, path)[CHANGE]
    assert check.status is Status.warned
    assert check.message == (
        "the results history holds 0 earlier runs of this check, 1 needed before row_count is judged (observed 10)"
    )


# ------------------------------------------------------------------------------- which runs count


def test_runs_of_another_contract_or_dataset_and_errored_runs_are_ignored(setup: Any) -> None:
    settings, path = setup(100)
    record(settings.history, *HISTORY)
    record(settings.history, *[5000] * 10, contract="other")  # another contract, the same check names
    record(settings.history, *[5000] * 10, dataset="table main.orders_v2")  # another dataset
    record(settings.history, *[5000] * 10, status=Status.error)  # the check errored
    record(settings.history, *[5000] * 10, error="the gate could not publish")  # the contract errored
    record(settings.history, *[float("nan")] * 3)  # no finite value
    check = run(settings, path)[ANOMALY]
    assert check.status is Status.passed
    assert "from the median 100 of the last 8 runs (MAD 1.5)" in check.message


def test_failed_runs_count_and_a_lone_spike_does_not_move_the_median(setup: Any) -> None:
    settings, path = setup(150)
    record(settings.history, *HISTORY[:7])
    record(settings.history, 150, status=Status.failed)  # yesterday's spike, recorded as failed
    check = run(settings, path)[ANOMALY]
    past = [*HISTORY[:7], 150]
    assert "of the last 8 runs" in check.message
    assert check.status is Status.failed and f"{oracle_z(150, past):.4f}" in check.message


def test_this_runs_value_is_never_its_own_baseline(setup: Any) -> None:
    settings, path = setup(100, CONTRACT.replace("min_history: 5", "min_history: 1"))
    first = run(settings, path)[ANOMALY]
    assert first.status is Status.warned and "holds 0 earlier runs" in first.message
    assert history.baseline(settings.history, "orders", DATASET, ANOMALY, "anomaly", 20) == (100.0,)
    second = run(settings, path)[ANOMALY]
    assert second.status is Status.passed
    assert second.message.endswith("from the median 100 of the last 1 runs (constant history); expected at most 3.5")
    assert history.baseline(settings.history, "orders", DATASET, ANOMALY, "anomaly", 20) == (100.0, 100.0)


# ------------------------------------------------------------------------------- every metric, one scan


COLUMNS_CONTRACT = """\
contract: events
version: 1.0.0
dataset: {table: main.events}
columns:
  x:
    mean: {min: -1000}
    anomalies:
      - {metric: null_fraction, min_history: 3}
      - {metric: mean, min_history: 3}
      - {metric: distinct_count, min_history: 3}
      - {metric: stddev, min_history: 3}
      - {metric: quantile, q: 0.5, min_history: 3}
    change_from_last:
      - {metric: mean, max_pct: 5}
  at:
    anomalies:
      - {metric: freshness_lag, min_history: 3, threshold: 100}
"""


class CountingConnection:
    """A real DuckDB connection that counts the statements run on it."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection, self.statements = connection, []  # type: ignore[var-annotated]

    def execute(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return self.connection.execute(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


def test_every_metric_is_measured_in_the_single_pass_as_its_aggregate_kind_measures_it(tmp_path: Path) -> None:
    from dq.data.bind import bind_spec
    from dq.engines.pandera_batch import PanderaBatchEngine

    table = build(
        tmp_path,
        "CREATE TABLE events AS SELECT range AS id, CASE WHEN range % 4 = 0 THEN NULL ELSE range % 10 END AS x, "
        "(now() AT TIME ZONE 'UTC') - INTERVAL 2 HOUR AS at FROM range(400)",
        table="events",
    )
    specs = compile_contract(load_contract(_write(tmp_path, COLUMNS_CONTRACT)))
    wanted = [s for s in specs if s.kind in (CheckKind.anomaly, CheckKind.change_from_last, CheckKind.mean)]
    bound = [
        s if s.kind is CheckKind.mean else replace(s, args={**s.args, "baseline": (1.0, 2.0, 3.0)}) for s in wanted
    ]
    bound = [bind_spec(s, table, frozenset()) for s in bound]
    counting = CountingConnection(table.connection)
    results = PanderaBatchEngine().run(bound, replace(table, connection=counting))  # type: ignore[arg-type]
    assert len(counting.statements) == 1, counting.statements  # one scan: every metric, and the fingerprint
    observed = {r.name: r.observed for r in results}
    truth = table.connection.execute(
        "SELECT count(*) FILTER (WHERE x IS NULL) / count(*), avg(x), count(DISTINCT x), stddev_samp(x), "
        "quantile_disc(x, 0.5) FROM events"
    ).fetchone()
    assert truth is not None
    assert observed["x.anomalies.null_fraction"] == truth[0] == 0.25
    assert (
        observed["x.anomalies.mean"] == pytest.approx(truth[1]) and observed["x.mean"] == observed["x.anomalies.mean"]
    )
    assert observed["x.anomalies.distinct_count"] == truth[2] == 10
    assert observed["x.anomalies.stddev"] == pytest.approx(truth[3])
    assert observed["x.anomalies.quantile_0.5"] == truth[4]
    assert observed["x.change_from_last.mean"] == observed["x.anomalies.mean"]
    assert observed["at.anomalies.freshness_lag"] == pytest.approx(2.0, abs=0.05)  # hours of age
    assert {r.status for r in results if r.name == "x.anomalies.null_fraction"} == {Status.passed}


def test_a_history_check_on_a_column_that_is_no_number_is_an_error(tmp_path: Path) -> None:
    from dq.engines.pandera_batch import PanderaBatchEngine

    table = build(tmp_path, "CREATE TABLE t AS SELECT DATE '2024-01-01' + range::INTEGER AS d FROM range(9)")
    spec = CheckSpec(
        "d.anomalies.quantile_0.5",
        CheckKind.anomaly,
        Severity.error,
        ("d",),
        {
            "metric": "quantile",
            "q": 0.5,
            "method": "mad",
            "threshold": 3.5,
            "window": 5,
            "min_history": 1,
            "baseline": (1.0,),
            "column_type": "DATE",
        },
    )
    [result] = PanderaBatchEngine().run([spec], table)
    assert result.status is Status.error and "not a number to compare with past runs" in result.message


def test_an_unbound_history_check_is_an_error_not_a_pass(tmp_path: Path) -> None:
    from dq.engines.pandera_batch import PanderaBatchEngine

    table: Table = build(tmp_path, "CREATE TABLE t AS SELECT range AS c FROM range(3)")
    spec = CheckSpec(
        "anomalies.row_count",
        CheckKind.anomaly,
        Severity.error,
        (),
        {"metric": "row_count", "method": "mad", "threshold": 3.5, "window": 5, "min_history": 1},
    )
    [result] = PanderaBatchEngine().run([spec], table)
    assert result.status is Status.error and "history was not read" in result.message


@pytest.mark.parametrize("engine", ["pandera", "gx"])
def test_other_engines_route_history_checks_to_pandera_batch(setup: Any, engine: str) -> None:
    settings, path = setup(100)
    record(settings.history, *HISTORY)
    [contract] = validate([path], replace(settings, engine=load_settings(engine=engine).engine)).contracts
    check = {c.name: c for c in contract.checks}[ANOMALY]
    assert (check.engine, check.status) == ("pandera-batch", Status.passed)


# ------------------------------------------------------------------------------- the oracle


def _histories() -> list[tuple[float, list[float]]]:
    """Generated cases: normal noise, heavy ties (MAD 0), constant histories, spikes, odd/even sizes."""
    rng = random.Random(15)
    cases = []
    for index in range(120):
        size = rng.randint(1, 30)
        if index % 4 == 0:
            past = [float(rng.choice([7, 7, 7, 9])) for _ in range(size)]  # ties: often MAD 0
        elif index % 4 == 1:
            past = [42.0] * size
        else:
            past = [rng.gauss(1000, 25) for _ in range(size)]
        value = rng.choice([*past, rng.gauss(1000, 100), 42.0, 7.0, rng.uniform(-1e4, 1e4)])
        cases.append((value, past))
    return cases


@pytest.mark.parametrize(("value", "past"), _histories())
def test_the_modified_z_score_agrees_with_an_oracle_on_generated_histories(value: float, past: list[float]) -> None:
    found = anomaly.robust_z(value, past).z
    expected = oracle_z(value, past)
    assert found == pytest.approx(expected, rel=1e-12) if math.isfinite(expected) else math.isinf(found)
    assert anomaly.median(past) == statistics.median(past)


# ------------------------------------------------------------------------------- the contract


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("anomalies: [{metric: mean}]", "anomalies: mean is a column metric"),
        ("columns: {x: {anomalies: [{metric: row_count}]}}", "row_count is a table metric"),
        ("anomalies: [{metric: row_count, min_history: 30}]", "min_history (30) is more than window (20)"),
        ("anomalies: [{metric: row_count}, {metric: row_count, threshold: 2}]", "judge the same metric"),
        ("columns: {x: {anomalies: [{metric: quantile}]}}", "`q` (a quantile in [0, 1]) goes with"),
        ("columns: {x: {anomalies: [{metric: mean, q: 0.5}]}}", "`q` (a quantile in [0, 1]) goes with"),
        ("anomalies: [{metric: row_count, method: zscore}]", "method"),
        ("anomalies: [{metric: row_count, threshold: 0}]", "threshold"),
        ("anomalies: [{metric: row_count, window: true}]", "window"),
        ("change_from_last: [{metric: row_count}]", "max_pct"),
        ("change_from_last: [{metric: row_count, max_pct: -1}]", "max_pct"),
        ("anomalies: [{metric: volume}]", "metric"),
        ("anomalies: [{metric: row_count, windw: 3}]", "unknown key 'windw'"),
    ],
)
def test_a_wrong_history_rule_is_refused_when_the_contract_loads(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, f"contract: c\nversion: 1.0.0\ndataset: {{table: main.t}}\n{text}\n")
    with pytest.raises(ContractError) as caught:
        load_contract(path)
    assert problem in str(caught.value) and str(path) in str(caught.value)


def test_history_rules_compile_to_stable_names_with_their_defaults(tmp_path: Path) -> None:
    specs = {s.name: s for s in compile_contract(load_contract(_write(tmp_path, COLUMNS_CONTRACT)))}
    assert dict(specs["x.anomalies.quantile_0.5"].args) == {
        "metric": "quantile",
        "q": 0.5,
        "method": "mad",
        "threshold": 3.5,
        "window": 20,
        "min_history": 3,
    }
    assert dict(specs["x.change_from_last.mean"].args) == {"metric": "mean", "max_pct": 5.0}
    assert specs["x.anomalies.mean"].expectation() == (
        "mean within 3.5 robust z-scores of its median over the last 20 runs (judged from 3 runs on)"
    )


# ------------------------------------------------------------------------------- the CLI


def _cli(project: Path, rows: int, *extra: str) -> int:
    with duckdb.connect(str(project / "test.duckdb")) as con:
        con.execute(f"CREATE OR REPLACE TABLE orders AS SELECT range AS id FROM range({rows})")
    result = CliRunner().invoke(app, ["validate", "orders.yml", "--db", "test.duckdb", "--history", "h.duckdb", *extra])
    return result.exit_code


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable in ("DQ_HISTORY", "DQ_DB", "DQ_RESULTS_DIR", "DQ_DBT_PROJECT"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.yml").write_text(
        CONTRACT.replace("min_history: 5", "min_history: 3").replace("max_pct: 10", "max_pct: 50"), encoding="utf-8"
    )
    return tmp_path


def test_exit_codes_through_the_cli(project: Path) -> None:
    # three runs to warm up (warned: exit 0), then normal runs pass and a spike fails (exit 1)
    assert [_cli(project, rows) for rows in (100, 101, 99)] == [0, 0, 0]
    assert _cli(project, 100) == 0
    assert _cli(project, 140) == 1  # 40 % up: within max_pct 50, but 0.6745 * 40 / 0.5 = 53.96 z-scores off
    assert _cli(project, 100) == 0  # the failed run counts, yet the median holds
    history_rows = history.read_rows(
        project / "h.duckdb",
        "SELECT c.status FROM checks c JOIN runs USING (run_id) WHERE check_name = ? ORDER BY recorded_at",
        [ANOMALY],
    )
    assert [r["status"] for r in history_rows] == ["warned"] * 3 + ["passed", "failed", "passed"]
    (project / "orders.yml").write_text(CONTRACT.replace("min_history: 5", "min_history: 50"), encoding="utf-8")
    assert _cli(project, 100) == 3  # min_history past the window: a contract error


def test_a_warn_severity_spike_is_reported_and_lets_the_gate_through(project: Path) -> None:
    text = CONTRACT.replace("min_history: 5}", "min_history: 3, severity: warn}").replace("max_pct: 10", "max_pct: 900")
    (project / "orders.yml").write_text(text, encoding="utf-8")
    assert [_cli(project, rows) for rows in (100, 101, 99, 500)] == [0, 0, 0, 0]
    [row] = history.read_rows(
        project / "h.duckdb",
        "SELECT c.status, observed_value FROM checks c JOIN runs USING (run_id) WHERE check_name = ? "
        "ORDER BY recorded_at DESC LIMIT 1",
        [ANOMALY],
    )
    assert (row["status"], row["observed_value"]) == ("warned", 500.0)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"c{len(list(tmp_path.glob('c*.yml')))}.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- diff, lint, exports

DIFF_CASES = [
    ("anomaly added", {}, {"anomalies": [{"metric": "row_count"}]}, "anomalies.row_count", "tightening"),
    ("anomaly removed", {"anomalies": [{"metric": "row_count"}]}, {}, "anomalies.row_count", "breaking"),
    (
        "threshold loosened",
        {"anomalies": [{"metric": "row_count"}]},
        {"anomalies": [{"metric": "row_count", "threshold": 5}]},
        "anomalies.row_count.threshold",
        "breaking",
    ),
    (
        "threshold tightened",
        {"anomalies": [{"metric": "row_count"}]},
        {"anomalies": [{"metric": "row_count", "threshold": 3}]},
        "anomalies.row_count.threshold",
        "tightening",
    ),
    (
        "min_history raised",
        {"anomalies": [{"metric": "row_count"}]},
        {"anomalies": [{"metric": "row_count", "min_history": 10}]},
        "anomalies.row_count.min_history",
        "breaking",
    ),
    (
        "window changed",
        {"anomalies": [{"metric": "row_count"}]},
        {"anomalies": [{"metric": "row_count", "window": 30}]},
        "anomalies.row_count.window",
        "breaking",
    ),
    (
        "anomaly made a warning",
        {"anomalies": [{"metric": "row_count"}]},
        {"anomalies": [{"metric": "row_count", "severity": "warn"}]},
        "anomalies.row_count.severity",
        "breaking",
    ),
    (
        "max_pct loosened",
        {"change_from_last": [{"metric": "row_count", "max_pct": 10}]},
        {"change_from_last": [{"metric": "row_count", "max_pct": 20}]},
        "change_from_last.row_count.max_pct",
        "breaking",
    ),
    (
        "max_pct tightened",
        {"change_from_last": [{"metric": "row_count", "max_pct": 10}]},
        {"change_from_last": [{"metric": "row_count", "max_pct": 5}]},
        "change_from_last.row_count.max_pct",
        "tightening",
    ),
    (
        "column anomaly threshold loosened",
        {"columns": {"income": {"anomalies": [{"metric": "mean"}]}}},
        {"columns": {"income": {"anomalies": [{"metric": "mean", "threshold": 4}]}}},
        "columns.income.anomalies.mean.threshold",
        "breaking",
    ),
    (
        "column change_from_last removed",
        {"columns": {"income": {"change_from_last": [{"metric": "mean", "max_pct": 3}]}}},
        {},
        "columns.income.change_from_last.mean",
        "breaking",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "impact"), [c[1:] for c in DIFF_CASES], ids=[c[0] for c in DIFF_CASES])
def test_dq_diff_classifies_history_rules(old: dict[str, Any], new: dict[str, Any], key: str, impact: str) -> None:
    from dq.contract.model import Contract
    from dq.review.diff import diff_contracts
    from tests.test_diff import patched

    changes = diff_contracts(Contract.model_validate(patched(old)), Contract.model_validate(patched(new))).changes
    assert [(c.path, c.impact.value) for c in changes] == [(key, impact)], changes


@pytest.mark.parametrize(("min_history", "problems"), [(1, 2), (2, 2), (3, 0), (5, 0)])
def test_dq_lint_flags_too_few_runs_to_judge(tmp_path: Path, min_history: int, problems: int) -> None:
    text = f"""\
        contract: c
        version: 1.0.0
        dataset: {{table: main.t}}
        anomalies: [{{metric: row_count, min_history: {min_history}}}]
        columns:
          x: {{anomalies: [{{metric: mean, min_history: {min_history}}}]}}
        """
    path = _write(tmp_path, text)
    result = CliRunner().invoke(app, ["lint", str(path), "--skip-dbt"])
    found = [line for line in result.output.splitlines() if "min_history" in line]
    assert len(found) == problems and result.exit_code == (3 if problems else 0), result.output
    if problems:
        assert f"{path}: anomalies.row_count.min_history: {min_history} past run(s) is too few" in result.output
        assert "columns.x.anomalies.mean.min_history" in result.output


def test_exporters_leave_history_checks_to_dq(tmp_path: Path) -> None:
    from dq.checks.kinds import KINDS, Dbt
    from dq.dbt.export import plan_model

    text = COLUMNS_CONTRACT.replace("{table: main.events}", "{model: events}")
    contract = load_contract(_write(tmp_path, text))
    export = plan_model(contract, tmp_path / "c.yml", tmp_path)
    assert export is not None
    history_checks = {s.name for s in export.dq_only if s.kind in (CheckKind.anomaly, CheckKind.change_from_last)}
    assert len(history_checks) == 7 and not any(
        s.kind in (CheckKind.anomaly, CheckKind.change_from_last) for s in (*export.asserted, *export.constrained)
    )
    assert KINDS[CheckKind.anomaly].dbt is KINDS[CheckKind.change_from_last].dbt is Dbt.dq_only


def test_odcs_keeps_history_rules_through_a_round_trip(tmp_path: Path) -> None:
    from tests.test_odcs import _round_trip

    contract = load_contract(Path(__file__).parent / "fixtures" / "compile" / "history_rules.yml")
    back = _round_trip(contract)
    assert compile_contract(back) == compile_contract(contract)
    assert (back.anomalies, back.columns["amount"].change_from_last) == (
        contract.anomalies,
        contract.columns["amount"].change_from_last,
    )


def test_a_history_that_cannot_be_read_makes_the_checks_errors_not_passes(setup: Any) -> None:
    settings, path = setup(100)
    settings.history.parent.mkdir(parents=True)
    settings.history.write_bytes(b"not a DuckDB file")
    from dq.data.source import open_database
    from dq.run.runner import validate_contract

    result = ContractResult("orders", str(path))
    connection = open_database(settings.db)
    try:  # the verdict before persisting (which fails on this file too: exit 3 through the CLI)
        validate_contract(load_contract(path), connection, settings, result)
    finally:
        connection.close()
    statuses = {c.name: (c.status, c.message) for c in result.checks}
    for name in (ANOMALY, CHANGE):
        assert statuses[name][0] is Status.error and "cannot open the results history" in statuses[name][1]


def test_one_read_returns_every_checks_own_window(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    record(path, *range(1, 31))
    found = history.baselines(path, "orders", DATASET, {ANOMALY: ("anomaly", 5), CHANGE: ("change_from_last", 1)})
    assert found == {ANOMALY: (26.0, 27.0, 28.0, 29.0, 30.0), CHANGE: (30.0,)}
    assert history.baselines(path, "orders", DATASET, {ANOMALY: ("change_from_last", 5)}) == {}  # another kind
    assert history.baselines(tmp_path / "none" / "h.duckdb", "orders", DATASET, {ANOMALY: ("anomaly", 5)}) == {}


@pytest.mark.parametrize("kind", ["anomalies", "change_from_last"])
def test_a_columns_where_narrows_its_history_checks_as_its_aggregates(tmp_path: Path, kind: str) -> None:
    """README: a column's `where` narrows every check of the column but type and presence. Its
    history check measured the whole column: 5 rows in scope moving from 0 to 1000 shifted the
    column's mean by 50, which a 5000% tolerance let through; over the rows in scope it is an
    infinite change from a history of 0 (a constant history: any change fails)."""
    entry = "{metric: mean, max_pct: 5000}" if kind == "change_from_last" else "{metric: mean, min_history: 2}"
    contract = tmp_path / "c.yml"
    contract.write_text(
        "contract: t\nversion: 1.0.0\ndataset: {table: t}\n"
        f"columns:\n  x:\n    where: 'id < 5'\n    mean: {{max: 1000}}\n    {kind}: [{entry}]\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    found = load_settings(db=db, results_dir=tmp_path / "results", history=tmp_path / "h.duckdb")
    observed = []
    for scoped in (0, 0, 1000):
        with duckdb.connect(str(db)) as writer:
            writer.execute(
                f"CREATE OR REPLACE TABLE t AS SELECT i AS id, CASE WHEN i < 5 THEN {scoped} ELSE 1 END AS x "
                "FROM range(100) r(i)"
            )
        [check] = [c for c in validate([contract], found).contracts[0].checks if c.name == f"x.{kind}.mean"]
        observed.append((check.observed, check.status))
    assert [value for value, _ in observed] == [0, 0, 1000]
    assert observed[-1][1] is Status.failed
