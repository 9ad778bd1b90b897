"""Benchmark dq against a hand-written SQL floor, a bare scan, and plain GX / plain Pandera.

One command:

    .venv/bin/python bench/run.py --rows 1000000 10000000 [--rows 100000000] [--repeat 5] [--out bench/out]
    .venv/bin/python bench/run.py --rows 1000 --repeat 1 --methods floor,scan,dq-auto      # a quick smoke run

What it does:

1. **Data.** For every N in `--rows` it generates the bundled `training_set` shape (14 columns, one
   row per customer) into `<out>/training_set_<N>.duckdb`, entirely inside DuckDB from `range(N)`
   and `hash(i, seed)` arithmetic: deterministic (the same N gives the same rows, except
   `snapshot_at`, which is the generation time so that the 36h freshness check passes). An
   existing file for N is reused if it is complete and less than 24h old (older, freshness would
   fail, so it is regenerated); generation time is reported separately and never part of a method.
2. **Contract.** `bench/contract.yml`: 15 rules (not_null x5, primary key, ranges, accepted
   values, a regex, row count, a mean, the label's true-rate, freshness, a null fraction), all
   passing on the generated data.
3. **Methods**, each a separate process timed as a whole (wall clock from spawn to exit,
   interpreter start-up and imports included), one warm-up run then the median of `--repeat` runs,
   the methods taking turns (paired runs, run for run: A B C A B C ...);
   peak RSS is the process's own `ru_maxrss` (via /usr/bin/time, else a tiny os.wait4 launcher;
   max over the measured runs):

   - `floor`: bench/floor.py, one hand-written SQL statement with every aggregate the contract
     needs, DuckDB defaults. Every ratio is relative to floor's median at the same N, same run.
   - `scan`: bench/floor.py --scan, `count(*)` + `bit_xor(hash(all 14 columns))`: reads and
     decodes every value once (what a full scan costs, without any check).
   - `dq-auto`, `dq-pandera`, `dq-gx`: `.venv/bin/dq validate bench/contract.yml --engine X
     --format json`, results in `<out>/dq-results/`. Its exit code is in the table: a run that did
     not exit 0 is not a valid benchmark, and is marked INVALID rather than hidden.
   - `dq-auto-keyed`: `dq-auto` on a copy of the table whose `customer_id` is a PRIMARY KEY that
     DuckDB enforces (`<out>/training_set_<N>_keyed.duckdb`): the key check passes by the
     database's constraint, with no distinct count.
   - `pandera-polars`, `pandera-polars-lazy`: bench/pandera_polars.py, Pandera on polars (the
     table read with `.pl()`, or `.pl(lazy=True)` and validated with data checks on).
   - `pointblank`: bench/pointblank_peer.py, pointblank on an Ibis DuckDB table (checks as SQL).
   - `floor-copy`: `floor` plus a plain `COPY (SELECT * FROM t) TO 'f.parquet'`; `dq-gate`: `dq gate
     bench/contract.yml ... -- true` (validate, write the fingerprinted snapshot, start the
     command), whose ratio is to `floor-copy`.
   - `plain-gx`, `plain-pandera`: bench/plain_gx.py / bench/plain_pandera.py, what a user writes
     without dq: load the table into pandas (`con.table(...).df()`), then validate the same rules
     with a GX 1.x suite on a pandas datasource / a `pandera.pandas.DataFrameSchema`. Each prints
     `load_s` and `validate_s`; the table shows the whole-process time and the load time.

4. Prints the machine and a Markdown table (method | rows | median wall s | ratio to floor | peak
   RSS MB | exit | load s | notes) and writes `<out>/results.md` and `<out>/results.json`
   (every run's time, RSS and exit code). The stdout/stderr of each method's last run is kept in
   `<out>/logs/`.

`--methods floor,scan,dq-auto` selects a subset; `--repeat-for pointblank=1` gives a slow method
fewer runs; `--timeout` bounds one run (seconds, killed and reported as exit -9). The harness
exits 1 if any measured run did not exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
from warm_bytecode import compile_dq

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
CONTRACT = BENCH / "contract.yml"
TABLE = "main.training_set"
GENERATOR_VERSION = "1"
MAX_REUSE_AGE = timedelta(hours=24)  # the contract's freshness bound is 36h
METHODS = (
    "floor",
    "scan",
    "dq-auto",
    "dq-auto-keyed",
    "dq-pandera",
    "dq-gx",
    "pandera-polars",
    "pandera-polars-lazy",
    "pointblank",
    "plain-gx",
    "plain-pandera",
    "floor-copy",
    "dq-gate",
)
# What each ratio is taken against, run for run: the gate writes a snapshot, so its floor copies too.
BASELINE = {"dq-gate": "floor-copy"}

# Columns, in the bundled training_set's order. Every value is a function of i and hash(i, seed):
#   ha -> country, age NULL (1%), age (18..90), churned (25%) from four 16-bit slices
#   hb -> income: mean of two uniforms on [0, 100000) (triangular, mean 50k, always >= 0)
#   hc -> plan, signup time (30 days .. ~4 years before the snapshot)
#   hd -> n_orders (0..5), first order (NULL without orders, within 30 days after signup),
#         order amount, events
GENERATE_SQL = """
CREATE TABLE training_set AS
WITH h AS (
    SELECT i, hash(i, 1) AS ha, hash(i, 2) AS hb, hash(i, 3) AS hc, hash(i, 4) AS hd
    FROM range({rows}) r(i)
), f AS (
    SELECT
        i,
        ha, hb, hc, hd,
        (hd & 65535) % 6 AS orders,
        TIMESTAMP '{snapshot}' - INTERVAL 30 DAY - to_seconds(((hc >> 16) % 126144000)::BIGINT) AS signup
    FROM h
)
SELECT
    (i + 1)::BIGINT                                                       AS customer_id,
    ['DE', 'FR', 'US', 'GB', 'ES'][((ha & 65535) % 5)::BIGINT + 1]         AS country,
    CASE WHEN ((ha >> 16) & 65535) % 100 = 0 THEN NULL
         ELSE 18 + ((ha >> 32) & 65535) % 73 END::INTEGER                  AS age,
    (((hb & 4294967295) % 10000000) + ((hb >> 32) % 10000000)) / 200.0    AS income,
    'user' || (i + 1) || '@example.com'                                   AS email,
    ['basic', 'standard', 'premium', 'family'][((hc & 65535) % 4)::BIGINT + 1] AS plan_id,
    [9.99, 14.99, 24.99, 29.99][((hc & 65535) % 4)::BIGINT + 1]::DOUBLE   AS monthly_price,
    signup                                                                AS signed_up_at,
    CASE WHEN orders = 0 THEN NULL
         ELSE signup + to_seconds((((hd >> 16) & 16777215) % 2592000)::BIGINT) END AS first_order_at,
    orders::BIGINT                                                        AS n_orders,
    orders * (((hd >> 40) & 65535) % 20000) / 100.0                       AS total_spend,
    ((hd >> 56) % 200)::BIGINT                                            AS n_events_30d,
    TIMESTAMP '{snapshot}'                                                AS snapshot_at,
    ((ha >> 48) % 4) = 0                                                  AS churned
FROM f
ORDER BY i
"""


# ---------------------------------------------------------------------------------------------- data


def db_path(out: Path, rows: int) -> Path:
    return out / f"training_set_{rows}.duckdb"


def _reusable(path: Path, rows: int) -> bool:
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            meta = con.execute("SELECT generator, n_rows, snapshot_at FROM bench_meta").fetchone()
    except duckdb.Error:
        return False
    if meta is None or meta[0] != GENERATOR_VERSION or meta[1] != rows:
        return False
    return datetime.now(UTC).replace(tzinfo=None) - meta[2] < MAX_REUSE_AGE


def ensure_data(out: Path, rows: int) -> dict[str, Any]:
    """Generate (or reuse) the DuckDB file for `rows`; returns {path, reused, generate_s, size_mb}."""
    out.mkdir(parents=True, exist_ok=True)
    path = db_path(out, rows)
    reused = _reusable(path, rows)
    generate_s = None
    if not reused:
        tmp = path.with_suffix(".tmp.duckdb")
        for stale in (tmp, Path(f"{tmp}.wal")):
            stale.unlink(missing_ok=True)
        snapshot = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        start = time.perf_counter()
        with duckdb.connect(str(tmp)) as con:
            con.execute("SET enable_progress_bar = false")
            con.execute(GENERATE_SQL.format(rows=rows, snapshot=snapshot.isoformat(sep=" ")))
            con.execute(
                "CREATE TABLE bench_meta AS SELECT ? AS generator, ?::BIGINT AS n_rows, ?::TIMESTAMP AS snapshot_at",
                [GENERATOR_VERSION, rows, snapshot],
            )
            con.execute("CHECKPOINT")
        generate_s = time.perf_counter() - start
        os.replace(tmp, path)  # atomically: a half-written file is never reused
    return {
        "path": str(path),
        "reused": reused,
        "generate_s": None if generate_s is None else round(generate_s, 3),
        "size_mb": round(path.stat().st_size / 2**20, 1),
    }


def keyed_path(out: Path, rows: int) -> Path:
    return out / f"training_set_{rows}_keyed.duckdb"


def ensure_keyed_data(out: Path, rows: int) -> dict[str, Any]:
    """The same rows in a table with `PRIMARY KEY (customer_id)`, which DuckDB enforces (as `dq dbt
    export` has dbt create it): rebuilt whenever the unkeyed file for `rows` is newer."""
    source, path = db_path(out, rows), keyed_path(out, rows)
    reused = path.exists() and path.stat().st_mtime >= source.stat().st_mtime
    if not reused:
        tmp = path.with_suffix(".tmp.duckdb")
        for stale in (tmp, Path(f"{tmp}.wal")):
            stale.unlink(missing_ok=True)
        with duckdb.connect(str(tmp)) as con:
            con.execute("SET enable_progress_bar = false")
            con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
            con.execute("CREATE TABLE training_set AS SELECT * FROM src.training_set")
            con.execute("ALTER TABLE training_set ADD PRIMARY KEY (customer_id)")
            con.execute("CREATE TABLE bench_meta AS SELECT * FROM src.bench_meta")
            con.execute("DETACH src")
            con.execute("CHECKPOINT")
        os.replace(tmp, path)
    return {"path": str(path), "reused": reused, "size_mb": round(path.stat().st_size / 2**20, 1)}


# ------------------------------------------------------------------------------------------ measuring


@dataclass
class Run:
    wall_s: float
    max_rss_mb: float
    exit_code: int
    payload: dict[str, Any] | None = None  # the method's own JSON output, when it printed one


@dataclass
class Result:
    method: str
    rows: int
    command: list[str]
    warmup: Run | None = None
    runs: list[Run] = field(default_factory=list)
    median_s: float | None = None
    ratio_to_floor: float | None = None
    peak_rss_mb: float | None = None
    exit_codes: list[int] = field(default_factory=list)
    load_s: float | None = None
    valid: bool = False
    warmup_only: bool = False  # the warm-up failed, so it was not repeated
    baseline: str | None = None  # the method ratio_to_floor is taken against, run for run
    notes: str = ""


# Peak RSS must be the measured process's own. Linux carries the forking process's RSS high-water
# mark into a forked-then-exec'd child's ru_maxrss, so the harness (which holds DuckDB and, after
# generating data, a lot of memory) must not be the direct parent: a small launcher forks the
# child and reports the child's ru_maxrss from wait4. /usr/bin/time is that launcher when
# installed (a ~2 MB C program: `-f %M` is the child's ru_maxrss in KiB); otherwise this tiny
# Python launcher (~10 MB baseline) does the same with os.wait4.
TIME = Path("/usr/bin/time")
PY_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"0 {usage.ru_maxrss}\\n")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def measure(cmd: list[str], log_stem: Path, timeout: float | None) -> Run:
    """Run `cmd` in a separate process: wall clock from spawn to exit, and the process's peak RSS."""
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    out_path, err_path = log_stem.with_suffix(".stdout"), log_stem.with_suffix(".stderr")
    rss_path = log_stem.with_suffix(".rss")
    rss_path.unlink(missing_ok=True)
    if TIME.exists():
        launcher = [str(TIME), "-q", "-f", "%e %M", "-o", str(rss_path)]
    else:
        launcher = [sys.executable, "-c", PY_LAUNCHER, str(rss_path)]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*launcher, *cmd], stdout=out, stderr=err, env=env, cwd=ROOT)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            code = -9
        wall = time.perf_counter() - start
    rss_kib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        rss_kib = float(rss_path.read_text().split()[-1])
    if code >= 128:  # both launchers report a signal as 128 + signal number
        code = -(code - 128)
    return Run(
        wall_s=round(wall, 4),
        max_rss_mb=round(rss_kib / 1024, 1),
        exit_code=code,
        payload=_payload(out_path.read_text(encoding="utf-8", errors="replace")),
    )


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """On --timeout: kill the launcher's child (the measured process), then the launcher."""
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        for child in children:
            _kill(int(child))
    _kill(proc.pid)
    proc.wait()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _payload(stdout: str) -> dict[str, Any] | None:
    """dq prints one JSON document; the bench scripts print a JSON line last."""
    text = stdout.strip()
    for candidate in (text, text.rsplit("\n", 1)[-1]):
        try:
            value = json.loads(candidate)
        except (ValueError, IndexError):
            continue
        if isinstance(value, dict):
            return value
    return None


def command(method: str, db: Path, out: Path) -> list[str]:
    py = sys.executable
    if method == "floor":
        return [py, str(BENCH / "floor.py"), "--db", str(db)]
    if method == "floor-copy":
        return [py, str(BENCH / "floor.py"), "--db", str(db), "--copy-to", str(out / "floor-copy.parquet")]
    if method == "dq-gate":
        return [
            str(BIN / "dq"),
            "gate",
            str(CONTRACT),
            "--db",
            str(db),
            "--results-dir",
            str(out / "dq-results"),
            "--snapshot-dir",
            str(out / "gate-snapshot"),
            "--format",
            "json",
            "--",
            "true",  # the training command: started once the snapshot is published
        ]
    if method == "dq-auto-keyed":
        return command("dq-auto", keyed_path(out, int(db.stem.split("_")[-1])), out)
    if method in ("pandera-polars", "pandera-polars-lazy"):
        lazy = ["--lazy"] if method.endswith("-lazy") else []
        return [py, str(BENCH / "pandera_polars.py"), "--db", str(db), *lazy]
    if method == "pointblank":
        return [py, str(BENCH / "pointblank_peer.py"), "--db", str(db)]
    if method == "scan":
        return [py, str(BENCH / "floor.py"), "--db", str(db), "--scan"]
    if method.startswith("dq-"):
        engine = method.removeprefix("dq-")
        return [
            str(BIN / "dq"),
            "validate",
            str(CONTRACT),
            "--db",
            str(db),
            "--engine",
            engine,
            "--results-dir",
            str(out / "dq-results"),
            "--format",
            "json",
        ]
    if method in ("plain-gx", "plain-pandera"):
        script = BENCH / f"{method.replace('-', '_')}.py"
        return [py, str(script), "--db", str(db)]
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def bench_rows(
    methods: list[str], rows: int, db: Path, out: Path, repeats: dict[str, int], timeout: float | None
) -> list[Result]:
    """Every method at one size, run for run: one warm-up each, then rounds in which each method
    runs once in turn (A B C A B C ...), so that a drift of the machine's speed hits all alike; a
    ratio is the median of the per-round ratios to its baseline (BASELINE, else `floor`)."""
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results = {m: Result(method=m, rows=rows, command=command(m, db, out)) for m in methods}
    stems = {m: logs / f"{m}_{rows}" for m in methods}
    for method, result in results.items():
        result.warmup = measure(result.command, stems[method], timeout)
        if result.warmup.exit_code != 0:
            # Timing a failing run would measure the failure: report the warm-up alone, marked INVALID.
            result.runs = [result.warmup]
            result.warmup_only = True
    for round_ in range(max(repeats[m] for m in methods)):
        for method, result in results.items():
            if not result.warmup_only and round_ < repeats[method]:
                result.runs.append(measure(result.command, stems[method], timeout))
    for result in results.values():
        _summarise(result)
    for result in results.values():
        base = results.get(BASELINE.get(result.method, "floor"))
        if base is not None and base.valid and result.valid:
            pairs = list(zip(result.runs, base.runs, strict=False))
            result.ratio_to_floor = round(statistics.median(a.wall_s / b.wall_s for a, b in pairs), 2)
            result.baseline = base.method
    return list(results.values())


def _summarise(result: Result) -> None:
    result.exit_codes = [r.exit_code for r in result.runs]
    result.valid = all(code == 0 for code in result.exit_codes)
    result.median_s = round(statistics.median(r.wall_s for r in result.runs), 3)
    result.peak_rss_mb = max(r.max_rss_mb for r in result.runs)
    loads = [r.payload["load_s"] for r in result.runs if r.payload and "load_s" in r.payload]
    result.load_s = round(statistics.median(loads), 3) if loads else None
    result.notes = _notes(result)


def _notes(result: Result) -> str:
    notes: list[str] = []
    walls = [r.wall_s for r in result.runs]
    if len(walls) > 1:
        notes.append(f"runs {min(walls):.2f}-{max(walls):.2f}s")
    if not result.valid:
        first_bad = next(r for r in result.runs if r.exit_code != 0)
        reason = "warm-up failed, not repeated" if result.warmup_only else "a run failed"
        log = f"logs/{result.method}_{result.rows}.*"
        notes.append(f"INVALID: exit {first_bad.exit_code} ({reason}; see {log})")
    last = result.runs[-1].payload or {}

    def med(key: str) -> float:  # the median over the measured runs of a number the method printed
        values = [r.payload[key] for r in result.runs if r.payload and isinstance(r.payload.get(key), int | float)]
        return statistics.median(values) if values else 0.0

    if result.method.startswith("dq-") and last:
        contracts = last.get("contracts") or []
        engines: dict[str, int] = {}
        for contract in contracts:
            for check in contract.get("checks") or []:
                engines[str(check.get("engine"))] = engines.get(str(check.get("engine")), 0) + 1
        not_passed = [
            c.get("name") for contract in contracts for c in contract.get("checks") or [] if c.get("status") != "passed"
        ]
        notes.append(f"dq status {last.get('status')}")
        durations = [
            sum(c.get("duration_s") or 0 for c in (r.payload or {}).get("contracts") or []) for r in result.runs
        ]
        if any(durations):
            notes.append(f"dq-reported contract duration {statistics.median(durations):.2f}s")
        if engines:
            notes.append("checks by engine: " + ", ".join(f"{k} {v}" for k, v in sorted(engines.items())))
        if not_passed:
            notes.append("not passed: " + ", ".join(map(str, not_passed)))
    elif last:
        if "validate_s" in last:
            notes.append(f"validate {med('validate_s'):.2f}s, import {med('import_s'):.2f}s")
        if "query_s" in last:
            notes.append(f"query {med('query_s'):.3f}s")
        if last.get("failures"):
            notes.append("failed: " + ", ".join(map(str, last["failures"])))
    return "; ".join(notes)


# ------------------------------------------------------------------------------------------ reporting


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 2**20, 1)
    versions = {}
    dists = ("duckdb", "pandera", "great-expectations", "ibis-framework", "pandas", "pyarrow", "polars", "pointblank")
    dists += ("dq",)
    for dist in dists:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": ram_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def markdown(results: list[Result], info: dict[str, Any], data: dict[int, dict[str, Any]], repeat: int) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    lines = [
        "# dq benchmark",
        "",
        f"Machine: {info['cpu_count']} CPUs ({info['cpu_model']}), {info['ram_gb']} GB RAM, "
        f"{info['platform']}, Python {info['python']}.",
        f"Versions: {versions}. {str(info.get('bytecode', '')).capitalize()}.",
        f"Each method is a separate process, timed spawn-to-exit: median of {repeat} runs after one warm-up, "
        "the methods taking turns run for run; peak RSS is the process's max RSS over those runs. A ratio is "
        "the median of the per-round ratios to `floor` (to `floor-copy` for `dq-gate`) at the same row count.",
        "",
        "Data: "
        + "; ".join(
            f"{rows:,} rows: {d['size_mb']} MB, "
            + ("reused" if d["reused"] else f"generated in {d['generate_s']:.2f}s")
            for rows, d in data.items()
        ),
        "",
        "| method | rows | median wall s | x floor (paired) | peak RSS MB | exit | load s | notes |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        ratio = "n/a" if r.ratio_to_floor is None else f"{r.ratio_to_floor:.2f}x"
        if r.baseline not in (None, "floor"):
            ratio += f" of {r.baseline}"
        exits = ",".join(map(str, sorted(set(r.exit_codes))))
        load = "" if r.load_s is None else f"{r.load_s:.2f}"
        lines.append(
            f"| {r.method} | {r.rows:,} | {r.median_s:.2f} | {ratio} | {r.peak_rss_mb:.0f} | "
            f"{exits if r.valid else f'**{exits} INVALID**'} | {load} | {r.notes} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark dq validate against a SQL floor, a scan, plain GX and plain Pandera.",
        epilog="See the module docstring (bench/run.py) for what is measured and how.",
    )
    parser.add_argument("--rows", type=int, nargs="+", action="extend", help="row counts (repeatable)")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs per method (default 5)")
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="output dir (default bench/out)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--timeout", type=float, default=None, help="kill one run after this many seconds")
    parser.add_argument(
        "--repeat-for",
        default="",
        help="fewer runs for slow methods, e.g. pointblank=1,plain-gx=2 (they join the first rounds only)",
    )
    args = parser.parse_args(argv)
    rows_list = args.rows or [1_000_000]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods or args.repeat < 1 or any(n < 1 for n in rows_list):
        parser.error(f"bad --methods {unknown or methods}, --repeat or --rows; methods: {', '.join(METHODS)}")
    repeats = dict.fromkeys(methods, args.repeat)
    for item in filter(None, (part.strip() for part in args.repeat_for.split(","))):
        name, _, count = item.partition("=")
        if name not in repeats or not count.isdigit() or int(count) < 1:
            parser.error(f"bad --repeat-for item {item!r}")
        repeats[name] = min(int(count), args.repeat)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    started = datetime.now(UTC).isoformat(timespec="seconds")
    info = machine()
    info["bytecode"] = compile_dq()  # dq starts as installed, like its peers (bench/warm_bytecode.py)
    print(f"machine: {json.dumps(info)}", flush=True)
    data: dict[int, dict[str, Any]] = {}
    results: list[Result] = []
    for rows in rows_list:
        data[rows] = ensure_data(out, rows)
        d = data[rows]
        how = "reused" if d["reused"] else f"generated in {d['generate_s']:.2f}s"
        print(f"data {rows:,} rows: {d['path']} ({d['size_mb']} MB, {how})", flush=True)
        if "dq-auto-keyed" in methods:
            keyed = ensure_keyed_data(out, rows)
            print(f"  with PRIMARY KEY (customer_id): {keyed['path']} ({keyed['size_mb']} MB)", flush=True)
        found = bench_rows(methods, rows, Path(d["path"]), out, repeats, args.timeout)
        results.extend(found)
        for result in found:
            ratio = "" if result.ratio_to_floor is None else f"{result.ratio_to_floor:.2f}x {result.baseline}"
            print(
                f"  {result.method:<20} median {result.median_s:8.3f}s  {ratio:<18} rss {result.peak_rss_mb:7.0f} MB  "
                f"exit {result.exit_codes}  {result.notes}",
                flush=True,
            )

    table = markdown(results, info, data, args.repeat)
    (out / "results.md").write_text(table, encoding="utf-8")
    (out / "results.json").write_text(
        json.dumps(
            {
                "machine": info,
                "started": started,
                "repeat": args.repeat,
                "contract": str(CONTRACT),
                "data": data,
                "results": [asdict(r) for r in results],
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    print()
    print(table)
    print(f"written: {out / 'results.md'}, {out / 'results.json'}")
    return 0 if all(r.valid for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
