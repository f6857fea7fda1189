"""Is there an engine, and is buildx new enough? Asked only when a build could not start
(a working set-up pays for no checks) and by ``devbox doctor``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from devbox.engine import process
from devbox.errors import EngineUnavailable

MIN_BUILDX = (0, 12)  # --progress=rawjson


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
        client = docker.DockerClient(base_url=endpoint, timeout=10)
        try:
            server = str(client.version().get("Version", "?"))
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            f"no Docker engine answers at {endpoint} ({_short(exc)}). Start Docker Desktop or the "
            "docker service; on a Debian host without one, run scripts/provision-engine.sh as root."
        ) from None
    return endpoint, server


def probe(env: Mapping[str, str]) -> EngineInfo:
    """Check that an engine answers and buildx is new enough; raise EngineUnavailable if not."""
    endpoint, server = probe_engine(env)
    version = buildx_version(env)
    if not version:
        raise EngineUnavailable(
            "the docker buildx plugin is missing. Install it (Debian: docker-buildx; Docker Desktop "
            "ships it) or run scripts/provision-engine.sh."
        )
    if version[:2] < MIN_BUILDX:
        raise EngineUnavailable(
            f"docker buildx {'.'.join(map(str, version))} is too old: devbox needs >= 0.12 "
            "(for --progress=rawjson). Upgrade the buildx plugin."
        )
    return EngineInfo(endpoint, server, ".".join(map(str, version)))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:200] if text else type(exc).__name__
