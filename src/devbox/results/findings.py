"""Tool output → findings (file, line, message) for CI annotations and per-finding JUnit cases.

:func:`parse` reads the text a tool printed, after :func:`devbox.report.console.console.rewrite_paths` made
its paths host paths relative to the current directory.  It knows the formats of the
built-in tools' commands (see :mod:`devbox.tools`):

* ruff: ``path:line:col: CODE [*] message`` (concise), also ruff's "full" format
  (``CODE message`` then `` --> path:line:col``), which ``ruff format --check`` prints;
* flake8: ``path:line:col: CODE message``;
* pylint: ``path:line:col: CODE: message (symbol)``, its column counted from 0;
* mypy: ``path:line[:col[:endline:endcol]]: error|warning|note: message  [code]``;
* pytest: one finding per failing test or erroring setup/collection, at the last frame of
  its traceback that is in the project (``tests/test_x.py:13: AssertionError``);
* black, isort, older ruff-format: a file that would change is a finding at line 1.

A tool name devbox does not know is tried with every line format (or the pytest one, when its
output is a pytest session's).
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devbox.report.console import rewrite_paths
from devbox.results.model import RunResult, Status, ToolResult

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


# A path at the start of a line: no leading blank, no colon inside.
_P = r"(?P<path>[^\s:][^:]*)"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

_RUFF = re.compile(
    rf"^{_P}:(?P<line>\d+):(?P<col>\d+): "
    r"(?:(?P<code>[A-Z]+[0-9]+) (?:\[\*\] )?|(?P<syntax>invalid-syntax|SyntaxError): )"
    r"(?P<msg>.+)$"
)
_FLAKE8 = re.compile(rf"^{_P}:(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+[0-9]+) (?P<msg>.+)$")
_PYLINT = re.compile(rf"^{_P}:(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z][0-9]{{4}}): (?P<msg>.+)$")
_MYPY = re.compile(
    rf"^{_P}:(?P<line>\d+)(?::(?P<col>\d+))?(?::\d+:\d+)?: (?P<sev>error|warning|note): "
    r"(?P<msg>.+?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
# ruff's "full" format: a header line, then " --> path:line:col".
_RUFF_FULL_HEAD = re.compile(
    r"^(?P<code>[A-Z]+[0-9]+|[a-z][a-z0-9]*(?:-[a-z0-9]+)*|SyntaxError):? (?:\[\*\] )?(?P<msg>.+)$"
)
_RUFF_FULL_LOC = re.compile(rf"^ *--> {_P}:(?P<line>\d+):(?P<col>\d+)$")
_RUFF_FORMAT = re.compile(r"^Would reformat: (?P<path>.+)$")
_BLACK = re.compile(r"^would reformat (?P<path>.+)$")
# black >= 24: "error: cannot parse: path:1:6"; older: "error: cannot format path: Cannot parse: 1:6: …"
_BLACK_PARSE = re.compile(rf"^error: cannot parse: {_P}:(?P<line>\d+):(?P<col>\d+)$")
_BLACK_FORMAT = re.compile(r"^error: cannot format (?P<path>.+?): (?P<msg>.+)$")
_BLACK_WHERE = re.compile(r"Cannot parse(?: for target version [^:]+)?: (\d+):(\d+):")
_ISORT = re.compile(r"^ERROR: (?P<path>.+?) (?P<msg>Imports are incorrectly sorted.*)$")

_REFORMAT = "File would be reformatted"


def _path(raw: str) -> str:
    path = raw.strip()
    while path.startswith("./"):
        path = path[2:]
    return path


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def _line(text: str) -> int:
    return max(int(text), 1)  # flake8 reports unreadable files at line 0


LineParser = Callable[[list[str], int], Finding | None]


def _ruff(lines: list[str], i: int) -> Finding | None:
    m = _RUFF.match(lines[i])
    if m is None:
        return None
    code = m["code"] or m["syntax"]
    return Finding(_path(m["path"]), _line(m["line"]), int(m["col"]), m["msg"], code)


def _ruff_full(lines: list[str], i: int) -> Finding | None:
    m = _RUFF_FULL_LOC.match(lines[i])
    head = _RUFF_FULL_HEAD.match(lines[i - 1]) if m is not None and i > 0 else None
    if m is None or head is None:
        return None
    return Finding(_path(m["path"]), _line(m["line"]), int(m["col"]), head["msg"], head["code"])


def _flake8(lines: list[str], i: int) -> Finding | None:
    m = _FLAKE8.match(lines[i])
    if m is None:
        return None
    return Finding(_path(m["path"]), _line(m["line"]), int(m["col"]), m["msg"], m["code"])


_PYLINT_SEVERITY: dict[str, Severity] = {"F": "error", "E": "error", "I": "note"}


def _pylint(lines: list[str], i: int) -> Finding | None:
    m = _PYLINT.match(lines[i])
    if m is None:
        return None
    code = m["code"]
    # pylint counts columns from 0; fatal/error messages are errors, the rest warnings.
    return Finding(
        _path(m["path"]),
        _line(m["line"]),
        int(m["col"]) + 1,
        m["msg"],
        code,
        _PYLINT_SEVERITY.get(code[0], "warning"),
    )


_MYPY_SEVERITY: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "note"}


def _mypy(lines: list[str], i: int) -> Finding | None:
    m = _MYPY.match(lines[i])
    if m is None:
        return None
    return Finding(
        _path(m["path"]),
        _line(m["line"]),
        _int(m["col"]),
        m["msg"],
        m["code"],
        _MYPY_SEVERITY[m["sev"]],
    )


def _reformat(lines: list[str], i: int) -> Finding | None:
    m = _RUFF_FORMAT.match(lines[i]) or _BLACK.match(lines[i])
    if m is None:
        return None
    return Finding(_path(m["path"]), 1, None, _REFORMAT, None)


def _black_error(lines: list[str], i: int) -> Finding | None:
    m = _BLACK_PARSE.match(lines[i])
    if m is not None:  # black counts columns from 0
        return Finding(_path(m["path"]), _line(m["line"]), int(m["col"]) + 1, "Cannot parse", None)
    m = _BLACK_FORMAT.match(lines[i])
    if m is None:
        return None
    where = _BLACK_WHERE.search(m["msg"])
    if where is None:
        return Finding(_path(m["path"]), 1, None, m["msg"], None)
    return Finding(_path(m["path"]), _line(where[1]), int(where[2]) + 1, m["msg"], None)


def _isort(lines: list[str], i: int) -> Finding | None:
    m = _ISORT.match(lines[i])
    if m is None:
        return None
    return Finding(_path(m["path"]), 1, None, m["msg"], None)


# --- pytest ---------------------------------------------------------------------------------

_PYTEST_SECTION = re.compile(r"^=+ (?P<name>.+?) =+$")
_PYTEST_HEADING = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_PYTEST_CAPTURED = re.compile(r"^-+ Captured .* -+$")
# A traceback entry's location: "path:13: AssertionError" (long), "path:13: in test_x"
# (short), "path:13: " (an intermediate frame), "path:13: Failed: why" (--tb=line).
_PYTEST_LOCATION = re.compile(rf"^{_P}:(?P<line>\d+):(?: (?P<rest>.*))?$")
# Inside an "E" block: 'File "path", line 3' (a SyntaxError while collecting).
_PYTHON_FRAME = re.compile(r'^E\s+File "(?P<path>[^"]+)", line (?P<line>\d+)')
_EXCEPTION = re.compile(r"^((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::|$)")
_COLLECTING = re.compile(r"^ERROR collecting (?P<path>\S+)$")


def _is_pytest_session(lines: Sequence[str]) -> bool:
    return any(
        (m := _PYTEST_SECTION.match(line)) is not None and m["name"] in ("FAILURES", "ERRORS")
        for line in lines
    )


def _pytest_sections(lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """The failure reports: (heading, body) from the FAILURES and ERRORS sections."""
    reports: list[tuple[str | None, list[str]]] = []
    inside = False
    for line in lines:
        section = _PYTEST_SECTION.match(line)
        if section is not None:
            inside = section["name"] in ("FAILURES", "ERRORS")
            if inside:
                reports.append((None, []))
            continue
        if not inside:
            continue
        heading = _PYTEST_HEADING.match(line)
        if heading is not None:
            reports.append((heading["name"], []))
        else:
            reports[-1][1].append(line)
    return [(h, body) for h, body in reports if h is not None or body]


def _e_block(body: list[str]) -> list[str]:
    """The last run of "E" lines (the exception that ended the test), dedented."""
    blocks: list[list[str]] = []
    previous = False
    for line in body:
        is_e = line == "E" or line.startswith("E ")
        if is_e and not previous:
            blocks.append([])
        if is_e:
            blocks[-1].append(line[1:])
        previous = is_e
    if not blocks:
        return []
    return [line.rstrip() for line in textwrap.dedent("\n".join(blocks[-1])).strip().splitlines()]


def _pytest_report(heading: str, body: list[str]) -> Finding | None:
    for i, text in enumerate(body):
        if _PYTEST_CAPTURED.match(text):
            body = body[:i]
            break
    candidates: list[tuple[str, int, str]] = []
    for text in body:
        m = _PYTEST_LOCATION.match(text) or _PYTHON_FRAME.match(text)
        if m is not None and not m["path"].startswith("<"):
            rest = m["rest"] if "rest" in m.groupdict() else None
            candidates.append((_path(m["path"]), _line(m["line"]), rest or ""))
    inside = [c for c in candidates if not c[0].startswith("/")]
    collecting = _COLLECTING.match(heading)
    if inside:
        path, line, rest = inside[-1]
    elif collecting is not None:
        path, line, rest = _path(collecting["path"]), 1, ""
    elif candidates:
        path, line, rest = candidates[-1]
    else:
        return None
    error = _e_block(body)
    code = None
    last = candidates[-1][2] if candidates else ""
    for text in (rest, last, *(error[:1] + error[-1:])):
        exc = _EXCEPTION.match(text)
        if exc is not None:
            code = exc[1]
            break
    detail = "\n".join(error) if error else (rest or "failed")
    return Finding(path, line, None, f"{heading}: {detail}", code)


def _pytest_line_mode(body: list[str]) -> list[Finding]:
    """``--tb=line``: one "path:line: message" per failure, no headings."""
    found = []
    for line in body:
        m = _PYTEST_LOCATION.match(line)
        if m is not None and m["rest"]:
            exc = _EXCEPTION.match(m["rest"])
            code = exc[1] if exc is not None else None
            found.append(Finding(_path(m["path"]), _line(m["line"]), None, m["rest"], code))
    return found


def _pytest(lines: list[str]) -> list[Finding]:
    found: list[Finding] = []
    for heading, body in _pytest_sections(lines):
        if heading is None:
            found.extend(_pytest_line_mode(body))
            continue
        finding = _pytest_report(heading, body)
        if finding is not None:
            found.append(finding)
    return found


# --- dispatch -------------------------------------------------------------------------------

_ALL_LINES: tuple[LineParser, ...] = (
    _mypy,
    _pylint,
    _ruff,
    _flake8,
    _ruff_full,
    _reformat,
    _black_error,
    _isort,
)
_BY_TOOL: dict[str, tuple[LineParser, ...]] = {
    "ruff": (_ruff, _ruff_full),
    "ruff-format": (_reformat, _ruff_full),
    "flake8": (_flake8,),
    "pylint": (_pylint,),
    "mypy": (_mypy,),
    "black": (_reformat, _black_error),
    "isort": (_isort,),
}


def parse(tool: str, output: str) -> list[Finding]:
    """The findings in ``output`` (paths as printed: rewrite container paths first)."""
    lines = _ANSI.sub("", output).splitlines()
    if tool == "pytest" or (tool not in _BY_TOOL and _is_pytest_session(lines)):
        return _pytest(lines)
    parsers = _BY_TOOL.get(tool, _ALL_LINES)
    found: list[Finding] = []
    for i in range(len(lines)):
        for parser in parsers:
            finding = parser(lines, i)
            if finding is not None:
                found.append(finding)
                break
    return found


# --- GitHub Actions -------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: RunResult, project_root: Path, cwd: Path) -> list[str]:
    """GitHub Actions workflow commands (``::error file=…``) for every failed tool.

    Paths are relative to ``cwd``, which GitHub takes as the repository root.  A failed tool
    whose output has no finding devbox can read gets one annotation without a file.
    """
    commands: list[str] = []
    for tool in result.tools:
        if tool.status is not Status.FAILED:
            continue
        title = _escape_property(f"{tool.name} [{tool.python}]")
        found = parse(tool.name, rewrite_paths(tool.output, project_root, cwd))
        if not found:
            message = _escape_data(f"{tool.name} failed (exit code {tool.exit_code})")
            commands.append(f"::error title={title}::{message}")
            continue
        for f in found:
            command = "error" if f.severity == "error" else "warning"
            props = [f"file={_escape_property(f.path)}", f"line={f.line}"]
            if f.col is not None:
                props.append(f"col={f.col}")
            props.append(f"title={title}")
            commands.append(f"::{command} {','.join(props)}::{_escape_data(f.summary)}")
    return commands


# --- JUnit ----------------------------------------------------------------------------------


def junit_cases(tool: ToolResult, findings: Sequence[Finding]) -> list[ET.Element]:
    """One failing ``testcase`` per finding, named ``path:line``."""
    cases = []
    for f in findings:
        case = ET.Element(
            "testcase",
            {"classname": f"devbox.{tool.kind}.{tool.name}", "name": f"{f.path}:{f.line}"},
        )
        attrs = {"message": f.summary, "type": f.code or f.severity}
        failure = ET.SubElement(case, "failure", attrs)
        where = f"{f.path}:{f.line}" + (f":{f.col}" if f.col is not None else "")
        failure.text = f"{where}: {f.severity}: {f.summary}\n"
        cases.append(case)
    return cases
