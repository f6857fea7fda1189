"""Exported tool results (``OUT/NAME/PYTHON/{status.json,output,junit.xml}``) → RunResult.

Whatever runs in a tool step (a test, a plugin) decides what its result files are, links
included, and the local export writes links as links. So the export is read only through
:func:`read_exported`: regular files, found without following any link.
"""

from __future__ import annotations

import enum
import errno
import json
import os
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devbox.build.contract import (
    FIELD_AFFECTED,
    FIELD_CHANGES,
    FIELD_DURATION_S,
    FIELD_ENVIRONMENT_ERROR,
    FIELD_EXIT_CODE,
    FIELD_OK,
    FIELD_PACKAGES,
    FIELD_TIMED_OUT,
    FIELD_WARNINGS,
    FINDINGS_FILE,
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
    #: the tool ran past its time limit (``timeout``) and was stopped: a failure
    TIMEOUT = "timeout"
    #: not run to the end: ``--fail-fast`` stopped the build when another tool failed
    CANCELLED = "cancelled"

    def __bool__(self) -> bool:
        return self is Status.PASSED


def seconds(value: float | None) -> str:
    """A time limit as the reports show it: 3, 2.5, 300."""
    return "?" if value is None else f"{value:g}"


@dataclass(frozen=True)
class TestCounts:
    __test__ = False  # not a pytest test class, whatever its name
    passed: int
    failed: int
    #: skipped tests, xfails not among them (pytest's summary line counts them apart)
    skipped: int
    errors: int
    #: expected failures (``@pytest.mark.xfail`` that failed, ``pytest.xfail()``)
    xfailed: int = 0
    #: xfail-marked tests that passed, where the JUnit XML says so (see :func:`junit_counts`)
    xpassed: int = 0

    def to_json(self) -> dict[str, int]:
        """The report's ``tests``: the four counts always, xfailed/xpassed when not 0."""
        data = {
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": self.errors,
        }
        if self.xfailed:
            data["xfailed"] = self.xfailed
        if self.xpassed:
            data["xpassed"] = self.xpassed
        return data


@dataclass(frozen=True)
class Changes:
    """What changed in the tree since a tool's last run (the step's sync of its copy)."""

    #: no earlier run of the tool left a copy (the first run, or its cache was removed)
    first: bool
    #: paths (at most CHANGES_LISTED of them) and how many there were in all
    changed: tuple[str, ...] = ()
    changed_count: int = 0
    deleted: tuple[str, ...] = ()
    deleted_count: int = 0


@dataclass(frozen=True)
class Affected:
    """Which tests a ``--affected`` run ran (FIELD_AFFECTED)."""

    #: pytest-testmon chose them; False: the whole suite ran (and was recorded anew)
    selected: bool
    #: why the whole suite ran ("" when selected), printable
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"selected": self.selected, "reason": self.reason}


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
    #: the tool's machine-readable findings as it wrote them (ruff's or mypy's JSON, pylint's
    #: json2: ``Tool.machine``), read by the reports instead of its text output
    machine_output: str | None = None
    #: where the full output is kept (devbox's cache dir), once the run is saved
    log_path: Path | None = None
    #: the time limit it ran with (seconds), if any
    timeout_s: float | None = None
    #: what a setting would fix (:mod:`devbox.results.hints`), one line each
    hints: tuple[str, ...] = ()
    #: what the tool step warns about although the tool ran (an extension that was not
    #: built, an install that failed), one line each, printable
    warnings: tuple[str, ...] = ()
    #: the version of the tool's distribution in its environment, when known
    version: str | None = None
    #: what changed in the tree since the tool's last run, when it ran (not replayed)
    changes: Changes | None = None
    #: why it ran instead of replaying, in the project's terms (:mod:`devbox.results.why`);
    #: empty when it replayed
    why: tuple[str, ...] = ()
    #: --affected: which tests ran (None: not a --affected run)
    affected: Affected | None = None

    def __bool__(self) -> bool:
        return bool(self.status)

    @property
    def timeout_message(self) -> str:
        """What a timed-out tool's reports say: the tool and the limit it ran past."""
        return (
            f"{self.name} timed out: still running after its time limit of "
            f"{seconds(self.timeout_s)} s (timeout), so it was stopped"
        )

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
        if self.status is Status.TIMEOUT:
            data["timeout_s"] = self.timeout_s
            data["message"] = self.timeout_message
        if self.tests is not None:
            data["tests"] = self.tests.to_json()
        if self.hints:
            data["hints"] = list(self.hints)
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.version:
            data["version"] = self.version
        data["why"] = list(self.why)
        if self.affected is not None:
            data["affected"] = self.affected.to_json()
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
    #: what it has installed: normalised distribution name → version
    packages: Mapping[str, str] = field(default_factory=dict)

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
        if self.packages:
            data["packages"] = dict(self.packages)
        return data


@dataclass(frozen=True)
class Stage:
    """One bar of the run's timeline (``--timeline``): seconds from the build's first step."""

    name: str
    #: "context" (sending the project), "environment", "tool" or "export"
    kind: str
    start_s: float
    end_s: float
    #: replayed from the engine's cache rather than run
    cached: bool


@dataclass(frozen=True)
class RunResult:
    tools: tuple[ToolResult, ...]
    #: bytes of the project's build context transferred in this run
    context_bytes: int = 0
    environments: tuple[Environment, ...] = ()
    #: the build's stages in time, as BuildKit timed them
    stages: tuple[Stage, ...] = ()

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
        return junit_counts(path.read_bytes())
    except OSError:
        return None


def junit_counts(data: bytes) -> TestCounts | None:
    """Counts from the text of a pytest JUnit XML file; None when it is not one.

    What pytest (8 and 9) writes, and how it is counted here:

    - an xfail (a marked test that failed, strict or not, or ``pytest.xfail()``): a case with
      ``<skipped type="pytest.xfail">``, and counted in the suite's ``skipped``: xfailed,
      taken out of skipped;
    - a strict xpass: a case with ``<failure message="[XPASS(strict)] ...">``: failed, as in
      pytest's own summary line;
    - a non-strict xpass: a plain passing case, nothing marks it: passed (pytest's summary
      says xpassed; the XML cannot tell);
    - ``<skipped message="xfail-marked test passes unexpectedly">`` (what pytest's writer
      still has for a failing report of an xfail-marked test): xpassed, taken out of skipped.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = failures = errors = skipped = xfailed = xpassed = 0
    try:
        for s in suites:
            tests += int(s.get("tests", 0))
            failures += int(s.get("failures", 0))
            errors += int(s.get("errors", 0))
            skipped += int(s.get("skipped", 0))
            for case in s.findall("testcase"):
                for mark in case.findall("skipped"):
                    if mark.get("type") == "pytest.xfail":
                        xfailed += 1
                    elif mark.get("message") == _XPASS_SKIPPED:
                        xpassed += 1
    except ValueError:
        return None
    passed = tests - failures - errors - skipped
    # the suite's skipped count includes them; a file whose attributes undercount does not
    # make skipped negative
    xfailed = min(xfailed, skipped)
    xpassed = min(xpassed, skipped - xfailed)
    return TestCounts(passed, failures, skipped - xfailed - xpassed, errors, xfailed, xpassed)


#: the message of pytest's ``<skipped>`` for an xfail-marked test whose report failed
_XPASS_SKIPPED = "xfail-marked test passes unexpectedly"


class NotARegularFile(Exception):
    """A result file (or a directory on the way to it) is a link or another kind of file."""

    def __init__(self, name: str, kind: str) -> None:
        super().__init__(name, kind)
        self.name = name
        self.kind = kind

    def message(self, step: str) -> str:
        return f"{step}'s {self.name} is {self.kind}: results are read only from regular files"


# O_NOFOLLOW: a link put in the file's place after the lstat is refused, not followed.
# O_NONBLOCK: opening a FIFO (which a step can make) must not wait for a writer; the fstat
# then refuses it. Neither changes how a regular file reads.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS |= getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def read_exported(root: Path, directory: Sequence[str], name: str) -> bytes:
    """The content of the regular file ``root/directory[0]/.../name``, following no link.

    Every directory below ``root`` on the way must be a directory, and the file a regular
    file: anything else raises :class:`NotARegularFile` (naming the file, or the directory by
    its path below ``root``). A missing one raises FileNotFoundError. ``root`` is devbox's own
    private directory and the build has finished, so nothing else changes the tree while it is
    read: the lstat of each part says what is there, and O_NOFOLLOW with an fstat make sure
    the file opened is the one looked at.
    """
    parts = (*directory, name)
    if any(p in ("", ".", "..") or "/" in p or os.sep in p for p in parts):
        raise ValueError(f"not a path below the export: {parts!r}")
    path = root
    for i, part in enumerate(directory):
        path = path / part
        mode = os.lstat(path).st_mode
        if not stat.S_ISDIR(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a directory"
            raise NotARegularFile("directory " + "/".join(directory[: i + 1]), kind)
    path = path / name
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFile(name, _kind(mode))
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        # ELOOP from O_NOFOLLOW (EMLINK on the BSDs): a link has appeared in its place
        if exc.errno in (errno.ELOOP, errno.EMLINK) or os.path.islink(path):
            raise NotARegularFile(name, "a symbolic link") from exc
        raise
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(name, _kind(mode))
        return f.read()


#: who wrote the files a reader reads, as its messages name them
TOOL_STEP = "the tool step"
INSTALL_STEP = "the install step"


def read_environment(out_dir: Path, python: str, image: str, *, cached: bool) -> Environment:
    """What the install step of ``python`` recorded (see _container/install.py)."""
    where = ("environments", python)
    try:
        status = json.loads(read_exported(out_dir, where, STATUS_FILE).decode("utf-8"))
        ok = bool(status[FIELD_OK])
    except NotARegularFile as exc:
        return Environment(python, image, cached, ok=False, error=exc.message(INSTALL_STEP))
    except (OSError, ValueError, KeyError, TypeError):
        return Environment(
            python, image, cached, ok=False, error="the install step recorded no outcome"
        )
    if ok:
        return Environment(python, image, cached, packages=_packages(status.get(FIELD_PACKAGES)))
    try:
        log = read_exported(out_dir, where, INSTALL_LOG).decode("utf-8", errors="replace")
    except NotARegularFile as exc:
        log = "devbox: " + exc.message(INSTALL_STEP) + "\n"
    except OSError:
        log = ""
    return Environment(
        python, image, cached, ok=False, error="installing the dependencies failed", log=log
    )


def read_result(out_dir: Path, run: ToolRun, *, cached: bool) -> ToolResult:
    """One tool's exported result; a missing or unreadable status counts as a failure, and so
    does any result file that is not a regular file (it is named, never followed)."""
    unsafe: list[str] = []

    def read(name: str) -> bytes | None:
        try:
            return read_exported(out_dir, (run.name, run.python), name)
        except NotARegularFile as exc:
            unsafe.append("devbox: " + exc.message(TOOL_STEP) + ".\n")
        except OSError:
            pass
        return None

    raw_status = read(STATUS_FILE)
    env_error = timed_out = False
    warnings: tuple[str, ...] = ()
    changes: Changes | None = None
    selection: Affected | None = None
    try:
        if raw_status is None:
            raise ValueError("no status")
        status = json.loads(raw_status.decode("utf-8"))
        env_error = isinstance(status, dict) and bool(status.get(FIELD_ENVIRONMENT_ERROR))
        timed_out = isinstance(status, dict) and status.get(FIELD_TIMED_OUT) is True
        warnings = _warnings(status.get(FIELD_WARNINGS) if isinstance(status, dict) else None)
        changes = parse_changes(status.get(FIELD_CHANGES) if isinstance(status, dict) else None)
        selection = _affected(status.get(FIELD_AFFECTED) if isinstance(status, dict) else None)
        exit_code = int(status[FIELD_EXIT_CODE])
        duration = float(status[FIELD_DURATION_S])
    except (ValueError, KeyError, TypeError):
        exit_code, duration = -1, 0.0
    if env_error:
        return ToolResult(run.name, run.kind, run.python, Status.ERROR, exit_code, 0.0, cached, "")
    raw_output = read(OUTPUT_FILE)
    if raw_output is None:
        output = "devbox: the tool step exported no output.\n"
    else:
        output = raw_output.decode("utf-8", errors="replace")
    raw_junit = read(JUNIT_FILE) if run.junit else None
    raw_machine = read(FINDINGS_FILE)
    tests = junit_counts(raw_junit) if raw_junit is not None else None
    junit_xml = None
    if raw_junit is not None and tests is not None:
        junit_xml = raw_junit.decode("utf-8", errors="replace")
    if unsafe:
        # A result that is partly a link cannot be trusted at all: it fails, says why, and
        # keeps what was regular of its output (an unsafe output is not shown).
        kept = output if raw_output is not None else ""
        return ToolResult(
            run.name, run.kind, run.python, Status.FAILED, -1, duration, cached,
            "".join(unsafe) + kept,
        )  # fmt: skip
    passed = Status.PASSED if exit_code == 0 else Status.FAILED
    return ToolResult(
        name=run.name,
        kind=run.kind,
        python=run.python,
        status=Status.TIMEOUT if timed_out else passed,
        exit_code=exit_code,
        duration_s=duration,
        cached=cached,
        output=output,
        tests=tests,
        junit_xml=junit_xml,
        machine_output=None if raw_machine is None else raw_machine.decode("utf-8", "replace"),
        timeout_s=run.timeout,
        warnings=warnings,
        changes=None if cached else changes,
        affected=selection,
    )


_DIST_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}$")
#: at most this many packages are read from an environment's record
MAX_PACKAGES = 5000


def _packages(value: object) -> dict[str, str]:
    """An install step's package record, keeping only well-formed names and versions (it is
    printed and written to reports)."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for name, version in list(value.items())[:MAX_PACKAGES]:
        if (
            isinstance(name, str)
            and isinstance(version, str)
            and _DIST_NAME.match(name)
            and _VERSION.match(version)
        ):
            out[name] = version
    return out


#: at most this many warnings per tool, each at most this long
MAX_WARNINGS = 5
MAX_WARNING_CHARS = 500


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def parse_changes(value: object) -> Changes | None:
    """The step's record of what changed, its paths made printable; None when unreadable."""
    if not isinstance(value, dict) or not isinstance(value.get("first"), bool):
        return None

    def paths(key: str) -> tuple[str, ...]:
        got = value.get(key)
        items = got if isinstance(got, list) else []
        return tuple(_printable(p)[:MAX_WARNING_CHARS] for p in items[:50] if isinstance(p, str))

    def count(key: str, listed: tuple[str, ...]) -> int:
        got = value.get(key)
        return got if isinstance(got, int) and got >= len(listed) else len(listed)

    changed, deleted = paths("changed"), paths("deleted")
    return Changes(
        value["first"],
        changed,
        count("changed_count", changed),
        deleted,
        count("deleted_count", deleted),
    )


def _affected(value: object) -> Affected | None:
    if not isinstance(value, dict) or not isinstance(value.get("selected"), bool):
        return None
    reason = value.get("reason")
    text = _printable(reason)[:MAX_WARNING_CHARS] if isinstance(reason, str) else ""
    return Affected(value["selected"], text)


def _warnings(value: object) -> tuple[str, ...]:
    """The step's warnings, as lines fit for a terminal: strings only, control characters
    and escape sequences replaced, bounded in number and length."""
    if not isinstance(value, list):
        return ()
    out = []
    for item in value[:MAX_WARNINGS]:
        if isinstance(item, str) and item.strip():
            out.append(_printable(item.strip())[:MAX_WARNING_CHARS])
    return tuple(out)
