"""Time limits (issue 13): the `timeout` keys and option, the step's process handling (a tool
that leaves children holding its output, a tool past its limit) and the `timeout` status in
every report."""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from devbox._container import run as step
from devbox.build import contract
from devbox.build.dockerfile import render, tool_spec
from devbox.build.plan import make_plan, tool_timeout
from devbox.cli import options
from devbox.config.project import inspect_project
from devbox.errors import ConfigError
from devbox.report import junit
from devbox.report.console import print_failures, print_summary
from devbox.report.github import github_annotations
from devbox.report.json_report import write as write_json
from devbox.results import model, progress
from devbox.results.model import RunResult, Status
from helpers import devbox_pyproject, load_config, make_project, tool_result, tool_run

# --- configuration ------------------------------------------------------------------------


def _tools(**timeouts: object) -> dict[str, Any]:
    return {name: {"command": [name], "timeout": t} for name, t in timeouts.items()}


@pytest.mark.parametrize("value", [300, 0.5, 86400, 1])
def test_a_timeout_is_a_positive_number_of_seconds(tmp_path: Path, value: float) -> None:
    cfg = load_config(tmp_path, devbox_pyproject({"timeout": value, "tools": _tools(t=value)}))
    assert cfg.timeout == float(value) and isinstance(cfg.timeout, float)
    assert cfg.tools["t"].timeout == float(value)


@pytest.mark.parametrize(
    "value", [0, -5, 0.0, 86401, 1e9, float("inf"), float("nan"), "300", True, [300], {}]
)
def test_a_timeout_that_is_not_a_sane_positive_number_is_refused(
    tmp_path: Path, value: object
) -> None:
    for table in ({"timeout": value}, {"tools": _tools(pytest=value)}):
        with pytest.raises(ConfigError, match=r"seconds above 0 and at most 86400"):
            load_config(tmp_path, devbox_pyproject(table), facts=False)


def test_toml_nan_is_refused_though_the_schema_cannot_say_so(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\n[tool.devbox]\ntimeout = nan\n'
    )
    with pytest.raises(ConfigError, match="timeout"):
        load_config(tmp_path, facts=False)


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "nan", "inf", "1e6"])
def test_devbox_timeout_is_checked(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="DEVBOX_TIMEOUT"):
        load_config(tmp_path, devbox_pyproject(), env={"DEVBOX_TIMEOUT": raw}, facts=False)


def test_the_option_is_checked_like_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--timeout"):
        load_config(tmp_path, devbox_pyproject(), cli={"timeout": 0.0}, facts=False)
    assert options.config_values({"timeout": 2.5})["timeout"] == 2.5
    assert options.config_values({})["timeout"] is None


def test_the_run_commands_take_the_option() -> None:
    from devbox.cli.app import cli

    for command in ("lint", "test", "check"):
        shown = CliRunner().invoke(cli, [command, "--help"]).output
        assert "--timeout SECONDS" in shown, shown
        bad = CliRunner().invoke(cli, [command, "--timeout", "soon"])
        assert bad.exit_code == 2 and "soon" in bad.output


@pytest.mark.parametrize(
    ("table", "env", "cli", "expected"),
    [
        ({}, {}, {}, None),  # no limit by default
        ({"timeout": 60}, {}, {}, 60.0),  # the default of every tool
        ({"timeout": 60, "tools": _tools(t=5)}, {}, {}, 5.0),  # the tool's own wins
        ({"tools": _tools(t=5)}, {"DEVBOX_TIMEOUT": "70"}, {}, 70.0),  # env over pyproject
        ({"tools": _tools(t=5)}, {}, {"timeout": 3.0}, 3.0),  # CLI over pyproject
        ({}, {"DEVBOX_TIMEOUT": "70"}, {"timeout": 3.0}, 3.0),  # CLI over env
        # DEVBOX_TOOLS and DEVBOX_TIMEOUT: the same source, the tool's own wins
        ({}, {"DEVBOX_TIMEOUT": "70", "DEVBOX_TOOLS": "{ t = { command = ['t'], timeout = 5 } }"},
         {}, 5.0),
        ({}, {"DEVBOX_TOOLS": "{ t = { command = ['t'], timeout = 300 } }"}, {"timeout": 3.0},
         3.0),
        ({"timeout": 60, "tools": {"t": {"command": ["t"]}}}, {}, {}, 60.0),
    ],
)  # fmt: skip
def test_which_timeout_a_tool_gets(
    tmp_path: Path,
    table: dict[str, Any],
    env: dict[str, str],
    cli: dict[str, object],
    expected: float | None,
) -> None:
    table = {"lint": ["t"], "tools": {"t": {"command": ["t"]}}, **table}
    cfg = load_config(tmp_path, devbox_pyproject(table), env=env, cli=cli, facts=False)
    assert tool_timeout(cfg, "t") == expected


def _plan(root: Path, table: dict[str, Any], **kw: Any) -> Any:
    pyproject = devbox_pyproject({"python": "3.11", "lint": ["t"], **table})
    cfg = load_config(root, pyproject, **kw)
    return make_plan(cfg, inspect_project(root, pyproject), "lint", virtualenvs=[])


def test_the_timeout_is_part_of_the_tool_spec_so_a_change_reruns_the_step(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p")
    plain = _plan(root, {"tools": {"t": {"command": ["t"]}}})
    limited = _plan(root, {"tools": _tools(t=30)})
    other = _plan(root, {"tools": _tools(t=30)}, cli={"timeout": 5.0})
    assert [r.timeout for r in (plain.tools[0], limited.tools[0], other.tools[0])] == [
        None,
        30.0,
        5.0,
    ]
    specs = [tool_spec(p, p.tools[0]) for p in (plain, limited, other)]
    assert [s["timeout"] for s in specs] == [None, 30.0, 5.0]
    # what the step mounts (its tool.json) differs, so BuildKit's cache key does
    files = [
        {k: v for k, v in render(p).context.items() if json.dumps(tool_spec(p, p.tools[0]), indent=2, sort_keys=True) in v}
        for p in (plain, limited, other)
    ]  # fmt: skip
    assert all(files) and len({json.dumps(f, sort_keys=True) for f in files}) == 3


# --- the step: run.py's process handling (real processes, no engine) -----------------------


class Log(io.BytesIO):
    pass


def _run(code: str, *, timeout: float | None = None, secrets: list[bytes] | None = None,
         monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[int, bool, bytes, float]:  # fmt: skip
    monkeypatch.setattr(step, "WORKDIR", str(tmp_path))
    monkeypatch.setattr(step, "secret_values", lambda: list(secrets or []))
    log = Log()
    started = time.monotonic()
    rc, timed_out = step.run([sys.executable, "-c", code], {"PATH": "/usr/bin:/bin"}, log, timeout)
    return rc, timed_out, log.getvalue(), time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


LEAVES_A_CHILD = """
import subprocess, sys
child = subprocess.Popen(["sleep", "300"])  # inherits stdout: holds the pipe open
print("child", child.pid)
print("done", flush=True)
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_the_step_ends_when_the_tool_does_and_kills_what_it_left(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    rc, timed_out, out, elapsed = _run(LEAVES_A_CHILD, monkeypatch=monkeypatch, tmp_path=tmp_path)
    assert (rc, timed_out) == (0, False)
    assert elapsed < step.DRAIN_S + 5
    assert out.endswith(b"done\n")
    child = int(out.split(b"child ", 1)[1].split()[0])
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the tool's leftover child is still running"
    assert b"done" in capfdbinary.readouterr().out  # and it went to the step's log too


def test_a_tool_past_its_limit_is_stopped_with_its_group_and_its_output_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = (
        "import subprocess, time\n"
        "subprocess.Popen(['sleep', '300'])\n"
        "print('before', flush=True)\n"
        "time.sleep(300)\n"
    )
    rc, timed_out, out, elapsed = _run(code, timeout=1, monkeypatch=monkeypatch, tmp_path=tmp_path)
    assert timed_out and rc != 0
    assert 1 <= elapsed < 1 + step.DRAIN_S + 5
    assert out.startswith(b"before\n")
    assert b"stopped after the time limit of 1 s (timeout)" in out


def test_a_tool_that_ignores_sigterm_is_killed_after_the_grace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(step, "GRACE_S", 0.5)
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('stubborn', flush=True)\n"
        "time.sleep(300)\n"
    )
    rc, timed_out, out, elapsed = _run(
        code, timeout=0.5, monkeypatch=monkeypatch, tmp_path=tmp_path
    )
    assert timed_out and rc == -9
    assert elapsed < 5 and b"stubborn" in out


def test_a_tool_within_its_limit_is_not_touched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = "import sys; print('ok'); sys.exit(3)"
    assert _run(code, timeout=30, monkeypatch=monkeypatch, tmp_path=tmp_path)[:3] == (
        3,
        False,
        b"ok\n",
    )


def test_secrets_are_still_masked_in_whole_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the secret arrives split over two writes, and the last line has no newline
    code = (
        "import sys, time\n"
        "sys.stdout.write('a hunter'); sys.stdout.flush(); time.sleep(0.3)\n"
        "sys.stdout.write('2secret b\\nlast hunter2secret')\n"
    )
    out = _run(code, secrets=[b"hunter2secret"], monkeypatch=monkeypatch, tmp_path=tmp_path)[2]
    assert out == b"a *** b\nlast ***"


def test_a_tool_that_closes_its_output_early_is_still_waited_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = "import os, time; print('x', flush=True); os.close(1); os.close(2); time.sleep(1)"
    rc, timed_out, out, elapsed = _run(code, monkeypatch=monkeypatch, tmp_path=tmp_path)
    assert (rc, timed_out, out) == (0, False, b"x\n") and elapsed >= 1


# --- the step's record and the live view --------------------------------------------------


def test_a_timed_out_steps_record_and_marker_read_back_as_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    exported = tmp_path / "out"
    (tmp_path / "src").mkdir()
    for name, value in (
        ("WORKDIR", tmp_path / "src"),
        ("CACHE", tmp_path / "cache"),
        ("OUT", exported),
        ("TOOL_SPEC", tmp_path / "tool.json"),
        ("ENV_STATUS", tmp_path / "env"),
    ):
        monkeypatch.setattr(step, name, str(value))
    monkeypatch.setattr(sys, "argv", ["run.py", "3.11"])
    run = dataclasses.replace(tool_run("hangs"), timeout=1.0)
    code = "import time; print('before', flush=True); time.sleep(300)"
    spec = {
        "name": "hangs", "kind": "lint", "command": [sys.executable, "-c", code], "env": {},
        "junit": False, "timeout": 1.0, "project_install": "metadata", "installer": "uv",
        "version": None, "native": False, "machine": None, "affected": False,
    }  # fmt: skip
    assert set(spec) == set(contract.TOOL_SPEC_KEYS)
    (tmp_path / "tool.json").write_text(json.dumps(spec))
    assert step.main() == 0
    live = progress._outcome(capsysbinary.readouterr().out)
    status = json.loads((exported / "hangs" / "3.11" / contract.STATUS_FILE).read_text())
    assert status[contract.FIELD_TIMED_OUT] is True
    result = model.read_result(exported, run, cached=False)
    assert result.status is Status.TIMEOUT and not result
    assert live == "timeout" == result.status.value
    assert result.timeout_s == 1.0
    assert result.output.startswith("before\n")
    assert "time limit of 1 s" in result.timeout_message


def test_the_live_view_reads_the_timeout_marker() -> None:
    assert progress._outcome(b"x\ndevbox-exit-code: 0\n\ndevbox-timeout\n") == "timeout"
    # a tool printing the marker early does not decide: the last marker line does
    assert progress._outcome(b"devbox-timeout\n\ndevbox-exit-code: 0\n") == "passed"


# --- the reports --------------------------------------------------------------------------


def _timed_out(**kw: Any) -> model.ToolResult:
    result = tool_result("hangs", Status.TIMEOUT, exit_code=-15, output="before\n", **kw)
    return dataclasses.replace(result, timeout_s=3.0)


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=120), buf


def test_a_timeout_fails_the_run_and_counts_as_a_failure_to_rerun() -> None:
    result = RunResult((tool_result("ruff"), _timed_out()))
    assert not result.ok and not result.nothing_ran


def test_the_console_shows_the_timeout_its_limit_and_the_output(tmp_path: Path) -> None:
    result = RunResult((tool_result("ruff"), _timed_out()))
    con, buf = _console()
    print_failures(con, result, tmp_path, tmp_path)
    print_summary(con, result)
    text = buf.getvalue()
    assert "hangs timed out: still running after its time limit of 3 s (timeout)" in text
    assert "before" in text
    assert any(line.split()[:4] == ["hangs", "lint", "3.11", "timeout"] for line in
               (row.replace("│", " ") for row in text.splitlines()))  # fmt: skip
    assert "devbox: timed out: hangs (limit 3 s)" in text
    assert "passed" not in text.splitlines()[-1]


def test_the_json_report_has_the_status_and_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_json(path, RunResult((_timed_out(),)))
    (tool,) = json.loads(path.read_text())["tools"]
    assert tool["status"] == "timeout" and tool["timeout_s"] == 3.0
    assert "time limit of 3 s" in tool["message"]
    assert "timeout_s" not in tool_result("ruff").to_json()


def test_junit_has_a_failing_case_naming_the_limit_with_the_output() -> None:
    pytest_xml = '<testsuite name="pytest" tests="1"><testcase name="t"/></testsuite>'
    for tool in (_timed_out(), _timed_out(junit_xml=pytest_xml)):
        root = ET.fromstring(junit.to_xml(RunResult((tool,))))
        assert root.get("failures") == "1" and root.get("tests") == "1"
        failure = root.find("testsuite/testcase/failure")
        assert failure is not None
        assert failure.get("type") == "timeout"
        assert "time limit of 3 s" in (failure.get("message") or "")
        assert failure.text == "before\n"


def test_github_annotates_a_timeout_with_its_limit(tmp_path: Path) -> None:
    (line,) = github_annotations(RunResult((_timed_out(),)), tmp_path, tmp_path)
    assert line.startswith("::error title=hangs [3.11]::hangs timed out")
    assert "time limit of 3 s" in line


def test_the_step_script_keeps_python_38_syntax() -> None:
    source = Path(step.__file__).read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 8))


def test_the_step_notices_at_once_that_the_command_exited(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Once the command's output is at its end, the step waits for the command itself, not
    for a poll interval: a sleep there delayed every tool's result by up to POLL_S (0.2 s;
    seen in the build log as the gap between a tool's last line and its exit marker)."""
    slept: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(step.time, "sleep", sleep)
    # the pipe ends a moment before the command exits (as at every exit: the kernel closes a
    # process's files before its parent can reap it; here made longer)
    code = "import os, sys, time; sys.stdout.write('x' * 1000); sys.stdout.flush(); os.close(1); os.close(2); time.sleep(0.05)"  # fmt: skip
    rc, timed_out, out, _ = _run(code, monkeypatch=monkeypatch, tmp_path=tmp_path)
    assert (rc, timed_out, len(out)) == (0, False, 1000)
    # (subprocess waits for a process in sleeps of at most 0.05 s: those are not the poll)
    assert [s for s in slept if s >= step.POLL_S / 2] == []
