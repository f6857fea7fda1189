"""`devbox shell --at TOOL` (issue 18): a shell in the environment and tree of the tool's last
failure, with its command printed and in the history; the project itself is not touched."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def shell(cache: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(cache, project, "shell", *args)


def test_the_shell_is_at_the_failing_runs_tree_and_environment(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.devbox.tools.pytest]\nenv = { AT_PROBE = "from config" }\n'
    )
    nonce = uuid.uuid4().hex
    (project / "data.txt").write_text(f"as it failed {nonce}\n")
    (project / "tests" / "test_at.py").write_text(
        "import os\n\n\ndef test_data() -> None:\n"
        "    assert open('data.txt').read() == 'fixed\\n'\n\n\n"
        "def test_env() -> None:\n    assert os.environ['AT_PROBE'] == 'from config'\n"
    )
    failed = devbox("test", cwd=project)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    # the tree moves on after the failure: the shell still has the failing run's
    (project / "data.txt").write_text("edited since\n")
    (project / "tests" / "test_added_since.py").write_text("def test_new() -> None:\n    pass\n")

    probe = shell(
        devbox_cache, project, "--at", "pytest", "--",
        "sh", "-c", 'pwd; cat data.txt; ls tests; echo "env=$AT_PROBE"; cat "$HISTFILE"; '
        "echo changed > data.txt; python -m pytest -q -p no:cacheprovider tests/test_at.py",
    )  # fmt: skip
    out = probe.stdout
    # pytest inside fails as the tool did: one test of the two, the data file's
    assert probe.returncode == 1, out + probe.stderr
    lines = out.splitlines()
    assert lines[0] == "/src"
    assert lines[1] == f"as it failed {nonce}"
    assert "test_added_since.py" not in lines[2:5] and "test_at.py" in lines[2:5]
    assert "env=from config" in lines
    history = lines[lines.index("env=from config") + 1]
    assert history.startswith("pytest") or history.startswith("python -m pytest"), out
    assert "1 failed, 1 passed" in out
    # nothing of it reached the project
    assert (project / "data.txt").read_text() == "edited since\n"
    assert "preparing the shell of pytest's last failure (Python 3.11)" in probe.stderr

    # without a command: the banner names the failure and the command
    banner = shell(devbox_cache, project, "--at", "pytest")
    assert banner.returncode == 0, banner.stdout + banner.stderr
    assert "devbox: the shell of pytest's last failure (Python 3.11, exit code 1" in banner.stderr
    assert "Its command, also in the shell's history (up arrow):\n  " + history in banner.stderr


def test_a_tool_that_never_failed_or_is_unknown_is_exit_2(
    devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    never = shell(devbox_cache, project, "--at", "ruff", "--", "true")
    assert never.returncode == 2, never.stdout + never.stderr
    assert "the engine has no failure of ruff (Python 3.11) to open" in never.stderr
    assert "Traceback" not in never.stderr

    unknown = shell(devbox_cache, project, "--at", "nosuchtool", "--", "true")
    assert unknown.returncode == 2, unknown.stdout + unknown.stderr
    assert "no tool of that name runs in this project (devbox check runs: ruff, pytest)" in (
        unknown.stderr
    )
    odd = shell(devbox_cache, project, "--at", "py\x1b[31mtest", "--", "true")
    assert odd.returncode == 2 and "\x1b" not in odd.stderr, odd.stderr
    assert "not a tool name" in odd.stderr


def test_a_project_built_in_the_tool_step_is_built_in_the_shell(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    """A C extension: the tool step builds it (editable install), and so does the shell's step
    (or puts the tool step's build back): the failing test runs on the extension there too."""
    project = copy_fixture("cext", tmp_path)
    (project / "tests" / "test_at.py").write_text(
        "from cextpkg import _speedups\n\n\ndef test_fails() -> None:\n"
        "    assert _speedups.__file__.endswith('.py')\n"
    )
    failed = devbox("test", cwd=project)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    probe = shell(
        devbox_cache, project, "--at", "pytest", "--",
        "python", "-c", "from cextpkg import _speedups; print(_speedups.__file__)",
    )  # fmt: skip
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert probe.stdout.strip().splitlines()[-1].endswith(".so"), probe.stdout
