"""--timeline from a real run (issue 18): one bar per stage, as BuildKit timed them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import TimelineBars, copy_fixture

pytestmark = pytest.mark.engine


def test_the_timeline_has_a_bar_per_stage(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    page, trace = tmp_path / "timeline.html", tmp_path / "trace.json"
    run = devbox("check", "--timeline", str(page), cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    parser = TimelineBars()
    parser.feed(page.read_text())
    # sending the project, the 3.11 environment, ruff and pytest, the export
    assert len(parser.bars) == 5, page.read_text()
    assert [b["data-kind"] for b in parser.bars] == [
        "context", "environment", "tool", "tool", "export",
    ]  # fmt: skip
    assert f"devbox: wrote {page}" in run.stdout

    replay = devbox("check", "--timeline", str(trace), cwd=project)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    events = json.loads(trace.read_text())["traceEvents"]
    tools = [e for e in events if e["cat"] == "tool"]
    assert sorted(e["name"] for e in tools) == ["pytest [3.11]", "ruff [3.11]"]
    assert all(e["args"]["cached"] for e in tools)  # nothing changed: replayed
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in events)
