"""A project that builds native code, with no system-packages anywhere, against the real
engine: devbox installs what the image lacks to build it (a compiler, Python's headers)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine


def test_a_c_extension_builds_with_no_configuration(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("cext", tmp_path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(re.sub(r"(?m)^system-packages.*\n", "", pyproject.read_text()))
    assert "system-packages" not in pyproject.read_text()

    run = devbox("test", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "errors": 0}
    out = run.stdout + run.stderr
    assert "devbox: native code: installing a C compiler" in out, out
    assert "system-packages not set" in out
    # the compiled module went to the discarded copy of the tree, not the project
    assert not list(project.rglob("*.so")) and not (project / "build").exists()
