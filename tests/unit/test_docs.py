"""The docs are where users learn devbox: they must cover every key, variable and tool."""

from __future__ import annotations

from pathlib import Path

from devbox import tools
from devbox.config import KEYS

DOCS = Path(__file__).parents[2] / "docs"


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


def test_shell_completion_script_comes_from_click() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "_DEVBOX_COMPLETE": "bash_source"}
    out = subprocess.run([sys.executable, "-m", "devbox"], capture_output=True, text=True, env=env)
    assert out.returncode == 0
    assert "_devbox_completion" in out.stdout and "complete " in out.stdout


def test_pre_commit_hooks_run_devbox_once_per_commit() -> None:
    text = (DOCS.parent / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    for hook, entry in (("devbox-lint", "devbox lint"), ("devbox-test", "devbox test")):
        block = text.split(f"\n- id: {hook}\n", 1)[1].split("\n- id:", 1)[0]
        assert f"entry: {entry}\n" in block
        assert "pass_filenames: false" in block and "language: python" in block
        # the stage names (pre-push) need pre-commit 3.2
        assert 'minimum_pre_commit_version: "3.2.0"' in block


def test_every_doc_page_is_linked_from_the_readme() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        assert f"docs/{page.name}" in readme, page.name
