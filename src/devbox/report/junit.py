"""``--junit-xml``: one JUnit file for CI, a test suite per tool and Python version.

pytest's own test cases are merged in (suite renamed ``pytest[3.13]``); any other tool that
failed is one failing test case per finding in its output (``src/a.py:12``, see
:mod:`devbox.results.findings`), or one case failing with the whole output when devbox cannot
read it; a tool that passed is one passing case; a tool that ran past its time limit is one
case failing with the limit and the output so far (a partial report of its own is not used);
an environment that could not be built is a suite with one erroring case.  A built-in tool that writes its own JUnit report
(``Tool.junit``) is never read for findings: its report's cases stand for it.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from devbox import tools
from devbox.build import secrets as build_secrets
from devbox.build.contract import WORKDIR
from devbox.fsutil import atomic_write
from devbox.results import findings
from devbox.results.model import RunResult, Status, ToolResult


def _suite(name: str) -> ET.Element:
    return ET.Element("testsuite", {"name": name})


def _finish(suite: ET.Element) -> ET.Element:
    cases = suite.findall("testcase")
    counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        for tag, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if case.find(tag) is not None:
                counts[key] += 1
    suite.attrib.update({k: str(v) for k, v in counts.items()})
    return suite


def _project_relative(finding: findings.Finding) -> findings.Finding:
    """The output is the container's: ``/src/pkg/a.py`` (black, isort) → ``pkg/a.py``."""
    if finding.path.startswith(WORKDIR + "/"):
        return dataclasses.replace(finding, path=finding.path[len(WORKDIR) + 1 :])
    return finding


def junit_cases(tool: ToolResult, found: Sequence[findings.Finding]) -> list[ET.Element]:
    """One failing ``testcase`` per finding, named ``path:line``."""
    cases = []
    for f in found:
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
                suite.set("name", name)
            return suites
    suite = _suite(name)
    if tool.status is Status.FAILED and not _writes_junit(tool.name):
        found = [_project_relative(f) for f in tools.parse(tool.name, tool.output)]
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
    totals = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    for suite in root.findall("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, "0") or 0)
    root.attrib.update({k: str(v) for k, v in totals.items()})
    if masked:
        _mask_tree(root, masked)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(path: Path, result: RunResult, masked: Sequence[str] = ()) -> None:
    atomic_write(path, to_xml(result, masked))
