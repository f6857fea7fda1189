"""The only place that runs docker.

Builds go through ``docker buildx build`` (docker-py cannot drive BuildKit:
docker/docker-py#2230); the docker SDK answers the engine questions (ping, versions).
Both are imported or started lazily: the SDK import alone costs ~0.2 s.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox.errors import EngineUnavailable, Interrupted

MIN_BUILDX = (0, 12)  # --progress=rawjson


def run_command(argv: Sequence[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a short host command and capture its output (the one helper tests fake)."""
    try:
        return subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise EngineUnavailable(
            f"{argv[0]!r} was not found on PATH. Install the Docker client (Docker Desktop, or your "
            "distribution's docker packages), or run scripts/provision-engine.sh on Debian."
        ) from None
    except subprocess.TimeoutExpired:
        raise EngineUnavailable(
            f"`{' '.join(argv)}` did not answer within {timeout:.0f} s."
        ) from None


@dataclass(frozen=True)
class EngineInfo:
    endpoint: str
    server_version: str
    buildx_version: str


def _version_tuple(text: str) -> tuple[int, ...]:
    m = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def docker_endpoint(env: Mapping[str, str]) -> str:
    """The engine the docker CLI would talk to: DOCKER_HOST, else the current context's."""
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    proc = run_command(["docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"])
    host = proc.stdout.strip()
    return host or "unix:///var/run/docker.sock"


def probe_engine(env: Mapping[str, str]) -> tuple[str, str]:
    """(endpoint, server version) of the engine the docker CLI would use; EngineUnavailable if none."""
    if shutil.which("docker") is None:
        run_command(["docker"])  # raises the "not found" error
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
    proc = run_command(["docker", "buildx", "version"])
    version = _version_tuple(proc.stdout)
    if proc.returncode != 0 or not version:
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


def build_argv(
    *,
    dockerfile: Path,
    context: Path,
    devbox_context: Path,
    output: Path | None,
    build_args: Mapping[str, str],
    target: str = "results",
    tag: str | None = None,
) -> list[str]:
    """``output``: export the target's files there; else load the image as ``tag``."""
    destination = (
        ["--output", f"type=local,dest={output}"]
        if output is not None
        else ["--load", "--tag", str(tag)]
    )
    argv = [
        "docker", "buildx", "build", "--progress=rawjson", "--target", target, *destination,
        "--file", str(dockerfile), "--build-context", f"devbox={devbox_context}",
    ]  # fmt: skip
    for key, value in sorted(build_args.items()):
        argv += ["--build-arg", f"{key}={value}"]
    argv.append(str(context))
    return argv


def stream_build(
    argv: Sequence[str], on_line: Callable[[str], object], env: Mapping[str, str]
) -> int:
    """Run a build, feeding each stderr line (rawjson progress) to ``on_line``.

    Ctrl-C: the build runs in its own process group; the first SIGINT is forwarded there
    (buildx cancels the solve in the daemon), a second one kills it.
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
        run_command(argv)  # raises the "not found on PATH" error
        raise
    assert proc.stderr is not None

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM (CI timeouts, editors stopping a task): cancel too

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        for line in proc.stderr:
            on_line(line)
        return proc.wait()
    except KeyboardInterrupt:
        _cancel(proc)
        raise Interrupted("interrupted: the build was cancelled.") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        proc.stderr.close()


def _cancel(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
    except KeyboardInterrupt:
        pass
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
