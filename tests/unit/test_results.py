"""Exported results (``<out>/NAME/PYTHON/``, ``<out>/environments/PYTHON/``) → RunResult."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from devbox.results.model import (
    Environment,
    NotARegularFile,
    RunResult,
    Status,
    junit_counts,
    parse_junit,
    read_environment,
    read_exported,
    read_result,
)
from devbox.results.model import TestCounts as Counts  # not collected as a test class
from helpers import tool_result, tool_run

JUNIT_SUITE = """<?xml version="1.0" encoding="utf-8"?>
<testsuite name="pytest" errors="1" failures="2" skipped="3" tests="10" time="0.5">
  <testcase classname="t" name="a" time="0.1"/>
</testsuite>
"""

JUNIT_SUITES = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="pytest" errors="0" failures="1" skipped="2" tests="7" time="0.5"/>
  <testsuite name="more" errors="2" failures="0" skipped="0" tests="5" time="0.1"/>
</testsuites>
"""


IMAGE = "localhost/devbox-test/python:{python}"


#: The results of these tests are of Python 3.12, and their tools printed "out".
make_result = partial(tool_result, python="3.12", output="out\n")


def export(
    out: Path,
    name: str,
    *,
    python: str = "3.11",
    status: object = None,
    output: bytes | None = None,
    junit: str | None = None,
) -> Path:
    """Write what a tool step exports, at ``<out>/<name>/<python>/``."""
    d = out / name / python
    d.mkdir(parents=True)
    if status is not None:
        text = status if isinstance(status, str) else json.dumps(status)
        (d / "status.json").write_text(text, encoding="utf-8")
    if output is not None:
        (d / "output").write_bytes(output)
    if junit is not None:
        (d / "junit.xml").write_text(junit, encoding="utf-8")
    return d


def export_environment(
    out: Path, python: str, *, status: object = None, log: bytes | None = None
) -> Path:
    """Write what an install step exports, at ``<out>/environments/<python>/``."""
    d = out / "environments" / python
    d.mkdir(parents=True)
    if status is not None:
        text = status if isinstance(status, str) else json.dumps(status)
        (d / "status.json").write_text(text, encoding="utf-8")
    if log is not None:
        (d / "install.log").write_bytes(log)
    return d


def environment(python: str = "3.12", *, ok: bool = True, error: str = "") -> Environment:
    return Environment(python, IMAGE.format(python=python), cached=False, ok=ok, error=error)


# --- parse_junit ---------------------------------------------------------------------------


def test_parse_junit_testsuite_root(tmp_path: Path) -> None:
    p = tmp_path / "junit.xml"
    p.write_text(JUNIT_SUITE, encoding="utf-8")
    assert parse_junit(p) == Counts(passed=4, failed=2, skipped=3, errors=1)


def test_parse_junit_testsuites_root_sums_suites(tmp_path: Path) -> None:
    p = tmp_path / "junit.xml"
    p.write_text(JUNIT_SUITES, encoding="utf-8")
    assert parse_junit(p) == Counts(passed=7, failed=1, skipped=2, errors=2)


def test_parse_junit_missing_attributes_default_to_zero(tmp_path: Path) -> None:
    p = tmp_path / "junit.xml"
    p.write_text('<testsuite tests="3"/>', encoding="utf-8")
    assert parse_junit(p) == Counts(passed=3, failed=0, skipped=0, errors=0)


@pytest.mark.parametrize(
    "text",
    ["", "<testsuite", "not xml at all", "<testsuite tests='1'></testsuites>"],
)
def test_parse_junit_malformed_is_none(tmp_path: Path, text: str) -> None:
    p = tmp_path / "junit.xml"
    p.write_text(text, encoding="utf-8")
    assert parse_junit(p) is None


def test_parse_junit_missing_file_is_none(tmp_path: Path) -> None:
    assert parse_junit(tmp_path / "nope.xml") is None


JUNIT_DATA = Path(__file__).parent.parent / "data" / "junit"


@pytest.mark.parametrize("version", ["8.4.2", "9.2.0"])
def test_parse_junit_real_pytest_xml_counts_xfails_apart(version: str) -> None:
    # pytest's line for that file: 2 failed, 2 passed, 1 skipped, 3 xfailed, 1 xpassed, 1 error.
    # Its XML marks the three xfails (non-strict, strict, pytest.xfail()) as
    # <skipped type="pytest.xfail">; a strict xpass is a <failure> (pytest counts it failed
    # too); a non-strict xpass is a plain passing case, so it can only count as passed.
    counts = parse_junit(JUNIT_DATA / f"pytest-{version}.xml")
    assert counts == Counts(passed=3, failed=2, skipped=1, errors=1, xfailed=3, xpassed=0)


def test_junit_xfail_counts_need_the_xfail_type_not_the_skipped_tag() -> None:
    xml = b"""<testsuites><testsuite tests="4" skipped="3">
    <testcase name="a"><skipped type="pytest.skip" message="no"/></testcase>
    <testcase name="b"><skipped type="pytest.xfail" message="bug"/></testcase>
    <testcase name="c"><skipped message="xfail-marked test passes unexpectedly"/></testcase>
    <testcase name="d"/>
    </testsuite><testsuite tests="1" skipped="1">
    <testcase name="e"><skipped type="pytest.xfail" message=""/></testcase>
    </testsuite></testsuites>"""
    assert junit_counts(xml) == Counts(
        passed=1, failed=0, skipped=1, errors=0, xfailed=2, xpassed=1
    )


def test_junit_xfails_never_make_skipped_negative() -> None:
    # cases marked xfail but a suite that does not count them as skipped
    xml = b"""<testsuite tests="2"><testcase name="b"><skipped type="pytest.xfail"/></testcase>
    <testcase name="c"><skipped message="xfail-marked test passes unexpectedly"/></testcase>
    </testsuite>"""
    assert junit_counts(xml) == Counts(passed=2, failed=0, skipped=0, errors=0)


def test_tests_json_has_xfailed_and_xpassed_only_when_not_zero() -> None:
    assert Counts(1, 2, 3, 4).to_json() == {"passed": 1, "failed": 2, "skipped": 3, "errors": 4}
    assert Counts(1, 0, 0, 0, xfailed=2).to_json() == {
        "passed": 1, "failed": 0, "skipped": 0, "errors": 0, "xfailed": 2,
    }  # fmt: skip
    assert Counts(1, 0, 0, 0, xfailed=2, xpassed=1).to_json() == {
        "passed": 1, "failed": 0, "skipped": 0, "errors": 0, "xfailed": 2, "xpassed": 1,
    }  # fmt: skip
    result = tool_result("pytest", Status.FAILED, tests=Counts(1, 0, 0, 0, xpassed=1))
    assert result.to_json()["tests"] == {
        "passed": 1, "failed": 0, "skipped": 0, "errors": 0, "xpassed": 1,
    }  # fmt: skip


# --- Status / ToolResult / RunResult -------------------------------------------------------


def test_status_truthiness() -> None:
    assert bool(Status.PASSED) is True
    assert bool(Status.FAILED) is False
    assert bool(Status.ERROR) is False
    assert all([Status.PASSED, Status.PASSED])
    assert not all([Status.PASSED, Status.FAILED])
    assert not all([Status.PASSED, Status.ERROR])
    assert Status("passed") is Status.PASSED
    assert Status("error") is Status.ERROR
    assert Status.FAILED.value == "failed"
    assert Status.ERROR.value == "error"


def test_tool_result_truthiness_follows_status() -> None:
    assert bool(make_result("a", Status.PASSED)) is True
    assert bool(make_result("a", Status.FAILED)) is False
    assert bool(make_result("a", Status.ERROR)) is False


def test_tool_result_key_names_tool_and_python() -> None:
    assert make_result("pytest", Status.PASSED, python="3.13").key == "pytest@3.13"
    assert make_result("pytest", Status.PASSED, python="3.11").key == "pytest@3.11"
    # the key matches the ToolRun's, which the live view and the rerun state use
    assert make_result("ruff", Status.FAILED, python="3.11").key == tool_run("ruff").key


def test_tool_result_error_to_json() -> None:
    data = make_result("pytest", Status.ERROR, exit_code=-1, python="3.13").to_json()
    assert data["status"] == "error"
    assert data["python"] == "3.13"
    assert data["exit_code"] == -1


def test_run_result_ok() -> None:
    passed = make_result("a", Status.PASSED)
    failed = make_result("b", Status.FAILED)
    assert RunResult((passed, passed)).ok is True
    assert RunResult((passed, failed)).ok is False
    assert RunResult((failed,)).ok is False
    assert RunResult(()).ok is True


def test_run_result_ok_needs_every_environment_ok() -> None:
    passed = make_result("a", Status.PASSED)
    ok312, ok313 = environment("3.12"), environment("3.13")
    broken = environment("3.13", ok=False, error="installing the dependencies failed")
    assert RunResult((passed,), environments=(ok312, ok313)).ok is True
    # every tool that ran passed, but a version could not be built: not ok
    assert RunResult((passed,), environments=(ok312, broken)).ok is False
    assert RunResult((), environments=(broken,)).ok is False
    assert RunResult((), environments=(ok312,)).ok is True
    assert RunResult((make_result("b", Status.ERROR),), environments=(broken,)).ok is False


def test_run_result_nothing_ran_when_every_tool_is_an_error() -> None:
    broken = environment("3.12", ok=False, error="installing the dependencies failed")
    errors = (make_result("ruff", Status.ERROR), make_result("pytest", Status.ERROR))
    assert RunResult(errors, environments=(broken,)).nothing_ran is True


@pytest.mark.parametrize(
    "statuses",
    [
        (Status.ERROR, Status.FAILED),
        (Status.ERROR, Status.PASSED),
        (Status.FAILED,),
        (Status.PASSED,),
        (Status.PASSED, Status.FAILED),
    ],
)
def test_run_result_something_ran(statuses: tuple[Status, ...]) -> None:
    broken = environment("3.13", ok=False, error="installing the dependencies failed")
    tools = tuple(make_result(f"t{i}", s) for i, s in enumerate(statuses))
    result = RunResult(tools, environments=(environment("3.12"), broken))
    assert result.nothing_ran is False
    assert result.ok is False


def test_run_result_nothing_ran_without_tools() -> None:
    broken = environment("3.13", ok=False, error="the base image is not available")
    assert RunResult((), environments=(broken,)).nothing_ran is True
    assert RunResult((), environments=(environment("3.12"), broken)).nothing_ran is True
    # no tools and no failure: nothing to report as an error
    assert RunResult((), environments=(environment("3.12"),)).nothing_ran is False
    assert RunResult(()).nothing_ran is False


def test_run_result_to_json_shape() -> None:
    result = RunResult(
        (
            make_result("ruff", Status.PASSED, cached=True),
            make_result(
                "pytest",
                Status.FAILED,
                exit_code=1,
                tests=Counts(passed=5, failed=1, skipped=2, errors=0),
            ),
        ),
        context_bytes=4096,
    )
    data = result.to_json()
    assert data == {
        "ok": False,
        "tools": [
            {
                "name": "ruff",
                "kind": "lint",
                "python": "3.12",
                "status": "passed",
                "exit_code": 0,
                "duration_s": 1.25,
                "cached": True,
                "why": [],
            },
            {
                "name": "pytest",
                "kind": "test",
                "python": "3.12",
                "status": "failed",
                "exit_code": 1,
                "duration_s": 1.25,
                "cached": False,
                "tests": {"passed": 5, "failed": 1, "skipped": 2, "errors": 0},
                "why": [],
            },
        ],
        "environments": [],
        "context_bytes": 4096,
    }
    assert list(data) == ["ok", "tools", "environments", "context_bytes"]
    # output is not part of the JSON report, and the whole thing serializes
    assert "output" not in data["tools"][0]
    assert json.loads(json.dumps(data)) == data


def test_environment_to_json() -> None:
    ok = Environment("3.12", "python:3.12", cached=True)
    assert ok.to_json() == {
        "python": "3.12",
        "image": "python:3.12",
        "cached": True,
        "ok": True,
        "base": None,
    }
    prebuilt = Environment("3.12", "python:3.12", cached=True, base="reg:5000/deps:3.12")
    assert prebuilt.to_json()["base"] == "reg:5000/deps:3.12"
    broken = Environment(
        "3.13", "python:3.13", cached=False, ok=False, error="installing failed", log="boom\n"
    )
    # the log is printed, not put in the report
    assert broken.to_json() == {
        "python": "3.13",
        "image": "python:3.13",
        "cached": False,
        "ok": False,
        "base": None,
        "error": "installing failed",
    }


def test_run_result_to_json_with_environments() -> None:
    broken = Environment("3.13", "python:3.13", cached=False, ok=False, error="nope")
    result = RunResult(
        (
            make_result("pytest", Status.PASSED, python="3.12"),
            make_result("pytest", Status.ERROR, exit_code=-1, python="3.13"),
        ),
        environments=(Environment("3.12", "python:3.12", cached=True), broken),
    )
    data = result.to_json()
    assert data["ok"] is False
    assert [(t["python"], t["status"]) for t in data["tools"]] == [
        ("3.12", "passed"),
        ("3.13", "error"),
    ]
    assert [(e["python"], e["ok"]) for e in data["environments"]] == [
        ("3.12", True),
        ("3.13", False),
    ]
    assert data["environments"][1]["error"] == "nope"
    assert "error" not in data["environments"][0]
    assert json.loads(json.dumps(data)) == data


def test_run_result_to_json_ok_true() -> None:
    data = RunResult((make_result("ruff", Status.PASSED),)).to_json()
    assert data["ok"] is True
    assert [t["status"] for t in data["tools"]] == ["passed"]


# --- read_result ---------------------------------------------------------------------------


def test_read_result_passed(tmp_path: Path) -> None:
    export(
        tmp_path,
        "ruff",
        status={"name": "ruff", "exit_code": 0, "duration_s": 0.412, "python": "3.11"},
        output=b"All checks passed!\n",
    )
    r = read_result(tmp_path, tool_run("ruff"), cached=True)
    assert r.name == "ruff"
    assert r.kind == "lint"
    assert r.python == "3.11"
    assert r.status is Status.PASSED
    assert r.exit_code == 0
    assert r.duration_s == pytest.approx(0.412)
    assert r.cached is True
    assert r.output == "All checks passed!\n"
    assert r.tests is None
    assert bool(r) is True


def test_read_result_warnings_are_kept_printable_and_bounded(tmp_path: Path) -> None:
    status = {
        "name": "pytest", "exit_code": 0, "duration_s": 1.0,
        "warnings": ["no extension\x1b[2J built", 7, "", *["x" * 900] * 9],
    }  # fmt: skip
    export(tmp_path, "ruff", status=status, output=b"")
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.status is Status.PASSED
    assert r.warnings == ("no extension?[2J built", "x" * 500, "x" * 500)
    assert r.to_json()["warnings"] == list(r.warnings)
    other = tmp_path / "other"
    export(other, "ruff", status={**status, "warnings": "not a list"}, output=b"")
    assert read_result(other, tool_run("ruff"), cached=False).warnings == ()
    assert "warnings" not in read_result(other, tool_run("ruff"), cached=False).to_json()


def test_read_result_failed_with_junit(tmp_path: Path) -> None:
    export(
        tmp_path,
        "pytest",
        status={"exit_code": 1, "duration_s": 2},
        output=b"FAILED tests/test_a.py::test_x - assert 1 == 2\n",
        junit=JUNIT_SUITE,
    )
    r = read_result(tmp_path, tool_run("pytest", junit=True, kind="test"), cached=False)
    assert r.status is Status.FAILED
    assert r.exit_code == 1
    assert r.duration_s == 2.0
    assert r.cached is False
    assert r.kind == "test"
    assert r.tests == Counts(passed=4, failed=2, skipped=3, errors=1)
    assert "test_a.py::test_x" in r.output
    assert bool(r) is False
    assert r.to_json()["tests"] == {"passed": 4, "failed": 2, "skipped": 3, "errors": 1}


def test_read_result_junit_ignored_for_non_junit_tool(tmp_path: Path) -> None:
    export(
        tmp_path, "ruff", status={"exit_code": 0, "duration_s": 1}, output=b"", junit=JUNIT_SUITE
    )
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.tests is None
    assert "tests" not in r.to_json()


def test_read_result_missing_status_is_failure(tmp_path: Path) -> None:
    export(tmp_path, "ruff", output=b"partial output\n")
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert r.exit_code == -1
    assert r.duration_s == 0.0
    assert r.output == "partial output\n"


@pytest.mark.parametrize(
    "status",
    [
        "{not json",
        "[]",
        "null",
        json.dumps({"duration_s": 1}),
        json.dumps({"exit_code": "x", "duration_s": 1}),
    ],
)
def test_read_result_unreadable_status_is_failure(tmp_path: Path, status: str) -> None:
    export(tmp_path, "ruff", status=status, output=b"")
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert (r.status, r.exit_code, r.duration_s) == (Status.FAILED, -1, 0.0)


def test_read_result_nothing_exported(tmp_path: Path) -> None:
    r = read_result(tmp_path, tool_run("pytest", junit=True, kind="test"), cached=False)
    assert r.status is Status.FAILED
    assert r.exit_code == -1
    assert r.output == "devbox: the tool step exported no output.\n"
    assert r.tests is None


def test_read_result_missing_output_keeps_status(tmp_path: Path) -> None:
    export(tmp_path, "ruff", status={"exit_code": 0, "duration_s": 0.1})
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.status is Status.PASSED
    assert r.output == "devbox: the tool step exported no output.\n"


def test_read_result_reads_the_python_versions_directory(tmp_path: Path) -> None:
    export(
        tmp_path,
        "pytest",
        python="3.11",
        status={"exit_code": 0, "duration_s": 1.5},
        output=b"3.11 output\n",
        junit=JUNIT_SUITES,
    )
    export(
        tmp_path,
        "pytest",
        python="3.13",
        status={"exit_code": 1, "duration_s": 2.5},
        output=b"3.13 output\n",
        junit=JUNIT_SUITE,
    )
    a = read_result(tmp_path, tool_run("pytest", junit=True, kind="test"), cached=False)
    b = read_result(
        tmp_path, tool_run("pytest", junit=True, kind="test", python="3.13"), cached=False
    )
    assert (a.python, a.status, a.duration_s, a.output) == (
        "3.11",
        Status.PASSED,
        1.5,
        "3.11 output\n",
    )
    assert a.tests == Counts(passed=7, failed=1, skipped=2, errors=2)
    assert (b.python, b.status, b.duration_s, b.output) == (
        "3.13",
        Status.FAILED,
        2.5,
        "3.13 output\n",
    )
    assert b.tests == Counts(passed=4, failed=2, skipped=3, errors=1)
    assert (a.key, b.key) == ("pytest@3.11", "pytest@3.13")


def test_read_result_ignores_the_old_layout(tmp_path: Path) -> None:
    """Files directly under ``<out>/<name>/`` (before the matrix) are not this version's."""
    d = tmp_path / "ruff"
    d.mkdir()
    (d / "status.json").write_text(json.dumps({"exit_code": 0, "duration_s": 1}), "utf-8")
    (d / "output").write_bytes(b"All checks passed!\n")
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert r.exit_code == -1
    assert r.output == "devbox: the tool step exported no output.\n"


def test_read_result_other_version_only_is_missing(tmp_path: Path) -> None:
    export(tmp_path, "ruff", python="3.13", status={"exit_code": 0, "duration_s": 1}, output=b"")
    r = read_result(tmp_path, tool_run("ruff", python="3.11"), cached=False)
    assert (r.status, r.exit_code) == (Status.FAILED, -1)


def test_read_result_environment_error(tmp_path: Path) -> None:
    export(
        tmp_path,
        "pytest",
        python="3.13",
        status={"name": "pytest", "environment_error": True, "exit_code": -1, "duration_s": 0.0},
        # stale files next to it (there are none in practice) are not read
        output=b"should not be read\n",
        junit=JUNIT_SUITE,
    )
    r = read_result(
        tmp_path, tool_run("pytest", junit=True, kind="test", python="3.13"), cached=True
    )
    assert r.status is Status.ERROR
    assert bool(r) is False
    assert (r.name, r.kind, r.python) == ("pytest", "test", "3.13")
    assert r.exit_code == -1
    assert r.duration_s == 0.0
    assert r.cached is True
    assert r.output == ""
    assert r.tests is None
    assert r.to_json()["status"] == "error"
    assert "tests" not in r.to_json()


def test_read_result_environment_error_false_is_a_normal_result(tmp_path: Path) -> None:
    export(
        tmp_path,
        "ruff",
        status={"environment_error": False, "exit_code": 1, "duration_s": 0.5},
        output=b"F401\n",
    )
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert (r.status, r.exit_code, r.duration_s, r.output) == (Status.FAILED, 1, 0.5, "F401\n")


def test_read_result_undecodable_output_is_replaced(tmp_path: Path) -> None:
    export(tmp_path, "ruff", status={"exit_code": 0, "duration_s": 0.1}, output=b"ok \xff\xfe end")
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.output == "ok \ufffd\ufffd end"


# --- read_environment ----------------------------------------------------------------------


def test_read_environment_ok(tmp_path: Path) -> None:
    export_environment(tmp_path, "3.12", status={"python": "3.12", "ok": True, "exit_code": 0})
    env = read_environment(tmp_path, "3.12", "python:3.12", cached=True)
    assert env == Environment("3.12", "python:3.12", cached=True)
    assert env.ok is True
    assert (env.error, env.log) == ("", "")
    assert read_environment(tmp_path, "3.12", "python:3.12", cached=False).cached is False


def test_read_environment_failed_with_log(tmp_path: Path) -> None:
    export_environment(
        tmp_path,
        "3.13",
        status={"python": "3.13", "ok": False, "exit_code": 1},
        log=b"Collecting nope\nERROR: No matching distribution found for nope \xff\n",
    )
    env = read_environment(tmp_path, "3.13", "python:3.13", cached=False)
    assert env.ok is False
    assert (env.python, env.image, env.cached) == ("3.13", "python:3.13", False)
    assert env.error == "installing the dependencies failed"
    assert env.log == "Collecting nope\nERROR: No matching distribution found for nope \ufffd\n"
    assert env.to_json()["error"] == "installing the dependencies failed"


def test_read_environment_failed_without_log(tmp_path: Path) -> None:
    export_environment(tmp_path, "3.13", status={"python": "3.13", "ok": False, "exit_code": 2})
    env = read_environment(tmp_path, "3.13", "python:3.13", cached=False)
    assert env.ok is False
    assert env.error == "installing the dependencies failed"
    assert env.log == ""


def test_read_environment_missing_status(tmp_path: Path) -> None:
    env = read_environment(tmp_path, "3.12", "python:3.12", cached=False)
    assert env.ok is False
    assert env.error == "the install step recorded no outcome"
    assert env.log == ""
    assert (env.python, env.image) == ("3.12", "python:3.12")


def test_read_environment_reads_its_own_version(tmp_path: Path) -> None:
    export_environment(tmp_path, "3.12", status={"python": "3.12", "ok": True, "exit_code": 0})
    export_environment(
        tmp_path, "3.13", status={"python": "3.13", "ok": False, "exit_code": 1}, log=b"boom\n"
    )
    assert read_environment(tmp_path, "3.12", "python:3.12", cached=False).ok is True
    broken = read_environment(tmp_path, "3.13", "python:3.13", cached=False)
    assert (broken.ok, broken.log) == (False, "boom\n")
    # a version without a directory of its own has no outcome, whatever the others say
    assert read_environment(tmp_path, "3.11", "python:3.11", cached=False).ok is False


@pytest.mark.parametrize(
    "status",
    ["{not json", "[]", "null", "1", json.dumps({"python": "3.12", "exit_code": 0})],
)
def test_read_environment_unreadable_status_is_failure(tmp_path: Path, status: str) -> None:
    export_environment(tmp_path, "3.12", status=status, log=b"log\n")
    env = read_environment(tmp_path, "3.12", "python:3.12", cached=False)
    assert env.ok is False
    assert env.error == "the install step recorded no outcome"


# --- links and other non-regular files in the export ---------------------------------------
#
# Code in a tool step decides what its result files are, and the local export writes links
# as links: each of these would make a reader that follows links read a host file.

LINKED = "is a symbolic link: results are read only from regular files"
PASSING = json.dumps({"exit_code": 0, "duration_s": 0.1})


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """Files outside the export, such as a host's: a passing status and a secret."""
    d = tmp_path / "host"
    d.mkdir()
    (d / "status.json").write_text(PASSING, encoding="utf-8")
    (d / "secret").write_text("host secret\n", encoding="utf-8")
    (d / "junit.xml").write_text(JUNIT_SUITE, encoding="utf-8")
    (d / "install.log").write_text("host install log\n", encoding="utf-8")
    return d


def test_read_result_status_link_is_a_failure_naming_it(tmp_path: Path, host: Path) -> None:
    out = tmp_path / "out"
    d = export(out, "ruff", output=b"ruff's own output\n")
    (d / "status.json").symlink_to(host / "status.json")
    r = read_result(out, tool_run("ruff"), cached=False)
    assert (r.status, r.exit_code, r.duration_s) == (Status.FAILED, -1, 0.0)
    assert r.output == f"devbox: the tool step's status.json {LINKED}.\nruff's own output\n"


def test_read_result_environment_error_through_a_link_is_not_believed(
    tmp_path: Path, host: Path
) -> None:
    (host / "status.json").write_text(json.dumps({"environment_error": True, "exit_code": -1}))
    out = tmp_path / "out"
    d = export(out, "ruff", output=b"")
    (d / "status.json").symlink_to(host / "status.json")
    r = read_result(out, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert LINKED in r.output


def test_read_result_output_link_fails_and_is_not_shown(tmp_path: Path, host: Path) -> None:
    out = tmp_path / "out"
    d = export(out, "ruff", status=PASSING)
    (d / "output").symlink_to(host / "secret")
    r = read_result(out, tool_run("ruff"), cached=False)
    assert (r.status, r.exit_code, r.duration_s) == (Status.FAILED, -1, 0.1)
    assert r.output == f"devbox: the tool step's output {LINKED}.\n"
    assert "host secret" not in r.output


def test_read_result_proc_link_is_not_followed(tmp_path: Path) -> None:
    """The reported case: a link to devbox's own environment, which may hold a token."""
    out = tmp_path / "out"
    d = export(out, "ruff", status=PASSING)
    (d / "output").symlink_to("/proc/self/environ")
    r = read_result(out, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert r.output == f"devbox: the tool step's output {LINKED}.\n"


def test_read_result_dangling_link_is_named_not_missing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    d = export(out, "ruff", output=b"x\n")
    (d / "status.json").symlink_to(tmp_path / "nowhere")
    r = read_result(out, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert f"status.json {LINKED}" in r.output


def test_read_result_junit_link_is_not_counted(tmp_path: Path, host: Path) -> None:
    out = tmp_path / "out"
    d = export(out, "pytest", status=PASSING, output=b"1 passed\n")
    (d / "junit.xml").symlink_to(host / "junit.xml")
    r = read_result(out, tool_run("pytest", junit=True, kind="test"), cached=False)
    assert (r.status, r.exit_code) == (Status.FAILED, -1)
    assert (r.tests, r.junit_xml) == (None, None)
    # the output itself was a regular file: it is kept, after the reason
    assert r.output == f"devbox: the tool step's junit.xml {LINKED}.\n1 passed\n"


def test_read_result_junit_link_of_a_tool_without_junit_is_not_read(
    tmp_path: Path, host: Path
) -> None:
    out = tmp_path / "out"
    d = export(out, "ruff", status=PASSING, output=b"ok\n")
    (d / "junit.xml").symlink_to(host / "junit.xml")
    r = read_result(out, tool_run("ruff"), cached=False)
    assert (r.status, r.output, r.tests) == (Status.PASSED, "ok\n", None)


@pytest.mark.parametrize("linked", [("ruff",), ("ruff", "3.11")])
def test_read_result_linked_directory_is_not_entered(
    tmp_path: Path, host: Path, linked: tuple[str, ...]
) -> None:
    """A link in place of a result directory, to one holding a passing result."""
    fake = host / "ruff" / "3.11"
    fake.mkdir(parents=True)
    (fake / "status.json").write_text(PASSING)
    (fake / "output").write_text("All checks passed!\n")
    out = tmp_path / "out"
    (out / linked[0]).parent.mkdir(parents=True, exist_ok=True)
    if len(linked) == 2:
        (out / "ruff").mkdir()
    (out.joinpath(*linked)).symlink_to(host.joinpath(*linked))
    r = read_result(out, tool_run("ruff"), cached=False)
    assert (r.status, r.exit_code) == (Status.FAILED, -1)
    assert "All checks passed" not in r.output
    assert f"the tool step's directory {'/'.join(linked)} {LINKED}" in r.output


def test_read_result_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    out = tmp_path / "out"
    d = export(out, "ruff", status=PASSING)
    os.mkfifo(d / "output")  # opening it for reading would wait for a writer forever
    r = read_result(out, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert r.output == (
        "devbox: the tool step's output is a named pipe: results are read only from regular "
        "files.\n"
    )


def test_read_result_directory_in_place_of_status_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    d = export(out, "ruff", output=b"x\n")
    (d / "status.json").mkdir()
    r = read_result(out, tool_run("ruff"), cached=False)
    assert r.status is Status.FAILED
    assert "the tool step's status.json is a directory" in r.output


def test_read_environment_status_link_is_an_error_naming_it(tmp_path: Path, host: Path) -> None:
    (host / "status.json").write_text(json.dumps({"ok": True}))
    d = export_environment(tmp_path / "out", "3.12")
    (d / "status.json").symlink_to(host / "status.json")
    env = read_environment(tmp_path / "out", "3.12", "python:3.12", cached=False)
    assert env.ok is False
    assert env.error == f"the install step's status.json {LINKED}"


def test_read_environment_log_link_is_not_shown(tmp_path: Path, host: Path) -> None:
    d = export_environment(tmp_path / "out", "3.12", status={"ok": False})
    (d / "install.log").symlink_to(host / "install.log")
    env = read_environment(tmp_path / "out", "3.12", "python:3.12", cached=False)
    assert (env.ok, env.error) == (False, "installing the dependencies failed")
    assert env.log == f"devbox: the install step's install.log {LINKED}\n"


def test_read_environment_linked_directory_is_not_entered(tmp_path: Path, host: Path) -> None:
    fake = host / "3.12"
    fake.mkdir()
    (fake / "status.json").write_text(json.dumps({"ok": True}))
    (tmp_path / "out" / "environments").mkdir(parents=True)
    (tmp_path / "out" / "environments" / "3.12").symlink_to(fake)
    env = read_environment(tmp_path / "out", "3.12", "python:3.12", cached=False)
    assert env.ok is False
    assert env.error == f"the install step's directory environments/3.12 {LINKED}"


# --- read_exported -------------------------------------------------------------------------


def test_read_exported_reads_a_regular_file(tmp_path: Path) -> None:
    d = export(tmp_path, "ruff", output=b"bytes \xff\n")
    assert read_exported(tmp_path, ("ruff", "3.11"), "output") == b"bytes \xff\n"
    assert d.is_dir()


def test_read_exported_missing_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_exported(tmp_path, ("ruff", "3.11"), "output")
    export(tmp_path, "ruff")
    with pytest.raises(FileNotFoundError):
        read_exported(tmp_path, ("ruff", "3.11"), "output")


@pytest.mark.parametrize(
    ("directory", "name"),
    [(("..", "x"), "output"), (("ruff",), "../output"), (("a/b",), "output"), ((), "")],
)
def test_read_exported_only_reads_below_the_export(
    tmp_path: Path, directory: tuple[str, ...], name: str
) -> None:
    with pytest.raises(ValueError, match="not a path below the export"):
        read_exported(tmp_path / "out", directory, name)


def test_read_exported_refuses_a_link_that_appears_after_the_lstat(
    tmp_path: Path, host: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O_NOFOLLOW: even if the lstat saw a regular file, a link there is not followed."""
    d = export(tmp_path / "out", "ruff")
    (d / "output").symlink_to(host / "secret")
    real_lstat = os.lstat

    def lstat_before_the_swap(path: Any) -> os.stat_result:
        return os.stat(path) if Path(path).name == "output" else real_lstat(path)

    monkeypatch.setattr(os, "lstat", lstat_before_the_swap)
    with pytest.raises(NotARegularFile) as caught:
        read_exported(tmp_path / "out", ("ruff", "3.11"), "output")
    assert (caught.value.name, caught.value.kind) == ("output", "a symbolic link")
