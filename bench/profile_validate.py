"""Profile `dq validate` (default engine) on bench/run.py's data with pyinstrument.

    .venv/bin/python bench/profile_validate.py --rows 1000000 10000000 [--out bench/out]

For each N it runs, as its own process, `pyinstrument -r text -o <out>/profile_<N>.txt
dq validate bench/contract.yml --db <out>/training_set_<N>.duckdb --format json` (and an HTML
profile beside it), on the data `bench/run.py --rows N` generates (generated here if missing). The
text profile shows where the whole process's wall time goes: interpreter start-up and imports,
the single DuckDB pass, Pandera's judgement, the result file and the history append. Generated
files stay in <out> (bench/out/ is not committed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(BENCH))

from run import CONTRACT, ensure_data  # noqa: E402 - bench/ is not a package


def profile(rows: int, out: Path) -> list[Path]:
    db = Path(ensure_data(out, rows)["path"])
    dq = [str(BIN / "dq"), "validate", str(CONTRACT), "--db", str(db), "--format", "json"]
    dq += ["--results-dir", str(out / "profile-results"), "--history", str(out / "profile-history.duckdb")]
    written = []
    for renderer, suffix in (("text", "txt"), ("html", "html")):
        target = out / f"profile_{rows}.{suffix}"
        cmd = [str(BIN / "pyinstrument"), "-r", renderer, "-o", str(target), *dq]
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    args = parser.parse_args()
    out = args.out.resolve()
    for rows in args.rows:
        for path in profile(rows, out):
            print(f"{rows:,} rows: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
