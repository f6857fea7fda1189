"""Python version matrix against the real engine, with both local images (3.11 and 3.13)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES

pytestmark = pytest.mark.engine

VERSIONS = FIXTURES / "versions"


def statuses(run: Any) -> list[tuple[str, str, str]]:
    return [(t["name"], t["python"], t["status"]) for t in run.report["tools"]]


def test_matrix_reports_each_version(devbox: Any, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = devbox("check", "--junit-xml", str(junit), cwd=VERSIONS)
    assert run.returncode == 1, run.stdout + run.stderr
    # ruff is interpreter-blind: once, on the first version; pytest once per version.
    assert statuses(run) == [
        ("ruff", "3.11", "passed"),
        ("pytest", "3.11", "passed"),
        ("pytest", "3.13", "failed"),
    ]
    assert run.tool_at("pytest", "3.11")["tests"] == {
        "passed": 2,
        "failed": 0,
        "skipped": 0,
        "errors": 0,
    }
    assert run.tool_at("pytest", "3.13")["tests"] == {
        "passed": 1,
        "failed": 1,
        "skipped": 0,
        "errors": 0,
    }
    assert [e["python"] for e in run.report["environments"]] == ["3.11", "3.13"]
    assert all(e["ok"] for e in run.report["environments"])
    # failures grouped by version: only 3.13 failed
    assert "== Python 3.13 ==" in run.stdout and "== Python 3.11 ==" not in run.stdout
    assert "AssertionError: running on 3.13" in run.stdout
    assert "devbox: failed: pytest [3.13]" in run.stdout

    suites = {s.get("name"): s for s in ET.parse(junit).getroot().findall("testsuite")}
    assert set(suites) == {"ruff[3.11]", "pytest[3.11]", "pytest[3.13]"}
    assert suites["pytest[3.13]"].get("failures") == "1"
    assert suites["pytest[3.11]"].get("failures") == "0"
    assert len(suites["pytest[3.13]"].findall("testcase")) == 2


def test_all_pythons_uses_requires_python_and_the_candidates(devbox: Any) -> None:
    # requires-python >= 3.11 drops 3.10; python = [...] in the file is ignored.
    run = devbox(
        "test", "--all-pythons", cwd=VERSIONS, env={"DEVBOX_PYTHON_CANDIDATES": "3.10,3.11,3.13"}
    )
    assert statuses(run) == [("pytest", "3.11", "passed"), ("pytest", "3.13", "failed")]


def test_a_missing_base_image_is_that_versions_error_only(devbox: Any) -> None:
    # There is no local 3.12 image and no registry: 3.12 cannot be had, 3.11 still runs.
    run = devbox("check", cwd=FIXTURES / "clean", env={"DEVBOX_PYTHON": "3.11,3.12"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert statuses(run) == [("ruff", "3.11", "passed"), ("pytest", "3.11", "passed")]
    envs = run.report["environments"]
    assert [(e["python"], e["ok"]) for e in envs] == [("3.11", True), ("3.12", False)]
    assert "the base image localhost/devbox-test/python:3.12 is not available" in envs[1]["error"]
    assert "environment errors: Python 3.12" in run.stdout


def test_a_failed_install_is_that_versions_error_only(devbox: Any) -> None:
    env = {"DEVBOX_PACKAGES": "devbox-no-such-distribution-for-tests; python_version >= '3.13'"}
    run = devbox("test", cwd=VERSIONS, env=env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert statuses(run) == [("pytest", "3.11", "passed"), ("pytest", "3.13", "error")]
    assert [e["ok"] for e in run.report["environments"]] == [True, False]
    assert "installing the dependencies failed (Python 3.13" in run.stdout
    assert "devbox-no-such-distribution-for-tests" in run.stdout  # the installer's own words


def test_every_version_failing_to_install_exits_3(devbox: Any) -> None:
    env = {"DEVBOX_PACKAGES": "devbox-no-such-distribution-for-tests"}
    run = devbox("test", cwd=VERSIONS, env=env)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "installing the dependencies failed (Python 3.11" in run.stderr
