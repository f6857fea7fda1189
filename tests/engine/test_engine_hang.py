"""Hangs and signals (issue 13): an engine that accepts connections and never answers, and a
closed terminal (SIGHUP) during a build."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FIXTURES, cli_env
from helpers import copy_fixture

pytestmark = pytest.mark.engine


@pytest.fixture
def silent_engine(tmp_path: Path) -> Iterator[str]:
    """A unix socket that accepts every connection and never says a word: DOCKER_HOST."""
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"unix://{path}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def run_devbox(
    args: list[str], cwd: Path, cache: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args], cwd=cwd, env=cli_env(cache, cwd, env),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_an_engine_that_never_answers_is_exit_3_naming_it(
    silent_engine: str, devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    env = {"DOCKER_HOST": silent_engine, "DEVBOX_ENGINE_TIMEOUT": "3"}
    started = time.monotonic()
    run = run_devbox(["test"], project, devbox_cache, env)  # was: waited forever
    assert run.returncode == 3, run.stdout + run.stderr
    assert time.monotonic() - started < 60
    assert f"the Docker engine at {silent_engine}" in run.stderr
    assert "did not answer within 3 s" in run.stderr


def test_doctor_names_the_engine_that_never_answers(
    silent_engine: str, devbox_cache: Path, tmp_path: Path
) -> None:
    env = {"DOCKER_HOST": silent_engine, "DEVBOX_ENGINE_TIMEOUT": "3"}
    run = run_devbox(["doctor"], FIXTURES / "clean", devbox_cache, env)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "[ok  ] docker client" in run.stdout  # the client is fine: it is not blamed
    engine_line = next(line for line in run.stdout.splitlines() if "] engine:" in line)
    assert "FAIL" in engine_line and silent_engine in engine_line


def test_a_closed_terminal_cancels_the_build(devbox_cache: Path, tmp_path: Path) -> None:
    project = FIXTURES / "slow"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devbox", "test", "--rerun"], cwd=project,
        env=cli_env(devbox_cache, project), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if "pytest: running" in line:
            break
    proc.send_signal(signal.SIGHUP)  # was: devbox died, the step ran on in the engine
    rc = proc.wait(timeout=60)
    _, err = proc.communicate()
    assert rc == 130, err
    assert "cancelled in the engine" in err or "interrupted" in err
    for _ in range(40):
        if subprocess.run(["pgrep", "-f", "/devbox/run.py"], capture_output=True).returncode:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the tool step kept running in the engine after SIGHUP")


def test_sigterm_during_a_pull_leaves_no_docker_pull_behind(
    devbox_cache: Path, tmp_path: Path
) -> None:
    # A "registry" that accepts connections and never answers: the pull waits in the engine.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    image = f"127.0.0.1:{port}/devbox-silent/python:{{python}}"
    project = copy_fixture("clean", tmp_path)
    env = {"DEVBOX_PYTHON": "3.11,3.13", "DEVBOX_BASE_IMAGE": image}  # checked, then pulled
    proc = subprocess.Popen(
        [sys.executable, "-m", "devbox", "test"], cwd=project,
        env=cli_env(devbox_cache, project, env), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    pattern = f"pull -q 127.0.0.1:{port}/"
    try:
        for _ in range(100):
            if subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("devbox never started the pull")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        out, err = proc.communicate()
        assert rc == 130, out + err
        for _ in range(20):
            if subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode != 0:
                break
            time.sleep(0.25)
        else:
            pytest.fail("`docker pull` was left running after devbox stopped")
    finally:
        subprocess.run(["pkill", "-f", pattern], capture_output=True)
        server.close()
