"""The JSON result (schema_version "1", documented in the README): what CI scripts and
`DQ_RESULT` consumers parse. The same document the runner persists."""

from __future__ import annotations

import json

from dq.checks.result import RunResult


def to_json(run: RunResult) -> str:
    return json.dumps(run.to_dict(), indent=2, default=str)
