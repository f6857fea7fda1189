"""Secrets of a build: package index URLs (which may carry credentials) and ``secret-env``.

They reach BuildKit only as secret files (``--secret id=…,src=FILE``), written with mode 0600
into the run's private directory and removed with it: never a build argument (those are kept
in the image history and the build record), never a layer, never in the cache key. The steps
that read them (devbox's install and tool scripts) mask their values in everything they print.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devbox._container.stepsecrets import MASK, sensitive
from devbox.build.contract import COLOUR_VALUE, COLOUR_VAR, ENV_ID, INDEX_ID
from devbox.config import Config

__all__ = ["MASK", "Secrets", "from_config", "mask", "mask_json", "mask_progress", "sensitive"]


@dataclass(frozen=True)
class Secrets:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    #: secret-env: variable name → value, read from devbox's environment
    env: Mapping[str, str] = field(default_factory=dict)
    #: secret-env names that were not set (the tools run without them)
    missing: tuple[str, ...] = ()
    #: devbox prints to a colour terminal: the tool steps are told so (contract.COLOUR_VAR)
    colour: bool = False

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
        if self.env or self.colour:
            env = dict(self.env)
            if self.colour:
                env[COLOUR_VAR] = COLOUR_VALUE
            files[ENV_ID] = json.dumps(env)
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
        """Every string to mask: secret-env values, index URLs with credentials, their parts,
        each in its escaped forms and line by line (the rule the steps mask with, too:
        :func:`devbox._container.stepsecrets.sensitive`)."""
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
    """``text`` with each of ``values`` (:meth:`Secrets.values`, longest first) replaced by
    MASK: the host's twin of the steps' ``stepsecrets.mask``."""
    for value in values:
        text = text.replace(value, MASK)
    return text


def mask_json(data: Any, values: Sequence[str]) -> Any:
    """A JSON-able value with every string in it (keys too) masked."""
    if isinstance(data, str):
        return mask(data, values)
    if isinstance(data, dict):
        return {mask_json(k, values): mask_json(v, values) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask_json(v, values) for v in data]
    return data


#: a base64 field of buildx's rawjson progress: step output ("data" of "logs") and warnings
#: ("short"). buildx 0.13 pretty-prints each object over many lines, one field a line;
#: others write an object a line: both are matched field by field.
_BASE64_FIELD = re.compile(r'("(?:data|short)":\s*")([A-Za-z0-9+/]*={0,2})(")')


def mask_progress(line: str, values: Sequence[str]) -> str:
    """One line of the rawjson progress stream, masked: the step output it carries base64
    encoded is decoded, masked and encoded again; the rest of the line (vertex names, errors)
    is masked as text, where ``values`` hold the JSON-escaped forms. The line stays JSON."""
    if not values:
        return line
    encoded = [v.encode("utf-8", "surrogateescape") for v in values]
    mask_bytes = MASK.encode()
    parts: list[str] = []
    start = 0
    for m in _BASE64_FIELD.finditer(line):
        parts.append(mask(line[start : m.start(2)], values))
        data = m.group(2)
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None:
            masked = raw
            for value in encoded:
                masked = masked.replace(value, mask_bytes)
            if masked != raw:
                data = base64.b64encode(masked).decode("ascii")
        parts.append(data)
        start = m.end(2)
    parts.append(mask(line[start:], values))
    return "".join(parts)
