"""Exported tool results → ToolResult / RunResult, and the JUnit counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devbox.plan import ToolRun
from devbox.results import (
    RunResult,
    Status,
    ToolResult,
    parse_junit,
    read_result,
)
from devbox.results import TestCounts as Counts  # not collected as a test class

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


def tool_run(name: str = "ruff", *, junit: bool = False, kind: str = "lint") -> ToolRun:
    return ToolRun(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        python="3.11",
        command=(name, "."),
        env={},
        junit=junit,
    )


def make_result(
    name: str,
    status: Status,
    *,
    exit_code: int | None = None,
    tests: Counts | None = None,
    cached: bool = False,
) -> ToolResult:
    return ToolResult(
        name=name,
        kind="test" if tests is not None else "lint",
        python="3.12",
        status=status,
        exit_code=(0 if status is Status.PASSED else 1) if exit_code is None else exit_code,
        duration_s=1.25,
        cached=cached,
        output="out\n",
        tests=tests,
    )


def export(
    out: Path,
    name: str,
    *,
    status: object = None,
    output: bytes | None = None,
    junit: str | None = None,
) -> Path:
    d = out / name
    d.mkdir(parents=True)
    if status is not None:
        text = status if isinstance(status, str) else json.dumps(status)
        (d / "status.json").write_text(text, encoding="utf-8")
    if output is not None:
        (d / "output").write_bytes(output)
    if junit is not None:
        (d / "junit.xml").write_text(junit, encoding="utf-8")
    return d


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


# --- Status / ToolResult / RunResult -------------------------------------------------------


def test_status_truthiness() -> None:
    assert bool(Status.PASSED) is True
    assert bool(Status.FAILED) is False
    assert all([Status.PASSED, Status.PASSED])
    assert not all([Status.PASSED, Status.FAILED])
    assert Status("passed") is Status.PASSED
    assert Status.FAILED.value == "failed"


def test_tool_result_truthiness_follows_status() -> None:
    assert bool(make_result("a", Status.PASSED)) is True
    assert bool(make_result("a", Status.FAILED)) is False


def test_run_result_ok() -> None:
    passed = make_result("a", Status.PASSED)
    failed = make_result("b", Status.FAILED)
    assert RunResult((passed, passed)).ok is True
    assert RunResult((passed, failed)).ok is False
    assert RunResult((failed,)).ok is False
    assert RunResult(()).ok is True


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
            },
        ],
        "environments": [],
        "context_bytes": 4096,
    }
    assert list(data) == ["ok", "tools", "environments", "context_bytes"]
    # output is not part of the JSON report, and the whole thing serializes
    assert "output" not in data["tools"][0]
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


def test_read_result_undecodable_output_is_replaced(tmp_path: Path) -> None:
    export(tmp_path, "ruff", status={"exit_code": 0, "duration_s": 0.1}, output=b"ok \xff\xfe end")
    r = read_result(tmp_path, tool_run("ruff"), cached=False)
    assert r.output == "ok \ufffd\ufffd end"
