"""The one local SparkSession of a test run: quiet, bound to 127.0.0.1, small shuffles, its
warehouse and Derby metastore in a temporary directory (never spark-warehouse/ in the repo)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "2",
    "spark.sql.session.timeZone": "UTC",
}


def local_session() -> Any:
    """getOrCreate: every test module that needs Spark shares one session (and one JVM)."""
    from pyspark.sql import SparkSession

    home = Path(tempfile.mkdtemp(prefix="dq-spark-"))
    builder = SparkSession.builder.master("local[2]").appName("dq-tests")
    for key, value in {
        **SPARK_CONF,
        "spark.sql.warehouse.dir": str(home / "spark-warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={home / 'derby'}",
    }.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
