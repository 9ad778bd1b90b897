"""`dq schema`: the JSON Schema of the contract format, for editors that validate and complete YAML."""

from __future__ import annotations

import typer

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"


def schema() -> None:
    """Print the JSON Schema of a contract file (from dq's pydantic model).

    Save it (`dq schema > dq-contract.schema.json`) and put
    `# yaml-language-server: $schema=../dq-contract.schema.json` atop a contract: the YAML plug-ins
    of VS Code and JetBrains IDEs then validate and complete it as you type.
    """
    import json

    from dq.contract.model import Contract

    document = {"$schema": SCHEMA_URI, "title": "dq contract", **Contract.model_json_schema()}
    typer.echo(json.dumps(document, indent=2, sort_keys=False))
