"""The file formats a `dataset: {path}` can name, told from the path when `format:` is not given."""

from __future__ import annotations

from pathlib import Path

_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_COMPRESSIONS = (".gz", ".zst")


def format_of(path: str) -> str:
    """The format a path's extension names (`x.csv.gz` is CSV), `delta` for a local directory that
    holds a Delta log (`_delta_log/`), or a ValueError with the fix."""
    if "://" not in path and "*" not in path and (Path(path).expanduser() / "_delta_log").is_dir():
        return "delta"
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    for compression in _COMPRESSIONS:
        name = name.removesuffix(compression)
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    raise ValueError(
        f"cannot tell the format of path {path!r} from its extension; give `format: parquet|csv|json|delta` "
        "(or end the path in .parquet, .csv or .json)"
    )
