"""The live view that lives (issue 15): install steps and the installer's last line read from
recorded rawjson streams, the in-container duration, -v's streamed output, heartbeats on a
non-terminal (with an injected clock), a table that ticks, and a summary within 80 columns."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from devbox.report.console import (
    LiveView,
    clock_text,
    heartbeat_interval,
    print_output,
    print_outputs,
    print_summary,
)
from devbox.results.model import RunResult, Status, TestCounts
from devbox.results.progress import BuildProgress, ToolProgress, last_install_line, sanitize
from helpers import tool_result, tool_run

PROGRESS = Path(__file__).parents[1] / "data" / "progress"
STAGES = {"tool-pytest-3.11": "pytest@3.11"}
RUN = "[tool-pytest-3.11 1/1] RUN --mount=type=bind,target=/src,rw /opt/devbox/venv/bin/python /devbox/run.py 3.11"


def replay(name: str) -> list[tuple[str, str, str]]:
    """Each distinct (state, step, detail) of pytest@3.11 while the recorded stream is fed."""
    bp = BuildProgress(STAGES)
    seen: list[tuple[str, str, str]] = []
    with (PROGRESS / name).open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            bp.feed(line, float(i))
            t = bp.tools["pytest@3.11"]
            if (t.state, t.step, t.detail) not in seen:
                seen.append((t.state, t.step, t.detail))
    return seen


# --- the install step and the installer's last line, from recorded streams -----------------


def test_uv_install_steps_and_package_counts() -> None:
    seen = replay("uv-install.jsonl")
    steps = [step for _, step, _ in seen if step]
    assert steps[0] == "bootstrap"
    assert "dependencies" in steps
    details = [d for state, step, d in seen if step == "dependencies" and d]
    assert any(re.fullmatch(r"Resolved 8 packages in \d+m?s", d) for d in details)
    assert any(re.fullmatch(r"Installed 8 packages in \d+m?s", d) for d in details)
    # uv's per-package list (" + attrs==...") never hides the count
    assert not any(d.lstrip().startswith(("+", "-")) for d in details)
    assert seen[-2:] == [("running", "", ""), ("passed", "", "")]


def test_pip_install_counts_packages_and_skips_progress_bars() -> None:
    seen = replay("pip-install.jsonl")
    details = [d for state, step, d in seen if step == "dependencies" and d]
    assert "Collecting pytest" in details
    assert "Installing 8 packages" in details  # "Installing collected packages: a, b, ..."
    assert "Successfully installed 8 packages" in details
    assert not any(d.startswith("\u2501") for d in details)
    assert all(len(d) <= 60 for d in details)


def test_system_packages_step_shows_apt_lines() -> None:
    seen = replay("system-package-missing.jsonl")
    details = [d for _, step, d in seen if step == "system packages" and d]
    assert "Reading package lists..." in details
    assert any(d.startswith("E: Unable to locate package") for d in details)


def test_last_install_line_is_sanitized_and_bounded() -> None:
    logs = (
        b"devbox-install: $ /opt/devbox/uv/bin/uv pip install -r x\n"
        b"\x1b[1mResolved\x1b[0m \x1b]0;title\x07 3 packages\x07\r\n"
        b" + six==1.17.0\n"
    )
    assert last_install_line(logs) == "Resolved 3 packages"
    assert last_install_line(b"devbox-install: $ apt-get update\n") == ""
    assert last_install_line(b"devbox-install: native code: installing gcc\n") == (
        "native code: installing gcc"
    )
    assert last_install_line(b"Downloading x\r 50%\r 75%") == "75%"
    long = sanitize("x" * 200)
    assert len(long) == 60 and long.endswith("\u2026")


# --- the duration the container measured --------------------------------------------------


def status(
    vertexes: list[dict[str, Any]] | None = None, logs: list[dict[str, Any]] | None = None
) -> str:
    """One SolveStatus, as one line."""
    return json.dumps({"vertexes": vertexes or [], "logs": logs or []}) + "\n"


def log(data: bytes) -> dict[str, Any]:
    return {"vertex": "sha256:p", "stream": 1, "data": base64.b64encode(data).decode()}


def test_finished_tool_shows_the_in_container_duration() -> None:
    bp = BuildProgress(STAGES)
    bp.feed(status([{"digest": "sha256:p", "name": RUN, "started": "2026-01-01T00:00:00Z"}]), 10.0)
    t = bp.tools["pytest@3.11"]
    assert t.elapsed(13.5) == 3.5  # ticking, host time
    bp.feed(status(logs=[log(b"ok\n\ndevbox-duration-s: 2.345\ndevbox-exit-code: 0\n")]), 14.0)
    bp.feed(status([{"digest": "sha256:p", "completed": "2026-01-01T00:00:04Z"}]), 14.0)
    assert t.state == "passed"
    assert t.duration_s == 2.345
    assert t.elapsed(99.0) == 2.345  # what status.json (and so the summary) has


# --- -v: output streamed as it comes ------------------------------------------------------


def test_streamed_output_lines_without_markers() -> None:
    bp = BuildProgress(STAGES, stream=True)
    bp.feed(status([{"digest": "sha256:p", "name": RUN, "started": "2026-01-01T00:00:00Z"}]), 1.0)
    bp.feed(status(logs=[log(b"collected 1 item\n\ntests/test_a.py \x1b[32m.\x1b[0m\x1b[2K")]), 2.0)
    assert bp.take_output() == [("pytest@3.11", "collected 1 item")]
    bp.feed(status(logs=[log(b" [100%]\n")]), 3.0)
    assert bp.take_output() == [
        ("pytest@3.11", ""),
        ("pytest@3.11", "tests/test_a.py \x1b[32m.\x1b[0m [100%]"),  # colours kept, not moves
    ]
    bp.feed(status(logs=[log(b"1 passed\n\ndevbox-duration-s: 1.000\ndevbox-exit-code: 0\n")]), 3.5)
    bp.feed(status([{"digest": "sha256:p", "completed": "2026-01-01T00:00:04Z"}]), 4.0)
    assert bp.take_output() == [("pytest@3.11", "1 passed")]
    assert bp.take_output() == []


def test_no_stream_keeps_nothing() -> None:
    bp = BuildProgress(STAGES)
    bp.feed(status([{"digest": "sha256:p", "name": RUN, "started": "2026-01-01T00:00:00Z"}]), 1.0)
    bp.feed(status(logs=[log(b"line\n")]), 2.0)
    assert bp.take_output() == []


def plain() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=100), buf


def test_verbose_view_prefixes_each_line_with_its_tool(tmp_path: Path) -> None:
    con, buf = plain()
    runs = (tool_run("pytest", python="3.11"), tool_run("pytest", python="3.13"))
    with LiveView(con, runs, verbose=True, paths=(tmp_path, tmp_path)) as view:
        view.output([("pytest@3.13", "/src/tests/test_a.py:3: boom"), ("pytest@3.11", "")])
    assert buf.getvalue().splitlines() == [
        "pytest [3.13] | tests/test_a.py:3: boom",
        "pytest [3.11] |",
    ]


def test_output_is_not_printed_again_at_the_end(tmp_path: Path) -> None:
    con, buf = plain()
    ran = tool_result("ruff", Status.FAILED, output="RAN-OUTPUT\n")
    cached = tool_result("pytest", cached=True, output="CACHED-OUTPUT\n")
    print_outputs(con, RunResult((ran, cached)), tmp_path, tmp_path, streamed=True)
    assert "RAN-OUTPUT" not in buf.getvalue()  # streamed live already
    assert "CACHED-OUTPUT" in buf.getvalue()  # a replayed step streamed nothing


# --- heartbeats on a non-terminal, with an injected clock ---------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_heartbeat_every_interval_per_running_tool() -> None:
    con, buf = plain()
    clock = Clock()
    runs = (tool_run("ruff"), tool_run("pytest"))
    ruff, pytest_p = ToolProgress(), ToolProgress()
    progress = {"ruff@3.11": ruff, "pytest@3.11": pytest_p}
    view = LiveView(con, runs, heartbeat_s=30.0, clock=clock)
    view.update(progress)
    pytest_p.state, pytest_p.started_at = "running", 100.0
    view.update(progress)
    for now in (110.0, 129.9):
        clock.now = now
        view.tick()
    clock.now = 130.0
    view.tick()
    ruff.state, ruff.started_at = "running", 131.0
    clock.now = 131.0
    view.update(progress)
    for now in (150.0, 160.0, 161.0, 190.0):
        clock.now = now
        view.tick()
    pytest_p.state, pytest_p.ended_at, pytest_p.duration_s = "passed", 195.0, 94.5
    clock.now = 195.0
    view.update(progress)
    clock.now = 260.0
    view.tick()
    assert buf.getvalue().splitlines() == [
        "devbox: pytest: running",
        "devbox: pytest (3.11) still running, 30s",
        "devbox: ruff: running",
        "devbox: pytest (3.11) still running, 1m00s",
        "devbox: ruff (3.11) still running, 30s",
        "devbox: pytest (3.11) still running, 1m30s",
        "devbox: pytest: passed (94.5s)",
        "devbox: ruff (3.11) still running, 2m09s",
    ]


def test_heartbeat_while_an_environment_installs() -> None:
    con, buf = plain()
    clock = Clock()
    p = ToolProgress("installing", installing_since=100.0, step="dependencies", detail="x")
    view = LiveView(con, (tool_run("ruff"), tool_run("pytest")), heartbeat_s=10.0, clock=clock)
    view.update({"ruff@3.11": p, "pytest@3.11": p})
    clock.now = 112.0
    view.tick()
    assert buf.getvalue().splitlines()[-1] == (
        "devbox: Python 3.11 environment still installing (dependencies: x), 12s"
    )
    assert len(buf.getvalue().splitlines()) == 3  # one heartbeat per environment


def test_no_heartbeat_on_a_terminal_or_when_quiet() -> None:
    clock = Clock()
    progress = {"pytest@3.11": ToolProgress("running", 100.0)}
    for kwargs in ({"live": True}, {"quiet": True}):
        con, buf = plain()
        view = LiveView(con, (tool_run("pytest"),), heartbeat_s=1.0, clock=clock, **kwargs)  # type: ignore[arg-type]
        view._progress = progress
        clock.now = 200.0
        view.tick()
        assert "still running" not in buf.getvalue()


def test_heartbeat_interval_from_the_environment() -> None:
    assert heartbeat_interval({}) == 30.0
    assert heartbeat_interval({"DEVBOX_HEARTBEAT_S": "2.5"}) == 2.5
    assert heartbeat_interval({"DEVBOX_HEARTBEAT_S": "0"}) == 30.0
    assert heartbeat_interval({"DEVBOX_HEARTBEAT_S": "soon"}) == 30.0
    assert [clock_text(s) for s in (0, 59.9, 90, 3723)] == ["0s", "59s", "1m30s", "1h02m03s"]


# --- the table ticks on a terminal --------------------------------------------------------


def test_table_elapsed_ticks_with_the_clock_and_shows_the_step() -> None:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=True, width=100, color_system=None)
    clock = Clock()
    progress = {
        "pytest@3.11": ToolProgress("running", 100.0),
        "ruff@3.11": ToolProgress(
            "installing", installing_since=95.0, step="dependencies", detail="Installed 3 packages"
        ),
    }
    view = LiveView(con, (tool_run("ruff"), tool_run("pytest")), live=True, clock=clock)
    view._progress = progress
    first = _render(con, view)
    clock.now = 107.0
    second = _render(con, view)
    assert first[0] == [
        "ruff",
        "installing",
        "5.0s",
        "dependencies",
        "\u00b7",
        "Installed",
        "3",
        "packages",
    ]
    assert second[0][:3] == ["ruff", "installing", "12.0s"]
    assert first[1] == ["pytest", "running", "0.0s"]
    assert second[1] == ["pytest", "running", "7.0s"]


def _render(con: Console, view: LiveView) -> list[list[str]]:
    with con.capture() as cap:
        con.print(view._table())
    return [line.split() for line in cap.get().splitlines()]


def test_redrawing_needs_a_real_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """FORCE_COLOR makes rich call a pipe a terminal: colours yes, redraws no."""
    from devbox.commands.run import _redraws

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    piped = Console(file=io.StringIO())
    assert piped.is_terminal  # what rich makes of FORCE_COLOR
    assert _redraws(piped) is False


# --- the summary within 80 columns; tool colours kept on a colour console ------------------


@pytest.mark.parametrize(
    "counts",
    [
        TestCounts(1, 0, 0, 0),
        TestCounts(1234, 12, 3, 0),
        TestCounts(12345, 123, 45, 6, xfailed=7, xpassed=8),
    ],
)
def test_summary_fits_80_columns_without_wrapping(counts: TestCounts) -> None:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=False, width=80)
    run = RunResult(
        (
            tool_result("ruff", duration_s=0.4),
            tool_result("pytest", Status.TIMEOUT, python="3.13", duration_s=1234.5, tests=counts),
        )
    )
    print_summary(con, run)
    lines = buf.getvalue().splitlines()
    rows = [line for line in lines if line.startswith((" ruff", " pytest"))]
    assert len(rows) == 2, lines  # a wrapped cell would add a line
    assert all(len(line.rstrip()) <= 80 for line in lines)
    assert re.search(rf"\b{counts.passed} pass", rows[1])


def test_tool_colours_kept_on_a_colour_console_only(tmp_path: Path) -> None:
    tool = tool_result("pytest", output="\x1b[32mgreen\x1b[0m \x1b[2Kplain\n")
    for colour, expected in ((True, "\x1b[32mgreen\x1b[0m plain"), (False, "green plain")):
        buf = io.StringIO()
        con = Console(file=buf, force_terminal=colour, color_system="standard" if colour else None)
        print_output(con, tool, tmp_path, tmp_path)
        assert buf.getvalue().rstrip("\n") == expected
