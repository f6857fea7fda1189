"""pytest: one finding per failing test or erroring setup/collection.

The findings come from the JUnit XML report pytest writes for devbox (:func:`parse_junit`),
whatever ``--tb`` says; the text reader below is for a pytest session devbox has no report
of (a custom tool that runs pytest).  A finding is at the last frame of its traceback that is in the project
(``tests/test_x.py:13: AssertionError`` in the long format, ``tests/test_x.py:13: in test_x``
in the short one), its message the test's heading and the exception's "E" lines; with
``--tb=line`` each failure is one ``path:line: message`` line.  pytest also writes a JUnit XML
report, whose test cases stand for it in devbox's own.
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET

from devbox.build.contract import CACHE, WORKDIR
from devbox.results.findings import (
    PATH,
    PYTEST_SECTION,
    Finding,
    clean_path,
    line_number,
    lines,
)
from devbox.tools.spec import Dir, File, IniSection, Machine, Table, Tool, matcher

_HEADING = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_CAPTURED = re.compile(r"^-+ Captured .* -+$")
# A traceback entry's location: "path:13: AssertionError" (long), "path:13: in test_x"
# (short), "path:13: " (an intermediate frame), "path:13: Failed: why" (--tb=line).
_LOCATION = re.compile(rf"^{PATH}:(?P<line>\d+):(?: (?P<rest>.*))?$")
# Inside an "E" block: 'File "path", line 3' (a SyntaxError while collecting).
_PYTHON_FRAME = re.compile(r'^E\s+File "(?P<path>[^"]+)", line (?P<line>\d+)')
_EXCEPTION = re.compile(r"^((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?::|$)")
_COLLECTING = re.compile(r"^ERROR collecting (?P<path>\S+)$")


def _sections(text_lines: list[str]) -> list[tuple[str | None, list[str]]]:
    """The failure reports: (heading, body) from the FAILURES and ERRORS sections."""
    reports: list[tuple[str | None, list[str]]] = []
    inside = False
    for text in text_lines:
        section = PYTEST_SECTION.match(text)
        if section is not None:
            inside = section["name"] in ("FAILURES", "ERRORS")
            if inside:
                reports.append((None, []))
            continue
        if not inside:
            continue
        heading = _HEADING.match(text)
        if heading is not None:
            reports.append((heading["name"], []))
        else:
            reports[-1][1].append(text)
    return [(h, body) for h, body in reports if h is not None or body]


def _e_block(body: list[str]) -> list[str]:
    """The last run of "E" lines (the exception that ended the test), dedented."""
    blocks: list[list[str]] = []
    previous = False
    for text in body:
        is_e = text == "E" or text.startswith("E ")
        if is_e and not previous:
            blocks.append([])
        if is_e:
            blocks[-1].append(text[1:])
        previous = is_e
    if not blocks:
        return []
    return [t.rstrip() for t in textwrap.dedent("\n".join(blocks[-1])).strip().splitlines()]


def _report(heading: str, body: list[str]) -> Finding | None:
    for i, text in enumerate(body):
        if _CAPTURED.match(text):
            body = body[:i]
            break
    candidates: list[tuple[str, int, str]] = []
    for text in body:
        m = _LOCATION.match(text) or _PYTHON_FRAME.match(text)
        if m is not None and not m["path"].startswith("<"):
            rest = m["rest"] if "rest" in m.groupdict() else None
            candidates.append((clean_path(m["path"]), line_number(m["line"]), rest or ""))
    inside = [c for c in candidates if not c[0].startswith("/")]
    collecting = _COLLECTING.match(heading)
    if inside:
        path, line, rest = inside[-1]
    elif collecting is not None:
        path, line, rest = clean_path(collecting["path"]), 1, ""
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


def _line_mode(body: list[str]) -> list[Finding]:
    """``--tb=line``: one "path:line: message" per failure, no headings."""
    found = []
    for text in body:
        m = _LOCATION.match(text)
        if m is not None and m["rest"]:
            exc = _EXCEPTION.match(m["rest"])
            code = exc[1] if exc is not None else None
            found.append(
                Finding(clean_path(m["path"]), line_number(m["line"]), None, m["rest"], code)
            )
    return found


def parse_session(text_lines: list[str]) -> list[Finding]:
    """The findings of a pytest session's output lines (color codes removed)."""
    found: list[Finding] = []
    for heading, body in _sections(text_lines):
        if heading is None:
            found.extend(_line_mode(body))
            continue
        finding = _report(heading, body)
        if finding is not None:
            found.append(finding)
    return found


def parse(output: str) -> list[Finding]:
    return parse_session(lines(output))


#: In a JUnit failure's text: ``  File "/src/tests/test_x.py", line 4, in test_x`` (--tb=native)
_NATIVE_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
#: ``failed on setup with "ValueError: why"``: an error's message
_QUOTED = re.compile(r'"(?P<inner>.+)"$')


def _frames(text: str) -> list[tuple[str, int]]:
    """The traceback's locations in the project (relative, or under the project's mount)."""
    found = []
    for line_ in text.splitlines():
        m = _LOCATION.match(line_) or _NATIVE_FRAME.match(line_) or _PYTHON_FRAME.match(line_)
        if m is None:
            continue
        path = m["path"]
        if path.startswith(WORKDIR + "/"):
            path = path[len(WORKDIR) + 1 :]
        if not path.startswith(("/", "<")):
            found.append((clean_path(path), line_number(m["line"])))
    return found


def _exception(message: str, text: str) -> str | None:
    """The exception's type: the message's first word (``ValueError: why``), the quoted part
    of an error's message, else the last line of the traceback that names one (``E   X``,
    ``path:3: X``); ``assert …`` is the message pytest gives a failed assert statement."""
    first = message.splitlines()[0] if message else ""
    if first.startswith("assert "):
        return "AssertionError"
    quoted = _QUOTED.search(first)
    candidates = [first, quoted["inner"] if quoted else ""]
    for text_line in reversed(text.splitlines()):
        location = _LOCATION.match(text_line)
        candidates.append(location["rest"] or "" if location else text_line.removeprefix("E"))
    for candidate in candidates:
        exc = _EXCEPTION.match(candidate.strip())
        if exc is not None:
            return exc[1]
    return None


def _junit_heading(case: ET.Element) -> str:
    """The name pytest's text report gives the case: ``TestK.test_m``, ``test_p[2]``,
    ``ERROR collecting tests/test_c.py``."""
    name = case.get("name", "")
    classname = case.get("classname", "")
    path = case.get("file")
    if not classname and path:
        return f"ERROR collecting {path}"
    module = path.removesuffix(".py").replace("/", ".") if path else ""
    if module and classname.startswith(module + "."):
        return f"{classname[len(module) + 1 :]}.{name}"
    return name


def parse_junit(text: str) -> list[Finding] | None:
    """pytest's JUnit XML (devbox asks for the ``xunit1`` family, whose cases carry ``file``
    and ``line``): one finding per failing or erroring case, at the last frame of its
    traceback that is in the project, else at the test's definition (``--tb=no``)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    found = []
    for case in root.iter("testcase"):
        for problem in case:
            if problem.tag not in ("failure", "error"):
                continue
            message = problem.get("message", "")
            body = problem.text or ""
            frames = _frames(body)
            path, line_ = frames[-1] if frames else (case.get("file"), None)
            if not path:
                continue
            if line_ is None:
                defined = case.get("line")  # counted from 0
                line_ = int(defined) + 1 if defined and defined.isdigit() else 1
            detail = message or (body.strip().splitlines() or ["failed"])[-1]
            found.append(
                Finding(
                    clean_path(path),
                    line_,
                    None,
                    f"{_junit_heading(case)}: {detail}",
                    _exception(message, body),
                )
            )
    return found


#: a failure's location ``file:line: ExceptionType`` (or ``…: Type: why`` with --tb=line)
REGEXP = r"^([^\s:][^:]*):(\d+): ((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:: .*)?)$"
MATCHER = matcher("pytest", {"regexp": REGEXP, "file": 1, "line": 2, "message": 3})

#: Directories whose presence means "this project has pytest tests".
TEST_DIRS = ("tests", "test")

PYTEST = Tool(
    name="pytest",
    kind="test",
    command=("python", "-m", "pytest"),
    fix=None,
    packages=("pytest",),
    env={"COVERAGE_FILE": f"{CACHE}/coverage"},
    per_python=True,
    junit=True,
    parse=parse,
    line_formats=(),  # a session is read as a whole: its reports span many lines
    machine=Machine("junit", (), {}, parse_junit),
    matchers=(MATCHER,),
    detect=(
        Table(("pytest", "ini_options")),
        File("pytest.ini"),
        IniSection("tox.ini", "pytest"),
        IniSection("setup.cfg", "tool:pytest"),
        *(Dir(name) for name in TEST_DIRS),
    ),
)
