"""A pre-built base (`devbox base build`) is used only when it was built from the very image
its base-image reference names *now*: another image behind the same tag makes it stale, with
--strict-base as without (issue 13)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import TEST_IMAGE
from helpers import copy_fixture

pytestmark = pytest.mark.engine

PYTHON311 = TEST_IMAGE.format(python="3.11")


def docker(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, timeout=300
    )


def image_id(ref: str) -> str:
    proc = docker("image", "inspect", "--format", "{{.Id}}", ref)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def refs() -> Iterator[tuple[str, str]]:
    """A base-image reference of this test's own (the 3.11 test image, tagged anew) and a
    tag for the pre-built base; every tag made here is removed afterwards."""
    hexid = uuid.uuid4().hex[:8]
    base_image = f"localhost/devbox-test/ident-{hexid}:{{python}}"
    base_ref = f"localhost/devbox-test/ident-base-{hexid}:{{python}}"
    tagged = docker("image", "tag", PYTHON311, base_image.format(python="3.11"))
    assert tagged.returncode == 0, tagged.stderr
    try:
        yield base_image, base_ref
    finally:
        for ref in (base_image, base_ref):
            docker("image", "rm", "-f", ref.format(python="3.11"))


def test_another_image_behind_the_same_base_image_tag_makes_the_base_stale(
    devbox: Any, tmp_path: Path, refs: tuple[str, str]
) -> None:
    base_image, base_ref = refs
    from_ref = base_image.format(python="3.11")
    env = {"DEVBOX_BASE_IMAGE": base_image}
    project = copy_fixture("clean", tmp_path)
    built = devbox("base", "build", "--tag", base_ref, cwd=project, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    used = devbox("test", "--base", base_ref, "--strict-base", cwd=project, env=env)
    assert used.returncode == 0, used.stdout + used.stderr
    assert used.report is not None
    assert used.report["environments"][0]["base"] == base_ref.format(python="3.11")

    # Another image (the same Python, one label more) behind the same reference.
    before = image_id(from_ref)
    variant = docker(
        "build", "--quiet", "--label", f"devbox-test.variant={uuid.uuid4().hex}",
        "--tag", from_ref, "-", stdin=f"FROM {PYTHON311}\n",
    )  # fmt: skip
    assert variant.returncode == 0, variant.stderr
    assert image_id(from_ref) != before

    refused = devbox("test", "--base", base_ref, "--strict-base", cwd=project, env=env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "--strict-base: the base image" in refused.stderr
    assert f"was built from another {from_ref}" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr

    fallback = devbox("test", "--base", base_ref, cwd=project, env=env)
    assert fallback.returncode == 0, fallback.stdout + fallback.stderr
    assert "warning: the base image" in fallback.stdout
    assert f"was built from another {from_ref}" in fallback.stdout
    assert fallback.report is not None and fallback.report["environments"][0]["base"] is None
    assert fallback.tool("pytest")["tests"]["passed"] == 3

    # A base built now is built from the new image, and is used again.
    rebuilt = devbox("base", "build", "--tag", base_ref, cwd=project, env=env)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    again = devbox("test", "--base", base_ref, "--strict-base", cwd=project, env=env)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_base_whose_base_image_cannot_be_had_is_not_trusted(
    devbox: Any, tmp_path: Path, refs: tuple[str, str]
) -> None:
    """The base-image reference names no image the engine has or can pull: nothing can tell
    whether the base was built from it, so --strict-base refuses."""
    base_image, base_ref = refs
    env = {"DEVBOX_BASE_IMAGE": base_image}
    project = copy_fixture("clean", tmp_path)
    built = devbox("base", "build", "--tag", base_ref, cwd=project, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    removed = docker("image", "rm", base_image.format(python="3.11"))
    assert removed.returncode == 0, removed.stderr

    refused = devbox("test", "--base", base_ref, "--strict-base", cwd=project, env=env)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "--strict-base: the base image" in refused.stderr
    assert "cannot be checked" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
