"""Benchmark the training-data rules: `dq profile` and the drift checks at N rows, against a plain
`SELECT count(*)` of the same table.

    .venv/bin/python bench/bench_ml.py                      # 10M rows (data shared with bench/run.py)
    .venv/bin/python bench/bench_ml.py --rows 1000000

Data: bench/run.py's generator (`ensure_data`: the bundled training_set's shape, 14 columns,
deterministic, reused from `<out>/training_set_<N>.duckdb` if under 24h old). One run each:

* in-process (DuckDB time only, a fresh read-only connection each): `SELECT count(*)`; a scan
  that reads the two profiled columns; `build_profile` of income + country, and of all 14
  columns; the five drift statistics (income PSI and KS, country PSI, chi2, L-inf); the label
  and leakage statistics (class shares, |corr| of every numeric feature, lambda of every
  categorical one, including the 10M-distinct `email`).
* whole processes (interpreter start and imports included), peak RSS from `os.wait4`'s
  `ru_maxrss`: `python -c` count(*), `dq profile --column income --column country`, and
  `dq validate` of a contract holding only the drift rules.

Writes `<out>/ml/results.json` and `<out>/ml/results.md`; contracts and the profile go to
`<out>/ml/` too (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from run import ensure_data  # noqa: E402  (bench/run.py's generator: same data as the main benchmark)

from dq.checks.compile import compile_contract  # noqa: E402
from dq.checks.spec import STATISTIC_KINDS  # noqa: E402
from dq.contract.model import load_contract  # noqa: E402
from dq.data.source import resolve_table  # noqa: E402
from dq.ml.profile import build_profile, write_profile  # noqa: E402
from dq.ml.stats import measure  # noqa: E402

DQ = str(Path(sys.executable).parent / "dq")
PROFILED = ("income", "country")

BASE = """contract: bench_ml
version: 1.0.0
dataset: {{table: main.training_set}}
primary_key: [customer_id]
columns:
  customer_id: {{}}
  income: {{}}
  country: {{}}
  churned: {{}}
{rules}"""
DRIFT = """drift:
  reference: {profile}
  columns:
    income: {{psi_max: 0.2, ks_max: 0.1}}
    country: {{psi_max: 0.2, chi2_p_min: 0.001, linf_max: 0.05}}
"""
LABEL_LEAKAGE = """label: {column: churned, class_fraction: {true: {min: 0.05, max: 0.6}}}
leakage: {max_abs_correlation_with_label: 0.95}
"""


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def measure_all(specs: list[Any], table: Any) -> list[Any]:
    """As the Pandera engine does: one cache per run, so a column's drift rules share one pass."""
    cache: dict[Any, Any] = {}
    return [measure(spec, table, cache) for spec in specs]


def in_process(db: Path, contract: Path, drift_contract: Path, ml_contract: Path) -> dict[str, float]:
    """DuckDB time of each step, one run, a fresh read-only connection per step."""
    loaded = load_contract(contract)
    out: dict[str, float] = {}

    def on_table(step: Callable[[Any, Any], Any]) -> float:
        with duckdb.connect(str(db), read_only=True) as con:
            table = resolve_table(con, db, "main", "training_set")
            return timed(lambda: step(con, table))[0]

    out["count(*)"] = on_table(lambda con, t: con.execute(f"SELECT count(*) FROM {t.relation}").fetchall())
    # count(col) and min/max can be answered from column statistics; hashing forces reading every value
    out["scan income, country (hash)"] = on_table(
        lambda con, t: con.execute(f"SELECT sum(hash(income)), sum(hash(country)) FROM {t.relation}").fetchall()
    )
    out["profile income, country"] = on_table(lambda con, t: build_profile(con, t, loaded, PROFILED))
    out["profile all 14 columns"] = on_table(lambda con, t: build_profile(con, t, loaded))
    for label, path in (("5 drift statistics", drift_contract), ("label + leakage statistics", ml_contract)):
        specs = [s for s in compile_contract(load_contract(path)) if s.kind in STATISTIC_KINDS]

        def statistics(con: Any, t: Any, specs: list[Any] = specs) -> list[Any]:
            return measure_all(specs, t)

        out[label] = on_table(statistics)
    return out


# A tiny launcher measures the process: a child forked from this (large) benchmark process would
# count this process's pages in its own ru_maxrss until it execs.
LAUNCHER = """
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"wall_s": time.perf_counter() - start, "rss_kib": usage.ru_maxrss,
                  "exit": os.waitstatus_to_exitcode(status)}), file=sys.stderr)
"""


def process(argv: list[str]) -> dict[str, Any]:
    """Wall time and peak RSS (ru_maxrss, KiB on Linux) of one process, spawned by a launcher."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], cwd=ROOT, capture_output=True, text=True)
    measured = json.loads(done.stderr.strip().splitlines()[-1])
    return {
        "wall_s": round(measured["wall_s"], 3),
        "peak_rss_mb": round(measured["rss_kib"] / 1024, 1),
        "exit": measured["exit"],
        "tail": done.stdout.strip().splitlines()[-1:] or [""],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    args = parser.parse_args(argv)

    data = ensure_data(args.out, args.rows)
    db = Path(data["path"])
    work = args.out / "ml"
    work.mkdir(parents=True, exist_ok=True)
    profile_path = work / f"profile_{args.rows}.json"
    contract = work / "profile.yml"
    drift_contract, ml_contract = work / "drift.yml", work / "label_leakage.yml"
    contract.write_text(BASE.format(rules=""), encoding="utf-8")
    drift_contract.write_text(BASE.format(rules=DRIFT.format(profile=profile_path)), encoding="utf-8")
    ml_contract.write_text(BASE.format(rules=LABEL_LEAKAGE), encoding="utf-8")
    with duckdb.connect(str(db), read_only=True) as con:  # the reference the drift rules compare against
        write_profile(
            build_profile(con, resolve_table(con, db, "main", "training_set"), load_contract(contract), PROFILED),
            profile_path,
        )

    steps = in_process(db, contract, drift_contract, ml_contract)
    count_s, scan_s = steps["count(*)"], steps["scan income, country (hash)"]
    processes = {
        "python: count(*)": process(
            [
                sys.executable,
                "-c",
                f"import duckdb; duckdb.connect({str(db)!r}, read_only=True)"
                ".execute('SELECT count(*) FROM main.training_set').fetchall()",
            ]
        ),
        "dq profile (income, country)": process(
            [
                DQ,
                "profile",
                str(contract),
                "--db",
                str(db),
                "--column",
                "income",
                "--column",
                "country",
                "--output",
                str(work / "cli_profile.json"),
            ]
        ),
        "dq validate (drift rules)": process(
            [
                DQ,
                "validate",
                str(drift_contract),
                "--db",
                str(db),
                "--results-dir",
                str(work / "results"),
                "--format",
                "json",
                "--output",
                str(work / "drift_result.json"),
            ]
        ),
    }
    base_wall = processes["python: count(*)"]["wall_s"]
    lines = [
        f"rows: {args.rows:,}; machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}; one run each",
        "",
        "| in-process step (DuckDB) | seconds | x count(*) | x hash scan of income, country |",
        "|---|---|---|---|",
        *[f"| {name} | {s:.3f} | {s / count_s:,.0f} | {s / scan_s:.1f} |" for name, s in steps.items()],
        "",
        "| whole process | wall s | x count(*) process | peak RSS MB | exit |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {p['wall_s']:.2f} | {p['wall_s'] / base_wall:.1f} | {p['peak_rss_mb']:.0f} | {p['exit']} |"
            for name, p in processes.items()
        ],
    ]
    report = "\n".join(lines)
    print(report)
    (work / "results.md").write_text(report + "\n", encoding="utf-8")
    (work / "results.json").write_text(
        json.dumps({"rows": args.rows, "data": data, "in_process_s": steps, "processes": processes}, indent=2),
        encoding="utf-8",
    )
    failed = [name for name, p in processes.items() if name.startswith("dq") and p["exit"] != 0]
    if failed:
        print(f"not a valid run: {failed} did not exit 0", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
