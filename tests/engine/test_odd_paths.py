"""Project directories (and devbox cache directories) whose names buildx's CSV specs would
misread: commas, double quotes, ``=``, newlines. The run must test the right tree, report the
right results, and write nothing into the project (issue 13)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import snapshot
from helpers import copy_fixture

pytestmark = pytest.mark.engine

PASSED = {"passed": 3, "failed": 0, "skipped": 0, "errors": 0}


def newline_names_allowed(where: Path) -> bool:
    probe = where / f"nl\nprobe-{uuid.uuid4().hex[:6]}"
    try:
        probe.mkdir()
    except OSError:
        return False
    probe.rmdir()
    return True


def run_clean_in(
    devbox: Any, tmp_path: Path, dirname: str, env: dict[str, str] | None = None
) -> None:
    """``devbox test`` on a copy of the clean fixture in a directory named ``dirname``-…:
    all three tests pass, and the tree is exactly as it was."""
    parent = tmp_path / f"p-{uuid.uuid4().hex[:6]}"
    parent.mkdir()
    project = copy_fixture("clean", parent, dirname=dirname)
    before = snapshot(project)
    siblings = sorted(os.listdir(parent))
    run = devbox("test", cwd=project, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.tool("pytest")["tests"] == PASSED, run.stdout
    assert snapshot(project) == before, "devbox wrote into the project tree"
    assert sorted(os.listdir(parent)) == siblings, "devbox wrote next to the project tree"


@pytest.mark.parametrize(
    "dirname",
    [
        'we,ird "name"',
        # dest= after a comma once made buildx export the results to a relative path: the
        # project directory (devbox runs with the project as its working directory)
        "a,dest=out",
        'q"uote',
    ],
)
def test_a_project_directory_with_csv_characters(devbox: Any, tmp_path: Path, dirname: str) -> None:
    run_clean_in(devbox, tmp_path, dirname)


def test_a_project_directory_with_a_newline(devbox: Any, tmp_path: Path) -> None:
    if not newline_names_allowed(tmp_path):
        pytest.skip("this filesystem refuses newlines in names")
    run_clean_in(devbox, tmp_path, 'line\nbreak, "and" more')


def test_a_cache_directory_with_a_comma(devbox: Any, tmp_path: Path) -> None:
    cache = tmp_path / 'devbox,cache "dir"'
    run_clean_in(devbox, tmp_path, "plain", env={"DEVBOX_CACHE_DIR": str(cache)})
    assert (cache / "projects").is_dir()  # devbox's own files went there, nowhere else


def test_a_ca_bundle_path_with_a_comma_and_quotes(devbox: Any, tmp_path: Path) -> None:
    """The CA bundle reaches buildx as a --secret spec too (src=PATH)."""
    host_bundle = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    if not host_bundle.is_file():
        pytest.skip("no CA bundle on this host")
    bundle = tmp_path / 'c,a "bundle"' / "x,src=y.pem"
    bundle.parent.mkdir()
    shutil.copyfile(host_bundle, bundle)
    run_clean_in(devbox, tmp_path, "plain", env={"DEVBOX_CA_BUNDLE": str(bundle)})
