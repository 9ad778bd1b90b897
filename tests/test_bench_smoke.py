"""Smoke test of the benchmark harness (bench/run.py): 1,000 rows, one measured run per method.

No timing assertions: this only proves the harness runs end to end, writes its table and JSON,
and that dq really validated the generated data (exit 0) under the benchmark contract.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# plain-gx takes ~4 s per process at 1,000 rows (GX's import), well under the 20 s budget.
METHODS = (
    "floor",
    "scan",
    "dq-auto",
    "dq-auto-keyed",
    "plain-pandera",
    "plain-gx",
    "pandera-polars",
    "pandera-polars-lazy",
    "pointblank",
    "floor-copy",
    "dq-gate",
)


@pytest.mark.slow
def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench-out"
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--rows",
            "1000",
            "--repeat",
            "1",
            "--methods",
            ",".join(METHODS),
            "--out",
            str(out),
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"harness failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"

    table = (out / "results.md").read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| method")]
    assert sorted(line.split("|")[1].strip() for line in rows) == sorted(METHODS)
    assert all("| 1,000 |" in line for line in rows)
    assert "INVALID" not in table

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    by_method = {r["method"]: r for r in results["results"]}
    assert set(by_method) == set(METHODS)
    dq = by_method["dq-auto"]
    assert dq["exit_codes"] == [0] and dq["warmup"]["exit_code"] == 0
    assert dq["runs"][0]["payload"]["status"] == "passed"
    assert all(r["valid"] and r["median_s"] > 0 and r["peak_rss_mb"] > 0 for r in by_method.values())
    assert by_method["plain-pandera"]["load_s"] is not None
    assert (out / "training_set_1000.duckdb").exists()
    keyed = by_method["dq-auto-keyed"]["runs"][0]["payload"]["contracts"][0]["checks"]
    proved = [c["name"] for c in keyed if c["message"].startswith("passed by the database's constraint")]
    assert sorted(proved) == ["customer_id.not_null", "primary_key.unique"]
    assert by_method["dq-gate"]["baseline"] == "floor-copy" and by_method["dq-gate"]["ratio_to_floor"] > 0
