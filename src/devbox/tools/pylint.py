"""pylint: ``path:line:col: CODE: message (symbol)``, its column counted from 0."""

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
)
from devbox.tools.spec import PYLINT_MATCHERS, File, TablePrefix, Tool

_LINE = re.compile(rf"^{PATH}:(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z][0-9]{{4}}): (?P<msg>.+)$")
# Fatal and error messages are errors, informational ones notes, the rest warnings.
_SEVERITY: dict[str, Severity] = {"F": "error", "E": "error", "I": "note"}


def line(lines: list[str], i: int) -> Finding | None:
    m = _LINE.match(lines[i])
    if m is None:
        return None
    code = m["code"]
    return Finding(
        clean_path(m["path"]),
        line_number(m["line"]),
        int(m["col"]) + 1,
        m["msg"],
        code,
        _SEVERITY.get(code[0], "warning"),
    )


_FORMATS = (line,)

PYLINT = Tool(
    name="pylint",
    kind="lint",
    command=("pylint", "--recursive=y", "."),
    fix=None,
    packages=("pylint==4.1.4",),
    env={"PYLINTHOME": f"{CACHE}/pylint"},
    per_python=True,  # it infers from the running interpreter's standard library
    junit=False,
    parse=line_parser(*_FORMATS),
    line_formats=_FORMATS,
    matchers=PYLINT_MATCHERS,
    detect=(TablePrefix("pylint"), File(".pylintrc"), File("pylintrc")),
)
