"""The tool's own copy of the tree (issue 17), against the real engine.

A tool step works in a copy of the project that outlives it (a cache mount) and is brought
up to date from the tree as sent, copying only what changed. Whatever a tool did to its copy
must never reach the next run, and every change to the tree must reach it: a test that writes
into the tree, one that edits a source file, a file deleted in the tree, a file the tree gains.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine

LEFTOVERS = """\
from pathlib import Path

HERE = Path(__file__).parent


def test_the_tree_is_as_sent() -> None:
    # what this test did last time is gone, whatever it was
    assert not (HERE / "leftover.txt").exists()
    assert (HERE / "data.txt").read_text() == "original\\n"
    assert not (HERE.parent / "build").exists()


def test_writes_into_its_copy() -> None:
    (HERE / "leftover.txt").write_text("written by a test")
    (HERE / "data.txt").write_text("changed\\n")  # same size, in place
    (HERE.parent / "build" / "lib").mkdir(parents=True)
"""


def test_what_a_tool_wrote_is_gone_and_every_change_arrives(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    tests = project / "tests"
    (tests / "data.txt").write_text("original\n")
    (tests / "test_leftovers.py").write_text(LEFTOVERS)
    first = devbox("test", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    counted = first.tool("pytest")["tests"]["passed"]

    # the order of the two tests does not matter: a second run in the same copy sees none of it
    for i in range(3):
        (tests / f"test_added_{i}.py").write_text(f"def test_added_{i}() -> None:\n    pass\n")
        run = devbox("test", cwd=project)
        assert run.returncode == 0, (i, run.stdout + run.stderr)
        assert run.tool("pytest")["cached"] is False
        assert run.tool("pytest")["tests"]["passed"] == counted + i + 1, i

    # a file deleted in the tree is gone from the copy too
    for i in range(3):
        (tests / f"test_added_{i}.py").unlink()
    run = devbox("test", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"]["passed"] == counted

    # and nothing of it reached the user's tree
    assert not (tests / "leftover.txt").exists() and not (project / "build").exists()
    assert (tests / "data.txt").read_text() == "original\n"


def test_two_tools_and_two_runs_do_not_share_a_copy(devbox: Any, tmp_path: Path) -> None:
    """ruff's copy and pytest's are separate: a file pytest writes is never linted."""
    project = copy_fixture("clean", tmp_path)
    (project / "tests" / "test_writer.py").write_text(
        "from pathlib import Path\n\n\n"
        "def test_writes_bad_python() -> None:\n"
        "    (Path(__file__).parent / 'generated_bad.py').write_text('import os\\n')\n"
    )
    first = devbox("check", cwd=project, env={"DEVBOX_LINT": "ruff"})
    assert first.returncode == 0, first.stdout + first.stderr
    (project / "tests" / "test_writer.py").write_text(
        (project / "tests" / "test_writer.py").read_text() + "\n"
    )
    again = devbox("check", cwd=project, env={"DEVBOX_LINT": "ruff"})
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.tool("ruff")["cached"] is False
