"""VS Code's ``.vscode/tasks.json``: devbox's tasks, merged into the file the user has.

:func:`vscode_tasks` makes the text of a tasks.json with ``devbox: lint``, ``devbox: test``
and one ``devbox: TOOL`` task per tool, each with the problem matchers it is given (see
:class:`Matchers`).  An existing file is merged, not rewritten: it is read as JSONC
(:mod:`devbox.edit.jsonc`) and every byte outside the tasks devbox owns (those whose label
starts with ``devbox: ``) is kept: foreign tasks, comments and layout stay as they were.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devbox.edit import jsonc
from devbox.errors import ConfigError
from devbox.fsutil import atomic_write

__all__ = ["PREFIX", "TASKS_FILE", "Matchers", "devbox_tasks", "vscode_tasks", "write_vscode"]

#: The label prefix of the tasks devbox writes.
PREFIX = "devbox: "
#: What marks a task as devbox's own (its "detail", which VS Code shows under the label): a
#: user's task whose label happens to start with PREFIX ("devbox: deploy") is never touched.
MARKER = "Written by `devbox editor vscode`, which rewrites this task."
TASKS_FILE = Path(".vscode") / "tasks.json"

#: One task's problem matchers (VS Code's JSON objects).
MatcherList = tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Matchers:
    """Which problem matchers each of devbox's tasks gets."""

    #: ``devbox: lint``'s, and a linter's that has none of its own
    lint: MatcherList
    #: ``devbox: test``'s, and a test tool's that has none of its own
    test: MatcherList
    #: a tool's own, by tool name
    tools: Mapping[str, MatcherList]

    def of(self, kind: str, tool: str | None) -> MatcherList:
        default = self.lint if kind == "lint" else self.test
        return default if tool is None else self.tools.get(tool, default)


def _task(label: str, kind: str, matchers: Matchers, tool: str | None = None) -> dict[str, Any]:
    command = f"devbox {kind}" if tool is None else f"devbox {kind} {shlex.quote(tool)}"
    task: dict[str, Any] = {"label": label, "type": "shell", "command": command, "detail": MARKER}
    if kind == "test":
        task["group"] = "test"
    task["problemMatcher"] = list(matchers.of(kind, tool))
    return task


def devbox_tasks(tools: Sequence[tuple[str, str]], matchers: Matchers) -> list[dict[str, Any]]:
    """devbox's own tasks, in file order: lint, test, then one per (name, "lint" | "test")."""
    tasks = [_task(PREFIX + "lint", "lint", matchers), _task(PREFIX + "test", "test", matchers)]
    labels = {t["label"] for t in tasks}
    for name, kind in tools:
        if kind not in ("lint", "test"):
            raise ValueError(f"tool {name!r}: kind {kind!r} is neither 'lint' nor 'test'")
        label = PREFIX + name
        if label in labels:  # a tool named "lint" or listed twice
            continue
        labels.add(label)
        tasks.append(_task(label, kind, matchers, name))
    return tasks


def _field(node: jsonc.Node, key: str) -> object:
    if node.kind != "object":
        return None
    at = node.member_index(key)
    return node.children[at].value if at is not None else None


def _label(node: jsonc.Node) -> str | None:
    label = _field(node, "label")
    return label if isinstance(label, str) else None


#: the commands of the tasks devbox wrote before it marked them (label prefix alone)
_LEGACY = re.compile(r"^devbox (lint|test)(?: [A-Za-z0-9._-]+)?$")


def owned(node: jsonc.Node) -> bool:
    """Whether a task is devbox's: its detail is MARKER; or (written by an older devbox,
    before the marker) its label starts with PREFIX and it runs ``devbox lint``/``test``."""
    label = _label(node)
    if label is None or not label.startswith(PREFIX):
        return False
    detail = _field(node, "detail")
    if detail is not None:
        return detail == MARKER
    command = _field(node, "command")
    return isinstance(command, str) and _LEGACY.match(command) is not None


def _replace_and_remove(
    text: str, tasks: jsonc.Node, wanted: dict[str, dict[str, Any]], unit: str, indent: str, nl: str
) -> str:
    edits: list[jsonc.Edit] = []
    seen: set[str] = set()
    for child, comma in zip(tasks.children, tasks.commas, strict=True):
        label = _label(child)
        if label is None or not owned(child):
            if label in wanted:
                raise ConfigError(
                    f"the task {label!r} in tasks.json is not one devbox wrote (its detail is "
                    "not devbox's), and devbox would write one of that name. Rename yours, or "
                    "remove it to let devbox write its own."
                )
            continue
        if label in wanted and label not in seen:
            seen.add(label)
            at = jsonc.indent_at(text, child.start)
            rendered = jsonc.render(wanted[label], indent if at is None else at, unit, nl)
            if text[child.start : child.end] != rendered:
                edits.append((child.start, child.end, rendered))
        else:  # a tool no longer configured, or a duplicate
            edits.append(jsonc.removal(text, child, comma))
    return jsonc.apply(text, edits)


def _unit(text: str, root: jsonc.Node) -> str:
    """The indentation of one level: that of the top-level object's first member."""
    found = jsonc.indent_at(text, root.key_starts[0]) if root.key_starts else None
    return found or "    "


@dataclass(frozen=True)
class _Layout:
    """How the existing "tasks" array is laid out, for what is added to it."""

    unit: str  # one level of indentation
    indent: str  # a task's
    key_indent: str  # the "tasks" member's (the closing bracket's)
    nl: str
    trailing_comma: bool  # after the last task


def _add_missing(
    text: str, at: int, tasks: list[dict[str, Any]], layout: _Layout, source: str
) -> str:
    """Second pass, on the edited text: add what is missing after the last task."""
    root = jsonc.parse(text, source)
    assert root is not None and root.member_index("tasks") == at
    array = root.children[at]
    present = {_label(child) for child in array.children}
    indent, unit, nl, trailing = layout.indent, layout.unit, layout.nl, layout.trailing_comma
    missing = [jsonc.render(t, indent, unit, nl) for t in tasks if t["label"] not in present]
    edits: list[jsonc.Edit]
    if missing:
        closing = layout.key_indent
        edits = jsonc.append(text, array, missing, indent, closing, trailing_comma=trailing, nl=nl)
    elif not trailing and array.commas and array.commas[-1] is not None:
        last = array.commas[-1]  # the former last task was removed: no new trailing comma
        edits = [(last, last + 1, "")]
    else:
        edits = []
    return jsonc.apply(text, edits)


def vscode_tasks(
    existing: str | None,
    tools: Sequence[tuple[str, str]],
    matchers: Matchers,
    *,
    source: str = str(TASKS_FILE),
) -> str:
    """tasks.json text: ``existing`` with devbox's tasks replaced or added, or a new file.

    devbox's tasks (label ``devbox: …``) are replaced where they are, added after the last
    task otherwise, and removed when no longer wanted (a tool not configured any more); every
    other byte of ``existing`` is kept.  Raises :class:`~devbox.errors.ConfigError` naming
    ``source`` when ``existing`` cannot be read as JSONC, when its top level is not an object
    or its "tasks" not an array.
    """
    tasks = devbox_tasks(tools, matchers)
    nl = "\r\n" if existing is not None and "\r\n" in existing else "\n"
    fresh = jsonc.render({"version": "2.0.0", "tasks": tasks}, "", "    ", nl) + nl
    if existing is None or existing.strip(jsonc.BLANK) == "":
        return fresh
    root = jsonc.parse(existing, source)
    if root is None:  # only comments: keep them, above
        return existing.rstrip(jsonc.BLANK) + nl + fresh
    if root.kind != "object":
        raise ConfigError(f"{source}: the top level is not an object ({{...}})")
    unit = _unit(existing, root)
    at = root.member_index("tasks")
    if at is None:
        member = '"tasks": ' + jsonc.render(tasks, unit, unit, nl)
        trailing = bool(root.commas) and root.commas[-1] is not None
        edits = jsonc.append(existing, root, [member], unit, "", trailing_comma=trailing, nl=nl)
        return jsonc.apply(existing, edits)
    array = root.children[at]
    if array.kind != "array":
        raise ConfigError(f'{source}: "tasks" is not an array ([...])')

    key_indent = jsonc.indent_at(existing, root.key_starts[at]) or ""
    indent = next(
        (i for i in (jsonc.indent_at(existing, c.start) for c in array.children) if i is not None),
        key_indent + unit,
    )
    trailing = bool(array.commas) and array.commas[-1] is not None
    wanted = {t["label"]: t for t in tasks}
    text = _replace_and_remove(existing, array, wanted, unit, indent, nl)
    return _add_missing(text, at, tasks, _Layout(unit, indent, key_indent, nl, trailing), source)


def write_vscode(
    project_dir: Path, tools: Sequence[tuple[str, str]], matchers: Matchers, *, dry_run: bool
) -> tuple[str, bool]:
    """Merge devbox's tasks into ``PROJECT/.vscode/tasks.json`` (creating it).

    Returns the file's new text and whether it differs from what was there; with
    ``dry_run``, or when nothing changes, the file is not written.
    """
    path = project_dir / TASKS_FILE
    try:
        existing: str | None = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        existing = None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it: {e}") from None
    text = vscode_tasks(existing, tools, matchers, source=str(path))
    changed = text != existing
    if changed and not dry_run:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text.encode("utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot write it: {e}") from None
    return text, changed
