"""`devbox test --affected` (issue 18), against the real engine: the whole suite first, then
only the tests a one-file edit affects (a strict subset), a failure introduced there found,
last failures re-run with the next edit, and the whole suite again when a file coverage
cannot follow changes (a data file the tests read)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers import make_project

pytestmark = pytest.mark.engine

CALC = """\
def add(a, b):
    return a + b


def mul(a, b):
    return a * b
"""


def project(tmp_path: Path) -> Path:
    nonce = uuid.uuid4().hex[:8]
    return make_project(
        tmp_path / f"affected-{nonce}",
        f"""\
        [project]
        name = "calc{nonce}"
        version = "0.1.0"

        [tool.devbox]
        python = "3.11"
        """,
        {
            "calc.py": CALC,
            "run-id.txt": nonce,
            "data.txt": "42\n",
            "tests/test_add.py": "import calc\n\n\ndef test_add():\n    assert calc.add(2, 3) == 5\n",
            "tests/test_mul.py": (
                "import calc\n\n\ndef test_mul():\n    assert calc.mul(2, 3) == 6\n\n\n"
                "def test_mul_zero():\n    assert calc.mul(0, 3) == 0\n"
            ),
            "tests/test_data.py": (
                "from pathlib import Path\n\n\ndef test_data():\n"
                "    assert Path('data.txt').read_text() == '42\\n'\n"
            ),
        },
    )


def counts(run: Any) -> tuple[int, int]:
    tests = run.tool("pytest")["tests"]
    return tests["passed"], tests["failed"]


def test_affected_runs_a_strict_subset_and_finds_the_failure(devbox: Any, tmp_path: Path) -> None:
    root = project(tmp_path)
    first = devbox("test", "--affected", cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.tool("pytest")["affected"] == {
        "selected": False,
        "reason": "no earlier --affected run here",
    }
    assert counts(first) == (4, 0)
    assert "devbox: pytest --affected: the whole suite ran: no earlier --affected run" in (
        first.stdout
    )

    calc = root / "calc.py"
    calc.write_text(CALC.replace("return a * b", "return b * a"))
    edited = devbox("test", "--affected", cwd=root)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    assert edited.tool("pytest")["affected"] == {"selected": True, "reason": ""}
    assert counts(edited) == (2, 0)  # test_mul's two: a strict subset of the four
    assert "only the tests the changes affect ran" in edited.stdout

    # a failure introduced in add(): found, and only its test runs
    calc.write_text(CALC.replace("return a * b", "return b * a").replace("a + b", "a - b"))
    broken = devbox("test", "--affected", cwd=root)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert counts(broken) == (0, 1)
    assert "test_add" in broken.stdout

    # the next edit elsewhere: the last failure runs again with the affected tests
    calc.write_text(CALC.replace("a + b", "a - b"))
    again = devbox("test", "--affected", cwd=root)
    assert again.returncode == 1, again.stdout + again.stderr
    assert counts(again) == (2, 1)

    # a plain run between two --affected ones changes nothing of their record
    assert devbox("test", cwd=root).returncode == 1

    # a data file changed: coverage cannot follow it, so the whole suite runs
    calc.write_text(CALC)
    (root / "data.txt").write_text("43\n")
    data = devbox("test", "--affected", cwd=root)
    assert data.returncode == 1, data.stdout + data.stderr
    selection = data.tool("pytest")["affected"]
    assert selection["selected"] is False
    assert selection["reason"].startswith("data.txt changed, which coverage cannot follow")
    assert counts(data) == (3, 1)  # test_data fails: a selection would have missed it


def test_lint_refuses_affected(devbox: Any, tmp_path: Path) -> None:
    root = project(tmp_path)
    run = devbox("lint", "--affected", cwd=root)
    assert run.returncode == 2
    assert "--affected picks tests: devbox test --affected" in run.stderr
