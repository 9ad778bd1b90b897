"""Frames in the training code: a contract checked on a pandas, polars or Arrow object in process.

The frame becomes an Arrow table (polars and Arrow: the same buffers; pandas: Arrow's own
conversion, zero-copy where the column's memory already is Arrow's or a plain numeric array),
which is registered on an in-memory DuckDB connection: DuckDB scans the Arrow buffers where they
are, nothing is copied into DuckDB's storage and nothing is written to disk. From there the flow
is the table path's: compile, bind every value to the column's type, run the engines, one result.

Exactness comes first. A frame's column reaches the checks with its own type or is refused with
the column's name and the fix, never guessed:
- a pandas `object` column must hold one kind of Python value (all str, all int, ...); a mix of
  ints and floats would silently become doubles (2**60 + 1 is then 2**60), a mix of naive and
  aware datetimes would lose the zones, dates beside datetimes would all become dates, an int past
  64 bits has no Arrow type: all are refused;
- a polars `Object` column (Arrow sees the objects' addresses), an Arrow date64 value off
  midnight (DuckDB reads the day alone) and a nanosecond duration with a sub-microsecond part
  (DuckDB's INTERVAL keeps microseconds) are refused, in a dictionary, struct, list or map too;
  so is a pandas object column of pd.Timestamp values with nanoseconds (Arrow made them microseconds);
- a column whose type cannot be known (all None in an `object` column, polars' Null) is refused;
- pandas' NaN in a float column is pandas' missing value and is checked as NULL; polars and Arrow
  keep NaN and NULL apart, and dq's SQL counts NaN as missing either way;
- timezone-aware columns arrive as TIMESTAMP WITH TIME ZONE (instants, compared in UTC), naive
  ones as TIMESTAMP; pandas' nanosecond columns as TIMESTAMP_NS (a `type: timestamp` check
  reports the difference rather than cast).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import duckdb

from dq.checks.relation import split_table_name
from dq.checks.result import RunResult
from dq.config import Settings
from dq.contract.model import Dataset, load_contract
from dq.data.shared import SharedConnection
from dq.data.source import Table
from dq.errors import DqError, SourceError

DATA = "data"  # how messages name the frame passed as `data=`
_PANDAS_KINDS = {"string", "integer", "floating", "decimal", "boolean", "datetime", "date", "time", "bytes"}


class FrameError(SourceError):
    """A frame dq cannot check exactly (exit 3, like a table it cannot read)."""


@dataclass(frozen=True)
class Frame:
    """A caller's object as Arrow, and how reports name it."""

    name: str
    arrow: Any  # pyarrow.Table
    kind: str  # pandas.DataFrame, polars.DataFrame, pyarrow.Table

    @property
    def label(self) -> str:
        return f"frame {self.name} ({self.kind}, {self.arrow.num_rows} rows)"


def to_arrow(obj: Any, name: str) -> Frame:
    """The object as a pyarrow.Table, or a FrameError naming the frame, the column and the fix."""
    module = type(obj).__module__.split(".")[0]
    kind = f"{module}.{type(obj).__name__}"
    if module == "pandas" and type(obj).__name__ == "DataFrame":
        table = _from_pandas(obj, name)
    elif module == "polars" and type(obj).__name__ == "DataFrame":
        if objects := [column for column, dtype in obj.schema.items() if "Object" in str(dtype)]:
            raise FrameError(
                f"frame {name}: polars column {objects[0]} is of type Object (Python objects), which polars hands "
                "to Arrow as the objects' 8-byte addresses, not their values. Fix: cast it to a polars type "
                f"(pl.col({objects[0]!r}).cast(pl.Int64), pl.Utf8, pl.Decimal, ...) before checking"
            )
        try:
            table = obj.to_arrow()
        except Exception as exc:  # polars' Object dtype has no Arrow form
            raise FrameError(f"frame {name}: polars cannot hand this frame over as Arrow: {exc}") from None
    elif module == "polars" and type(obj).__name__ == "LazyFrame":
        raise FrameError(
            f"frame {name} is a polars LazyFrame: its rows do not exist until it is collected, and each "
            "collect may read other data. Fix: pass `lazy.collect()` and train on that same frame"
        )
    elif module == "pyarrow" and type(obj).__name__ == "Table":
        table = obj
    elif module == "pyarrow" and type(obj).__name__ == "RecordBatch":
        import pyarrow as pa

        table = pa.Table.from_batches([obj])
    else:
        raise FrameError(
            f"frame {name} is a {kind}; dq checks a pandas.DataFrame, a polars.DataFrame or a pyarrow.Table "
            "(a RecordBatchReader streams once: read_all() it first)"
        )
    _known_columns(table, name)
    return Frame(name, table, kind)


def _from_pandas(frame: Any, name: str) -> Any:
    import pandas as pd
    import pyarrow as pa

    columns = list(frame.columns)
    if any(not isinstance(c, str) for c in columns):
        bad = next(c for c in columns if not isinstance(c, str))
        raise FrameError(f"frame {name}: column name {bad!r} is not a string. Fix: df.columns = df.columns.map(str)")
    if any(n is not None for n in frame.index.names):
        shown = ", ".join(str(n) for n in frame.index.names if n is not None)
        raise FrameError(
            f"frame {name}: its index ({shown}) holds data that dq would not see. Fix: df.reset_index() "
            "(to check it as columns) or df.reset_index(drop=True)"
        )
    for column in columns:
        series = frame[column]
        if series.dtype != object:
            continue
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "empty":
            raise FrameError(
                f"frame {name}: column {column} is an object column holding no values, so its type is unknown. "
                f"Fix: give it a dtype (df[{column!r}] = df[{column!r}].astype('string'), 'Int64', ...)"
            )
        if inferred not in _PANDAS_KINDS:
            raise FrameError(
                f"frame {name}: object column {column} mixes kinds of values ({inferred}); converting it would "
                f"change some of them. Fix: give it one dtype (df[{column!r}].astype(...)) before checking"
            )
        if (
            inferred == "integer"
            and (big := next((v for v in series.dropna() if not -(2**63) <= v < 2**64), None)) is not None
        ):
            raise FrameError(
                f"frame {name}: object column {column} holds the integer {big}, past 64 bits: no Arrow or DuckDB "
                f"integer type holds it exactly. Fix: store it as text (df[{column!r}].astype('string')) or as "
                "decimal.Decimal values, and declare that type"
            )
        if inferred in ("date", "datetime") and len({_is_datetime(v) for v in series.dropna()}) > 1:
            raise FrameError(
                f"frame {name}: object column {column} mixes dates and datetimes; Arrow would read every value as "
                f"a {inferred}, cutting the times off or adding midnights. Fix: pd.to_datetime(df[{column!r}]) (all "
                "datetimes) or df[{column!r}].map(lambda v: v.date()) (all dates) before checking"
            )
        if inferred == "datetime" and any(getattr(v, "nanosecond", 0) for v in series.dropna()):
            raise FrameError(
                f"frame {name}: object column {column} holds pd.Timestamp values with nanoseconds, which Arrow "
                f"would read as microseconds, dropping them. Fix: pd.to_datetime(df[{column!r}]) (a datetime64[ns] "
                "column, checked as TIMESTAMP_NS) before checking"
            )
        if inferred == "datetime":
            aware = {getattr(v, "tzinfo", None) is not None for v in series.dropna()}
            if len(aware) > 1:
                raise FrameError(
                    f"frame {name}: column {column} mixes timezone-aware and naive datetimes; Arrow would drop "
                    f"the zones. Fix: pd.to_datetime(df[{column!r}], utc=True) or make them all naive"
                )
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise FrameError(f"frame {name}: pandas cannot hand this frame over as Arrow: {exc}") from None


def _is_datetime(value: Any) -> bool:
    import datetime

    return isinstance(value, datetime.datetime)


_DAY_MS = 86_400_000


def _known_columns(table: Any, name: str) -> None:
    import pyarrow as pa

    names = table.schema.names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise FrameError(f"frame {name}: column {duplicated[0]} appears twice. Fix: rename one of them")
    for field in table.schema:
        if pa.types.is_null(field.type):
            raise FrameError(
                f"frame {name}: column {field.name} has no type (every value is null, Arrow type null). "
                "Fix: cast it to the type the contract declares"
            )
        if _lossy(field.type):
            for chunk in table[field.name].chunks:
                _refuse_lossy(chunk, field.name, name)


def _lossy(kind: Any) -> bool:
    """Whether the Arrow type holds (at any depth) a type DuckDB may read as another value: a date64
    (milliseconds, allowed off midnight: DuckDB reads the day) or a duration in nanoseconds (DuckDB's
    INTERVAL keeps microseconds)."""
    import pyarrow as pa

    if pa.types.is_date64(kind) or (pa.types.is_duration(kind) and kind.unit == "ns"):
        return True
    if pa.types.is_dictionary(kind):
        return _lossy(kind.value_type)
    if pa.types.is_map(kind):
        return _lossy(kind.key_type) or _lossy(kind.item_type)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _lossy(kind.value_type)
    if pa.types.is_struct(kind):
        return any(_lossy(kind.field(i).type) for i in range(kind.num_fields))
    return False


def _refuse_lossy(array: Any, column: str, name: str) -> None:
    """Refuse a date64 value off midnight or a nanosecond duration with a sub-microsecond part,
    wherever it is: in a dictionary's values, a struct's field, a list's or map's items."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):  # every value of the dictionary, used or not: refused in doubt
        _refuse_lossy(array.dictionary, column, name)
    elif pa.types.is_map(kind):
        _refuse_lossy(array.keys, column, name)
        _refuse_lossy(array.items, column, name)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        _refuse_lossy(array.flatten(), column, name)
    elif pa.types.is_struct(kind):
        for child in array.flatten():
            _refuse_lossy(child, column, name)
    elif pa.types.is_date64(kind):  # milliseconds, which Arrow allows off midnight: DuckDB drops the time
        millis = pc.cast(array, pa.int64())
        if pc.any(pc.not_equal(pc.subtract(millis, pc.multiply(pc.divide(millis, _DAY_MS), _DAY_MS)), 0)).as_py():
            raise FrameError(
                f"frame {name}: Arrow date64 column {column} holds a time of day (not a multiple of a "
                "day's milliseconds), which DuckDB would read as that day, cutting the time off. Fix: cast it "
                "to pa.timestamp('ms') (to check the times) or to pa.date32() (to drop them) before checking"
            )
    elif pa.types.is_duration(kind) and kind.unit == "ns":
        nanos = pc.cast(array, pa.int64())
        if pc.any(pc.not_equal(pc.subtract(nanos, pc.multiply(pc.divide(nanos, 1000), 1000)), 0)).as_py():
            raise FrameError(
                f"frame {name}: column {column} is a duration in nanoseconds holding a sub-microsecond part, which "
                "DuckDB would read as an INTERVAL in microseconds, dropping the nanoseconds. Fix: round it to "
                "microseconds (pandas: df[col].dt.round('us'); polars: cast to pl.Duration('us')) or check it "
                "as its integer nanoseconds (pandas: df[col].astype('int64'); polars: cast to pl.Int64)"
            )


class FrameCatalog:
    """The frames of one run, registered on one in-memory connection, looked up by dataset."""

    def __init__(self, frames: Mapping[str, Any], data: Any | None) -> None:
        self._objects, self._data_object = dict(frames), data
        self.frames: dict[str, Frame] = {}
        self.data: Frame | None = None
        self._registered: dict[str, Table] = {}
        self.own: Dataset | None = None  # the dataset of the contract `data` stands for

    def _convert(self) -> None:
        for key, obj in self._objects.items():
            if not isinstance(key, str) or not key.strip():
                raise FrameError(f"frames: every name is a dataset name (a dbt model or a table), got {key!r}")
            split_table_name(key)  # a name that is no dataset name is refused here
            self.frames[key] = to_arrow(obj, key)
        self.data = to_arrow(self._data_object, DATA) if self._data_object is not None else None

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB in UTC with every frame registered (a view over its Arrow data)."""
        from dq.data.files import memory_connection

        self._convert()  # inside the runner: a frame dq cannot check is that contract's error result
        connection = memory_connection()
        shared = cast(duckdb.DuckDBPyConnection, SharedConnection(connection))
        everything = [*self.frames.values(), *([self.data] if self.data is not None else [])]
        for index, frame in enumerate(everything):
            internal = f"__dq_frame_{index}"
            try:
                connection.register(internal, frame.arrow)
                described = connection.execute(f'DESCRIBE "{internal}"').fetchall()
            except duckdb.Error as exc:
                connection.close()
                raise FrameError(f"{frame.label}: DuckDB cannot read it as Arrow: {exc}") from None
            columns = {str(row[0]): str(row[1]) for row in described}
            self._registered["" if frame is self.data else frame.name] = Table(
                shared, Path(f"<{frame.name}>"), "main", internal, columns, copy_of=frame.label
            )
            _, schema, bare = split_table_name(frame.name)
            if frame is not self.data and schema == "main" and not bare.startswith("__dq"):
                # custom SQL may name another frame as a table: `select ... from stg_plans`
                connection.register(bare, frame.arrow)
        return connection

    def resolve(self, dataset: Dataset, connection: duckdb.DuckDBPyConnection, settings: Any) -> Table:
        """The frame a dataset names: `data` for the contract's own dataset, else the frame by name."""
        del connection, settings  # the frames are already registered
        matches = [name for name in self.frames if _names(name, dataset)]
        if self.data is not None and matches and all(self._objects[m] is self._data_object for m in matches):
            matches = []  # the same object passed as data= and by name: one dataset, no ambiguity
        own = self.data is not None and self.own is not None and _same(dataset, self.own)
        if len(matches) + own > 1:
            shown = ", ".join([*(["data"] if own else []), *(f"frames[{m!r}]" for m in matches)])
            raise FrameError(f"{shown} all stand for {dataset.describe()}: pass it once")
        # "" is no frame's name: `data` cannot collide with frames["data"]
        found = self._registered["" if own else matches[0]] if own or matches else None
        if found is not None:
            return replace(found, stands_for=dataset.describe())
        passed = ", ".join(self.frames) or "none"
        raise FrameError(
            f"{dataset.describe()} is not among the frames passed (frames: {passed}). Fix: pass it by name, "
            f"frames={{{_suggest(dataset)!r}: df}}"
        )


def _same(a: Dataset, b: Dataset) -> bool:
    if a.path is not None or b.path is not None:
        return a.path == b.path
    if a.model is not None or b.model is not None:
        return (a.model, a.version) == (b.model, b.version)
    return split_table_name(a.table or "") == split_table_name(b.table or "")


def _names(key: str, dataset: Dataset) -> bool:
    """Does the frame name `key` name this dataset? A model by its name (or `name.v2` for a pinned
    version), a table by its schema-qualified name (`customers` is `main.customers`), files by their path."""
    if dataset.path is not None:
        return key == dataset.path
    if dataset.model is not None:
        if dataset.version is not None:
            return key in (dataset.model, f"{dataset.model}.v{dataset.version}")
        return key == dataset.model
    return split_table_name(key) == split_table_name(dataset.table or "")


def _suggest(dataset: Dataset) -> str:
    return dataset.model or dataset.path or split_table_name(dataset.table or "")[2]


def validate_frames(
    contract_paths: Sequence[str | Path], settings: Settings, data: Any, frames: Mapping[str, Any]
) -> RunResult:
    """Check each contract on the frames: the one contract's dataset is `data`, or a frame by name.

    A frame dq cannot check exactly is an `error` result naming it (exit 3), as a table that
    cannot be read is on the command line."""
    from dq.run.runner import validate

    if data is not None and len(contract_paths) != 1:
        raise ValueError(f"data= is one dataset, so it takes one contract; got {len(contract_paths)}")
    catalog = FrameCatalog(frames, data)
    if data is not None:
        catalog.own = _own_dataset(contract_paths[0])
    return validate(contract_paths, settings, connect=catalog.connect, resolve=catalog.resolve)


def _own_dataset(path: str | Path) -> Dataset | None:
    """The contract's dataset, which `data` stands for; None if the contract does not load (the
    runner then reports why)."""
    try:
        return load_contract(path).dataset
    except DqError:
        return None
