"""Findings from the tools' machine-readable output (``Tool.machine``), pure code.

ruff's and mypy's JSON and pytest's JUnit XML here are written by the real tools (devbox's
own test dependencies) on a small project in a temporary directory; pylint's json2 is a copy
of pylint 4's, and tests/engine/test_machine_findings.py reads all four from real runs in the
engine.  What the step does with a command (the options it drops and adds) is tested on
the step script's own functions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devbox._container import run as step
from devbox.build.dockerfile import machine_spec
from devbox.build.plan import ToolRun
from devbox.report import located
from devbox.results.findings import Finding
from devbox.results.model import Status
from devbox.tools import mypy, pylint, ruff
from devbox.tools import pytest as pytest_tool
from helpers import tool_result

BIN = Path(sys.executable).parent

TYPED = """\
import os


def describe(count: int) -> str:
    return count * 2


value: int = "a rather long string so that a pretty mypy wraps its message at the width"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "mod.py").write_text(TYPED)
    return tmp_path


def _run(args: list[str], cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False).stdout


# --- ruff -----------------------------------------------------------------------------------


def test_ruff_json_gives_code_place_and_message(project: Path) -> None:
    ruff_bin = str(BIN / "ruff")
    text = _run([ruff_bin, "check", "--no-cache", "--output-format=json", "."], project)
    found = ruff.parse_json(text)
    assert found == [
        Finding(str(project / "mod.py"), 1, 8, "`os` imported but unused", "F401", "error")
    ]
    # the same place as the concise text devbox prints
    concise = _run([ruff_bin, "check", "--no-cache", "--output-format=concise", "."], project)
    assert concise.startswith("mod.py:1:8: F401")


def test_ruff_format_json_names_the_unformatted_file(project: Path) -> None:
    (project / "mod.py").write_text("x  =  1\n")
    text = _run([str(BIN / "ruff"), "format", "--check", "--output-format=json", "."], project)
    found = ruff.parse_json(text)
    assert found is not None and [(Path(f.path).name, f.code) for f in found] == [
        ("mod.py", "unformatted")
    ]


def test_ruff_json_that_is_not_a_list_is_not_read() -> None:
    assert ruff.parse_json("error: something") is None
    assert ruff.parse_json('{"a": 1}') is None
    assert ruff.parse_json("[]") == []
    # entries without a place are left out, not guessed
    assert ruff.parse_json('[{"filename": "a.py", "message": "m"}]') == []


# --- mypy -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pretty", [False, True])
def test_mypy_json_is_the_same_with_pretty_output(project: Path, pretty: bool) -> None:
    (project / "mypy.ini").write_text(f"[mypy]\npretty = {pretty}\ncache_dir = /dev/null\n")
    mypy_cmd = [sys.executable, "-m", "mypy", "mod.py"]
    found = mypy.parse_json(_run([*mypy_cmd, "-O", "json"], project))
    assert found == [
        Finding(
            "mod.py",
            5,
            12,
            'Incompatible return value type (got "int", expected "str")',
            "return-value",
            "error",
        ),
        Finding(
            "mod.py",
            8,
            14,
            'Incompatible types in assignment (expression has type "str", variable has type "int")',
            "assignment",
            "error",
        ),
    ]
    # the text: pretty output cuts the message and loses the code, which is why JSON is read
    from_text = mypy.MYPY.parse(_run(mypy_cmd, project))
    if pretty:
        assert [f.code for f in from_text] != ["return-value", "assignment"]
    else:
        assert [(f.path, f.line, f.code) for f in from_text] == [
            (f.path, f.line, f.code) for f in found
        ]


def test_mypy_json_hint_joins_the_message_and_bad_lines_are_not_read() -> None:
    line = {
        "file": "a.py", "line": 3, "column": -1, "message": "Name 'x' is not defined",
        "hint": "Did you mean 'y'?", "code": "name-defined", "severity": "error",
    }  # fmt: skip
    assert mypy.parse_json(json.dumps(line)) == [
        Finding("a.py", 3, None, "Name 'x' is not defined\nDid you mean 'y'?", "name-defined")
    ]
    assert mypy.parse_json("") is None
    assert mypy.parse_json(json.dumps(line) + "\nmypy: error: bad config\n") is None


# --- pylint ---------------------------------------------------------------------------------

#: what pylint 4 writes with --output-format=json2 for an unused import and a bad name
PYLINT_JSON2 = {
    "messages": [
        {
            "type": "warning", "symbol": "unused-import", "message": "Unused import os",
            "messageId": "W0611", "confidence": "UNDEFINED", "module": "pkg.core", "obj": "",
            "line": 1, "column": 0, "endLine": 1, "endColumn": 9, "path": "pkg/core.py",
            "absolutePath": "/src/pkg/core.py",
        },
        {
            "type": "convention", "symbol": "invalid-name",
            "message": 'Constant name "x" doesn\'t conform to UPPER_CASE naming style',
            "messageId": "C0103", "confidence": "HIGH", "module": "pkg.core", "obj": "",
            "line": 4, "column": 4, "endLine": 4, "endColumn": 5, "path": "pkg/core.py",
            "absolutePath": "/src/pkg/core.py",
        },
    ],
    "statistics": {"messageTypeCount": {"warning": 1, "convention": 1}, "score": 5.0},
}  # fmt: skip


def test_pylint_json2_counts_columns_from_one_and_keeps_the_symbol() -> None:
    assert pylint.parse_json2(json.dumps(PYLINT_JSON2)) == [
        Finding("pkg/core.py", 1, 1, "Unused import os (unused-import)", "W0611", "warning"),
        Finding(
            "pkg/core.py",
            4,
            5,
            'Constant name "x" doesn\'t conform to UPPER_CASE naming style (invalid-name)',
            "C0103",
            "warning",
        ),
    ]
    # the same findings as its text lines (the column: pylint's text counts from 0 too)
    text = "pkg/core.py:1:0: W0611: Unused import os (unused-import)\n"
    assert pylint.PYLINT.parse(text)[0] == pylint.parse_json2(json.dumps(PYLINT_JSON2))[0]  # type: ignore[index]
    assert pylint.parse_json2("[]") is None and pylint.parse_json2("not json") is None


# --- pytest's JUnit XML -----------------------------------------------------------------------

TESTS = """\
import pytest


def helper():
    assert 1 == 2, "boom"


def test_one():
    helper()


@pytest.fixture
def broken():
    raise RuntimeError("setup broke")


class TestK:
    def test_setup(self, broken):
        pass

    @pytest.mark.parametrize("v", [1, 2])
    def test_p(self, v):
        assert v == 1


def test_ok():
    pass
"""


@pytest.mark.parametrize("tb", ["no", "native", "short", "long", "line"])
def test_pytest_junit_gives_every_failure_whatever_tb_says(
    tmp_path: Path, tb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytest_tool, "WORKDIR", str(tmp_path))  # the project's mount
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text(TESTS)
    report = tmp_path / "junit.xml"
    subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--tb={tb}", "tests"),
            *(f"--junitxml={report}", "-o", "junit_family=xunit1"),
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    found = pytest_tool.parse_junit(report.read_text())
    assert found is not None
    got = [(f.path, f.line, f.code, f.message.split(":")[0]) for f in found]
    # no traceback in the report: the test's own definition; else its last frame in the project
    expected_lines = [8, 18, 21] if tb in ("no", "line") else [5, 14, 23]
    assert got == [
        ("tests/test_a.py", expected_lines[0], "AssertionError", "test_one"),
        ("tests/test_a.py", expected_lines[1], "RuntimeError", "TestK.test_setup"),
        ("tests/test_a.py", expected_lines[2], "AssertionError", "TestK.test_p[2]"),
    ]


def test_pytest_junit_collection_error_and_unreadable_report() -> None:
    xml = (
        '<testsuites><testsuite name="pytest"><testcase classname="" name="tests.test_c" '
        'file="tests/test_c.py"><error message="collection failure">tests/test_c.py:1: in '
        "&lt;module&gt;\n    import nope\nE   ModuleNotFoundError: No module named 'nope'"
        "</error></testcase></testsuite></testsuites>"
    )
    assert pytest_tool.parse_junit(xml) == [
        Finding(
            "tests/test_c.py",
            1,
            None,
            "ERROR collecting tests/test_c.py: collection failure",
            "ModuleNotFoundError",
        )
    ]
    assert pytest_tool.parse_junit("<testsuites") is None


# --- the step: what it runs ---------------------------------------------------------------------


def _spec(tool: str, command: tuple[str, ...]) -> dict[str, object] | None:
    return machine_spec(ToolRun(tool, "lint", "3.11", command, {}, False, None, tool))


def test_the_json_run_drops_the_format_options_and_adds_its_own() -> None:
    spec = _spec("ruff", ("ruff", "check", "--output-format=concise", "."))
    assert spec is not None and spec["how"] == "after-failure"
    assert step.machine_command(
        ["ruff", "check", "--output-format", "full", "--statistics", ".", "--", "-x.py"],
        spec,
        "/devbox/out/f.json",
    ) == ["ruff", "check", ".", "--output-format=json", "--", "-x.py"]
    mypy_spec = _spec("mypy", ("python", "-m", "mypy", "--pretty", "src"))
    assert mypy_spec is not None
    assert step.machine_command(
        ["python", "-m", "mypy", "-O", "text", "--pretty", "src"], mypy_spec, "f"
    ) == ["python", "-m", "mypy", "--pretty", "src", "-O", "json"]
    pylint_spec = _spec("pylint", ("pylint", "-f", "parseable", "."))
    assert pylint_spec is not None and pylint_spec["how"] == "alongside"
    assert step.machine_command(["pylint", "-f", "parseable", "."], pylint_spec, "/o/f.json") == [
        "pylint",
        ".",
        "--output-format=text,json2:/o/f.json",
    ]


def test_a_custom_command_is_read_as_text() -> None:
    assert _spec("mypy", ("sh", "-c", "mypy .")) is None
    assert _spec("ruff", ("python", "-c", "import ruff")) is None
    assert _spec("black", ("black", "--check", ".")) is None  # black has no such format
    assert _spec("my-linter", ("mypy", ".")) is None  # not a built-in tool's name
    assert _spec("pytest", ("python", "-m", "pytest")) is None  # its JUnit, written anyway


def test_pylints_json2_only_with_a_release_that_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(step, "VENV", str(tmp_path))
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    assert not step.release_ok(["pylint", 3])
    (site / "pylint-2.17.7.dist-info").mkdir()
    assert not step.release_ok(["pylint", 3])
    (site / "pylint-2.17.7.dist-info").rmdir()
    (site / "pylint-4.1.4.dist-info").mkdir()
    assert step.release_ok(["pylint", 3]) and step.release_ok(None)


def test_a_hanging_json_run_is_stopped_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(step, "WORKDIR", str(tmp_path))
    path = tmp_path / "f.json"
    step.run_machine(
        [sys.executable, "-c", "import time; print('[', flush=True); time.sleep(30)"],
        {"PATH": "/usr/bin:/bin"},
        str(path),
        0.5,
    )
    assert not path.exists()
    step.run_machine([sys.executable, "-c", "print('[]')"], {}, str(path), 5)
    assert path.read_text() == "[]\n"


# --- the reports: machine-readable first, the text otherwise -------------------------------------


def test_reports_read_the_side_file_and_fall_back_to_the_text(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    text = "src/a.py:3: error: Incompatible return value type (got\n"
    side = json.dumps(
        {
            "file": "src/a.py",
            "line": 3,
            "column": 11,
            "message": "Whole message",
            "hint": None,
            "code": "return-value",
            "severity": "error",
        }
    )
    tool = tool_result("mypy", Status.FAILED, output=text, machine_output=side)
    # from a subdirectory: the path is relative to it, and the message the whole one
    assert located.findings(tool, root, root / "src") == [
        Finding("a.py", 3, 12, "Whole message", "return-value")
    ]
    # no side file, or one devbox cannot read: the text
    for machine in (None, "mypy: error: unrecognized arguments: -O json"):
        fallback = tool_result("mypy", Status.FAILED, output=text, machine_output=machine)
        assert [f.code for f in located.findings(fallback, root, root)] == [None]
    # a tool that passed has none
    assert located.findings(tool_result("mypy", output=text, machine_output=side), root, root) == []


def test_container_paths_in_a_side_file_become_host_paths(tmp_path: Path) -> None:
    side = json.dumps(
        [{"filename": "/src/pkg/a.py", "location": {"row": 2, "column": 1}, "code": "E1",
          "message": "see /opt/devbox/venv/lib/python3.11/site-packages/x.py"}]
    )  # fmt: skip
    tool = tool_result("ruff", Status.FAILED, machine_output=side)
    (found,) = located.findings(tool, tmp_path, tmp_path)
    assert found.path == "pkg/a.py"
    assert "/opt/devbox" not in found.message and "<devbox venv>" in found.message
