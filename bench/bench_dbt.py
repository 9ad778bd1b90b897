"""`dbt build` with and without dq's validation, on the 1M-customer data, measured in one run.

    .venv/bin/python bench/bench_dbt.py [--customers 1000000] [--repeat 3] [--out bench/out/dbt]

Four variants of the bundled dbt_project (each a copy under --out, same DuckDB file), each run as
its own process (wall clock, dbt's start-up included). The variants take turns, round by round
(one warm-up round, then --repeat rounds), and each variant's ratio is the median of its per-round
ratios to the baseline of the same round: on a shared machine whose load drifts, only paired runs
keep the ratio meaningful.

- `dbt`: plain `dbt build` of the project without dq's artefacts (the baseline).
- `dbt+export`: `dbt build` with `dq dbt export`'s artefacts: constraints, enforced model
  contract, post-hook assertions inside each model's transaction, dbt data tests.
- `dbt+export, no data tests`: the same without the exported generic data tests
  (`--exclude test_type:generic`): the cost of the in-model gate alone.
- `dq dbt build`: the same project through `dq dbt build`: exported gates plus the full contract
  of each model in dbt's NodeFinished callback (dq's exported data tests left out, row checks the
  gate held inside the model taken from it: docs/dbt.md).

Raw data: `generate_data.py --customers N` (clean variant); every variant must exit 0, else the
row is marked INVALID. Contracts: tests/fixtures/dbt_export/contracts (stable copies of the
bundled ones) unless --contracts is given. Writes <out>/results_dbt.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "dbt")
    parser.add_argument("--contracts", type=Path, default=ROOT / "tests" / "fixtures" / "dbt_export" / "contracts")
    args = parser.parse_args()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"warehouse_{args.customers}.duckdb"
    env = {
        **os.environ,
        "DQ_DB": str(db),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DQ_HISTORY": str(out / "history.duckdb"),
        "GX_ANALYTICS_ENABLED": "false",
    }
    from warm_bytecode import compile_dq

    bytecode = compile_dq()  # dq starts as installed, like dbt (bench/warm_bytecode.py)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "dbt_project" / "generate_data.py"),
            "--db",
            str(db),
            "--customers",
            str(args.customers),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    generate_s = time.perf_counter() - started

    plain, exported = _project(out / "plain", None), _project(out / "exported", args.contracts)
    dbt = [str(BIN / "dbt"), "build", "--quiet"]
    variants = {
        "dbt": [*dbt, *_dirs(plain, out / "t_plain")],
        "dbt+export": [*dbt, *_dirs(exported, out / "t_export")],
        "dbt+export, no data tests": [*dbt, *_dirs(exported, out / "t_export_nt"), "--exclude", "test_type:generic"],
        "dq dbt build": [
            str(BIN / "dq"),
            "dbt",
            "build",
            "--contracts",
            str(args.contracts),
            "--dbt-project",
            str(exported),
            "--results-dir",
            str(out / "results"),
            "--quiet",
            "--target-path",
            str(out / "t_dq"),
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    codes: dict[str, list[int]] = {name: [] for name in variants}
    for i in range(args.repeat + 1):  # round 0 warms the OS cache and dbt's partial parse
        for name, command in variants.items():
            t0 = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
            if i:
                times[name].append(time.perf_counter() - t0)
                codes[name].append(done.returncode)
            (out / f"{name.replace(' ', '_')}.log").write_text(done.stdout + done.stderr)
    base = times["dbt"]
    rows = [
        {
            "variant": name,
            "median_s": statistics.median(runs),
            "runs_s": runs,
            "exit": max(codes[name]),
            "ratio": statistics.median(run / b for run, b in zip(runs, base, strict=True)),
        }
        for name, runs in times.items()
    ]
    _report(out, args, rows, generate_s, bytecode)


def _project(dest: Path, contracts: Path | None) -> Path:
    from dq.dbt.export import GENERATED_FILES, export_files, write_files

    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "dbt_project", dest, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*"))
    for rel in GENERATED_FILES:
        (dest / rel).unlink(missing_ok=True)
    if contracts is not None:
        write_files(export_files(sorted(contracts.glob("*.yml")), dest), dest)
    return dest


def _dirs(project: Path, target: Path) -> list[str]:
    return ["--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(target)]


def _report(out: Path, args: argparse.Namespace, rows: list[dict], generate_s: float, bytecode: str) -> None:
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        f"dbt build on {args.customers:,} customers (generate: {generate_s:.1f} s), {machine}, "
        f"median of {args.repeat} rounds after a warm-up round, variants in turn; {bytecode}",
        "",
        "| variant | median wall s | ratio to plain dbt build (median of per-round ratios) | exit |",
        "|---|---|---|---|",
    ]
    for row in rows:
        valid = "" if row["exit"] == 0 else " INVALID"
        lines.append(f"| {row['variant']} | {row['median_s']:.2f} | {row['ratio']:.2f}x | {row['exit']}{valid} |")
    text = "\n".join(lines) + "\n"
    print(text)
    (out / "results_dbt.md").write_text(text)
    (out / "results_dbt.json").write_text(json.dumps({"customers": args.customers, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
