"""`dq export pandera`: a contract as Python code building Pandera schemas for pandas and polars.

Pandera's own YAML/JSON round trip drops custom checks (pandera #733, #929, #1937), so dq writes
code: a module with `pandas_schema()` (pandera.pandas) and `polars_schema()` (pandera.polars),
each holding one named `pa.Check` per exported dq check (the check's name is dq's), and
`failed_checks(errors)` to read dq's names back from a lazy validation's `SchemaErrors`.

The checks are the contract's compiled specs bound to the dataset's real column types, as `dq
validate` binds them, so bounds are values of each column's own type. dq's semantics are kept:
NULL and NaN are both missing (pandas' `isna`; in polars `is_null() | is_nan()`), row checks skip
missing values, `unique` counts every row whose value repeats, quantiles are discrete (a value
that occurs, `interpolation="lower"`). A column's `type` is checked as the frame's dtype that
DuckDB's type arrives as (BIGINT: int64 / Int64 / pl.Int64, ...). Not exported, listed in
`NOT_EXPORTED` with why: checks that read another dataset (references, leakage.disjoint_from),
custom SQL, and the label, leakage and drift statistics (computed by dq in DuckDB against a
profile). Means and deviations are float sums in pandas and polars (dq's are compensated): they
can differ in the last digits, so a bound within rounding of the data's mean can decide apart.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from dq.checks.spec import CheckKind, CheckSpec, TypedText
from dq.config import Settings
from dq.contract.types import base_type, column_family
from dq.formats.bound import bound_checks

_NOT_EXPORTED = {
    CheckKind.references: "reads another dataset; a Pandera schema sees one frame",
    CheckKind.disjoint_keys: "reads another dataset (the other split); a Pandera schema sees one frame",
    CheckKind.custom_sql: "SQL: Pandera runs Python on the frame",
    **dict.fromkeys(
        (CheckKind.reconcile_row_count, CheckKind.reconcile_keys, CheckKind.reconcile_sum, CheckKind.reconcile_mean),
        "reconciles with the source dataset; a Pandera schema sees one frame",
    ),
    CheckKind.anomaly: "judged against dq's results history of past runs: a Pandera schema has none",
    CheckKind.change_from_last: "judged against dq's results history of past runs: a Pandera schema has none",
}
_STATISTIC = "a label/leakage/drift statistic dq computes in DuckDB (against a reference profile): no Pandera check"
# the dtype a DuckDB type arrives as: pandas spellings, polars spellings
_PANDAS_TYPES = {
    "BIGINT": ["int64", "Int64", "int64[pyarrow]"],
    "INTEGER": ["int32", "Int32", "int32[pyarrow]"],
    "SMALLINT": ["int16", "Int16", "int16[pyarrow]"],
    "TINYINT": ["int8", "Int8", "int8[pyarrow]"],
    "DOUBLE": ["float64", "Float64", "double[pyarrow]"],
    "FLOAT": ["float32", "Float32", "float[pyarrow]"],
    "VARCHAR": ["object", "str", "string", "string[python]", "string[pyarrow]", "large_string[pyarrow]"],
    "BOOLEAN": ["bool", "boolean", "bool[pyarrow]"],
    "TIMESTAMP": ["datetime64[us]", "timestamp[us][pyarrow]"],
    "TIMESTAMP_NS": ["datetime64[ns]", "timestamp[ns][pyarrow]"],
    "DATE": ["object", "date32[day][pyarrow]"],
}
_POLARS_TYPES = {
    "BIGINT": ["Int64"],
    "INTEGER": ["Int32"],
    "SMALLINT": ["Int16"],
    "TINYINT": ["Int8"],
    "DOUBLE": ["Float64"],
    "FLOAT": ["Float32"],
    "VARCHAR": ["String"],
    "BOOLEAN": ["Boolean"],
    "TIMESTAMP": ["Datetime(time_unit='us', time_zone=None)"],
    "TIMESTAMP_NS": ["Datetime(time_unit='ns', time_zone=None)"],
    "DATE": ["Date"],
}


def export_module(path: str | Path, settings: Settings) -> tuple[str, list[tuple[str, str]]]:
    """The module's source and the checks left out, with why."""
    with bound_checks(path, settings) as bound:
        exported: list[tuple[CheckSpec, str, str]] = []  # spec, pandas check, polars check
        skipped = list(bound.skipped)
        for spec in bound.specs:
            why = _why_not(spec)
            if why is not None:
                skipped.append((spec.name, why))
                continue
            exported.append((spec, *_checks(spec)))
        name, version = bound.contract.contract, bound.contract.version
    return _module(name, version, str(path), exported, skipped), skipped


def _why_not(spec: CheckSpec) -> str | None:
    if spec.segments:  # as a whole-table check it would be weaker than the contract
        return "a per-segment check (`segments`): dq measures it in one grouped query; not exported"
    if spec.kind in _NOT_EXPORTED:
        return _NOT_EXPORTED[spec.kind]
    if spec.kind.value.startswith(("label_", "drift_", "correlation", "categorical", "feature_before")):
        return (
            _STATISTIC if spec.kind is not CheckKind.feature_before_label else "reads two columns' times: not exported"
        )
    if spec.where is not None or spec.allowed_failing is not None:
        return "a where: condition (SQL) or a tolerance: judged by dq's own SQL, not exported"
    if any(isinstance(v, TypedText) for v in spec.args.get("values", ())):
        return "accepted values DuckDB reads from text in the column's type (dates, UUIDs): not exported"
    if spec.args.get("collated_columns"):
        return "a collated column (COLLATE NOCASE...): pandas and polars compare byte-wise"
    if spec.kind is CheckKind.column_type and base_type(str(spec.args["type"])) not in _PANDAS_TYPES:
        return f"no pandas/polars dtype stands for {spec.args['type']} exactly"
    return None


def _checks(spec: CheckSpec) -> tuple[str, str]:
    """(pandas, polars) source of one named Check."""
    maker: Callable[[CheckSpec], tuple[str, str]] = _MAKERS[spec.kind]
    pandas_body, polars_body = maker(spec)
    name = repr(spec.name)
    return (
        f"pa.Check(lambda df: {pandas_body}, name={name}, ignore_na=False)",
        f"pa.Check(lambda data: data.lazyframe.select({polars_body}), name={name}, ignore_na=False)",
    )


def _col(spec: CheckSpec) -> str:
    return repr(spec.columns[0])


def _missing_pd(spec: CheckSpec) -> str:
    return f"df[{_col(spec)}].isna()"


def _missing_pl(spec: CheckSpec) -> str:
    column = f"pl.col({_col(spec)})"
    floats = column_family(str(spec.args.get("column_type", ""))) == "float"
    return f"({column}.is_null() | {column}.is_nan())" if floats else f"{column}.is_null()"


def _value(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"Decimal({str(value)!r})"
    return repr(value)


def _within(expression_pd: str, expression_pl: str, spec: CheckSpec) -> tuple[str, str]:
    low, high = spec.args.get("min"), spec.args.get("max")
    parts_pd = [f"({expression_pd} >= {_value(low)})"] if low is not None else []
    parts_pd += [f"({expression_pd} <= {_value(high)})"] if high is not None else []
    parts_pl = [f"({expression_pl} >= {_value(low)})"] if low is not None else []
    parts_pl += [f"({expression_pl} <= {_value(high)})"] if high is not None else []
    return " & ".join(parts_pd) or "True", " & ".join(parts_pl) or "pl.lit(True)"


def _row(spec: CheckSpec, holds_pd: str, holds_pl: str) -> tuple[str, str]:
    """A row check: missing values pass (dq's row checks skip them)."""
    return (
        f"{_missing_pd(spec)} | ({holds_pd}).fillna(False).astype(bool)",
        f"({_missing_pl(spec)} | ({holds_pl})).fill_null(True)",
    )


def _present(spec: CheckSpec, expr_pd: str, expr_pl: str) -> tuple[str, str]:
    """The column without its missing values (for aggregates)."""
    return (
        f"df[{_col(spec)}][~{_missing_pd(spec)}]{expr_pd}",
        f"pl.col({_col(spec)}).filter(~{_missing_pl(spec)}){expr_pl}",
    )


def _between(spec: CheckSpec) -> tuple[str, str]:
    return _row(spec, *_within(f"df[{_col(spec)}]", f"pl.col({_col(spec)})", spec))


def _length(spec: CheckSpec) -> tuple[str, str]:
    return _row(spec, *_within(f"df[{_col(spec)}].str.len()", f"pl.col({_col(spec)}).str.len_chars()", spec))


def _accepted(spec: CheckSpec) -> tuple[str, str]:
    values = "[" + ", ".join(_value(v) for v in spec.args["values"]) + "]"
    return _row(spec, f"df[{_col(spec)}].isin({values})", f"pl.col({_col(spec)}).is_in({values})")


def _pattern(spec: CheckSpec) -> tuple[str, str]:
    regex = repr(spec.args["regex"])
    return _row(
        spec,
        f"df[{_col(spec)}].astype(str).str.contains({regex}, regex=True)",
        f"pl.col({_col(spec)}).str.contains({regex})",
    )


def _not_null(spec: CheckSpec) -> tuple[str, str]:
    return f"~{_missing_pd(spec)}", f"~{_missing_pl(spec)}"


def _unique(spec: CheckSpec) -> tuple[str, str]:
    """Every row whose (complete) key repeats fails; a key with a missing part is not compared."""
    columns = repr(list(spec.columns))
    missing_pd = " | ".join(f"df[{c!r}].isna()" for c in spec.columns)
    missing_pl = " | ".join(f"pl.col({c!r}).is_null()" for c in spec.columns)
    return (
        f"({missing_pd}) | ~df.duplicated(subset={columns}, keep=False)",
        f"({missing_pl}) | ~pl.struct({columns}).is_duplicated()",
    )


def _frame(spec: CheckSpec, value_pd: str, value_pl: str) -> tuple[str, str]:
    """An aggregate: one boolean for the whole frame."""
    holds_pd, holds_pl = _within("__v", "__v", spec)
    return (
        f"(lambda __v: bool(__v == __v and {holds_pd.replace(' & ', ' and ')}))({value_pd})",
        f"{value_pl}.alias('__v').pipe(lambda __v: {holds_pl}.fill_null(False))",
    )


def _row_count(spec: CheckSpec) -> tuple[str, str]:
    return _frame(spec, "len(df)", "pl.len()")


def _null_fraction(spec: CheckSpec) -> tuple[str, str]:
    return _frame(spec, f"float({_missing_pd(spec)}.mean()) if len(df) else 0.0", f"{_missing_pl(spec)}.mean()")


def _distinct(spec: CheckSpec) -> tuple[str, str]:
    return _frame(spec, *_present(spec, ".nunique()", ".n_unique()"))


def _mean(spec: CheckSpec) -> tuple[str, str]:
    return _frame(spec, *_present(spec, ".astype(float).mean()", ".cast(pl.Float64).mean()"))


def _stddev(spec: CheckSpec) -> tuple[str, str]:
    return _frame(spec, *_present(spec, ".astype(float).std(ddof=1)", ".cast(pl.Float64).std(ddof=1)"))


def _quantile(spec: CheckSpec) -> tuple[str, str]:
    q = float(spec.args["q"])
    pandas_q, polars_q = _present(
        spec, f".quantile({q}, interpolation='lower')", f".quantile({q}, interpolation='lower')"
    )
    return _frame(spec, pandas_q, polars_q)


def _freshness(spec: CheckSpec) -> tuple[str, str]:
    """The newest value at most max_age before the moment of validation (UTC; naive = UTC)."""
    seconds = float(spec.args["max_age_seconds"])
    column = _col(spec)
    return (
        f"_fresh_pandas(df[{column}], {seconds})",
        f"_fresh_polars(pl.col({column}), data.lazyframe.collect_schema()[{column}], {seconds})",
    )


def _exists(spec: CheckSpec) -> tuple[str, str]:
    column = _col(spec)
    return f"{column} in df.columns", f"pl.lit({column} in data.lazyframe.collect_schema().names())"


def _column_type(spec: CheckSpec) -> tuple[str, str]:
    declared = str(spec.args["type"])
    column = _col(spec)
    base = base_type(declared)
    if base == "DECIMAL":
        return (
            f"{column} in df.columns and _all_decimal(df[{column}])",
            f"pl.lit(str(data.lazyframe.collect_schema().get({column})) == {_polars_decimal(declared)!r})",
        )
    if declared.upper() == "TIMESTAMP WITH TIME ZONE":
        return (
            f"{column} in df.columns and str(df[{column}].dtype).startswith('datetime64[us, ')",
            f"pl.lit(str(data.lazyframe.collect_schema().get({column})).startswith(\"Datetime(time_unit='us', "
            f"time_zone='\"))",
        )
    return (
        f"{column} in df.columns and str(df[{column}].dtype) in {_PANDAS_TYPES[base]!r}",
        f"pl.lit(str(data.lazyframe.collect_schema().get({column})) in {_POLARS_TYPES[base]!r})",
    )


def _polars_decimal(declared: str) -> str:
    inside = declared[declared.index("(") + 1 : declared.index(")")] if "(" in declared else "18,3"
    precision, scale = (int(x) for x in inside.split(","))
    return f"Decimal(precision={precision}, scale={scale})"


def _no_extra(spec: CheckSpec) -> tuple[str, str]:
    allowed = repr(set(spec.args["allowed"]))
    return (
        f"set(df.columns) <= {allowed}",
        f"pl.lit(set(data.lazyframe.collect_schema().names()) <= {allowed})",
    )


_MAKERS: dict[CheckKind, Callable[[CheckSpec], tuple[str, str]]] = {
    CheckKind.column_exists: _exists,
    CheckKind.column_type: _column_type,
    CheckKind.no_extra_columns: _no_extra,
    CheckKind.not_null: _not_null,
    CheckKind.unique: _unique,
    CheckKind.between: _between,
    CheckKind.accepted_values: _accepted,
    CheckKind.pattern: _pattern,
    CheckKind.length: _length,
    CheckKind.row_count: _row_count,
    CheckKind.null_fraction: _null_fraction,
    CheckKind.distinct_count: _distinct,
    CheckKind.mean: _mean,
    CheckKind.stddev: _stddev,
    CheckKind.quantile: _quantile,
    CheckKind.freshness: _freshness,
}

_HELPERS = '''
def _fresh_pandas(values, max_age_seconds):
    import pandas as pd

    newest = values.max()
    if newest is None or newest is pd.NaT or newest != newest:
        return False
    newest = pd.Timestamp(newest)
    newest = newest.tz_localize("UTC") if newest.tzinfo is None else newest
    return bool(pd.Timestamp.now(tz="UTC") - newest <= pd.Timedelta(seconds=max_age_seconds))


def _fresh_polars(column, dtype, max_age_seconds):
    import datetime as dt

    import polars as pl

    now = dt.datetime.now(dt.timezone.utc)
    if getattr(dtype, "time_zone", None) is None:
        now = now.replace(tzinfo=None)  # a naive timestamp is read as UTC
    age = pl.lit(now) - column.max()
    return (age <= pl.duration(seconds=max_age_seconds)).fill_null(False)


def _all_decimal(values):
    return all(isinstance(v, Decimal) for v in values.dropna())


def failed_checks(errors):
    """dq's names of the checks a lazy validation found failing (`pa.errors.SchemaErrors`)."""
    cases = errors.failure_cases
    column = cases["check"]
    names = column.to_list() if hasattr(column, "to_list") else list(column)
    return {str(name) for name in names if str(name) in EXPORTED}
'''


def _module(
    name: str, version: str, source: str, exported: list[tuple[CheckSpec, str, str]], skipped: list[tuple[str, str]]
) -> str:
    not_exported = "\n".join(f"    {check!r}: {why!r}," for check, why in skipped)
    lines = [
        f'"""Pandera schemas of dq contract {name} {version} (exported by `dq export pandera {source}`).',
        "",
        "    import pandera.errors",
        "    try:",
        "        pandas_schema().validate(df, lazy=True)      # or polars_schema() for a polars frame",
        "    except pandera.errors.SchemaErrors as errors:",
        "        print(failed_checks(errors))                 # dq's check names",
        "",
        "Each check is named after the dq check it states; NOT_EXPORTED lists those with no equivalent.",
        '"""',
        "",
        "from decimal import Decimal  # noqa: F401  (bounds of DECIMAL columns are spelled as Decimal)",
        "",
        f"CONTRACT = {name!r}",
        f"VERSION = {version!r}",
        "EXPORTED = [",
        *[f"    {spec.name!r}," for spec, _, _ in exported],
        "]",
        "NOT_EXPORTED = {",
        *([not_exported] if not_exported else []),
        "}",
        "",
        "# --- schemas: pandas and polars, one named Check per dq check",
        "",
        "",
        "def pandas_schema():",
        "    import pandera.pandas as pa",
        "",
        "    return pa.DataFrameSchema(",
        "        checks=[",
        *[f"            {pandas}," for _, pandas, _ in exported],
        "        ],",
        f"        name={name!r},",
        "    )",
        "",
        "",
        "def polars_schema():",
        "    import pandera.polars as pa",
        "    import polars as pl",
        "",
        "    return pa.DataFrameSchema(",
        "        checks=[",
        *[f"            {polars}," for _, _, polars in exported],
        "        ],",
        f"        name={name!r},",
        "    )",
        "",
        _HELPERS,
    ]
    return "\n".join(lines)
