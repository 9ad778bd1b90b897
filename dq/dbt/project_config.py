"""The two hooks `dq dbt export` puts into a project's own `dbt_project.yml`, edited in place.

A properties YAML may patch a model only once, and most projects already describe their models in
YAML (jaffle_shop's `schema.yml`): a second patch from dq fails `dbt build`. What needs no patch
goes into project-level config instead, which dbt merges (hooks add up across levels):

- `models: <project>: +post-hook: dq_gate()`: runs on every model of the project and dispatches
  to the model's own assertion macro (`dq_assert__<model>`), or renders nothing, which dbt skips;
- `on-run-start: dq_require_models()`: fails the run when a model a contract gates is gone (a
  rename), so a gate cannot vanish: dbt itself only warns about a patch for a missing model.

Both are guarded with `is defined`, so a project with dq's generated files removed still builds.
The file is read and written round-trip (ruamel.yaml): the user's comments, order and quoting
stay; only dq's two entries (recognised by the macro they call) are added or replaced.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from dq.errors import ContractError

PROJECT_FILE = Path("dbt_project.yml")
GATE_HOOK = "{% if dq_gate is defined %}{{ dq_gate() }}{% endif %}"
REQUIRE_HOOK = "{% if dq_require_models is defined %}{{ dq_require_models() }}{% endif %}"
_MARKERS = {GATE_HOOK: "dq_gate", REQUIRE_HOOK: "dq_require_models"}


def _yaml(text: str) -> Any:
    """A round-trip YAML writer indenting as the file already does (ruamel re-indents everything)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _, sequence, offset = load_yaml_guess_indent(text)
    except Exception:
        sequence, offset = None, None
    if sequence is None or offset is None:
        sequence, offset = 4, 2
    nested = [len(line) - len(line.lstrip(" ")) for line in text.splitlines() if re.match(r"^ +[^\s#-]", line)]
    mapping = min(nested, default=2)
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def with_dq_hooks(text: str, where: Path) -> str:
    """`dbt_project.yml`'s text with dq's post-hook and on-run-start entries in place (idempotent)."""
    yaml = _yaml(text)
    try:
        config = yaml.load(text)
    except Exception as exc:
        raise ContractError(f"{where} cannot be read as YAML: {exc}") from None
    if not isinstance(config, dict) or not config.get("name"):
        raise ContractError(f"{where} has no project `name:`. Fix: point --dbt-project at a dbt project")
    from ruamel.yaml.comments import CommentedMap

    name = str(config["name"])
    models = config.get("models")
    if models is None:
        models = config["models"] = CommentedMap()
    if not isinstance(models, dict):
        raise ContractError(f"{where}: `models:` is not a mapping")
    project = models.get(name)
    if project is None:
        project = models[name] = CommentedMap()
    if not isinstance(project, dict):
        raise ContractError(f"{where}: `models: {name}:` is not a mapping")
    _add_entry(project, ("+post-hook", "post-hook"), GATE_HOOK, where, first=True)
    _add_entry(config, ("on-run-start",), REQUIRE_HOOK, where, first=False)
    out = io.StringIO()
    yaml.dump(config, out)
    return out.getvalue()


def _add_entry(mapping: Any, keys: tuple[str, ...], entry: str, where: Path, first: bool) -> None:
    """Append `entry` to the hook list under the first of `keys` present, replacing an older dq
    entry. A new key goes first in a folder's config (`first`): ruamel keeps a comment with the
    key before it, so a key appended last would land under the user's trailing comment."""
    from ruamel.yaml.comments import CommentedSeq

    found = next((k for k in keys if k in mapping), keys[0])
    new = found not in mapping
    current = mapping.get(found)
    if current is None:
        hooks: list[Any] = []
    elif isinstance(current, str):
        hooks = [current]
    elif isinstance(current, list):
        hooks = list(current)
    else:
        raise ContractError(f"{where}: `{found}` is neither a string nor a list of hooks")
    marker = _MARKERS[entry]
    kept = [h for h in hooks if not (isinstance(h, str) and marker in h)]
    if kept == hooks[: len(kept)] and len(kept) == len(hooks) - 1 and hooks[-1] == entry:
        return  # already in place: leave the user's formatting alone
    seq = current if isinstance(current, CommentedSeq) else CommentedSeq()
    del seq[:]
    seq.extend([*kept, entry])
    if new and first:
        mapping.insert(0, found, seq)
    else:
        mapping[found] = seq
