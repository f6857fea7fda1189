"""Why a tool ran (devbox.results.why), from what the step recorded and what devbox asked."""

from __future__ import annotations

import dataclasses

from devbox.results import why
from devbox.results.model import Changes, RunResult, Status, parse_changes
from helpers import tool_result


def ran(changes: Changes | None) -> tuple[str, ...]:
    return why.reasons(dataclasses.replace(tool_result("pytest"), changes=changes))


def test_the_changed_files_are_named() -> None:
    assert ran(Changes(False, ("tests/test_x.py",), 1)) == ("tests/test_x.py changed",)
    many = Changes(False, ("a.py", "b.py", "c.py", "d.py"), 7, ("old.py",), 1)
    assert ran(many) == ("7 files changed: a.py, b.py, c.py and 4 more", "old.py deleted")


def test_first_run_forced_runs_and_the_environment() -> None:
    assert ran(Changes(True)) == (why.FIRST,)
    tool = dataclasses.replace(tool_result("pytest"), changes=Changes(False))
    assert why.reasons(tool, forced=why.FAILED, environment_built=True) == (
        why.FAILED,
        why.ENVIRONMENT,
    )
    # nothing the step or devbox knows of: the tool's step itself changed
    assert ran(Changes(False)) == (why.OTHER,) and ran(None) == (why.OTHER,)


def test_a_replayed_tool_has_no_reason() -> None:
    cached = dataclasses.replace(tool_result("ruff", cached=True), changes=Changes(True))
    assert why.reasons(cached, forced=why.RERUN) == ()


def test_explain_fills_every_tool_and_the_json() -> None:
    result = RunResult(
        (
            dataclasses.replace(tool_result("pytest"), changes=Changes(False, ("t.py",), 1)),
            tool_result("ruff", Status.FAILED, cached=True),
        )
    )
    explained = why.explain(result, {"pytest@3.11": why.RERUN}, set())
    assert [t.why for t in explained.tools] == [(why.RERUN, "t.py changed"), ()]
    assert explained.to_json()["tools"][0]["why"] == [why.RERUN, "t.py changed"]


def test_the_steps_record_is_read_defensively() -> None:
    assert parse_changes(None) is None and parse_changes({"changed": []}) is None
    got = parse_changes({"first": False, "changed": ["a\x1b[31m.py", 3], "changed_count": -1})
    assert got == Changes(False, ("a?[31m.py",), 1)
