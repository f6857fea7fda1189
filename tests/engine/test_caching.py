"""The fast loop against the real engine: what is replayed, what runs again, what persists."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def test_source_edits_never_reinstall_manifest_edits_do(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    first = devbox("test", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr

    with (project / "tests" / "test_clean.py").open("a") as f:
        f.write("\n\ndef test_added_later() -> None:\n    assert cleanpkg.add(1, 1) == 2\n")
    edited = devbox("test", cwd=project)
    assert edited.returncode == 0, edited.stdout + edited.stderr
    # (what the environment holds, "packages", is checked where versions are)
    assert [
        {k: v for k, v in e.items() if k != "packages"} for e in edited.report["environments"]
    ] == [
        {
            "python": "3.11",
            "image": "localhost/devbox-test/python:3.11",
            "cached": True,
            "ok": True,
            "base": None,
        }
    ]
    assert edited.tool("pytest")["cached"] is False  # the source changed: the tool ran
    assert edited.tool("pytest")["tests"]["passed"] == 4

    unchanged = devbox("test", cwd=project)
    assert unchanged.report["environments"][0]["cached"] is True
    assert unchanged.tool("pytest")["cached"] is True  # passed last time, same inputs: replayed

    # A manifest change (a new version, unique to this run) reinstalls.
    pyproject = project / "pyproject.toml"
    version = f"1.2.{uuid.uuid4().int % 10**9}"
    pyproject.write_text(
        pyproject.read_text().replace('version = "1.2.3"', f'version = "{version}"')
    )
    (project / "tests" / "test_clean.py").write_text(
        (project / "tests" / "test_clean.py").read_text().replace('"1.2.3"', f'"{version}"')
    )
    reinstalled = devbox("test", cwd=project)
    assert reinstalled.returncode == 0, reinstalled.stdout + reinstalled.stderr
    assert reinstalled.report["environments"][0]["cached"] is False


def test_rerun_runs_every_tool(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    devbox("check", cwd=project)
    replay = devbox("check", cwd=project)
    assert [t["cached"] for t in replay.report["tools"]] == [True, True]
    forced = devbox("check", "--rerun", cwd=project)
    assert [t["cached"] for t in forced.report["tools"]] == [False, False]
    assert forced.returncode == 0


def test_mypy_cache_persists_between_runs(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    env = {"DEVBOX_LINT": "mypy"}
    cold = devbox("lint", cwd=project, env=env)
    assert cold.returncode == 0, cold.stdout + cold.stderr
    with (project / "cleanpkg" / "__init__.py").open("a") as f:
        f.write("\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n")
    warm = devbox("lint", cwd=project, env=env)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert warm.tool("mypy")["cached"] is False
    # The second run reads the first one's cache (typeshed, unchanged modules) from the
    # per-project cache mount: a fraction of the cold run.
    assert warm.tool("mypy")["duration_s"] < 0.6 * cold.tool("mypy")["duration_s"], (
        cold.tool("mypy"),
        warm.tool("mypy"),
    )


def test_uv_lock_pins_the_installed_versions(devbox: Any) -> None:
    run = devbox("test", cwd=FIXTURES / "uvlock")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"]["passed"] == 1  # see tests/fixtures/uvlock/tests


def test_context_transfer_is_incremental_between_runs(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    (project / "data").mkdir()
    (project / "data" / "table.bin").write_bytes(
        bytes(range(256)) * 8192
    )  # 2 MiB the tests may read
    first = devbox("test", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.report["context_bytes"] > 2 * 1024 * 1024
    with (project / "cleanpkg" / "__init__.py").open("a") as f:
        f.write("\n# edited\n")
    second = devbox("test", cwd=project)
    assert second.returncode == 0
    # BuildKit's file sync sends only what changed since the last run of this project.
    assert 0 < second.report["context_bytes"] < 100_000
