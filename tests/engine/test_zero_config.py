"""Zero configuration: test dependencies found in the project's own declarations.

Each fixture has no [tool.devbox] table; its test imports a package that only its declared
test dependencies install (a dependency group, an extra, a setup.cfg extra, a setup.py
extra, a requirement file, tox.ini's [testenv] deps, the env of tox's env_list with
factor-conditional deps, a noxfile's test session, the plugins pytest's configuration
needs), and the run says in one line what it chose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devbox.config.project import tomllib
from helpers import copy_fixture

pytestmark = pytest.mark.engine


@pytest.mark.parametrize(
    ("fixture", "line"),
    [
        ("zc_groups", "devbox: test dependencies: [dependency-groups] tests (found)"),
        ("zc_extra", "devbox: test dependencies: [project.optional-dependencies] test (found)"),
        (
            "zc_setupcfg",
            "devbox: test dependencies: setup.cfg [options.extras_require] testing (found)",
        ),
        ("zc_reqs", "devbox: test dependencies: requirements-dev.txt (found)"),
        (
            "zc_tox",
            "devbox: test dependencies: tox.ini [testenv] deps pytest, six>=1.16 (found; what "
            "tox.ini [testenv] installs; not used: [project.optional-dependencies] dev)",
        ),
        ("zc_setuppy", "devbox: test dependencies: setup.py extras_require test (found)"),
        (
            "zc_toxenv",
            "devbox: test dependencies: tox.ini [testenv] (py311-unit) deps pytest, six>=1.16 "
            "(found; what tox.ini [testenv] (py311-unit) installs)",
        ),
        (
            "zc_nox",
            "devbox: test dependencies: noxfile.py session 'tests' installs six>=1.16, pytest "
            "(found; what noxfile.py session 'tests' installs; not used: "
            "[project.optional-dependencies] dev)",
        ),
        (
            "zc_plugins",
            "devbox: test dependencies: pytest-timeout (pyproject.toml addopts --timeout), "
            "pytest-asyncio (pyproject.toml asyncio_mode) (found)",
        ),
    ],
    ids=lambda value: value if value.startswith("zc_") else "line",
)
def test_declared_test_dependencies_are_installed_without_configuration(
    devbox: Any, tmp_path: Path, fixture: str, line: str
) -> None:
    project = copy_fixture(fixture, tmp_path)
    assert "devbox" not in tomllib.loads((project / "pyproject.toml").read_text()).get("tool", {})
    # Python 3.11 is one of the local test images (a setup.cfg project has no requires-python)
    run = devbox("test", cwd=project, env={"DEVBOX_PYTHON": "3.11"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert line in (run.stdout + run.stderr).splitlines()
    assert run.tool("pytest")["status"] == "passed"


def test_an_empty_extras_list_turns_it_off(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("zc_extra", tmp_path)
    run = devbox("test", cwd=project, env={"DEVBOX_PYTHON": "3.11", "DEVBOX_EXTRAS": ""})
    assert "devbox: test dependencies" not in run.stdout + run.stderr
    assert run.returncode == 1, run.stdout + run.stderr
    assert "No module named 'six'" in run.stdout + run.stderr


def test_init_writes_what_the_run_found(devbox: Any, tmp_path: Path) -> None:
    """`devbox init` then `devbox test`: the same install as zero-config (the dependency
    stage is replayed, not rebuilt) and the same result."""
    project = copy_fixture("zc_nox", tmp_path)
    zero = devbox("test", cwd=project, env={"DEVBOX_PYTHON": "3.11"})
    assert zero.returncode == 0, zero.stdout + zero.stderr
    made = devbox("init", cwd=project, env={"DEVBOX_PYTHON": "3.11"})
    assert made.returncode == 0, made.stdout + made.stderr
    table = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["devbox"]
    assert table["packages"] == ["six>=1.16", "pytest"]
    after = devbox("test", "-v", cwd=project, env={"DEVBOX_PYTHON": "3.11"})
    assert after.returncode == 0, after.stdout + after.stderr
    assert "devbox: test dependencies" not in after.stdout + after.stderr  # configured now
    assert after.tool("pytest")["tests"] == zero.tool("pytest")["tests"]
    assert after.report is not None
    assert [e["cached"] for e in after.report["environments"]] == [True]
