"""`dq diff OLD NEW` / `dq diff --base GITREF`: review a contract change like a code change.

Exit 0: no breaking change, or the MAJOR version was bumped. Exit 1: a breaking change without a
MAJOR bump. Exit 3: a contract (old or new) does not load, or git cannot answer.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dq.commands.options import console, err
from dq.errors import DqError
from dq.exit_codes import ExitCode

if TYPE_CHECKING:
    from dq.contract.model import Contract
    from dq.review.diff import ContractDiff


class GitError(DqError):
    """git could not answer (not a repository, unknown ref)."""


class DiffFormat(StrEnum):
    table = "table"
    json = "json"


FilesArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="OLD NEW contract files; with --base, the contract files or directories to compare (default contracts/).",
        show_default=False,
    ),
]
BaseOpt = Annotated[
    str | None, typer.Option("--base", help="Git ref: compare every contract changed since (the merge base with) it.")
]
DiffFormatOpt = Annotated[DiffFormat, typer.Option("--format", help="What to print on stdout.")]


def diff(paths: FilesArg = None, base: BaseOpt = None, output_format: DiffFormatOpt = DiffFormat.table) -> None:
    """Classify contract changes: breaking (consumers), tightening (producers), compatible (docs)."""
    paths = paths or []
    if base is None and len(paths) != 2:
        raise typer.BadParameter("give OLD NEW (two contract files), or --base GITREF")
    try:
        diffs = _against_git(base, paths or [Path("contracts")]) if base is not None else [_two_files(*paths)]
    except DqError as exc:
        err(f"dq diff: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    if output_format is DiffFormat.json:
        typer.echo(
            json.dumps(
                {
                    "schema_version": "1",
                    "blocks": any(d.blocks for d in diffs),
                    "contracts": [d.to_dict() for d in diffs],
                },
                indent=2,
            )
        )
    else:
        _print(diffs)
    raise typer.Exit(int(ExitCode.CHECKS_FAILED if any(d.blocks for d in diffs) else ExitCode.OK))


def _two_files(old: Path, new: Path) -> ContractDiff:
    from dq.contract.model import load_contract
    from dq.review.diff import diff_contracts

    return diff_contracts(load_contract(old), load_contract(new), str(old), str(new))


def _against_git(ref: str, paths: list[Path]) -> list[ContractDiff]:
    """Every contract file under `paths` that differs from the merge base of `ref` and HEAD."""
    from dq.contract.model import load_contract
    from dq.review.diff import added_contract, diff_contracts, removed_contract

    base = _merge_base(ref)
    specs = [str(p) for p in paths]
    changed = _git("diff", "--name-only", "--relative", base, "--", *specs).split()
    changed += _git("ls-files", "--others", "--exclude-standard", "--", *specs).split()
    diffs: list[ContractDiff] = []
    for name in sorted({n for n in changed if n.endswith((".yml", ".yaml"))}):
        old_label, new_path = f"{ref}:{name}", Path(name)
        old = _contract_at(base, name, old_label)
        if old is None:
            diffs.append(added_contract(load_contract(new_path), name))
        elif not new_path.is_file():
            diffs.append(removed_contract(old, old_label))
        else:
            diffs.append(diff_contracts(old, load_contract(new_path), old_label, name))
    return diffs


def _merge_base(ref: str) -> str:
    """Compare with where the branch left `ref`, so later commits on `ref` do not show up as ours."""
    try:
        return _git("merge-base", ref, "HEAD").strip()
    except GitError:
        _git("rev-parse", "--verify", f"{ref}^{{commit}}")  # a bad ref: GitError with git's message
        return ref


def _contract_at(commit: str, name: str, label: str) -> Contract | None:
    """The contract file as it was at `commit`, or None if it did not exist there."""
    from dq.contract.model import load_contract
    from dq.errors import ContractError

    try:
        text = _git("show", f"{commit}:./{name}")
    except GitError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(name).name
        copy.write_text(text, encoding="utf-8")
        try:
            return load_contract(copy)
        except ContractError as exc:
            raise ContractError(str(exc).replace(str(copy), label)) from None


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; `dq diff --base` needs it") from None
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _print(diffs: list[ContractDiff]) -> None:
    from rich.table import Table

    out = console()
    if not diffs:
        out.print("no contract changes")
        return
    style = {"breaking": "bold red", "tightening": "yellow", "compatible": "green"}
    for d in diffs:
        table = Table(
            title=f"{d.contract}: {d.old_label} ({d.old_version or '-'}) -> {d.new_label} ({d.new_version or '-'})",
            title_justify="left",
        )
        for header in ("change", "what", "class", "reason"):
            table.add_column(header, overflow="fold")
        for c in d.changes:
            table.add_row(c.path, c.change, f"[{style[c.impact.value]}]{c.impact.value}[/]", c.reason)
        out.print(table if d.changes else f"{d.contract}: no changes")
        if d.blocks:
            out.print(
                f"[bold red]BLOCK[/]: breaking changes to {d.contract} need a MAJOR version bump "
                f"(version {d.old_version} -> {d.new_version})"
            )
        elif d.breaking:
            out.print(f"breaking changes to {d.contract}, MAJOR version bumped ({d.old_version} -> {d.new_version})")
