"""Console entry point.

``devbox --help`` and ``devbox --version`` are answered here without importing click, rich or
the rest of devbox: they are what a new user and a shell completion run most, and importing
click alone costs more than Python's own start-up. Everything else goes to :mod:`devbox.cli.app.app`.
The help text is click's own, rendered at 80 columns into :mod:`devbox.cli.app._help`; a test keeps
the two identical (regenerate with ``python -m devbox.cli.entry --regenerate-help``).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    args = sys.argv[1:]
    if args in (["--version"], ["-V"]):
        from devbox import __version__

        sys.stdout.write(f"devbox, version {__version__}\n")
        return
    if args in (["--help"], ["-h"]) and _columns() >= 80:
        from devbox.cli._help import HELP

        sys.stdout.write(HELP)
        return
    from devbox.cli.app import main as cli_main

    cli_main()


def _columns() -> int:
    # click renders help at min(terminal width, 80): the stored text is the 80-column one.
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


def render_help() -> str:
    from click.testing import CliRunner

    from devbox.cli.app import cli

    result = CliRunner().invoke(cli, ["--help"], prog_name="devbox", terminal_width=80)
    return result.output


if __name__ == "__main__" and sys.argv[1:] == ["--regenerate-help"]:
    from pathlib import Path

    target = Path(__file__).with_name("_help.py")
    target.write_text(
        '"""`devbox --help`, as click renders it at 80 columns (generated: see entry.py)."""\n\n'
        f"HELP = {render_help()!r}\n",
        encoding="utf-8",
    )
