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


REUSED = "the project's build from the last run is reused"


def test_the_build_is_reused_until_a_file_it_is_built_from_changes(
    devbox: Any, tmp_path: Path
) -> None:
    """--rerun and a test edit put the last build back; a C edit builds again, and the new
    extension is the one tested (never a stale one)."""
    project = copy_fixture("cext", tmp_path)
    first = devbox("test", "-v", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert REUSED not in first.stdout

    rerun = devbox("test", "--rerun", "-v", cwd=project)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert REUSED in rerun.stdout and "Building cextpkg" not in rerun.stdout
    assert rerun.tool("pytest")["tests"]["passed"] == 2  # the extension, imported and run

    test = project / "tests" / "test_cext.py"
    test.write_text(test.read_text() + "\n\ndef test_more() -> None:\n    assert True\n")
    edited = devbox("test", "-v", cwd=project)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert REUSED in edited.stdout and edited.tool("pytest")["tests"]["passed"] == 3

    # a C edit: built again, and what runs is the new code (add now subtracts)
    source = project / "src" / "cextpkg" / "_speedups.c"
    source.write_text(source.read_text().replace("a + b", "a - b"))
    rebuilt = devbox("test", "-v", cwd=project)
    assert rebuilt.returncode == 1, rebuilt.stdout + rebuilt.stderr
    assert REUSED not in rebuilt.stdout
    assert rebuilt.tool("pytest")["tests"]["failed"] == 1  # add(2, 3) == -1 now
    # and back: the new build is the one kept, the old one is not put back for the new source
    again = devbox("test", "--rerun", "-v", cwd=project)
    assert again.returncode == 1 and REUSED in again.stdout, again.stdout + again.stderr
    assert not list(project.rglob("*.so")) and not (project / "build").exists()


def test_with_ccache_a_module_edit_compiles_nothing_again(devbox: Any, tmp_path: Path) -> None:
    """ccache in the image (system-packages): a Python module edit rebuilds the project (it
    is a build input), but its C compilation comes from ccache's cache in the tool's cache
    mount; an edit to the C source compiles it again, and the new code is what runs."""
    project = copy_fixture("cext", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"python3-dev"]', '"python3-dev", "ccache"]')
    )
    first = devbox("test", "-v", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "devbox: ccache: 0 of 1 compilations came from its cache" in first.stdout

    module = project / "src" / "cextpkg" / "__init__.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    edited = devbox("test", "-v", cwd=project)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert REUSED not in edited.stdout  # a module is a build input: built again ...
    assert (
        "devbox: ccache: 1 of 1 compilations came from its cache" in edited.stdout
    )  # ... not compiled

    source = project / "src" / "cextpkg" / "_speedups.c"
    source.write_text(source.read_text().replace("a + b", "a - b"))
    rebuilt = devbox("test", "-v", cwd=project)
    assert rebuilt.returncode == 1, rebuilt.stdout + rebuilt.stderr
    assert "devbox: ccache: 0 of 1 compilations came from its cache" in rebuilt.stdout
    assert rebuilt.tool("pytest")["tests"]["failed"] == 1  # the new code ran
