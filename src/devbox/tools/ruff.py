"""ruff: ``ruff check`` (tool ``ruff``) and ``ruff format --check`` (tool ``ruff-format``).

Output: ``path:line:col: CODE [*] message`` (the concise format devbox asks for), or ruff's
"full" format, a header line then `` --> path:line:col``, which ``ruff format --check``
prints (``unformatted: File would be reformatted``); older ruff-format prints
``Would reformat: path``.
"""

from __future__ import annotations

import re

from devbox.build.contract import CACHE
from devbox.results.findings import (
    PATH,
    Finding,
    clean_path,
    line_number,
    line_parser,
    reformat,
)
from devbox.tools.spec import (
    LINT_MATCHER,
    REFORMAT_MATCHER,
    File,
    Table,
    TableKey,
    TomlTable,
    Tool,
    matcher,
)

_CONCISE = re.compile(
    rf"^{PATH}:(?P<line>\d+):(?P<col>\d+): "
    r"(?:(?P<code>[A-Z]+[0-9]+) (?:\[\*\] )?|(?P<syntax>invalid-syntax|SyntaxError): )"
    r"(?P<msg>.+)$"
)
_FULL_HEAD = re.compile(
    r"^(?P<code>[A-Z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)*|SyntaxError):? (?:\[\*\] )?(?P<msg>.+)$"
)
_FULL_LOCATION = re.compile(rf"^ *--> {PATH}:(?P<line>\d+):(?P<col>\d+)$")


def concise(lines: list[str], i: int) -> Finding | None:
    m = _CONCISE.match(lines[i])
    if m is None:
        return None
    code = m["code"] or m["syntax"]
    return Finding(clean_path(m["path"]), line_number(m["line"]), int(m["col"]), m["msg"], code)


def full(lines: list[str], i: int) -> Finding | None:
    """The location line of the full format, with the header line before it."""
    m = _FULL_LOCATION.match(lines[i])
    head = _FULL_HEAD.match(lines[i - 1]) if m is not None and i > 0 else None
    if m is None or head is None:
        return None
    return Finding(
        clean_path(m["path"]), line_number(m["line"]), int(m["col"]), head["msg"], head["code"]
    )


#: the full format: a header line, then `` --> file:line:col``
FULL_HEADER_REGEXP = r"^([A-Z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)*):? (?:\[\*\] )?(.*)$"
FULL_LOCATION_REGEXP = r"^ *--> ([^\s:][^:]*):(\d+):(\d+)$"
FULL_MATCHER = matcher(
    "ruff",
    [
        {"regexp": FULL_HEADER_REGEXP, "code": 1, "message": 2},
        {"regexp": FULL_LOCATION_REGEXP, "file": 1, "line": 2, "column": 3},
    ],
)

_ENV = {"RUFF_CACHE_DIR": f"{CACHE}/ruff"}
_RUFF_TOMLS = ("ruff.toml", ".ruff.toml")

RUFF = Tool(
    name="ruff",
    kind="lint",
    command=("ruff", "check", "--output-format=concise", "."),
    fix=("ruff", "check", "--fix", "--output-format=concise", "."),
    packages=("ruff==0.17.6",),
    env=_ENV,
    per_python=False,
    junit=False,
    parse=line_parser(concise, full),
    line_formats=(concise, full),
    matchers=(LINT_MATCHER, FULL_MATCHER),
    detect=(Table(("ruff",)), *(File(name) for name in _RUFF_TOMLS)),
)

RUFF_FORMAT = Tool(
    name="ruff-format",
    kind="lint",
    command=("ruff", "format", "--check", "."),
    fix=("ruff", "format", "."),
    packages=("ruff==0.17.6",),
    env=_ENV,
    per_python=False,
    junit=False,
    parse=line_parser(reformat, full),
    line_formats=(reformat, full),
    matchers=(REFORMAT_MATCHER, FULL_MATCHER),
    detect=(
        TableKey(("ruff",), "format"),
        *(TomlTable(name, "format") for name in _RUFF_TOMLS),
    ),
)
