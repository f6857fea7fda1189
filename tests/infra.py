"""Test infrastructure beyond the main engine: a real local registry and a second dockerd.

- :func:`registry` runs Debian's ``docker-registry`` (distribution 2.8) on 127.0.0.1: dockerd
  treats 127.0.0.0/8 as an insecure registry, so plain http works for push and pull.
- :func:`second_engine` runs a second dockerd (from the prefix scripts/provision-engine.sh
  unpacks into /opt/devbox-engine) standing in for a remote builder: its own data and exec
  roots, socket, containerd namespaces and bridge, and a docker context naming it.  Its
  containers (and RUN steps of builds on it) reach the network through NAT like the main
  engine's.
- :func:`copy_image` gives it the base images it needs (it can pull only from our registry).
- :func:`infra_problem` says why none of this can work here (tests then skip, or fail in CI).

Facts (checked on Debian 12 with dockerd 26.1.5, see /work/shared/ENGINE.md): a second daemon
with ``--bridge=none`` fails RUN steps ("network bridge not found") and deletes the first
daemon's docker0; with its own bridge and ``--iptables`` it leaves the first one alone, but
its iptables rules outlive it, so they are removed on exit.  scripts/provision-engine.sh
(``test-infra``, part of ``all``) installs ``docker-registry`` and ``ip`` on Debian.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import ipaddress
import itertools
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REGISTRY_BIN = Path("/usr/bin/docker-registry")
ENGINE_PREFIX = Path(os.environ.get("DEVBOX_ENGINE_DIR", "/opt/devbox-engine"))
#: Data roots live on a real disk (overlay2 may not work on tmpfs or overlayfs).
DATA_ROOTS = Path("/var/lib/devbox-test-engines")
#: Exec roots and the state the next session needs to clean up after a killed one.
STATE_ROOTS = Path("/run/devbox-test-engines")
#: Candidate bridge subnets (10.213.N.1/24) and address pools (10.214.N.0/24) of second engines.
BRIDGE_NET = "10.213.{n}.0/24"
POOL_NET = "10.214.{n}.0/24"


def _engine_path() -> str:
    """PATH with the provisioned engine's binaries first, as scripts/provision-engine.sh does."""
    prefix = [str(ENGINE_PREFIX / "usr/bin"), str(ENGINE_PREFIX / "usr/sbin")]
    return os.pathsep.join([*prefix, os.environ.get("PATH", os.defpath)])


def find_dockerd() -> str | None:
    """The provisioned dockerd, else /opt/devbox-engine/usr/sbin/dockerd, else one on PATH."""
    found = shutil.which("dockerd", path=_engine_path())
    if found:
        return found
    fallback = ENGINE_PREFIX / "usr/sbin/dockerd"
    if os.access(fallback, os.X_OK):
        return str(fallback)
    return shutil.which("dockerd")


def infra_problem(*, registry: bool = True, second_engine: bool = True) -> str | None:
    """Why the registry / second engine cannot be used here, or None when they can."""
    if registry and not os.access(REGISTRY_BIN, os.X_OK):
        return (
            f"{REGISTRY_BIN} is missing (Debian: run `sudo scripts/provision-engine.sh test-infra`)"
        )
    if second_engine:
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return "a second dockerd needs root"
        if find_dockerd() is None:
            return f"no dockerd binary (looked in {ENGINE_PREFIX} and on PATH)"
        if shutil.which("ip") is None:
            return "the `ip` command is missing (Debian: apt-get install iproute2)"
    return None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies (Linux; best effort)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


# -- registry ----------------------------------------------------------------------------------


@contextlib.contextmanager
def registry(tmp: Path, timeout: float = 30) -> Iterator[str]:
    """Run a registry storing under ``tmp``; yields its address "127.0.0.1:PORT"."""
    tmp.mkdir(parents=True, exist_ok=True)
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    log = tmp / "registry.log"
    for _attempt in range(3):  # the free port may be taken between choosing and binding it
        port = _free_port()
        config = tmp / "registry.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: info\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {json.dumps(str(tmp / 'storage'))}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{port}\n"
        )
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(REGISTRY_BIN), "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            deadline = time.monotonic() + timeout
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    with no_proxy.open(f"http://127.0.0.1:{port}/v2/", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    time.sleep(0.05)
            else:
                if proc.poll() is not None:
                    continue  # exited (port taken?): try another port
                raise RuntimeError(
                    f"the registry did not answer on 127.0.0.1:{port} within {timeout} s:\n{_tail(log)}"
                )
            yield f"127.0.0.1:{port}"
            return
        finally:
            _stop(proc, 10)
            shutil.rmtree(tmp / "storage", ignore_errors=True)
    raise RuntimeError(f"the registry did not start:\n{_tail(log)}")


# -- second engine -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SecondEngine:
    """A second dockerd reachable as docker context ``context``."""

    context: str
    host: str
    data_root: Path
    exec_root: Path
    log: Path
    bridge: str
    subnet: str
    data_on_tmpfs: bool

    def docker(
        self, *args: str, timeout: float = 600, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``docker --context CONTEXT ARGS...`` (output captured as text; not checked)."""
        return subprocess.run(
            ["docker", "--context", self.context, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=_docker_env(),
        )


def _docker_env() -> dict[str, str]:
    """The environment for ``docker --context``: DOCKER_HOST/DOCKER_CONTEXT would conflict."""
    return {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}


def _quiet(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a cleanup/probe command; never raises."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return subprocess.CompletedProcess(argv, 127, "", str(exc))


def _networks_in_use() -> list[ipaddress.IPv4Network]:
    used = []
    for argv in (["ip", "-4", "-o", "addr", "show"], ["ip", "-4", "route", "show", "table", "all"]):
        for word in _quiet(argv).stdout.split():
            with contextlib.suppress(ValueError):
                if "/" in word or word[:1].isdigit():
                    used.append(ipaddress.IPv4Network(word, strict=False))
    return used


def _pick_subnet() -> int:
    """N such that neither 10.213.N.0/24 nor 10.214.N.0/24 is used by an address or route."""
    used = _networks_in_use()
    for n in range(256):
        nets = [ipaddress.IPv4Network(t.format(n=n)) for t in (BRIDGE_NET, POOL_NET)]
        if not any(net.overlaps(u) for net in nets for u in used if u.prefixlen > 0):
            return n
    raise RuntimeError("no free /24 in 10.213.0.0/16 for a second engine's bridge")


def _bridge_name(key: str) -> str:
    return f"dbx{zlib.crc32(key.encode()):08x}"  # at most 15 characters (IFNAMSIZ)


def _under(path: str, roots: list[Path]) -> bool:
    return any(path == str(r) or path.startswith(f"{r}/") for r in roots)


def _unmount_under(roots: list[Path]) -> None:
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].encode().decode("unicode_escape")  # \040 and friends
            if _under(point, roots):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        _quiet(["umount", "-l", point])


def _mentions(pid: int, roots: list[Path]) -> bool:
    """Whether process ``pid``'s command line names a path under ``roots`` (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return any(f"{root}/" in cmdline for root in roots)


def _kill_leftovers(roots: list[Path]) -> None:
    """SIGKILL processes (containerd, shims) whose command line names a path under ``roots``."""
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != me and _mentions(int(proc.name), roots):
            with contextlib.suppress(OSError):
                os.kill(int(proc.name), signal.SIGKILL)


def _delete_iptables_rules(bridge: str) -> None:
    """Rules dockerd added for ``bridge`` (it leaves them behind when it stops)."""
    if shutil.which("iptables") is None:
        return
    for table in ("nat", "filter"):
        for line in _quiet(["iptables", "-t", table, "-S"]).stdout.splitlines():
            words = shlex.split(line)
            if words[:1] != ["-A"]:
                continue
            if any(a in ("-i", "-o") and b == bridge for a, b in itertools.pairwise(words)):
                _quiet(["iptables", "-t", table, "-D", *words[1:]])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cleanup(state: dict[str, str]) -> None:
    """Undo everything a second engine set up; best effort, never raises."""
    roots = [Path(state["data_root"]), Path(state["exec_root"])]
    try:
        pid = int(Path(state["pidfile"]).read_text().strip())
    except (OSError, ValueError):
        pid = 0
    if pid and _pid_alive(pid) and _mentions(pid, roots):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    _kill_leftovers(roots)
    _quiet(["docker", "context", "rm", "--force", state["context"]])
    _delete_iptables_rules(state["bridge"])
    _quiet(["ip", "link", "delete", state["bridge"]])
    _unmount_under(roots)
    with contextlib.suppress(OSError):
        Path(state["host"].removeprefix("unix://")).unlink()
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)
    state_file = Path(state["state_file"])
    with contextlib.suppress(OSError):
        state_file.unlink()
    with contextlib.suppress(OSError):
        state_file.parent.rmdir()


def _sweep_stale() -> None:
    """Clean up after second engines of test sessions that were killed before their cleanup."""
    for state_file in STATE_ROOTS.glob("*/state.json"):
        try:
            state = json.loads(state_file.read_text())
            owner = int(state["owner"])
        except (OSError, ValueError, KeyError):
            continue
        if not _pid_alive(owner):
            _cleanup(state)


def _ping(sock: str, timeout: float = 2) -> bool:
    """GET /_ping on a unix socket."""
    conn = http.client.HTTPConnection("localhost", timeout=timeout)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.sock = s  # closed with conn
        s.settimeout(timeout)
        s.connect(sock)
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _claim_context(name: str) -> None:
    """Remove a docker context ``name`` left behind, unless its engine still answers."""
    r = _quiet(["docker", "context", "inspect", name, "--format", "{{.Endpoints.docker.Host}}"])
    if r.returncode != 0:
        return  # no such context
    host = r.stdout.strip()
    if host.startswith("unix://") and _ping(host.removeprefix("unix://")):
        raise RuntimeError(
            f"docker context {name} exists and its engine ({host}) runs: pick another name"
        )
    _quiet(["docker", "context", "rm", "--force", name])


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialize set-up and sweeping between test processes (subnet choice above all)."""
    import fcntl  # not on Windows, where this module must still import

    STATE_ROOTS.mkdir(parents=True, exist_ok=True)
    with (STATE_ROOTS / ".lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _start_dockerd(
    dockerd: str, argv: list[str], log: Path, sock: str, timeout: float
) -> subprocess.Popen[bytes]:
    """Start dockerd and wait until it answers on ``sock``; stopped again when it does not.

    Its argv[0] is plain "dockerd", not the binary's path: tests that restart the main engine
    find it with `pkill -f /opt/devbox-engine/usr/sbin/dockerd`, which must not hit this one.
    """
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["dockerd", *argv],
            executable=dockerd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",
            env={**os.environ, "PATH": _engine_path()},
            start_new_session=True,  # Ctrl-C in pytest must not hit it before our cleanup
            preexec_fn=_die_with_parent,
        )
    deadline = time.monotonic() + timeout
    while not _ping(sock):
        if proc.poll() is not None:
            raise RuntimeError(f"dockerd exited with {proc.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            _stop(proc, 30)
            raise RuntimeError(f"dockerd did not answer within {timeout} s:\n{_tail(log)}")
        time.sleep(0.1)
    return proc


@contextlib.contextmanager
def second_engine(
    tmp: Path, name: str, *, tmpfs_size: str | None = "8g", timeout: float = 60
) -> Iterator[SecondEngine]:
    """Run a second dockerd as docker context ``name`` (socket unix:///run/NAME.sock).

    ``tmp`` keeps its log and daemon.json; its data root is /var/lib/devbox-test-engines/NAME
    and its exec root /run/devbox-test-engines/NAME.
    The data root is a tmpfs of ``tmpfs_size`` (None: the disk) when overlay2 works on it:
    on these VMs unpacking an image into ext4 costs 10 s of system time, into tmpfs 0.3 s.
    ``name`` must be unique among engines running at once: the conftest fixture uses
    devbox-remote-PID.
    Everything is removed on exit, and on entry what killed sessions left behind.
    """
    dockerd = find_dockerd()
    if dockerd is None:
        raise RuntimeError(infra_problem(registry=False) or "no dockerd")
    key = name  # dirs, bridge
    tmp.mkdir(parents=True, exist_ok=True)
    exec_root = STATE_ROOTS / key
    data_root = DATA_ROOTS / key
    sock = f"/run/{name}.sock"
    bridge = _bridge_name(key)
    state = {
        "owner": str(os.getpid()),
        "context": name,
        "host": f"unix://{sock}",
        "data_root": str(data_root),
        "exec_root": str(exec_root),
        "pidfile": str(exec_root / "dockerd.pid"),
        "bridge": bridge,
        "state_file": str(exec_root / "state.json"),
    }
    log = tmp / "dockerd.log"
    config = tmp / "daemon.json"
    config.write_text("{}\n")  # not /etc/docker/daemon.json, whatever it says
    proc: subprocess.Popen[bytes] | None = None
    try:
        with _lock():
            _sweep_stale()
            if exec_root.exists():  # not swept: its owner runs
                raise RuntimeError(f"a second engine named {name} runs already ({exec_root})")
            _claim_context(name)
            exec_root.mkdir(parents=True)
            data_root.mkdir(parents=True)
            (exec_root / "state.json").write_text(json.dumps(state))
            n = _pick_subnet()
            gateway = BRIDGE_NET.format(n=n).replace(".0/24", ".1/24")
            for argv in (
                ["ip", "link", "add", bridge, "type", "bridge"],
                ["ip", "addr", "add", gateway, "dev", bridge],
                ["ip", "link", "set", bridge, "up"],
            ):
                r = _quiet(argv)
                if r.returncode != 0:
                    raise RuntimeError(f"{shlex.join(argv)} failed: {r.stderr.strip()}")
        base_argv = [
            f"--config-file={config}",
            f"--data-root={data_root}",
            f"--exec-root={exec_root}",
            f"--pidfile={state['pidfile']}",
            f"--host={state['host']}",
            f"--containerd-namespace={name}",
            f"--containerd-plugins-namespace={name}-plugins",
            f"--bridge={bridge}",
            "--iptables=true",
            "--ip-masq=true",
            f"--default-address-pool=base={POOL_NET.format(n=n)},size=28",
            "--storage-driver=overlay2",  # never a silent fallback to vfs
        ]
        on_tmpfs = False
        for on_tmpfs in [True, False] if tmpfs_size else [False]:
            if on_tmpfs:
                mount = ["mount", "-t", "tmpfs", "-o", f"size={tmpfs_size},mode=0710"]
                if _quiet([*mount, "devbox-test-engine", str(data_root)]).returncode != 0:
                    continue
            try:
                proc = _start_dockerd(dockerd, base_argv, log, sock, timeout)
                break
            except RuntimeError:
                if not on_tmpfs:
                    raise
                # overlay2 on tmpfs needs a recent kernel: put the data root on the disk
                _kill_leftovers([data_root, exec_root])
                _unmount_under([data_root])
                with log.open("a") as out:
                    out.write(
                        "infra: dockerd failed with its data root on tmpfs; trying the disk\n"
                    )
        r = _quiet(["docker", "context", "create", name, "--docker", f"host={state['host']}"])
        if r.returncode != 0:
            raise RuntimeError(f"docker context create {name} failed: {r.stderr.strip()}")
        engine = SecondEngine(
            context=name,
            host=state["host"],
            data_root=data_root,
            exec_root=exec_root,
            log=log,
            bridge=bridge,
            subnet=BRIDGE_NET.format(n=n),
            data_on_tmpfs=on_tmpfs,
        )
        info = engine.docker("info", "--format", "{{.ServerVersion}}", timeout=60)
        if info.returncode != 0:
            raise RuntimeError(f"docker --context {name} info failed: {info.stderr.strip()}")
        yield engine
    finally:
        if proc is not None:
            _stop(proc, 30)
        with contextlib.suppress(Exception):
            _cleanup(state)


def copy_image(src_context: str | None, dst: SecondEngine, image: str) -> None:
    """``docker [--context SRC] save IMAGE | docker --context DST load`` (skipped if present)."""
    src = ["docker"] if src_context is None else ["docker", "--context", src_context]
    env = os.environ if src_context is None else _docker_env()
    fmt = ["image", "inspect", "--format", "{{.Id}}", image]
    want = subprocess.run([*src, *fmt], capture_output=True, text=True, env=env, timeout=60)
    if want.returncode != 0:
        raise RuntimeError(f"no image {image} to copy: {want.stderr.strip()}")
    have = dst.docker(*fmt, timeout=60)
    if have.returncode == 0 and have.stdout == want.stdout:
        return
    save = subprocess.Popen([*src, "save", image], stdout=subprocess.PIPE, env=env)
    assert save.stdout is not None
    try:
        load = subprocess.run(
            ["docker", "--context", dst.context, "load", "-q"],
            stdin=save.stdout,
            capture_output=True,
            env=_docker_env(),
            timeout=600,
        )
    finally:
        save.stdout.close()
        save.wait(60)
    if save.returncode != 0 or load.returncode != 0:
        raise RuntimeError(
            f"copying {image} to {dst.context} failed: save exited {save.returncode}, "
            f"load exited {load.returncode}: {load.stderr.decode(errors='replace').strip()}"
        )
