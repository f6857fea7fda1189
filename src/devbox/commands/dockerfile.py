"""``devbox dockerfile``: the Dockerfile (or its ignore file) a command would build."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from devbox.build.dockerfile import render
from devbox.build.plan import Command
from devbox.build.session import Options, load_plan


def dockerfile(
    project_dir: Path,
    command: Command,
    *,
    python: str | None,
    base_image: str | None,
    ignore: bool,
    env: Mapping[str, str],
) -> str:
    opts = Options(project_dir, command, {"python": python, "base-image": base_image})
    rendered = render(load_plan(opts, env))
    return rendered.dockerignore if ignore else rendered.dockerfile
