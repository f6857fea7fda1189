"""`devbox watch` (issue 18), against the real engine: a run at the start, another after an
edit (the tool runs, saying why), one after a save that changed nothing (the tools replay),
none for what the build context leaves out; Ctrl-C stops it and leaves nothing running."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import cli_env
from helpers import copy_fixture

pytestmark = pytest.mark.engine

WAITING = "devbox watch: waiting for changes; Ctrl-C stops"


class Watch:
    """A running `devbox watch`, its output lines read by a thread."""

    def __init__(self, cache: Path, project: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devbox", "watch", *args],
            cwd=project,
            env=cli_env(cache, project),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, wanted: str, timeout: float = 300) -> list[str]:
        """The lines up to the first one that contains ``wanted``."""
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            got.append(line)
            self.seen.append(line)
            if wanted in line:
                return got
        raise AssertionError(f"no {wanted!r} in devbox watch's output:\n" + "\n".join(self.seen))

    def quiet_for(self, seconds: float) -> list[str]:
        got: list[str] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is not None:
                got.append(line)
        return got


@pytest.fixture
def watching(devbox_cache: Path, tmp_path: Path) -> Iterator[tuple[Watch, Path]]:
    project = copy_fixture("clean", tmp_path)
    w = Watch(devbox_cache, project, "check")
    try:
        yield w, project
    finally:
        w.close()


def test_watch_runs_on_each_change_and_stops_on_ctrl_c(
    watching: tuple[Watch, Path], devbox_cache: Path
) -> None:
    w, project = watching
    first = w.until(WAITING)
    assert "devbox: ruff: passed" in "\n".join(first) and "devbox: pytest: passed" in "\n".join(
        first
    )

    test = project / "tests" / "test_clean.py"
    test.write_text(test.read_text() + "\n\ndef test_added() -> None:\n    pass\n")
    edited = "\n".join(w.until(WAITING))
    assert "tests/test_clean.py changed" in edited
    assert "devbox: pytest: passed" in edited and "4 passed" in edited
    assert "devbox: pytest ran: tests/test_clean.py changed" in edited

    # saved again as it is: a run, and every tool replays its result from the last one
    time.sleep(0.05)
    os.utime(test)
    resaved = "\n".join(w.until(WAITING))
    assert "tests/test_clean.py changed" in resaved
    assert "devbox: ruff: cached" in resaved and "devbox: pytest: cached" in resaved, resaved
    assert " ran: " not in resaved

    # what the build context leaves out starts no run
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert w.quiet_for(3) == []

    # a bad edit of the configuration: its error, and the watch goes on
    pyproject = project / "pyproject.toml"
    good = pyproject.read_text()
    pyproject.write_text(good.replace('python = "3.11"', 'python = "three"'))
    bad = "\n".join(w.until(WAITING))
    assert "devbox: error:" in bad and "python" in bad, bad
    pyproject.write_text(good)
    fixed = "\n".join(w.until(WAITING))
    assert "pyproject.toml changed" in fixed and "devbox: pytest: cached" in fixed, fixed

    # Ctrl-C: exit 130, nothing of it left running, no build directory left behind
    os.killpg(w.proc.pid, signal.SIGINT)
    assert w.proc.wait(timeout=30) == 130
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(w.proc.pid, 0)
    assert list(devbox_cache.glob(f"projects/{project.name}-*/runs/*")) == []


def test_ctrl_c_during_a_run_cancels_it(devbox_cache: Path, tmp_path: Path) -> None:
    project = copy_fixture("slow", tmp_path)
    w = Watch(devbox_cache, project, "test")
    try:
        w.until("pytest: running")
        os.killpg(w.proc.pid, signal.SIGINT)
        assert w.proc.wait(timeout=60) == 130
        time.sleep(0.5)
        with pytest.raises(ProcessLookupError):
            os.killpg(w.proc.pid, 0)
        assert list(devbox_cache.glob(f"projects/{project.name}-*/runs/*")) == []
    finally:
        w.close()
