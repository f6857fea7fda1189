"""``--report-json PATH``: the run's result as JSON (the format is documented in docs/usage.md)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from devbox.build import secrets as build_secrets
from devbox.fsutil import atomic_write
from devbox.results.model import RunResult


def write(path: Path, result: RunResult, masked: Sequence[str] = ()) -> None:
    """``masked``: the secret values (:meth:`Secrets.values`): every string is masked."""
    data = build_secrets.mask_json(result.to_json(), masked) if masked else result.to_json()
    atomic_write(path, json.dumps(data, indent=2) + "\n")
