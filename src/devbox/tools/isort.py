"""isort: ``ERROR: path Imports are incorrectly sorted and/or formatted.`` per file."""

from __future__ import annotations

import re

from devbox.results.findings import Finding, clean_path, line_parser
from devbox.tools.spec import File, IniSection, Table, Tool, matcher

_LINE = re.compile(r"^ERROR: (?P<path>.+?) (?P<msg>Imports are incorrectly sorted.*)$")


def line(lines: list[str], i: int) -> Finding | None:
    m = _LINE.match(lines[i])
    if m is None:
        return None
    return Finding(clean_path(m["path"]), 1, None, m["msg"], None)


REGEXP = r"^ERROR: (.+?) (Imports are incorrectly sorted.*)$"
MATCHER = matcher("isort", {"regexp": REGEXP, "kind": "file", "file": 1, "message": 2})

_FORMATS = (line,)

ISORT = Tool(
    name="isort",
    kind="lint",
    command=("isort", "--check-only", "."),
    fix=("isort", "."),
    packages=("isort==9.0.2",),
    env={},
    per_python=False,
    junit=False,
    parse=line_parser(*_FORMATS),
    line_formats=_FORMATS,
    machine=None,  # no machine-readable format of its own
    matchers=(MATCHER,),
    detect=(Table(("isort",)), File(".isort.cfg"), IniSection("setup.cfg", "isort")),
)
