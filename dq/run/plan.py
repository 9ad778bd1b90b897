"""Which engine runs which check.

`--engine pandera|gx` prefers that engine; a check it cannot run correctly is routed to the other
engine rather than dropped, and a check no engine supports becomes an `error` result. `auto`
prefers `pandera-batch` (one DuckDB pass measures everything, a Pandera schema judges the
measurements), then Pandera's Ibis backend (one query per check, inside DuckDB), then GX, which
costs ~3 s of import before its first query.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache

from dq.checks.spec import CheckSpec
from dq.config import EngineChoice
from dq.engines import Engine, preload

PREFERENCE: dict[EngineChoice, tuple[str, ...]] = {
    EngineChoice.auto: ("pandera-batch", "pandera", "gx"),
    # pandera-batch last: it takes what the others cannot state exactly (spec.needs_exact_sql)
    EngineChoice.pandera: ("pandera", "gx", "pandera-batch"),
    EngineChoice.gx: ("gx", "pandera", "pandera-batch"),
}


@cache
def engine_named(name: str) -> Engine:
    """Engines are imported on first use: GX and Pandera are heavy, `dq --help` must not pay."""
    if name == "pandera-batch":
        from dq.engines.pandera_batch import PanderaBatchEngine

        return PanderaBatchEngine()
    preload.wait()  # they import pandas / Pandera: never alongside the background import
    if name == "pandera":
        from dq.engines.pandera import PanderaEngine

        return PanderaEngine()
    if name == "gx":
        from dq.gx.engine import GxEngine

        return GxEngine()
    raise ValueError(f"unknown engine {name!r}")


def assign(specs: Sequence[CheckSpec], choice: EngineChoice) -> Iterator[tuple[Engine | str, list[CheckSpec]]]:
    """Group specs by the engine that will run them, in preference order.

    A group whose "engine" is a string holds specs nobody can run; the string says why.
    """
    remaining = list(specs)
    for name in PREFERENCE[choice]:
        if not remaining:
            return
        engine = engine_named(name)
        mine = [spec for spec in remaining if engine.supports(spec)]
        remaining = [spec for spec in remaining if not engine.supports(spec)]
        if mine:
            if name != "pandera-batch":
                preload.wait()  # (engine_named is cached: wait here too, before the engine runs)
            yield engine, mine
    if remaining:
        yield "no engine supports this check kind", remaining
