"""A test run that still fails for a reason a setting fixes says what to set (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine

HINT = (
    "devbox: six is in the [project.optional-dependencies] extra-deps extra: set "
    'DEVBOX_EXTRAS=extra-deps or extras = ["extra-deps"]'
)


def test_a_module_only_an_extra_provides_names_that_extra(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("hint_extra", tmp_path)
    run = devbox("test", cwd=project, env={"DEVBOX_PYTHON": "3.11"})
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "devbox: test dependencies" not in out  # not a conventional name: nothing found
    assert HINT in out.splitlines(), out
    # after the failing output, before the summary
    assert out.index("No module named 'six'") < out.index(HINT) < out.index("devbox: failed:")
    assert run.tool("pytest")["hints"] == [HINT]

    run = devbox("test", cwd=project, env={"DEVBOX_PYTHON": "3.11", "DEVBOX_EXTRAS": "extra-deps"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "devbox: six" not in run.stdout + run.stderr
    assert "hints" not in run.tool("pytest")
