"""The contract: its file format (YAML 1.2, exact numbers), its typed model, finding contract files."""
