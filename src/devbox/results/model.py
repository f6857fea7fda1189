"""Exported tool results (``OUT/NAME/PYTHON/{status.json,output,junit.xml}``) → RunResult."""

from __future__ import annotations

import enum
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devbox.build.contract import (
    FIELD_DURATION_S,
    FIELD_ENVIRONMENT_ERROR,
    FIELD_EXIT_CODE,
    FIELD_OK,
    INSTALL_LOG,
    JUNIT_FILE,
    OUTPUT_FILE,
    STATUS_FILE,
)
from devbox.build.plan import ToolRun, tool_key


class Status(enum.Enum):
    """A tool's outcome; truthy only when it passed, so ``all(results)`` decides the exit code."""

    PASSED = "passed"
    FAILED = "failed"
    #: the tool could not run: its Python version's environment could not be built
    ERROR = "error"

    def __bool__(self) -> bool:
        return self is Status.PASSED


@dataclass(frozen=True)
class TestCounts:
    __test__ = False  # not a pytest test class, whatever its name
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
    #: the tool's own JUnit XML (pytest), merged into devbox's --junit-xml
    junit_xml: str | None = None
    #: where the full output is kept (devbox's cache dir), once the run is saved
    log_path: Path | None = None

    def __bool__(self) -> bool:
        return bool(self.status)

    @property
    def key(self) -> str:
        return tool_key(self.name, self.python)

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
    ok: bool = True
    #: why it could not be built (with ``log``: the installer's output)
    error: str = ""
    log: str = ""
    #: the pre-built dependency image used instead of installing (base-ref), if any
    base: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "python": self.python,
            "image": self.image,
            "cached": self.cached,
            "ok": self.ok,
            "base": self.base or None,
        }
        if not self.ok:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class RunResult:
    tools: tuple[ToolResult, ...]
    #: bytes of the project's build context transferred in this run
    context_bytes: int = 0
    environments: tuple[Environment, ...] = ()

    @property
    def ok(self) -> bool:
        return all(self.tools) and all(e.ok for e in self.environments)

    @property
    def nothing_ran(self) -> bool:
        """No tool could run at all (every environment failed): exit code 3, not 1."""
        return (bool(self.tools) and all(t.status is Status.ERROR for t in self.tools)) or (
            not self.tools and any(not e.ok for e in self.environments)
        )

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


def read_environment(out_dir: Path, python: str, image: str, *, cached: bool) -> Environment:
    """What the install step of ``python`` recorded (see _container/install.py)."""
    env_dir = out_dir / "environments" / python
    try:
        status = json.loads((env_dir / STATUS_FILE).read_text(encoding="utf-8"))
        ok = bool(status[FIELD_OK])
    except (OSError, ValueError, KeyError, TypeError):
        return Environment(
            python, image, cached, ok=False, error="the install step recorded no outcome"
        )
    if ok:
        return Environment(python, image, cached)
    try:
        log = (env_dir / INSTALL_LOG).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        log = ""
    return Environment(
        python, image, cached, ok=False, error="installing the dependencies failed", log=log
    )


def read_result(out_dir: Path, run: ToolRun, *, cached: bool) -> ToolResult:
    """One tool's exported result; a missing or unreadable status counts as a failure."""
    tool_dir = out_dir / run.name / run.python
    env_error = False
    try:
        status = json.loads((tool_dir / STATUS_FILE).read_text(encoding="utf-8"))
        env_error = isinstance(status, dict) and bool(status.get(FIELD_ENVIRONMENT_ERROR))
        exit_code = int(status[FIELD_EXIT_CODE])
        duration = float(status[FIELD_DURATION_S])
    except (OSError, ValueError, KeyError, TypeError):
        exit_code, duration = -1, 0.0
    if env_error:
        return ToolResult(run.name, run.kind, run.python, Status.ERROR, exit_code, 0.0, cached, "")
    try:
        output = (tool_dir / OUTPUT_FILE).read_bytes().decode("utf-8", errors="replace")
    except OSError:
        output = "devbox: the tool step exported no output.\n"
    tests = parse_junit(tool_dir / JUNIT_FILE) if run.junit else None
    junit_xml = None
    if tests is not None:
        junit_xml = (tool_dir / JUNIT_FILE).read_text(encoding="utf-8", errors="replace")
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
        junit_xml=junit_xml,
    )
