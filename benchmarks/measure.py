"""What the benchmarks share: timing one command, and putting a table into a Markdown page
between its markers (each benchmark owns one pair)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def timed(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    ok: Callable[[int], bool] = lambda rc: rc == 0,
    label: str = "bench",
) -> float:
    """Seconds ``argv`` took; a run ``ok`` rejects stops the benchmark with its output."""
    start = time.perf_counter()
    proc = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if not ok(proc.returncode):
        raise SystemExit(
            f"{label}: {' '.join(argv)} exited {proc.returncode}\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return elapsed


def devbox_env(
    work: Path, image: str, cache: str = "devbox-cache", **settings: str
) -> dict[str, str]:
    """The environment devbox runs in for a benchmark: none of the caller's DEVBOX_*, the
    base image ``image``, a cache directory of the benchmark's own (``work/cache``), no
    colours; then ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVBOX_")}
    env.update(DEVBOX_BASE_IMAGE=image, DEVBOX_CACHE_DIR=str(work / cache), NO_COLOR="1")
    env.update(settings)
    return env


def write_between_markers(path: Path, text: str, begin: str, end: str) -> None:
    """``text`` in place of what ``path`` holds between ``begin`` and ``end`` (a new page
    with just the markers when there is none)."""
    page = path.read_text(encoding="utf-8") if path.exists() else f"{begin}\n{end}\n"
    if begin not in page or end not in page:
        raise SystemExit(f"{path} has no {begin} … {end} markers")
    head, rest = page.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}{end}{tail}", encoding="utf-8")
