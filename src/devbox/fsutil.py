"""Writing files safely: devbox never leaves a truncated file behind, nor a killed run's
secrets."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: in each private directory: the process that made it (see _owner)
OWNER_FILE = ".devbox-owner"
#: a tmpfs on Linux: files there are never written to a disk and go with a reboot
SHM = Path("/dev/shm")


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


def unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file (None: it can, as far as can be told).

    Looks at the path and its nearest existing directory; the write itself can still fail
    (a full disk), which its caller reports.
    """
    path = Path(os.path.abspath(path))
    if path.is_dir():
        return "it is a directory"
    parent = path.parent
    while not parent.exists():
        if parent.is_symlink():
            return f"{parent} is a broken symbolic link"
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{parent} is not writable"
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), "" when unknown: with the
    pid, it tells a process from a later one that got the same pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _owner() -> dict[str, object]:
    pid = os.getpid()
    return {
        "pid": pid,
        "start": _start_time(pid),
        "host": socket.gethostname(),
        "pid_namespace": _pid_namespace(),
    }


def _owner_gone(directory: Path) -> bool:
    """True when the process that made ``directory`` has ended. False when it runs, when it
    cannot be told (no record, another host or pid namespace: a container sharing the
    cache), or when the record cannot be read."""
    try:
        owner = json.loads((directory / OWNER_FILE).read_text(encoding="utf-8"))
        pid = int(owner["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if owner.get("host") != socket.gethostname():
        return False
    if owner.get("pid_namespace") != _pid_namespace():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists (another user's): compare start times
    except OSError:
        return False
    start = owner.get("start")
    return bool(start) and _start_time(pid) not in ("", start)


def _sweep(parent: Path, prefix: str, stale_after_s: float) -> None:
    """Remove the directories under ``parent`` of runs that have ended (their process is
    gone: killed, or the machine crashed), and those without an owner record (older devbox
    versions, other pid namespaces) once they are ``stale_after_s`` old."""
    now = time.time()
    for old in parent.glob(f"{prefix}*"):
        with contextlib.suppress(OSError):
            if _owner_gone(old) or now - old.stat().st_mtime > stale_after_s:
                shutil.rmtree(old, ignore_errors=True)


def _made_dir(parent: Path, prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))  # mode 0700
    try:
        (path / OWNER_FILE).write_text(json.dumps(_owner()), encoding="utf-8")
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return path


@contextlib.contextmanager
def private_dir(parent: Path, prefix: str, *, stale_after_s: float = 24 * 3600) -> Iterator[Path]:
    """A fresh directory under ``parent`` for one run, removed afterwards.

    Two runs on the same project (an editor and a terminal) each get their own; directories
    left by killed runs are swept by the next run, once their process is gone (or, when that
    cannot be told, once they are a day old).
    """
    parent.mkdir(parents=True, exist_ok=True)
    _sweep(parent, prefix, stale_after_s)
    path = _made_dir(parent, prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _shm_dir() -> Path | None:
    """This user's directory on SHM (mode 0700, made if need be); None when there is no
    SHM, or the directory there is not one this user alone owns (made by someone else)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None or not SHM.is_dir():
        return None
    path = SHM / f"devbox-{getuid()}"
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != getuid() or st.st_mode & 0o077:
        return None
    return path


@contextlib.contextmanager
def secret_dir(fallback: Path, *, stale_after_s: float = 24 * 3600) -> Iterator[Path]:
    """A fresh directory for one run's secret files, removed afterwards.

    On SHM when it can be had (a tmpfs: the plaintext never reaches a disk), else under
    ``fallback``. Every run first removes the secret directories of runs whose process is
    gone, so the files of a killed run (SIGKILL, a crash) live until the next run starts.
    """
    parent = _shm_dir() or fallback
    parent.mkdir(parents=True, exist_ok=True)
    _sweep(parent, "secrets-", stale_after_s)
    path = _made_dir(parent, "secrets-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
