"""``docker buildx build``: its command line, the streamed build, and cancelling it.

docker-py cannot drive BuildKit (docker/docker-py#2230), so builds go through the buildx CLI.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from devbox.build import contract
from devbox.engine import process
from devbox.engine.builder import DEFAULT_BUILDER, Builder
from devbox.errors import EngineUnavailable, EnvironmentError_, Interrupted


def build_argv(
    *,
    dockerfile: Path,
    context: Path,
    devbox_context: Path,
    output: Path | None,
    build_args: Mapping[str, str],
    target: str = "results",
    tag: str | None = None,
    push: bool = False,
    labels: Mapping[str, str] | None = None,
    ca_bundle: str | None = None,
    secrets: Mapping[str, Path] | None = None,
    cache_from: Sequence[str] = (),
    cache_to: Sequence[str] = (),
    builder: Builder = DEFAULT_BUILDER,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """``output``: export the target's files there; else load (or push) the image as ``tag``.

    ``secrets``: BuildKit secret id → file (never a build arg: those are in the history).
    """
    if output is not None:
        destination = ["--output", csv_spec(("type", "local"), ("dest", _absolute(output)))]
    else:
        destination = ["--push" if push else "--load", "--tag", str(tag)]
    argv = [
        *builder.docker(), "buildx", "build",
        *(["--builder", builder.instance] if builder.instance else []),
        "--progress=rawjson", "--target", target, *destination,
        "--file", _absolute(dockerfile), "--build-context", context_spec("devbox", devbox_context),
    ]  # fmt: skip
    for key, value in sorted((labels or {}).items()):
        argv += ["--label", f"{key}={value}"]
    for spec in cache_from:
        argv += ["--cache-from", spec]
    for spec in cache_to:
        argv += ["--cache-to", spec]
    for key, value in sorted(build_args.items()):
        argv += ["--build-arg", f"{key}={value}"]
    # BuildKit's predefined proxy args: steps see them, the cache key and the image history
    # do not (so a proxy URL with a password stays out of both). By name only: buildx reads
    # the value from its environment (stream_build runs it with ``env``), so a password is
    # not in its command line either, which every local user can read (/proc/PID/cmdline).
    for var in PROXY_VARIABLES:
        if env and env.get(var):
            argv += ["--build-arg", var]
    if ca_bundle:
        argv += ["--secret", csv_spec(("id", contract.CA_ID), ("src", _absolute(ca_bundle)))]
    for sid, path in sorted((secrets or {}).items()):
        argv += ["--secret", csv_spec(("id", sid), ("src", _absolute(path)))]
    argv.append(_absolute(context))
    return argv


# --- specs ----------------------------------------------------------------------------------
#
# buildx reads --output, --secret and --cache-from/--cache-to as one CSV record of key=value
# fields (Go's encoding/csv up to buildx 0.13, tonistiigi/go-csvvalue since): a path with a
# comma, a double quote or a line break would split into other fields (a directory named
# "a,dest=out" once sent the results to ./out…, inside the project), or fail to parse. Each
# field is quoted by CSV rules when it needs it. --build-context is not CSV: buildx splits it
# at its first "=" and takes the rest verbatim, so its path must not be quoted. The cache
# specs come from the config, whose check admits no comma or space in a value.


def csv_field(field: str) -> str:
    """One CSV field as buildx's reader reads it back: wrapped in double quotes (with each
    ``"`` doubled) when it holds a comma, a quote or a line break, else as it is."""
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def csv_spec(*pairs: tuple[str, str]) -> str:
    """A buildx CSV spec: ``key=value`` fields, each quoted when it needs it.

    Refuses a value with a carriage return before a line feed: buildx 0.13's CSV reader
    turns that pair into a line feed even inside quotes, so no spelling of it survives.
    """
    for key, value in pairs:
        if "\r\n" in value:
            raise EnvironmentError_(
                f"the path {value!r} holds a carriage return followed by a line break, which "
                f"buildx cannot read in its {key}= field; use a directory without one"
                " (devbox's own files go to DEVBOX_CACHE_DIR)."
            )
    return ",".join(csv_field(f"{key}={value}") for key, value in pairs)


def context_spec(name: str, path: Path) -> str:
    """``--build-context NAME=PATH``: buildx splits at the first ``=`` and reads the path
    verbatim (absolute, so that it is never taken for a URL or a git remote)."""
    return f"{name}={_absolute(path)}"


def _absolute(path: Path | str) -> str:
    """The path from ``/`` (symlinks kept): buildx reads a relative one from its own working
    directory, and a relative path can look like a git remote (``git@host:x``) or an image."""
    return str(Path(path).absolute())


PROXY_VARIABLES = tuple(
    v
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY", "ALL_PROXY")
    for v in (name, name.lower())
)


#: signals that mean "stop": Ctrl-C, SIGTERM (CI timeouts, editors stopping a task) and SIGHUP
#: (the terminal was closed)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def stream_build(
    argv: Sequence[str],
    on_line: Callable[[str], object],
    env: Mapping[str, str],
    settle: Callable[[], float] = lambda: 0.0,
    *,
    answer_timeout: float | None = None,
    engine: Callable[[], str] = lambda: "the Docker engine",
) -> int:
    """Run a build, feeding each stderr line (rawjson progress) to ``on_line``.

    Ctrl-C (or SIGTERM, SIGHUP): buildx runs in its own process group and gets one SIGINT,
    which makes it cancel the solve in the daemon; devbox waits for that. A second Ctrl-C
    returns at once and leaves buildx to finish cancelling by itself (see _cancel).

    ``answer_timeout``: an engine that accepts the connection and never answers would keep
    buildx (and devbox) waiting forever; with no progress line within that many seconds,
    buildx is stopped and :class:`EngineUnavailable` names ``engine()``.
    """
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=dict(env),
            start_new_session=True,
        )
    except FileNotFoundError:
        process.run_command(argv)  # raises the "not found on PATH" error
        raise
    assert proc.stderr is not None

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM or SIGHUP: cancel, as for Ctrl-C

    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    watchdog = _Watchdog(proc, answer_timeout)
    handed_off = False
    try:
        for line in proc.stderr:
            watchdog.answered()
            on_line(line)
        rc = proc.wait()
        if watchdog.fired:
            raise EngineUnavailable(
                f"{engine()} accepted the connection but did not answer within "
                f"{answer_timeout:.0f} s, so the build was stopped. Check that it is healthy "
                "(`devbox doctor`, `docker info`), or set DEVBOX_ENGINE_TIMEOUT to wait longer."
            )
        return rc
    except KeyboardInterrupt:
        handed_off = _cancel(proc, settle())
        raise Interrupted("interrupted: the build was cancelled.") from None
    finally:
        watchdog.answered()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if not handed_off and proc.poll() is None:
            # Leaving while buildx runs: a second Ctrl-C came before _cancel could act (both
            # can be pending at once). Cancel anyway, and let buildx finish that by itself.
            _hand_off(proc, delay=settle())
        elif not handed_off:
            proc.stderr.close()


class _Watchdog:
    """Stops buildx when no progress line came within ``timeout`` seconds of its start."""

    def __init__(self, proc: subprocess.Popen[str], timeout: float | None) -> None:
        self.fired = False
        self._proc = proc
        self._timer = None if timeout is None else threading.Timer(timeout, self._fire)
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def answered(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        # Nothing was solved (no progress at all): nothing runs in the engine to cancel.
        self.fired = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)


def _hand_off(proc: subprocess.Popen[str], *, delay: float = 0.0, signalled: bool = False) -> bool:
    """Leave buildx cancelling on its own: a detached helper sends it SIGINT (after ``delay``,
    unless ``signalled`` already) and drains its progress pipe, so that buildx is not killed
    by a closed pipe before the daemon has cancelled the solve."""
    assert proc.stderr is not None
    script = 'sleep "$1"; kill -INT -- "-$2" 2>/dev/null; exec cat' if not signalled else "exec cat"
    try:
        subprocess.Popen(["sh", "-c", script, "devbox-cancel", f"{delay:.2f}", str(proc.pid)],
                         stdin=proc.stderr, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
    except OSError:
        return False
    proc.stderr.close()
    return True


#: A step cancelled in its first moments can be missed by the daemon, which then runs it to
#: the end (seen with dockerd 26 / BuildKit 0.13 when a RUN container was being started):
#: the cancel waits until running steps are this old.
SETTLE_S = 1.0


def _cancel(proc: subprocess.Popen[str], delay: float = 0.0) -> bool:
    """Have buildx cancel the solve in the daemon (SIGINT to its process group).

    A second Ctrl-C (or SIGTERM) during the wait returns at once. buildx must not die with
    devbox then: killed, or its progress pipe closed under it, it would orphan the solve and
    BuildKit would run the step to its end. So the pipe is handed to a detached `cat` that
    drains it while buildx finishes cancelling on its own. True when handed off like that.
    Only a buildx that ignores the cancel for 20 s is killed.
    """
    again: list[int] = []

    def note(signum: int, frame: object) -> None:
        again.append(signum)

    # From here on a Ctrl-C is noted, not raised: the SIGINT to buildx must be sent.
    for sig in STOP_SIGNALS:
        signal.signal(sig, note)
    settled = time.monotonic() + max(0.0, delay)
    while time.monotonic() < settled and proc.poll() is None:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        if again:
            return _hand_off(proc, signalled=True)
        time.sleep(0.05)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return False
