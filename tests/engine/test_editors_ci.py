"""Editor and CI surfaces on real devbox output (from runs against the engine, not strings)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from devbox.commands import editor

pytestmark = pytest.mark.engine

LINT_ERROR = FIXTURES / "lint_error"


def matches(regexp: str, text: str) -> list[re.Match[str]]:
    pattern = re.compile(regexp, re.ASCII)
    return [m for line in text.splitlines() if (m := pattern.match(line))]


def test_problem_matchers_parse_devbox_lint_output(devbox: Any) -> None:
    run = devbox("lint", cwd=LINT_ERROR, env={"DEVBOX_LINT": "ruff,flake8,mypy"})
    assert run.returncode == 1, run.stdout + run.stderr
    lint = matches(editor.LINT_REGEXP, run.stdout)
    found = {(m.group(1), m.group(2)) for m in lint}
    assert ("src/lintpkg/mod.py", "1") in found  # ruff F401 and flake8 F401
    assert any("F401" in m.group(0) for m in lint)
    mypy = matches(editor.MYPY_REGEXP, run.stdout)
    assert [(m.group(1), m.group(2)) for m in mypy] == [("src/lintpkg/typed.py", "2")]
    for m in lint + mypy:
        assert (LINT_ERROR / m.group(1)).is_file()  # every matched path exists on the host


def test_problem_matcher_parses_devbox_test_output(devbox: Any) -> None:
    run = devbox("test", cwd=FIXTURES / "failing_test")
    assert run.returncode == 1
    found = [(m.group(1), m.group(2)) for m in matches(editor.PYTEST_REGEXP, run.stdout)]
    assert ("tests/test_numbers.py", "13") in found


def test_github_annotations_for_ruff_and_mypy(devbox: Any) -> None:
    run = devbox("lint", cwd=LINT_ERROR, env={"DEVBOX_LINT": "ruff,mypy", "GITHUB_ACTIONS": "true"})
    assert run.returncode == 1
    lines = [line for line in run.stdout.splitlines() if line.startswith("::")]
    assert (
        "::error file=src/lintpkg/mod.py,line=1,col=8,title=ruff [3.11]::`os` imported but unused [F401]"
        in lines
    )
    mypy = [line for line in lines if "title=mypy [3.11]" in line]
    assert len(mypy) == 1 and mypy[0].startswith("::error file=src/lintpkg/typed.py,line=2,")
    assert "Incompatible return value type" in mypy[0]
    plain = devbox(
        "lint",
        "--format",
        "text",
        cwd=LINT_ERROR,
        env={"DEVBOX_LINT": "ruff", "GITHUB_ACTIONS": "true"},
    )
    assert not [line for line in plain.stdout.splitlines() if line.startswith("::")]


def test_junit_counts_per_tool(devbox: Any, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = devbox(
        "check", "--junit-xml", str(junit), cwd=LINT_ERROR, env={"DEVBOX_LINT": "ruff,mypy"}
    )
    assert run.returncode == 1
    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"ruff[3.11]", "mypy[3.11]", "pytest[3.11]"}
    assert (suites["ruff[3.11]"].get("tests"), suites["ruff[3.11]"].get("failures")) == ("1", "1")
    assert suites["ruff[3.11]"].find("testcase").get("name") == "src/lintpkg/mod.py:1:8 F401"  # type: ignore[union-attr]
    assert (suites["mypy[3.11]"].get("tests"), suites["mypy[3.11]"].get("failures")) == ("1", "1")
    assert (suites["pytest[3.11]"].get("tests"), suites["pytest[3.11]"].get("failures")) == (
        "1",
        "0",
    )
    assert root.get("failures") == "2"


def test_editor_vscode_writes_and_merges_tasks(devbox: Any, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "clean", project)
    (project / ".vscode").mkdir()
    mine = '{\n  // my own build task\n  "version": "2.0.0",\n  "tasks": [\n    {"label": "build docs", "type": "shell", "command": "make docs"},\n  ],\n}\n'
    (project / ".vscode" / "tasks.json").write_text(mine)
    dry = devbox("editor", "vscode", "--dry-run", cwd=project, report=False)
    assert dry.returncode == 0 and '"devbox: lint"' in dry.stdout
    assert (project / ".vscode" / "tasks.json").read_text() == mine  # dry run wrote nothing
    run = devbox("editor", "vscode", cwd=project, report=False)
    assert run.returncode == 0, run.stderr
    text = (project / ".vscode" / "tasks.json").read_text()
    assert "// my own build task" in text and '"build docs"' in text
    for label in ("devbox: lint", "devbox: test", "devbox: ruff", "devbox: pytest"):
        assert f'"{label}"' in text
    again = devbox("editor", "vscode", cwd=project, report=False)
    assert "is up to date" in again.stdout
