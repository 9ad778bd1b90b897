"""One session time zone (UTC) for every engine and for the snapshot, whatever the process's TZ.

DuckDB takes a connection's default time zone from the process (TZ). A view that casts TIMESTAMPTZ
to TIMESTAMP, or compares a TIMESTAMP with a TIMESTAMPTZ, then gives other rows in Tokyo than in
UTC: before the fix the Pandera engine's Ibis cursor ran in UTC while the batch engine, GX and the
snapshot ran in the process zone, so the gate checked one set of rows and training read another.

Every case runs dq in a subprocess with TZ=Asia/Tokyo (UTC+9) and TZ=America/Los_Angeles (UTC-8
or -7): DuckDB reads the zone once per process, so monkeypatching TZ in-process proves nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, MakeDb

ZONES = ("Asia/Tokyo", "America/Los_Angeles")
ENGINES = ("auto", "pandera", "gx")

# Validate each contract with each engine; print {engine: {contract: {check: [status, observed]}}}.
VALIDATE = """
import json, sys
from dq.config import load_settings
from dq.run.runner import validate
db, results, engines, *contracts = sys.argv[1:]
out = {}
for engine in engines.split(","):
    run = validate(contracts, load_settings(db=db, results_dir=results, engine=engine))
    out[engine] = {
        c.contract: {"error": c.error, **{k.name: [k.status.value, k.observed] for k in c.checks}}
        for c in run.contracts
    }
print(json.dumps(out, default=str))
"""


def run_in_zone(zone: str, *args: str, code: str = VALIDATE) -> Any:
    """Run `code` with `args` in a fresh interpreter whose process time zone is `zone`."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, "TZ": zone},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


OPEN = """
import json, sys
from dq.data.source import open_database
con = open_database(sys.argv[1])
cursor = con.cursor()
print(json.dumps({
    "connection": con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0],
    "cursor": cursor.execute("SELECT current_setting('TimeZone')").fetchall()[0][0],
    "cast": cursor.execute("SELECT (TIMESTAMPTZ '2024-01-01 00:00:00+00')::TIMESTAMP::VARCHAR").fetchall()[0][0],
}))
"""


@pytest.mark.parametrize("zone", ZONES)
def test_every_connection_dq_opens_is_in_utc(make_db: MakeDb, zone: str) -> None:
    db = make_db("CREATE TABLE t AS SELECT 1 AS x")
    seen = run_in_zone(zone, str(db), code=OPEN)
    assert seen == {"connection": "UTC", "cursor": "UTC", "cast": "2024-01-01 00:00:00"}


# --- a view whose rows depend on the session time zone ------------------------------------------

# event_at is a TIMESTAMPTZ cast to TIMESTAMP in the view: in UTC it is one hour before label_at;
# in Tokyo the cast moves it 9 hours later (after the label), in Los Angeles 8 hours earlier.
NOW = datetime.now(UTC).replace(microsecond=0)
ZONED_VIEW = (
    "CREATE TABLE src (id INTEGER, event_tz TIMESTAMPTZ, label_at TIMESTAMP)",
    *(
        f"INSERT INTO src VALUES ({i}, TIMESTAMPTZ '{(NOW - timedelta(hours=1 + i)).isoformat()}', "
        f"TIMESTAMP '{(NOW - timedelta(hours=i)).replace(tzinfo=None).isoformat()}')"
        for i in range(1, 6)
    ),
    "CREATE VIEW zoned AS SELECT id, CAST(event_tz AS TIMESTAMP) AS event_at, label_at FROM src",
)
ZONED_CONTRACT = """contract: zoned
version: 1.0.0
dataset: {table: main.zoned}
freshness: {column: event_at, max_age: 3h}
columns:
  id: {type: integer}
  event_at: {type: timestamp}
  label_at: {type: timestamp}
leakage:
  before: {column: event_at, label_time: label_at}
checks:
  - name: event_one_hour_before_label
    sql: select * from {dataset} where event_at <> label_at - INTERVAL 1 HOUR
"""


@pytest.mark.parametrize("zone", ZONES)
def test_every_engine_reads_a_zone_dependent_view_in_utc(
    make_db: MakeDb, write_contract: Callable[[str], Path], tmp_path: Path, zone: str
) -> None:
    db = make_db(*ZONED_VIEW)
    found = run_in_zone(
        zone, str(db), str(tmp_path / "results"), ",".join(ENGINES), str(write_contract(ZONED_CONTRACT))
    )
    elapsed_hours = (datetime.now(UTC) - NOW).total_seconds() / 3600  # NOW is fixed when the module loads
    for engine in ENGINES:
        checks = found[engine]["zoned"]
        assert checks["error"] is None, (engine, checks)
        verdicts = {name: found[0] for name, found in checks.items() if name != "error"}
        assert set(verdicts.values()) == {"passed"}, (engine, zone, verdicts)
        age = checks["event_at.freshness"][1]
        # UTC: the newest event was 2 hours old at NOW (read in Tokyo it would be 11 h, in Los
        # Angeles -6 h), plus the time since NOW: a long suite on a loaded machine runs this late
        assert 2 <= age < 2.02 + elapsed_hours, (engine, zone, age, elapsed_hours)


PROBE = """
import json, os, sys
import dq
rows = dq.load_validated(as_="arrow").to_pylist()
with open(sys.argv[1], "w") as f:
    json.dump([[r["id"], str(r["event_at"]), str(r["label_at"])] for r in rows], f)
os._exit(0)  # skip native teardown, as dq's CLI does
"""


@pytest.mark.parametrize("engine", ["pandera", "auto"])
@pytest.mark.parametrize("zone", ZONES)
def test_the_snapshot_holds_the_rows_checked_in_utc(
    make_db: MakeDb, write_contract: Callable[[str], Path], tmp_path: Path, zone: str, engine: str
) -> None:
    """Training reads the same event times `leakage.before` passed, not the process zone's."""
    db = make_db(*ZONED_VIEW)
    contract = write_contract(ZONED_CONTRACT)
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")
    seen = tmp_path / "seen.json"
    gated = subprocess.run(
        [
            str(Path(sys.executable).parent / "dq"),
            "gate",
            str(contract),
            "--db",
            str(db),
            "--engine",
            engine,
            "--results-dir",
            str(tmp_path / "results"),
            "--snapshot-dir",
            str(tmp_path / "snaps"),
            "--",
            sys.executable,
            str(tmp_path / "probe.py"),
            str(seen),
        ],
        cwd=ROOT,
        env={**os.environ, "TZ": zone},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert gated.returncode == 0, gated.stdout + gated.stderr
    expected = [
        [
            i,
            str((NOW - timedelta(hours=1 + i)).replace(tzinfo=None)),
            str((NOW - timedelta(hours=i)).replace(tzinfo=None)),
        ]
        for i in range(1, 6)
    ]
    assert sorted(json.loads(seen.read_text())) == expected


# --- freshness on every temporal type, every engine, every zone ---------------------------------

TEMPORAL = {
    "d": "DATE",
    "ts": "TIMESTAMP",
    "ts_ns": "TIMESTAMP_NS",
    "ts_ms": "TIMESTAMP_MS",
    "ts_s": "TIMESTAMP_S",
    "ts_tz": "TIMESTAMPTZ",
}
FRESHNESS_CONTRACT = """contract: {name}
version: 1.0.0
dataset: {{table: main.times}}
freshness: {{column: {column}, max_age: {seconds}s}}
columns:
  {column}: {{}}
"""


def _times(now: datetime) -> tuple[list[str], dict[str, float]]:
    """A one-row table whose newest values are known instants; each column's age in seconds.

    The timestamps are two hours old. The DATE is yesterday (UTC), whose age counts from its
    first instant, 00:00 UTC: the rule that can never call a stale day fresh.
    """
    newest = now - timedelta(hours=2)
    yesterday = (now - timedelta(days=1)).date()
    naive = newest.replace(tzinfo=None).isoformat(sep=" ")
    values = {
        "d": f"DATE '{yesterday}'",
        "ts": f"TIMESTAMP '{naive}'",
        "ts_ns": f"TIMESTAMP_NS '{naive}'",
        "ts_ms": f"TIMESTAMP_MS '{naive}'",
        "ts_s": f"TIMESTAMP_S '{newest.replace(microsecond=0, tzinfo=None).isoformat(sep=' ')}'",
        "ts_tz": f"TIMESTAMPTZ '{newest.isoformat(sep=' ')}'",
    }
    columns = ", ".join(f"{c} {t}" for c, t in TEMPORAL.items())
    select = ", ".join(values[c] for c in TEMPORAL)
    midnight = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=UTC)
    ages = {c: 2 * 3600.0 for c in TEMPORAL} | {"d": (now - midnight).total_seconds()}
    ages["ts_s"] = (now - newest.replace(microsecond=0)).total_seconds()
    return [f"CREATE TABLE times ({columns})", f"INSERT INTO times SELECT {select}"], ages


@pytest.mark.parametrize("zone", ZONES)
def test_freshness_is_judged_alike_on_every_temporal_type_engine_and_zone(
    make_db: MakeDb, write_contract: Callable[[str], Path], tmp_path: Path, zone: str
) -> None:
    """Ten minutes over max_age is stale and ten minutes under is fresh, on every engine.

    Before the fix GX compared a DATE's day with the cut-off's day, so a day that began more than
    max_age ago (its rows up to 24 hours staler) still passed.
    """
    statements, ages = _times(datetime.now(UTC))
    db = make_db(*statements)
    contracts, expected = [], {}
    for column in TEMPORAL:
        for verdict, margin in (("stale", -600), ("fresh", 600)):
            name = f"{column}_{verdict}"
            text = FRESHNESS_CONTRACT.format(name=name, column=column, seconds=int(ages[column] + margin))
            contracts.append(str(write_contract(text)))
            expected[name] = "failed" if verdict == "stale" else "passed"
    found = run_in_zone(zone, str(db), str(tmp_path / "results"), ",".join(ENGINES), *contracts)
    for engine in ENGINES:
        got = {}
        for name, checks in found[engine].items():
            assert checks["error"] is None, (engine, name, checks)
            ((status, observed),) = [v for k, v in checks.items() if k.endswith(".freshness")]
            got[name] = status
            column = name.rsplit("_", 1)[0]
            assert observed == pytest.approx(ages[column] / 3600, abs=0.1), (engine, name, observed)
        assert got == expected, (engine, zone)
