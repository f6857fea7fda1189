"""pylint: ``path:line:col: CODE: message (symbol)``, its column counted from 0."""

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
    json_value,
    line_number,
    line_parser,
)
from devbox.tools.spec import PYLINT_MATCHERS, File, Machine, TablePrefix, Tool

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
        _severity(code),
    )


def _severity(code: str) -> Severity:
    return _SEVERITY.get(code[:1], "warning")


def parse_json2(text: str) -> list[Finding] | None:
    """The ``json2`` reporter (pylint >= 3): ``{"messages": [...]}``, each with ``path``,
    ``line``, ``column`` (from 0), ``messageId``, ``symbol``, ``message``."""
    messages = field(json_value(text), "messages")
    if not isinstance(messages, list):
        return None
    found = []
    for item in messages:
        path = as_str(field(item, "path"))
        line_ = as_int(field(item, "line"))
        message = as_str(field(item, "message"))
        code = as_str(field(item, "messageId"))
        if path is None or line_ is None or message is None or code is None:
            continue
        symbol = as_str(field(item, "symbol"))
        found.append(
            Finding(
                clean_path(path),
                max(line_, 1),
                column_from_zero(field(item, "column")),
                f"{message} ({symbol})" if symbol else message,
                code,
                _severity(code),
            )
        )
    return found


#: the text reporter for the output, json2 into the side file; the project's own
#: ``output-format`` (pylintrc or the command) gives way to these two
MACHINE = Machine(
    "alongside",
    ("--output-format=text,json2:{file}",),
    {"--output-format": True, "-f": True},
    parse_json2,
    min_major=("pylint", 3),
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
    machine=MACHINE,
    matchers=PYLINT_MATCHERS,
    detect=(TablePrefix("pylint"), File(".pylintrc"), File("pylintrc")),
)
