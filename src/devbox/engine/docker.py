"""One engine, as the docker CLI reaches it: the only object the rest of devbox asks.

Every docker command devbox runs goes through a :class:`Docker`: it addresses the builder's
engine (a docker context wins over ``DOCKER_HOST``), runs short commands with one timeout
(:data:`~devbox.engine.process.COMMAND_TIMEOUT`), and describes a failed one by its last
stderr line (:func:`~devbox.engine.process.last_line`). Commands, doctor and the build session
never build a docker command line themselves.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from devbox.engine import buildx, health, process
from devbox.engine.builder import DEFAULT_BUILDER, Builder
from devbox.errors import EnvironmentError_

#: an image ID as `docker image inspect` prints it (``sha256:`` and the hex digest)
_IMAGE_ID = re.compile(r"[a-z0-9]+:[0-9a-f]{32,}")


@dataclass(frozen=True)
class CacheRecord:
    """One build cache record, as ``docker buildx du --verbose`` lists it."""

    id: str
    type: str
    description: str
    size: str


def parse_cache_records(text: str) -> list[CacheRecord]:
    """``buildx du --verbose``'s blocks (``Key:\tvalue`` lines, a blank line between)."""
    records = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip(), value.strip())
        if fields.get("ID"):
            records.append(
                CacheRecord(
                    fields["ID"], fields.get("Type", ""), fields.get("Description", ""),
                    fields.get("Size", ""),
                )
            )  # fmt: skip
    return records


class Docker:
    """The engine of ``builder`` (default: the current docker context's), seen with ``env``."""

    def __init__(self, env: Mapping[str, str], builder: Builder = DEFAULT_BUILDER) -> None:
        self.builder = builder
        #: the caller's environment (proxy variables are read from it for builds)
        self.caller_env = dict(env)
        #: the environment of every docker command: a chosen context wins over DOCKER_HOST
        self.env = builder.env(env)
        #: how long the engine may take to answer (DEVBOX_ENGINE_TIMEOUT)
        self.timeout = process.engine_timeout(env)
        self._endpoint: str | None = None

    # --- short commands -------------------------------------------------------------------

    def call(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return process.run_command(
            [*self.builder.docker(), *args],
            timeout=self.timeout if timeout is None else timeout,
            env=self.env,
            who=lambda: self.name,
        )

    @property
    def endpoint(self) -> str:
        """Where the docker CLI reaches this engine (asked once; no engine call)."""
        if self._endpoint is None:
            self._endpoint = health.docker_endpoint(self.env)
        return self._endpoint

    @property
    def name(self) -> str:
        """How messages name this engine: "the Docker engine at unix:///var/run/docker.sock"."""
        if self.builder.instance:
            return f"the buildx builder {self.builder.instance!r}"
        return f"the Docker engine at {self.endpoint}"

    def client_present(self) -> bool:
        return shutil.which("docker", path=self.env.get("PATH")) is not None

    def client_version(self) -> str:
        """The docker client's own version (`docker --version` asks no engine)."""
        out = process.run_command(["docker", "--version"], env=self.env).stdout
        return ".".join(map(str, health.version_tuple(out))) or out.strip()

    def buildx_version(self) -> tuple[int, ...]:
        proc = self.call("buildx", "version")
        return health.version_tuple(proc.stdout) if proc.returncode == 0 else ()

    def cache_records(self) -> list[CacheRecord]:
        """The builder's build cache records (``docker buildx du --verbose``)."""
        proc = self.call("buildx", "du", "--verbose", *self._builder_args(), timeout=None)
        if proc.returncode != 0:
            raise EnvironmentError_(
                f"{self.name}: `docker buildx du` failed: "
                f"{(proc.stderr.strip().splitlines() or ['no output'])[-1]}"
            )
        return parse_cache_records(proc.stdout)

    def prune_record(self, record_id: str) -> bool:
        """Remove one build cache record (and nothing else) by its ID."""
        proc = self.call(
            "buildx", "prune", "--force", "--filter", f"id={record_id}", *self._builder_args()
        )
        return proc.returncode == 0

    def _builder_args(self) -> list[str]:
        return ["--builder", self.builder.instance] if self.builder.instance else []

    def buildkit_version(self) -> str:
        """The version ``docker buildx inspect`` reports for the builder's BuildKit."""
        m = re.search(r"BuildKit version:\s*(\S+)", self.call("buildx", "inspect").stdout)
        return m.group(1) if m else "unknown"

    def root_dir(self) -> str:
        return self.call("info", "--format", "{{.DockerRootDir}}").stdout.strip()

    def probe(self) -> health.EngineInfo:
        """Raise :class:`~devbox.errors.EngineUnavailable` unless an engine and buildx answer."""
        return health.probe(self.env)

    def probe_engine(self) -> tuple[str, str]:
        return health.probe_engine(self.env)

    # --- images ---------------------------------------------------------------------------

    def image_present(self, ref: str) -> bool:
        return self.call("image", "inspect", ref).returncode == 0

    def image_labels(self, ref: str) -> dict[str, str] | None:
        """The image's labels, or None when the engine does not have it."""
        proc = self.call("image", "inspect", "--format", "{{json .Config.Labels}}", ref)
        if proc.returncode != 0:
            return None
        try:
            labels = json.loads(proc.stdout) or {}
        except ValueError:
            labels = {}
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def image_id(self, ref: str) -> str | None:
        """What ``ref`` is as this engine resolves it now: the image's ID (the digest of its
        config, which names its layers: the same image has the same ID wherever it was pulled
        or loaded, another image behind the same tag has another). None when the engine does
        not have it."""
        proc = self.call("image", "inspect", "--format", "{{.Id}}", ref)
        found = proc.stdout.strip()
        return found if proc.returncode == 0 and _IMAGE_ID.fullmatch(found) else None

    def pull(self, ref: str) -> str | None:
        """Pull ``ref``; None when that worked, else why not (its last stderr line)."""
        proc = self.call("pull", "-q", ref, timeout=process.PULL_TIMEOUT)
        return None if proc.returncode == 0 else process.last_line(proc, "not found")

    def ensure_image(self, ref: str, *, offline: bool) -> str | None:
        """The one "is this image here, or can it be pulled" check: None when it is there now,
        else why not."""
        if self.image_present(ref):
            return None
        if offline:
            return "--offline pulls nothing"
        return self.pull(ref)

    def registry_has(self, ref: str) -> str | None:
        """Whether a registry serves ``ref`` (without pulling it): None if so, else why not."""
        proc = self.call("buildx", "imagetools", "inspect", ref, timeout=30)
        return None if proc.returncode == 0 else process.last_line(proc, "unreachable")

    # --- builds and containers ------------------------------------------------------------

    def build(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], object],
        settle: Callable[[], float] = lambda: 0.0,
    ) -> int:
        """Run a build (:func:`~devbox.engine.buildx.build_argv` with this builder), feeding each
        progress line to ``on_line``."""
        return buildx.stream_build(
            argv,
            on_line,
            self.env,
            settle=settle,
            answer_timeout=self.timeout,
            engine=lambda: self.name,
        )

    def run_argv(
        self, image: str, command: Sequence[str], *, mounts: Mapping[Path, str], workdir: str,
        env: Mapping[str, str], user: str | None, tty: bool, stdin: bool,
    ) -> list[str]:  # fmt: skip
        """``docker run --rm`` of ``image`` with bind mounts (host path → container path)."""
        argv = [*self.builder.docker(), "run", "--rm"]
        for host, target in mounts.items():
            argv += ["-v", f"{host}:{target}"]
        argv += ["-w", workdir]
        for key, value in env.items():
            argv += ["-e", f"{key}={value}"]
        if user is not None:
            argv += ["--user", user]
        if tty:
            argv += ["-it"]
        elif stdin:
            argv += ["-i"]
        return [*argv, image, *command]

    def exec(self, argv: Sequence[str]) -> NoReturn:
        """Replace devbox by ``argv`` (a :meth:`run_argv`): the container owns the terminal and
        its signals from here."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(argv[0], list(argv), self.env)
