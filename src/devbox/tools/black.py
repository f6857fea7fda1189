"""black: ``would reformat path`` per file it would change, and the files it cannot parse.

black >= 24 prints ``error: cannot parse: path:1:6``; older versions
``error: cannot format path: Cannot parse: 1:6: …``; both count columns from 0.
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
from devbox.tools.spec import REFORMAT_MATCHER, Table, Tool

_PARSE = re.compile(rf"^error: cannot parse: {PATH}:(?P<line>\d+):(?P<col>\d+)$")
_FORMAT = re.compile(r"^error: cannot format (?P<path>.+?): (?P<msg>.+)$")
_WHERE = re.compile(r"Cannot parse(?: for target version [^:]+)?: (\d+):(\d+):")


def error(lines: list[str], i: int) -> Finding | None:
    m = _PARSE.match(lines[i])
    if m is not None:
        return Finding(
            clean_path(m["path"]), line_number(m["line"]), int(m["col"]) + 1, "Cannot parse", None
        )
    m = _FORMAT.match(lines[i])
    if m is None:
        return None
    where = _WHERE.search(m["msg"])
    if where is None:
        return Finding(clean_path(m["path"]), 1, None, m["msg"], None)
    return Finding(clean_path(m["path"]), line_number(where[1]), int(where[2]) + 1, m["msg"], None)


_FORMATS = (reformat, error)

BLACK = Tool(
    name="black",
    kind="lint",
    command=("black", "--check", "."),
    fix=("black", "."),
    packages=("black==26.10.1",),
    env={"BLACK_CACHE_DIR": f"{CACHE}/black"},
    per_python=False,
    junit=False,
    parse=line_parser(*_FORMATS),
    line_formats=_FORMATS,
    machine=None,  # no machine-readable format of its own
    # Its "error: cannot parse" lines have no matcher: VS Code does not show them.
    matchers=(REFORMAT_MATCHER,),
    detect=(Table(("black",)),),
)
