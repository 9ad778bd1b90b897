"""Only what changed, in CI: the contracts of models that dbt selects as `state:modified+`.

dbt itself decides what changed (`dbt ls --select state:modified+ --state DIR`) against the
manifest of a previous run (production's, typically), so dq agrees with `dbt build --select
state:modified+` about which models a pull request touches, their descendants included.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dq.contract.model import load_contract
from dq.errors import SourceError


def modified_models(project_dir: Path, state_dir: Path) -> set[str]:
    """Names of the models modified since `state_dir`'s manifest, and everything downstream."""
    if not (state_dir / "manifest.json").is_file():
        raise SourceError(
            f"--state {state_dir} holds no manifest.json. Fix: point it at the target/ directory of "
            "the run to compare against (e.g. production's manifest, downloaded in CI)"
        )
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    profiles = project_dir if (project_dir / "profiles.yml").is_file() else None
    with tempfile.TemporaryDirectory(prefix="dq-dbt-ls-") as target:
        args = [
            "ls",
            "--select",
            "state:modified+",
            "--state",
            str(state_dir),
            "--resource-type",
            "model",
            "--output",
            "name",
            "--quiet",
            "--project-dir",
            str(project_dir),
            "--target-path",
            target,
        ]
        if profiles is not None:
            args += ["--profiles-dir", str(profiles)]
        result = dbtRunner().invoke(args)
    if not result.success or not isinstance(result.result, list):
        why = result.exception or "see dbt's output above"
        raise SourceError(f"`dbt ls --select state:modified+` failed in {project_dir}: {why}")
    return {str(name) for name in result.result}


def select_changed(paths: Sequence[Path], project_dir: Path, state_dir: Path) -> list[Path]:
    """The contracts whose dataset is a modified (or downstream) model; loading them also proves
    they are valid. Contracts on plain tables are not dbt's to judge and are left out."""
    changed = modified_models(project_dir, state_dir)
    return [path for path in paths if load_contract(path).dataset.model in changed]
