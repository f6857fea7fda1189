"""Writing files safely: devbox never leaves a truncated file behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def atomic_write(path: Path, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    A reader sees the old content or the new one, never a mix; a failure (disk full, Ctrl-C)
    leaves the old file as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def private_dir(parent: Path, prefix: str, *, stale_after_s: float = 24 * 3600) -> Iterator[Path]:
    """A fresh directory under ``parent`` for one run, removed afterwards.

    Two runs on the same project (an editor and a terminal) each get their own; directories
    left by killed runs are swept once they are a day old.
    """
    parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in parent.glob(f"{prefix}*"):
        with contextlib.suppress(OSError):
            if now - old.stat().st_mtime > stale_after_s:
                shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
