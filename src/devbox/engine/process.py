"""The one helper that runs a short host command: what unit tests fake.

Only modules of :mod:`devbox.engine` call it; everything else asks a :class:`~devbox.engine.docker.Docker`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence

from devbox.errors import EngineUnavailable

#: one timeout for every short docker command (inspect, version, context, ...)
COMMAND_TIMEOUT = 60.0
#: pulling an image can take long on a slow link
PULL_TIMEOUT = 900.0


def run_command(
    argv: Sequence[str],
    *,
    timeout: float = COMMAND_TIMEOUT,
    env: Mapping[str, str] | None = None,
    who: Callable[[], str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a short host command and capture its output (the one helper tests fake).

    ``who``: what answers the command (the engine at an endpoint), named when it times out
    (asked only then).
    """
    try:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=None if env is None else dict(env),
        )
    except FileNotFoundError:
        raise EngineUnavailable(
            f"{argv[0]!r} was not found on PATH: devbox runs the docker command. Install Docker: "
            "Docker Desktop, or on Linux the docker packages of your distribution or of Docker's "
            "own repository, then check with `devbox doctor`."
        ) from None
    except OSError as exc:  # found, but not runnable: permissions, a broken binary
        raise EngineUnavailable(
            f"{argv[0]!r} could not be run: {exc.strerror or type(exc).__name__}. Check that it is "
            "an executable your user may run, or reinstall Docker; `devbox doctor` checks it."
        ) from None
    except subprocess.TimeoutExpired:
        if who is None:
            raise EngineUnavailable(
                f"`{' '.join(argv)}` did not answer within {timeout:.0f} s."
            ) from None
        raise EngineUnavailable(
            f"{who()} did not answer `{' '.join(argv)}` within {timeout:.0f} s. Check that it "
            "is healthy (`docker info`), or set DEVBOX_ENGINE_TIMEOUT to wait longer."
        ) from None


def engine_timeout(env: Mapping[str, str]) -> float:
    """DEVBOX_ENGINE_TIMEOUT (seconds), else :data:`COMMAND_TIMEOUT`: how long a docker
    command, or a build before its first progress line, may wait for the engine."""
    try:
        value = float(env.get("DEVBOX_ENGINE_TIMEOUT", ""))
    except ValueError:
        return COMMAND_TIMEOUT
    return value if 0 < value <= 24 * 3600 else COMMAND_TIMEOUT


def last_line(proc: subprocess.CompletedProcess[str], default: str) -> str:
    """The one stderr policy: a failed docker command is described by its last stderr line."""
    return (proc.stderr.strip().splitlines() or [default])[-1]
