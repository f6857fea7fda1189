"""Teams and scale against real components: the main engine, a local registry and a second
engine (a second dockerd standing in for a remote builder), all started by the suite."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from devbox.results.progress import BuildProgress
from helpers import copy_fixture

pytestmark = pytest.mark.engine

NET_TOOL = (
    '{ net = { command = ["python", "-c", "import socket; '
    "socket.create_connection(('pypi.org', 443), timeout=10); print('reached the network')\"] } }"
)


def step_names(devbox_cache: Path, project: Path) -> list[str]:
    """The names of the build steps of the project's last run (from devbox's progress record)."""
    work = next((devbox_cache / "projects").glob(f"{project.name}-*"))
    progress = BuildProgress({})
    for line in (work / "logs" / "build-progress.jsonl").read_text().splitlines(keepends=True):
        progress.feed(line, 0.0)
    return [v.name for v in progress.vertexes.values()]


def test_network_false_cuts_the_tool_steps_off(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    env = {"DEVBOX_LINT": "net", "DEVBOX_TOOLS": NET_TOOL}
    online = devbox("lint", "-v", cwd=project, env=env)
    assert online.returncode == 0, online.stdout + online.stderr
    assert "reached the network" in online.stdout
    offline = devbox("lint", cwd=project, env={**env, "DEVBOX_NETWORK": "false"})
    assert offline.returncode == 1, offline.stdout + offline.stderr
    assert offline.tool("net")["status"] == "failed"
    assert re.search(
        r"(gaierror|Temporary failure in name resolution|Network is unreachable)", offline.stdout
    )


def test_cache_exports_the_driver_cannot_do_are_refused_before_building(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    run = devbox("test", "--cache-to", f"type=local,dest={tmp_path / 'cache'}", cwd=project)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "uses the docker driver, which can export only inline cache" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "cache").exists()
    nobody = devbox("test", "--builder", "no-such-builder", cwd=project)
    assert nobody.returncode == 2
    assert "builder 'no-such-builder': no docker context and no buildx builder" in nobody.stderr


def test_a_stale_base_is_installed_over_or_refused(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    ref = f"localhost/devbox-test/stale-{uuid.uuid4().hex[:8]}:{{python}}"
    try:
        built = devbox("base", "build", "--tag", ref, cwd=project)
        assert built.returncode == 0, built.stdout + built.stderr
        assert f"built {ref.format(python='3.11')} (Python 3.11" in built.stdout
        used = devbox("test", "--base", ref, "--strict-base", cwd=project)
        assert used.returncode == 0, used.stdout + used.stderr
        assert used.report["environments"][0]["base"] == ref.format(python="3.11")

        # One more dependency: the image no longer matches the project.
        stale = {"DEVBOX_PACKAGES": "iniconfig"}
        refused = devbox("test", "--base", ref, "--strict-base", cwd=project, env=stale)
        assert refused.returncode == 3, refused.stdout + refused.stderr
        assert "--strict-base: the base image" in refused.stderr
        assert "was built for other dependencies" in refused.stderr
        fallback = devbox("test", "--base", ref, cwd=project, env=stale)
        assert fallback.returncode == 0, fallback.stdout + fallback.stderr
        assert "warning: the base image" in fallback.stdout
        assert fallback.report["environments"][0]["base"] is None
    finally:
        subprocess.run(
            ["docker", "image", "rm", "-f", ref.format(python="3.11")], capture_output=True
        )


def test_a_pushed_base_runs_on_a_second_engine_without_installing(
    devbox: Any, devbox_cache: Path, tmp_path: Path, registry: str, second_engine: Any
) -> None:
    project = copy_fixture("deps", tmp_path)
    ref = f"{registry}/devbox-test/deps-{uuid.uuid4().hex[:8]}:{{python}}"
    ref311 = ref.format(python="3.11")
    pushed = devbox(
        "base",
        "build",
        "--python",
        "3.11",
        "--tag",
        ref,
        "--push",
        "--cache-to",
        "type=inline",
        cwd=project,
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert f"pushed {ref311}" in pushed.stdout

    ctx = second_engine.context
    assert second_engine.docker("image", "inspect", ref311).returncode != 0  # never seen there
    records_before = len(second_engine.docker("buildx", "du", "--verbose").stdout.split("ID:"))
    remote = devbox(
        "test", "--python", "3.11", "--builder", ctx, "--base", ref, "--strict-base", cwd=project
    )
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert remote.report["environments"][0]["base"] == ref311
    assert remote.tool("pytest")["tests"]["passed"] == 3  # the dependencies came with the image
    names = step_names(devbox_cache, project)
    assert any("/devbox/run.py 3.11" in n for n in names), names
    assert not any("devbox_install.py" in n for n in names), "an install step ran"
    # It ran on the second engine: the base was pulled there, and its build cache grew.
    assert second_engine.docker("image", "inspect", ref311).returncode == 0
    records_after = len(second_engine.docker("buildx", "du", "--verbose").stdout.split("ID:"))
    assert records_after > records_before

    # Offline: with the pre-built base it passes ...
    offline = devbox(
        "test", "--python", "3.11", "--builder", ctx, "--base", ref, "--offline", cwd=project
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    # ... without it, the dependencies would need the network, and devbox says so.
    no_base = devbox("test", "--python", "3.11", "--builder", ctx, "--offline", cwd=project)
    assert no_base.returncode == 3, no_base.stdout + no_base.stderr
    assert "--offline" in no_base.stderr and "network" in no_base.stderr
    assert "Traceback" not in no_base.stderr

    # Shared cache: the pushed image carries inline cache, so building the same base on the
    # second engine replays the install steps instead of running them.
    local = f"localhost/devbox-test/from-cache-{uuid.uuid4().hex[:8]}:{{python}}"
    replayed = devbox(
        "base", "build", "--python", "3.11", "--builder", ctx, "--tag", local,
        "--cache-from", f"type=registry,ref={ref311}", cwd=project,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "dependencies replayed from the cache" in replayed.stdout
    labels = json.loads(
        second_engine.docker(
            "image", "inspect", "--format", "{{json .Config.Labels}}", local.format(python="3.11")
        ).stdout
    )
    pushed_labels = json.loads(
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", ref311],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert labels["devbox.deps-digest"] == pushed_labels["devbox.deps-digest"]
    subprocess.run(["docker", "image", "rm", "-f", ref311], capture_output=True, check=True)


def test_doctor_and_shell_use_the_builders_engine(
    devbox: Any, second_engine: Any, tmp_path: Path
) -> None:
    clean = FIXTURES / "clean"
    run = devbox("doctor", cwd=clean, env={"DEVBOX_BUILDER": second_engine.context}, report=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"engine: Docker Engine 26.1.5+dfsg1 at {second_engine.host}" in run.stdout
    assert f"builder: {second_engine.context}: a docker context" in run.stdout
    # devbox shell builds and runs its image on the builder's engine too
    shell = devbox("shell", "--", "python", "-c", "print('in the shell')", cwd=copy_fixture("clean", tmp_path),
                   env={"DEVBOX_BUILDER": second_engine.context}, report=False)  # fmt: skip
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert "in the shell" in shell.stdout
    shell_tag = next(w for w in shell.stderr.split() if w.startswith("devbox-shell/"))
    assert second_engine.docker("image", "inspect", shell_tag).returncode == 0
    assert (
        subprocess.run(["docker", "image", "inspect", shell_tag], capture_output=True).returncode
        != 0
    )
    refused = devbox(
        "doctor",
        cwd=clean,
        env={"DEVBOX_BUILDER": "no-such", "DEVBOX_CACHE_TO": "type=gha"},
        report=False,
    )
    assert refused.returncode == 3
    assert "[FAIL] builder 'no-such': no docker context and no buildx builder" in refused.stdout
    driver = devbox("doctor", cwd=clean, env={"DEVBOX_CACHE_TO": "type=gha"}, report=False)
    assert driver.returncode == 3
    assert "[FAIL] cache-to 'type=gha': the default builder uses the docker driver" in driver.stdout
