"""Where builds run: the default builder, a docker context, or a buildx builder instance."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from devbox.engine import process
from devbox.errors import ConfigError


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
        proc = process.run_command(
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
    if process.run_command(["docker", "context", "inspect", name], env=env).returncode == 0:
        return Builder(name, context=name)
    if process.run_command(["docker", "buildx", "inspect", name], env=env).returncode == 0:
        return Builder(name, instance=name)
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
        where = f"builder {builder.name!r}" if builder.name else "the default builder"
        raise ConfigError(
            f"cache-to {other[0]!r}: {where} uses the docker driver, which can export only "
            "inline cache (type=inline, written into an image that `devbox base build --push` "
            "pushes). Use type=inline, or a builder that exports other types: `docker buildx "
            'create --name devbox --driver docker-container`, then builder = "devbox".'
        )
