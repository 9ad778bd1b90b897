"""dq: data contracts that gate ML training.

The package root stays light (`dq --help` must be instant): the Python API is loaded on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["GateError", "SnapshotError", "gated", "load_validated", "require_valid", "validate"]


def __getattr__(name: str) -> Any:
    if name in ("require_valid", "validate", "gated", "load_validated"):
        from dq import api

        return getattr(api, name)
    if name == "GateError":
        from dq.errors import GateError

        return GateError
    if name == "SnapshotError":
        from dq.errors import SnapshotError

        return SnapshotError
    raise AttributeError(name)
