"""``--report-json PATH``: the run's result as JSON (the format is documented in docs/usage.md)."""

from __future__ import annotations

import json
from pathlib import Path

from devbox.fsutil import atomic_write
from devbox.results.model import RunResult


def write(path: Path, result: RunResult) -> None:
    atomic_write(path, json.dumps(result.to_json(), indent=2) + "\n")
