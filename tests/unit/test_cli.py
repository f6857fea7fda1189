"""The CLI entry point without an engine: exit codes, errors without tracebacks, colors."""

from __future__ import annotations

from pathlib import Path

import pytest

from devbox import __version__
from devbox.cli import app as cli
from helpers import make_project


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


#: the ``[project]`` table the projects here start with
PROJECT = '[project]\nname = "p"\nversion = "1"\n'


def test_config_error_is_one_paragraph_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_project(tmp_path, PROJECT + "[tool.devbox]\ntest = ['pytset']\n")
    code, _, err = run_main(["-C", str(root), "test"], capsys)
    assert code == 2
    assert (
        err.startswith("devbox: error: ")
        and "unknown tool 'pytset' (did you mean 'pytest'?)" in err
    )
    assert "Traceback" not in err


def test_debug_adds_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path, PROJECT + "[tool.devbox]\nlintt = []\n")
    code, _, err = run_main(["--debug", "-C", str(root), "lint"], capsys)
    assert code == 2 and "Traceback" in err and "ConfigError" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["lint", "--no-such-option"], capsys)
    assert code == 2 and "No such option" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["--version"], capsys)
    assert (code, out) == (0, f"devbox, version {__version__}\n")


def test_dockerfile_needs_no_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path, PROJECT + "[tool.devbox]\npython = ['3.11', '3.13']\n")
    code, out, _ = run_main(["-C", str(root), "dockerfile", "--for", "test"], capsys)
    assert code == 0
    assert (
        "FROM python:3.11-slim AS test-base-3.11" in out
        and "FROM python:3.13-slim AS test-base-3.13" in out
    )
    code, out, _ = run_main(["-C", str(root), "dockerfile", "--ignore"], capsys)
    assert code == 0 and ".git\n" in out


@pytest.mark.parametrize(
    ("flag", "env", "colored"),
    [(False, {}, True), (True, {}, False), (False, {"NO_COLOR": "1"}, False)],
)
def test_no_color_flag_and_variable(
    monkeypatch: pytest.MonkeyPatch, flag: bool, env: dict[str, str], colored: bool
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert cli._console(no_color=flag).no_color is not colored


def test_a_crash_writes_a_log_for_the_bug_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVBOX_CACHE_DIR", str(tmp_path / "cache"))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("devbox.commands.run.run", boom)
    root = make_project(tmp_path / "p", PROJECT)
    code, _, err = run_main(["-C", str(root), "lint"], capsys)
    assert code == 70
    assert "devbox: internal error: RuntimeError: simulated bug." in err and "Traceback" not in err
    (log,) = (tmp_path / "cache" / "crash").glob("crash-*.log")
    assert str(log) in err
    text = log.read_text()
    assert (
        "RuntimeError: simulated bug" in text
        and "command: devbox -C" in text
        and "Traceback" in text
    )


def test_init_in_a_subdirectory_writes_the_projects_pyproject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 14: init walks up to the project root like every other command
    root = make_project(tmp_path / "proj", PROJECT, {"src/pkg/__init__.py": "", "tests/": ""})
    monkeypatch.chdir(root / "tests")
    code, out, _ = run_main(["init"], capsys)
    assert code == 0, out
    assert "[tool.devbox]" in (root / "pyproject.toml").read_text()
    assert not (root / "tests" / "pyproject.toml").exists()
