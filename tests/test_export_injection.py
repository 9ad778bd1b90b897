"""The dbt exporter quotes a referenced table's name part by part: a contract's `references.table`
is an identifier, never SQL pasted into the post-hook (issue: `main.p; DROP TABLE x --` used to land
in the generated assertion as written). The generated macro is rendered with Jinja and the SQL run
on a real DuckDB file, as dbt would run it.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import jinja2
import pytest

from dq.contract.model import load_contract
from dq.dbt import export as dbt_export


def _assertion_sql(tmp_path: Path, table: str) -> str:
    path = tmp_path / "c.yml"
    path.write_text(
        "contract: inj\nversion: 1.0.0\ndataset: {model: t}\n"
        f"columns:\n  pid:\n    references: {{table: '{table}', column: id}}\n"
    )
    export = dbt_export.plan_model(load_contract(path), path, tmp_path)
    assert export is not None
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    macros = dbt_export.render_macros([export]) + "\n{{ dq_assert__t() }}"

    class This(SimpleNamespace):
        def __str__(self) -> str:
            return '"main"."t"'

    this = This(database="w", schema="main", identifier="t")  # the catalog of _warehouse's w.duckdb
    config = SimpleNamespace(get=lambda key, default=None: "table")
    # `model`: the node as dbt's context gives it (no enforced contract); `execute`: parse time, no log()
    globals_: dict[str, Any] = {
        "this": this,
        "config": config,
        "var": lambda name, default=None: default,
        "model": {"unique_id": "model.p.t"},
        "execute": False,
    }
    return env.from_string(macros).render(**globals_).strip()


def _warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE main.t AS SELECT * FROM (VALUES (1), (2)) v(pid)")
    con.execute("CREATE TABLE main.x AS SELECT 42 AS survivor")
    con.execute("""CREATE TABLE main."p'; x" AS SELECT 1 AS id""")
    return con


@pytest.mark.parametrize(
    "hostile",
    ["main.p; DROP TABLE x --", "main.p) AS r; DROP TABLE x; SELECT (1", "main.x WHERE false; DROP TABLE x; --"],
)
def test_a_hostile_table_name_is_an_identifier_in_the_exported_gate(tmp_path: Path, hostile: str) -> None:
    sql = _assertion_sql(tmp_path, hostile)
    con = _warehouse(tmp_path)
    assert len(con.extract_statements(sql)) == 1  # one statement: nothing smuggled after it
    with pytest.raises(duckdb.CatalogException):  # the whole text names a table that does not exist
        con.execute(sql)
    assert con.execute("SELECT survivor FROM main.x").fetchall() == [(42,)]


def test_a_quoted_name_with_quotes_inside_reads_that_table(tmp_path: Path) -> None:
    sql = _assertion_sql(tmp_path, """main."p'; x\"""".replace("'", "''"))
    con = _warehouse(tmp_path)
    with pytest.raises(duckdb.Error, match=r"pid.references \(1 rows\)"):  # pid 2 is an orphan
        con.execute(sql)
