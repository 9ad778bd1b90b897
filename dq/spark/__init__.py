"""Apache Spark as a second execution backend (`--backend spark`): the same contracts, checks and
exit codes, measured by Spark SQL and judged by Pandera. pyspark is imported only here (and by GX's
Spark datasource in dq.gx), so the DuckDB backend never needs a JVM."""
