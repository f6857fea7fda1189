"""The one error handler: every outcome of a command becomes output and an exit code.

0 ok, 1 tools failed, 2 config, 3 environment, 70 a bug in devbox (with a crash log), 130 ^C.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, cast

import click

from devbox import __version__
from devbox.errors import EXIT_INTERNAL, DevboxError, EnvironmentError_, Interrupted


class _PipeSafe:
    """A text stream that outlives its reader: once the pipe is closed (``devbox test | head
    -1``), output goes nowhere and the run goes on, so reports and the exit code stay true."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._closed = False

    def write(self, text: str) -> int:
        if not self._closed:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self._closed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self._closed = True
        # Python flushes the stream again at exit: point its descriptor at /dev/null.
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding ... for rich
        return getattr(self._stream, name)


def console(no_color: bool = False, stderr: bool = False, color: str | None = None) -> Any:
    """devbox's console. ``color``: "always" (colours in a pipe too; nothing is redrawn
    there), "never", or "auto"/None: on a terminal, unless NO_COLOR is set or ``no_color``."""
    from rich.console import Console

    file = cast("IO[str]", _PipeSafe(sys.stderr if stderr else sys.stdout))
    if color == "always" and not no_color:
        return Console(
            file=file, force_terminal=True, no_color=False, highlight=False, soft_wrap=True
        )
    off = no_color or color == "never" or "NO_COLOR" in os.environ
    return Console(file=file, no_color=off, highlight=False, soft_wrap=True)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def exit_code(invoke: Callable[[], int | None], args: list[str]) -> int:
    """Run ``invoke`` (click in non-standalone mode) and map what happens to an exit code.

    SIGTERM and SIGHUP (a closed terminal) stop devbox as Ctrl-C does: a build is cancelled in
    the engine (see :func:`devbox.engine.buildx.stream_build`), and a short command running
    then (a `docker pull`) is killed with devbox instead of being left behind.
    """
    debug = "--debug" in args
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        return invoke() or 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return Interrupted.exit_code
    except DevboxError as exc:
        if debug:
            traceback.print_exc()
        print_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("devbox: interrupted.", err=True)
        return Interrupted.exit_code
    except OSError as exc:
        if exc.errno not in _STORAGE_ERRORS:
            return _internal(exc, args, debug)
        if debug:
            traceback.print_exc()
        # A full, read-only or foreign disk is the machine's state, not a bug in devbox.
        print_error(EnvironmentError_(
            f"devbox could not write {exc.filename or 'a file'} ({exc.strerror or exc}). Free "
            "space, or set DEVBOX_CACHE_DIR to a writable directory (devbox keeps its build "
            "files, logs and state there)."
        ))  # fmt: skip
        return EnvironmentError_.exit_code
    except Exception as exc:
        return _internal(exc, args, debug)


#: errors of the disk, not of devbox: full, read-only, over quota, not allowed
_STORAGE_ERRORS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM})


def _internal(exc: BaseException, args: list[str], debug: bool) -> int:
    """A bug in devbox: say so, and keep what a bug report needs."""
    if debug:
        traceback.print_exc()
    log = _write_crash_log(args)
    where = f" Details are in {log}; please attach that file to a bug report." if log else ""
    click.echo(f"devbox: internal error: {type(exc).__name__}: {exc}.{where}", err=True)
    return EXIT_INTERNAL


def print_error(exc: DevboxError) -> None:
    from rich.text import Text

    err = console(stderr=True)
    err.print(Text("devbox: error: ", style="bold red") + Text(exc.message), soft_wrap=True)
    if exc.detail:
        err.print(exc.detail, markup=False, soft_wrap=True)


def _write_crash_log(args: list[str]) -> Path | None:
    """The traceback, version and platform, in devbox's cache dir (never the project)."""
    import datetime
    import platform

    from devbox.build.session import cache_home
    from devbox.fsutil import atomic_write

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = cache_home(os.environ) / "crash" / f"crash-{stamp}-{os.getpid()}.log"
    text = (
        f"devbox {__version__} on Python {platform.python_version()} ({platform.platform()})\n"
        f"command: devbox {' '.join(args)}\ncwd: {os.getcwd()}\n\n{traceback.format_exc()}"
    )
    try:
        atomic_write(path, text)
    except OSError:
        return None
    return path


def main(invoke: Callable[[], int | None], argv: list[str] | None) -> None:
    sys.exit(exit_code(invoke, argv if argv is not None else sys.argv[1:]))
