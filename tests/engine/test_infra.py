"""The integration-test infrastructure itself (tests/infra.py): a local registry that the main
engine pushes to and a second engine pulls from, and a second engine whose builds reach the
network, all without breaking the main engine."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

import infra
from conftest import SECOND_ENGINE_IMAGES

pytestmark = pytest.mark.engine

BASE = SECOND_ENGINE_IMAGES[0]


def docker(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The main engine."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=600, input=input
    )


def assert_main_engine_runs_containers() -> None:
    r = docker("run", "--rm", BASE, "true")
    assert r.returncode == 0, r.stderr


def test_push_from_main_engine_pull_and_run_on_second_engine(
    registry: str, second_engine: infra.SecondEngine
) -> None:
    repo = f"{registry}/devbox-test/python"
    # The base image as it is, and one with a layer the second engine cannot have already.
    token = uuid.uuid4().hex
    built = docker(
        "build", "-q", "-t", f"{repo}:token", "-",
        input=f"FROM {BASE}\nRUN echo {token} > /token\n",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    try:
        for tag in ("3.11", "token"):
            if tag == "3.11":
                assert docker("tag", BASE, f"{repo}:3.11").returncode == 0
            pushed = docker("push", "-q", f"{repo}:{tag}")
            assert pushed.returncode == 0, pushed.stderr
            pulled = second_engine.docker("pull", "-q", f"{repo}:{tag}")
            assert pulled.returncode == 0, pulled.stderr
        ran = second_engine.docker("run", "--rm", f"{repo}:3.11", "python3", "-c", "print(42)")
        assert (ran.returncode, ran.stdout) == (0, "42\n"), ran.stderr
        ran = second_engine.docker("run", "--rm", f"{repo}:token", "cat", "/token")
        assert (ran.returncode, ran.stdout) == (0, f"{token}\n"), ran.stderr
    finally:
        docker("rmi", f"{repo}:3.11", f"{repo}:token")
        second_engine.docker("rmi", f"{repo}:3.11", f"{repo}:token")
    assert_main_engine_runs_containers()


def test_build_on_second_engine_reaches_the_network(
    second_engine: infra.SecondEngine, tmp_path: Path
) -> None:
    (tmp_path / "ctx").mkdir()
    dockerfile = tmp_path / "Dockerfile"
    token = uuid.uuid4().hex  # no cached RUN step: it really goes to the network
    dockerfile.write_text(
        f"FROM {BASE} AS fetch\n"
        f'RUN echo {token} && python3 -c "import urllib.request; '
        "print(urllib.request.urlopen('https://pypi.org/simple/iniconfig/', timeout=60).status)\""
        " > /status\n"
        "FROM scratch\n"
        "COPY --from=fetch /status /\n"
    )
    out = tmp_path / "out"
    r = second_engine.docker(
        "buildx", "build", "--progress=plain",
        "--output", f"type=local,dest={out}",
        "-f", str(dockerfile), str(tmp_path / "ctx"),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / "status").read_text() == "200\n"
    # The build ran on the second engine (its own bridge and data root), not on the main one.
    assert second_engine.docker("info", "--format", "{{.DockerRootDir}}").stdout.strip() == str(
        second_engine.data_root
    )
    assert_main_engine_runs_containers()


def test_infra_problem_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(infra, "REGISTRY_BIN", Path("/nonexistent/docker-registry"))
    assert "/nonexistent/docker-registry is missing" in (infra.infra_problem() or "")
    assert infra.infra_problem(second_engine=False) is not None
