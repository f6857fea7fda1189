"""--junit-xml: suites per tool and Python version, pytest's cases merged in."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from devbox.report import junit
from devbox.results.model import Environment, RunResult, Status
from devbox.results.model import TestCounts as Counts
from helpers import tool_result

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest"
 errors="0" failures="1" skipped="0" tests="2" time="0.1"><testcase classname="tests.test_a" name="test_ok" time="0.01"/>
<testcase classname="tests.test_a" name="test_bad" time="0.01"><failure message="assert 1 == 2">boom</failure></testcase>
</testsuite></testsuites>"""


def suites(result: RunResult) -> dict[str, ET.Element]:
    root = ET.fromstring(junit.to_xml(result).split("?>", 1)[1])
    assert root.tag == "testsuites"
    return {s.get("name", ""): s for s in root.findall("testsuite")}


def test_pytest_cases_are_merged_under_a_versioned_suite_name() -> None:
    result = RunResult(
        (
            tool_result("pytest", Status.FAILED, python="3.11", kind="test", duration_s=0.5, output="pytest output\n", tests=Counts(1, 1, 0, 0), junit_xml=PYTEST_XML),
            tool_result("pytest", Status.PASSED, python="3.13", kind="test", duration_s=0.5, output="pytest output\n", tests=Counts(2, 0, 0, 0), junit_xml=PYTEST_XML.replace('failures="1"', 'failures="0"')),
        )
    )  # fmt: skip
    by_name = suites(result)
    assert set(by_name) == {"pytest[3.11]", "pytest[3.13]"}
    cases = by_name["pytest[3.11]"].findall("testcase")
    assert [c.get("name") for c in cases] == ["test_ok", "test_bad"]
    assert by_name["pytest[3.11]"].get("failures") == "1"


def test_a_failed_linter_is_one_failing_case_per_finding() -> None:
    output = (
        "src/a.py:1:1: F401 [*] `os` imported but unused\n"
        "src/a.py:9:5: F841 Local variable `y` is assigned to but never used\n"
        "Found 2 errors.\n"
    )
    result = RunResult(
        (
            tool_result("ruff", Status.FAILED, python="3.11", duration_s=0.5, output=output),
            tool_result(
                "mypy", Status.PASSED, python="3.11", duration_s=0.5, output="mypy output\n"
            ),
        )
    )
    by_name = suites(result)
    cases = by_name["ruff[3.11]"].findall("testcase")
    assert [c.get("name") for c in cases] == ["src/a.py:1:1 F401", "src/a.py:9:5 F841"]
    failures = [c.find("failure") for c in cases]
    assert [f.get("message") for f in failures if f is not None] == [
        "`os` imported but unused [F401]",
        "Local variable `y` is assigned to but never used [F841]",
    ]
    assert [f.get("type") for f in failures if f is not None] == ["F401", "F841"]
    assert failures[0] is not None and failures[0].text == "src/a.py:1:1: error: `os` imported but unused [F401]\n"  # fmt: skip
    assert (by_name["ruff[3.11]"].get("tests"), by_name["ruff[3.11]"].get("failures")) == ("2", "2")
    # a linter that passed: one passing case
    assert by_name["mypy[3.11]"].find("testcase/failure") is None
    assert by_name["mypy[3.11]"].get("tests") == "1"
    assert by_name["mypy[3.11]"].find("testcase").get("name") == "mypy"  # type: ignore[union-attr]


def test_container_paths_in_findings_become_project_relative() -> None:
    output = "ERROR: /src/pkg/a.py Imports are incorrectly sorted and/or formatted.\n"
    by_name = suites(
        RunResult(
            (tool_result("isort", Status.FAILED, python="3.13", duration_s=0.5, output=output),)
        )
    )
    assert [c.get("name") for c in by_name["isort[3.13]"].findall("testcase")] == ["pkg/a.py:1"]


def test_unreadable_output_is_one_case_failing_with_the_whole_output() -> None:
    result = RunResult((tool_result("ruff", Status.FAILED, python="3.11", exit_code=2, duration_s=0.5, output="ruff: crashed\nsomehow\n"),))  # fmt: skip
    by_name = suites(result)
    (case,) = by_name["ruff[3.11]"].findall("testcase")
    failure = case.find("failure")
    assert failure is not None and failure.text == "ruff: crashed\nsomehow\n"
    assert failure.get("message") == "ruff exited with code 2"
    assert by_name["ruff[3.11]"].get("failures") == "1"


def test_pytest_without_its_own_report_stays_one_case() -> None:
    output = "tests/test_a.py:3: AssertionError\n"  # not read: pytest's cases come from its XML
    result = RunResult(
        (
            tool_result(
                "pytest", Status.FAILED, python="3.13", kind="test", duration_s=0.5, output=output
            ),
        )
    )
    (case,) = suites(result)["pytest[3.13]"].findall("testcase")
    assert case.get("name") == "pytest"
    assert case.find("failure") is not None


def test_environment_errors_are_erroring_suites_and_totals_add_up() -> None:
    result = RunResult(
        (tool_result("pytest", Status.ERROR, python="3.13", kind="test", exit_code=-1, duration_s=0.5, output="pytest output\n"),),
        environments=(Environment("3.13", "img:3.13", cached=False, ok=False, error="installing the dependencies failed", log="no solution"),),
    )  # fmt: skip
    text = junit.to_xml(result)
    root = ET.fromstring(text.split("?>", 1)[1])
    by_name = {s.get("name"): s for s in root.findall("testsuite")}
    assert by_name["environment[3.13]"].find("testcase/error").text == "no solution"  # type: ignore[union-attr]
    assert by_name["pytest[3.13]"].get("errors") == "1"
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("2", "2", "0")
