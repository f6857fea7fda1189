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
