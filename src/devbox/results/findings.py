"""Tool output → findings (file, line, message) for CI annotations and per-finding JUnit cases.

:func:`devbox.tools.parse` reads the text a tool printed, after
:func:`devbox.report.console.rewrite_paths` made its paths host paths relative to the current
directory.  Each built-in tool's module in :mod:`devbox.tools` knows its own format
(``Tool.parse``); this module has what they share:
:class:`Finding`, the path pattern, the line-by-line reader, the "would reformat" format of
black and ruff-format, and the recognition of a pytest session.

A tool name devbox does not know is tried with every built-in line format (or pytest's reader,
when its output is a pytest session's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Finding:
    """One problem a tool reported; ``line`` and ``col`` count from 1."""

    path: str
    line: int
    col: int | None
    message: str
    code: str | None
    severity: Severity = "error"

    @property
    def summary(self) -> str:
        """The message with its code appended (``… [F401]``), unless the message names it."""
        if self.code and self.code not in self.message:
            return f"{self.message} [{self.code}]"
        return self.message


#: A path at the start of a line: no leading blank, no colon inside.
PATH = r"(?P<path>[^\s:][^:]*)"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: every terminal escape sequence (CSI with intermediates, OSC): what devbox strips from tool
#: output before printing it (the console) or quoting it (hints)
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")

#: One line format: the finding that line ``i`` reports (it may look at the lines before it).
LineFormat = Callable[[list[str], int], Finding | None]


def lines(output: str) -> list[str]:
    """The output's lines, without color codes."""
    return _ANSI.sub("", output).splitlines()


def clean_path(raw: str) -> str:
    path = raw.strip()
    while path.startswith("./"):
        path = path[2:]
    return path


def optional_int(text: str | None) -> int | None:
    return None if text is None else int(text)


def line_number(text: str) -> int:
    return max(int(text), 1)  # flake8 reports unreadable files at line 0


def read_lines(text_lines: list[str], formats: Sequence[LineFormat]) -> list[Finding]:
    """One finding per line that one of ``formats`` reads (the first that does)."""
    found: list[Finding] = []
    for i in range(len(text_lines)):
        for line_format in formats:
            finding = line_format(text_lines, i)
            if finding is not None:
                found.append(finding)
                break
    return found


def line_parser(*formats: LineFormat) -> Callable[[str], list[Finding]]:
    """A tool's ``parse`` for output read line by line with ``formats``."""

    def parse_output(output: str) -> list[Finding]:
        return read_lines(lines(output), formats)

    return parse_output


# --- machine-readable outputs (ruff's and mypy's JSON, pylint's json2) ---------------------


def json_value(text: str) -> Any:
    """The JSON document ``text`` holds, or None."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def json_lines(text: str) -> list[Any] | None:
    """One JSON value per non-empty line (mypy's ``-O json``); None when a line is not one,
    or when there is none."""
    values = [json_value(t) for t in text.splitlines() if t.strip()]
    return values if values and all(v is not None for v in values) else None


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def column_from_zero(value: object) -> int | None:
    """A column a tool counts from 0 (mypy's JSON, pylint's json2; -1: none), from 1."""
    col = as_int(value)
    return col + 1 if col is not None and col >= 0 else None


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def field(item: object, *keys: str) -> object:
    """``item[k1][k2]…``, or None where a level is not a JSON object."""
    for key in keys:
        item = item.get(key) if isinstance(item, dict) else None
    return item


# --- shared by black and ruff-format ---------------------------------------------------------

_RUFF_FORMAT = re.compile(r"^Would reformat: (?P<path>.+)$")
_BLACK = re.compile(r"^would reformat (?P<path>.+)$")

REFORMAT_MESSAGE = "File would be reformatted"


def reformat(text_lines: list[str], i: int) -> Finding | None:
    """``would reformat PATH`` (black), ``Would reformat: PATH`` (older ruff-format)."""
    m = _RUFF_FORMAT.match(text_lines[i]) or _BLACK.match(text_lines[i])
    if m is None:
        return None
    return Finding(clean_path(m["path"]), 1, None, REFORMAT_MESSAGE, None)


# --- pytest sessions -------------------------------------------------------------------------

#: ``==== FAILURES ====``: a section of a pytest session's report.
PYTEST_SECTION = re.compile(r"^=+ (?P<name>.+?) =+$")


def is_pytest_session(text_lines: Sequence[str]) -> bool:
    """Whether the output is a pytest session's with failures or errors to read."""
    return any(
        (m := PYTEST_SECTION.match(line)) is not None and m["name"] in ("FAILURES", "ERRORS")
        for line in text_lines
    )


# --- dispatch --------------------------------------------------------------------------------


def fallback_formats(line_formats: Iterable[Sequence[LineFormat]]) -> tuple[LineFormat, ...]:
    """Every tool's line formats, once each, in the given (registry) order; :func:`reformat`
    last: its path is any text, so "would reformat a.py:1: error: …" is mypy's line."""
    ordered: list[LineFormat] = []
    for formats in line_formats:
        ordered += [f for f in formats if f not in ordered and f is not reformat]
    return (*ordered, reformat)
