"""Secrets of a build: package index URLs (which may carry credentials) and ``secret-env``.

They reach BuildKit only as secret files (``--secret id=…,src=FILE``), written with mode 0600
into the run's private directory and removed with it: never a build argument (those are kept
in the image history and the build record), never a layer, never in the cache key. The steps
that read them (devbox's install and tool scripts) mask their values in everything they print.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devbox._container.stepsecrets import sensitive
from devbox.build.contract import ENV_ID, INDEX_ID
from devbox.config import Config

MASK = "***"


@dataclass(frozen=True)
class Secrets:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    #: secret-env: variable name → value, read from devbox's environment
    env: Mapping[str, str] = field(default_factory=dict)
    #: secret-env names that were not set (the tools run without them)
    missing: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never print the values, even in a traceback
        return f"Secrets(env={sorted(self.env)}, indexes={len(self.urls())})"

    def urls(self) -> list[str]:
        return ([self.index_url] if self.index_url else []) + list(self.extra_index_urls)

    def files(self) -> dict[str, str]:
        """Secret id → file content, for the secrets that are set."""
        files: dict[str, str] = {}
        if self.urls():
            files[INDEX_ID] = json.dumps(
                {"index_url": self.index_url, "extra_index_urls": list(self.extra_index_urls)}
            )
        if self.env:
            files[ENV_ID] = json.dumps(dict(self.env))
        return files

    def write(self, directory: Path) -> dict[str, Path]:
        """Write the secret files (0600) into ``directory``; secret id → path."""
        paths: dict[str, Path] = {}
        for sid, content in self.files().items():
            path = directory / f"{sid}.secret"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(content)
            paths[sid] = path
        return paths

    def values(self) -> list[str]:
        """Every string to mask: secret-env values, index URLs with credentials, their parts
        (the rule the steps mask with, too)."""
        return sensitive(list(self.env.values()), self.urls())


def from_config(cfg: Config, env: Mapping[str, str]) -> Secrets:
    present = {name: env[name] for name in cfg.secret_env if env.get(name)}
    return Secrets(
        index_url=cfg.index_url,
        extra_index_urls=cfg.extra_index_url,
        env=present,
        missing=tuple(name for name in cfg.secret_env if name not in present),
    )


def mask(text: str, values: Iterable[str]) -> str:
    for value in values:
        text = text.replace(value, MASK)
    return text
