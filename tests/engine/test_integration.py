"""End to end: the real CLI against the real engine, on the fixture projects in tests/fixtures.

Every test here is marked `engine`: it fails (not skips) when CI is set and no engine answers,
and the autouse guard in conftest.py checks that no fixture tree changed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, REPO, cli_env
from devbox import tools
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def test_clean_project_lint_and_test_pass(devbox: Any) -> None:
    run = devbox("check", cwd=FIXTURES / "clean")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.report["ok"] is True
    assert [t["name"] for t in run.report["tools"]] == ["ruff", "pytest"]
    pytest_ = run.tool("pytest")
    assert pytest_["status"] == "passed"
    assert pytest_["python"] == "3.11"
    assert pytest_["kind"] == "test"
    assert pytest_["tests"] == {"passed": 3, "failed": 0, "skipped": 0, "errors": 0}
    assert "tests" not in run.tool("ruff")
    assert "all 2 tools passed" in run.stdout


def test_lint_error_is_reported_with_a_host_relative_path(devbox: Any) -> None:
    project = FIXTURES / "lint_error"
    run = devbox("lint", cwd=project)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "src/lintpkg/mod.py:1:8: F401" in run.stdout
    assert "/src/" not in run.stdout.replace("src/lintpkg", "")
    assert run.tool("ruff") | {"duration_s": 0} == {
        "name": "ruff", "kind": "lint", "python": "3.11", "status": "failed",
        "exit_code": 1, "duration_s": 0, "cached": run.tool("ruff")["cached"],
        "version": tools.BUILTIN["ruff"].packages[0].split("==")[1],  # the pinned one ran
        "why": run.tool("ruff")["why"],
    }  # fmt: skip
    # it ran (a failure is never replayed), so it says why: first run, or its failure last time
    assert run.tool("ruff")["cached"] is False and run.tool("ruff")["why"]

    # From another directory, paths are relative to where the user stands.
    run = devbox("-C", str(project), "lint", cwd=REPO)
    assert run.returncode == 1
    assert "tests/fixtures/lint_error/src/lintpkg/mod.py:1:8: F401" in run.stdout


def test_failing_test_shows_pytest_summary_and_counts(devbox: Any) -> None:
    run = devbox("test", cwd=FIXTURES / "failing_test")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 2 passed, 1 skipped" in run.stdout
    assert "tests/test_numbers.py:13: AssertionError" in run.stdout
    assert run.report["ok"] is False
    assert run.tool("pytest")["tests"] == {"passed": 2, "failed": 1, "skipped": 1, "errors": 0}
    assert run.tool("pytest")["exit_code"] == 1


def test_failing_tool_runs_again_while_passing_ones_replay(devbox: Any) -> None:
    project = FIXTURES / "failing_test"
    devbox("check", cwd=project)
    again = devbox("check", cwd=project)
    assert again.tool("ruff")["cached"] is True
    assert again.tool("ruff")["status"] == "passed"
    # pytest failed last time: BuildKit would replay the failure; devbox runs it again.
    assert again.tool("pytest")["cached"] is False
    assert again.tool("pytest")["status"] == "failed"
    forced = devbox("check", "--rerun", cwd=project)
    assert forced.tool("ruff")["cached"] is False


def test_arguments_after_double_dash_go_to_pytest(devbox: Any) -> None:
    run = devbox("test", "--", "-k", "test_one or test_two", cwd=FIXTURES / "failing_test")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "errors": 0}


def test_invalid_config_exits_2_naming_the_key(devbox: Any) -> None:
    run = devbox("check", cwd=FIXTURES / "invalid_config")
    assert run.returncode == 2
    assert "[tool.devbox] has an unknown key 'lintt' (did you mean 'lint'?)" in run.stderr
    assert str(FIXTURES / "invalid_config" / "pyproject.toml") in run.stderr
    assert "Traceback" not in run.stderr
    assert run.report is None


def test_dependencies_from_extras_groups_and_requirements_in_a_src_layout(devbox: Any) -> None:
    run = devbox("test", cwd=FIXTURES / "deps")
    assert run.returncode == 0, run.stdout + run.stderr
    # six (extra), tomli-w (group via include-group), toml (requirements file),
    # project metadata and its console script: see tests/fixtures/deps/tests.
    assert run.tool("pytest")["tests"] == {"passed": 3, "failed": 0, "skipped": 0, "errors": 0}


def test_project_without_a_devbox_table_uses_the_defaults(devbox: Any) -> None:
    run = devbox("check", cwd=FIXTURES / "no_table")
    assert run.returncode == 0, run.stdout + run.stderr
    # ruff and pytest by default, on the newest Python requires-python allows (3.13).
    assert [(t["name"], t["python"]) for t in run.report["tools"]] == [
        ("ruff", "3.13"),
        ("pytest", "3.13"),
    ]
    assert run.tool("pytest")["tests"]["passed"] == 2


def test_pip_installer(devbox: Any) -> None:
    run = devbox("test", cwd=FIXTURES / "deps", env={"DEVBOX_INSTALLER": "pip"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"]["passed"] == 3


def test_failed_dependency_install_exits_3_with_the_installers_error(devbox: Any) -> None:
    run = devbox(
        "test",
        cwd=FIXTURES / "clean",
        env={"DEVBOX_PACKAGES": "devbox-no-such-distribution-for-tests"},
    )
    assert run.returncode == 3, run.stdout + run.stderr
    assert "installing the dependencies failed" in run.stderr
    # uv's own words about the missing distribution
    assert "devbox-no-such-distribution-for-tests" in run.stderr
    assert "not found" in run.stderr.lower() or "no solution" in run.stderr.lower()
    assert "Traceback" not in run.stderr


def test_missing_base_image_exits_3_naming_it(devbox: Any) -> None:
    image = "localhost/devbox-test/absent:{python}"
    run = devbox("lint", cwd=FIXTURES / "clean", env={"DEVBOX_BASE_IMAGE": image})
    assert run.returncode == 3, run.stdout + run.stderr
    assert "the base image localhost/devbox-test/absent:3.11 is not available" in run.stderr


def test_unreachable_engine_exits_3(devbox: Any, tmp_path: Path) -> None:
    run = devbox(
        "lint", cwd=FIXTURES / "clean", env={"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    )
    assert run.returncode == 3
    assert "no Docker engine answers" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interruption_cancels_the_build_and_exits_130(
    devbox_cache: Path, sig: signal.Signals
) -> None:
    project = FIXTURES / "slow"
    with subprocess.Popen(
        [sys.executable, "-m", "devbox", "test", "--rerun"],  # never a replay of the slow step
        cwd=project,
        env=cli_env(devbox_cache, project),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "pytest: running" in line:
                break
        assert "pytest: running" in "".join(seen), "".join(seen) + proc.stderr.read()
        time.sleep(2)  # pytest is now inside its two-minute test
        started = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=60)
        assert rc == 130, proc.stderr.read()
        assert time.monotonic() - started < 30
    # The daemon cancelled the solve: the tool step's processes are gone, not left running.
    for _ in range(30):
        if subprocess.run(["pgrep", "-f", "/devbox/run.py"], capture_output=True).returncode == 1:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the cancelled tool step is still running")


def test_context_leaves_out_vcs_environments_and_build_outputs(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path, fresh=False, dirname="proj")
    heavy = {
        ".git/objects/pack/pack-1.pack": 8_000_000,
        "env-3.11/lib/python3.11/site-packages/big/data.bin": 20_000_000,  # a venv by another name
        "node_modules/left-pad/index.js": 4_000_000,
        "build/lib/cleanpkg/__init__.py": 1000,
        "dist/cleanpkg-1.2.3.tar.gz": 1000,
        "cleanpkg.egg-info/PKG-INFO": 100,
        "cleanpkg/__pycache__/__init__.cpython-311.pyc": 1000,
        ".tox/py/bin/python": 1000,
        "data/huge.sqlite": 2_000_000,  # left out by `exclude` below
    }
    for rel, size in heavy.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes(b"x" * size)
    (project / "env-3.11" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    env = {
        "DEVBOX_TOOLS": '{ files = { command = ["find", ".", "-type", "f"] } }',
        "DEVBOX_LINT": "files",
        "DEVBOX_EXCLUDE": "*.sqlite,data/*.sqlite",
    }
    run = devbox("lint", "-v", cwd=project, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    # -v streams each tool's output after the tool's name ("files | ./x"); a tool replayed
    # from the cache streams nothing, and its output is printed as it is at the end
    lines = [line.removeprefix("files | ").strip() for line in run.stdout.splitlines()]
    listed = {line for line in lines if line.startswith("./")}
    assert "./cleanpkg/__init__.py" in listed
    assert "./tests/test_clean.py" in listed
    assert "./pyproject.toml" in listed
    for rel in heavy:
        assert f"./{rel}" not in listed, rel
    assert "./env-3.11/pyvenv.cfg" not in listed
    # What BuildKit reports sending: the project's few kilobytes, none of the ~34 MB left out.
    assert 0 < run.report["context_bytes"] < 100_000
