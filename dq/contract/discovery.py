"""Which contract files a run reads: the one place a directory argument is expanded.

A contract that is not read cannot fail, so a directory stands for *every* contract under it:

* searched recursively; a file is a contract if its suffix is `.yml` or `.yaml` in any case
  (`x.YML` is as much a contract as `x.yml`);
* hidden entries (a name starting with `.`: `.git`, `.github`, `.venv`, `.dq`) are skipped, since
  they hold tool state and CI workflows, never contracts. Nothing else is skipped: a dbt
  `target/` holds no YAML, and anything else that is YAML but not a contract fails to load
  (exit 3) instead of being passed over;
* symlinked directories are followed, each real directory read once (no loops);
* sorted by path relative to the directory, so every run reads them in the same order;
* a file reached twice (named and inside a named directory) is read once.

A directory with no contract under it is an error. `summary()` lists what each directory
contributed, for the console ("2 contracts read from contracts: a.yml, sub/b.yml").
The CLI (`dq validate`, `dq gate`, `dq lint`, `dq docs`, `dq dbt ...`) and the Python API
(`dq.require_valid`) all expand through `find_contracts`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dq.errors import DqError

CONTRACT_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class Found:
    """The contract files to read, in order, and which of them each directory argument gave."""

    paths: list[Path]
    from_directories: list[tuple[Path, list[Path]]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """One line per directory argument: how many contracts were read from it, and which."""
        lines = []
        for directory, paths in self.from_directories:
            names = ", ".join(p.relative_to(directory).as_posix() for p in paths)
            noun = "contract" if len(paths) == 1 else "contracts"
            lines.append(f"{len(paths)} {noun} read from {directory}: {names}")
        return lines


def is_contract_file(path: Path) -> bool:
    return path.suffix.lower() in CONTRACT_SUFFIXES and not path.name.startswith(".")


def find_contracts(contracts: Sequence[str | Path]) -> Found:
    """Expand directory arguments (see the module doc); files are kept as given, in order."""
    paths: list[Path] = []
    from_directories: list[tuple[Path, list[Path]]] = []
    seen: set[Path] = set()
    for item in map(Path, contracts):
        if item.is_dir():
            found = _walk(item)
            if not found:
                raise DqError(
                    f"{item}: no contract files (*.yml / *.yaml, any case, searched recursively; hidden "
                    "directories skipped) in this directory. Fix: pass the directory that holds the contracts"
                )
            fresh = [p for p in found if _key(p) not in seen]
            seen.update(_key(p) for p in fresh)
            paths.extend(fresh)
            from_directories.append((item, found))
        elif _key(item) not in seen:
            seen.add(_key(item))
            paths.append(item)  # a missing or unreadable file fails when it is loaded, naming it
    return Found(paths, from_directories)


def _walk(directory: Path) -> list[Path]:
    """Every contract file under `directory`, sorted by relative path; each real directory once."""
    found: list[Path] = []
    visited: set[str] = set()
    for root, dirs, files in os.walk(directory, followlinks=True):
        real = os.path.realpath(root)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root) / name for name in files if is_contract_file(Path(name)))
    return sorted(found, key=lambda p: p.relative_to(directory).parts)


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()
