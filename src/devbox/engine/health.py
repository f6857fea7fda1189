"""Is there an engine, and is buildx new enough? Asked only when a build could not start
(a working set-up pays for no checks) and by ``devbox doctor``."""

from __future__ import annotations

import errno
import re
import shutil
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from devbox.engine import process
from devbox.errors import EngineUnavailable

MIN_BUILDX = (0, 12)  # --progress=rawjson
#: seconds the probe waits for the engine's answer
PROBE_TIMEOUT = 10


@dataclass(frozen=True)
class EngineInfo:
    endpoint: str
    server_version: str
    buildx_version: str


def version_tuple(text: str) -> tuple[int, ...]:
    """The first "X.Y[.Z]" in ``text`` as numbers; () when there is none."""
    m = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def buildx_version(env: Mapping[str, str] | None = None) -> tuple[int, ...]:
    """The buildx plugin's version; () when the plugin is missing."""
    proc = process.run_command(["docker", "buildx", "version"], env=env)
    return version_tuple(proc.stdout) if proc.returncode == 0 else ()


def docker_endpoint(env: Mapping[str, str]) -> str:
    """The engine the docker CLI would talk to: DOCKER_HOST, else the current context's."""
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    proc = process.run_command(
        ["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], env=env
    )
    host = proc.stdout.strip()
    return host or "unix:///var/run/docker.sock"


def probe_engine(env: Mapping[str, str]) -> tuple[str, str]:
    """(endpoint, server version) of the engine the docker CLI would use; EngineUnavailable if none."""
    if shutil.which("docker") is None:
        process.run_command(["docker"])  # raises the "not found" error
    endpoint = docker_endpoint(env)
    import docker  # lazy: heavy import
    import docker.errors

    try:
        client = docker.DockerClient(base_url=endpoint, timeout=PROBE_TIMEOUT)
        try:
            server = str(client.version().get("Version", "?"))
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(no_engine_message(endpoint, exc)) from None
    return endpoint, server


def probe(env: Mapping[str, str]) -> EngineInfo:
    """Check that an engine answers and buildx is new enough; raise EngineUnavailable if not."""
    endpoint, server = probe_engine(env)
    version = buildx_version(env)
    if not version:
        raise EngineUnavailable(f"the docker buildx plugin is missing. {INSTALL_BUILDX}")
    if version[:2] < MIN_BUILDX:
        raise EngineUnavailable(
            f"docker buildx {'.'.join(map(str, version))} is too old: devbox needs >= 0.12 "
            "(for --progress=rawjson). Upgrade the buildx plugin."
        )
    return EngineInfo(endpoint, server, ".".join(map(str, version)))


# What to do, in terms a user has (an installed devbox has no scripts/: provision-engine.sh is
# for devbox's own tests, in its repository).
START_ENGINE = (
    "Start the engine: open Docker Desktop, or on Linux run `sudo systemctl start docker`; "
    "to use another engine, select it with `docker context use NAME` or DOCKER_HOST"
)
INSTALL_BUILDX = (
    "Install it: Docker Desktop ships it; on Debian or Ubuntu, `sudo apt-get install "
    "docker-buildx`, or docker-buildx-plugin from Docker's own repository."
)
DOCTOR = "`devbox doctor` checks the whole set-up and says what to fix."


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it: causes, contexts, and exceptions carried as
    arguments (urllib3 wraps the socket's error in ProtocolError's args, MaxRetryError's reason)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if any(e is s for s in seen):
            continue
        seen.append(e)
        inner = [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
        todo += [i for i in inner if isinstance(i, BaseException)]
    return seen


def connection_problem(exc: BaseException) -> str:
    """Why a connection to the engine failed, as a plain phrase (never a Python repr)."""
    for e in _causes(exc):
        number = getattr(e, "errno", None)
        if isinstance(e, FileNotFoundError) or number == errno.ENOENT:
            return "its socket does not exist, so no engine is running there"
        if isinstance(e, ConnectionRefusedError) or number == errno.ECONNREFUSED:
            return "the connection was refused, so nothing listens there"
        if isinstance(e, PermissionError) or number in (errno.EACCES, errno.EPERM):
            return "permission to use its socket was denied"
        if isinstance(e, socket.gaierror):
            return "its host name does not resolve"
        if isinstance(e, ConnectionResetError) or number == errno.ECONNRESET:
            return "the engine closed the connection"
        if isinstance(e, TimeoutError) or "Timeout" in type(e).__name__:
            return f"it did not answer within {PROBE_TIMEOUT} s"
        if isinstance(e, ssl.SSLError):
            return "the TLS handshake failed"
    # A message of the docker SDK's own, such as "Install paramiko package to enable ssh://
    # support", is a sentence; anything that quotes a Python object is not shown.
    lines = str(exc).strip().splitlines()
    text = lines[-1].strip().rstrip(".") if lines else ""
    if text and not re.search(r"[()\[\]{}<>]|\w(?:Error|Exception):", text) and len(text) < 200:
        return f"the docker library said: {text}"
    return f"the connection failed with {type(exc).__name__}"


def no_engine_message(endpoint: str, exc: BaseException) -> str:
    """The error for an engine that does not answer: what happened, then what to do."""
    problem = connection_problem(exc)
    if problem.startswith("permission"):
        todo = (
            "Let your user use it: add it to the docker group with `sudo usermod -aG docker "
            "$USER` and log in again, or use Docker Desktop or rootless Docker"
        )
    elif endpoint.startswith(("unix://", "npipe://")):
        todo = START_ENGINE
    else:
        todo = (
            f"Check that the engine at {endpoint} runs and that this machine reaches it, or "
            "select another with `docker context use NAME` or DOCKER_HOST"
        )
    return f"no Docker engine answers at {endpoint}: {problem}. {todo}. {DOCTOR}"
