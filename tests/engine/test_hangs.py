"""Tools that hang, against the real engine: a tool that leaves a child holding its output
ends when the tool ends, and a tool that runs past its `timeout` is stopped and reported as
`timeout` with the output it wrote (issue 13)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from helpers import copy_fixture

pytestmark = pytest.mark.engine

#: how long any one devbox run may take here before the test fails (and the run is killed):
#: far above what a fixed devbox needs, far below the tools' `sleep 300`
GUARD_S = 150


@dataclass
class Guarded:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    elapsed: float

    def tool(self, name: str) -> dict[str, Any]:
        assert self.report is not None, self.stdout + self.stderr
        return next(t for t in self.report["tools"] if t["name"] == name)


Runner = Callable[..., Guarded]


@pytest.fixture
def guarded(devbox_cache: Path, tmp_path: Path) -> Runner:
    """Run the real CLI like the `devbox` fixture, but fail the test (killing the run's whole
    process group) when it takes longer than GUARD_S: a hang is a failure, not a stuck run."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Guarded:
        report = tmp_path / "report.json"
        report.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "devbox", args[0], "--report-json", str(report), *args[1:]]
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=cli_env(devbox_cache, cwd, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=GUARD_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGINT)  # devbox cancels its build on SIGINT
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
            pytest.fail(f"devbox {' '.join(args)} still running after {GUARD_S} s:\n{out}{err}")
        data = json.loads(report.read_text()) if report.exists() else None
        return Guarded(proc.returncode, out, err, data, time.monotonic() - started)

    return run


def _tool(name: str, script: str, timeout: float | None = None) -> dict[str, str]:
    """DEVBOX_LINT/DEVBOX_TOOLS for one custom lint tool running ``sh -c SCRIPT``."""
    limit = "" if timeout is None else f", timeout = {timeout}"
    table = f"{{ {name} = {{ command = ['sh', '-c', {json.dumps(script)}]{limit} }} }}"
    return {"DEVBOX_LINT": name, "DEVBOX_TOOLS": table}


def test_a_child_left_holding_the_output_does_not_keep_the_step_open(
    guarded: Runner, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    run = guarded("lint", "-v", cwd=project, env=_tool("forgets", "sleep 300 & echo started"))
    assert run.returncode == 0, run.stdout + run.stderr
    tool = run.tool("forgets")
    assert tool["status"] == "passed"
    assert tool["duration_s"] < 20, tool
    assert "started" in run.stdout
    assert run.elapsed < 120


def test_a_tool_past_its_timeout_is_stopped_and_reported(guarded: Runner, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    junit = tmp_path / "junit.xml"
    run = guarded(
        "lint", "--junit-xml", str(junit), cwd=project,
        env=_tool("hangs", "echo before; sleep 300", timeout=3),
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    tool = run.tool("hangs")
    assert tool["status"] == "timeout", tool
    assert tool["timeout_s"] == 3
    assert 3 <= tool["duration_s"] < 30, tool
    assert run.elapsed < 60
    # the output so far, and a message naming the limit: console, summary, JUnit
    assert "before" in run.stdout
    assert "time limit of 3 s" in run.stdout
    assert re.search(r"(?m)^ *hangs +│? *lint +│? *3\.11 +│? *timeout ", run.stdout), run.stdout
    xml = junit.read_text()
    assert "time limit of 3 s" in xml and "before" in xml


def test_the_command_line_timeout_overrides_the_configuration(
    guarded: Runner, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    # configured: 300 s; --timeout 3 stops it
    long = _tool("slow", "echo before; sleep 300", timeout=300)
    run = guarded("lint", "--timeout", "3", cwd=project, env=long)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.tool("slow")["status"] == "timeout"
    assert run.tool("slow")["timeout_s"] == 3
    assert run.elapsed < 60
    # and the other way: configured 2 s (pyproject's top-level key), --timeout 60 lets it finish
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "timeout = 2\n")
    short = _tool("slow", "sleep 5; echo finished")
    assert guarded("lint", cwd=project, env=short).tool("slow")["status"] == "timeout"
    run = guarded("lint", "-v", "--timeout", "60", cwd=project, env=short)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("slow")["status"] == "passed"
    assert "finished" in run.stdout
    # DEVBOX_TIMEOUT sits between the two
    env = {**short, "DEVBOX_TIMEOUT": "60"}
    assert guarded("lint", cwd=project, env=env).tool("slow")["status"] == "passed"
    run = guarded("lint", "--timeout", "2", cwd=project, env=env)
    assert run.tool("slow")["status"] == "timeout"
