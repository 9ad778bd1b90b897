"""The long differential fuzz run: >= 10,000 generated cases against the oracle (issue 10).

    python bench/fuzz_oracle.py --cases 10000 --seed 1 [--all-engines-every 10] [--findings F.md]

Same generator and oracle as tests/test_oracle_fuzz.py (tests/differential.py, tests/oracle.py).
Every generated table runs on the default engine (pandera-batch); every Nth table also on
`pandera` and `gx` (GX costs seconds per table). Prints, per engine, the cases, agreements,
rightful refusals and disagreements, then each disagreement class with its first minimal
reproductions (table DDL, contract YAML, oracle vs dq), shrunk to the fewest columns and rows
that still disagree. Exit status 1 if any disagreement was found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import differential as fuzz  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="stop after at least this many cases")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--all-engines-every",
        type=int,
        default=10,
        metavar="N",
        help="run pandera and gx too on every Nth table (0: never)",
    )
    parser.add_argument("--repros", type=int, default=2, help="minimal reproductions shown per class")
    parser.add_argument(
        "--tz",
        action="append",
        default=[],
        metavar="ZONE",
        help="process time zones to cycle through, one per table (e.g. --tz UTC --tz Asia/Tokyo)",
    )
    parser.add_argument("--findings", type=Path, help="also write the classes and reproductions to this Markdown file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    outcomes: list[fuzz.Outcome] = []
    cases = rounds = 0
    with tempfile.TemporaryDirectory(prefix="dq-fuzz-") as tmp, fuzz.quiet():
        generator = fuzz.Generator(args.seed)
        while cases < args.cases:
            round_ = generator.round(rounds)
            every = args.all_engines_every
            engines = fuzz.ENGINES if every and rounds % every == 0 else ("pandera-batch",)
            zone = args.tz[rounds % len(args.tz)] if args.tz else None
            with fuzz.time_zone(zone):
                result = fuzz.run_round(round_, engines, Path(tmp) / "work")
            outcomes += result.outcomes
            cases += len({o.draft.rule.name for o in result.outcomes})
            rounds += 1
            if rounds % 10 == 0:
                bad = sum(o.verdict not in ("agree", "refused") for o in outcomes)
                print(
                    f"  {rounds} tables, {cases} cases, {bad} disagreements, {time.perf_counter() - started:.0f} s",
                    file=sys.__stderr__,  # quiet() captures sys.stderr
                    flush=True,
                )
        elapsed = time.perf_counter() - started
        report = _report(args, outcomes, cases, rounds, elapsed)
    print(report)
    if args.findings:
        args.findings.write_text(report, encoding="utf-8")
    return 1 if fuzz.classes(outcomes) else 0


def _report(args: argparse.Namespace, outcomes: list[fuzz.Outcome], cases: int, rounds: int, elapsed: float) -> str:
    classes = fuzz.classes(outcomes)
    lines = [
        f"# Differential fuzz: dq engines vs tests/oracle.py (seed {args.seed})",
        "",
        f"{cases} cases on {rounds} generated tables in {elapsed:.0f} s; pandera and gx on every "
        f"{args.all_engines_every}th table; process time zones {args.tz or ['(inherited)']}. "
        "A case is one rule on one table.",
        "",
        "How to read: the oracle (tests/oracle.py) evaluates each rule in plain Python on the rows DuckDB "
        "returns (NaN on FLOAT/DOUBLE is missing; exact comparisons in the column's type; binary strings). "
        "Labels, worst first: FALSE PASS, FALSE FAIL, WRONG COUNT, WRONG OBSERVED, MISSING CHECK, CRASH "
        "(validate_contract raised), REFUSED VALID (dq refused what the oracle evaluates), ACCEPTED INVALID "
        "(a verdict on a rule that must be refused), INEXACT OBSERVED (right verdict, value shown through a "
        "DOUBLE). 'refused (rightly)' counts refusals the oracle agrees with. Re-run: "
        f"`.venv/bin/python bench/fuzz_oracle.py --cases {args.cases} --seed {args.seed}"
        f"{''.join(' --tz ' + z for z in args.tz)} --findings FILE`.",
        "",
        fuzz.summary_table(outcomes),
        "",
        "Cases per rule kind (summed over engines):",
        "",
        fuzz.coverage_table(outcomes),
        "",
        f"## {len(classes)} disagreement classes",
        "",
        "| label | rule kind | column type | cases | engines |",
        "|---|---|---|---:|---|",
    ]
    for (label, kind, types), found in classes.items():
        engines = ", ".join(sorted(Counter(o.engine for o in found)))
        lines.append(f"| {label} | {kind} | {types} | {len(found)} | {engines} |")
    lines.append("")
    for (label, kind, types), found in classes.items():
        lines.append(f"### {label}: {kind} on {types}")
        lines.append("")
        picks: dict[str, fuzz.Outcome] = {}
        for outcome in found:  # one per engine first: a class may differ between engines
            picks.setdefault(outcome.engine, outcome)
        for outcome in list(picks.values())[: args.repros]:
            try:
                repro = fuzz.shrink(outcome, budget=40 if outcome.engine == "gx" else 120)
                lines.append(repro.text())
            except Exception as exc:  # a repro that cannot be shrunk is still reported
                why = f"{type(exc).__name__}: {exc}"
                lines.append(f"(could not shrink: {why}) {outcome.draft.rule.name}: {outcome.got}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
