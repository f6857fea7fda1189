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
    Severity,
    as_int,
    as_str,
    clean_path,
    field,
    json_value,
    line_number,
    line_parser,
    reformat,
)
from devbox.tools.spec import (
    LINT_MATCHER,
    REFORMAT_MATCHER,
    File,
    Machine,
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


def parse_json(text: str) -> list[Finding] | None:
    """``--output-format=json``: a list of diagnostics (``filename``, ``location.row`` and
    ``.column`` from 1, ``code``: null for a syntax error, whose ``name`` is used then)."""
    data = json_value(text)
    if not isinstance(data, list):
        return None
    found = []
    for item in data:
        path = as_str(field(item, "filename"))
        row = as_int(field(item, "location", "row"))
        message = as_str(field(item, "message"))
        if path is None or row is None or message is None:
            continue
        code = as_str(field(item, "code")) or as_str(field(item, "name"))
        severity: Severity = "warning" if field(item, "severity") == "warning" else "error"
        col = as_int(field(item, "location", "column"))
        found.append(Finding(path, max(row, 1), col, message, code, severity))
    return found


#: options that change what ruff prints (or make it print nothing, or never stop): the JSON
#: run goes without them (name → takes a value)
_DROP = {
    "--output-format": True,
    "--output-file": True,
    "-o": True,
    "--statistics": False,
    "--show-files": False,
    "--show-settings": False,
    "--silent": False,
    "-s": False,
    "--watch": False,
    "-w": False,
    "--diff": False,
}
CHECK_MACHINE = Machine("after-failure", ("--output-format=json",), _DROP, parse_json)
#: ``ruff format --check --output-format=json`` (ruff >= 0.9); without ``--check`` (a user's
#: ``ruff format --diff``) the JSON run would reformat its view of the tree
FORMAT_MACHINE = Machine(
    "after-failure", ("--check", "--output-format=json"), {**_DROP, "--check": False}, parse_json
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
    machine=CHECK_MACHINE,
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
    machine=FORMAT_MACHINE,
    matchers=(REFORMAT_MATCHER, FULL_MATCHER),
    detect=(
        TableKey(("ruff",), "format"),
        *(TomlTable(name, "format") for name in _RUFF_TOMLS),
    ),
)
