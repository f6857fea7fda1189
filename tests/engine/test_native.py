"""Projects that build native code, against the real engine: system-packages (apt-get in the
dependency stage) brings the compiler, and the project is built in the tool steps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine


def test_a_c_extension_builds_with_system_packages_and_not_without(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("cext", tmp_path)
    run = devbox("test", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "errors": 0}
    shown = devbox("dockerfile", "--for", "test", cwd=project, report=False).stdout
    assert "python3 /devbox/devbox_install.py system" in shown
    assert "target=/var/lib/apt/lists" in shown and "target=/var/cache/apt" in shown
    # the compiled module went to the discarded copy of the tree, not the project
    assert not list(project.rglob("*.so")) and not (project / "build").exists()

    # Without the compiler, the build fails in the tool step, with the hint that fixes it.
    # (system-packages = [], not the key left out: then devbox installs one itself.)
    pyproject = project / "pyproject.toml"
    text = re.sub(r"(?m)^system-packages.*$", "system-packages = []", pyproject.read_text())
    pyproject.write_text(text)
    bare = devbox("test", cwd=project)
    assert bare.returncode == 1, bare.stdout + bare.stderr
    assert bare.tool("pytest")["status"] == "failed"
    # the tests still ran, on the source tree, and the run says why they fail
    assert "pip install -e .) failed" in bare.tool("pytest")["warnings"][0]
    assert 'system-packages = ["gcc", "libc6-dev", "python3-dev"]' in bare.stdout


def test_system_packages_reach_the_tools(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    tool = '{ which-jq = { command = ["sh", "-c", "jq --version"] } }'
    env = {"DEVBOX_LINT": "which-jq", "DEVBOX_TOOLS": tool}
    run = devbox("lint", "-v", cwd=project, env={**env, "DEVBOX_SYSTEM_PACKAGES": "jq"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"jq-1\.\d", run.stdout)
    without = devbox("lint", cwd=project, env=env)
    assert without.returncode == 1 and without.tool("which-jq")["status"] == "failed"


def test_an_optional_extension_that_was_not_built_is_a_warning(devbox: Any, tmp_path: Path) -> None:
    """The build falls back to pure Python (no compiler): the tests pass, one is skipped
    that natively runs, and the run warns with what to set; with the compiler devbox adds
    by itself, the extension is built and nothing is said."""
    project = copy_fixture("cext_optional", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "system-packages = []\n")
    bare = devbox("test", cwd=project)
    assert bare.returncode == 0, bare.stdout + bare.stderr
    tool = bare.tool("pytest")
    assert tool["tests"] == {"passed": 1, "failed": 0, "skipped": 1, "errors": 0}
    (warning,) = tool["warnings"]
    assert "made no compiled extension" in warning and "a C compiler" in warning
    assert "system-packages" in warning
    assert f"devbox: warning: pytest: {warning}" in bare.stdout
    pyproject.write_text(pyproject.read_text().replace("system-packages = []\n", ""))
    built = devbox("test", cwd=project)
    assert built.returncode == 0, built.stdout + built.stderr
    assert built.tool("pytest")["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "errors": 0}
    assert "warnings" not in built.tool("pytest")
    assert "devbox: warning" not in built.stdout
