"""A relation a spec reads besides its own dataset, kept as its name parts until SQL is written.

A referenced table used to travel as already-quoted SQL text that the Pandera engine parsed back,
and the dbt exporter pasted a contract's `references.table` into its post-hook as written
(`main.p; DROP TABLE x --` landed in the SQL). Now binding puts a `Relation` in a spec's
`relation` argument and only `Relation.sql()` quotes it, on every path: validation, dbt export,
GX and samples. `Placeholder` is a relation a later stage fills in (the exporter's `ref()`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dq.errors import SourceError


def quote_ident(name: str) -> str:
    """A SQL identifier: double-quoted, inner double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Relation:
    """`catalog.schema.name` (catalog optional), each part the name as DuckDB stores it."""

    schema: str
    name: str
    catalog: str | None = None

    @classmethod
    def parse(cls, text: str) -> Relation:
        """'main.plans', 'plans' (schema main), 'lake.main.plans', '"my schema"."a.b"'."""
        catalog, schema, name = split_table_name(text)
        return cls(schema, name, catalog)

    @property
    def parts(self) -> tuple[str, ...]:
        return (self.schema, self.name) if self.catalog is None else (self.catalog, self.schema, self.name)

    def sql(self) -> str:
        return ".".join(quote_ident(part) for part in self.parts)

    @property
    def label(self) -> str:
        """The name for people: `main.plans` (never SQL)."""
        return ".".join(self.parts)

    def __str__(self) -> str:
        # the quoted SQL, so an f-string that pastes a relation into a query is still safe
        return self.sql()


@dataclass(frozen=True)
class Placeholder:
    """SQL dq generated for a relation that is not a table name: a token a later stage substitutes
    (the exporter's `ref()`), or dq's own file reader (`read_parquet('...')`, paths as literals).
    Never contract text."""

    token: str

    def sql(self) -> str:
        return self.token

    def __str__(self) -> str:
        return self.token


def relation_sql(relation: object) -> str:
    """The SQL of a bound `relation` argument; anything else is a binding bug, never pasted."""
    if isinstance(relation, Relation | Placeholder):
        return relation.sql()
    raise TypeError(f"a spec's relation must be a bound Relation, not {type(relation).__name__} {relation!r}")


def split_table_name(name: str) -> tuple[str | None, str, str]:
    """'main.training_set' -> (None, 'main', 'training_set'); a bare name is in schema `main`;
    'lake.main.t' -> ('lake', 'main', 't'): the catalog is kept, so `resolve_table` can refuse
    a name that is not in the opened file instead of silently reading `main.t` there.

    Double quotes protect dots and spaces inside a part: '"my schema"."a.b"'; inside quotes, `""`
    is one double quote, as in SQL: '"a""b"' is the table a"b.
    """
    parts: list[str] = []
    current, quoted, text = "", False, name.strip()
    i = 0
    while i < len(text):
        char = text[i]
        i += 1
        if char == '"' and quoted and text[i : i + 1] == '"':
            current += '"'
            i += 1
        elif char == '"':
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if quoted or any(not part for part in parts) or len(parts) > 3:
        raise SourceError(f"table name {name!r} is not `table`, `schema.table` or `database.schema.table`")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return (None, "main", parts[0]) if len(parts) == 1 else (None, parts[0], parts[1])
