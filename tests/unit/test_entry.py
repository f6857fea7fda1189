"""The fast entry point answers --help and --version exactly as click would."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from devbox import __version__
from devbox.cli._help import HELP
from devbox.cli.app import cli
from devbox.cli.entry import render_help


def test_stored_help_is_clicks_help() -> None:
    assert render_help() == HELP, "regenerate: python -m devbox.cli.entry --regenerate-help"


def test_version_matches_click() -> None:
    result = CliRunner().invoke(cli, ["--version"], prog_name="devbox")
    assert result.output == f"devbox, version {__version__}\n"


def test_fast_paths_do_not_import_click() -> None:
    code = (
        "import sys; sys.argv = ['devbox', '--help']; from devbox.cli.entry import main; main(); "
        "assert 'click' not in sys.modules and 'rich' not in sys.modules"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"COLUMNS": "120"}
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == HELP


def test_narrow_terminals_get_clicks_own_rendering() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "devbox", "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "50"},
    )
    assert out.returncode == 0
    assert out.stdout != HELP
    assert max(len(line) for line in out.stdout.splitlines()) <= 50
