"""The code style the README promises is checked by the suite CI runs, not only by `make lint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ["dq", "tests", "bench", "examples", "dbt_project"]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", *TREES],
        [str(BIN / "ruff"), "format", "--check", *TREES],
        [str(BIN / "mypy"), "dq"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict-defs"],
)
def test_the_tree_is_clean(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
