"""The private directories of a run: a killed run's secret files do not outlive it."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from devbox import fsutil


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _fake_run_dir(parent: Path, name: str, **owner: object) -> Path:
    path = parent / name
    path.mkdir(parents=True)
    (path / "devbox-env.secret").write_text("{}")
    record = {"host": socket.gethostname(), "pid_namespace": fsutil._pid_namespace(), **owner}
    (path / fsutil.OWNER_FILE).write_text(json.dumps(record))
    return path


def test_a_run_removes_the_dirs_of_ended_runs_and_keeps_live_ones(tmp_path: Path) -> None:
    ended = _fake_run_dir(tmp_path, "run-ended", pid=_dead_pid(), start="")
    live = _fake_run_dir(
        tmp_path, "run-live", pid=os.getpid(), start=fsutil._start_time(os.getpid())
    )
    reused = _fake_run_dir(tmp_path, "run-reused", pid=os.getpid(), start="1")  # pid reused
    elsewhere = _fake_run_dir(tmp_path, "run-elsewhere", pid=_dead_pid(), host="another-host")
    with fsutil.private_dir(tmp_path, "run-") as mine:
        assert not ended.exists() and live.exists() and elsewhere.exists()
        assert not reused.exists() or not fsutil._start_time(os.getpid())
        owner = json.loads((mine / fsutil.OWNER_FILE).read_text())
        assert owner["pid"] == os.getpid()
    assert not mine.exists()


def test_secret_dirs_are_on_shm_private_and_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(fsutil, "SHM", shm)
    base = shm / f"devbox-{os.getuid()}"
    with fsutil.secret_dir(tmp_path / "disk") as first:
        assert first.parent == base and not (tmp_path / "disk").exists()
        assert stat.S_IMODE(base.stat().st_mode) == 0o700
        assert stat.S_IMODE(first.stat().st_mode) == 0o700
    ended = _fake_run_dir(base, "secrets-ended", pid=_dead_pid(), start="")
    with fsutil.secret_dir(tmp_path / "disk"):
        assert not ended.exists()
    # a directory there that is not this user's alone: not used, the fallback is
    base.chmod(0o755)
    with fsutil.secret_dir(tmp_path / "disk") as fallback:
        assert fallback.parent == tmp_path / "disk"
    monkeypatch.setattr(fsutil, "SHM", tmp_path / "no-shm")
    with fsutil.secret_dir(tmp_path / "disk") as fallback:
        assert fallback.parent == tmp_path / "disk"
