"""Editor integration: VS Code tasks (``.vscode/tasks.json``) that run devbox.

:func:`vscode_tasks` makes the text of a tasks.json with ``devbox: lint``, ``devbox: test`` and
one ``devbox: TOOL`` task per tool, each with problem matchers for devbox's output (paths
relative to the workspace folder, as devbox prints them when run from there).  An existing
file is merged, not rewritten: it is JSON with comments and trailing commas (VS Code's JSONC),
read here by a small tokenizer that keeps every byte outside the tasks devbox owns (those
whose label starts with ``devbox: ``): foreign tasks, comments and layout stay as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devbox import tools as builtin_tools
from devbox.errors import ConfigError
from devbox.fsutil import atomic_write

#: The label prefix of the tasks devbox writes and owns.
PREFIX = "devbox: "
TASKS_FILE = Path(".vscode") / "tasks.json"

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

#: A tool: its name (a built-in tool's kind is known) or a (name, "lint" | "test") pair.
ToolSpec = str | tuple[str, str]


def _task(label: str, kind: str, tool: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"label": label, "type": "shell", "command": f"devbox {kind}"}
    if tool is not None:  # DEVBOX_LINT=ruff devbox lint: only that tool
        task["options"] = {"env": {f"DEVBOX_{kind.upper()}": tool}}
    if kind == "test":
        task["group"] = "test"
    matchers = LINT_MATCHERS if kind == "lint" else TEST_MATCHERS
    if tool is not None:
        matchers = TOOL_MATCHERS.get(tool, matchers)
    task["problemMatcher"] = list(matchers)
    return task


def _kind(spec: ToolSpec) -> tuple[str, str]:
    if isinstance(spec, str):
        known = builtin_tools.BUILTIN.get(spec)
        return spec, known.kind if known is not None else "lint"
    name, kind = spec
    if kind not in ("lint", "test"):
        raise ValueError(f"tool {name!r}: kind {kind!r} is neither 'lint' nor 'test'")
    return name, kind


def devbox_tasks(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """devbox's own tasks, in file order: lint, test, then one per tool."""
    tasks = [_task(PREFIX + "lint", "lint"), _task(PREFIX + "test", "test")]
    labels = {t["label"] for t in tasks}
    for spec in tools:
        name, kind = _kind(spec)
        label = PREFIX + name
        if label in labels:  # a tool named "lint" or listed twice
            continue
        labels.add(label)
        tasks.append(_task(label, kind, name))
    return tasks


# --- JSONC ------------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True)
class _Token:
    kind: str  # one of {}[]:, or "string", "literal"
    start: int
    end: int


@dataclass
class _Node:
    kind: str  # "object", "array", "string", "literal"
    start: int
    end: int
    #: array elements, or object member values
    children: list[_Node] = field(default_factory=list)
    #: object member names (decoded) and where they start, parallel to children
    keys: list[str] = field(default_factory=list)
    key_starts: list[int] = field(default_factory=list)
    #: offset of the comma after each child, or None
    commas: list[int | None] = field(default_factory=list)
    #: a string's decoded value
    value: str | None = None

    def member_index(self, key: str) -> int | None:
        """The last member named ``key`` (the one a JSON reader keeps when a name repeats)."""
        found = None
        for i, k in enumerate(self.keys):
            if k == key:
                found = i
        return found


_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")
_BLANK = " \t\r\n\ufeff"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _BLANK:
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _Invalid("unterminated comment", i)
            i = end + 2
        elif c in "{}[]:,":
            tokens.append(_Token(c, i, i + 1))
            i += 1
        elif c == '"':
            m = _STRING.match(text, i)
            if m is None:
                raise _Invalid("invalid or unterminated string", i)
            tokens.append(_Token("string", i, m.end()))
            i = m.end()
        else:
            m = _LITERAL.match(text, i)
            if m is None or (m.end() < n and (text[m.end()].isalnum() or text[m.end()] in "_.")):
                raise _Invalid(f"unexpected {c!r}", i)
            tokens.append(_Token("literal", i, m.end()))
            i = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def _peek(self) -> _Token:
        if self.i >= len(self.tokens):
            raise _Invalid("unexpected end of file", len(self.text))
        return self.tokens[self.i]

    def _take(self, kind: str) -> _Token:
        token = self._peek()
        if token.kind != kind:
            raise _Invalid(f"expected {kind!r}", token.start)
        self.i += 1
        return token

    def document(self) -> _Node:
        node = self._value()
        if self.i < len(self.tokens):
            raise _Invalid("unexpected text after the end", self.tokens[self.i].start)
        return node

    def _value(self) -> _Node:
        token = self._peek()
        if token.kind == "{":
            return self._container("object", "}")
        if token.kind == "[":
            return self._container("array", "]")
        if token.kind in ("string", "literal"):
            self.i += 1
            node = _Node(token.kind, token.start, token.end)
            if token.kind == "string":
                node.value = json.loads(self.text[token.start : token.end])
            return node
        raise _Invalid("expected a value", token.start)

    def _container(self, kind: str, close: str) -> _Node:
        node = _Node(kind, self._peek().start, -1)
        self.i += 1
        while self._peek().kind != close:
            if kind == "object":
                key = self._take("string")
                self._take(":")
                node.keys.append(json.loads(self.text[key.start : key.end]))
                node.key_starts.append(key.start)
            node.children.append(self._value())
            token = self._peek()
            if token.kind == ",":
                self.i += 1
                node.commas.append(token.start)
            elif token.kind == close:
                node.commas.append(None)
            else:
                raise _Invalid(f"expected ',' or {close!r}", token.start)
        node.end = self._take(close).end
        return node


def _parse(text: str, source: str) -> _Node | None:
    """The document's top-level value; None when there is none (only blanks and comments)."""
    try:
        tokens = _tokenize(text)
        return _Parser(text, tokens).document() if tokens else None
    except _Invalid as e:
        line = text.count("\n", 0, e.offset) + 1
        col = e.offset - (text.rfind("\n", 0, e.offset) + 1) + 1
        raise ConfigError(
            f"{source}: cannot read it as JSON with comments: {e.reason} "
            f"(line {line}, column {col}); fix or remove it"
        ) from None


# --- editing ----------------------------------------------------------------------------------


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent_at(text: str, pos: int) -> str | None:
    """The blanks before ``pos`` on its line, or None when something else precedes it."""
    before = text[_line_start(text, pos) : pos]
    return before if before.strip(" \t") == "" else None


def _after_trivia_on_line(text: str, pos: int) -> tuple[int, int]:
    """Past the comments that follow ``pos`` on its line, then past the blanks after them.

    Never past the line break (nor into a CRLF pair); a comment ending the line is passed.
    """
    content_end = pos
    while pos < len(text):
        if text[pos] in " \t":
            pos += 1
        elif text.startswith("/*", pos):
            pos = content_end = text.index("*/", pos) + 2
        elif text.startswith("//", pos):
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
            pos = content_end = pos - 1 if text[pos - 1] == "\r" else pos
            break
        else:
            break
    return content_end, pos


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _render(value: Any, indent: str, unit: str, nl: str) -> str:
    return json.dumps(value, indent=unit).replace("\n", nl + indent)


def _label(node: _Node) -> str | None:
    if node.kind != "object":
        return None
    at = node.member_index("label")
    return node.children[at].value if at is not None else None


def _removal(text: str, node: _Node, comma: int | None) -> tuple[int, int, str]:
    """Delete an element with its comma, and its line(s) when nothing else is on them."""
    start, end = node.start, (comma + 1 if comma is not None else node.end)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if _indent_at(text, start) is not None and text[end:line_end].strip(" \t\r") == "":
        start = _line_start(text, start)
        end = min(line_end + 1, len(text))
    return start, end, ""


def _append(
    text: str,
    container: _Node,
    pieces: list[str],
    indent: str,
    closing_indent: str,
    *,
    trailing_comma: bool,
    nl: str,
) -> list[tuple[int, int, str]]:
    """Edits adding ``pieces`` (rendered elements or members) after a container's last one."""
    edits: list[tuple[int, int, str]] = []
    comma = ""
    if container.children:
        last = container.children[-1].end
        content_end, pos = _after_trivia_on_line(
            text, last if container.commas[-1] is None else container.commas[-1] + 1
        )
        if container.commas[-1] is None:
            if content_end == last:
                comma = ","
            else:  # after the last element, before a comment that follows it
                edits.append((last, last, ","))
    else:
        content_end, pos = _after_trivia_on_line(text, container.start + 1)
    body = comma + "".join(
        nl + indent + piece + ("," if i < len(pieces) - 1 or trailing_comma else "")
        for i, piece in enumerate(pieces)
    )
    if pos == container.end - 1:  # the closing bracket is on this line: move it to the next
        edits.append((content_end, pos, body + nl + closing_indent))
    else:  # before the line break (blanks that end the line stay where they are)
        edits.append((pos, pos, body))
    return edits


def _replace_and_remove(
    text: str, tasks: _Node, wanted: dict[str, dict[str, Any]], unit: str, indent: str, nl: str
) -> str:
    edits: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for child, comma in zip(tasks.children, tasks.commas, strict=True):
        label = _label(child)
        if label is None or not label.startswith(PREFIX):
            continue
        if label in wanted and label not in seen:
            seen.add(label)
            at = _indent_at(text, child.start)
            rendered = _render(wanted[label], indent if at is None else at, unit, nl)
            if text[child.start : child.end] != rendered:
                edits.append((child.start, child.end, rendered))
        else:  # a tool no longer configured, or a duplicate
            edits.append(_removal(text, child, comma))
    return _apply(text, edits)


def _unit(text: str, root: _Node) -> str:
    """The indentation of one level: that of the top-level object's first member."""
    found = _indent_at(text, root.key_starts[0]) if root.key_starts else None
    return found or "    "


def vscode_tasks(
    existing: str | None, tools: Sequence[ToolSpec], *, source: str = str(TASKS_FILE)
) -> str:
    """tasks.json text: ``existing`` with devbox's tasks replaced or added, or a new file.

    devbox's tasks (label ``devbox: …``) are replaced where they are, added after the last
    task otherwise, and removed when no longer wanted (a tool not configured any more); every
    other byte of ``existing`` is kept.  Raises :class:`~devbox.errors.ConfigError` naming
    ``source`` when ``existing`` cannot be read as JSONC, when its top level is not an object
    or its "tasks" not an array.
    """
    tasks = devbox_tasks(tools)
    nl = "\r\n" if existing is not None and "\r\n" in existing else "\n"
    fresh = _render({"version": "2.0.0", "tasks": tasks}, "", "    ", nl) + nl
    if existing is None or existing.strip(_BLANK) == "":
        return fresh
    root = _parse(existing, source)
    if root is None:  # only comments: keep them, above
        return existing.rstrip(_BLANK) + nl + fresh
    if root.kind != "object":
        raise ConfigError(f"{source}: the top level is not an object ({{...}})")
    unit = _unit(existing, root)
    at = root.member_index("tasks")
    if at is None:
        member = '"tasks": ' + _render(tasks, unit, unit, nl)
        trailing = bool(root.commas) and root.commas[-1] is not None
        edits = _append(existing, root, [member], unit, "", trailing_comma=trailing, nl=nl)
        return _apply(existing, edits)
    array = root.children[at]
    if array.kind != "array":
        raise ConfigError(f'{source}: "tasks" is not an array ([...])')

    key_indent = _indent_at(existing, root.key_starts[at]) or ""
    indent = next(
        (i for i in (_indent_at(existing, c.start) for c in array.children) if i is not None),
        key_indent + unit,
    )
    trailing = bool(array.commas) and array.commas[-1] is not None
    text = _replace_and_remove(existing, array, {t["label"]: t for t in tasks}, unit, indent, nl)

    # Second pass, on the edited text: add what is missing after the last task.
    root = _parse(text, source)
    assert root is not None and root.member_index("tasks") == at
    array = root.children[at]
    present = {_label(child) for child in array.children}
    missing = [_render(t, indent, unit, nl) for t in tasks if t["label"] not in present]
    if missing:
        edits = _append(text, array, missing, indent, key_indent, trailing_comma=trailing, nl=nl)
    elif not trailing and array.commas and array.commas[-1] is not None:
        last = array.commas[-1]  # the former last task was removed: no new trailing comma
        edits = [(last, last + 1, "")]
    else:
        edits = []
    return _apply(text, edits)


def write_vscode(project_dir: Path, tools: Sequence[ToolSpec], *, dry_run: bool) -> tuple[str, bool]:  # fmt: skip
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
    text = vscode_tasks(existing, tools, source=str(path))
    changed = text != existing
    if changed and not dry_run:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text.encode("utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot write it: {e}") from None
    return text, changed
