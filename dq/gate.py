"""The training gate: run the training command only on data that passed its contracts."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

COMMAND_NOT_FOUND = 127
COMMAND_NOT_EXECUTABLE = 126


@dataclass(frozen=True)
class CommandOutcome:
    exit_code: int
    message: str = ""


def run_command(command: Sequence[str], result_path: str | None) -> CommandOutcome:
    """Run `command` with DQ_RESULT in its environment; return its exit code (shell conventions:
    127 not found, 126 not executable, 128+N killed by signal N)."""
    env = dict(os.environ)
    if result_path:
        env["DQ_RESULT"] = result_path
    try:
        completed = subprocess.run(list(command), env=env, check=False)
    except FileNotFoundError:
        return CommandOutcome(COMMAND_NOT_FOUND, f"training command not found: {command[0]}")
    except PermissionError:
        return CommandOutcome(COMMAND_NOT_EXECUTABLE, f"training command not executable: {command[0]}")
    code = completed.returncode
    if code < 0:
        return CommandOutcome(128 - code, f"training command killed by signal {-code}")
    return CommandOutcome(code, "" if code == 0 else f"training command exited with {code}")
