"""Engine errors speak to a user who installed devbox: plain sentences (never a Python repr of
the exception behind them), and what to do in terms such a user has — Docker Desktop,
`sudo systemctl start docker`, `docker context use`, `devbox doctor`. scripts/provision-engine.sh
is in devbox's own repository, for its tests: an installed devbox has no such script.

The exceptions are real: the docker SDK's, from connecting to a socket that does not exist and
to a port nothing listens on; subprocess's, from running a program that is missing or not
executable.
"""

from __future__ import annotations

import contextlib
import gc
import re
import socket
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import requests.exceptions
import urllib3.exceptions

from conftest import FIXTURES
from devbox.build.session import Options, load_plan
from devbox.commands import doctor
from devbox.engine import health, process
from devbox.errors import EngineUnavailable
from devbox.results import diagnose
from devbox.results.progress import BuildProgress

#: what a Python repr of an exception looks like inside a message
REPR = re.compile(r"\w(?:Error|Exception)\(|\('|\(\d+,|\[Errno|<\w+[ .]|HTTP\w*Connection\w*\(")


def assert_plain(message: str) -> None:
    assert not REPR.search(message), message
    assert "provision-engine" not in message, message


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it (causes, contexts, and those carried in args)."""
    todo, seen = [exc], set()
    while todo:
        e = todo.pop()
        if id(e) not in seen:
            seen.add(id(e))
            yield e
            inner = [e.__cause__, e.__context__, *e.args]
            todo += [i for i in inner if isinstance(i, BaseException)]


@contextlib.contextmanager
def sdk_sockets_freed() -> Iterator[None]:
    """The docker SDK leaves a failed connection's socket to the garbage collector (a
    ResourceWarning, an error under this suite's filters): collect it here, quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
        gc.collect()


def engine_error(call: Callable[[], object]) -> EngineUnavailable:
    with sdk_sockets_freed():
        try:
            call()
        except EngineUnavailable as exc:
            for e in chain(exc):
                e.__traceback__ = None
            return exc
    raise AssertionError("no EngineUnavailable")


def sdk_error(base_url: str) -> docker.errors.DockerException:
    """What the docker SDK raises when nothing answers at ``base_url`` (as devbox's probe
    makes it: the client asks the engine's API version as it is made)."""
    with sdk_sockets_freed():
        try:
            docker.DockerClient(base_url=base_url, timeout=5)
        except docker.errors.DockerException as exc:
            caught = exc
        else:
            raise AssertionError(f"an engine answers at {base_url}")
        for e in chain(caught):
            e.__traceback__ = None
    return caught


def refused_url() -> str:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def test_a_missing_socket_says_start_the_engine(tmp_path: Path) -> None:
    url = f"unix://{tmp_path}/docker.sock"
    exc = sdk_error(url)
    assert "FileNotFoundError(" in str(exc)  # what the message used to quote
    message = health.no_engine_message(url, exc)
    assert_plain(message)
    assert "(" not in message
    assert message.startswith(f"no Docker engine answers at {url}: its socket does not exist")
    for advice in ("Docker Desktop", "`sudo systemctl start docker`", "`docker context use NAME`",
                   "`devbox doctor`"):  # fmt: skip
        assert advice in message


def test_a_refused_connection_says_so() -> None:
    url = refused_url()
    exc = sdk_error(url)
    message = health.no_engine_message(url, exc)
    assert_plain(message)
    assert "(" not in message
    assert "the connection was refused" in message
    assert f"Check that the engine at {url} runs" in message
    assert "`docker context use NAME`" in message and "`devbox doctor`" in message


def test_a_denied_socket_says_how_to_get_access() -> None:
    # requests wraps the socket's error exactly so (root may use any socket: built, not provoked)
    inner = requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError(
            "Connection aborted.", PermissionError(13, "Permission denied")
        )
    )
    try:
        raise docker.errors.DockerException(
            f"Error while fetching server API version: {inner}"
        ) from inner
    except docker.errors.DockerException as exc:
        message = health.no_engine_message("unix:///var/run/docker.sock", exc)
    assert_plain(message)
    assert "permission to use its socket was denied" in message
    assert "`sudo usermod -aG docker $USER`" in message


def test_an_sdk_sentence_is_kept_and_a_repr_never_shown() -> None:
    said = docker.errors.DockerException("Install paramiko package to enable ssh:// support")
    assert health.connection_problem(said) == (
        "the docker library said: Install paramiko package to enable ssh:// support"
    )
    opaque = docker.errors.DockerException("Error: ('Connection aborted.', Thing(1, 'x'))")
    assert health.connection_problem(opaque) == "the connection failed with DockerException"


def test_probe_engine_raises_the_plain_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health.shutil, "which", lambda name: "/usr/bin/docker")
    url = f"unix://{tmp_path}/docker.sock"
    error = engine_error(lambda: health.probe_engine({"DOCKER_HOST": url}))
    assert_plain(error.message)
    assert "its socket does not exist" in error.message


def test_missing_buildx_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "probe_engine", lambda env: ("unix:///x.sock", "26.1.5"))
    monkeypatch.setattr(
        health.process,
        "run_command",
        lambda argv, **kw: process.subprocess.CompletedProcess(argv, 1, "", ""),
    )
    with pytest.raises(EngineUnavailable) as caught:
        health.probe({})
    assert_plain(caught.value.message)
    assert "Docker Desktop ships it" in caught.value.message
    assert "`sudo apt-get install docker-buildx`" in caught.value.message


def test_a_missing_docker_client_says_install_docker() -> None:
    with pytest.raises(EngineUnavailable) as caught:
        process.run_command(["devbox-test-no-such-program"])
    assert_plain(caught.value.message)
    assert "was not found on PATH" in caught.value.message
    assert "Docker Desktop" in caught.value.message and "`devbox doctor`" in caught.value.message


def test_a_docker_that_cannot_be_run_is_an_engine_error(tmp_path: Path) -> None:
    program = tmp_path / "docker-lookalike"  # the unit tests' guard stops any "docker"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o644)  # not executable: subprocess raises PermissionError
    with pytest.raises(EngineUnavailable) as caught:
        process.run_command([str(program)])
    assert_plain(caught.value.message)
    assert "could not be run: Permission denied" in caught.value.message


class _NoClient:
    def client_present(self) -> bool:
        return False


class _NoEngine:
    def __init__(self, url: str) -> None:
        self.url = url

    def client_present(self) -> bool:
        return True

    def probe_engine(self) -> tuple[str, str]:
        return health.probe_engine({"DOCKER_HOST": self.url})


class _NoBuildx(_NoEngine):
    def buildx_version(self) -> tuple[int, ...]:
        return ()


def checks(check: Any, docker_: object, **ctx: Any) -> list[doctor.Check]:
    return list(check(doctor.Context({}, [], docker_, **ctx)))


def test_doctor_fixes_name_what_a_user_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health.shutil, "which", lambda name: "/usr/bin/docker")
    with sdk_sockets_freed():
        found = [
            *checks(doctor.check_client, _NoClient()),
            *checks(doctor.check_engine, _NoEngine(f"unix://{tmp_path}/docker.sock")),
            *checks(doctor.check_buildx, _NoBuildx(""), engine_up=True),
        ]
    assert [c.level for c in found] == [doctor.Level.FAIL] * 3
    for check in found:
        assert_plain(check.detail)
        assert_plain(check.fix)
    assert found[1].detail.endswith("its socket does not exist, so no engine is running there")
    assert "`sudo systemctl start docker`" in found[1].fix


def test_an_engine_gone_mid_build_says_how_to_start_it_again() -> None:
    """The recorded stream of a real build up to its apt step, then what buildx prints when
    dockerd dies (as tests/unit/test_diagnose.py replays it)."""
    progress = BuildProgress({})
    stream = Path(__file__).parents[1] / "data" / "progress" / "system-package-missing.jsonl"
    lines = stream.read_text(encoding="utf-8").splitlines(keepends=True)
    for line in lines[: lines.index("}\n", 200) + 1]:
        progress.feed(line, 0.0)
    progress.feed("ERROR: failed to solve: Unavailable: error reading from server: EOF\n", 0.0)
    plan = load_plan(Options(FIXTURES / "clean", "test", {}), {})
    error = diagnose.build_error(plan, progress)
    assert isinstance(error, EngineUnavailable)
    assert_plain(error.message)
    assert "`sudo systemctl start docker`" in error.message and "`devbox doctor`" in error.message


def test_an_engine_that_does_not_answer_in_time() -> None:
    inner = requests.exceptions.ReadTimeout(
        urllib3.exceptions.ReadTimeoutError(None, "/version", "Read timed out. (read timeout=10)")
    )
    try:
        raise docker.errors.DockerException(
            f"Error while fetching server API version: {inner}"
        ) from inner
    except docker.errors.DockerException as exc:
        message = health.no_engine_message("tcp://10.0.0.1:2375", exc)
    assert_plain(message)
    assert f"it did not answer within {health.PROBE_TIMEOUT} s" in message
