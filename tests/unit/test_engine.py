"""devbox.engine without an engine: the buildx command line and the checks before a build."""

from __future__ import annotations

import io
import itertools
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import docker
import pytest

from devbox import engine
from devbox.errors import EngineUnavailable


def test_build_argv() -> None:
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"),
        context=Path("/proj"),
        devbox_context=Path("/c/context"),
        output=Path("/c/out"),
        build_args={"devbox_rerun_ruff": "n1", "devbox_rerun_a": "n2"},
    )
    assert argv == [
        "docker", "buildx", "build", "--progress=rawjson", "--target", "results",
        "--output", "type=local,dest=/c/out", "--file", "/c/Dockerfile",
        "--build-context", "devbox=/c/context",
        "--build-arg", "devbox_rerun_a=n2", "--build-arg", "devbox_rerun_ruff=n1",
        "/proj",
    ]  # fmt: skip
    assert "--pull" not in argv


class FakeClient:
    seen: ClassVar[list[str]] = []

    def __init__(self, base_url: str, timeout: int) -> None:
        FakeClient.seen.append(base_url)

    def version(self) -> dict[str, Any]:
        return {"Version": "26.1.5"}

    def close(self) -> None:
        pass


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> dict[str, subprocess.CompletedProcess[str]]:
    answers: dict[str, subprocess.CompletedProcess[str]] = {}

    def run_command(
        argv: list[str], *, timeout: float = 60, env: Any = None
    ) -> subprocess.CompletedProcess[str]:
        return answers[" ".join(argv[:3])]

    monkeypatch.setattr(engine.process, "run_command", run_command)
    monkeypatch.setattr(docker, "DockerClient", FakeClient)
    monkeypatch.setattr(engine.health.shutil, "which", lambda name: "/usr/bin/docker")
    return answers


def answer(stdout: str, rc: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], rc, stdout, "")


def test_probe_accepts_a_new_enough_buildx(fake_engine: dict[str, Any]) -> None:
    fake_engine["docker buildx version"] = answer("github.com/docker/buildx 0.13.1 0.13.1+ds1-3\n")
    info = engine.probe({"DOCKER_HOST": "unix:///run/custom.sock"})
    assert info == engine.EngineInfo("unix:///run/custom.sock", "26.1.5", "0.13.1")
    assert FakeClient.seen[-1] == "unix:///run/custom.sock"


def test_probe_uses_the_current_docker_context(fake_engine: dict[str, Any]) -> None:
    fake_engine["docker context inspect"] = answer("unix:///Users/me/.docker/run/docker.sock\n")
    fake_engine["docker buildx version"] = answer(
        "github.com/docker/buildx v0.17.1-desktop.1 abc\n"
    )
    assert engine.probe({}).endpoint == "unix:///Users/me/.docker/run/docker.sock"


def test_probe_rejects_old_buildx(fake_engine: dict[str, Any]) -> None:
    fake_engine["docker buildx version"] = answer("github.com/docker/buildx v0.11.2 9872040\n")
    with pytest.raises(
        EngineUnavailable, match=r"buildx 0\.11\.2 is too old: devbox needs >= 0\.12"
    ) as exc:
        engine.probe({"DOCKER_HOST": "unix:///x.sock"})
    assert exc.value.exit_code == 3


def test_probe_reports_missing_buildx(fake_engine: dict[str, Any]) -> None:
    fake_engine["docker buildx version"] = answer("", rc=1)
    with pytest.raises(EngineUnavailable, match="buildx plugin is missing"):
        engine.probe({"DOCKER_HOST": "unix:///x.sock"})


def test_missing_docker_client(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(argv: list[str], **kw: Any) -> None:
        raise FileNotFoundError(2, "No such file or directory", argv[0])

    # what subprocess does when PATH has no docker (unit tests never run docker itself)
    monkeypatch.setattr(engine.process.subprocess, "run", not_found)
    monkeypatch.setattr(engine.health.shutil, "which", lambda name: None)
    with pytest.raises(EngineUnavailable, match="'docker' was not found on PATH"):
        engine.probe({})


def test_proxies_are_predefined_build_args_and_the_ca_bundle_a_secret() -> None:
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"), context=Path("/proj"), devbox_context=Path("/c/context"),
        output=Path("/c/out"), build_args={}, ca_bundle="/etc/corp.pem",
        env={"HTTPS_PROXY": "http://user:pw@proxy:3128", "no_proxy": "localhost", "OTHER": "x"},
    )  # fmt: skip
    pairs = list(itertools.pairwise(argv))
    # by name: buildx reads the values from its environment, so no password is in its argv
    assert ("--build-arg", "HTTPS_PROXY") in pairs
    assert ("--build-arg", "no_proxy") in pairs
    assert not any("pw@proxy" in a or "localhost" in a for a in argv)
    assert ("--secret", "id=devbox-ca,src=/etc/corp.pem") in pairs
    assert argv[-1] == "/proj"
    assert "--secret" in argv and "OTHER=x" not in " ".join(argv)


def test_buildx_runs_with_the_proxy_values_its_argv_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--build-arg HTTPS_PROXY`` has buildx read the value from its environment: the
    environment the build runs with must hold it (a docker context does not drop it)."""
    seen: dict[str, Any] = {}

    class FakeBuildx:
        def __init__(self, argv: list[str], **kw: Any) -> None:
            seen.update(argv=argv, env=kw["env"])
            self.stderr = io.StringIO('{"vertexes": []}\n')
            self.pid = 0

        def wait(self) -> int:
            return 0

        def poll(self) -> int:
            return 0

    monkeypatch.setattr(engine.buildx.subprocess, "Popen", FakeBuildx)
    env = {"HTTPS_PROXY": "http://user:pw@proxy:3128", "PATH": "/usr/bin"}
    for builder in (engine.builder.DEFAULT_BUILDER, engine.builder.Builder(context="ci-box")):
        docker_ = engine.Docker(env, builder)
        argv = engine.build_argv(
            dockerfile=Path("/c/Dockerfile"), context=Path("/proj"),
            devbox_context=Path("/c/context"), output=None, tag="t", build_args={},
            builder=builder, env=docker_.caller_env,
        )  # fmt: skip
        assert docker_.build(argv, lambda line: None) == 0
        assert "HTTPS_PROXY" in seen["argv"] and "pw@proxy" not in " ".join(seen["argv"])
        assert seen["env"]["HTTPS_PROXY"] == "http://user:pw@proxy:3128"
