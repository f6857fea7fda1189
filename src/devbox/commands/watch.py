"""``devbox watch``: a run (lint, test or check), then another on every change to the project.

A thread watches the project with watchfiles (the maintained file-watching library: inotify,
FSEvents, ReadDirectoryChangesW, or polling) from before the first run, so a change saved
while a run goes on starts the next run as soon as that one ends. Changes are grouped: the
next run starts once nothing changed for ``STEP_MS``. What the build context leaves out (the
plan's excludes) and the report files devbox itself writes do not count. Every run is an
ordinary ``devbox lint/test/check`` (:func:`devbox.commands.run.run`): its configuration is
read anew, so an edit to pyproject.toml is picked up, and what did not change replays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from rich.console import Console

from devbox.build.plan import DEFAULT_EXCLUDES, excluded
from devbox.build.session import Job, Options
from devbox.commands.run import run
from devbox.errors import DevboxError, Interrupted

#: nothing changed for this long (ms): the changes so far make one run
STEP_MS = 50
#: a stream of changes is cut into runs at least this often (ms)
DEBOUNCE_MS = 1600
#: how often the watching thread looks at its stop flag (ms)
TIMEOUT_MS = 100
#: how many changed paths the line before a run names
SHOWN = 3


def printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def describe(paths: Iterable[str]) -> str:
    """``a.py changed``, ``a.py, b.py, c.py and 4 more changed``."""
    names = sorted(paths)
    shown = ", ".join(printable(p) for p in names[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return f"{shown}{more} changed"


class Watcher:
    """The project's changes, from a thread started before the first run (project-relative
    paths; those under ``ignored`` patterns or in ``own`` are left out)."""

    def __init__(self, root: Path, own: Iterable[Path]) -> None:
        self.root = root
        self.own = {str(p.resolve()) for p in own}
        #: the build context's excludes, as the last run's plan had them
        self.ignored: tuple[str, ...] = DEFAULT_EXCLUDES
        self._changes: queue.Queue[set[str]] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._watch, name="devbox-watch", daemon=True)

    def relative(self, path: str) -> str | None:
        """``path`` relative to the project, or None when it does not count."""
        if path in self.own:
            return None
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None
        if rel == "." or excluded(rel, self.ignored):
            return None
        return rel

    def follow(self, job: Job) -> None:
        """A run's plan is made: its excludes are what no longer counts (the configuration's
        ``exclude`` may have changed)."""
        self.ignored = job.plan.excludes

    def _watch(self) -> None:
        import watchfiles

        try:
            for changes in watchfiles.watch(
                self.root,
                watch_filter=None,
                debounce=DEBOUNCE_MS,
                step=STEP_MS,
                rust_timeout=TIMEOUT_MS,
                yield_on_timeout=True,
                stop_event=self._stop,
                raise_interrupt=False,
            ):
                self._ready.set()  # the first (empty) batch: the watch is in place
                paths = {rel for _, p in changes if (rel := self.relative(p)) is not None}
                if paths:
                    self._changes.put(paths)
        except BaseException as exc:  # handed to the main thread
            self._failed = exc
        finally:
            self._ready.set()
            self._changes.put(set())  # wakes the main thread

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def wait(self) -> set[str]:
        """The next changes: blocks until there are some; then takes every batch waiting."""
        paths: set[str] = set()
        while not paths:
            with contextlib.suppress(queue.Empty):  # (a timeout: Ctrl-C gets through)
                paths |= self._changes.get(timeout=0.5)
            if self._failed is not None:
                raise self._failed
        return paths | self.pending()

    def pending(self) -> set[str]:
        """What changed while a run went on (nothing: an empty set, at once)."""
        paths: set[str] = set()
        while True:
            try:
                paths |= self._changes.get_nowait()
            except queue.Empty:
                return paths

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def watch(
    opts: Options,
    env: Mapping[str, str],
    console: Console,
    report_error: Callable[[DevboxError], None],
) -> None:
    """Run, then run again on every change, until Ctrl-C (which raises Interrupted)."""
    root = opts.project_dir.resolve()
    own = [p for p in (opts.report_json, opts.junit_xml, opts.codequality, opts.timeline) if p]
    watcher = Watcher(root, own)
    watcher.start()
    say = _say(console)
    say(f"devbox watch: watching {printable(str(root))}; Ctrl-C stops")
    try:
        options = opts
        while True:
            try:
                run(options, env, console, on_job=watcher.follow)
            except Interrupted:
                raise
            except DevboxError as exc:  # a bad edit of the configuration: fix it and save
                report_error(exc)
            # later runs: what the first one asked for once (--rerun, --refresh) is done
            options = dataclasses.replace(options, rerun=False, refresh=False)
            changed = watcher.pending()
            if not changed:
                say("devbox watch: waiting for changes; Ctrl-C stops")
                changed = watcher.wait()
            if console.is_terminal:  # the screen shows this run only
                console.clear()
            say(f"devbox watch: {time.strftime('%H:%M:%S')} {describe(changed)}")
    except KeyboardInterrupt:
        raise Interrupted("interrupted: devbox watch stopped.") from None
    finally:
        watcher.stop()


def _say(console: Console) -> Callable[[str], None]:
    def say(line: str) -> None:
        if console.is_terminal:
            console.rule(line, align="left", style="dim")
        else:
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    return say
