"""One module per CLI command; `dq/cli.py` composes them. Keep module tops light (no GX, dbt)."""
