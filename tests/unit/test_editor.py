"""VS Code tasks: problem matchers against real devbox output, and merging tasks.json (JSONC)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from devbox.commands import editor
from devbox.commands.editor import (
    ISORT_REGEXP,
    LINT_MATCHERS,
    LINT_REGEXP,
    MYPY_REGEXP,
    PYTEST_REGEXP,
    REFORMAT_REGEXP,
    RUFF_FULL_HEADER_REGEXP,
    RUFF_FULL_LOCATION_REGEXP,
    TEST_MATCHERS,
    TOOL_MATCHERS,
    devbox_tasks,
    vscode_tasks,
    write_vscode,
)
from devbox.errors import ConfigError
from devbox.report.console import print_failures, print_summary
from devbox.results.model import RunResult, Status
from helpers import tool_result

REGEXPS = [
    LINT_REGEXP,
    MYPY_REGEXP,
    PYTEST_REGEXP,
    REFORMAT_REGEXP,
    ISORT_REGEXP,
    RUFF_FULL_HEADER_REGEXP,
    RUFF_FULL_LOCATION_REGEXP,
]
KEYS = ("file", "line", "column", "severity", "code", "message")


def problems(matchers: Any, text: str) -> list[dict[str, str | None]]:
    """What VS Code reads from ``text`` with these problem matchers (JavaScript regexes in
    Python's ``re``, ASCII like JavaScript's ``\\w``/``\\d``; a list of patterns matches
    consecutive lines), in line order."""
    lines = text.splitlines()
    found: list[tuple[int, dict[str, str | None]]] = []
    for matcher in matchers:
        patterns = (
            matcher["pattern"] if isinstance(matcher["pattern"], list) else [matcher["pattern"]]
        )
        regexes = [re.compile(p["regexp"], re.ASCII) for p in patterns]
        for i in range(len(lines) - len(patterns) + 1):
            matches = [r.match(lines[i + k]) for k, r in enumerate(regexes)]
            if not all(matches):
                continue
            data: dict[str, str | None] = {}
            for pattern, m in zip(patterns, matches, strict=True):
                assert m is not None
                data.update({k: m.group(pattern[k]) for k in KEYS if k in pattern})
            if data.get("severity") is None and "severity" in matcher:  # the matcher's default
                data["severity"] = matcher["severity"]
            found.append((i, data))
    return [d for _, d in sorted(found, key=lambda item: item[0])]


# --- the regexes themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("regexp", REGEXPS)
def test_regexps_use_only_syntax_javascript_reads_the_same(regexp: str) -> None:
    for python_only in (
        "(?P",
        "(?<",
        "(?#",
        "(?>",
        "(?i",
        "(?s",
        "(?m",
        "(?x",
        r"\Z",
        r"\A",
        "*+",
        "++",
        "?+",
    ):
        assert python_only not in regexp
    re.compile(regexp, re.ASCII)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "src/pkg/mod.py:1:8: F401 [*] `sys` imported but unused",
            ("src/pkg/mod.py", "1", "8", "F401", "`sys` imported but unused"),
        ),
        (
            "src/pkg/mod.py:6:5: F841 Local variable `y` is assigned to but never used",
            (
                "src/pkg/mod.py",
                "6",
                "5",
                "F841",
                "Local variable `y` is assigned to but never used",
            ),
        ),
        (
            "src/pkg/bad.py:1:7: invalid-syntax: Expected a parameter or the end of the parameter list",
            (
                "src/pkg/bad.py",
                "1",
                "7",
                None,
                "invalid-syntax: Expected a parameter or the end of the parameter list",
            ),
        ),
        (  # flake8
            "./src/pkg/mod.py:1:1: F401 'sys' imported but unused",
            ("./src/pkg/mod.py", "1", "1", "F401", "'sys' imported but unused"),
        ),
        (  # relative to the current directory when devbox ran in a subdirectory
            "../src/pkg/mod.py:1:8: F401 [*] `sys` imported but unused",
            ("../src/pkg/mod.py", "1", "8", "F401", "`sys` imported but unused"),
        ),
    ],
)
def test_lint_regexp_reads_ruff_flake8_and_pylint(
    line: str, expected: tuple[str | None, ...]
) -> None:
    m = re.match(LINT_REGEXP, line, re.ASCII)
    assert m is not None
    assert m.groups() == expected


@pytest.mark.parametrize(
    ("code", "severity"),
    [("E1101", "error"), ("F0001", "error"), ("W0621", "warning"), ("C0114", "info"),
     ("R0913", "info"), ("I0011", "info")],
)  # fmt: skip
def test_pylint_lines_get_their_severity_and_no_column(code: str, severity: str) -> None:
    """pylint counts columns from 0, which no matcher can correct: its lines are pylint's
    matchers' alone (the shared lint one leaves them), marked on the line, by severity."""
    from devbox.tools.spec import PYLINT_MATCHERS

    line = f"tests/test_x.py:25:21: {code}: Redefining name 'broken' (redefined-outer-name)"
    assert re.match(LINT_REGEXP, line, re.ASCII) is None
    found = problems(PYLINT_MATCHERS, line)
    assert found == [
        {
            "file": "tests/test_x.py",
            "line": "25",
            "code": code,
            "message": "Redefining name 'broken' (redefined-outer-name)",
            "severity": severity,
        }
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'src/pkg/mod.py:7: error: Incompatible return value type (got "int", expected "str")  [return-value]',
            (
                "src/pkg/mod.py",
                "7",
                None,
                "error",
                'Incompatible return value type (got "int", expected "str")',
                "return-value",
            ),
        ),
        (
            'src/pkg/mod.py:7:12: error: Incompatible return value type (got "int", expected "str")  [return-value]',
            (
                "src/pkg/mod.py",
                "7",
                "12",
                "error",
                'Incompatible return value type (got "int", expected "str")',
                "return-value",
            ),
        ),
        (
            'src/pkg/mod.py:7:12:7:13: error: Name "x" is not defined  [name-defined]',
            ("src/pkg/mod.py", "7", "12", "error", 'Name "x" is not defined', "name-defined"),
        ),
        (
            'tests/test_x.py:21: note: Use "-> None" if function does not return a value',
            (
                "tests/test_x.py",
                "21",
                None,
                "note",
                'Use "-> None" if function does not return a value',
                None,
            ),
        ),
    ],
)
def test_mypy_regexp(line: str, expected: tuple[str | None, ...]) -> None:
    m = re.match(MYPY_REGEXP, line, re.ASCII)
    assert m is not None
    assert m.groups() == expected
    assert re.match(LINT_REGEXP, line, re.ASCII) is None  # not read twice


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tests/test_x.py:13: AssertionError", ("tests/test_x.py", "13", "AssertionError")),
        ("tests/test_y.py:10: Failed", ("tests/test_y.py", "10", "Failed")),
        (
            "tests/test_y.py:20: json.decoder.JSONDecodeError",
            ("tests/test_y.py", "20", "json.decoder.JSONDecodeError"),
        ),
        # --tb=line
        (
            "tests/test_y.py:10: Failed: explicit failure",
            ("tests/test_y.py", "10", "Failed: explicit failure"),
        ),
    ],
)
def test_pytest_regexp(line: str, expected: tuple[str, ...]) -> None:
    m = re.match(PYTEST_REGEXP, line, re.ASCII)
    assert m is not None
    assert m.groups() == expected


@pytest.mark.parametrize(
    "line",
    [
        "tests/test_x.py:17: ",  # an intermediate frame of a traceback
        "tests/test_x.py:17: in test_raises",  # --tb=short
        "src/pkg/mod.py:7: error: Incompatible return value type  [return-value]",
        "src/pkg/mod.py:1:8: F401 [*] `sys` imported but unused",
        "  /src/tests/test_x.py:5: DeprecationWarning: old",  # the warnings summary
        "FAILED tests/test_x.py::test_wrong - AssertionError: arithmetic is hard",
        "tests/test_x.py .FFE                                                     [100%]",
    ],
)
def test_pytest_regexp_ignores(line: str) -> None:
    assert re.match(PYTEST_REGEXP, line, re.ASCII) is None


@pytest.mark.parametrize(
    "line",
    [
        "Found 4 errors.",
        "[*] 3 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).",
        "************* Module pkg.mod",
        "Your code has been rated at 0.00/10",
        "devbox: ruff: failed (0.4s)",
        "devbox: failed: ruff, mypy",
        "Found 5 errors in 2 files (checked 3 source files)",
        " --> src/pkg/fmt.py:2:2",
        "tests/test_x.py:13: AssertionError",
    ],
)
def test_lint_and_mypy_regexps_ignore(line: str) -> None:
    assert re.match(LINT_REGEXP, line, re.ASCII) is None
    assert re.match(MYPY_REGEXP, line, re.ASCII) is None


def groups(regexp: str, line: str) -> tuple[str | None, ...] | None:
    m = re.match(regexp, line, re.ASCII)
    return None if m is None else m.groups()


@pytest.mark.parametrize(
    ("regexp", "line", "expected"),
    [
        (REFORMAT_REGEXP, "would reformat src/pkg/fmt.py", ("would reformat", "src/pkg/fmt.py")),
        (REFORMAT_REGEXP, "Would reformat: src/pkg/fmt.py", ("Would reformat:", "src/pkg/fmt.py")),
        (REFORMAT_REGEXP, "1 file would be reformatted, 5 files already formatted", None),
        (REFORMAT_REGEXP, "Oh no! 💥 💔 💥", None),
        (
            ISORT_REGEXP,
            "ERROR: src/pkg/mod.py Imports are incorrectly sorted and/or formatted.",
            ("src/pkg/mod.py", "Imports are incorrectly sorted and/or formatted."),
        ),
        (ISORT_REGEXP, "Skipped 2 files", None),
        (
            RUFF_FULL_HEADER_REGEXP,
            "unformatted: File would be reformatted",
            ("unformatted", "File would be reformatted"),
        ),
        (
            RUFF_FULL_HEADER_REGEXP,
            "F401 [*] `sys` imported but unused",
            ("F401", "`sys` imported but unused"),
        ),
        (RUFF_FULL_LOCATION_REGEXP, " --> src/pkg/fmt.py:2:2", ("src/pkg/fmt.py", "2", "2")),
        (RUFF_FULL_LOCATION_REGEXP, "  |", None),
    ],
)
def test_format_regexps(regexp: str, line: str, expected: tuple[str, ...] | None) -> None:
    assert groups(regexp, line) == expected


# --- the matchers on what devbox prints -----------------------------------------------------------


def devbox_output(result: RunResult, root: Path, cwd: Path) -> str:
    """devbox's failure report and summary, as the command line prints them (no colors)."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=100, soft_wrap=True, highlight=False)
    print_failures(console, result, root, cwd)
    print_summary(console, result)
    return buf.getvalue()


LINT_RESULT = RunResult(
    (
        tool_result(
            "ruff",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output="src/pkg/mod.py:1:8: F401 [*] `sys` imported but unused\nFound 1 error.\n[*] 1 fixable with the `--fix` option.\n",
        ),
        tool_result(
            "flake8",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output="./src/pkg/mod.py:6:5: F841 local variable 'y' is assigned to but never used\n",
        ),
        tool_result(
            "pylint",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output="************* Module pkg.mod\nsrc/pkg/mod.py:1:0: C0114: Missing module docstring (missing-module-docstring)\n\n------\nYour code has been rated at 5.00/10\n",
        ),
        tool_result(
            "mypy",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output='src/pkg/mod.py:7: error: Incompatible return value type (got "int", expected "str")  [return-value]\nsrc/pkg/mod.py:7: note: See docs\nFound 1 error in 1 file (checked 2 source files)\n',
        ),
        tool_result(
            "black",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output="would reformat /src/src/pkg/fmt.py\n\nOh no! 💥 💔 💥\n1 file would be reformatted.\n",
        ),
        tool_result(
            "isort",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output="ERROR: /src/src/pkg/mod.py Imports are incorrectly sorted and/or formatted.\n",
        ),
        tool_result(
            "ruff-format",
            Status.FAILED,
            python="3.13",
            duration_s=0.4,
            output="unformatted: File would be reformatted\n --> src/pkg/fmt.py:2:2\n  |\n1 | x = 1\n  - y=[1,\n2 + y = [1, 2]\n  |\n\n1 file would be reformatted\n",
        ),
    )
)


def test_lint_matchers_on_devbox_lint_output(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    text = devbox_output(LINT_RESULT, tmp_path, tmp_path)
    assert "ruff failed (exit code 1, Python 3.13)" in text  # it is devbox's report indeed
    found = problems(LINT_MATCHERS, text)
    assert [(p["file"], p.get("line"), p.get("column"), p.get("code")) for p in found] == [
        ("src/pkg/mod.py", "1", "8", "F401"),
        ("./src/pkg/mod.py", "6", "5", "F841"),
        ("src/pkg/mod.py", "1", None, "C0114"),  # pylint: no column (it counts from 0)
        ("src/pkg/mod.py", "7", None, "return-value"),
        ("src/pkg/mod.py", "7", None, None),
        ("src/pkg/fmt.py", None, None, None),  # black: the path rewritten from /src/...
        ("src/pkg/mod.py", None, None, None),  # isort
        ("src/pkg/fmt.py", "2", "2", "unformatted"),
    ]
    assert found[3]["severity"] == "error" and found[4]["severity"] == "note"
    assert found[2]["severity"] == "info"  # pylint's convention message
    assert found[0]["message"] == "`sys` imported but unused"
    assert found[3]["message"] == 'Incompatible return value type (got "int", expected "str")'


def test_matchers_follow_paths_rebased_to_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text("import sys\n")
    text = devbox_output(RunResult((LINT_RESULT.tools[0],)), tmp_path, tmp_path / "src")
    assert [p["file"] for p in problems(LINT_MATCHERS, text)] == ["pkg/mod.py"]


def test_test_matchers_on_devbox_test_output(tmp_path: Path) -> None:
    output = """\
============================= test session starts ==============================
collected 3 items

tests/test_x.py .FF                                                      [100%]

=================================== FAILURES ===================================
__________________________________ test_wrong __________________________________

    def test_wrong() -> None:
>       assert 2 * 2 == 5, "arithmetic is hard"
E       AssertionError: arithmetic is hard
E       assert (2 * 2) == 5

tests/test_x.py:13: AssertionError
_________________________________ test_raises __________________________________

    def test_raises() -> None:
>       helper(3)

tests/test_x.py:17: $
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ $

    def helper(v):
>       raise ValueError(f"bad {v}")
E       ValueError: bad 3

tests/test_x.py:5: ValueError
=========================== short test summary info ============================
FAILED tests/test_x.py::test_wrong - AssertionError: arithmetic is hard
FAILED tests/test_x.py::test_raises - ValueError: bad 3
========================= 2 failed, 1 passed in 0.02s ==========================
""".replace("$\n", "\n")  # "$": the blanks that end a line in the real output
    text = devbox_output(
        RunResult(
            (
                tool_result(
                    "pytest",
                    Status.FAILED,
                    python="3.13",
                    kind="test",
                    duration_s=0.4,
                    output=output,
                ),
            )
        ),
        tmp_path,
        tmp_path,
    )
    found = problems(TEST_MATCHERS, text)
    assert [(p["file"], p["line"], p["message"]) for p in found] == [
        ("tests/test_x.py", "13", "AssertionError"),
        ("tests/test_x.py", "5", "ValueError"),
    ]
    assert problems(LINT_MATCHERS, text) == []  # the lint matchers read nothing of it


def test_no_line_is_read_by_two_lint_matchers() -> None:
    text = "\n".join(t.output for t in LINT_RESULT.tools)
    for line in text.splitlines():
        assert len(problems(LINT_MATCHERS, line)) <= 1, line


# --- the tasks ----------------------------------------------------------------------------------

_COMMENT = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(\s*[\]}])')


def jsonc(text: str) -> Any:
    """An independent reader for the test: drop comments, then trailing commas."""
    text = _COMMENT.sub(lambda m: m.group(1) or "", text)
    return json.loads(_TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text))


def labels(text: str) -> list[str]:
    return [t["label"] for t in jsonc(text)["tasks"]]


def test_a_new_file_has_lint_test_and_a_task_per_tool() -> None:
    text = vscode_tasks(None, ["ruff", "mypy", ("pytest", "test"), ("my-check", "lint")])
    data = json.loads(text)  # plain JSON
    assert data["version"] == "2.0.0"
    by_label = {t["label"]: t for t in data["tasks"]}
    assert list(by_label) == [
        "devbox: lint",
        "devbox: test",
        "devbox: ruff",
        "devbox: mypy",
        "devbox: pytest",
        "devbox: my-check",
    ]
    assert by_label["devbox: lint"]["command"] == "devbox lint"
    assert "options" not in by_label["devbox: lint"]
    assert by_label["devbox: test"]["command"] == "devbox test"
    assert by_label["devbox: test"]["group"] == "test"
    # one tool, chosen on the command line: the configuration (and so the environment)
    # stays the one of every other command
    assert by_label["devbox: ruff"]["command"] == "devbox lint ruff"
    assert by_label["devbox: pytest"]["command"] == "devbox test pytest"
    assert all("options" not in t for t in data["tasks"])
    assert by_label["devbox: lint"]["problemMatcher"] == list(LINT_MATCHERS)
    assert by_label["devbox: test"]["problemMatcher"] == list(TEST_MATCHERS)
    assert by_label["devbox: mypy"]["problemMatcher"] == list(TOOL_MATCHERS["mypy"])
    assert by_label["devbox: my-check"]["problemMatcher"] == list(LINT_MATCHERS)
    for task in data["tasks"]:
        for matcher in task["problemMatcher"]:
            assert matcher["fileLocation"] == ["relative", "${workspaceFolder}"]
    assert text.endswith("}\n")


def test_tool_names_take_the_builtin_kind_and_pairs_are_checked() -> None:
    tasks = devbox_tasks(["pytest", "ruff", "lint", "ruff"])
    assert [t["label"] for t in tasks] == [
        "devbox: lint",
        "devbox: test",
        "devbox: pytest",
        "devbox: ruff",
    ]
    assert tasks[2]["command"] == "devbox test pytest"
    with pytest.raises(ValueError, match="neither"):
        devbox_tasks([("x", "build")])


PRE = """\
// Tasks for this project: devbox only touches the "devbox: ..." ones.
{
  "version": "2.0.0", // VS Code wants this
  /* a block comment
     over two lines, with "quotes" and a [bracket */
  "tasks": [
    {
      "label": "docs", // build the docs
      "type": "shell",
      "command": "make html",
      "options": {"env": {"URL": "http://example.invalid/a//b"}},
    },
    """
OLD_LINT = """\
{
      "label": "devbox: lint",
      // an older devbox wrote this
      "command": "devbox lint --old"
    }"""
MID = """,
    // the deploy task
    {"label": "deploy", "type": "process", "command": "./deploy.sh"}"""
POST = """
  ],
  "inputs": [],
}
"""


def test_merge_keeps_everything_outside_devbox_tasks_byte_for_byte() -> None:
    existing = PRE + OLD_LINT + MID + POST
    out = vscode_tasks(existing, ["ruff"], source=".vscode/tasks.json")
    tasks = devbox_tasks(["ruff"])
    assert out.startswith(PRE) and out.endswith(POST)
    middle = out[len(PRE) : len(out) - len(POST)]
    replaced, appended = middle.split(MID + ",")
    assert json.loads(replaced) == tasks[0]  # devbox: lint, replaced where it was
    assert replaced.splitlines()[-1] == "    }"  # indented like the tasks around it
    assert json.loads("[" + appended + "]") == tasks[1:]  # the others after the last task
    assert appended.startswith("\n    {\n      ")  # the file's two-space indentation
    data = jsonc(out)
    assert [t["label"] for t in data["tasks"]] == [
        "docs",
        "devbox: lint",
        "deploy",
        "devbox: test",
        "devbox: ruff",
    ]
    assert data["tasks"][0]["options"]["env"]["URL"] == "http://example.invalid/a//b"
    assert data["inputs"] == []


def test_merge_is_idempotent() -> None:
    once = vscode_tasks(PRE + OLD_LINT + MID + POST, ["ruff", "pytest"])
    assert vscode_tasks(once, ["ruff", "pytest"]) == once
    fresh = vscode_tasks(None, ["ruff"])
    assert vscode_tasks(fresh, ["ruff"]) == fresh


def test_trailing_commas_are_read_and_their_style_kept() -> None:
    existing = (
        '{\n\t"version": "2.0.0",\n\t"tasks": [\n\t\t{"label": "a", "command": "x",},\n\t],\n}\n'
    )
    out = vscode_tasks(existing, [])
    assert out.startswith(
        '{\n\t"version": "2.0.0",\n\t"tasks": [\n\t\t{"label": "a", "command": "x",},\n\t\t{\n\t\t\t"label": "devbox: lint",'
    )
    assert out.endswith("\n\t\t},\n\t],\n}\n")  # the last task keeps a trailing comma
    assert labels(out) == ["a", "devbox: lint", "devbox: test"]
    assert vscode_tasks(out, []) == out


def test_a_comment_after_the_last_task_stays_with_it() -> None:
    existing = '{\n  "tasks": [\n    {"label": "a"} // about a\n  ]\n}\n'
    out = vscode_tasks(existing, [])
    assert out.startswith('{\n  "tasks": [\n    {"label": "a"}, // about a\n    {\n')
    assert out.endswith("\n    }\n  ]\n}\n")
    assert labels(out) == ["a", "devbox: lint", "devbox: test"]


@pytest.mark.parametrize(
    "existing",
    [
        '{"version": "2.0.0"}',
        '{\n    // no tasks yet\n    "version": "2.0.0",\n}\n',
        '{"version": "2.0.0", "tasks": []}',
        '{\n  "tasks": [ /* none */ ]\n}',
        '{\n  "tasks": [\n  ]\n}\n',
        "{}",
    ],
)
def test_a_file_without_tasks_gets_them(existing: str) -> None:
    out = vscode_tasks(existing, ["mypy"])
    assert labels(out) == ["devbox: lint", "devbox: test", "devbox: mypy"]
    for kept in ("// no tasks yet", "/* none */", '"version": "2.0.0"'):
        assert (kept in existing) == (kept in out)
    assert vscode_tasks(out, ["mypy"]) == out


def test_a_closing_bracket_on_the_same_line_moves_to_its_own() -> None:
    out = vscode_tasks('{\n  "tasks": [ /* none */ ]\n}', [])
    assert out.startswith('{\n  "tasks": [ /* none */\n    {\n      "label": "devbox: lint",')
    assert out.endswith("\n      ]\n    }\n  ]\n}")
    out = vscode_tasks('{"tasks": [{"label": "a"} ]}', [])
    assert out.startswith('{"tasks": [{"label": "a"},\n    {\n')
    assert out.endswith("\n    }\n]}")


def test_an_empty_or_comment_only_file() -> None:
    assert vscode_tasks("", ["ruff"]) == vscode_tasks(None, ["ruff"])
    out = vscode_tasks("// my tasks\n", ["ruff"])
    assert out.startswith("// my tasks\n{\n")
    assert labels(out) == ["devbox: lint", "devbox: test", "devbox: ruff"]


def test_devbox_tasks_no_longer_wanted_are_removed() -> None:
    existing = """{
  "tasks": [
    {"label": "a"},
    // flake8 was configured once
    {"label": "devbox: flake8", "command": "devbox lint"},
    {"label": "devbox: ruff", "command": "devbox lint"}, // keep this comment
    {"label": "b"}, {"label": "devbox: ruff", "command": "devbox lint ruff"}
  ]
}
"""
    out = vscode_tasks(existing, ["ruff"])
    assert labels(out) == ["a", "devbox: ruff", "b", "devbox: lint", "devbox: test"]
    assert "devbox: flake8" not in out
    assert "    // flake8 was configured once\n    {\n" in out  # the comment stays
    assert "}, // keep this comment\n" in out
    assert '    {"label": "b"}, {\n' not in out  # the duplicate went, "b" stayed
    assert vscode_tasks(out, ["ruff"]) == out
    # removing a tool gives what a new file would have
    assert vscode_tasks(vscode_tasks(None, ["ruff", "flake8"]), ["ruff"]) == vscode_tasks(
        None, ["ruff"]
    )


def test_crlf_line_breaks_are_kept() -> None:
    existing = '{\r\n  "tasks": [\r\n    {"label": "a"} // a\r\n  ]\r\n}\r\n'
    out = vscode_tasks(existing, ["ruff"])
    assert "\n" not in out.replace("\r\n", "")
    assert out.startswith('{\r\n  "tasks": [\r\n    {"label": "a"}, // a\r\n    {\r\n')
    assert labels(out.replace("\r\n", "\n")) == [
        "a",
        "devbox: lint",
        "devbox: test",
        "devbox: ruff",
    ]


@pytest.mark.parametrize(
    ("existing", "where"),
    [
        ('{\n  "tasks": [\n    {"label": "a"}\n    {"label": "b"}\n  ]\n}', "line 4, column 5"),
        ('{\n  "tasks": [] /* unterminated\n}', "line 2, column 15"),
        ("{\n  'tasks': []\n}", "line 2, column 3"),
        ('{"tasks": ["unterminated]}', "line 1, column 12"),
        ('{"tasks": []} {}', "line 1, column 15"),
        ('{"tasks": [undefined]}', "line 1, column 12"),
        ('{"tasks": [', "line 1, column 12"),
        ('{"tasks": [1,,2]}', "line 1, column 14"),
    ],
)
def test_an_unreadable_file_is_a_config_error_naming_it(existing: str, where: str) -> None:
    with pytest.raises(ConfigError) as info:
        vscode_tasks(existing, ["ruff"], source="proj/.vscode/tasks.json")
    assert info.value.message.startswith(
        "proj/.vscode/tasks.json: cannot read it as JSON with comments"
    )
    assert where in info.value.message


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        ('[{"label": "a"}]', "top level is not an object"),
        ('{"tasks": {}}', '"tasks" is not an array'),
    ],
)
def test_an_unexpected_shape_is_a_config_error(existing: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as info:
        vscode_tasks(existing, [], source="x/tasks.json")
    assert info.value.message.startswith("x/tasks.json: ")


# --- writing ------------------------------------------------------------------------------------


def test_write_vscode_creates_then_reports_no_change(tmp_path: Path) -> None:
    text, changed = write_vscode(tmp_path, ["ruff"], dry_run=False)
    path = tmp_path / ".vscode" / "tasks.json"
    assert changed and path.read_text(encoding="utf-8") == text
    assert labels(text) == ["devbox: lint", "devbox: test", "devbox: ruff"]
    assert write_vscode(tmp_path, ["ruff"], dry_run=False) == (text, False)
    text2, changed2 = write_vscode(tmp_path, ["ruff", "mypy"], dry_run=False)
    assert changed2 and labels(text2)[-1] == "devbox: mypy"
    assert path.read_text(encoding="utf-8") == text2


def test_write_vscode_dry_run_writes_nothing(tmp_path: Path) -> None:
    text, changed = write_vscode(tmp_path, ["ruff"], dry_run=True)
    assert changed and "devbox: ruff" in text
    assert not (tmp_path / ".vscode").exists()
    (tmp_path / ".vscode").mkdir()
    (tmp_path / ".vscode" / "tasks.json").write_bytes(b'{"tasks": [{"label": "a"}]}\r\n')
    text, changed = write_vscode(tmp_path, ["ruff"], dry_run=True)
    assert changed and labels(text)[0] == "a"
    assert (tmp_path / ".vscode" / "tasks.json").read_bytes() == b'{"tasks": [{"label": "a"}]}\r\n'


def test_write_vscode_keeps_bytes_and_refuses_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / ".vscode" / "tasks.json"
    path.parent.mkdir()
    path.write_bytes(b'\xef\xbb\xbf{\r\n  "tasks": []\r\n}\r\n')  # a BOM, CRLF
    write_vscode(tmp_path, [], dry_run=False)
    data = path.read_bytes()
    assert data.startswith(b'\xef\xbb\xbf{\r\n  "tasks": [\r\n    {\r\n')
    assert b"\n" not in data.replace(b"\r\n", b"")
    path.write_bytes(b'{"tasks": [\xff]}')
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        write_vscode(tmp_path, [], dry_run=False)
    path.write_text('{"tasks": [}', encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        write_vscode(tmp_path, [], dry_run=False)
    assert path.read_text(encoding="utf-8") == '{"tasks": [}'


def test_the_file_location_constant_is_what_tasks_carry() -> None:
    assert editor.FILE_LOCATION == ["relative", "${workspaceFolder}"]


def test_a_users_task_named_like_devbox_is_never_taken_for_devbox_s() -> None:
    from devbox.edit.vscode import MARKER

    existing = """{
  "tasks": [
    {"label": "devbox: deploy", "type": "shell", "command": "./deploy.sh"},
    {"label": "devbox: mine", "command": "devbox lint", "detail": "my own"}
  ]
}
"""
    out = vscode_tasks(existing, ["ruff"])
    assert labels(out) == [
        "devbox: deploy",
        "devbox: mine",
        "devbox: lint",
        "devbox: test",
        "devbox: ruff",
    ]
    assert '"command": "./deploy.sh"' in out and '"detail": "my own"' in out
    assert out.count(MARKER) == 3  # devbox's own tasks say so
    assert vscode_tasks(out, ["ruff"]) == out  # and are recognised by it next time


def test_a_users_task_with_the_label_devbox_needs_is_an_error_not_overwritten() -> None:
    existing = '{"tasks": [{"label": "devbox: lint", "command": "make lint"}]}\n'
    with pytest.raises(ConfigError, match=r"'devbox: lint' in tasks\.json is not one devbox wrote"):
        vscode_tasks(existing, ["ruff"])
