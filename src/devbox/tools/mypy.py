"""mypy: ``path:line[:col[:endline:endcol]]: error|warning|note: message  [code]``."""

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
    column_from_zero,
    field,
    json_lines,
    line_number,
    line_parser,
    optional_int,
)
from devbox.tools.spec import File, IniSection, Machine, Table, Tool, matcher

_LINE = re.compile(
    rf"^{PATH}:(?P<line>\d+)(?::(?P<col>\d+))?(?::\d+:\d+)?: (?P<sev>error|warning|note): "
    r"(?P<msg>.+?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_SEVERITY: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "note"}


def line(lines: list[str], i: int) -> Finding | None:
    m = _LINE.match(lines[i])
    if m is None:
        return None
    return Finding(
        clean_path(m["path"]),
        line_number(m["line"]),
        optional_int(m["col"]),
        m["msg"],
        m["code"],
        _SEVERITY[m["sev"]],
    )


def parse_json(text: str) -> list[Finding] | None:
    """``-O json`` (mypy >= 1.11): one object per line, ``column`` counted from 0 (-1: none);
    a note attached to an error is its ``hint``, added to the message. ``pretty`` and
    ``show_error_codes = false`` change nothing of it."""
    items = json_lines(text)
    if items is None:
        return None
    found = []
    for item in items:
        path = as_str(field(item, "file"))
        line_ = as_int(field(item, "line"))
        message = as_str(field(item, "message"))
        if path is None or line_ is None or message is None:
            continue
        hint = as_str(field(item, "hint"))
        severity = _SEVERITY.get(as_str(field(item, "severity")) or "", "error")
        found.append(
            Finding(
                clean_path(path),
                max(line_, 1),
                column_from_zero(field(item, "column")),
                f"{message}\n{hint}" if hint else message,
                as_str(field(item, "code")),
                severity,
            )
        )
    return found


#: ``-O``/``--output``: one format at a time, the JSON run's last
MACHINE = Machine("after-failure", ("-O", "json"), {"-O": True, "--output": True}, parse_json)

#: ``file:line[:col[:endline:endcol]]: error|warning|note: message  [code]``
REGEXP = (
    r"^([^\s:][^:]*):(\d+)(?::(\d+))?(?::\d+:\d+)?: (error|warning|note): "
    r"(.*?)(?:  \[([a-z0-9-]+)\])?$"
)
MATCHER = matcher(
    "mypy",
    {"regexp": REGEXP, "file": 1, "line": 2, "column": 3, "severity": 4, "message": 5, "code": 6},
)

_FORMATS = (line,)

MYPY = Tool(
    name="mypy",
    kind="lint",
    command=("mypy", "."),
    fix=None,
    packages=("mypy==2.4.1",),
    env={"MYPY_CACHE_DIR": f"{CACHE}/mypy"},
    per_python=True,
    junit=False,
    parse=line_parser(*_FORMATS),
    line_formats=_FORMATS,
    machine=MACHINE,
    matchers=(MATCHER,),
    detect=(Table(("mypy",)), File("mypy.ini"), File(".mypy.ini"), IniSection("setup.cfg", "mypy")),
)
