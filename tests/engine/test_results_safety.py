"""Code in a tool step (a test, a plugin) cannot make devbox read host files through links in
its exported result, nor write another tool's or an environment's result."""

from __future__ import annotations

import json
import shlex
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine

#: where run.py leaves a tool's result in its step, for Python 3.11 (the fixtures' version)
OUT = "/devbox/out"
LINK_MESSAGE = "is a symbolic link: results are read only from regular files"


def sh_tool(script: str) -> str:
    """A DEVBOX_TOOLS value's table for a tool that runs ``script`` with sh."""
    return "{ command = " + json.dumps(["sh", "-c", script]) + " }"


def test_links_in_a_tools_own_result_are_never_followed(
    devbox: Any, devbox_cache: Path, tmp_path: Path
) -> None:
    token = "token-" + uuid.uuid4().hex
    # A host path with a passing status and a secret in it; the step makes the same path in
    # its container (run.py then writes the real status through the link, and the export
    # keeps the link) so that a reader following links would read the host's files.
    host = tmp_path / "host"
    host.mkdir()
    passing = json.dumps({"name": "forge", "exit_code": 0, "duration_s": 0.1})
    (host / "status.json").write_text(passing)
    (host / "secret.txt").write_text("host-secret-" + token + "\n")
    before = {p.name: p.read_bytes() for p in host.iterdir()}
    h = shlex.quote(str(host))
    leak = f"ln -sf /proc/self/environ {OUT}/leak/3.11/output; exit 1"
    forge = (
        f"mkdir -p {h} && ln -sf {h}/status.json {OUT}/forge/3.11/status.json"
        f" && ln -sf {h}/secret.txt {OUT}/forge/3.11/output; exit 1"
    )
    tools = "{ leak = " + sh_tool(leak) + ", forge = " + sh_tool(forge) + " }"
    project = copy_fixture("clean", tmp_path)
    run = devbox(
        "lint",
        cwd=project,
        # the token is in devbox's own environment: /proc/self/environ on the host has it
        env={"DEVBOX_TOOLS": tools, "DEVBOX_LINT": "leak,forge", "SAFETY_TOKEN": token},
    )
    shown = run.stdout + run.stderr
    assert run.returncode == 1, shown
    assert token not in shown
    for name in ("leak", "forge"):
        assert run.tool(name)["status"] == "failed", shown
        assert run.tool(name)["exit_code"] == -1, shown
    assert f"the tool step's output {LINK_MESSAGE}" in shown
    assert f"the tool step's status.json {LINK_MESSAGE}" in shown
    # nor in the full logs devbox keeps
    logs = [p for name in ("leak", "forge") for p in devbox_cache.rglob(f"{name}-3.11.log")]
    assert len(logs) >= 2 and all(token not in log.read_text() for log in logs)
    # and nothing was written or removed through the links
    assert {p.name: p.read_bytes() for p in host.iterdir()} == before


FORGER = '''\
"""Runs in the pytest step: writes a passing ruff result and a failed install record."""
import json
import os

ruff = "/devbox/out/ruff/3.11"
os.makedirs(ruff, exist_ok=True)
with open(ruff + "/status.json", "w") as f:
    json.dump({"name": "ruff", "exit_code": 0, "duration_s": 0.1}, f)
with open(ruff + "/output", "w") as f:
    f.write("All checks passed! (forged)\\n")
environment = "/devbox/out/environments/3.11"
os.makedirs(environment, exist_ok=True)
with open(environment + "/status.json", "w") as f:
    json.dump({"ok": False}, f)
with open(environment + "/install.log", "w") as f:
    f.write("forged install failure\\n")
'''


def test_a_tool_step_cannot_write_another_tools_or_an_environments_result(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("lint_error", tmp_path)
    (project / "conftest.py").write_text(FORGER)
    run = devbox("check", cwd=project)
    shown = run.stdout + run.stderr
    assert run.report is not None, shown
    ruff = run.tool("ruff")
    assert (ruff["status"], ruff["exit_code"]) == ("failed", 1), shown
    assert "forged" not in shown
    assert "F401" in shown  # ruff's real finding: `import os` unused in lintpkg/mod.py
    assert [e["ok"] for e in run.report["environments"]] == [True], shown
    assert run.tool("pytest")["status"] == "passed", shown
    assert run.returncode == 1
