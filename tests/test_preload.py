"""dq/engines/preload.py: the judges load in the background, without pandas in dq's own process.

The refusal ("pandas is not installed") is what makes Pandera take its pandas-free path; it must
hold for the importing thread only, so that another thread of the process (dbt's, building a
Python model during `dq dbt build`) imports what it asks for.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys, threading
from dq.engines.preload import _refused
assert {name!r} not in sys.modules
seen = {{}}
def other():
    try:
        __import__({name!r})
        seen["other"] = "imported"
    except ModuleNotFoundError:
        seen["other"] = "refused"
with _refused([{name!r}]):
    thread = threading.Thread(target=other)
    thread.start(); thread.join()
    sys.modules.pop({name!r}, None)
    try:
        __import__({name!r})
        seen["own"] = "imported"
    except ModuleNotFoundError:
        seen["own"] = "refused"
print(json.dumps(seen))
"""


@pytest.mark.parametrize("name", ["colorsys", "wave"])
def test_a_refused_import_fails_only_on_the_refusing_thread(name: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(name=name)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {"other": "imported", "own": "refused"}


def test_judges_load_without_pandas_numpy_or_hypothesis_in_dqs_own_process() -> None:
    code = (
        "import sys, json\n"
        "from dq.engines import preload\n"
        "preload.CLI = True\n"
        "preload.start(); preload.wait()\n"
        "import pandera.polars\n"
        "print(json.dumps([m for m in ('pandas', 'numpy', 'hypothesis') if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
