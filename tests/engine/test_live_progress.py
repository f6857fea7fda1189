"""The live view that lives (issue 15), on the real engine: driven through a pseudo-terminal,
the elapsed time ticks while a test sleeps 10 s and while an environment installs; in a log
(a pipe, even with FORCE_COLOR) nothing is redrawn, heartbeats come every DEVBOX_HEARTBEAT_S,
-v streams the tool's output once, and the finish line and the summary show one duration."""

from __future__ import annotations

import fcntl
import itertools
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from helpers import copy_fixture, make_project

pytestmark = pytest.mark.engine

#: a cursor movement or line erase: what a redrawn table writes
REDRAW = re.compile(r"\x1b\[(?:\d*[ABKJ]|\?25[lh])")


def sleeping_project(root: Path, seconds: int = 10) -> Path:
    """A project whose one test sleeps ``seconds`` (a fresh one: its step cannot replay)."""
    return make_project(
        root,
        """
        [project]
        name = "sleeper"
        version = "0.1.0"

        [tool.devbox]
        python = "3.11"
        test = ["pytest"]
        """,
        {
            "tests/test_sleep.py": f"""
            import time

            # {uuid.uuid4().hex}
            def test_sleeps() -> None:
                time.sleep({seconds})
            """
        },
    )


def in_pty(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    """Run the CLI on a pseudo-terminal (120 x 40) and return everything it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devbox", *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


def frames(output: str) -> list[str]:
    """The terminal's lines as the table redrew them (styles dropped, the other escape
    sequences as line breaks)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", text)
    return [line.strip() for line in re.split(r"[\r\n]", text) if line.strip()]


def elapsed_values(output: str, state: str) -> list[float]:
    """Every distinct elapsed time the table showed for pytest in ``state``, in order."""
    seen: list[float] = []
    for line in frames(output):
        m = re.match(rf"pytest\s+{state}\s+(\d+\.\d)s", line)
        if m and float(m.group(1)) not in seen:
            seen.append(float(m.group(1)))
    return seen


def pty_env(cache: Path, cwd: Path, **extra: str) -> dict[str, str]:
    env = cli_env(cache, cwd, extra)
    env.pop("COLUMNS", None)  # the terminal's size decides
    env["TERM"] = "xterm"
    return env


def test_elapsed_time_ticks_during_a_10_s_test(devbox_cache: Path, tmp_path: Path) -> None:
    project = sleeping_project(tmp_path / "sleeper")
    output = in_pty(["test"], project, pty_env(devbox_cache, project))
    running = elapsed_values(output, "running")
    # Redrawn at least once a second while the test sleeps: the time goes up as it runs.
    assert len(running) >= 10, running
    assert running == sorted(running)
    assert running[0] < 2.0 and running[-1] >= 9.0, running
    assert max(b - a for a, b in itertools.pairwise(running)) <= 1.0, running


def test_elapsed_time_and_step_during_an_install(devbox_cache: Path, tmp_path: Path) -> None:
    # A requirements file no earlier run had: the dependency step installs (with pip, the
    # slower installer), it cannot replay.
    project = make_project(
        tmp_path / "installer",
        """
        [project]
        name = "installer"
        version = "0.1.0"

        [tool.devbox]
        python = "3.11"
        installer = "pip"
        requirements = ["requirements.txt"]
        test = ["pytest"]
        """,
        {
            "requirements.txt": f"# {uuid.uuid4().hex}\nattrs\nsix\n",
            "tests/test_ok.py": "def test_ok() -> None:\n    pass\n",
        },
    )
    output = in_pty(["test"], project, pty_env(devbox_cache, project))
    installing = elapsed_values(output, "installing")
    assert len(installing) >= 3, installing
    assert installing == sorted(installing)
    lines = frames(output)
    assert any(re.match(r"pytest\s+installing\s+\d+\.\ds\s+dependencies", ln) for ln in lines)
    # the installer's last line: pip's package count once it is done
    assert any(re.search(r"dependencies · Successfully installed \d+ packages", ln) for ln in lines)


def test_log_heartbeats_stream_and_one_duration(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    project = sleeping_project(tmp_path / "sleeper", seconds=8)
    run = devbox(
        "test",
        "-v",
        cwd=project,
        env={"DEVBOX_HEARTBEAT_S": "2", "FORCE_COLOR": "1", "COLUMNS": "80"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    # a pipe: no redraws, even though FORCE_COLOR makes rich call it a terminal
    assert not REDRAW.search(out), out[:2000]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    lines = plain.splitlines()
    beats = [
        ln for ln in lines if re.fullmatch(r"devbox: pytest \(3\.11\) still running, \d+s", ln)
    ]
    assert len(beats) >= 2, plain
    # -v: pytest's output as it came, prefixed, and not a second time at the end
    assert sum(bool(re.match(r"pytest \| =+ 1 passed in", ln)) for ln in lines) == 1, plain
    assert sum("1 passed in" in ln for ln in lines) == 1, plain
    assert lines.index(beats[0]) < next(
        i for i, ln in enumerate(lines) if ln.startswith("pytest | ") and "1 passed in" in ln
    )
    # one duration: the finish line, the summary and the report agree (the container's)
    finished = next(ln for ln in lines if ln.startswith("devbox: pytest: passed ("))
    shown = re.search(r"\((\d+\.\d)s\)", finished)
    assert shown is not None
    row = next(ln for ln in lines if ln.startswith(" pytest "))
    assert f" {shown.group(1)}s " in row, (finished, row)
    assert f"{run.tool('pytest')['duration_s']:.1f}" == shown.group(1)
    assert all(len(ln) <= 80 for ln in lines if "│" in ln or "┃" in ln)


def test_pytest_keeps_its_colours_on_a_terminal_and_a_log_gets_none(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    env = pty_env(devbox_cache, project)
    env.pop("NO_COLOR", None)
    shown = in_pty(["test", "-v"], project, env)  # a fresh tree: pytest runs
    # pytest's own closing line, in its green (devbox shows its streamed lines dimmed)
    summary = [
        line for line in shown.splitlines() if "passed in" in re.sub(r"\x1b\[[0-9;]*m", "", line)
    ]
    assert summary and all(re.search(r"\x1b\[[0-9;]*32m", line) for line in summary), summary
    # in a pipe (and NO_COLOR): the replayed, coloured output comes without any colour
    piped = devbox("test", "-v", cwd=project)
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert piped.tool("pytest")["cached"] is True
    assert "passed in" in piped.stdout and "\x1b" not in piped.stdout
    assert piped.tool("pytest")["tests"]["passed"] == 3
