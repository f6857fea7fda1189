"""What the user sees: live progress, failing tools' output, the summary, JSON."""

from __future__ import annotations

import os
import posixpath
import re
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from devbox.build.contract import UV_VENV, VENV, WORKDIR
from devbox.build.plan import ToolRun
from devbox.results.findings import ESCAPES
from devbox.results.model import RunResult, Status, TestCounts, ToolResult, seconds
from devbox.results.progress import ToolProgress

_STYLES = {
    "queued": "dim",
    "installing": "cyan",
    "running": "yellow",
    "passed": "green",
    "cached": "green",
    "failed": "bold red",
    "error": "bold red",
    "timeout": "bold red",
}

# A container path: /src or /src/... not preceded by a path character.
_CONTAINER_PATH = re.compile(r"(?<![\w.~/-])" + re.escape(WORKDIR) + r"(/[^\s:'\"(),]*)?(?![\w.-])")
# Installed packages exist only in the image: not clickable host paths, say so.
_VENVS = "(?:" + re.escape(VENV) + "|" + re.escape(UV_VENV) + ")"
_IMAGE_PATHS = (
    (re.compile(_VENVS + r"/lib/python\d+\.\d+/site-packages/"), "<devbox venv>/"),
    (re.compile(re.escape(VENV) + "/"), "<devbox venv>/"),
    (re.compile(re.escape(posixpath.dirname(VENV)) + "/"), "<devbox>/"),
)
# "path/to/file.py:12" at the start of a line (ruff, flake8, mypy, pylint style).
_LEADING_PATH = re.compile(r"^([\w.][\w./-]*):(\d+)", re.MULTILINE)


def rewrite_paths(text: str, project_root: Path, cwd: Path) -> str:
    """Container paths → paths relative to ``cwd`` that exist on the host.

    Absolute ``/src/...`` paths become host paths; when devbox runs from another directory
    than the project root, project-relative ``file:line`` prefixes are re-based too, so
    editors and terminals can jump to them.
    """

    def host(rel: str) -> str:
        target = project_root / rel.lstrip("/") if rel.strip("/") else project_root
        return os.path.relpath(target, cwd)

    if project_root.resolve() != cwd.resolve():

        def rebase(m: re.Match[str]) -> str:
            candidate = project_root / m.group(1)
            if candidate.exists() and not Path(m.group(1)).is_absolute():
                return f"{os.path.relpath(candidate, cwd)}:{m.group(2)}"
            return m.group(0)

        text = _LEADING_PATH.sub(rebase, text)
    for pattern, label in _IMAGE_PATHS:
        text = pattern.sub(label, text)
    # After the relative pass, which never matches an absolute path: nothing is re-based twice.
    return _CONTAINER_PATH.sub(lambda m: host(m.group(1) or ""), text)


def _elapsed(p: ToolProgress, now: float) -> str:
    if p.started_at is None:
        return ""
    end = p.ended_at if p.ended_at is not None else now
    return f"{end - p.started_at:.1f}s"


class LiveView:
    """A rich table on a TTY; progressive plain lines otherwise."""

    def __init__(self, console: Console, runs: Sequence[ToolRun], *, quiet: bool = False) -> None:
        self.console = console
        self.runs = runs
        self.quiet = quiet
        self._live: Live | None = None
        self._shown: dict[str, str] = {}
        self._progress: dict[str, ToolProgress] = {}

    def __enter__(self) -> LiveView:
        if self.console.is_terminal and not self.quiet:
            self._live = Live(
                self._table(), console=self.console, refresh_per_second=8, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(exc_type, exc, tb)

    def update(self, progress: dict[str, ToolProgress]) -> None:
        self._progress = progress
        if self._live is not None:
            self._live.update(self._table())
            return
        if self.quiet:
            return
        now = time.monotonic()
        for run in self.runs:
            p = progress.get(run.key)
            if p is None or self._shown.get(run.key) == p.state or p.state == "queued":
                continue
            self._shown[run.key] = p.state
            elapsed = _elapsed(p, now)
            suffix = f" ({elapsed})" if elapsed and p.state not in ("running", "installing") else ""
            self.console.print(
                f"devbox: {self._label(run)}: {p.state}{suffix}", highlight=False, markup=False
            )

    def _label(self, run: ToolRun) -> str:
        """``pytest``; with several Python versions, ``pytest [3.13]``."""
        return f"{run.name} [{run.python}]" if len({r.python for r in self.runs}) > 1 else run.name

    def _table(self) -> Table:
        now = time.monotonic()
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column("tool")
        table.add_column("state")
        table.add_column("time", justify="right")
        for run in self.runs:
            p = self._progress.get(run.key, ToolProgress())
            table.add_row(
                self._label(run), Text(p.state, style=_STYLES.get(p.state, "")), _elapsed(p, now)
            )
        return table


def print_failures(console: Console, result: RunResult, project_root: Path, cwd: Path) -> None:
    """Each failing tool's output; grouped by Python version when there are several."""
    failing = [t for t in result.tools if t.status in (Status.FAILED, Status.TIMEOUT)]
    versions = list(dict.fromkeys(t.python for t in result.tools))
    for python in versions:
        group = [t for t in failing if t.python == python]
        if group and len(versions) > 1:
            console.print(Text(f"== Python {python} ==", style="bold"))
        for tool in group:
            if tool.status is Status.TIMEOUT:
                title = f"{tool.timeout_message} (Python {tool.python})"
            else:
                title = f"{tool.name} failed (exit code {tool.exit_code}, Python {tool.python})"
            console.rule(Text(title, style="bold red"), align="left")
            print_output(console, tool, project_root, cwd)


#: more than this is not printed whole: the tail, and where the full output is
TAIL_LINES = 200
MAX_PRINTED_BYTES = 256 * 1024


def print_output(console: Console, tool: ToolResult, project_root: Path, cwd: Path) -> None:
    """A tool's output with host paths; a huge one as its tail plus the path of the full log."""
    output = tool.output
    lines = output.rstrip("\n").split("\n")
    if len(output) > MAX_PRINTED_BYTES or len(lines) > 2 * TAIL_LINES:
        tail = "\n".join(lines[-TAIL_LINES:])[-MAX_PRINTED_BYTES:]
        where = f"; full output: {tool.log_path}" if tool.log_path else ""
        console.print(
            Text(
                f"[{len(lines)} lines, {len(output.encode()) / 1024 / 1024:.1f} MB: the last {TAIL_LINES}{where}]",
                style="dim",
            )
        )
        output = tail
    # Escape sequences a tool printed would drive the terminal; show the text only.
    console.print(Text(ESCAPES.sub("", rewrite_paths(output, project_root, cwd)).rstrip("\n")))


def print_environment_error(console: Console, message: str, detail: str) -> None:
    """One Python version's environment could not be built (the others ran)."""
    console.rule(Text("environment error", style="bold red"), align="left")
    console.print(Text("devbox: " + message, style="red"))
    if detail:
        console.print(Text(detail))


def print_outputs(console: Console, result: RunResult, project_root: Path, cwd: Path) -> None:
    """-v: every tool's full output."""
    for tool in result.tools:
        console.rule(Text(f"{tool.name} ({tool.status.value}, Python {tool.python})"), align="left")
        print_output(console, tool, project_root, cwd)


#: the tests column's width that keeps a summary row within 80 columns (the other columns
#: take 45 at most with the built-in tools: "pytest │ test │ 3.13   │ timeout │ 123.4s │ ")
TESTS_WIDTH = 35


def counts_cell(counts: TestCounts) -> str:
    """The summary's tests column.

    Without xfails and xpasses: the four counts, as always ("2 passed, 0 failed, 0 skipped,
    0 errors"). With them: passed and the counts that are not 0 ("2 passed, 1 failed,
    3 xfailed, 1 xpassed"), in short words when that is wider than :data:`TESTS_WIDTH`
    ("2 pass, 1 fail, 1 skip, 3 xfail, 1 xpass").
    """
    if not counts.xfailed and not counts.xpassed:
        return (
            f"{counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped, "
            f"{counts.errors} errors"
        )
    parts = [
        (counts.passed, "passed", "pass"),
        (counts.failed, "failed", "fail"),
        (counts.skipped, "skipped", "skip"),
        (counts.errors, "errors", "err"),
        (counts.xfailed, "xfailed", "xfail"),
        (counts.xpassed, "xpassed", "xpass"),
    ]
    shown = [p for i, p in enumerate(parts) if i == 0 or p[0]]
    long = ", ".join(f"{n} {word}" for n, word, _ in shown)
    if len(long) <= TESTS_WIDTH:
        return long
    return ", ".join(f"{n} {short}" for n, _, short in shown)


def print_summary(console: Console, result: RunResult) -> None:
    table = Table(title=None, show_edge=False)
    for col in ("tool", "kind", "python", "status", "time", "tests"):
        table.add_column(col, justify="right" if col == "time" else "left")
    for t in result.tools:
        state = "cached" if t.cached and t else t.status.value
        tests = "" if t.tests is None else counts_cell(t.tests)
        table.add_row(
            t.name,
            t.kind,
            t.python,
            Text(state, style=_STYLES[state]),
            f"{t.duration_s:.1f}s",
            tests,
        )
    console.print(table)
    several = len({t.python for t in result.tools}) > 1
    failed = [
        f"{t.name} [{t.python}]" if several else t.name
        for t in result.tools
        if t.status is Status.FAILED
    ]
    timed_out = [
        (f"{t.name} [{t.python}]" if several else t.name) + f" (limit {seconds(t.timeout_s)} s)"
        for t in result.tools
        if t.status is Status.TIMEOUT
    ]
    broken = [e.python for e in result.environments if not e.ok]
    if broken:
        console.print(
            Text(f"devbox: environment errors: Python {', '.join(broken)}", style="bold red")
        )
    if failed:
        console.print(Text(f"devbox: failed: {', '.join(failed)}", style="bold red"))
    if timed_out:
        console.print(Text(f"devbox: timed out: {', '.join(timed_out)}", style="bold red"))
    if not failed and not timed_out and result.ok:
        n = len(result.tools)
        console.print(
            Text(
                f"devbox: all {n} tools passed" if n != 1 else "devbox: 1 tool passed",
                style="green",
            )
        )
