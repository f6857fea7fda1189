"""``--junit-xml``: one JUnit file for CI, a test suite per tool and Python version.

pytest's own test cases are merged in (suite renamed ``pytest[3.13]``); any other tool that
failed is one failing test case per finding in its output (``src/a.py:12``, see
:mod:`devbox.results.findings`), or one case failing with the whole output when devbox cannot
read it; a tool that passed is one passing case; a tool that ran past its time limit is one
case failing with the limit and the output so far (a partial report of its own is not used);
an environment that could not be built is a suite with one erroring case.  A built-in tool
that writes its own JUnit report (``Tool.junit``) is never read for findings: its report's
cases stand for it.

The document validates against the Jenkins xunit plugin's ``junit-10.xsd`` (a copy is in
tests/data, the test is tests/unit/test_junit_schema.py), the strictest schema CI servers
read: ``testsuites`` carries no ``skipped`` count, every suite has a ``time``, what a tool's
own report adds beyond that schema (pytest's xunit1 ``file``/``line``, per-case
``properties``) is dropped, and text is stripped of what XML 1.0 cannot hold (terminal
escapes, control characters).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from devbox import tools
from devbox.build import secrets as build_secrets
from devbox.build.contract import WORKDIR
from devbox.fsutil import atomic_write
from devbox.report import located
from devbox.results import findings
from devbox.results.model import RunResult, Status, ToolResult


def _suite(name: str, duration_s: float = 0.0) -> ET.Element:
    return ET.Element("testsuite", {"name": name, "time": f"{duration_s:.3f}"})


#: what junit-10.xsd allows on a testsuite and a testcase, and inside a testcase
_SUITE_ATTRS = frozenset(
    {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp"}
    | {"hostname", "id", "package", "file", "log", "url"}
)
_CASE_ATTRS = frozenset({"name", "time", "classname", "group"})
_CASE_CHILDREN = frozenset(
    {"skipped", "error", "failure", "system-out", "system-err"}
    | {"rerunFailure", "rerunError", "flakyFailure", "flakyError"}
)
_SUITE_CHILDREN = frozenset({"testsuite", "properties", "testcase", "system-out", "system-err"})
#: the schema's SUREFIRE_TIME, as pytest writes it (``0.123``)
_TIME = re.compile(r"[0-9]*(\.[0-9]*)?")
#: what XML 1.0 cannot hold: control characters other than tab, newline, carriage return
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _finish(suite: ET.Element) -> ET.Element:
    cases = suite.findall("testcase")
    counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if case.find(tag) is not None:
                counts[key] += 1
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    return suite


def case_name(finding: findings.Finding) -> str:
    """``src/a.py:12:5 F401``: where, and the code, so that two findings on one line differ."""
    where = f"{finding.path}:{finding.line}" + (
        f":{finding.col}" if finding.col is not None else ""
    )
    return f"{where} {finding.code}" if finding.code else where


def junit_cases(tool: ToolResult, found: Sequence[findings.Finding]) -> list[ET.Element]:
    """One failing ``testcase`` per finding, named by :func:`case_name`; a name already used
    in the suite (the same code twice at one place) gets `` (2)``, `` (3)``..."""
    cases = []
    seen: dict[str, int] = {}
    for f in found:
        name = case_name(f)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        case = ET.Element(
            "testcase", {"classname": f"devbox.{tool.kind}.{tool.name}", "name": name, "time": "0"}
        )
        attrs = {"message": f.summary, "type": f.code or f.severity}
        failure = ET.SubElement(case, "failure", attrs)
        where = f"{f.path}:{f.line}" + (f":{f.col}" if f.col is not None else "")
        failure.text = f"{where}: {f.severity}: {f.summary}\n"
        cases.append(case)
    return cases


def _writes_junit(name: str) -> bool:
    """A built-in tool with its own JUnit report: its cases, not findings, stand for it."""
    builtin = tools.BUILTIN.get(name)
    return builtin is not None and builtin.junit


def _tool_suites(tool: ToolResult) -> list[ET.Element]:
    name = f"{tool.name}[{tool.python}]"
    if tool.junit_xml and tool.status is not Status.TIMEOUT:
        try:
            root = ET.fromstring(tool.junit_xml)
        except ET.ParseError:
            root = None
        if root is not None:
            suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
            for suite in suites:
                _to_schema(suite)
                suite.set("name", name)
            return suites
    suite = _suite(name, tool.duration_s)
    if tool.status is Status.FAILED and not _writes_junit(tool.name):
        # paths relative to the project: its root is the base
        found = located.findings(tool, Path(WORKDIR), Path(WORKDIR))
        if found:
            suite.extend(junit_cases(tool, found))
            return [_finish(suite)]
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": f"devbox.{tool.kind}", "name": tool.name, "time": f"{tool.duration_s:.3f}"},
    )
    if tool.status is Status.FAILED:
        failure = ET.SubElement(
            case, "failure", {"message": f"{tool.name} exited with code {tool.exit_code}"}
        )
        failure.text = tool.output
    elif tool.status is Status.TIMEOUT:
        failure = ET.SubElement(
            case, "failure", {"message": tool.timeout_message, "type": "timeout"}
        )
        failure.text = tool.output
    elif tool.status is Status.ERROR:
        ET.SubElement(
            case, "error", {"message": f"the Python {tool.python} environment could not be built"}
        )
    elif tool.status is Status.CANCELLED:
        ET.SubElement(
            case, "skipped", {"message": "not run to the end: --fail-fast stopped the build"}
        )
    return [_finish(suite)]


def _to_schema(suite: ET.Element) -> None:
    """A tool's own suite, within junit-10.xsd: unknown attributes and children dropped, the
    counts the schema requires filled in."""
    for key in [k for k in suite.attrib if k not in _SUITE_ATTRS]:
        del suite.attrib[key]
    if not _TIME.fullmatch(suite.get("time", "")):
        suite.attrib.pop("time", None)
    for child in list(suite):
        if child.tag not in _SUITE_CHILDREN:
            suite.remove(child)
        elif child.tag == "testsuite":
            _to_schema(child)
        elif child.tag == "testcase":
            for key in [k for k in child.attrib if k not in _CASE_ATTRS]:
                del child.attrib[key]
            child.set("name", child.get("name", ""))
            for inner in list(child):
                if inner.tag not in _CASE_CHILDREN:
                    child.remove(inner)
    cases = suite.findall("testcase")
    for key, tag in (("tests", None), ("failures", "failure"), ("errors", "error")):
        if suite.get(key) is None:
            n = sum(1 for c in cases if tag is None or c.find(tag) is not None)
            suite.set(key, str(n))


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: a tool's colours and other escapes dropped, control characters
    shown as U+FFFD (ElementTree would write them, making the file unreadable)."""
    return _NOT_XML.sub("\ufffd", findings.ESCAPES.sub("", text))


def _clean_tree(root: ET.Element) -> None:
    for element in root.iter():
        if element.text:
            element.text = _xml_text(element.text)
        if element.tail:
            element.tail = _xml_text(element.tail)
        for key, value in element.attrib.items():
            element.set(key, _xml_text(value))


def _mask_tree(root: ET.Element, masked: Sequence[str]) -> None:
    """Mask every text, tail and attribute value (pytest's own cases hold captured output and
    assertion text), before serializing: the XML stays well-formed."""
    for element in root.iter():
        if element.text:
            element.text = build_secrets.mask(element.text, masked)
        if element.tail:
            element.tail = build_secrets.mask(element.tail, masked)
        for key, value in element.attrib.items():
            element.set(key, build_secrets.mask(value, masked))


def to_xml(result: RunResult, masked: Sequence[str] = ()) -> str:
    """The JUnit document; ``masked``: the secret values (:meth:`Secrets.values`) to mask."""
    root = ET.Element("testsuites", {"name": "devbox"})
    for tool in result.tools:
        root.extend(_tool_suites(tool))
    for env in result.environments:
        if env.ok:
            continue
        suite = _suite(f"environment[{env.python}]")
        case = ET.SubElement(
            suite, "testcase", {"classname": "devbox.environment", "name": env.image}
        )
        error = ET.SubElement(case, "error", {"message": env.error})
        error.text = env.log
        root.append(_finish(suite))
    # junit-10.xsd has no skipped count on testsuites (each suite has its own)
    totals = {k: 0 for k in ("tests", "failures", "errors")}
    time_s = 0.0
    for suite in root.findall("testsuite"):
        for key in totals:
            totals[key] += _count(suite.get(key))
        time_s += _seconds(suite.get("time"))
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.set("time", f"{time_s:.3f}")
    _clean_tree(root)
    if masked:
        _mask_tree(root, masked)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _count(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _seconds(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def write(path: Path, result: RunResult, masked: Sequence[str] = ()) -> None:
    atomic_write(path, to_xml(result, masked))
