"""``devbox editor vscode``: VS Code tasks (``.vscode/tasks.json``) that run devbox.

The problem matchers for what each built-in tool prints live here; the tasks.json model and
its byte-preserving merge into an existing file are :mod:`devbox.edit.vscode`'s, given these
matchers as data.  :func:`devbox_tasks`, :func:`vscode_tasks` and :func:`write_vscode` take
tools by name (a built-in tool's kind is known) or as (name, "lint" | "test") pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devbox import tools as builtin_tools
from devbox.edit import vscode
from devbox.edit.vscode import PREFIX, TASKS_FILE, Matchers

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

# Problem-matcher regular expressions: JavaScript syntax (VS Code), kept to the subset that
# Python's ``re`` reads the same way with ``re.ASCII``.  Paths are devbox's host paths,
# relative to the directory devbox ran in (the workspace folder).

#: ruff (concise), flake8, pylint: ``file:line:col: [CODE[:]] message``; mypy's lines excluded.
#: (pylint counts columns from 0, which a regex cannot correct: VS Code marks one to the left.)
LINT_REGEXP = (
    r"^([^\s:][^:]*):(\d+):(\d+): (?!(?:error|warning|note): )"
    r"(?:([A-Z]+[0-9]+):? (?:\[\*\] )?)?(.*)$"
)
#: mypy: ``file:line[:col[:endline:endcol]]: error|warning|note: message  [code]``
MYPY_REGEXP = (
    r"^([^\s:][^:]*):(\d+)(?::(\d+))?(?::\d+:\d+)?: (error|warning|note): "
    r"(.*?)(?:  \[([a-z0-9-]+)\])?$"
)
#: pytest: a failure's location ``file:line: ExceptionType`` (or ``…: Type: why`` with --tb=line)
PYTEST_REGEXP = r"^([^\s:][^:]*):(\d+): ((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:: .*)?)$"
#: ruff's full format (``ruff format --check``): a header line, then `` --> file:line:col``
RUFF_FULL_HEADER_REGEXP = r"^([A-Z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)*):? (?:\[\*\] )?(.*)$"
RUFF_FULL_LOCATION_REGEXP = r"^ *--> ([^\s:][^:]*):(\d+):(\d+)$"
#: black and older ruff-format: ``would reformat file`` / ``Would reformat: file``
REFORMAT_REGEXP = r"^(would reformat|Would reformat:) (.+)$"
#: isort: ``ERROR: file Imports are incorrectly sorted and/or formatted.``
ISORT_REGEXP = r"^ERROR: (.+?) (Imports are incorrectly sorted.*)$"

FILE_LOCATION = ["relative", "${workspaceFolder}"]


def _matcher(owner: str, pattern: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "owner": f"devbox-{owner}",
        "source": "devbox",
        "fileLocation": list(FILE_LOCATION),
        "severity": "error",
        "pattern": pattern,
    }


LINT_MATCHER = _matcher(
    "lint", {"regexp": LINT_REGEXP, "file": 1, "line": 2, "column": 3, "code": 4, "message": 5}
)
MYPY_MATCHER = _matcher(
    "mypy",
    {
        "regexp": MYPY_REGEXP,
        "file": 1,
        "line": 2,
        "column": 3,
        "severity": 4,
        "message": 5,
        "code": 6,
    },
)
RUFF_FULL_MATCHER = _matcher(
    "ruff",
    [
        {"regexp": RUFF_FULL_HEADER_REGEXP, "code": 1, "message": 2},
        {"regexp": RUFF_FULL_LOCATION_REGEXP, "file": 1, "line": 2, "column": 3},
    ],
)
REFORMAT_MATCHER = _matcher(
    "format", {"regexp": REFORMAT_REGEXP, "kind": "file", "file": 2, "message": 1}
)
ISORT_MATCHER = _matcher("isort", {"regexp": ISORT_REGEXP, "kind": "file", "file": 1, "message": 2})
PYTEST_MATCHER = _matcher("pytest", {"regexp": PYTEST_REGEXP, "file": 1, "line": 2, "message": 3})

#: What ``devbox lint`` (and a linter devbox does not know) gets: every linter's format.
LINT_MATCHERS: tuple[dict[str, Any], ...] = (
    LINT_MATCHER,
    MYPY_MATCHER,
    RUFF_FULL_MATCHER,
    REFORMAT_MATCHER,
    ISORT_MATCHER,
)
TEST_MATCHERS: tuple[dict[str, Any], ...] = (PYTEST_MATCHER,)
#: A built-in tool's own task gets only the matchers for what that tool prints.
TOOL_MATCHERS: dict[str, tuple[dict[str, Any], ...]] = {
    "ruff": (LINT_MATCHER, RUFF_FULL_MATCHER),
    "ruff-format": (REFORMAT_MATCHER, RUFF_FULL_MATCHER),
    "flake8": (LINT_MATCHER,),
    "pylint": (LINT_MATCHER,),
    "mypy": (MYPY_MATCHER,),
    "black": (REFORMAT_MATCHER,),
    "isort": (ISORT_MATCHER,),
    "pytest": (PYTEST_MATCHER,),
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


def write_vscode(project_dir: Path, tools: Sequence[ToolSpec], *, dry_run: bool) -> tuple[str, bool]:  # fmt: skip
    """Merge devbox's tasks into ``PROJECT/.vscode/tasks.json`` (creating it).

    Returns the file's new text and whether it differs from what was there; with
    ``dry_run``, or when nothing changes, the file is not written.
    """
    return vscode.write_vscode(project_dir, _kinds(tools), MATCHERS, dry_run=dry_run)
