"""What per-segment rules cost: the bench contract's pass alone, and with its aggregates per segment.

    .venv/bin/python bench/bench_segments.py                    # 1M and 10M rows
    .venv/bin/python bench/bench_segments.py --rows 1000000 --repeat 5

Data: bench/run.py's generator (`ensure_data`, the bundled training_set's shape). In process, on
one read-only connection, the default engine (pandera-batch) runs the compiled, bound specs of:

* `whole`: bench/contract.yml's aggregates (row count, null fraction, means; the label's class
  share over the whole table is the Pandera engine's, not measured here);
* `by-country`: the same plus their per-segment twins by `country` (5 segments), and the label's
  class shares per country: one grouped query beside the single pass;
* `by-events`: twins by `n_events_30d` (200 segments);
* `by-plan-country`: twins by `plan_id, country` (20 segments).

The variants take turns, run for run (A B C D A B C D ...), and each reports its median wall
time and the median of its per-round ratio to `whole`. Writes `<out>/segments/results.md`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from run import ensure_data  # noqa: E402  (bench/run.py's generator: same data as the main benchmark)

from dq.checks.compile import compile_contract  # noqa: E402
from dq.checks.kinds import SEGMENTABLE  # noqa: E402
from dq.contract.model import Contract  # noqa: E402
from dq.data.bind import bind_spec, collated_columns  # noqa: E402
from dq.data.source import open_database, resolve_table  # noqa: E402
from dq.engines.pandera_batch import PanderaBatchEngine  # noqa: E402

VARIANTS: dict[str, list[str] | None] = {
    "whole": None,
    "by-country": ["country"],
    "by-events": ["n_events_30d"],
    "by-plan-country": ["plan_id", "country"],
}


def _contract(segments: list[str] | None) -> Contract:
    document = yaml.safe_load((BENCH / "contract.yml").read_text(encoding="utf-8"))
    document["columns"].update(plan_id={}, n_events_30d={})
    document["label"] = {"column": "churned", "class_fraction": {"min": 0.05, "max": 0.95}}
    if segments:
        document["segments"] = segments
    return Contract.model_validate(document)


def _specs(segments: list[str] | None, table: Any) -> list[Any]:
    collated = collated_columns(table)
    engine = PanderaBatchEngine()  # the whole-table class share is Pandera-on-Ibis's: left out
    specs = [s for s in compile_contract(_contract(segments)) if s.kind in SEGMENTABLE and engine.supports(s)]
    return [bind_spec(s, table, collated) for s in specs]


def run_size(rows: int, out: Path, repeat: int) -> list[dict[str, Any]]:
    data = ensure_data(out, rows)
    connection = open_database(Path(data["path"]))
    table = resolve_table(connection, Path(data["path"]), "main", "training_set")
    engine = PanderaBatchEngine()
    specs = {name: _specs(segments, table) for name, segments in VARIANTS.items()}
    for name, variant in specs.items():  # warm-up, and every check must hold on the generated data
        statuses = {r.name: r.status.value for r in engine.run(variant, table)}
        failed = {n: s for n, s in statuses.items() if s != "passed"}
        assert not failed, (name, failed)
    times: dict[str, list[float]] = {name: [] for name in specs}
    for _ in range(repeat):
        for name, variant in specs.items():
            start = time.perf_counter()
            engine.run(variant, table)
            times[name].append(time.perf_counter() - start)
    connection.close()
    base = times["whole"]
    return [
        {
            "rows": rows,
            "variant": name,
            "checks": len(specs[name]),
            "segmented": sum(1 for s in specs[name] if s.segments),
            "median_s": statistics.median(runs),
            "x_whole": statistics.median(r / b for r, b in zip(runs, base, strict=True)),
        }
        for name, runs in times.items()
    ]


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rows | variant | checks (per segment) | median s | x whole (paired) |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['variant']} | {r['checks']} ({r['segmented']}) | {r['median_s']:.3f} | "
            f"{r['x_whole']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    args = parser.parse_args(argv)
    results = [r for rows in args.rows for r in run_size(rows, args.out, args.repeat)]
    text = markdown(results)
    (args.out / "segments").mkdir(parents=True, exist_ok=True)
    (args.out / "segments" / "results.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
