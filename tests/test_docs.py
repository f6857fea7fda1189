"""The docs are where users learn devbox: they must cover every key, variable and tool."""

from __future__ import annotations

from pathlib import Path

from devbox import tools
from devbox.config import KEYS

DOCS = Path(__file__).parent.parent / "docs"


def test_configuration_doc_lists_every_key_env_var_and_builtin_tool() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for key in KEYS.values():
        assert f"| `{key.name}` |" in text, key.name
        assert f"`{key.env_var}`" in text, key.env_var
    for tool in tools.BUILTIN.values():
        assert f"| `{tool.name}` | {tool.kind} | `{' '.join(tool.command)}" in text, tool.name


def test_readme_gives_the_two_setup_commands_ci_runs() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./scripts/demo.sh" in readme
    assert "./scripts/test.sh" in readme
    assert ci.strip().splitlines()[-1] == "./scripts/test.sh"
