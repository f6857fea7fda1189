"""Files devbox writes on request are written atomically; per-run directories are private."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from devbox import fsutil


def test_atomic_write_replaces_whole_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    fsutil.atomic_write(target, "new content")
    assert target.read_text() == "new content"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left


def test_a_failed_write_leaves_the_old_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "pyproject.toml"
    target.write_text("[project]\nname = 'x'\n")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        fsutil.atomic_write(target, "[tool.devbox]\n" * 1000)
    assert target.read_text() == "[project]\nname = 'x'\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pyproject.toml"]


def test_private_dirs_are_distinct_removed_and_stale_ones_swept(tmp_path: Path) -> None:
    stale = tmp_path / "run-stale"
    stale.mkdir()
    old = time.time() - 3 * 24 * 3600
    os.utime(stale, (old, old))
    with fsutil.private_dir(tmp_path, "run-") as a, fsutil.private_dir(tmp_path, "run-") as b:
        assert a != b and a.is_dir() and b.is_dir()
        assert not stale.exists()
    assert not a.exists() and not b.exists()
