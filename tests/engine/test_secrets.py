"""Secrets against the real engine: a private package index that needs credentials, and a
``secret-env`` token given to the tools. Both must work, and neither may leave a trace in an
image's layers or history, in devbox's output, logs, progress record or report."""

from __future__ import annotations

import hashlib
import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devbox.results.progress import BuildProgress
from helpers import make_project
from pkgindex import SimpleIndex, bridge_gateway

pytestmark = pytest.mark.engine

PROBE = "devbox_secret_probe"


class PrivateIndex(SimpleIndex):
    """The index with credentials, serving one wheel of the probe."""

    def __init__(self, host: str, user: str, token: str, version: str) -> None:
        super().__init__(host, user, token)
        self.wheel_name = self.add("devbox-secret-probe", version)


@pytest.fixture
def private_index() -> Iterator[tuple[PrivateIndex, str, str]]:
    user, token = "devbox-bot", f"idx-{uuid.uuid4().hex}"
    version = f"1.0.{uuid.uuid4().int % 10**9}"  # unique: no earlier install step can replay
    index = PrivateIndex(bridge_gateway(), user, token, version)
    yield index, user, token
    index.close()


def everything_devbox_kept(cache: Path) -> bytes:
    """Every file under devbox's cache directory (state, logs, progress records)."""
    return b"".join(p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file())


def progress_logs(path: Path) -> bytes:
    """The step output inside a recorded rawjson progress stream (it is base64 there)."""
    progress = BuildProgress({})
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        progress.feed(line, 0.0)
    return b"".join(bytes(v.logs) for v in progress.vertexes.values())


def test_index_credentials_and_secret_env_work_and_leave_no_trace(
    devbox: Any, devbox_cache: Path, tmp_path: Path, private_index: tuple[PrivateIndex, str, str]
) -> None:
    index, user, token = private_index
    api_token = f"api-{uuid.uuid4().hex}"
    # Without credentials the index refuses: what installs later is thanks to the secret.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://{index.url}/simple/devbox-secret-probe/", timeout=10)
    assert refused.value.code == 401
    refused.value.close()  # the error holds the open response

    version = index.wheel_name.split("-")[1]
    token_hash = hashlib.sha256(api_token.encode()).hexdigest()
    test_token = (
        "import hashlib, os\n\n\ndef test_the_tool_sees_the_token() -> None:\n"
        f"    assert hashlib.sha256(os.environ['DEVBOX_TEST_API_TOKEN'].encode()).hexdigest() == {token_hash!r}\n"
    )
    project = make_project(
        tmp_path / "secrets",
        f"""
[project]
name = "secretsdemo"
version = "0.1"
dependencies = ["devbox-secret-probe=={version}"]

[tool.devbox]
python = "3.11"
extra-index-url = ["http://${{DEVBOX_TEST_INDEX_USER}}:${{DEVBOX_TEST_INDEX_TOKEN}}@{index.url}/simple"]
secret-env = ["DEVBOX_TEST_API_TOKEN"]
lint = ["leak"]
test = ["pytest"]

[tool.devbox.tools.leak]
command = ["python", "-c", "import os, {PROBE}; print('token is', os.environ['DEVBOX_TEST_API_TOKEN']); print({PROBE}.VALUE)"]
""",
        {"tests/test_token.py": test_token},
    )
    env = {
        "DEVBOX_TEST_INDEX_USER": user,
        "DEVBOX_TEST_INDEX_TOKEN": token,
        "DEVBOX_TEST_API_TOKEN": api_token,
    }

    # devbox shell installs the dependencies first (a version no earlier run had): through
    # the same secrets
    shell = devbox(
        "shell",
        "--",
        "python",
        "-c",
        f"import {PROBE}; print({PROBE}.VALUE)",
        cwd=project,
        env=env,
        report=False,
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert f"probe {version}" in shell.stdout
    shell_tag = next(w for w in shell.stderr.split() if w.startswith("devbox-shell/"))
    subprocess.run(["docker", "image", "rm", "-f", shell_tag], capture_output=True, check=True)

    run = devbox("check", "-v", cwd=project, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert any(p.startswith("/files/") for p in index.authorized), "installed without the index?"
    assert "token is ***" in run.stdout  # the tool printed it: masked before it left the step
    assert f"probe {version}" in run.stdout
    assert run.tool("pytest")["tests"]["passed"] == 1  # the token reached the tools intact

    tag = f"localhost/devbox-test/secrets-{uuid.uuid4().hex[:8]}:3.11"
    built = devbox("base", "build", "--tag", tag, cwd=project, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    try:
        history = subprocess.run(
            ["docker", "history", "--no-trunc", tag], capture_output=True, check=True
        ).stdout
        inspect = subprocess.run(
            ["docker", "image", "inspect", tag], capture_output=True, check=True
        ).stdout
        saved = subprocess.run(["docker", "save", tag], capture_output=True, check=True).stdout
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
    work = next((devbox_cache / "projects").glob("secrets-*"))
    places = {
        "image history": history,
        "image config": inspect,
        "image tarball (docker save)": saved,
        "devbox's output": (
            run.stdout + run.stderr + built.stdout + built.stderr + shell.stdout + shell.stderr
        ).encode(),
        "devbox's files (logs, state, progress)": everything_devbox_kept(work),
        "step output in the progress record": progress_logs(work / "logs" / "build-progress.jsonl"),
        "JSON report": json.dumps(run.report).encode(),
    }
    assert len(saved) > 1_000_000 and b"token is" in places["step output in the progress record"]
    for secret in (token, api_token, f"{user}:{token}"):
        for where, content in places.items():
            assert secret.encode() not in content, f"{secret[:8]}… found in {where}"
