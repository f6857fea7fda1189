"""devbox fix against the real engine, on tests/fixtures/fixable (an unused import, F401, and
a badly formatted file): the fixes are written and nothing else changes; --diff prints them
and writes nothing; a file edited between the snapshot the fixers saw and the writing stops
everything."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from conftest import Run, cli_env
from helpers import copy_fixture

pytestmark = pytest.mark.engine

#: ``devbox fix`` until the command line has it: the same function, the same console
DRIVER = """
import os, sys
from pathlib import Path
from devbox.build.session import Options
from devbox.cli.errors import console
from devbox.commands.fix import fix
from devbox.errors import DevboxError
try:
    rc = fix(Options(Path.cwd(), "lint", {}), os.environ, console(), diff="--diff" in sys.argv)
except DevboxError as exc:
    print("devbox: error:", exc.message, exc.detail, file=sys.stderr)
    rc = exc.exit_code
sys.exit(rc)
"""

FIXED_IMPORTS = '''"""An unused import: ruff check --fix removes it."""


def greet(name: str) -> str:
    return "hello " + name
'''
FIXED_LAYOUT = '''"""Badly formatted: ruff format rewrites it."""


def table():
    return {"a": 1, "b": 2}
'''


def _has_fix_command() -> bool:
    from devbox.cli.app import cli

    return "fix" in getattr(cli, "commands", {})


def run_fix(devbox_cache: Path, project: Path, *args: str) -> Run:
    if _has_fix_command():
        argv = [sys.executable, "-m", "devbox", "fix", *args]
    else:
        argv = [sys.executable, "-c", DRIVER, *args]
    proc = subprocess.run(
        argv,
        cwd=project,
        env=cli_env(devbox_cache, project),
        capture_output=True,
        text=True,
        timeout=900,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, None)


def hashes(root: Path) -> dict[str, str]:
    """Every file and directory below ``root``: its mode and content."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        body = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[path.relative_to(root).as_posix()] = f"{st.st_mode:o} {body}"
    return found


def test_fix_writes_the_lint_and_format_fixes_and_nothing_else(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    project = copy_fixture("fixable", tmp_path)
    before = hashes(project)
    run = run_fix(devbox_cache, project)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "devbox: fixed src/fixable/imports.py (ruff, ruff-format)" in lines
    assert "devbox: fixed src/fixable/layout.py (ruff-format)" in lines
    assert (project / "src/fixable/imports.py").read_text() == FIXED_IMPORTS
    assert (project / "src/fixable/layout.py").read_text() == FIXED_LAYOUT
    after = hashes(project)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed == {"src/fixable/imports.py", "src/fixable/layout.py"}
    assert after["src/fixable/layout.py"].split()[0] == before["src/fixable/layout.py"].split()[0]
    # the linters pass now, in the environment fix used (one environment for every command)
    lint = devbox("lint", cwd=project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.report is not None
    assert [e["cached"] for e in lint.report["environments"]] == [True]
    again = run_fix(devbox_cache, project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "devbox: nothing to fix" in again.stdout.splitlines()
    assert hashes(project) == after


def test_fix_diff_prints_the_patch_and_writes_nothing(devbox_cache: Path, tmp_path: Path) -> None:
    project = copy_fixture("fixable", tmp_path)
    before = hashes(project)
    run = run_fix(devbox_cache, project, "--diff")
    assert run.returncode == 1, run.stdout + run.stderr
    assert hashes(project) == before
    assert "devbox: fixed" not in run.stdout
    patch = run.stdout[run.stdout.index("--- a/") :]
    assert "--- a/src/fixable/imports.py\n+++ b/src/fixable/imports.py\n" in patch
    assert "-import os\n" in patch
    assert "-def table( ):\n" in patch and "+def table():\n" in patch
    # the patch is the fix: devbox fix --diff | git apply gives what devbox fix writes
    applied = subprocess.run(
        ["git", "apply", "-"], cwd=project, input=run.stdout, text=True, capture_output=True
    )
    assert applied.returncode == 0, applied.stderr
    assert (project / "src/fixable/imports.py").read_text() == FIXED_IMPORTS
    assert (project / "src/fixable/layout.py").read_text() == FIXED_LAYOUT


def test_a_file_edited_while_the_fixers_ran_stops_the_fix_and_nothing_is_written(
    devbox_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build runs for real; the user's edit lands after the tree was sent and the
    fixers ran, before devbox writes (the step between them is wrapped to make the edit)."""
    from devbox.build.session import Options
    from devbox.commands import fix as fix_mod

    project = copy_fixture("fixable", tmp_path)
    layout = project / "src/fixable/layout.py"
    real = fix_mod.run_fixers

    def run_then_edit(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        layout.write_text(layout.read_text() + "# the user's edit\n")
        return outcome

    monkeypatch.setattr(fix_mod, "run_fixers", run_then_edit)
    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None)
    env = cli_env(devbox_cache, project)
    rc = fix_mod.fix(Options(project, "lint", {}), env, console, diff=False)
    edited = hashes(project)
    out = buf.getvalue()
    assert rc == 1, out
    assert "devbox: src/fixable/layout.py: changed since the fixers saw it" in out
    assert "nothing was written" in out
    assert "devbox: fixed" not in out
    # imports.py, unchanged meanwhile, is not written either; layout.py keeps the user's edit
    assert (project / "src/fixable/imports.py").read_text().count("import os") == 1
    assert layout.read_text().endswith("'b' :2 }\n# the user's edit\n")
    assert hashes(project) == edited
