"""`dq dbt build [dbt args...]` and `dq dbt export [--check]`: contracts inside dbt.

Exit codes stay dq's own: 0 passed, 1 a contract blocked (in dq's callback, an exported
assertion, constraint or enforced model contract, or an exported data test), 2 usage, 3 could not
validate — which includes every dbt failure that is not a contract's (SQL error, bad profile,
parse error): dq cannot vouch for models dbt did not build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dq.commands.options import DbtOpt, EngineOpt, ResultsOpt, console, err, expand_contracts
from dq.config import EngineChoice, load_settings
from dq.errors import DqError
from dq.exit_codes import ExitCode

app = typer.Typer(
    help="Contracts inside dbt: validate while dbt builds; export contracts as dbt artefacts.", rich_markup_mode=None
)

ContractsOpt = Annotated[
    list[Path] | None, typer.Option("--contracts", help="Contract files or directories. Default: contracts/.")
]
DEFAULT_CONTRACTS = [Path("contracts")]


@app.command(
    "build",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def build(
    ctx: typer.Context,
    contracts: ContractsOpt = None,
    dbt_project: DbtOpt = None,
    engine: EngineOpt = EngineChoice.auto,
    results_dir: ResultsOpt = None,
) -> None:
    """Run `dbt build` and validate each model's contract as soon as the model finishes.

    Every other argument goes to dbt as-is (--select, --vars, --target, --full-refresh, ...). A
    model failing its contract errors in dbt, so dbt skips everything downstream of it.
    """
    from dq.dbt.build import Build, default_target, model_contracts, option_value
    from dq.engines import preload
    from dq.run.runner import new_run_id

    preload.CLI = True  # dq's own process: the judges load without pandas (dq/engines/preload.py)
    dbt_args = list(ctx.args)
    try:
        settings = load_settings(dbt_project=dbt_project, results_dir=results_dir, engine=engine)
        given = option_value(dbt_args, "--project-dir")
        project_dir = _project_dir("dq dbt build", Path(given) if given else dbt_project, settings.dbt_project)
        found = model_contracts(expand_contracts(contracts or DEFAULT_CONTRACTS))
        target = option_value(dbt_args, "--target-path")
        run_id = new_run_id()
        # dbt reads a relative --target-path from the project root; so does dq. By default dbt
        # writes where it always does (partial parsing reuses its saved manifest, `dq validate`
        # finds target/manifest.json) and dq writes this run's files under target/dq/<run_id>.
        target_path = project_dir / target if target else default_target(project_dir)
        dq_dir = target_path if target else target_path / "dq" / run_id
        outcome = Build(found, settings, project_dir, target_path, run_id, dq_dir).invoke(dbt_args)
    except typer.Exit:
        raise
    except DqError as exc:
        err(f"dq dbt build: could not validate: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    except Exception as exc:  # fail closed, with a message rather than a traceback
        err(f"dq dbt build: could not validate: internal error: {type(exc).__name__}: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    _print_summary(outcome, found)
    raise typer.Exit(int(outcome.exit_code()))


def _project_dir(command: str, given: Path | None, configured: Path | None) -> Path:
    """The dbt project, absolute (so dbt's and dq's relative paths agree): the one given, else
    dbt's DBT_PROJECT_DIR, else the configured one (DQ_DBT_PROJECT, [tool.dq], the current
    directory when it is a dbt project, as dbt does). A directory without dbt_project.yml is a
    usage error (exit 2), and nothing is created in it."""
    import os

    if given is None and os.environ.get("DBT_PROJECT_DIR") and not os.environ.get("DQ_DBT_PROJECT"):
        given = Path(os.environ["DBT_PROJECT_DIR"])
    project = given or configured
    if project is None:
        err(f"{command}: no dbt project: run it inside one, or pass --dbt-project DIR (or set DQ_DBT_PROJECT)")
        raise typer.Exit(int(ExitCode.USAGE))
    if not (project / "dbt_project.yml").is_file():
        what = "does not exist" if not project.exists() else "has no dbt_project.yml"
        err(f"{command}: dbt project {project} {what}. Fix: pass --dbt-project DIR naming a dbt project")
        raise typer.Exit(int(ExitCode.USAGE))
    return project.resolve()


def _print_summary(outcome: Any, contracts: dict[str, Any]) -> None:
    """The end-of-run table: every model, dbt's status and the contract's verdict."""
    from rich.table import Table

    from dq.checks.result import Status

    by_path = {str(path): model for model, (path, _) in contracts.items()}
    verdict = {by_path.get(c.path, c.contract): c for c in outcome.run.contracts}
    table = Table(title=f"dq dbt build ({outcome.target_path})", title_justify="left")
    for header in ("node", "dbt", "contract", "detail"):
        table.add_column(header, overflow="fold")
    for node in outcome.nodes:
        if node.resource_type != "model" and not node.by_contract and node.status not in ("error", "fail", "warn"):
            continue  # passing or skipped tests: dbt's own log lists them
        result = verdict.get(node.name) if node.resource_type == "model" else None
        contract = "-" if result is None else result.status.value
        if node.resource_type == "model" and node.name in contracts and result is None:
            contract = "not validated"
        detail = ""
        if result is not None and result.status is not Status.passed:
            bad = [c for c in result.checks if c.status is not Status.passed]
            detail = result.error or "; ".join(f"{c.name}: {c.message}" for c in bad)
        elif node.status not in ("success", "pass"):
            detail = node.message.strip().splitlines()[-1] if node.message.strip() else ""
        table.add_row(f"{node.resource_type} {node.name}", node.status, contract, detail)
    out = console()
    out.print(table)
    built = {n.name for n in outcome.nodes if n.resource_type == "model"}
    for model, result in verdict.items():
        if result.error and model not in built:  # e.g. a contract naming a model dbt does not have
            err(f"dq dbt build: {result.error}")
    if outcome.dbt_error:
        err(f"dq dbt build: dbt failed: {outcome.dbt_error}")
    code = outcome.exit_code()
    words = {
        ExitCode.OK: "passed: every model with a contract passed it",
        ExitCode.CHECKS_FAILED: "blocked: a contract failed; dbt skipped what is downstream of it",
        ExitCode.NOT_VALIDATED: "could not validate: dbt failed, or a contract could not be checked",
    }[code]
    out.print(f"{words} (exit {int(code)})")
    if outcome.run.result_path:
        out.print(f"result: {outcome.run.result_path}", style="dim")


@app.command("export")
def export(
    contracts: ContractsOpt = None,
    dbt_project: DbtOpt = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if the generated files are stale.")] = False,
) -> None:
    """Write the contracts into the dbt project: model contracts, constraints, tests, post-hooks."""
    from dq.dbt.export import export_files, stale_files, write_files

    try:
        settings = load_settings(dbt_project=dbt_project)
        project_dir = _project_dir("dq dbt export", dbt_project, settings.dbt_project)
        files = export_files(expand_contracts(contracts or DEFAULT_CONTRACTS), project_dir)
    except typer.Exit:
        raise
    except DqError as exc:
        err(f"dq dbt export: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    except Exception as exc:
        err(f"dq dbt export: internal error: {type(exc).__name__}: {exc}")
        raise typer.Exit(int(ExitCode.NOT_VALIDATED)) from None
    if check:
        stale = stale_files(files, project_dir)
        for rel in stale:
            err(f"dq dbt export --check: {project_dir / rel} is stale. Fix: run `dq dbt export` and commit it")
        if stale:
            raise typer.Exit(int(ExitCode.CHECKS_FAILED))
        typer.echo(f"dq dbt export: {len(files)} generated files are up to date")
        return
    written = write_files(files, project_dir)
    for rel in files:
        typer.echo(f"{'wrote' if rel in written else 'unchanged'} {project_dir / rel}")
