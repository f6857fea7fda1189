"""The daily loop against the real engine: tools chosen on the command line, one
dependency environment shared by lint, test, check and any subset of tools, resolved
versions and --refresh, a shell command that reads stdin, and `devbox clean`."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from devbox.build.plan import project_key
from devbox.build.session import work_dir_of
from devbox.commands.clean import project_mounts
from devbox.engine.docker import parse_cache_records
from helpers import copy_fixture, make_project
from pkgindex import SimpleIndex, bridge_gateway

pytestmark = pytest.mark.engine


def test_lint_then_test_share_one_environment_and_named_tools_run_alone(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    pyproject = project / "pyproject.toml"
    # a dependency only the linters' packages bring: before, each command installed its own
    # (and a requirement whose marker is never true, so that no earlier run on this engine
    # built this environment)
    text = pyproject.read_text().replace('lint = ["ruff"]', 'lint = ["ruff", "mypy"]')
    never = f"six; platform_release == 't{uuid.uuid4().hex}'"
    text = text.replace('version = "1.2.3"\n', f'version = "1.2.3"\ndependencies = ["{never}"]\n')
    pyproject.write_text(text + '\n[tool.devbox.tools.mypy]\npackages = ["mypy", "types-toml"]\n')
    lint = devbox("lint", cwd=project)
    assert lint.returncode in (0, 1), lint.stdout + lint.stderr
    assert lint.report is not None
    assert [e["cached"] for e in lint.report["environments"]] == [False]
    test = devbox("test", cwd=project)
    assert test.returncode == 0, test.stdout + test.stderr
    assert test.report is not None
    assert [e["cached"] for e in test.report["environments"]] == [True]
    only = devbox("lint", "mypy", "--rerun", cwd=project)
    assert only.report is not None, only.stdout + only.stderr
    assert [t["name"] for t in only.report["tools"]] == ["mypy"]
    assert [e["cached"] for e in only.report["environments"]] == [True]


def test_an_unknown_tool_name_is_exit_2_before_anything_is_built(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    run = devbox("lint", "ruf", cwd=project)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no tool named 'ruf' to run. Did you mean 'ruff'?" in run.stderr
    assert run.report is None


def test_shell_commands_read_stdin_and_get_a_tty_when_devbox_has_one(
    devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path, fresh=False)
    argv = [sys.executable, "-m", "devbox", "shell", "--", "python", "-c",
            "import sys; print(sys.stdin.read().upper(), sys.stdin.isatty())"]  # fmt: skip
    env = cli_env(devbox_cache, project)
    piped = subprocess.run(
        argv, cwd=project, env=env, input="from stdin", capture_output=True, text=True, timeout=600
    )
    assert piped.returncode == 0, piped.stdout + piped.stderr
    assert piped.stdout.strip().splitlines()[-1] == "FROM STDIN False"
    # on a terminal: the command gets one (pytest --pdb, python's prompt)
    tty_argv = [*argv[:-1], "import sys; print('tty', sys.stdin.isatty(), sys.stdout.isatty())"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: devbox on the pty
        os.chdir(project)
        os.execve(sys.executable, tty_argv, env)
    out = b""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the pty
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out.decode(errors="replace")
    assert b"tty True True" in out


def test_versions_are_reported_and_refresh_picks_up_a_new_release(
    devbox: Any, tmp_path: Path
) -> None:
    """A local index serves 1.0 of a dependency, then also 1.1: a plain run keeps the
    environment it has (1.0, replayed), --refresh resolves anew (1.1), and later runs keep that."""
    index = SimpleIndex(bridge_gateway())
    dist = f"devbox-refresh-probe-{uuid.uuid4().hex[:8]}"  # no earlier run installed it
    module = dist.replace("-", "_")
    index.add(dist, "1.0")
    try:
        project = make_project(
            tmp_path / "refresh",
            f"""
[project]
name = "refreshdemo"
version = "0.1"
dependencies = ["{dist}"]

[tool.devbox]
python = "3.11"
extra-index-url = ["http://{index.url}/simple"]
lint = ["ruff"]
test = ["pytest"]
""",
            {
                "tests/test_probe.py": f"import {module}\n\n\ndef test_probe() -> None:\n    assert {module}.VALUE\n"
            },
        )
        first = devbox("test", "-v", cwd=project)
        assert first.returncode == 0, first.stdout + first.stderr
        assert first.report is not None
        (env,) = first.report["environments"]
        assert env["packages"][dist] == "1.0"
        assert first.tool("pytest")["version"] == env["packages"]["pytest"]

        index.add(dist, "1.1")
        again = devbox("test", "--rerun", "-v", cwd=project)
        assert again.report is not None, again.stdout + again.stderr
        assert again.report["environments"][0]["cached"] is True
        assert again.report["environments"][0]["packages"][dist] == "1.0"

        refreshed = devbox("test", "--refresh", "-v", cwd=project)
        assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
        assert refreshed.report is not None
        assert refreshed.report["environments"][0]["cached"] is False
        assert refreshed.report["environments"][0]["packages"][dist] == "1.1"

        after = devbox("lint", cwd=project)  # any command: the refreshed environment
        assert after.report is not None, after.stdout + after.stderr
        assert after.report["environments"][0]["cached"] is True
        assert after.report["environments"][0]["packages"][dist] == "1.1"
    finally:
        index.close()


def _mounts(key: str) -> list[str]:
    out = subprocess.run(
        ["docker", "buildx", "du", "--verbose"], capture_output=True, text=True, check=True
    ).stdout
    return [r.id for r in project_mounts(parse_cache_records(out), key)]


def test_clean_removes_this_projects_state_and_cache_mounts_only(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    one = copy_fixture("clean", tmp_path / "one")
    other = copy_fixture("clean", tmp_path / "other")
    for project in (one, other):
        run = devbox("test", cwd=project)
        assert run.returncode == 0, run.stdout + run.stderr
    key_one, key_other = project_key(one), project_key(other)
    assert _mounts(key_one) and _mounts(key_other)
    work_one = work_dir_of({"DEVBOX_CACHE_DIR": str(devbox_cache)}, one)
    work_other = work_dir_of({"DEVBOX_CACHE_DIR": str(devbox_cache)}, other)
    assert work_one.is_dir() and work_other.is_dir()

    dry = devbox("clean", "--dry-run", cwd=one)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would remove the cache mount" in dry.stdout and _mounts(key_one)

    cleaned = devbox("clean", cwd=one)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert f"removed the cache mount devbox-{key_one}-pytest-3.11" in cleaned.stdout
    # the tool's copy of the tree, and what the copy's sync knows of it
    assert f"removed the cache mount devbox-{key_one}--src-pytest-3.11" in cleaned.stdout
    assert f"removed the cache mount devbox-{key_one}--src-pytest-3.11-state" in cleaned.stdout
    assert _mounts(key_one) == [] and not work_one.exists()
    assert _mounts(key_other) and work_other.is_dir()  # the other project keeps everything
    again = devbox("test", cwd=one)  # and the project still runs
    assert again.returncode == 0, again.stdout + again.stderr


def test_fail_fast_stops_at_the_first_failure_and_reports_the_rest_cancelled(
    devbox: Any, tmp_path: Path
) -> None:
    nonce = uuid.uuid4().hex  # no earlier run on this engine cached these steps
    project = make_project(
        tmp_path / "ff",
        f"""
[project]
name = "failfast"
version = "0.1"

[tool.devbox]
python = "3.11"
lint = ["fails"]
test = ["slow"]

[tool.devbox.tools.fails]
command = ["python", "-c", "print('{nonce}'); raise SystemExit(3)"]

[tool.devbox.tools.slow]
command = ["python", "-c", "import time; print('{nonce}'); time.sleep(150)"]
""",
    )
    started = time.monotonic()
    run = devbox("check", "--fail-fast", cwd=project)
    took = time.monotonic() - started
    assert run.returncode == 1, run.stdout + run.stderr
    assert took < 90, f"--fail-fast waited for the slow tool: {took:.0f} s"
    assert run.tool("fails")["status"] == "failed" and run.tool("fails")["exit_code"] == 3
    assert run.tool("slow")["status"] == "cancelled"
    assert "not run to the end (--fail-fast): slow" in run.stdout
    assert nonce in run.stdout  # the failing tool's output is shown
