"""mypy: ``path:line[:col[:endline:endcol]]: error|warning|note: message  [code]``."""

from __future__ import annotations

import re

from devbox.build.contract import CACHE
from devbox.results.findings import (
    PATH,
    Finding,
    Severity,
    clean_path,
    line_number,
    line_parser,
    optional_int,
)
from devbox.tools.spec import File, IniSection, Table, Tool, matcher

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
    matchers=(MATCHER,),
    detect=(Table(("mypy",)), File("mypy.ini"), File(".mypy.ini"), IniSection("setup.cfg", "mypy")),
)
