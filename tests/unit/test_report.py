"""What the user sees: path rewriting, the plain live view, failures, summary, JSON."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from devbox.build.plan import ToolRun
from devbox.report.console import (
    LiveView,
    counts_cell,
    print_environment_error,
    print_failures,
    print_outputs,
    print_summary,
    rewrite_paths,
)
from devbox.report.json_report import write as write_json
from devbox.results.model import Environment, RunResult, Status
from devbox.results.model import TestCounts as Counts  # not collected as a test class
from devbox.results.progress import ToolProgress
from helpers import make_project, tool_result, tool_run


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=False, width=100), buf


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj", files={"pkg/mod.py": "x = 1\n", "sub/": ""})


# --- rewrite_paths -------------------------------------------------------------------------


def test_rewrite_container_path_cwd_is_root(project: Path) -> None:
    text = "/src/pkg/mod.py:3:1: F401 `os` imported but unused\n"
    assert (
        rewrite_paths(text, project, project) == "pkg/mod.py:3:1: F401 `os` imported but unused\n"
    )


def test_rewrite_container_path_cwd_is_parent(project: Path) -> None:
    text = "/src/pkg/mod.py:3:1: F401\n"
    assert rewrite_paths(text, project, project.parent) == "proj/pkg/mod.py:3:1: F401\n"


def test_rewrite_container_path_cwd_is_subdirectory(project: Path) -> None:
    text = "/src/pkg/mod.py:3:1: F401\n"
    assert rewrite_paths(text, project, project / "sub") == "../pkg/mod.py:3:1: F401\n"


def test_rewrite_container_paths_inside_lines_and_quotes(project: Path) -> None:
    text = 'File "/src/pkg/mod.py", line 3, in <module>\nsee (/src/pkg/mod.py) and /src\n'
    assert rewrite_paths(text, project, project / "sub") == (
        'File "../pkg/mod.py", line 3, in <module>\nsee (../pkg/mod.py) and ..\n'
    )
    assert rewrite_paths("root is /src/ here", project, project) == "root is . here"


@pytest.mark.parametrize(
    "text",
    [
        "/usr/src/x.py:1: error",
        "see /usr/src/linux",
        "./src/a.py:1:",
        "~/src/a.py",
        "https://example.org/src/a.py",
        "my-/src/a",
    ],
)
def test_rewrite_leaves_other_paths_alone(project: Path, text: str) -> None:
    assert rewrite_paths(text, project, project) == text


@pytest.mark.parametrize("text", ["/srcfoo", "/srcfoo/bar.py:1: x", "path /src_old/a.py"])
def test_rewrite_requires_a_path_boundary_after_src(project: Path, text: str) -> None:
    # "/srcfoo" is a different directory, not the project mounted at /src
    assert rewrite_paths(text, project, project) == text
    assert rewrite_paths(text, project, project / "sub") == text


def test_rewrite_project_relative_prefix_when_cwd_differs(project: Path) -> None:
    text = "pkg/mod.py:3: error: Name 'x' is not defined\nmissing.py:4: error: nope\n"
    assert rewrite_paths(text, project, project / "sub") == (
        "../pkg/mod.py:3: error: Name 'x' is not defined\nmissing.py:4: error: nope\n"
    )
    assert rewrite_paths(text, project, project.parent) == (
        "proj/pkg/mod.py:3: error: Name 'x' is not defined\nmissing.py:4: error: nope\n"
    )


def test_rewrite_project_relative_prefix_untouched_when_cwd_is_root(project: Path) -> None:
    text = "pkg/mod.py:3: error\n"
    assert rewrite_paths(text, project, project) == text


def test_rewrite_project_relative_only_at_line_start(project: Path) -> None:
    text = "error in pkg/mod.py:3: bad\n  pkg/mod.py:4: indented\n"
    assert rewrite_paths(text, project, project / "sub") == text


def test_rewrite_does_not_rebase_an_already_rewritten_path(project: Path) -> None:
    """A /src path is rewritten once; the result must not be re-based as project-relative.

    From <root>/tests, "/src/tests/conftest.py" is "conftest.py" (tests/conftest.py); the
    project's top-level conftest.py must not capture it.
    """
    (project / "tests").mkdir()
    (project / "tests" / "conftest.py").write_text("", encoding="utf-8")
    (project / "conftest.py").write_text("", encoding="utf-8")
    text = "/src/tests/conftest.py:5: in fixture\n"
    assert rewrite_paths(text, project, project / "tests") == "conftest.py:5: in fixture\n"


# --- LiveView (plain, non-TTY) -------------------------------------------------------------


RUNS = (tool_run("ruff"), tool_run("pytest", junit=True))


def test_live_view_plain_lines_per_state_change() -> None:
    con, buf = console()
    assert con.is_terminal is False
    ruff = ToolProgress()
    pytest_p = ToolProgress()
    # keyed like BuildProgress.tools: by ToolRun.key
    progress = {"ruff@3.11": ruff, "pytest@3.11": pytest_p}
    with LiveView(con, RUNS) as view:
        view.update(progress)
        assert buf.getvalue() == ""  # queued is not announced
        ruff.state = "installing"
        pytest_p.state = "installing"
        view.update(progress)
        ruff.state, ruff.started_at = "running", 10.0
        view.update(progress)
        view.update(progress)  # no change, no line
        ruff.state, ruff.ended_at = "passed", 12.5
        pytest_p.state, pytest_p.started_at, pytest_p.ended_at = "cached", 13.0, 13.0
        view.update(progress)
    assert buf.getvalue().splitlines() == [
        "devbox: ruff: installing",
        "devbox: pytest: installing",
        "devbox: ruff: running",
        "devbox: ruff: passed (2.5s)",
        "devbox: pytest: cached (0.0s)",
    ]


def test_live_view_failed_and_error_states() -> None:
    con, buf = console()
    view = LiveView(con, RUNS)
    with view:
        view.update(
            {
                "ruff@3.11": ToolProgress("failed", 1.0, 4.25),
                "pytest@3.11": ToolProgress("error"),
            }
        )
    assert buf.getvalue() == "devbox: ruff: failed (3.2s)\ndevbox: pytest: error\n"


def test_live_view_ignores_unknown_and_missing_tools() -> None:
    con, buf = console()
    with LiveView(con, (tool_run("ruff"),)) as view:
        view.update({"other@3.11": ToolProgress("running")})
        # another version of the same tool, or the bare name, is not this run
        view.update({"ruff@3.13": ToolProgress("running"), "ruff": ToolProgress("failed")})
    assert buf.getvalue() == ""


def test_live_view_quiet_prints_nothing() -> None:
    con, buf = console()
    progress = {"ruff@3.11": ToolProgress("running", 1.0)}
    with LiveView(con, RUNS, quiet=True) as view:
        view.update(progress)
        progress["ruff@3.11"] = ToolProgress("failed", 1.0, 2.0)
        view.update(progress)
    assert buf.getvalue() == ""


MATRIX = (
    tool_run("ruff", python="3.11"),
    tool_run("pytest", junit=True, python="3.11"),
    tool_run("pytest", junit=True, python="3.13"),
)


def test_live_view_plain_lines_name_the_version_with_several() -> None:
    con, buf = console()
    progress = {
        "ruff@3.11": ToolProgress(),
        "pytest@3.11": ToolProgress(),
        "pytest@3.13": ToolProgress(),
    }
    with LiveView(con, MATRIX) as view:
        view.update(progress)
        progress["pytest@3.13"] = ToolProgress("running", 1.0)
        view.update(progress)
        progress["ruff@3.11"] = ToolProgress("passed", 1.0, 2.0)
        progress["pytest@3.11"] = ToolProgress("error", 1.0, 1.5)
        view.update(progress)
        progress["pytest@3.13"] = ToolProgress("failed", 1.0, 4.0)
        view.update(progress)
    assert buf.getvalue().splitlines() == [
        "devbox: pytest [3.13]: running",
        "devbox: ruff [3.11]: passed (1.0s)",
        "devbox: pytest [3.11]: error (0.5s)",
        "devbox: pytest [3.13]: failed (3.0s)",
    ]


def test_live_view_same_tool_two_versions_change_independently() -> None:
    con, buf = console()
    runs = (tool_run("pytest", python="3.12"), tool_run("pytest", python="3.13"))
    with LiveView(con, runs) as view:
        view.update({"pytest@3.12": ToolProgress("running"), "pytest@3.13": ToolProgress()})
        view.update(
            {"pytest@3.12": ToolProgress("running"), "pytest@3.13": ToolProgress("running")}
        )
    assert buf.getvalue().splitlines() == [
        "devbox: pytest [3.12]: running",
        "devbox: pytest [3.13]: running",
    ]


def table_rows(runs: tuple[ToolRun, ...], progress: dict[str, ToolProgress]) -> list[list[str]]:
    """The live table's last frame on a terminal, each row split into its cells."""
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=True, width=100, color_system=None)
    with LiveView(con, runs) as view:
        view.update(progress)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", buf.getvalue())
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return rows[-len(runs) :]


def test_live_view_table_labels() -> None:
    """On a terminal the table's rows carry the same labels as the plain lines."""
    assert table_rows(MATRIX, {"pytest@3.13": ToolProgress("failed", 1.0, 3.0)}) == [
        ["ruff", "[3.11]", "queued"],
        ["pytest", "[3.11]", "queued"],
        ["pytest", "[3.13]", "failed", "2.0s"],
    ]
    assert table_rows(RUNS, {"ruff@3.11": ToolProgress("passed", 1.0, 2.0)}) == [
        ["ruff", "passed", "1.0s"],
        ["pytest", "queued"],
    ]


# --- failures, outputs, summary ------------------------------------------------------------


def test_print_failures_only_failed_tools_with_rewritten_output(project: Path) -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.FAILED, output="/src/pkg/mod.py:3:1: F401 unused\n"),
            tool_result("ruff-format", Status.PASSED, output="UNIQUE-PASSED-OUTPUT\n"),
            tool_result(
                "mypy", Status.FAILED, exit_code=2, output="pkg/mod.py:7: error: bad [x]\n"
            ),
        )
    )
    print_failures(con, run, project, project / "sub")
    out = buf.getvalue()
    assert "ruff failed (exit code 1, Python 3.11)" in out
    assert "mypy failed (exit code 2, Python 3.11)" in out
    assert "../pkg/mod.py:3:1: F401 unused" in out
    assert "../pkg/mod.py:7: error: bad [x]" in out  # printed as text, not rich markup
    assert "/src/" not in out
    assert "ruff-format" not in out
    assert "UNIQUE-PASSED-OUTPUT" not in out
    assert out.index("ruff failed") < out.index("F401") < out.index("mypy failed")


def test_print_failures_grouped_by_python_version(project: Path) -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.FAILED, output="RUFF-OUT\n", python="3.11"),
            tool_result("pytest", Status.FAILED, output="PYTEST-311-OUT\n", python="3.11"),
            tool_result("pytest", Status.PASSED, output="PASSED-312-OUT\n", python="3.12"),
            tool_result("mypy", Status.FAILED, exit_code=2, output="MYPY-313-OUT\n", python="3.13"),
            tool_result(
                "pytest", Status.FAILED, exit_code=3, output="PYTEST-313-OUT\n", python="3.13"
            ),
        )
    )
    print_failures(con, run, project, project)
    lines = buf.getvalue().splitlines()
    assert "== Python 3.11 ==" in lines
    assert "== Python 3.13 ==" in lines
    # a version with nothing failed gets no header
    assert "== Python 3.12 ==" not in lines
    assert not any("PASSED-312-OUT" in line for line in lines)

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    assert (
        at("== Python 3.11 ==")
        < at("ruff failed (exit code 1, Python 3.11)")
        < at("RUFF-OUT")
        < at("pytest failed (exit code 1, Python 3.11)")
        < at("PYTEST-311-OUT")
        < at("== Python 3.13 ==")
        < at("mypy failed (exit code 2, Python 3.13)")
        < at("MYPY-313-OUT")
        < at("pytest failed (exit code 3, Python 3.13)")
        < at("PYTEST-313-OUT")
    )


def test_print_failures_one_version_has_no_header(project: Path) -> None:
    con, buf = console()
    run = RunResult((tool_result("ruff", Status.FAILED, output="RUFF-OUT\n", python="3.12"),))
    print_failures(con, run, project, project)
    out = buf.getvalue()
    assert "ruff failed (exit code 1, Python 3.12)" in out
    assert "RUFF-OUT" in out
    assert "== Python" not in out


def test_print_failures_skips_environment_errors(project: Path) -> None:
    """A tool that could not run (Status.ERROR) is reported by the environment error."""
    con, buf = console()
    run = RunResult(
        (
            tool_result("pytest", Status.FAILED, output="REAL-FAILURE\n", python="3.11"),
            tool_result("pytest", Status.ERROR, exit_code=-1, output="ERROR-OUT\n", python="3.13"),
        ),
        environments=(
            Environment("3.11", "python:3.11", cached=True),
            Environment("3.13", "python:3.13", cached=False, ok=False, error="x"),
        ),
    )
    print_failures(con, run, project, project)
    out = buf.getvalue()
    assert "pytest failed (exit code 1, Python 3.11)" in out
    assert "REAL-FAILURE" in out
    assert "Python 3.13" not in out
    assert "ERROR-OUT" not in out


def test_print_failures_nothing_when_only_environment_errors(project: Path) -> None:
    con, buf = console()
    run = RunResult((tool_result("pytest", Status.ERROR, output="ERROR-OUT\n", python="3.13"),))
    print_failures(con, run, project, project)
    assert buf.getvalue() == ""


def test_print_environment_error() -> None:
    con, buf = console()
    print_environment_error(
        con,
        "installing the dependencies failed (Python 3.13, installer uv).",
        "  error: No solution found\n  ╰─▶ nope[x] was not found",
    )
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("environment error ")
    assert lines[1] == "devbox: installing the dependencies failed (Python 3.13, installer uv)."
    # the detail is printed as text, not rich markup
    assert lines[2:] == ["  error: No solution found", "  ╰─▶ nope[x] was not found"]


def test_print_environment_error_without_detail() -> None:
    con, buf = console()
    print_environment_error(con, "the base image python:3.99 is not available: [nope].", "")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("environment error ")
    assert lines[1] == "devbox: the base image python:3.99 is not available: [nope]."


def test_print_failures_nothing_when_all_passed(project: Path) -> None:
    con, buf = console()
    print_failures(
        con, RunResult((tool_result("ruff", Status.PASSED, output="x\n"),)), project, project
    )
    assert buf.getvalue() == ""


def test_print_outputs_every_tool(project: Path) -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.PASSED, output="All checks passed!\n"),
            tool_result("pytest", Status.FAILED, output="/src/pkg/mod.py:1: boom\n"),
        )
    )
    print_outputs(con, run, project, project)
    out = buf.getvalue()
    assert "ruff (passed, Python 3.11)" in out
    assert "All checks passed!" in out
    assert "pytest (failed, Python 3.11)" in out
    assert "pkg/mod.py:1: boom" in out
    assert "/src/" not in out


def test_print_outputs_names_each_version_and_errors(project: Path) -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("pytest", Status.PASSED, output="OUT-311\n", python="3.11"),
            tool_result("pytest", Status.ERROR, exit_code=-1, python="3.13"),
        )
    )
    print_outputs(con, run, project, project)
    out = buf.getvalue()
    assert "pytest (passed, Python 3.11)" in out
    assert "pytest (error, Python 3.13)" in out
    assert out.index("pytest (passed, Python 3.11)") < out.index("OUT-311")
    assert out.index("OUT-311") < out.index("pytest (error, Python 3.13)")


def test_print_summary_failed() -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.PASSED, cached=True, duration_s=0.42),
            tool_result(
                "pytest",
                Status.FAILED,
                tests=Counts(passed=5, failed=1, skipped=2, errors=3),
                duration_s=12.34,
            ),
            tool_result("mypy", Status.FAILED, cached=True),
        )
    )
    print_summary(con, run)
    out = buf.getvalue()
    lines = out.splitlines()
    ruff_line = next(line for line in lines if "ruff" in line)
    pytest_line = next(line for line in lines if "pytest" in line)
    mypy_line = next(line for line in lines if "mypy" in line and "failed:" not in line)
    for col in ("tool", "kind", "python", "status", "time", "tests"):
        assert col in lines[0]
    assert "cached" in ruff_line
    assert "0.4s" in ruff_line
    assert "lint" in ruff_line
    assert "3.11" in ruff_line
    assert "failed" in pytest_line
    assert "12.3s" in pytest_line
    assert "5 passed, 1 failed, 2 skipped, 3 errors" in pytest_line
    # a failed tool is reported as failed even when its step was cached
    assert "failed" in mypy_line
    assert "cached" not in mypy_line
    assert lines[-1] == "devbox: failed: pytest, mypy"


def test_print_summary_all_passed() -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.PASSED),
            tool_result(
                "pytest", Status.PASSED, tests=Counts(passed=9, failed=0, skipped=0, errors=0)
            ),
        )
    )
    print_summary(con, run)
    out = buf.getvalue()
    assert "9 passed, 0 failed, 0 skipped, 0 errors" in out
    assert "failed:" not in out
    assert out.splitlines()[-1] == "devbox: all 2 tools passed"


def test_print_summary_matrix_names_failed_versions() -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.PASSED, python="3.11"),
            tool_result("pytest", Status.FAILED, python="3.11"),
            tool_result("pytest", Status.PASSED, python="3.13"),
            tool_result("mypy", Status.FAILED, python="3.13"),
        ),
        environments=(
            Environment("3.11", "python:3.11", cached=True),
            Environment("3.13", "python:3.13", cached=True),
        ),
    )
    print_summary(con, run)
    lines = buf.getvalue().splitlines()
    assert lines[-1] == "devbox: failed: pytest [3.11], mypy [3.13]"
    assert not any("environment errors" in line for line in lines)
    rows = [line.split() for line in lines]
    assert any(r[:4] == ["pytest", "│", "lint", "│"] and "3.13" in r for r in rows)


def test_print_summary_matrix_all_passed() -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("pytest", Status.PASSED, python="3.11"),
            tool_result("pytest", Status.PASSED, python="3.13"),
        )
    )
    print_summary(con, run)
    assert buf.getvalue().splitlines()[-1] == "devbox: all 2 tools passed"


def test_print_summary_environment_errors() -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("pytest", Status.FAILED, python="3.11"),
            tool_result("pytest", Status.ERROR, exit_code=-1, duration_s=0.0, python="3.13"),
        ),
        environments=(
            Environment("3.11", "python:3.11", cached=True),
            Environment("3.13", "python:3.13", cached=False, ok=False, error="x"),
        ),
    )
    print_summary(con, run)
    lines = buf.getvalue().splitlines()
    error_row = next(line for line in lines if "3.13" in line and "pytest" in line)
    assert "error" in error_row.split()
    assert "failed" not in error_row.split()
    assert "devbox: environment errors: Python 3.13" in lines
    # the tool that could not run is an environment error, not a failure
    assert lines[-2:] == [
        "devbox: environment errors: Python 3.13",
        "devbox: failed: pytest [3.11]",
    ]


def test_print_summary_every_tool_an_environment_error() -> None:
    con, buf = console()
    run = RunResult(
        (
            tool_result("ruff", Status.ERROR, exit_code=-1, python="3.11"),
            tool_result("pytest", Status.ERROR, exit_code=-1, python="3.11"),
        ),
        environments=(Environment("3.11", "python:3.11", cached=False, ok=False, error="x"),),
    )
    print_summary(con, run)
    lines = buf.getvalue().splitlines()
    assert lines[-1] == "devbox: environment errors: Python 3.11"
    assert not any(line.startswith(("devbox: failed", "devbox: all")) for line in lines)


def test_print_summary_environment_errors_only() -> None:
    """A version left out (its base image is missing) has no tools; the others passed."""
    con, buf = console()
    run = RunResult(
        (tool_result("ruff", Status.PASSED, python="3.11"),),
        environments=(
            Environment("3.11", "python:3.11", cached=True),
            Environment("3.12", "python:3.12", cached=False, ok=False, error="missing"),
            Environment("3.13", "python:3.13", cached=False, ok=False, error="missing"),
        ),
    )
    print_summary(con, run)
    lines = buf.getvalue().splitlines()
    assert lines[-1] == "devbox: environment errors: Python 3.12, 3.13"
    assert not any(
        line.startswith(("devbox: failed", "devbox: all", "devbox: 1 tool")) for line in lines
    )


# --- write_json ----------------------------------------------------------------------------


def test_write_json(tmp_path: Path) -> None:
    run = RunResult(
        (
            tool_result("ruff", Status.PASSED, cached=True),
            tool_result(
                "pytest", Status.FAILED, tests=Counts(passed=1, failed=1, skipped=0, errors=0)
            ),
        )
    )
    path = tmp_path / "reports" / "nested" / "devbox.json"
    write_json(path, run)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    data = json.loads(text)
    assert data == run.to_json()
    assert data["ok"] is False
    assert [t["name"] for t in data["tools"]] == ["ruff", "pytest"]
    assert data["tools"][1]["tests"]["failed"] == 1
    # overwriting works too
    write_json(path, RunResult((tool_result("ruff", Status.PASSED),)))
    assert json.loads(path.read_text(encoding="utf-8"))["ok"] is True


def test_frames_from_the_images_venv_are_not_shown_as_host_paths(tmp_path: Path) -> None:
    text = (
        '  File "/opt/devbox/venv/lib/python3.11/site-packages/attr/_make.py", line 5, in f\n'
        '  File "/src/tests/test_x.py", line 3, in test\n'
        "/opt/devbox/venv/bin/python: error\n"
    )
    out = rewrite_paths(text, tmp_path, tmp_path)
    assert '"<devbox venv>/attr/_make.py"' in out
    assert '"tests/test_x.py"' in out
    assert "<devbox venv>/bin/python: error" in out
    assert "/opt/devbox" not in out


def test_relative_paths_into_the_images_venv_are_named_whole(tmp_path: Path) -> None:
    """pytest prints a frame outside its rootdir relative to it: ``../opt/devbox/venv/…``."""
    text = (
        "../opt/devbox/venv/lib/python3.11/site-packages/_pytest/python.py:163: in call\n"
        "../../opt/devbox/venv/bin/python: error\n"
        "../../opt/devbox/uv/bin/uv ran\n"
    )
    out = rewrite_paths(text, tmp_path, tmp_path)
    assert out.splitlines() == [
        "<devbox venv>/_pytest/python.py:163: in call",
        "<devbox venv>/bin/python: error",
        "<devbox>/uv/bin/uv ran",
    ]


def test_devbox_s_own_step_paths_are_named_not_shown(tmp_path: Path) -> None:
    text = (
        "cachedir: /devbox/cache/pytest\n"
        "------------ generated xml file: /devbox/out/pytest/3.11/junit.xml -------------\n"
        "/src/devbox/out/kept.py:1: a project file under devbox/out stays the project's\n"
    )
    out = rewrite_paths(text, tmp_path, tmp_path)
    assert "cachedir: <devbox cache>/pytest" in out
    assert "generated xml file: <devbox results>/pytest/3.11/junit.xml" in out
    assert "devbox/out/kept.py:1:" in out and "<devbox results>/kept" not in out
    assert "/devbox/cache" not in out and " /devbox/out" not in out


# --- xfailed / xpassed in the tests column (issue 14) ------------------------------------


@pytest.mark.parametrize(
    ("counts", "cell"),
    [
        (Counts(9, 0, 0, 0), "9 passed, 0 failed, 0 skipped, 0 errors"),
        (Counts(2, 0, 0, 0, xfailed=1, xpassed=1), "2 passed, 1 xfailed, 1 xpassed"),
        (Counts(0, 0, 0, 0, xfailed=3), "0 passed, 3 xfailed"),
        (Counts(2, 1, 0, 0, xfailed=3), "2 passed, 1 failed, 3 xfailed"),
        # "2 passed, 1 failed, 1 skipped, 3 xfailed" would be wider than 35
        (Counts(2, 1, 1, 0, xfailed=3), "2 pass, 1 fail, 1 skip, 3 xfail"),
        (Counts(12, 1, 0, 1, xfailed=3), "12 pass, 1 fail, 1 err, 3 xfail"),
        (Counts(3, 2, 1, 1, xfailed=3, xpassed=1),
         "3 pass, 2 fail, 1 skip, 1 err, 3 xfail, 1 xpass"),
    ],
)  # fmt: skip
def test_tests_cell_names_xfailed_and_xpassed(counts: Counts, cell: str) -> None:
    assert counts_cell(counts) == cell


def test_summary_with_xfails_fits_80_columns() -> None:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=False, width=200)
    run = RunResult(
        (
            tool_result(
                "pytest",
                Status.TIMEOUT,
                python="3.13",
                duration_s=123.4,
                tests=Counts(passed=12, failed=1, skipped=2, errors=0, xfailed=3),
            ),
        )
    )
    print_summary(con, run)
    row = next(line for line in buf.getvalue().splitlines() if line.startswith(" pytest"))
    assert row.rstrip().endswith("12 pass, 1 fail, 2 skip, 3 xfail")
    assert "skipped" not in row
    assert len(row.rstrip()) <= 80
