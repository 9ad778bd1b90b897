"""The keys that narrow or loosen a rule: `where:` (which rows it applies to) and a tolerance,
`mostly:` / `max_failing_fraction:` (what share of those rows may fail it).

Both are read exactly. A tolerance is the number as written in the YAML (a Decimal from its text,
dq/contract/yaml12.py), never a float: `mostly: 0.999` must let 999 of 1,000 rows pass and not
999 - 1e-13. A condition is SQL, proven to be one boolean expression over the row by DuckDB's
parser when the contract loads (the same proof as an `expressions:` rule, dq/contract/sql_text.py),
and bound to the relation's columns before it runs (dq/data/bind.py).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, PlainValidator, WithJsonSchema, model_validator

TOLERANCE_KEYS = ("mostly", "max_failing_fraction")


def _exact_share(value: Any) -> Decimal:
    """A share of rows in [0, 1], with the digits written (an int, or the YAML text's Decimal)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"expected a number between 0 and 1, got {type(value).__name__} {value!r}")
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not exact.is_finite() or not 0 <= exact <= 1:
        raise ValueError(f"a share of rows is within [0, 1], got {value}")
    return exact


def _condition(value: str) -> str:
    from dq.contract.sql_text import one_boolean_expression

    try:
        one_boolean_expression(value)
    except ValueError as exc:
        raise ValueError(f"where: the condition {exc}") from None
    return value


ExactShare = Annotated[
    Decimal, PlainValidator(_exact_share), WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})
]
Condition = Annotated[str, Field(min_length=1), AfterValidator(_condition)]


class Tolerated(BaseModel):
    """A row rule that may fail for a share of its rows (GX's `mostly`). The model using it
    declares the fields (`mostly: ExactShare | None = None`, `max_failing_fraction: ...`) last
    in its own body, so they come after its own keys in the keys a typo's message lists."""

    if TYPE_CHECKING:
        mostly: Decimal | None
        max_failing_fraction: Decimal | None

    @model_validator(mode="after")
    def _one_tolerance(self) -> Tolerated:
        if self.mostly is not None and self.max_failing_fraction is not None:
            raise ValueError(
                "give one of mostly (the share of rows that must pass) or max_failing_fraction "
                "(the share that may fail), not both"
            )
        return self

    def tolerance_args(self) -> dict[str, Decimal]:
        """The tolerance as spec arguments (none when the rule has none)."""
        return {key: getattr(self, key) for key in TOLERANCE_KEYS if getattr(self, key) is not None}


class Scoped(BaseModel):
    """A rule that applies only to the rows its `where:` condition holds for (a NULL condition
    excludes the row, as SQL's WHERE does). The model declares `where: Condition | None = None`."""

    if TYPE_CHECKING:
        where: str | None


def allowed_failing(args: Any) -> Fraction | None:
    """The share of rows a spec's tolerance lets fail, exactly (None: no tolerance, none may)."""
    if args.get("mostly") is not None:
        return 1 - Fraction(args["mostly"])
    if args.get("max_failing_fraction") is not None:
        return Fraction(args["max_failing_fraction"])
    return None


def within_tolerance(failing: int, rows: int, allowed: Fraction) -> bool:
    """failing / rows <= allowed, in integers: failing * den <= num * rows (no float, no division;
    no rows in scope means nothing failed, which is within any tolerance)."""
    return failing * allowed.denominator <= allowed.numerator * rows
