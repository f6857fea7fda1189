"""flake8: ``path:line:col: CODE message`` (line 0 for a file it cannot read)."""

from __future__ import annotations

import re

from devbox.results.findings import PATH, Finding, clean_path, line_number, line_parser
from devbox.tools.spec import LINT_MATCHER, File, IniSection, Tool

_LINE = re.compile(rf"^{PATH}:(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<msg>.+)$")


def line(lines: list[str], i: int) -> Finding | None:
    m = _LINE.match(lines[i])
    if m is None:
        return None
    return Finding(
        clean_path(m["path"]), line_number(m["line"]), int(m["col"]), m["msg"], m["code"]
    )


_FORMATS = (line,)

FLAKE8 = Tool(
    name="flake8",
    kind="lint",
    command=("flake8", "."),
    fix=None,
    packages=("flake8==7.5.0",),
    env={},
    per_python=False,
    junit=False,
    parse=line_parser(*_FORMATS),
    line_formats=_FORMATS,
    machine=None,  # no machine-readable format of its own
    matchers=(LINT_MATCHER,),
    detect=(IniSection("tox.ini", "flake8"), IniSection("setup.cfg", "flake8"), File(".flake8")),
)
