"""--codequality: lint findings as a GitLab Code Quality report, checked against GitLab's
documented format; stable fingerprints; the option's way from the command line to the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from devbox.build.session import Options
from devbox.cli import app as cli
from devbox.commands import run as run_mod
from devbox.errors import UsageError
from devbox.report import codequality
from devbox.results.model import RunResult, Status
from helpers import make_project, tool_result

#: GitLab's Code Quality report ("Implement a custom tool": the required keys and their types)
GITLAB_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}

RUFF = (
    "src/a.py:1:8: F401 [*] `os` imported but unused\n"
    "src/a.py:9:5: F841 Local variable `y` is assigned to but never used\n"
    "src/a.py:12:5: F841 Local variable `y` is assigned to but never used\n"
)
MYPY = (
    "src/b.py:2: error: Incompatible return value type (got \"float\", expected \"int\")  [return-value]\n"
    "src/b.py:2: note: See https://mypy.rtfd.io\n"
    "Found 1 error in 1 file (checked 2 source files)\n"
)  # fmt: skip


def result(ruff: str = RUFF) -> RunResult:
    return RunResult(
        (
            tool_result("ruff", Status.FAILED, output=ruff),
            tool_result("ruff", Status.FAILED, python="3.13", output=ruff),
            tool_result("mypy", Status.FAILED, output=MYPY),
            tool_result("pytest", Status.FAILED, kind="test", output="tests/t.py:3: AssertionError\n"),
            tool_result("black", Status.PASSED, output="src/c.py:1:1: F401 not a finding\n"),
        )
    )  # fmt: skip


def report(tmp_path: Path, res: RunResult, env: dict[str, str] | None = None) -> Any:
    return json.loads(codequality.to_json(res, tmp_path, tmp_path, env or {}))


def test_the_report_has_gitlabs_format(tmp_path: Path) -> None:
    data = report(tmp_path, result())
    jsonschema.validate(data, GITLAB_SCHEMA)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in data] == [
        ("ruff F401", "src/a.py", 1),
        ("ruff F841", "src/a.py", 9),
        ("ruff F841", "src/a.py", 12),
        ("mypy return-value", "src/b.py", 2),
        ("mypy", "src/b.py", 2),
    ]  # fmt: skip
    assert [i["severity"] for i in data] == ["major", "major", "major", "major", "info"]
    assert data[0]["description"] == "`os` imported but unused [F401]"


def test_fingerprints_are_unique_and_stable_across_runs_and_moved_lines(tmp_path: Path) -> None:
    first = [i["fingerprint"] for i in report(tmp_path, result())]
    assert len(set(first)) == len(first)
    assert [i["fingerprint"] for i in report(tmp_path, result())] == first
    moved = RUFF.replace("src/a.py:1:8", "src/a.py:3:8")  # two lines added above
    assert [i["fingerprint"] for i in report(tmp_path, result(moved))] == first


def test_paths_are_relative_to_ci_project_dir_when_it_holds_the_project(tmp_path: Path) -> None:
    project = tmp_path / "checkout" / "sub"
    (project / "src").mkdir(parents=True)
    (project / "src" / "a.py").write_text("import os\n")
    res = RunResult((tool_result("ruff", Status.FAILED, output=RUFF),))
    env = {"CI_PROJECT_DIR": str(tmp_path / "checkout")}
    data = json.loads(codequality.to_json(res, project, project / "src", env))
    assert data[0]["location"]["path"] == "sub/src/a.py"


def test_secrets_are_masked_before_the_fingerprint(tmp_path: Path) -> None:
    res = RunResult((tool_result("ruff", Status.FAILED, output="src/a.py:1:1: E1 tok3n here\n"),))
    text = codequality.to_json(res, tmp_path, tmp_path, {}, masked=("tok3n",))
    assert "tok3n" not in text
    assert json.loads(text)[0]["fingerprint"] == codequality.fingerprint(
        "ruff", "src/a.py", "E1", "*** here", "1"
    )


def test_write_reports_writes_it_and_an_unwritable_path_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "gl-code-quality.json"
    opts = Options(tmp_path, "lint", {}, codequality=path)
    written = run_mod.write_reports(opts, result(), (), tmp_path, {"PWD": str(tmp_path)})
    assert written == [(path, False)]
    jsonschema.validate(json.loads(path.read_text()), GITLAB_SCHEMA)
    (tmp_path / "a-file").write_text("")
    bad = Options(tmp_path, "lint", {}, codequality=tmp_path / "a-file" / "q.json")
    with pytest.raises(UsageError, match="--codequality"):
        run_mod.check_report_paths(bad)
    run_mod.remove_reports(opts)
    assert not path.exists()


def test_the_option_reaches_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Options] = []

    def fake_run(opts: Options, env: object, console: object) -> RunResult:
        seen.append(opts)
        return RunResult(())

    monkeypatch.setattr("devbox.commands.run.run", fake_run)
    root = make_project(tmp_path / "p", '[project]\nname = "p"\nversion = "1"\n')
    for command in ("lint", "test", "check"):
        with pytest.raises(SystemExit):
            cli.main(["-C", str(root), command, "--codequality", str(tmp_path / "q.json")])
    assert [o.codequality for o in seen] == [tmp_path / "q.json"] * 3
