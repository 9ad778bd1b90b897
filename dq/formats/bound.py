"""A contract's checks bound to its dataset, for the exports that hand them to another library.

An export states what dq would run: the same compiled specs, bound to the dataset's real column
types exactly as `dq validate` binds them (dq/data/bind.py), references bound to their relations. A spec
that cannot be bound is not exported and says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dq.checks.spec import CheckSpec
from dq.config import Settings
from dq.contract.model import Contract, load_contract
from dq.data.source import Table


@dataclass
class Bound:
    contract: Contract
    table: Table
    specs: list[CheckSpec] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (check, why it is not exported)


@contextmanager
def bound_checks(path: str | Path, settings: Settings) -> Iterator[Bound]:
    """The contract's specs bound on its dataset; the connection stays open inside the block."""
    from dq.checks.compile import compile_contract
    from dq.data.bind import BindError, bind_spec, collated_columns
    from dq.data.files import open_connection
    from dq.run.runner import bind_other_datasets, resolve_dataset

    contract = load_contract(path)
    connection = open_connection(settings, contract)
    try:
        table = resolve_dataset(contract.dataset, connection, settings, contract)
        collated = collated_columns(table)
        bound = Bound(contract, table)
        for spec in compile_contract(contract):
            ready = bind_other_datasets(spec, table, connection, settings, collated)
            if isinstance(ready, str):
                bound.skipped.append((spec.name, ready))
                continue
            try:
                bound.specs.append(bind_spec(ready, table, collated, frozenset()))
            except BindError as exc:
                bound.skipped.append((spec.name, str(exc)))
        yield bound
    finally:
        connection.close()
