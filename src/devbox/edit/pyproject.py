"""pyproject.toml: a ``[tool.devbox]`` table spliced in, every other byte kept.

:func:`insert_table` appends the table to a file that has none, or, with ``force``, puts it
in place of the existing table and its sub-tables; :func:`check_result` makes sure (with
tomllib and tomlkit) that the result holds the same data with only that table changed.  The
file is scanned line by line (:func:`_scan`), following multi-line strings and arrays, so
that the table's lines are found without re-serialising anything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from devbox.config import TABLE
from devbox.config.project import tomllib
from devbox.errors import ConfigError

__all__ = ["TABLE", "TABLE_PATH", "check_result", "insert_table", "splice"]

#: The keys of the table devbox owns.
TABLE_PATH = ("tool", "devbox")


@dataclass(frozen=True)
class _Line:
    start: int
    #: just past the line's "\n" (or the end of the text)
    end: int
    #: "header", "blank", "comment" (only a comment) or "content" (keys, values, continuations)
    kind: str
    #: the table a header names
    path: tuple[str, ...] = ()


def _header_path(key_text: str) -> tuple[str, ...]:
    """The keys of a ``[a."b.c".d]`` header, decoded exactly as TOML does."""
    try:
        node: Any = tomllib.loads(f"[{key_text}]\n")
    except tomllib.TOMLDecodeError:
        return ()
    path: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        path.append(key)
        node = node[key]
    return tuple(path)


def _scan(text: str) -> list[_Line]:
    """Classify each line of a TOML document, following strings and arrays across lines."""
    lines: list[_Line] = []
    multiline: str | None = None  # the closing delimiter of an open multi-line string
    depth = 0  # open arrays / inline tables
    pos = 0
    for raw in text.split("\n"):
        start, end = pos, min(pos + len(raw) + 1, len(text))
        pos += len(raw) + 1
        line = raw.rstrip("\r")
        stripped = line.strip(" \t")
        if multiline is None and depth == 0:
            if not stripped:
                lines.append(_Line(start, end, "blank"))
                continue
            if stripped.startswith("#"):
                lines.append(_Line(start, end, "comment"))
                continue
            if stripped.startswith("["):
                i = line.index("[")
                i += 2 if line.startswith("[[", i) else 1
                j = i
                while j < len(line) and line[j] != "]":
                    if line[j] in "\"'":
                        quote, j = line[j], j + 1
                        while j < len(line) and line[j] != quote:
                            j += 2 if quote == '"' and line[j] == "\\" else 1
                    j += 1
                lines.append(_Line(start, end, "header", _header_path(line[i:j])))
                continue
        lines.append(_Line(start, end, "content"))
        multiline, depth = _scan_value(line, multiline, depth)
    return lines


def _scan_value(line: str, multiline: str | None, depth: int) -> tuple[str | None, int]:
    j = 0
    while j < len(line):
        c = line[j]
        if multiline is not None:
            if c == "\\" and multiline == '"""':
                j += 2
            elif line.startswith(multiline, j):
                run = len(line[j:]) - len(line[j:].lstrip(multiline[0]))
                multiline, j = None, j + run  # up to two quotes before the delimiter are content
            else:
                j += 1
            continue
        if c == "#":
            break
        if c in "\"'":
            if line.startswith(c * 3, j):
                multiline, j = c * 3, j + 3
                continue
            j += 1
            while j < len(line) and line[j] != c:
                j += 2 if c == '"' and line[j] == "\\" else 1
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth = max(depth - 1, 0)
        j += 1
    return multiline, depth


def _devbox_chunks(lines: Sequence[_Line]) -> list[tuple[int, int]]:
    """(start, end) offsets of ``[tool.devbox]`` and its sub-tables, in file order.

    A table runs from its header to its last key/value line, plus the comment lines right
    after it; blank lines after it, and comments directly above the next header (they belong
    to that table), stay.  Sub-tables elsewhere in the file also take the blank lines
    before them, so no gap is left where they were.
    """
    chunks: list[tuple[int, int]] = []
    headers = [i for i, line in enumerate(lines) if line.kind == "header"]
    for n, h in enumerate(headers):
        if lines[h].path[:2] != TABLE_PATH:
            continue
        stop = headers[n + 1] if n + 1 < len(headers) else len(lines)
        last = h
        for i in range(h + 1, stop):
            if lines[i].kind == "content":
                last = i
        after = last + 1
        while after < stop and lines[after].kind == "comment":
            after += 1
        if after == stop and stop < len(lines):
            after = last + 1  # the comments are attached to the next header: they stay
        start = lines[h].start
        if chunks:
            first = h
            while first > 0 and lines[first - 1].kind == "blank":
                first -= 1
            start = max(lines[first].start, chunks[-1][1])
        chunks.append((start, lines[after - 1].end))
    return chunks


def splice(old: str, new_table: str, force: bool, path: Path) -> tuple[str, bool]:
    """The new file content and whether an existing table was replaced."""
    nl = "\r\n" if "\r\n" in old else "\n"
    block = new_table.replace("\n", nl)
    data = tomllib.loads(old)
    tool = data.get("tool")
    exists = isinstance(tool, dict) and "devbox" in tool
    if not exists:
        if not old.strip("\r\n"):
            return old + block, False
        sep = "" if old.endswith(nl * 2) else nl if old.endswith("\n") else nl * 2
        return old + sep + block, False
    if not force:
        raise ConfigError(
            f"{path}: {TABLE} already exists; devbox init leaves it alone. Run "
            "`devbox init --force` to replace it (and its sub-tables) with the proposal; "
            "nothing else in the file changes."
        )
    chunks = _devbox_chunks(_scan(old))
    if not chunks:
        raise ConfigError(
            f"{path}: {TABLE} is defined with dotted keys or an inline table, not as a "
            "[tool.devbox] table, so devbox init --force cannot replace it. Remove it by hand "
            "and run devbox init again."
        )
    parts: list[str] = []
    pos = 0
    for i, (start, end) in enumerate(chunks):
        parts.append(old[pos:start])
        if i == 0:
            parts.append(block)
        pos = end
    parts.append(old[pos:])
    return "".join(parts), True


def check_result(old: str | None, new: str, table_text: str, path: Path) -> None:
    """The new file parses (tomllib and tomlkit) to the old data with only the table changed."""
    expected: dict[str, Any] = tomllib.loads(old) if old is not None else {}
    tool = expected.setdefault("tool", {})
    if isinstance(tool, dict):
        tool["devbox"] = tomllib.loads(table_text)["tool"]["devbox"]
    try:
        got = tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        problem = f"the result would not be valid TOML ({exc})"
    else:
        try:
            doc = tomlkit.parse(new)
        except TOMLKitError as exc:
            problem = f"tomlkit cannot read the result ({exc})"
        else:
            same = doc.as_string() == new and doc.unwrap() == got
            problem = "" if same else "tomlkit does not read the result as tomllib does"
        if not problem and got != expected:
            problem = "the result does not hold the same data with only [tool.devbox] changed"
    if problem:
        raise ConfigError(
            f"{path}: cannot insert {TABLE} without changing anything else: {problem}. "
            "Nothing was written; add the table by hand (devbox init --dry-run prints it)."
        )


def insert_table(old: str | None, table_text: str, *, force: bool, path: Path) -> tuple[str, bool]:
    """The file's new text with ``table_text`` in it, and whether an existing table was replaced.

    ``old`` is the file's text (None when there is no file: the table is the whole file).
    Raises :class:`~devbox.errors.ConfigError` naming ``path`` when the table exists and not
    ``force``, when it cannot be replaced, or when anything else would change.
    """
    if old is None:
        new, replaced = table_text, False
    else:
        new, replaced = splice(old, table_text, force, path)
    check_result(old, new, table_text, path)
    return new, replaced
