"""Exported tool results (``/devbox/out/NAME/{status.json,output,junit.xml}``) → RunResult."""

from __future__ import annotations

import enum
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devbox.plan import ToolRun


class Status(enum.Enum):
    """A tool's outcome; truthy only when it passed, so ``all(results)`` decides the exit code."""

    PASSED = "passed"
    FAILED = "failed"

    def __bool__(self) -> bool:
        return self is Status.PASSED


@dataclass(frozen=True)
class TestCounts:
    passed: int
    failed: int
    skipped: int
    errors: int


@dataclass(frozen=True)
class ToolResult:
    name: str
    kind: str
    python: str
    status: Status
    exit_code: int
    duration_s: float
    cached: bool
    output: str
    tests: TestCounts | None = None

    def __bool__(self) -> bool:
        return bool(self.status)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "python": self.python,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "duration_s": self.duration_s,
            "cached": self.cached,
        }
        if self.tests is not None:
            data["tests"] = {
                "passed": self.tests.passed,
                "failed": self.tests.failed,
                "skipped": self.tests.skipped,
                "errors": self.tests.errors,
            }
        return data


@dataclass(frozen=True)
class Environment:
    """The dependency stage (test-base) of one Python version."""

    python: str
    image: str
    #: True when nothing was installed this run: every install step was replayed
    cached: bool

    def to_json(self) -> dict[str, Any]:
        return {"python": self.python, "image": self.image, "cached": self.cached}


@dataclass(frozen=True)
class RunResult:
    tools: tuple[ToolResult, ...]
    #: bytes of the project's build context transferred in this run
    context_bytes: int = 0
    environments: tuple[Environment, ...] = ()

    @property
    def ok(self) -> bool:
        return all(self.tools)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tools": [t.to_json() for t in self.tools],
            "environments": [e.to_json() for e in self.environments],
            "context_bytes": self.context_bytes,
        }


def parse_junit(path: Path) -> TestCounts | None:
    """Counts from a pytest JUnit XML file (one or more ``testsuite`` elements)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = failures = errors = skipped = 0
    try:
        for s in suites:
            tests += int(s.get("tests", 0))
            failures += int(s.get("failures", 0))
            errors += int(s.get("errors", 0))
            skipped += int(s.get("skipped", 0))
    except ValueError:
        return None
    return TestCounts(tests - failures - errors - skipped, failures, skipped, errors)


def read_result(out_dir: Path, run: ToolRun, *, cached: bool) -> ToolResult:
    """One tool's exported result; a missing or unreadable status counts as a failure."""
    tool_dir = out_dir / run.name
    try:
        status = json.loads((tool_dir / "status.json").read_text(encoding="utf-8"))
        exit_code = int(status["exit_code"])
        duration = float(status["duration_s"])
    except (OSError, ValueError, KeyError, TypeError):
        exit_code, duration = -1, 0.0
    try:
        output = (tool_dir / "output").read_bytes().decode("utf-8", errors="replace")
    except OSError:
        output = "devbox: the tool step exported no output.\n"
    tests = parse_junit(tool_dir / "junit.xml") if run.junit else None
    return ToolResult(
        name=run.name,
        kind=run.kind,
        python=run.python,
        status=Status.PASSED if exit_code == 0 else Status.FAILED,
        exit_code=exit_code,
        duration_s=duration,
        cached=cached,
        output=output,
        tests=tests,
    )
