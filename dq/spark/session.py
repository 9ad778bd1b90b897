"""The SparkSession dq validates in: the caller's, the active one, or one dq starts, quiet and local.

A training job on a cluster passes its own session (`dq.require_valid(..., spark=session)`) and dq
changes none of its settings. Otherwise dq reuses the process's active session, or starts one from
Spark's own configuration (spark-defaults.conf, `PYSPARK_SUBMIT_ARGS`) overlaid with
`[tool.dq.spark]`: `master` (Spark's default is `local[*]`) and `conf`. A session dq starts is quiet
(no UI, no progress bars, errors-only logging, bound to 127.0.0.1 when local) and reads time in UTC
like dq's DuckDB does, so a TIMESTAMP means the same instant on both backends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dq.config import Settings
from dq.errors import SourceError

LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
# Settings for a session dq starts; `[tool.dq.spark] conf` overrides any of them.
QUIET: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG_CONFIG}",
}
LOCAL: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "4",  # a local run has few cores: 200 shuffle tasks cost seconds
}


def spark_session(settings: Settings, given: Any = None) -> Any:
    """The session to validate in; SourceError (exit 3) with the fix when Spark cannot start."""
    if given is not None:
        return given
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SourceError(
            "the spark backend needs pyspark. Fix: pip install 'dq[spark]' (and a Java 17 runtime)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.appName("dq")
    master = settings.spark.master
    if master is not None:
        builder = builder.master(master)
    local = master is None or master.startswith("local")
    for key, value in {**QUIET, **(LOCAL if local else {}), **settings.spark.conf}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, a master that does not answer: Py4J and pyspark raise many kinds
        raise SourceError(
            f"cannot start Spark (master {master or 'from Spark configuration, default local[*]'}): "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}. "
            "Fix: install a Java 17 runtime, or point [tool.dq.spark] master at a running cluster"
        ) from None
    session.sparkContext.setLogLevel("ERROR")
    return session
