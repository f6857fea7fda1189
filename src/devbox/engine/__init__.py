"""The only code that runs docker or buildx.

* :mod:`~devbox.engine.docker` — :class:`Docker`, one engine as the docker CLI reaches it:
  images, pulls, labels, builds, containers; what commands and doctor ask.
* :mod:`~devbox.engine.builder` — where builds run: a docker context or a buildx builder.
* :mod:`~devbox.engine.buildx` — the ``buildx build`` command line, the streamed build and its
  cancellation.
* :mod:`~devbox.engine.health` — is there an engine, is buildx new enough (asked lazily).
* :mod:`~devbox.engine.process` — the one helper that runs a short command (faked in tests).

The docker SDK is imported lazily (by the probe): its import alone costs ~0.2 s.
"""

from __future__ import annotations

from devbox.engine.builder import DEFAULT_BUILDER, Builder, check_cache_export, resolve_builder
from devbox.engine.buildx import PROXY_VARIABLES, SETTLE_S, build_argv, stream_build
from devbox.engine.docker import Docker
from devbox.engine.health import (
    MIN_BUILDX,
    EngineInfo,
    buildx_version,
    docker_endpoint,
    probe,
    probe_engine,
    version_tuple,
)
from devbox.engine.process import run_command

__all__ = [
    "DEFAULT_BUILDER",
    "MIN_BUILDX",
    "PROXY_VARIABLES",
    "SETTLE_S",
    "Builder",
    "Docker",
    "EngineInfo",
    "build_argv",
    "buildx_version",
    "check_cache_export",
    "docker_endpoint",
    "probe",
    "probe_engine",
    "resolve_builder",
    "run_command",
    "stream_build",
    "version_tuple",
]
