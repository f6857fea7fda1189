"""The JSON Schema of ``[tool.devbox]``, assembled from :data:`devbox.config.KEYS`.

Each key's fragment is derived from its check (devbox.config.checks), so it accepts exactly what
the loader's check accepts; tests/unit/test_schema_properties.py checks that on generated values.

Exposed to validate-pyproject (and so to editors and pre-commit) through the
``validate_pyproject.tool_schema`` entry point, and shipped as ``resources/devbox.schema.json``.
``python -m devbox.config.schema`` rewrites that file and the key table in docs/configuration.md;
tests/unit/test_schema.py checks both are current and that the schema and the loader agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from devbox.config import KEYS, Key

SCHEMA_FILE = Path(__file__).parent.parent / "resources" / "devbox.schema.json"
#: the schema's ``$id``: an absolute URI without a fragment
SCHEMA_ID = "https://pypi.org/project/devbox-buildkit/"
DOCS_BEGIN, DOCS_END = "<!-- keys:begin -->", "<!-- keys:end -->"


def _default(key: Key) -> Any:
    value = key.default
    return list(value) if isinstance(value, tuple) else value


def tool_schema(tool_name: str = "devbox") -> dict[str, Any]:
    """The schema of ``[tool.<tool_name>]`` (validate-pyproject's plugin signature)."""
    properties: dict[str, Any] = {}
    for key in KEYS.values():
        prop = {"description": key.help, **key.schema}
        if key.default is not None:
            prop["default"] = _default(key)
        properties[key.name] = prop
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        # No "#fragment": validate-pyproject registers a plugin's schema under its $id and
        # looks it up by the $id without the fragment (with one, it fails on every file).
        "$id": SCHEMA_ID,
        "title": f"[tool.{tool_name}]",
        "description": "devbox: run a Python project's linters and tests in containers, through BuildKit.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


def schema_text() -> str:
    return json.dumps(tool_schema(), indent=2, sort_keys=False) + "\n"


def docs_table() -> str:
    rows = [
        "| key | type | default | environment variable | what it does |",
        "|---|---|---|---|---|",
    ]
    for key in KEYS.values():
        default = "see below" if key.default is None else f"`{json.dumps(_default(key))}`"
        rows.append(f"| `{key.name}` | {key.type_doc} | {default} | `{key.env_var}` | {key.help} |")
    return "\n".join(rows) + "\n"


def replace_between(text: str, body: str) -> str:
    before, _, rest = text.partition(DOCS_BEGIN)
    _, _, after = rest.partition(DOCS_END)
    return f"{before}{DOCS_BEGIN}\n{body}{DOCS_END}{after}"


def main() -> None:  # pragma: no cover - a maintainer's command
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    docs = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"
    if docs.exists():
        docs.write_text(
            replace_between(docs.read_text(encoding="utf-8"), docs_table()), encoding="utf-8"
        )
    print(f"wrote {SCHEMA_FILE}" + (f" and {docs}" if docs.exists() else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
