"""``devbox editor vscode``: VS Code tasks (``.vscode/tasks.json``) that run devbox.

Which problem matchers each task gets is decided here, from the built-in tools' own
(``Tool.matchers``); the tasks.json model and its byte-preserving merge into an existing file
are :mod:`devbox.edit.vscode`'s, given these matchers as data.  :func:`devbox_tasks`,
:func:`vscode_tasks` and :func:`write_vscode` take tools by name (a built-in tool's kind is known) or as (name, "lint" | "test") pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devbox import tools as builtin_tools
from devbox.edit import vscode
from devbox.edit.vscode import PREFIX, TASKS_FILE, Matchers
from devbox.tools import isort, mypy, pytest, ruff
from devbox.tools import spec as tool_spec
from devbox.tools.spec import Matcher

__all__ = [
    "FILE_LOCATION",
    "ISORT_REGEXP",
    "LINT_MATCHERS",
    "LINT_REGEXP",
    "MATCHERS",
    "MYPY_REGEXP",
    "PREFIX",
    "PYTEST_REGEXP",
    "REFORMAT_REGEXP",
    "RUFF_FULL_HEADER_REGEXP",
    "RUFF_FULL_LOCATION_REGEXP",
    "TASKS_FILE",
    "TEST_MATCHERS",
    "TOOL_MATCHERS",
    "ToolSpec",
    "devbox_tasks",
    "vscode_tasks",
    "write_vscode",
]

# The problem matchers are the tools' (``Tool.matchers``, :mod:`devbox.tools`); their regular
# expressions are re-exported here under the names they have always had.
LINT_REGEXP = tool_spec.LINT_REGEXP
MYPY_REGEXP = mypy.REGEXP
PYTEST_REGEXP = pytest.REGEXP
RUFF_FULL_HEADER_REGEXP = ruff.FULL_HEADER_REGEXP
RUFF_FULL_LOCATION_REGEXP = ruff.FULL_LOCATION_REGEXP
REFORMAT_REGEXP = tool_spec.REFORMAT_REGEXP
ISORT_REGEXP = isort.REGEXP
FILE_LOCATION = tool_spec.FILE_LOCATION


def _union(*groups: Sequence[Matcher]) -> tuple[Matcher, ...]:
    """The matchers of ``groups``, each once, in order."""
    union: list[Matcher] = []
    for group in groups:
        union += [m for m in group if m not in union]
    return tuple(union)


def _of_kind(kind: str) -> list[tuple[Matcher, ...]]:
    return [t.matchers for t in builtin_tools.BUILTIN.values() if t.kind == kind]


#: What ``devbox lint`` (and a linter devbox does not know) gets: every built-in linter's
#: matchers.  Their order is written into tasks.json, so the ones it has always had come first
#: (an existing file stays as it is); a new tool's are added after them.
LINT_MATCHERS: tuple[Matcher, ...] = _union(
    (
        tool_spec.LINT_MATCHER,
        mypy.MATCHER,
        ruff.FULL_MATCHER,
        tool_spec.REFORMAT_MATCHER,
        isort.MATCHER,
    ),
    *_of_kind("lint"),
)
TEST_MATCHERS: tuple[Matcher, ...] = _union(*_of_kind("test"))
#: A built-in tool's own task gets only the matchers for what that tool prints.
TOOL_MATCHERS: dict[str, tuple[Matcher, ...]] = {
    name: t.matchers for name, t in builtin_tools.BUILTIN.items()
}

#: What :mod:`devbox.edit.vscode` gives each task.
MATCHERS = Matchers(lint=LINT_MATCHERS, test=TEST_MATCHERS, tools=TOOL_MATCHERS)

#: A tool: its name (a built-in tool's kind is known) or a (name, "lint" | "test") pair.
ToolSpec = str | tuple[str, str]


def _kinds(tools: Sequence[ToolSpec]) -> list[tuple[str, str]]:
    """(name, kind) pairs: a name alone is a built-in tool's kind, or "lint"."""
    pairs: list[tuple[str, str]] = []
    for spec in tools:
        if isinstance(spec, str):
            known = builtin_tools.BUILTIN.get(spec)
            pairs.append((spec, known.kind if known is not None else "lint"))
        else:
            pairs.append(spec)
    return pairs


def devbox_tasks(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """devbox's own tasks, in file order: lint, test, then one per tool."""
    return vscode.devbox_tasks(_kinds(tools), MATCHERS)


def vscode_tasks(
    existing: str | None, tools: Sequence[ToolSpec], *, source: str = str(TASKS_FILE)
) -> str:
    """tasks.json text: ``existing`` with devbox's tasks replaced or added, or a new file.

    See :func:`devbox.edit.vscode.vscode_tasks`: every other byte of ``existing`` is kept.
    """
    return vscode.vscode_tasks(existing, _kinds(tools), MATCHERS, source=source)


def vscode_command(project_dir: Path, env: Mapping[str, str], *, dry_run: bool) -> str:
    """`devbox editor vscode`: write (or with ``dry_run`` show) the tasks of the configured
    tools; returns what to print."""
    from devbox.build.session import Options, load_config

    cfg, _ = load_config(Options(project_dir=project_dir, command="check", cli={}), env)
    tools = [(name, "lint") for name in cfg.lint] + [
        (name, "test") for name in cfg.test if name not in cfg.lint
    ]
    text, changed = write_vscode(project_dir, tools, dry_run=dry_run)
    target = project_dir / TASKS_FILE
    if dry_run:
        return text
    if changed:
        return (
            f"devbox: wrote {target} (tasks: {', '.join(['lint', 'test', *(n for n, _ in tools)])})"
        )
    return f"devbox: {target} is up to date"


def write_vscode(project_dir: Path, tools: Sequence[ToolSpec], *, dry_run: bool) -> tuple[str, bool]:  # fmt: skip
    """Merge devbox's tasks into ``PROJECT/.vscode/tasks.json`` (creating it).

    Returns the file's new text and whether it differs from what was there; with
    ``dry_run``, or when nothing changes, the file is not written.
    """
    return vscode.write_vscode(project_dir, _kinds(tools), MATCHERS, dry_run=dry_run)
