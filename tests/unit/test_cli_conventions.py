"""The conventions of the tools users know: -p, -V, -v/-q/-C after the subcommand too,
--color on every command, whole help lines with exit codes, and a warning for unknown
DEVBOX_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from devbox import __version__
from devbox.build.session import Options
from devbox.cli import app as cli
from devbox.cli.errors import console
from devbox.config import unknown_env_vars
from helpers import load_config, make_project

PROJECT = '[project]\nname = "p"\nversion = "1"\n'


def captured(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Options, Any]]:
    seen: list[tuple[Options, Any]] = []

    def fake_run(opts: Options, env: object, con: Any) -> Any:
        seen.append((opts, con))
        raise SystemExit(0)

    monkeypatch.setattr("devbox.commands.run.run", fake_run)
    return seen


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli.cli, args, prog_name="devbox", catch_exceptions=False)


def test_short_options_and_options_after_the_subcommand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = captured(monkeypatch)
    root = make_project(tmp_path / "p", PROJECT)
    monkeypatch.chdir(tmp_path)
    invoke(["test", "-C", str(root), "-p", "3.12", "-v"])
    invoke(["-q", "-C", str(root), "lint", "--color", "never"])
    invoke(["-C", str(tmp_path), "check", "-C", str(root), "--color", "always"])
    (test, _), (lint, con2), (check, con3) = seen
    assert test.project_dir == root and test.cli["python"] == "3.12" and test.verbose
    assert lint.project_dir == root and lint.quiet and con2.no_color
    assert check.project_dir == root  # the one after the subcommand wins
    assert con3.is_terminal and not con3.no_color
    assert invoke(["-V"]).output == f"devbox, version {__version__}\n"


@pytest.mark.parametrize("args", [["--help"], ["test", "--help"], ["check", "--help"]])
def test_help_has_whole_lines_and_the_exit_codes(args: list[str]) -> None:
    out = CliRunner().invoke(cli.cli, args, prog_name="devbox", terminal_width=80).output
    # no help line is cut ("..." ends a cut one; usage lines have "[ARGS]..." / "[TOOL]...")
    assert not [line for line in out.splitlines() if line.endswith("...") and "]..." not in line]
    assert "Exit codes: 0 every tool passed; 1 a tool failed; 2 bad configuration or" in out


@pytest.mark.parametrize(
    "command",
    [
        ["dockerfile"],
        ["doctor"],
        ["init", "--dry-run"],
        ["shell"],
        ["base", "build"],
        ["editor", "vscode"],
    ],
)
def test_every_command_takes_color_and_project(command: list[str]) -> None:
    out = invoke([*command, "--help"]).output
    assert "--color [auto|always|never]" in out and "-C, --project" in out


def test_color_never_and_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert console(color="never").no_color
    assert console(no_color=True, color="always").no_color
    monkeypatch.setenv("NO_COLOR", "1")
    assert console().no_color and not console(color="always").no_color


def test_unknown_devbox_variables_are_warned_of_with_the_closest_name(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        PROJECT + '[tool.devbox]\nsecret-env = ["DEVBOX_API_TOKEN"]\n'
        'index-url = "https://u:${DEVBOX_INDEX_PASS}@example.invalid/simple"\n',
    )
    env = {
        "DEVBOX_PYTON": "3.12",
        "DEVBOX_CACHE_DIR": "/tmp/x",
        "DEVBOX_PYTHON": "3.12",
        "DEVBOX_API_TOKEN": "t",
        "DEVBOX_INDEX_PASS": "p",
        "DEVBOX_ZZZ": "1",
        "PATH": "/bin",
    }
    cfg = load_config(root, env=env)
    lines = unknown_env_vars(env, cfg, (root / "pyproject.toml").read_text())
    assert lines == [
        "devbox: warning: DEVBOX_PYTON is not a variable devbox reads (did you mean "
        "DEVBOX_PYTHON?); it is ignored. The variables: docs/configuration.md, Environment "
        "variables.",
        "devbox: warning: DEVBOX_ZZZ is not a variable devbox reads; it is ignored. The "
        "variables: docs/configuration.md, Environment variables.",
    ]
