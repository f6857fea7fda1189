"""Secrets against the real engine, in the forms a tool really prints them: repr, backslash-
and JSON-escaped, shell-quoted, inside a failing assertion, over several lines. None of them
may reach what devbox prints or keeps (console, logs, progress record, JSON report, JUnit
XML). A proxy password must not be in buildx's command line, and a killed run's secret files
must not outlive it."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from devbox.results.progress import BuildProgress
from helpers import make_project

pytestmark = pytest.mark.engine

#: prints the secret in every form a tool might, then fails (its output is then shown)
LEAK = """\
import html, json, os, shlex, sys
value = os.environ["DEVBOX_TEST_SECRET"]
print("plain", value)
print("repr", repr(value))
print("list", [value])
print("escaped", value.encode("unicode_escape").decode())
print("bytes", value.encode())
print("json", json.dumps(value))
print("json-utf8", json.dumps({"token": value}, ensure_ascii=False))
print("quoted", shlex.quote(value))
print("xml", html.escape(value))
sys.exit(1)
"""

TEST_LEAK = """\
import json, os


def test_prints_and_asserts_the_secret() -> None:
    value = os.environ["DEVBOX_TEST_SECRET"]
    print("captured", value, repr(value), json.dumps(value))
    assert value == "something else"
"""


def secret_project(root: Path, extra: str = "") -> Path:
    return make_project(
        root,
        f"""
[project]
name = "{root.name}"
version = "0.1"

[tool.devbox]
python = "3.11"
secret-env = ["DEVBOX_TEST_SECRET"]
lint = ["leak"]
test = ["pytest"]

[tool.devbox.tools.leak]
command = ["python", "leak.py"]

[tool.pytest.ini_options]
junit_logging = "all"
{extra}""",
        {"leak.py": LEAK, "tests/test_leak.py": TEST_LEAK},
    )


def progress_logs(path: Path) -> bytes:
    """The step output inside a recorded rawjson progress stream (it is base64 there)."""
    progress = BuildProgress({})
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        progress.feed(line, 0.0)
    return b"".join(bytes(v.logs) for v in progress.vertexes.values())


def everything_written(run: Any, cache: Path, project: str, junit: Path) -> dict[str, bytes]:
    work = next((cache / "projects").glob(f"{project}-*"))
    kept = b"".join(p.read_bytes() for p in sorted(work.rglob("*")) if p.is_file())
    return {
        "console": (run.stdout + run.stderr).encode(),
        "devbox's files (logs, state, progress record)": kept,
        "step output in the progress record": progress_logs(work / "logs" / "build-progress.jsonl"),
        "JUnit XML": junit.read_bytes(),
        "JSON report": json.dumps(run.report, ensure_ascii=False).encode(),
    }


def run_leaky_check(
    devbox: Any, devbox_cache: Path, tmp_path: Path, name: str, secret: str
) -> dict[str, bytes]:
    project = secret_project(tmp_path / name)
    junit = tmp_path / "junit.xml"
    run = devbox(
        "check", "-v", "--junit-xml", str(junit), cwd=project, env={"DEVBOX_TEST_SECRET": secret}
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.tool("leak")["status"] == "failed" and run.tool("pytest")["tests"]["failed"] == 1
    places = everything_written(run, devbox_cache, name, junit)
    # the tools did print it (masked): the checks below look at real output
    assert b"plain ***" in places["console"], run.stdout
    assert b"captured" in places["JUnit XML"]
    return places


def test_escaped_and_repr_forms_of_a_secret_are_masked_everywhere(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    core = uuid.uuid4().hex
    # a quote of each kind, a backslash, XML's special characters, a tab and non-ASCII: each
    # is written differently by repr, JSON, XML and the shell
    secret = f"Tok'en\"\\{core}<&>\tend-é"
    places = run_leaky_check(devbox, devbox_cache, tmp_path, "escapedleak", secret)
    leaks = [where for where, content in places.items() if core.encode() in content]
    assert not leaks, f"the secret (in some form) is in {leaks}"


def test_each_line_of_a_multi_line_secret_is_masked_everywhere(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    lines = [f"line-{uuid.uuid4().hex}" for _ in range(3)]
    secret = "-----BEGIN TEST KEY-----\n" + "\n".join(lines) + "\n-----END TEST KEY-----\n"
    places = run_leaky_check(devbox, devbox_cache, tmp_path, "multilineleak", secret)
    leaks = [w for w, content in places.items() for line in lines if line.encode() in content]
    assert not leaks, f"a line of the secret is in {sorted(set(leaks))}"


# --- buildx's command line ------------------------------------------------------------------


def docker_recorder(directory: Path) -> Path:
    """A ``docker`` first on PATH that keeps each invocation's argv (NUL-separated) in
    ``directory/PID.argv`` and then becomes the real docker (same pid, same argv)."""
    real = shutil.which("docker")
    assert real is not None
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\0' \"$@\" > '{directory}/'$$.argv.tmp && "
        f"mv '{directory}/'$$.argv.tmp '{directory}/'$$.argv\n"
        f"exec '{real}' \"$@\"\n"
    )
    script.chmod(0o755)
    return bin_dir


def recorded_builds(directory: Path) -> dict[int, list[str]]:
    """pid → argv of every recorded ``docker buildx build``."""
    builds = {}
    for path in directory.glob("*.argv"):
        argv = path.read_bytes().split(b"\0")[:-1]
        if b"buildx" in argv[:3] and b"build" in argv[:5]:
            builds[int(path.name.split(".")[0])] = [a.decode() for a in argv]
    return builds


def test_a_proxy_password_is_not_in_buildx_argv_and_still_reaches_the_steps(
    devbox: Any, tmp_path: Path
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    proxy = f"http://devbox:{password}@127.0.0.1:9"
    expected = hashlib.sha256(proxy.encode()).hexdigest()
    check = (
        "import hashlib, os, sys\n"
        "seen = hashlib.sha256(os.environ.get('HTTPS_PROXY', '').encode()).hexdigest()\n"
        f"print('proxy seen' if seen == {expected!r} else 'proxy NOT seen')\n"
        f"sys.exit(0 if seen == {expected!r} else 1)\n"
    )
    project = make_project(
        tmp_path / "proxyargv",
        """
[project]
name = "proxyargv"
version = "0.1"

[tool.devbox]
python = "3.11"
lint = ["proxycheck"]

[tool.devbox.tools.proxycheck]
command = ["python", "proxycheck.py"]
""",
        {"proxycheck.py": check},
    )
    records = tmp_path / "argv"
    bin_dir = docker_recorder(records)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HTTPS_PROXY": proxy,
        "NO_PROXY": "*",  # nothing in the build may actually use the (unreachable) proxy
    }
    run = devbox("lint", "-v", cwd=project, env=env)
    builds = recorded_builds(records)
    assert builds, "no buildx build was recorded"
    for argv in builds.values():
        assert not any(password in a for a in argv), f"the proxy password is in {argv}"
        pairs = list(itertools.pairwise(argv))
        assert ("--build-arg", "HTTPS_PROXY") in pairs, argv
    # buildx took the value from its environment: the step saw it
    assert run.returncode == 0, run.stdout + run.stderr
    assert "proxy seen" in run.stdout


# --- a killed run -----------------------------------------------------------------------------


def test_the_secret_files_of_a_killed_run_are_gone_once_the_next_run_starts(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    records = tmp_path / "argv"
    bin_dir = docker_recorder(records)
    project = make_project(
        tmp_path / "killedrun",
        """
[project]
name = "killedrun"
version = "0.1"

[tool.devbox]
python = "3.11"
secret-env = ["DEVBOX_TEST_SECRET"]
lint = ["slow"]

[tool.devbox.tools.slow]
command = ["python", "-c", "import time; time.sleep(120)"]
""",
    )
    env = cli_env(
        devbox_cache,
        project,
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "DEVBOX_TEST_SECRET": f"s-{uuid.uuid4().hex}",
        },
    )
    killed = subprocess.Popen(
        [sys.executable, "-m", "devbox", "lint"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    secret_files: list[Path] = []
    buildx_pid = 0
    try:
        deadline = time.monotonic() + 300
        while not secret_files and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.2)
            for pid, argv in recorded_builds(records).items():
                buildx_pid = pid
                secret_files = [
                    Path(a.split(",src=", 1)[1]) for a in argv if a.startswith("id=devbox-env,src=")
                ]
        assert secret_files, "the build never started with its secret file"
        time.sleep(1.0)  # the build is under way
        assert all(p.exists() for p in secret_files), "no secret file while the build runs"
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        if buildx_pid:  # its own process group: cancel the orphaned build, do not leave it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(buildx_pid, signal.SIGINT)
            for _ in range(200):
                if not Path(f"/proc/{buildx_pid}").exists():
                    break
                time.sleep(0.1)
    # (another devbox run on this machine may already have removed them: that is the point)

    quick = make_project(
        tmp_path / "nextrun",
        """
[project]
name = "nextrun"
version = "0.1"

[tool.devbox]
python = "3.11"
lint = ["quick"]

[tool.devbox.tools.quick]
command = ["python", "-c", "print('ok')"]
""",
    )
    run = devbox("lint", cwd=quick)
    assert run.returncode == 0, run.stdout + run.stderr
    left = [p for p in secret_files if p.exists()]
    assert not left, f"the killed run's secret files are still on disk: {left}"
