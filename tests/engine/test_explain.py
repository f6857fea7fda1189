"""`devbox explain` (issue 18), against the real engine: before each run it says what that run
then reports in `why` (a first run, a replay, the edited file, a failure last time, a changed
dependency), and it runs no tool."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from devbox.results import why
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def explain(cache: Path, project: Path, *args: str) -> str:
    proc = run_cli(cache, project, "explain", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing was run" in proc.stdout
    return proc.stdout


def line(out: str, tool: str) -> str:
    return next(x.strip() for x in out.splitlines() if x.strip().startswith(f"{tool}:"))


def test_explain_foretells_what_the_run_then_says(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    assert (
        line(explain(devbox_cache, project, "test"), "pytest") == f"pytest: would run: {why.FIRST}"
    )
    first = devbox("test", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert why.FIRST in first.tool("pytest")["why"]

    replay = explain(devbox_cache, project)  # check: ruff never ran here, pytest did
    assert (
        line(replay, "pytest")
        == "pytest: would replay its last result: nothing it depends on changed"
    )
    assert line(replay, "ruff") == f"ruff: would run: {why.FIRST}"

    test = project / "tests" / "test_clean.py"
    test.write_text(test.read_text() + "\n\ndef test_added() -> None:\n    pass\n")
    said = line(explain(devbox_cache, project, "test"), "pytest")
    assert said == "pytest: would run: tests/test_clean.py changed"
    edited = devbox("test", cwd=project)
    assert edited.tool("pytest")["why"] == ["tests/test_clean.py changed"]
    assert edited.tool("pytest")["cached"] is False

    # saved again unchanged: by content, nothing changed
    os.utime(test)
    assert "would replay" in line(explain(devbox_cache, project, "test"), "pytest")
    assert devbox("test", cwd=project).tool("pytest")["cached"] is True

    (project / "tests" / "test_fails.py").write_text("def test_fails() -> None:\n    assert 0\n")
    assert devbox("test", cwd=project).returncode == 1
    said = line(explain(devbox_cache, project, "test"), "pytest")
    assert said == f"pytest: would run: {why.FAILED}"
    assert devbox("test", cwd=project).tool("pytest")["why"] == [why.FAILED]

    pyproject = project / "pyproject.toml"
    nonce = uuid.uuid4().int % 10**9
    pyproject.write_text(pyproject.read_text() + f'packages = ["pluggy!=0.0.{nonce}"]\n')
    said = line(explain(devbox_cache, project, "test"), "pytest")
    assert said == f"pytest: would run: {why.FAILED}; pyproject.toml changed; {why.ENVIRONMENT}"
    ran = devbox("test", cwd=project)
    assert ran.tool("pytest")["why"] == [why.FAILED, "pyproject.toml changed", why.ENVIRONMENT]
