"""The project under test is its working tree, and it has the metadata a native install gives
it (issue 13): a dependency that requires the project itself (pytest requires iniconfig) or a
requirements file that names it does not put the index's wheel in front of the source, and
``importlib.metadata`` reads the project's full core metadata from ``[project]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_the_project_is_imported_from_its_source_when_a_dependency_requires_it(
    devbox: Any, tmp_path: Path, installer: str
) -> None:
    project = copy_fixture("selfdep", tmp_path)
    env = {"DEVBOX_INSTALLER": installer}
    first = devbox("test", cwd=project, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.tool("pytest")["status"] == "passed"

    # An edit to the source is what the next run imports.
    init = project / "src" / "iniconfig" / "__init__.py"
    init.write_text(init.read_text().replace('"devbox-source"', '"edited-source"'))
    test = project / "tests" / "test_source.py"
    test.write_text(test.read_text().replace('"devbox-source"', '"edited-source"'))
    second = devbox("test", cwd=project, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.tool("pytest")["status"] == "passed"
    assert second.report is not None
    assert all(e["cached"] for e in second.report["environments"]), second.report


def test_tests_read_the_projects_full_metadata(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("fullmeta", tmp_path)
    run = devbox("test", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["status"] == "passed"


def test_an_editable_project_is_imported_from_its_source_when_a_dependency_requires_it(
    devbox: Any, tmp_path: Path
) -> None:
    # A version computed at build time: the project is installed editable in the tool step.
    project = copy_fixture("selfdep", tmp_path)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('version = "99.0.0"\n', 'dynamic = ["version"]\n')
    pyproject.write_text(
        text + '\n[tool.setuptools.dynamic]\nversion = { attr = "iniconfig.RELEASE" }\n'
    )
    init = project / "src" / "iniconfig" / "__init__.py"
    init.write_text(init.read_text() + '\nRELEASE = "99.0.0"\n')
    run = devbox("test", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["status"] == "passed"
