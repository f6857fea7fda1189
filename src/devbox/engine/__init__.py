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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox.errors import EngineUnavailable, Interrupted

MIN_BUILDX = (0, 12)  # --progress=rawjson


def run_command(
    argv: Sequence[str], *, timeout: float = 60, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a short host command and capture its output (the one helper tests fake)."""
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


def version_tuple(text: str) -> tuple[int, ...]:
    """The first "X.Y[.Z]" in ``text`` as numbers; () when there is none."""
    m = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in m.groups() if g is not None) if m else ()


def buildx_version() -> tuple[int, ...]:
    """The buildx plugin's version; () when the plugin is missing."""
    proc = run_command(["docker", "buildx", "version"])
    return version_tuple(proc.stdout) if proc.returncode == 0 else ()


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
    version = buildx_version()
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


@dataclass(frozen=True)
class Builder:
    """Where builds run: the default, a docker context, or a buildx builder instance.

    buildx addresses the two differently: a builder instance with ``--builder NAME``; a
    docker context (a ``docker``-driver builder) only as ``docker --context NAME buildx``
    (``--builder`` answers "use `docker --context=NAME buildx`").
    """

    name: str | None = None
    #: docker context: every docker command (builds, image checks, pulls) goes there
    context: str | None = None
    #: buildx builder instance (docker-container, kubernetes, remote driver)
    instance: str | None = None

    def docker(self) -> list[str]:
        return ["docker", "--context", self.context] if self.context else ["docker"]

    def env(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment for docker commands: a chosen context wins over DOCKER_HOST."""
        if not self.context:
            return dict(env)
        result = {k: v for k, v in env.items() if k != "DOCKER_HOST"}
        result["DOCKER_CONTEXT"] = self.context
        return result

    def driver(self, env: Mapping[str, str]) -> str:
        """The buildx driver ("docker", "docker-container", ...); "" when unknown."""
        proc = run_command(
            [*self.docker(), "buildx", "inspect", *([self.instance] if self.instance else [])],
            env=self.env(env),
        )
        m = re.search(r"^Driver:\s*(\S+)", proc.stdout, re.MULTILINE)
        return m.group(1) if m else ""


#: the default builder (the current docker context's)
DEFAULT_BUILDER = Builder()


def resolve_builder(name: str | None, env: Mapping[str, str]) -> Builder:
    """The builder named by ``builder``/``--builder``: a docker context or a buildx builder."""
    if name is None:
        return DEFAULT_BUILDER
    if run_command(["docker", "context", "inspect", name], env=env).returncode == 0:
        return Builder(name, context=name)
    if run_command(["docker", "buildx", "inspect", name], env=env).returncode == 0:
        return Builder(name, instance=name)
    from devbox.errors import ConfigError

    raise ConfigError(
        f"builder {name!r}: no docker context and no buildx builder has that name. "
        "`docker context ls` and `docker buildx ls` list them; create one with `docker context "
        "create NAME --docker host=...` (a remote engine) or `docker buildx create --name NAME`."
    )


def check_cache_export(builder: Builder, cache_to: Sequence[str], env: Mapping[str, str]) -> None:
    """The plain docker driver exports only inline cache: say so before building."""
    other = [spec for spec in cache_to if not spec.startswith("type=inline")]
    if not other:
        return
    driver = builder.driver(env)
    if driver == "docker":
        from devbox.errors import ConfigError

        where = f"builder {builder.name!r}" if builder.name else "the default builder"
        raise ConfigError(
            f"cache-to {other[0]!r}: {where} uses the docker driver, which can export only "
            "inline cache (type=inline, written into an image that `devbox base build --push` "
            "pushes). Use type=inline, or a builder that exports other types: `docker buildx "
            'create --name devbox --driver docker-container`, then builder = "devbox".'
        )


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
        destination = ["--output", f"type=local,dest={output}"]
    else:
        destination = ["--push" if push else "--load", "--tag", str(tag)]
    argv = [
        *builder.docker(), "buildx", "build",
        *(["--builder", builder.instance] if builder.instance else []),
        "--progress=rawjson", "--target", target, *destination,
        "--file", str(dockerfile), "--build-context", f"devbox={devbox_context}",
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
    # do not (so a proxy URL with a password stays out of both).
    for var in PROXY_VARIABLES:
        if env and env.get(var):
            argv += ["--build-arg", f"{var}={env[var]}"]
    if ca_bundle:
        argv += ["--secret", f"id=devbox-ca,src={ca_bundle}"]
    for sid, path in sorted((secrets or {}).items()):
        argv += ["--secret", f"id={sid},src={path}"]
    argv.append(str(context))
    return argv


PROXY_VARIABLES = tuple(
    v
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY", "ALL_PROXY")
    for v in (name, name.lower())
)


def stream_build(
    argv: Sequence[str],
    on_line: Callable[[str], object],
    env: Mapping[str, str],
    settle: Callable[[], float] = lambda: 0.0,
) -> int:
    """Run a build, feeding each stderr line (rawjson progress) to ``on_line``.

    Ctrl-C (or SIGTERM): buildx runs in its own process group and gets one SIGINT, which makes
    it cancel the solve in the daemon; devbox waits for that. A second Ctrl-C returns at once
    and leaves buildx to finish cancelling by itself (see _cancel).
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

    previous_term = signal.signal(signal.SIGTERM, on_term)
    previous_int = signal.getsignal(signal.SIGINT)
    handed_off = False
    try:
        for line in proc.stderr:
            on_line(line)
        return proc.wait()
    except KeyboardInterrupt:
        handed_off = _cancel(proc, settle())
        raise Interrupted("interrupted: the build was cancelled.") from None
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
        if not handed_off and proc.poll() is None:
            # Leaving while buildx runs: a second Ctrl-C came before _cancel could act (both
            # can be pending at once). Cancel anyway, and let buildx finish that by itself.
            _hand_off(proc, delay=settle())
        elif not handed_off:
            proc.stderr.close()


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
    signal.signal(signal.SIGINT, note)
    signal.signal(signal.SIGTERM, note)
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
