"""--format github: annotations checked against GitHub's workflow-command syntax, GitHub's
limits and ordering, GITHUB_WORKSPACE paths, folded output and the job summary."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from devbox import tools
from devbox.commands import run as run_mod
from devbox.report import console as report
from devbox.report import github
from devbox.results.findings import Finding
from devbox.results.model import RunResult, Status, ToolResult
from helpers import tool_result

# -- GitHub's documented grammar: ::command key=value,key=value::message ---------------------

#: the properties each annotation command takes
PROPS = {"file", "line", "endLine", "col", "endColumn", "title"}
_LINE = re.compile(r"::(?P<cmd>[A-Za-z][A-Za-z0-9-]*)(?: (?P<props>[^:]*))?::(?P<msg>.*)")
_DATA_ESC = {"%25": "%", "%0D": "\r", "%0A": "\n"}
_PROP_ESC = {**_DATA_ESC, "%3A": ":", "%2C": ","}


def _unescape(text: str, table: dict[str, str]) -> str:
    """Every % must start one of the escapes of ``table`` (else GitHub reads it otherwise)."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "%":
            code = text[i : i + 3].upper()
            assert code in table, f"unescaped % in {text!r}"
            out.append(table[code])
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command → (command, properties, message), unescaped; fails on what the
    grammar rejects."""
    assert "\n" not in line and "\r" not in line
    m = _LINE.fullmatch(line)
    assert m, f"not a workflow command: {line!r}"
    props: dict[str, str] = {}
    for item in (m.group("props") or "").split(",") if m.group("props") else []:
        key, sep, value = item.partition("=")
        assert sep and key in PROPS and key not in props, item
        props[key] = _unescape(value, _PROP_ESC)
    for key in ("line", "col"):
        if key in props:
            assert props[key].isdigit() and int(props[key]) >= 1
    return m.group("cmd"), props, _unescape(m.group("msg"), _DATA_ESC)


def failed(name: str, findings: list[Finding], python: str = "3.12") -> ToolResult:
    return tool_result(
        name, Status.FAILED, python=python, output="\n".join(f.path for f in findings)
    )


@pytest.fixture
def fake_parse(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Finding]]:
    """Findings by the tool's output: what the test says each tool found."""
    table: dict[str, list[Finding]] = {}
    monkeypatch.setattr(tools, "parse", lambda name, text: table.get(name, []))
    return table


def test_every_line_is_a_workflow_command_and_values_round_trip(
    tmp_path: Path, fake_parse: dict[str, list[Finding]]
) -> None:
    odd = Finding("we,ird:%0A.py", 3, 2, "50% sure,\r\nreally: %0A", "E1", "note")
    fake_parse["a,b:c"] = [odd]
    result = RunResult((failed("a,b:c", [odd]),))
    (line,) = github.github_annotations(result, tmp_path, tmp_path)
    command, props, message = parse(line)
    assert command == "notice"
    assert props == {"file": odd.path, "line": "3", "col": "2", "title": "a,b:c [3.12]"}
    assert message == odd.summary


def test_notes_and_hints_are_notices_and_devbox_warnings_are_warnings(
    tmp_path: Path, fake_parse: dict[str, list[Finding]]
) -> None:
    note = Finding("src/a.py", 7, None, "See docs", None, "note")
    fake_parse["mypy"] = [note]
    mypy = failed("mypy", [note])
    hinted = ToolResult(
        "pytest", "test", "3.12", Status.PASSED, 0, 1.0, False, "",
        hints=("devbox: hint: set pytest-plugins",), warnings=("the extension was not built",),
    )  # fmt: skip
    lines = github.github_annotations(RunResult((mypy, hinted)), tmp_path, tmp_path)
    assert [parse(line)[0] for line in lines] == ["warning", "notice", "notice"]
    assert parse(lines[0])[2] == "the extension was not built"
    assert {parse(line)[2] for line in lines[1:]} == {
        "See docs",
        "devbox: hint: set pytest-plugins",
    }


def test_most_important_first_and_at_most_what_github_shows(
    tmp_path: Path, fake_parse: dict[str, list[Finding]]
) -> None:
    def many(n: int, severity: str, name: str) -> list[Finding]:
        return [Finding(f"{name}.py", i + 1, None, f"m{i}", None, severity) for i in range(n)]  # type: ignore[arg-type]

    fake_parse["notes"] = many(15, "note", "notes")
    fake_parse["ruff"] = many(25, "error", "ruff") + many(12, "warning", "ruff")
    hint = ToolResult("ok", "lint", "3.12", Status.PASSED, 0, 1.0, False, "", hints=("a hint",))
    result = RunResult((hint, failed("notes", []), failed("ruff", [])))
    annotations = github.annotate(result, tmp_path, tmp_path)
    parsed = [parse(line) for line in annotations.lines]
    assert [c for c, _, _ in parsed] == ["error"] * 10 + ["warning"] * 10 + ["notice"] * 10
    assert [p["line"] for c, p, _ in parsed if c == "error"] == [str(i) for i in range(1, 11)]
    # the failing tool's notices come before the passing tool's hint, which is left out
    assert "a hint" not in [m for _, _, m in parsed]
    assert annotations.omitted == 15 + 2 + 5 + 1
    assert annotations.more_line() is not None and "23 more" in str(annotations.more_line())


def test_at_most_50_per_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(github, "PER_TYPE", 40)
    many = [github.Annotation(c, "m", "t") for c in ("error", "warning") for _ in range(40)]
    shown, omitted = github.select(many)
    assert len(shown) == 50 and omitted == 30
    assert [a.command for a in shown] == ["error"] * 40 + ["warning"] * 10


def test_paths_are_relative_to_github_workspace_when_it_holds_the_project(tmp_path: Path) -> None:
    project = tmp_path / "repo" / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "a.py").write_text("import os\n")
    ruff = tool_result(
        "ruff", Status.FAILED, output="src/a.py:1:8: F401 `os` imported but unused\n"
    )
    result = RunResult((ruff,))
    cwd = project / "src"
    env = {"GITHUB_WORKSPACE": str(tmp_path / "repo")}
    (line,) = github.github_annotations(result, project, cwd, env)
    assert parse(line)[1]["file"] == "proj/src/a.py"
    elsewhere = {"GITHUB_WORKSPACE": str(tmp_path / "other")}
    (line,) = github.github_annotations(result, project, cwd, elsewhere)
    assert parse(line)[1]["file"] == "a.py"  # relative to the current directory


def test_long_output_is_folded_and_never_read_as_workflow_commands(tmp_path: Path) -> None:
    long = "".join(f"line {i}\n" for i in range(30)) + "::error::injected\n::endgroup::\n"
    result = RunResult(
        (
            tool_result("custom", Status.FAILED, output=long),
            tool_result("short", Status.FAILED, output="::warning::two\n"),
        )
    )
    buf = io.StringIO()
    console = Console(file=buf, width=200, no_color=True)
    report.print_failures(console, result, tmp_path, tmp_path, github=True)
    lines = buf.getvalue().splitlines()
    commands = [line for line in lines if line.startswith("::")]
    start = lines.index(next(c for c in commands if c.startswith("::group::")))
    assert parse(lines[start])[2] == "custom failed (exit code 1, Python 3.11): 32 lines"
    # between ::stop-commands::TOKEN and ::TOKEN:: GitHub runs no command
    stops = [i for i, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert len(stops) == 2
    for i in stops:
        token = lines[i].split("::")[2]
        assert len(token) == 32
        end = lines.index(f"::{token}::", i)
        inside = lines[i + 1 : end]
        assert any(line.startswith("::") for line in inside)  # the output's own lines
    assert lines[lines.index(f"::{lines[stops[0]].split('::')[2]}::") + 1] == "::endgroup::"
    assert sum(line == "::endgroup::" for line in lines) == 2  # ours, and the quoted one
    assert not any(line.startswith("::group::") for line in lines[stops[1] - 2 :])


def _job(root: Path, env: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(
        plan=SimpleNamespace(project=SimpleNamespace(root=root)),
        env=env,
        secrets=SimpleNamespace(values=lambda: ("s3cret",)),
    )


def test_job_summary_is_appended_with_table_failures_links_and_timings(
    tmp_path: Path, fake_parse: dict[str, list[Finding]]
) -> None:
    fake_parse["ruff"] = [
        Finding("src/a.py", i, 1, f"bad | thing s3cret <b>{i}</b>", "F401") for i in range(1, 26)
    ]
    result = RunResult(
        (
            tool_result("ruff", Status.FAILED, duration_s=0.4, output="x"),
            tool_result("slow", Status.TIMEOUT, duration_s=30.0),
            tool_result("mypy", Status.PASSED, duration_s=2.5, cached=True),
        )
    )
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_SHA": "abc",
    }
    buf = io.StringIO()
    run_mod._github(_job(tmp_path, env), result, Console(file=buf, width=300), tmp_path)  # type: ignore[arg-type]
    out = buf.getvalue().splitlines()
    annotations = [line for line in out if line.startswith("::")]
    assert len(annotations) == 10 and all(parse(a)[0] == "error" for a in annotations)
    assert any("16 more annotations" in line for line in out)  # 25 + the timeout, 10 shown
    text = summary.read_text()
    assert text.startswith("earlier step\n## devbox: 2 of 3 tools did not pass\n")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0] == "| tool | Python | status | time | tests |"
    assert all(len(re.split(r"(?<!\\)\|", row)) == 7 for row in rows)  # 5 cells each
    assert rows[2].startswith("| ruff | 3.11 | ❌ failed | 0.4s |")
    assert "| mypy | 3.11 | ✅ passed | 2.5s (cached) |" in text
    assert "Total tool time: 32.9s." in text
    link = "[src/a.py:3](https://github.example/o/r/blob/abc/src/a.py#L3)"
    assert (
        f"- **ruff** \\[3.11\\] {link}: bad \\| thing \\*\\*\\* &lt;b&gt;3&lt;/b&gt; \\[F401\\]"
        in text
    )
    assert "s3cret" not in text and "<b>" not in text
    assert "slow timed out" in text
    assert "16 more annotations than GitHub shows" in text


def test_no_summary_file_without_the_variable(tmp_path: Path) -> None:
    buf = io.StringIO()
    result = RunResult((tool_result("mypy"),))
    run_mod._github(_job(tmp_path, {}), result, Console(file=buf), tmp_path)  # type: ignore[arg-type]
    assert buf.getvalue() == ""
