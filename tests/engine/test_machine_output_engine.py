"""Findings from the tools' machine-readable output, on real runs in the engine.

The fixture sets what makes text output unreadable: mypy's ``pretty = true`` (the message
wraps, the code goes to a line of its own) and pytest's ``--tb=no`` (no location at all).
ruff's and mypy's JSON, pylint's json2 and pytest's JUnit XML still give every finding its
code, line and column, in the GitHub annotations, the Code Quality report and the JUnit file,
while the console shows each tool's own text as the project configured it.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES

pytestmark = pytest.mark.engine

MACHINE = FIXTURES / "machine_findings"
MYPY_MESSAGE = 'Incompatible return value type (got "int", expected "str")'


@pytest.mark.parametrize("pretty", [True, False])
def test_findings_of_ruff_mypy_pylint_and_pytest_come_from_their_own_reports(
    devbox: Any, tmp_path: Path, pretty: bool
) -> None:
    project = tmp_path / f"machine-{'pretty' if pretty else 'plain'}"
    shutil.copytree(MACHINE, project)
    if not pretty:
        pyproject = project / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace("pretty = true", "pretty = false"))
    quality = tmp_path / "quality.json"
    junit_path = tmp_path / "junit.xml"
    run = devbox(
        "check",
        "--format",
        "github",
        "--codequality",
        str(quality),
        "--junit-xml",
        str(junit_path),
        cwd=project,
        env={"GITHUB_WORKSPACE": str(project), "CI_PROJECT_DIR": str(project)},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert {t["name"]: t["status"] for t in run.report["tools"]} == {
        "ruff": "failed",
        "mypy": "failed",
        "pylint": "failed",
        "pytest": "failed",
    }

    # GitHub: every finding with its place; pytest's at the test, although --tb=no printed none
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    annotations += [line for line in run.stdout.splitlines() if line.startswith("::warning ")]
    assert (
        "::error file=src/mfpkg/core.py,line=1,col=8,title=ruff [3.11]::`os` imported but unused [F401]"
        in annotations
    )
    assert (
        f"::error file=src/mfpkg/core.py,line=6,col=12,title=mypy [3.11]::{MYPY_MESSAGE} [return-value]"
        in annotations
    )
    assert (
        "::warning file=src/mfpkg/core.py,line=1,col=1,title=pylint [3.11]::Unused import os (unused-import) [W0611]"
        in annotations
    )
    (pytest_line,) = [a for a in annotations if "title=pytest" in a]
    assert pytest_line.startswith(
        "::error file=tests/test_core.py,line=4,title=pytest [3.11]::test_scale_fails_with_tb_no: "
        "AssertionError: scale(2) is not 7"
    )  # fmt: skip

    # GitLab: the same findings, each with its code
    issues = json.loads(quality.read_text())
    assert {i["check_name"]: i["location"]["lines"]["begin"] for i in issues} == {
        "ruff F401": 1,
        "ruff F841": 5,
        "mypy return-value": 6,
        "pylint W0611": 1,
    }
    mypy_issue = next(i for i in issues if i["check_name"] == "mypy return-value")
    assert mypy_issue["description"] == f"{MYPY_MESSAGE} [return-value]"

    # JUnit: a case per finding, named by place and code; pytest's own cases for pytest
    root = ET.parse(junit_path).getroot()
    cases = {
        suite.get("name"): [c.get("name") for c in suite.iter("testcase")]
        for suite in root.iter("testsuite")
    }
    assert cases["mypy[3.11]"] == ["src/mfpkg/core.py:6:12 return-value"]
    assert cases["pylint[3.11]"] == ["src/mfpkg/core.py:1:1 W0611"]
    assert cases["pytest[3.11]"] == ["test_scale_fails_with_tb_no", "test_scale_passes"]

    # the console: each tool's text as configured (mypy's pretty output, pytest's --tb=no)
    assert ("        return count * 2" in run.stdout) is pretty
    assert "def test_scale_fails_with_tb_no" not in run.stdout
    assert "src/mfpkg/core.py:1:8: F401 [*] `os` imported but unused" in run.stdout
    # devbox's own JSON runs print nothing of theirs, and leave no container path
    assert '"filename"' not in run.stdout and "/devbox/out" not in run.stdout
