"""Compile dq's own modules to bytecode before anything is timed, as installing its wheel does.

pip compiles every installed package (Pandera, GX, dbt, DuckDB's Python part) when it installs it,
but dq is installed editable here: its modules are compiled at first import and cached in
`__pycache__/`, unless PYTHONDONTWRITEBYTECODE is set (it is on some CI machines and sandboxes),
in which case every run compiles dq's ~100 modules again, 0.3-0.5 s of CPU that only dq would pay
and no user who installed it does. Benchmarks call `compile_dq()` first, so dq and its peers start
on the same footing; compileall writes the cache whatever that variable says.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compile_dq() -> str:
    """Compile dq/ (a no-op where the cache is current); a note for the bench's machine line."""
    if not compileall.compile_dir(str(ROOT / "dq"), quiet=1):
        raise SystemExit("bench: dq/ does not compile to bytecode; fix the source first")
    writes = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    return f"dq bytecode compiled before timing (PYTHONDONTWRITEBYTECODE {writes})"
