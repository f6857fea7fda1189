"""Tool output → findings: each built-in tool's format, GitHub annotations, JUnit cases.

The outputs below are what the tools really print (ruff 0.17, flake8 7, pylint 3, mypy 1.x,
pytest 8/9, black 24, isort 5), with the paths devbox's rewrite leaves: relative to the
directory devbox ran in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devbox import tools
from devbox.report.github import github_annotations
from devbox.report.junit import junit_cases
from devbox.results.findings import Finding
from devbox.results.model import RunResult, Status
from devbox.tools import parse
from helpers import tool_result

RUFF = """\
src/pkg/mod.py:1:1: I001 [*] Import block is un-sorted or un-formatted
src/pkg/mod.py:1:8: F401 [*] `sys` imported but unused
src/pkg/mod.py:6:5: F841 Local variable `y` is assigned to but never used
src/pkg/bad.py:1:7: invalid-syntax: Expected a parameter or the end of the parameter list
Found 4 errors.
[*] 2 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).
"""

FLAKE8 = """\
./src/pkg/mod.py:1:1: F401 'sys' imported but unused
./src/pkg/mod.py:6:5: F841 local variable 'y' is assigned to but never used
./src/pkg/fmt.py:2:2: E225 missing whitespace around operator
./src/pkg/bad.py:1:8: E999 SyntaxError: invalid syntax
./src/pkg/gone.py:0:1: E902 FileNotFoundError: [Errno 2] No such file or directory: 'gone.py'
"""

PYLINT = """\
************* Module pkg.mod
src/pkg/mod.py:1:0: C0114: Missing module docstring (missing-module-docstring)
src/pkg/mod.py:6:4: W0612: Unused variable 'y' (unused-variable)
************* Module test_x
tests/test_x.py:1:0: E0401: Unable to import 'pytest' (import-error)
tests/test_x.py:25:21: W0621: Redefining name 'broken' from outer scope (line 21) (redefined-outer-name)
src/pkg/old.py:3:0: I0021: Useless suppression of 'unused-import' (useless-suppression)

-----------------------------------
Your code has been rated at 0.00/10

"""

MYPY = """\
src/pkg/mod.py:7: error: Incompatible return value type (got "int", expected "str")  [return-value]
tests/test_x.py:21: error: Function is missing a return type annotation  [no-untyped-def]
tests/test_x.py:21: note: Use "-> None" if function does not return a value
src/pkg/mod.py:7:12: error: Incompatible return value type (got "int", expected "str")  [return-value]
src/pkg/mod.py:7:12:7:13: error: Name "x" is not defined  [name-defined]
src/pkg/mod.py:9: error: Unsupported operand types for + ("int" and "str")  [operator]
src/pkg/mod.py:9: note: Right operand is of type "str"
Found 5 errors in 2 files (checked 3 source files)
"""

PYTEST = """\
============================= test session starts ==============================
platform linux -- Python 3.13.1, pytest-8.3.4, pluggy-1.5.0
rootdir: /src
configfile: pyproject.toml
collected 8 items

tests/test_x.py .FFE                                                     [ 50%]
tests/test_y.py .FF.                                                     [100%]

==================================== ERRORS ====================================
______________________ ERROR at setup of test_fixture_err ______________________

    @pytest.fixture
    def broken():
>       raise RuntimeError("fixture broke")
E       RuntimeError: fixture broke

tests/test_x.py:22: RuntimeError
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

v = 3

    def helper(v):
>       raise ValueError(f"bad {v}")
E       ValueError: bad 3

tests/test_x.py:5: ValueError
_______________________________ TestA.test_b[2] ________________________________

self = <test_y.TestA object at 0x7fd3061b8710>, v = 2

    @pytest.mark.parametrize("v", [1, 2])
    def test_b(self, v: int) -> None:
>       assert v == 1
E       assert 2 == 1

tests/test_y.py:7: AssertionError
----------------------------- Captured stdout call -----------------------------
src/pkg/log.py:3: printed by the test, not a location
__________________________________ test_json ___________________________________

    def test_json() -> None:
>       json.loads("{")

tests/test_y.py:20: $
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ $

    def raw_decode(self, s, idx=0):
>           raise JSONDecodeError("Expecting value", s, err.value) from None
E           json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)

/usr/local/lib/python3.13/json/decoder.py:361: JSONDecodeError
=========================== short test summary info ============================
FAILED tests/test_x.py::test_wrong - AssertionError: arithmetic is hard
FAILED tests/test_x.py::test_raises - ValueError: bad 3
FAILED tests/test_y.py::TestA::test_b[2] - assert 2 == 1
FAILED tests/test_y.py::test_json - json.decoder.JSONDecodeError: Expecting property name
ERROR tests/test_x.py::test_fixture_err - RuntimeError: fixture broke
=============== 4 failed, 3 passed, 1 error in 0.05s ===============
""".replace("$\n", "\n")  # "$" marks the blanks that end a line in the real output

PYTEST_SHORT = """\
=================================== FAILURES ===================================
_______________________________ TestA.test_fail ________________________________
tests/test_y.py:10: in test_fail
    pytest.fail("explicit failure")
E   Failed: explicit failure
_________________________________ test_raises __________________________________
tests/test_x.py:17: in test_raises
    helper(3)
tests/test_x.py:5: in helper
    raise ValueError(f"bad {v}")
E   ValueError: bad 3
=========================== short test summary info ============================
FAILED tests/test_y.py::TestA::test_fail - Failed: explicit failure
FAILED tests/test_x.py::test_raises - ValueError: bad 3
========================= 2 failed, 1 passed in 0.02s ==========================
"""

PYTEST_LINE = """\
=================================== FAILURES ===================================
E   assert 2 == 1
tests/test_y.py:7: assert 2 == 1
E   Failed: explicit failure
tests/test_y.py:10: Failed: explicit failure
=========================== short test summary info ============================
FAILED tests/test_y.py::TestA::test_b[2] - assert 2 == 1
"""

PYTEST_COLLECTION = """\
==================================== ERRORS ====================================
_______________________ ERROR collecting tests/test_z.py _______________________
ImportError while importing test module '/src/tests/test_z.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/local/lib/python3.13/importlib/__init__.py:88: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_z.py:1: in <module>
    import nonexistent_mod
E   ModuleNotFoundError: No module named 'nonexistent_mod'
_______________________ ERROR collecting tests/test_s.py _______________________
/usr/local/lib/python3.13/site-packages/_pytest/python.py:493: in importtestmodule
    mod = import_path(
<frozen importlib._bootstrap>:1204: in _gcd_import
    ???
/usr/local/lib/python3.13/ast.py:50: in parse
    return compile(source, filename, mode, flags,
E     File "tests/test_s.py", line 3
E       def f(:
E             ^
E   SyntaxError: invalid syntax
=========================== short test summary info ============================
ERROR tests/test_z.py
ERROR tests/test_s.py
!!!!!!!!!!!!!!!!!!! Interrupted: 2 errors during collection !!!!!!!!!!!!!!!!!!!!
============================== 2 errors in 0.17s ===============================
"""

BLACK = """\
would reformat src/pkg/fmt.py
error: cannot parse: src/pkg/bad.py:1:6
    def f(:
         ^
ParseError: bad input
error: cannot format src/pkg/old.py: Cannot parse for target version Python 3.13: 4:10:     x = (
would reformat tests/test_x.py

Oh no! 💥 💔 💥
2 files would be reformatted, 5 files would be left unchanged, 2 files would fail to reformat.
"""

ISORT = """\
ERROR: src/pkg/mod.py Imports are incorrectly sorted and/or formatted.
ERROR: tests/test_x.py Imports are incorrectly sorted and/or formatted.
Skipped 2 files
"""

RUFF_FORMAT = """\
unformatted: File would be reformatted
 --> src/pkg/fmt.py:2:2
  |
1 | x = 1
  - y=[1,
  - 2]
2 + y = [1, 2]
  |

1 file would be reformatted, 5 files already formatted
"""

RUFF_FORMAT_OLD = """\
Would reformat: src/pkg/fmt.py
Would reformat: tests/test_x.py
2 files would be reformatted, 5 files already formatted
"""


def where(found: list[Finding]) -> list[tuple[str, int, int | None]]:
    return [(f.path, f.line, f.col) for f in found]


# --- formats ------------------------------------------------------------------------------------


def test_ruff_concise_lines_with_and_without_the_fix_marker() -> None:
    found = parse("ruff", RUFF)
    assert where(found) == [
        ("src/pkg/mod.py", 1, 1),
        ("src/pkg/mod.py", 1, 8),
        ("src/pkg/mod.py", 6, 5),
        ("src/pkg/bad.py", 1, 7),
    ]
    assert [f.code for f in found] == ["I001", "F401", "F841", "invalid-syntax"]
    assert found[1].message == "`sys` imported but unused"  # no "[*]" left in it
    assert found[3].message == "Expected a parameter or the end of the parameter list"
    assert {f.severity for f in found} == {"error"}


def test_ruff_full_format_is_read_too() -> None:
    output = (
        "F401 [*] `sys` imported but unused\n --> src/pkg/mod.py:1:8\n  |\n1 | import sys\n"
        "  |        ^^^\n\nFound 1 error.\n"
    )
    (f,) = parse("ruff", output)
    assert (f.path, f.line, f.col, f.code, f.message) == (
        "src/pkg/mod.py",
        1,
        8,
        "F401",
        "`sys` imported but unused",
    )


def test_flake8_lines_lose_their_dot_slash_and_line_0_becomes_1() -> None:
    found = parse("flake8", FLAKE8)
    assert where(found) == [
        ("src/pkg/mod.py", 1, 1),
        ("src/pkg/mod.py", 6, 5),
        ("src/pkg/fmt.py", 2, 2),
        ("src/pkg/bad.py", 1, 8),
        ("src/pkg/gone.py", 1, 1),
    ]
    assert found[0].code == "F401" and found[0].message == "'sys' imported but unused"
    assert found[3].code == "E999" and found[3].message == "SyntaxError: invalid syntax"


def test_pylint_columns_count_from_one_and_module_lines_are_ignored() -> None:
    found = parse("pylint", PYLINT)
    assert where(found) == [
        ("src/pkg/mod.py", 1, 1),
        ("src/pkg/mod.py", 6, 5),
        ("tests/test_x.py", 1, 1),
        ("tests/test_x.py", 25, 22),
        ("src/pkg/old.py", 3, 1),
    ]
    assert [f.code for f in found] == ["C0114", "W0612", "E0401", "W0621", "I0021"]
    assert [f.severity for f in found] == ["warning", "warning", "error", "warning", "note"]
    assert found[0].message == "Missing module docstring (missing-module-docstring)"
    assert not any("Module" in f.path or "rated" in f.message for f in found)


def test_mypy_with_and_without_columns_notes_and_codes() -> None:
    found = parse("mypy", MYPY)
    assert where(found) == [
        ("src/pkg/mod.py", 7, None),
        ("tests/test_x.py", 21, None),
        ("tests/test_x.py", 21, None),
        ("src/pkg/mod.py", 7, 12),
        ("src/pkg/mod.py", 7, 12),
        ("src/pkg/mod.py", 9, None),
        ("src/pkg/mod.py", 9, None),
    ]
    assert [f.severity for f in found] == [
        "error",
        "error",
        "note",
        "error",
        "error",
        "error",
        "note",
    ]
    assert [f.code for f in found] == [
        "return-value",
        "no-untyped-def",
        None,
        "return-value",
        "name-defined",
        "operator",
        None,
    ]
    assert found[0].message == 'Incompatible return value type (got "int", expected "str")'
    assert found[2].message == 'Use "-> None" if function does not return a value'


def test_pytest_one_finding_per_failing_test_at_its_failure_location() -> None:
    found = parse("pytest", PYTEST)
    assert [(f.path, f.line, f.code) for f in found] == [
        ("tests/test_x.py", 22, "RuntimeError"),
        ("tests/test_x.py", 13, "AssertionError"),
        ("tests/test_x.py", 5, "ValueError"),  # where it was raised, in the project
        ("tests/test_y.py", 7, "AssertionError"),  # the captured output is not read
        # raised in the standard library: the last frame in the project
        ("tests/test_y.py", 20, "JSONDecodeError"),
    ]
    assert found[0].message == "ERROR at setup of test_fixture_err: RuntimeError: fixture broke"
    assert found[1].message == "test_wrong: AssertionError: arithmetic is hard\nassert (2 * 2) == 5"
    assert found[3].message == "TestA.test_b[2]: assert 2 == 1"
    assert all(f.col is None and f.severity == "error" for f in found)


def test_pytest_short_and_line_tracebacks() -> None:
    short = parse("pytest", PYTEST_SHORT)
    assert [(f.path, f.line, f.code) for f in short] == [
        ("tests/test_y.py", 10, "Failed"),
        ("tests/test_x.py", 5, "ValueError"),
    ]
    assert short[0].message == "TestA.test_fail: Failed: explicit failure"
    line = parse("pytest", PYTEST_LINE)
    assert [(f.path, f.line, f.code, f.message) for f in line] == [
        ("tests/test_y.py", 7, None, "assert 2 == 1"),
        ("tests/test_y.py", 10, "Failed", "Failed: explicit failure"),
    ]


def test_pytest_collection_errors_point_at_the_test_module() -> None:
    found = parse("pytest", PYTEST_COLLECTION)
    assert [(f.path, f.line, f.code) for f in found] == [
        ("tests/test_z.py", 1, "ModuleNotFoundError"),
        ("tests/test_s.py", 3, "SyntaxError"),  # from 'File "tests/test_s.py", line 3'
    ]
    assert found[0].message.startswith("ERROR collecting tests/test_z.py: ModuleNotFoundError")


def test_pytest_passing_output_has_no_findings() -> None:
    output = (
        "============================= test session starts ==============================\n"
        "collected 2 items\n\ntests/test_x.py ..                                [100%]\n\n"
        "============================== 2 passed in 0.01s ===============================\n"
    )
    assert parse("pytest", output) == []


def test_black_isort_and_ruff_format_name_files() -> None:
    assert where(parse("black", BLACK)) == [
        ("src/pkg/fmt.py", 1, None),
        ("src/pkg/bad.py", 1, 7),  # black counts columns from 0
        ("src/pkg/old.py", 4, 11),
        ("tests/test_x.py", 1, None),
    ]
    assert parse("black", BLACK)[0].message == "File would be reformatted"
    isort = parse("isort", ISORT)
    assert where(isort) == [("src/pkg/mod.py", 1, None), ("tests/test_x.py", 1, None)]
    assert isort[0].message == "Imports are incorrectly sorted and/or formatted."
    (new,) = parse("ruff-format", RUFF_FORMAT)
    assert (new.path, new.line, new.col, new.code) == ("src/pkg/fmt.py", 2, 2, "unformatted")
    assert where(parse("ruff-format", RUFF_FORMAT_OLD)) == [
        ("src/pkg/fmt.py", 1, None),
        ("tests/test_x.py", 1, None),
    ]


def test_a_tool_reads_only_its_own_format() -> None:
    assert parse("mypy", RUFF) == []
    assert parse("ruff", MYPY) == []
    assert parse("isort", BLACK) == []
    assert parse("flake8", PYLINT) == []


def test_an_unknown_tool_is_tried_with_every_format() -> None:
    mixed = RUFF + MYPY + PYLINT + ISORT
    found = parse("my-linter", mixed)
    assert len(found) == 4 + 7 + 5 + 2
    assert found[5].code == "no-untyped-def"  # mypy's, not read as "path:line:col: CODE"
    assert found[11].severity == "warning" and found[11].col == 1  # pylint's, counted from 0
    assert where(parse("my-tests", PYTEST))[:2] == [
        ("tests/test_x.py", 22, None),
        ("tests/test_x.py", 13, None),
    ]


def test_color_codes_are_ignored() -> None:
    colored = (
        "\x1b[1msrc/a.py\x1b[0m:\x1b[36m3\x1b[0m:\x1b[36m1\x1b[0m: \x1b[31mF401\x1b[0m unused\n"
    )
    assert where(parse("ruff", colored)) == [("src/a.py", 3, 1)]


def test_summary_appends_the_code_unless_the_message_names_it() -> None:
    assert Finding("a.py", 1, 1, "unused", "F401").summary == "unused [F401]"
    assert (
        Finding("a.py", 1, None, "AssertionError: no", "AssertionError").summary
        == "AssertionError: no"
    )
    assert Finding("a.py", 1, None, "plain", None).summary == "plain"


# --- GitHub annotations -------------------------------------------------------------------------


def test_annotations_for_each_finding_of_each_failed_tool(tmp_path: Path) -> None:
    result = RunResult(
        (
            tool_result(
                "ruff",
                Status.FAILED,
                python="3.13",
                duration_s=0.1,
                output="src/a.py:3:1: F401 [*] `os` imported but unused\n",
            ),
            tool_result(
                "mypy",
                Status.FAILED,
                python="3.13",
                duration_s=0.1,
                output="src/a.py:7: error: Bad  [misc]\nsrc/a.py:7: note: See docs\n",
            ),
            tool_result(
                "flake8",
                Status.PASSED,
                python="3.13",
                duration_s=0.1,
                output="src/a.py:1:1: F401 ignored: the tool passed\n",
            ),
            tool_result("pylint", Status.ERROR, python="3.13", exit_code=-1, duration_s=0.1),
        )
    )
    assert github_annotations(result, tmp_path, tmp_path) == [
        "::error file=src/a.py,line=3,col=1,title=ruff [3.13]::`os` imported but unused [F401]",
        "::error file=src/a.py,line=7,title=mypy [3.13]::Bad [misc]",
        "::notice file=src/a.py,line=7,title=mypy [3.13]::See docs",
    ]


def test_annotation_paths_are_host_paths_relative_to_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import os\n")
    result = RunResult(
        (
            tool_result(
                "isort",
                Status.FAILED,
                python="3.13",
                duration_s=0.1,
                output="ERROR: /src/pkg/a.py Imports are incorrectly sorted and/or formatted.\n",
            ),
            tool_result(
                "ruff",
                Status.FAILED,
                python="3.13",
                duration_s=0.1,
                output="pkg/a.py:1:8: F401 [*] `os` imported but unused\n",
            ),
        )
    )
    # devbox ran in pkg/: paths are relative to it, as the rewritten output has them
    annotations = github_annotations(result, tmp_path, tmp_path / "pkg")
    assert [a.split(",")[0] for a in annotations] == ["::error file=a.py", "::error file=a.py"]
    from_root = github_annotations(result, tmp_path, tmp_path)
    assert [a.split(",")[0] for a in from_root] == [
        "::error file=pkg/a.py",
        "::error file=pkg/a.py",
    ]


def test_annotation_escaping_of_properties_and_message(tmp_path: Path) -> None:
    output = "=================================== FAILURES ===================================\n"
    output += "_____ test_pct _____\n\nE       AssertionError: 100% sure\nE       a,b: c\n"
    output += "\ntests/we,ird%.py:4: AssertionError\n"
    output += "=========== 1 failed in 0.01s ===========\n"
    result = RunResult(
        (
            tool_result(
                "pytest", Status.FAILED, python="3.12", kind="test", duration_s=0.1, output=output
            ),
        )
    )
    assert github_annotations(result, tmp_path, tmp_path) == [
        "::error file=tests/we%2Cird%25.py,line=4,title=pytest [3.12]"
        "::test_pct: AssertionError: 100%25 sure%0Aa,b: c"
    ]


def test_annotation_escaping_of_colons_and_carriage_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finding = Finding("C:/x,y.py", 4, 2, "one\r\ntwo: 50%", "E1")
    monkeypatch.setattr(tools, "parse", lambda name, text: [finding])
    result = RunResult(
        (tool_result("a:b", Status.FAILED, python="3.13", duration_s=0.1, output="anything\n"),)
    )
    assert github_annotations(result, tmp_path, tmp_path) == [
        "::error file=C%3A/x%2Cy.py,line=4,col=2,title=a%3Ab [3.13]::one%0D%0Atwo: 50%25 [E1]"
    ]


def test_title_properties_are_escaped(tmp_path: Path) -> None:
    result = RunResult(
        (
            tool_result(
                "my,tool:x",
                Status.FAILED,
                python="3.13",
                exit_code=2,
                duration_s=0.1,
                output="nothing to read\n",
            ),
        )
    )
    assert github_annotations(result, tmp_path, tmp_path) == [
        "::error title=my%2Ctool%3Ax [3.13]::my,tool:x failed (exit code 2)"
    ]


def test_a_failed_tool_without_readable_findings_gets_one_annotation(tmp_path: Path) -> None:
    result = RunResult(
        (
            tool_result(
                "pytest",
                Status.FAILED,
                python="3.13",
                kind="test",
                exit_code=5,
                duration_s=0.1,
                output="no tests ran\n",
            ),
            tool_result("ruff", Status.PASSED, python="3.13", duration_s=0.1),
        )
    )
    assert github_annotations(result, tmp_path, tmp_path) == [
        "::error title=pytest [3.13]::pytest failed (exit code 5)"
    ]
    assert github_annotations(RunResult(()), tmp_path, tmp_path) == []


# --- JUnit --------------------------------------------------------------------------------------


def test_junit_cases_one_failing_case_per_finding() -> None:
    found = parse("mypy", MYPY)[:3]
    cases = junit_cases(
        tool_result("mypy", Status.FAILED, python="3.13", duration_s=0.1, output=MYPY), found
    )
    assert [c.get("name") for c in cases] == [
        "src/pkg/mod.py:7 return-value",
        "tests/test_x.py:21 no-untyped-def",
        "tests/test_x.py:21",
    ]
    assert {c.get("classname") for c in cases} == {"devbox.lint.mypy"}
    failures = [c.find("failure") for c in cases]
    assert all(f is not None for f in failures)
    first = failures[0]
    assert first is not None
    assert first.get("type") == "return-value"
    assert (
        first.get("message")
        == 'Incompatible return value type (got "int", expected "str") [return-value]'
    )
    assert (
        first.text
        == 'src/pkg/mod.py:7: error: Incompatible return value type (got "int", expected "str") [return-value]\n'
    )
    note = failures[2]
    assert note is not None and note.get("type") == "note"  # no code: the severity


@pytest.mark.parametrize(
    ("name", "output", "count"),
    [
        ("ruff", RUFF, 4),
        ("flake8", FLAKE8, 5),
        ("pylint", PYLINT, 5),
        ("mypy", MYPY, 7),
        ("pytest", PYTEST, 5),
        ("black", BLACK, 4),
        ("isort", ISORT, 2),
        ("ruff-format", RUFF_FORMAT, 1),
    ],
)
def test_every_format_yields_its_findings(name: str, output: str, count: int) -> None:
    found = parse(name, output)
    assert len(found) == count
    assert all(f.line >= 1 and f.path and not f.path.startswith("./") for f in found)
