"""dbt: its artefacts (manifest), `dq dbt build`, `dq dbt export`, drafting contracts, changed models."""
