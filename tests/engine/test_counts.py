"""Counts users can compare (issue 14): a devbox test run reports what native pytest reports.

The fixture (tests/fixtures/xfail) has one test of each outcome pytest's summary line names:
pytest's own line for it is "2 failed, 2 passed, 1 skipped, 3 xfailed, 1 xpassed, 1 error".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from devbox.results.model import parse_junit
from helpers import copy_fixture

pytestmark = pytest.mark.engine

KEYS = ("passed", "failed", "skipped", "errors", "xfailed", "xpassed")


def full(counts: dict[str, Any]) -> dict[str, int]:
    """Every count, 0 for those a report leaves out."""
    return {k: int(counts.get(k, 0)) for k in KEYS}


def native_pytest(project: Path, junit: Path) -> dict[str, int]:
    """Run pytest natively on ``project``; the counts of its own summary line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DEVBOX_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    said = {word: int(n) for n, word in re.findall(r"(\d+) ([a-z]+)", line)}
    said["errors"] = said.pop("error", 0) + said.pop("errors", 0)
    return full(said)


def test_report_counts_equal_native_pytest(devbox: Any, tmp_path: Path) -> None:
    native_copy = copy_fixture("xfail", tmp_path, fresh=False, dirname="native")
    junit = tmp_path / "native.xml"
    said = native_pytest(native_copy, junit)
    assert said == {
        "passed": 2, "failed": 2, "skipped": 1, "errors": 1, "xfailed": 3, "xpassed": 1,
    }  # fmt: skip
    native = parse_junit(junit)
    assert native is not None

    run = devbox("test", cwd=copy_fixture("xfail", tmp_path))
    assert run.returncode == 1, run.stdout + run.stderr
    reported = run.tool("pytest")["tests"]

    # What pytest's summary line says, except the non-strict xpass: pytest's JUnit XML writes
    # it as a plain passing case, so from the XML it can only count as passed. (The strict
    # xpass is a <failure> there, and pytest's line counts it failed too.)
    from_xml = said | {"passed": said["passed"] + said["xpassed"], "xpassed": 0}
    assert full(reported) == from_xml
    # native pytest's XML read the same way
    assert full(reported) == full(asdict(native))
    # xfailed is reported; xpassed, 0 here, is left out
    assert set(reported) == {"passed", "failed", "skipped", "errors", "xfailed"}
    # the summary's tests column, in short words (the long form would be wider than 35)
    summary = next(line for line in run.stdout.splitlines() if line.startswith(" pytest "))
    assert summary.rstrip().endswith("3 pass, 2 fail, 1 skip, 1 err, 3 xfail"), run.stdout
