"""--codequality and the GitHub job summary from a real run against the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES

pytestmark = pytest.mark.engine

LINT_ERROR = FIXTURES / "lint_error"


def test_codequality_report_and_job_summary_from_a_real_lint_run(
    devbox: Any, tmp_path: Path
) -> None:
    quality = tmp_path / "gl-code-quality.json"
    summary = tmp_path / "step-summary.md"
    run = devbox(
        "lint",
        "--codequality",
        str(quality),
        "--format",
        "github",
        cwd=LINT_ERROR,
        env={
            "DEVBOX_LINT": "ruff,mypy",
            "CI_PROJECT_DIR": str(LINT_ERROR),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
    )
    assert run.returncode == 1, run.stderr
    issues = json.loads(quality.read_text())
    by_check = {i["check_name"]: i for i in issues}
    assert set(by_check) == {"ruff F401", "mypy return-value"}
    ruff = by_check["ruff F401"]
    assert ruff["location"] == {"path": "src/lintpkg/mod.py", "lines": {"begin": 1}}
    assert ruff["severity"] == "major" and "`os` imported but unused" in ruff["description"]
    assert by_check["mypy return-value"]["location"]["path"] == "src/lintpkg/typed.py"
    assert all(isinstance(i["fingerprint"], str) and i["fingerprint"] for i in issues)
    assert f"devbox: wrote {quality}" in run.stdout
    text = summary.read_text()
    assert text.startswith("## devbox: 2 of 2 tools did not pass\n")
    assert "src/lintpkg/mod.py:1" in text and "| ruff " in text
