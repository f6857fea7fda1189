"""--junit-xml validates against the Jenkins xunit plugin's junit-10.xsd (tests/data), with a
real XSD validator (lxml), for a run with every outcome a tool can have."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from devbox.report import junit
from devbox.results.model import Environment, RunResult, Status
from devbox.results.model import TestCounts as Counts
from helpers import tool_result

DATA = Path(__file__).parent.parent / "data"
SCHEMA = DATA / "junit-10.xsd"

#: pytest's xunit1 family adds file/line to cases and properties inside them: not in the schema
XUNIT1 = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0"
 failures="1" skipped="0" tests="2" time="0.2" timestamp="2026-12-01T21:58:05" hostname="vm">
<testcase classname="tests.test_b" name="test_ok" file="tests/test_b.py" line="3" time="0.01">
<properties><property name="ticket" value="16"/></properties></testcase>
<testcase classname="tests.test_b" name="test_bad" file="tests/test_b.py" line="7" time="0.01">
<failure message="assert 1 == 2">boom</failure><system-out>out</system-out>
</testcase></testsuite></testsuites>"""

RUFF = (
    "src/a.py:1:1: F401 [*] `os` imported but unused\n"
    "src/a.py:1:1: E401 Multiple imports on one line\n"
    "src/a.py:1:1: E401 Multiple imports on one line\n"
    "src/b.py:9:5: F841 Local variable `y` is assigned to but never used\n"
    "Found 4 errors.\n"
)


def _validator() -> Any:
    """lxml's XMLSchema for junit-10.xsd; skipped without lxml, except on CI (``CI``)."""
    try:
        from lxml import etree
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("lxml is a test dependency: the JUnit schema test must run on CI")
        pytest.skip("lxml is not installed (a test dependency): the JUnit schema is not checked")
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def realistic() -> RunResult:
    pytest_xml = (DATA / "junit" / "pytest-9.2.0.xml").read_text()
    return RunResult(
        (
            tool_result("ruff", Status.FAILED, output=RUFF, duration_s=0.4),
            tool_result("mypy", Status.PASSED, output="Success: no issues found\n"),
            tool_result("pylint", Status.FAILED, output="pylint crashed \x1b[1m\x07oddly\x00\n"),
            tool_result("pytest", Status.FAILED, kind="test", output="2 failed\n",
                        tests=Counts(2, 2, 1, 1, xfailed=3), junit_xml=pytest_xml),
            tool_result("pytest", Status.FAILED, python="3.13", kind="test", output="1 failed\n",
                        tests=Counts(1, 1, 0, 0), junit_xml=XUNIT1),
            tool_result("slow", Status.TIMEOUT, kind="test", output="still going\n"),
            tool_result("black", Status.ERROR, python="3.12", output=""),
            tool_result("isort", Status.CANCELLED, output="devbox: not run to the end\n"),
        ),
        environments=(
            Environment("3.11", "img:3.11", cached=True, ok=True),
            Environment("3.12", "img:3.12", cached=False, ok=False, error="pip failed",
                        log="ERROR: no matching distribution \x1b[0m\n"),
        ),
    )  # fmt: skip


def test_junit_validates_against_the_jenkins_xunit_schema() -> None:
    from lxml import etree

    schema = _validator()
    document = etree.fromstring(junit.to_xml(realistic()).encode())
    assert schema.validate(document), schema.error_log
    suites = {s.get("name"): s for s in document.findall("testsuite")}
    assert set(suites) >= {"ruff[3.11]", "pytest[3.11]", "pytest[3.13]", "environment[3.12]"}
    assert int(document.get("failures")) >= 6 and document.get("skipped") is None


def test_lint_suites_have_a_time_and_two_findings_on_a_line_have_distinct_names() -> None:
    root = ET.fromstring(junit.to_xml(realistic()).split("?>", 1)[1])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    ruff = suites["ruff[3.11]"]
    assert ruff.get("time") == "0.400"
    names = [c.get("name") for c in ruff.findall("testcase")]
    assert names == [
        "src/a.py:1:1 F401",
        "src/a.py:1:1 E401",
        "src/a.py:1:1 E401 (2)",
        "src/b.py:9:5 F841",
    ]
    assert all(s.get("time") is not None for s in root.findall("testsuite"))
    assert root.get("time") is not None


def test_what_a_tools_own_report_adds_beyond_the_schema_is_dropped() -> None:
    root = ET.fromstring(junit.to_xml(realistic()).split("?>", 1)[1])
    suite = next(s for s in root.findall("testsuite") if s.get("name") == "pytest[3.13]")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["test_ok", "test_bad"]
    assert all(c.get("file") is None and c.find("properties") is None for c in cases)
    failure = cases[1].find("failure")
    assert failure is not None and failure.text == "boom"
    assert cases[1].findtext("system-out") == "out"


def test_text_xml_cannot_hold_is_replaced() -> None:
    text = junit.to_xml(realistic())
    assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
    ET.fromstring(text.split("?>", 1)[1])  # well-formed
