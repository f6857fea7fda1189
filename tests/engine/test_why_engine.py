"""Why a tool ran (issue 18), from real runs: the edited file, a changed dependency, a failure
last time, --rerun; nothing for a replay."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from devbox.results import why
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def test_why_names_the_edit_the_dependency_and_the_failure(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    first = devbox("test", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert why.FIRST in first.tool("pytest")["why"]

    replay = devbox("test", cwd=project)
    assert replay.tool("pytest")["cached"] is True and replay.tool("pytest")["why"] == []
    assert "ran:" not in replay.stdout

    test = project / "tests" / "test_clean.py"
    test.write_text(test.read_text() + "\n\ndef test_added() -> None:\n    pass\n")
    edited = devbox("test", cwd=project)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert edited.tool("pytest")["why"] == ["tests/test_clean.py changed"]
    assert "devbox: pytest ran: tests/test_clean.py changed" in edited.stdout

    # a dependency: the environment is built again, and pyproject.toml is the changed file
    # (a requirement no earlier run had, so that the engine has no such environment cached)
    pyproject = project / "pyproject.toml"
    nonce = uuid.uuid4().int % 10**9
    pyproject.write_text(pyproject.read_text() + f'packages = ["pluggy!=0.0.{nonce}"]\n')
    dependency = devbox("test", cwd=project)
    assert dependency.returncode == 0, dependency.stdout + dependency.stderr
    assert dependency.tool("pytest")["why"] == ["pyproject.toml changed", why.ENVIRONMENT]

    # a failure: the next run, with nothing changed, says it runs because of it
    (project / "tests" / "test_fails.py").write_text("def test_fails() -> None:\n    assert 0\n")
    failing = devbox("test", cwd=project)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert failing.tool("pytest")["why"] == ["tests/test_fails.py changed"]
    again = devbox("test", cwd=project)
    assert again.returncode == 1, again.stdout + again.stderr
    assert again.tool("pytest")["why"] == [why.FAILED]

    rerun = devbox("test", "--rerun", cwd=project)
    assert rerun.tool("pytest")["why"] == [why.RERUN]
    # the same file deleted: named as deleted
    (project / "tests" / "test_fails.py").unlink()
    fixed = devbox("test", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert fixed.tool("pytest")["why"] == [why.FAILED, "tests/test_fails.py deleted"]
