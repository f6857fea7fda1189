"""What the user sees: live progress, failing tools' output, the summary, JSON."""

from __future__ import annotations

import os
import posixpath
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from devbox.build.contract import CACHE, OUT, UV_VENV, VENV, WORKDIR
from devbox.build.plan import ToolRun
from devbox.results.model import (
    Affected,
    RunResult,
    Status,
    TestCounts,
    ToolResult,
    seconds,
)
from devbox.results.progress import ToolProgress, colours_only

_STYLES = {
    "queued": "dim",
    "installing": "cyan",
    "running": "yellow",
    "passed": "green",
    "cached": "green",
    "failed": "bold red",
    "error": "bold red",
    "timeout": "bold red",
    "cancelled": "yellow",
}

# A container path: /src or /src/... not preceded by a path character.
_CONTAINER_PATH = re.compile(r"(?<![\w.~/-])" + re.escape(WORKDIR) + r"(/[^\s:'\"(),]*)?(?![\w.-])")
# Installed packages exist only in the image: not clickable host paths, say so.
_VENVS = "(?:" + re.escape(VENV) + "|" + re.escape(UV_VENV) + ")"
#: ``../../`` before an image path: pytest prints a frame outside its rootdir relative to it
_UP = r"(?:(?<![\w.~/-])\.\.(?:/\.\.)*)?"
_IMAGE_PATHS = (
    (re.compile(_UP + _VENVS + r"/lib/python\d+\.\d+/site-packages/"), "<devbox venv>/"),
    (re.compile(_UP + re.escape(VENV) + "/"), "<devbox venv>/"),
    (re.compile(_UP + re.escape(posixpath.dirname(VENV)) + "/"), "<devbox>/"),
    # devbox's own places in the step ("generated xml file: /devbox/out/...", pytest's
    # "cachedir: /devbox/cache/pytest"): no host path either
    (re.compile(r"(?<![\w.~/-])" + re.escape(OUT) + r"(?=/|\b)"), "<devbox results>"),
    (re.compile(r"(?<![\w.~/-])" + re.escape(CACHE) + r"(?=/|\b)"), "<devbox cache>"),
)
# "path/to/file.py:12" at the start of a line (ruff, flake8, mypy, pylint style).
_LEADING_PATH = re.compile(r"^([\w.][\w./-]*):(\d+)", re.MULTILINE)


def affected_line(affected: Affected) -> str:
    """What a --affected run ran, in a line."""
    if affected.selected:
        return (
            "only the tests the changes affect ran, and those that failed last time "
            "(pytest-testmon); the others passed when they last ran, on code that has not "
            "changed since"
        )
    return f"the whole suite ran: {affected.reason}"


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
    seconds = p.elapsed(now)
    return "" if seconds is None else f"{seconds:.1f}s"


def clock_text(seconds: float) -> str:
    """``45s``, ``1m30s``, ``1h02m03s``: a heartbeat's elapsed time."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"


#: a heartbeat line per running tool this often on a non-terminal (DEVBOX_HEARTBEAT_S)
HEARTBEAT_S = 30.0
#: how often the table is redrawn on a terminal (elapsed times tick)
REFRESH_PER_SECOND = 4
#: between the install step and the installer's last line in the table
_STEP_SEP = " \u00b7 "


def heartbeat_interval(env: Mapping[str, str]) -> float:
    """DEVBOX_HEARTBEAT_S (seconds, > 0), else :data:`HEARTBEAT_S`."""
    try:
        value = float(env.get("DEVBOX_HEARTBEAT_S", ""))
    except ValueError:
        return HEARTBEAT_S
    return value if value > 0 else HEARTBEAT_S


class LiveView:
    """A table redrawn a few times a second on a terminal; progressive plain lines otherwise.

    On a terminal the elapsed times tick, and a tool whose environment installs shows the
    step and the installer's last line. Elsewhere (a CI log) nothing is redrawn: a line when
    a tool starts installing, runs and finishes, and every ``heartbeat_s`` a line for each
    tool still running (and each environment still installing). With ``verbose`` the tools'
    output lines (:meth:`output`) are printed as they come, each prefixed by its tool.

    ``live`` says whether to draw the table (default: when the console is a terminal);
    the caller says no when its console is forced to be one (FORCE_COLOR) but writes to a
    pipe. ``clock`` is the monotonic clock the progress times come from.
    """

    def __init__(
        self,
        console: Console,
        runs: Sequence[ToolRun],
        *,
        quiet: bool = False,
        verbose: bool = False,
        live: bool | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        paths: tuple[Path, Path] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console
        self.runs = runs
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.live = (console.is_terminal if live is None else live) and not quiet
        self.heartbeat_s = heartbeat_s
        #: (project root, cwd): container paths in streamed output become host paths
        self.paths = paths
        self.clock = clock
        self._live: Live | None = None
        self._shown: dict[str, str] = {}
        #: when the last line about each tool (or "env:PYTHON") was printed
        self._said: dict[str, float] = {}
        self._progress: dict[str, ToolProgress] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> LiveView:
        if self.live:
            self._live = Live(
                console=self.console,
                get_renderable=self._table,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=False,
            )
            self._live.__enter__()
        elif not self.quiet:
            self._ticker = threading.Thread(target=self._tick_loop, name="devbox-heartbeat")
            self._ticker.daemon = True
            self._ticker.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        if self._live is not None:
            self._live.refresh()
            self._live.__exit__(exc_type, exc, tb)

    def _tick_loop(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat_s / 2)):
            self.tick()

    def update(self, progress: dict[str, ToolProgress]) -> None:
        self._progress = progress
        if self._live is not None:
            self._live.refresh()  # outside our lock: rich's refresh thread holds its own
            return
        with self._lock:
            if self.quiet:
                return
            now = self.clock()
            for run in self.runs:
                p = progress.get(run.key)
                if p is None or self._shown.get(run.key) == p.state or p.state == "queued":
                    continue
                self._shown[run.key] = p.state
                self._said[run.key] = now
                elapsed = _elapsed(p, now)
                suffix = f" ({elapsed})" if elapsed and p.finished else ""
                self._say(f"devbox: {self._label(run)}: {p.state}{suffix}")

    def tick(self) -> None:
        """On a non-terminal: a heartbeat for each tool running (and each environment
        installing) that nothing was said about for ``heartbeat_s``."""
        with self._lock:
            if self.live or self.quiet:
                return
            now = self.clock()
            envs: dict[str, ToolProgress] = {}
            for run in self.runs:
                p = self._progress.get(run.key)
                if p is None:
                    continue
                if p.state == "installing" and p.step:
                    envs.setdefault(run.python, p)
                if p.state != "running" or p.started_at is None:
                    continue
                if now - self._said.get(run.key, p.started_at) >= self.heartbeat_s:
                    self._said[run.key] = now
                    self._say(
                        f"devbox: {run.name} ({run.python}) still running, "
                        + clock_text(now - p.started_at)
                    )
            for python, p in envs.items():
                key = f"env:{python}"
                since = p.installing_since if p.installing_since is not None else now
                self._said.setdefault(key, since)
                if now - self._said[key] >= self.heartbeat_s:
                    self._said[key] = now
                    detail = f": {p.detail}" if p.detail else ""
                    self._say(
                        f"devbox: Python {python} environment still installing "
                        f"({p.step}{detail}), {clock_text(now - since)}"
                    )

    def output(self, lines: Sequence[tuple[str, str]]) -> None:
        """-v: tool output lines as they come, ``pytest | ...`` (``pytest [3.13] | ...``
        with several Python versions), above the table on a terminal."""
        if not self.verbose or not lines:
            return
        by_key = {run.key: run for run in self.runs}
        for key, line in lines:
            run = by_key.get(key)
            if run is None:
                continue
            if self.paths is not None:
                line = rewrite_paths(line, *self.paths)
            text = Text(f"{self._label(run)} |" + (" " if line else ""), style="dim")
            text.append_text(Text.from_ansi(line))
            # the console's own lock orders this with the table (and the heartbeats)
            self.console.print(text, soft_wrap=True)
            self._said[key] = self.clock()

    def _say(self, line: str) -> None:
        self.console.print(line, highlight=False, markup=False)

    def _label(self, run: ToolRun) -> str:
        """``pytest``; with several Python versions, ``pytest [3.13]``."""
        return f"{run.name} [{run.python}]" if len({r.python for r in self.runs}) > 1 else run.name

    def _table(self) -> Table:
        # Called by rich's refresh thread under rich's lock: it takes none of ours (the
        # progress it reads is replaced whole or changed field by field).
        now = self.clock()
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column("tool", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("detail", no_wrap=True, overflow="ellipsis")
        for run in self.runs:
            p = self._progress.get(run.key, ToolProgress())
            detail = _STEP_SEP.join(part for part in (p.step, p.detail) if part)
            table.add_row(
                self._label(run),
                Text(p.state, style=_STYLES.get(p.state, "")),
                _elapsed(p, now),
                Text(detail, style="dim"),
            )
        return table


def print_failures(
    console: Console, result: RunResult, project_root: Path, cwd: Path, *, github: bool = False
) -> None:
    """Each failing tool's output; grouped by Python version when there are several.

    ``github`` (on GitHub Actions): an output of more than ``github.FOLD_LINES`` lines is
    folded (``::group::``), and no line of any output is taken as a workflow command
    (``::stop-commands::`` with a token the output cannot know)."""
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
            if github:
                _print_output_on_github(console, tool, title, project_root, cwd)
            else:
                print_output(console, tool, project_root, cwd)


def _print_output_on_github(
    console: Console, tool: ToolResult, title: str, project_root: Path, cwd: Path
) -> None:
    from devbox.report import github  # imports this module

    n = len(tool.output.rstrip("\n").split("\n"))
    fold = n > github.FOLD_LINES
    token = secrets.token_hex(16)
    if fold:
        console.out(f"::group::{github.escape_data(f'{title}: {n} lines')}", highlight=False)
    console.out(f"::stop-commands::{token}", highlight=False)
    print_output(console, tool, project_root, cwd)
    console.out(f"::{token}::", highlight=False)
    if fold:
        console.out("::endgroup::", highlight=False)


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
    # Escape sequences a tool printed would drive the terminal: only its colours are kept,
    # as styles, which the console draws only when it draws colours.
    text = colours_only(rewrite_paths(output, project_root, cwd)).rstrip("\n")
    console.print(Text.from_ansi(text) if "\x1b" in text else Text(text))


def print_environment_error(console: Console, message: str, detail: str) -> None:
    """One Python version's environment could not be built (the others ran)."""
    console.rule(Text("environment error", style="bold red"), align="left")
    console.print(Text("devbox: " + message, style="red"))
    if detail:
        console.print(Text(detail))


def print_outputs(
    console: Console, result: RunResult, project_root: Path, cwd: Path, *, streamed: bool = False
) -> None:
    """-v: every tool's full output; with ``streamed`` (the live view printed the output of
    every step that ran, as it came) only that of the tools replayed from the cache."""
    for tool in result.tools:
        if streamed and not tool.cached:
            continue
        console.rule(Text(f"{tool.name} ({tool.status.value}, Python {tool.python})"), align="left")
        print_output(console, tool, project_root, cwd)


#: the tests column's width that keeps a summary row within 80 columns (the other columns
#: take 45 at most with the built-in tools: "pytest │ test │ 3.13   │ timeout │ 123.4s │ ")
TESTS_WIDTH = 35


def counts_cell(counts: TestCounts, width: int | None = None) -> str:
    """The summary's tests column.

    Without xfails and xpasses: the four counts, as always ("2 passed, 0 failed, 0 skipped,
    0 errors"). With them: passed and the counts that are not 0 ("2 passed, 1 failed,
    3 xfailed, 1 xpassed"), in short words when that is wider than :data:`TESTS_WIDTH`
    ("2 pass, 1 fail, 1 skip, 3 xfail, 1 xpass").

    With ``width`` (what the row leaves for the column), a cell wider than that is made
    shorter: passed and the counts that are not 0 in words, then in short words.
    """
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
    short = ", ".join(f"{n} {abbrev}" for n, _, abbrev in shown)
    if not counts.xfailed and not counts.xpassed:
        cell = (
            f"{counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped, "
            f"{counts.errors} errors"
        )
    else:
        cell = long if len(long) <= TESTS_WIDTH else short
    if width is None:
        return cell
    return next((c for c in (cell, long, short) if len(c) <= width), short)


def print_summary(console: Console, result: RunResult) -> None:
    """One row per tool, with the version it ran in (when known), within the console's width
    (80 columns in a log, unless COLUMNS says otherwise): the tests column is abbreviated to
    fit, and no cell wraps."""
    columns = ("tool", "kind", "python", "status", "time", "tests")
    rows = [
        (
            f"{t.name} {t.version}" if t.version else t.name,  # what ran: ruff 0.17.6
            t.kind,
            t.python,
            "cached" if t.cached and t else t.status.value,
            f"{t.duration_s:.1f}s",
        )
        for t in result.tools
    ]
    # Each column is padded by a space on both sides and ruled from the next one.
    used = sum(max(len(c) for c in col) for col in zip(columns, *rows, strict=False))
    used += 2 * len(columns) + len(columns) - 1 + 1  # padding, rules; the last pad
    room = max(len("tests"), console.width - used)
    table = Table(title=None, show_edge=False)
    for i, col in enumerate(columns):
        table.add_column(
            col,
            justify="right" if col == "time" else "left",
            no_wrap=True,
            overflow="ellipsis",
            # only the tests column gives way when even its shortest form is too wide
            min_width=None if col == "tests" else max(len(c[i]) for c in [columns, *rows]),
        )
    for t, (name, kind, python, state, time_s) in zip(result.tools, rows, strict=True):
        tests = "" if t.tests is None else counts_cell(t.tests, room)
        table.add_row(name, kind, python, Text(state, style=_STYLES[state]), time_s, tests)
    console.print(table)
    several = len({t.python for t in result.tools}) > 1
    for t in result.tools:
        label = f"{t.name} [{t.python}]" if several else t.name
        if t.why:  # it ran rather than replayed: why, in the project's terms
            console.print(Text(f"devbox: {label} ran: {'; '.join(t.why)}", style="dim"))
        if t.affected is not None:
            console.print(Text(f"devbox: {label} --affected: {affected_line(t.affected)}"))
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
    cancelled = [
        f"{t.name} [{t.python}]" if several else t.name
        for t in result.tools
        if t.status is Status.CANCELLED
    ]
    if cancelled:
        console.print(
            Text(
                f"devbox: not run to the end (--fail-fast): {', '.join(cancelled)}", style="yellow"
            )
        )
    if not failed and not timed_out and result.ok:
        n = len(result.tools)
        console.print(
            Text(
                f"devbox: all {n} tools passed" if n != 1 else "devbox: 1 tool passed",
                style="green",
            )
        )
