"""JSON with comments and trailing commas (VS Code's JSONC), read and edited in place.

:func:`parse` gives a tree of :class:`Node` with the offset of every value, member name and
comma, so that a caller can replace, remove or append elements by offset (:func:`removal`,
:func:`append`, :func:`apply`) and keep every other byte of the text: comments, layout and
line endings stay as they were.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from devbox.errors import ConfigError

__all__ = [
    "BLANK",
    "Edit",
    "Node",
    "append",
    "apply",
    "indent_at",
    "parse",
    "removal",
    "render",
]

#: A replacement of ``text[start:end]``: (start, end, new text).
Edit = tuple[int, int, str]


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
class Node:
    kind: str  # "object", "array", "string", "literal"
    start: int
    end: int
    #: array elements, or object member values
    children: list[Node] = field(default_factory=list)
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
#: What JSONC skips between tokens (a byte-order mark included).
BLANK = " \t\r\n\ufeff"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in BLANK:
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

    def document(self) -> Node:
        node = self._value()
        if self.i < len(self.tokens):
            raise _Invalid("unexpected text after the end", self.tokens[self.i].start)
        return node

    def _value(self) -> Node:
        token = self._peek()
        if token.kind == "{":
            return self._container("object", "}")
        if token.kind == "[":
            return self._container("array", "]")
        if token.kind in ("string", "literal"):
            self.i += 1
            node = Node(token.kind, token.start, token.end)
            if token.kind == "string":
                node.value = json.loads(self.text[token.start : token.end])
            return node
        raise _Invalid("expected a value", token.start)

    def _container(self, kind: str, close: str) -> Node:
        node = Node(kind, self._peek().start, -1)
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


def parse(text: str, source: str) -> Node | None:
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


def indent_at(text: str, pos: int) -> str | None:
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


def apply(text: str, edits: list[Edit]) -> str:
    """``text`` with ``edits`` made (they must not overlap), last one first."""
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def render(value: Any, indent: str, unit: str, nl: str) -> str:
    """``value`` as JSON, one level indented by ``unit``, its lines after the first by ``indent``."""
    return json.dumps(value, indent=unit).replace("\n", nl + indent)


def removal(text: str, node: Node, comma: int | None) -> Edit:
    """Delete an element with its comma, and its line(s) when nothing else is on them."""
    start, end = node.start, (comma + 1 if comma is not None else node.end)
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if indent_at(text, start) is not None and text[end:line_end].strip(" \t\r") == "":
        start = _line_start(text, start)
        end = min(line_end + 1, len(text))
    return start, end, ""


def append(
    text: str,
    container: Node,
    pieces: list[str],
    indent: str,
    closing_indent: str,
    *,
    trailing_comma: bool,
    nl: str,
) -> list[Edit]:
    """Edits adding ``pieces`` (rendered elements or members) after a container's last one."""
    edits: list[Edit] = []
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
