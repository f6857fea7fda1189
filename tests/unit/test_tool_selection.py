"""Tools chosen on the command line (`devbox lint mypy`), arguments after `--`, and one
dependency environment for every command and subset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devbox.build.plan import make_plan
from devbox.build.session import Options
from devbox.cli import app as cli
from devbox.errors import ConfigError
from helpers import load_project, make_project

PROJECT = (
    '[project]\nname = "p"\nversion = "1"\n'
    '[tool.devbox]\nlint = ["ruff", "mypy"]\ntest = ["pytest"]\n'
)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def plan(root: Path, command: str, only: tuple[str, ...] = ()) -> Any:
    cfg, facts = load_project(root)
    return make_plan(cfg, facts, command, virtualenvs=[], only=only)  # type: ignore[arg-type]


def test_named_tools_run_alone_in_configured_order(tmp_path: Path) -> None:
    root = make_project(tmp_path, PROJECT)
    assert [t.name for t in plan(root, "lint", ("mypy",)).tools] == ["mypy"]
    assert [t.name for t in plan(root, "check", ("pytest", "ruff")).tools] == ["ruff", "pytest"]
    assert [t.name for t in plan(root, "check").tools] == ["ruff", "mypy", "pytest"]


@pytest.mark.parametrize(
    ("command", "name", "said"),
    [
        ("lint", "mpy", "no tool named 'mpy' to run. Did you mean 'mypy'?"),
        ("lint", "pytest", "'pytest' is a test tool: devbox test pytest, or devbox check pytest."),
        ("test", "ruff", "'ruff' is a lint tool: devbox lint ruff, or devbox check ruff."),
        (
            "check",
            "black",
            "no tool named 'black' to run. The tools of devbox check here: ruff, mypy, pytest",
        ),
    ],
)
def test_an_unknown_tool_is_a_config_error_saying_what_exists(
    tmp_path: Path, command: str, name: str, said: str
) -> None:
    root = make_project(tmp_path, PROJECT)
    with pytest.raises(ConfigError) as exc:
        plan(root, command, (name,))
    assert said in str(exc.value)
    assert exc.value.exit_code == 2


def test_an_empty_tool_list_is_an_error_not_zero_tools_passed(tmp_path: Path) -> None:
    root = make_project(
        tmp_path, '[project]\nname = "p"\nversion = "1"\n[tool.devbox]\nlint = []\n'
    )
    with pytest.raises(ConfigError, match="devbox lint: no tool to run: lint is empty"):
        plan(root, "lint")
    assert [t.name for t in plan(root, "check").tools] == ["pytest"]


def test_every_command_and_subset_installs_the_same_environment(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        PROJECT + '[tool.devbox.tools.mypy]\npackages = ["mypy==1.13.0", "types-toml"]\n',
    )
    plans = [
        plan(root, "lint"),
        plan(root, "test"),
        plan(root, "check"),
        plan(root, "lint", ("ruff",)),
        plan(root, "test", ("pytest",)),
    ]
    specs = {repr(p.install_spec()) for p in plans}
    assert len(specs) == 1
    assert {"mypy==1.13.0", "types-toml"} <= set(plans[1].requirements)


# --- the command line -----------------------------------------------------------------------------


def captured(monkeypatch: pytest.MonkeyPatch) -> list[Options]:
    seen: list[Options] = []

    def fake_run(opts: Options, env: object, console: object) -> Any:
        seen.append(opts)
        raise SystemExit(0)

    monkeypatch.setattr("devbox.commands.run.run", fake_run)
    return seen


def test_tools_before_dashes_and_pytest_arguments_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = captured(monkeypatch)
    root = make_project(tmp_path, PROJECT)
    run_main(["-C", str(root), "test", "pytest", "-q", "--", "-k", "slow", "--pythn"], capsys)
    run_main(["-C", str(root), "check", "ruff", "pytest", "--", "-x"], capsys)
    run_main(["-C", str(root), "lint", "mypy"], capsys)
    assert [(o.command, tuple(o.tools), tuple(o.extra_args), o.quiet) for o in seen] == [
        ("test", ("pytest",), ("-k", "slow", "--pythn"), True),
        ("check", ("ruff", "pytest"), ("-x",), False),
        ("lint", ("mypy",), (), False),
    ]


def test_a_devbox_option_typo_is_a_devbox_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = captured(monkeypatch)
    root = make_project(tmp_path, PROJECT)
    code, _, err = run_main(["-C", str(root), "test", "--pythn", "3.11"], capsys)
    assert code == 2 and not seen
    assert "No such option '--pythn'" in err and "'--python'?" in err
    assert "pytest's own options go after --: devbox test -- --pythn" in err
    code, _, err = run_main(["-C", str(root), "lint", "--", "--select", "E"], capsys)
    assert code == 2 and not seen
    assert "devbox lint passes no arguments to the linters" in err


# --- pinned default tools ---------------------------------------------------------------------


def test_default_linters_are_pinned_and_the_projects_own_declaration_wins(tmp_path: Path) -> None:
    from devbox import tools

    assert all("==" in p for n in ("ruff", "mypy", "black", "isort", "flake8", "pylint")
               for p in tools.BUILTIN[n].packages)  # fmt: skip
    root = make_project(tmp_path / "pinned", PROJECT)
    reqs = plan(root, "check").requirements
    assert tools.BUILTIN["ruff"].packages[0] in reqs and "pytest" in reqs
    declared = make_project(
        tmp_path / "declared",
        PROJECT.replace(
            "[tool.devbox]", '[dependency-groups]\ntest = ["ruff<0.5", "pytest"]\n[tool.devbox]'
        ),
    )
    reqs = plan(declared, "check").requirements
    assert "ruff<0.5" in reqs and not any(r.startswith("ruff==") for r in reqs)
    assert reqs.count("pytest") == 1


def test_a_tool_in_uv_lock_runs_the_locked_version(tmp_path: Path) -> None:
    lock = 'version = 1\n[[package]]\nname = "Ruff"\nversion = "0.4.0"\n'
    root = make_project(tmp_path, PROJECT + 'installer = "uv"\n', {"uv.lock": lock})
    reqs = plan(root, "check").requirements
    assert not any(r.startswith("ruff") for r in reqs)
    assert any(r.startswith("mypy==") for r in reqs)


def test_fix_and_lint_fix_reach_devbox_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Options, bool]] = []

    def fake_fix(opts: Options, env: object, console: object, *, diff: bool) -> int:
        seen.append((opts, diff))
        return 0

    monkeypatch.setattr("devbox.commands.fix.fix", fake_fix)
    root = make_project(tmp_path, PROJECT)
    assert run_main(["-C", str(root), "fix", "--diff", "ruff", "-p", "3.12"], capsys)[0] == 0
    assert run_main(["-C", str(root), "lint", "--fix", "-q"], capsys)[0] == 0
    (fix, diff), (lint_fix, diff2) = seen
    assert (fix.command, tuple(fix.tools), fix.cli["python"], diff) == (
        "lint",
        ("ruff",),
        "3.12",
        True,
    )
    assert lint_fix.quiet and not diff2
