"""Onboarding against the real engine: init → a passing run, doctor up and down, shell."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from helpers import copy_fixture

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("layout", ["init_src", "init_flat", "init_groups"])
def test_init_proposes_a_config_that_passes(devbox: Any, tmp_path: Path, layout: str) -> None:
    project = copy_fixture(layout, tmp_path, fresh=False)
    before = (project / "pyproject.toml").read_bytes()
    init = devbox("init", cwd=project, report=False)
    assert init.returncode == 0, init.stdout + init.stderr
    after = (project / "pyproject.toml").read_bytes()
    assert after.startswith(before) and b"[tool.devbox]" in after[len(before) :]
    run = devbox("check", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {t["status"] for t in run.report["tools"]} == {"passed"}
    assert any(t["name"] == "pytest" for t in run.report["tools"])


def test_doctor_with_the_engine_up(devbox: Any) -> None:
    run = devbox("doctor", cwd=FIXTURES / "clean", report=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[ok  ] engine: Docker Engine" in run.stdout
    assert "[ok  ] buildx: " in run.stdout
    assert (
        "[ok  ] base image localhost/devbox-test/python:3.11: present in the engine" in run.stdout
    )
    assert "devbox: a run can work here" in run.stdout


def test_doctor_with_the_engine_down(devbox: Any, tmp_path: Path) -> None:
    run = devbox(
        "doctor",
        cwd=FIXTURES / "clean",
        env={"DOCKER_HOST": f"unix://{tmp_path}/dead.sock"},
        report=False,
    )
    assert run.returncode == 3
    assert f"[FAIL] engine: no Docker engine answers at unix://{tmp_path}/dead.sock" in run.stdout
    assert "fix: start Docker Desktop or the docker service" in run.stdout
    assert "a run cannot work here yet" in run.stdout


def test_doctor_flags_a_base_image_that_cannot_be_had(devbox: Any) -> None:
    env = {"DEVBOX_BASE_IMAGE": "localhost/devbox-test/absent:{python}"}
    run = devbox("doctor", cwd=FIXTURES / "clean", env=env, report=False)
    assert run.returncode == 3
    assert (
        "[FAIL] base image localhost/devbox-test/absent:3.11: not local, and not pullable"
        in run.stdout
    )


def test_shell_runs_a_command_non_interactively(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path, fresh=False)
    run = devbox("shell", "--", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, report=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    # the tree is mounted read-write: a file written in the shell is on the host
    write = devbox(
        "shell", "--", "sh", "-c", "echo from-shell > made-in-shell.txt", cwd=project, report=False
    )
    assert write.returncode == 0, write.stderr
    assert (project / "made-in-shell.txt").read_text() == "from-shell\n"
    failing = devbox(
        "shell", "--", "python", "-c", "raise SystemExit(7)", cwd=project, report=False
    )
    assert failing.returncode == 7
    tag = next(w for w in run.stderr.split() if w.startswith("devbox-shell/"))
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, check=True)
