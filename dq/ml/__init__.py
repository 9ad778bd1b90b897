"""Training-data rules: label, leakage and drift statistics computed in DuckDB, and drift profiles."""
