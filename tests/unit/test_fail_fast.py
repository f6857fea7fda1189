"""How a tool --fail-fast cancelled is reported: JSON, JUnit, the summary, the exit code."""

from __future__ import annotations

import io

from rich.console import Console

from devbox.report import console as report
from devbox.report.junit import to_xml
from devbox.results.model import RunResult, Status
from helpers import tool_result


def test_a_cancelled_tool_is_a_failure_reported_as_cancelled() -> None:
    result = RunResult(
        (
            tool_result("ruff", Status.FAILED, kind="lint", exit_code=1),
            tool_result("pytest", Status.CANCELLED, kind="test", exit_code=-1),
        )
    )
    assert not result.ok
    assert [t["status"] for t in result.to_json()["tools"]] == ["failed", "cancelled"]
    xml = to_xml(result)
    assert '<skipped message="not run to the end: --fail-fast stopped the build"' in xml
    out = io.StringIO()
    report.print_summary(Console(file=out, width=80, no_color=True), result)
    text = out.getvalue()
    assert "cancelled" in text
    assert "devbox: not run to the end (--fail-fast): pytest" in text
    assert "devbox: failed: ruff" in text


def test_the_summary_names_the_version_each_tool_ran_in_within_80_columns() -> None:
    import dataclasses

    from devbox.results.model import TestCounts

    pytest_result = tool_result("pytest", kind="test", tests=TestCounts(1234, 5, 67, 8, 9, 0))
    result = RunResult(
        (
            dataclasses.replace(tool_result("ruff", kind="lint"), version="0.17.6"),
            dataclasses.replace(pytest_result, version="9.2.0"),
            tool_result("custom", kind="lint"),  # a tool without a known version
        )
    )
    out = io.StringIO()
    report.print_summary(Console(file=out, width=80, no_color=True), result)
    lines = out.getvalue().splitlines()
    assert any(line.lstrip().startswith("ruff 0.17.6 ") for line in lines)
    assert any(line.lstrip().startswith("pytest 9.2.0 ") for line in lines)
    assert all(len(line) <= 80 for line in lines)
