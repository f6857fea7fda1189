"""The project's build kept between runs (devbox._container.run: build_key, save_build,
restore_build), on real directories standing for the copy of the tree and the venv.

tests/engine/test_native.py checks the same against the engine: a rebuilt extension after a
C edit, a reused one after a test edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devbox._container import run as step

SPEC: dict[str, object] = {"installer": "uv", "version": None, "env": {}}


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    tree, src, venv = tmp_path / "tree", tmp_path / "src", tmp_path / "venv"
    cache, env_status = tmp_path / "cache", tmp_path / "env"
    for d in (tree / "pkg", tree / "tests", src, venv / "lib", cache, env_status):
        d.mkdir(parents=True)
    (tree / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    (tree / "pkg" / "fast.c").write_text("int f(void) { return 1; }\n")
    (tree / "pkg" / "mod.py").write_text("X = 1\n")
    (tree / "tests" / "test_x.py").write_text("def test_x(): pass\n")
    (env_status / "status.json").write_text(json.dumps({"ok": True, "packages": {"a": "1"}}))
    monkeypatch.setattr(step, "WORKDIR", str(src))
    monkeypatch.setattr(step, "VENV", str(venv))
    monkeypatch.setattr(step, "ENV_STATUS", str(env_status))
    monkeypatch.setattr(step, "BUILD_CACHE", str(cache / "devbox-build"))
    installed = venv / "lib" / "pkg.pth"
    monkeypatch.setattr(
        step, "project_files", lambda: [str(installed)] if installed.exists() else []
    )
    return {"tree": tree, "src": src, "venv": venv, "state": tmp_path / "state.json"}


def sync(p: dict[str, Path]) -> str | None:
    step.mirror(str(p["tree"]), str(p["src"]), str(p["state"]))
    return step.build_key(SPEC)


def build(p: dict[str, Path]) -> None:
    """What an editable install does: a file in the venv, an extension in the tree."""
    (p["venv"] / "lib" / "pkg.pth").write_text(str(p["src"]) + "\n")
    (p["src"] / "pkg" / "fast.so").write_bytes(b"\x7fELF built")


def test_a_build_is_reused_while_nothing_it_is_built_from_changes(
    places: dict[str, Path],
) -> None:
    key = sync(places)
    assert key is not None and not step.restore_build(key)  # nothing kept yet
    build(places)
    step.save_build(key)
    # the next run: a fresh venv, the copy without the build's files (the mirror removes them)
    (places["venv"] / "lib" / "pkg.pth").unlink()
    assert sync(places) == key
    assert not (places["src"] / "pkg" / "fast.so").exists()
    assert step.restore_build(key)
    assert (places["src"] / "pkg" / "fast.so").read_bytes() == b"\x7fELF built"
    assert (places["venv"] / "lib" / "pkg.pth").read_text() == str(places["src"]) + "\n"


@pytest.mark.parametrize(
    ("rel", "rebuilds"),
    [
        ("tests/test_x.py", False),
        ("tests/data/input.txt", False),
        ("conftest.py", False),
        ("pkg/test_inline.py", False),
        ("pkg/fast.c", True),
        ("pkg/mod.py", True),
        ("setup.py", True),
        ("pkg/new.h", True),
    ],
)
def test_what_changes_the_key(places: dict[str, Path], rel: str, rebuilds: bool) -> None:
    key = sync(places)
    path = places["tree"] / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + "# changed\n")
    assert (sync(places) != key) is rebuilds


def test_the_environment_and_the_version_are_part_of_the_key(
    places: dict[str, Path], tmp_path: Path
) -> None:
    key = sync(places)
    assert step.build_key({**SPEC, "version": "2.0"}) != key
    assert step.build_key({**SPEC, "env": {"CFLAGS": "-O0"}}) != key
    (tmp_path / "env" / "status.json").write_text(json.dumps({"packages": {"a": "2"}}))
    assert step.build_key(SPEC) != key


def test_a_kept_build_is_not_put_back_over_files_that_exist(places: dict[str, Path]) -> None:
    key = sync(places)
    assert key is not None
    build(places)
    step.save_build(key)
    # the .pth is still there (not a fresh venv): nothing is put back, nothing half-done
    (places["src"] / "pkg" / "fast.so").unlink()
    assert not step.restore_build(key)
    assert not (places["src"] / "pkg" / "fast.so").exists()


def test_no_record_no_reuse(places: dict[str, Path]) -> None:
    step.RECORD.clear()
    assert step.build_key(SPEC) is None


def test_a_tree_file_the_build_rewrites_is_rewritten_again(places: dict[str, Path]) -> None:
    """An extension built in place on the host comes with the tree; the container's build
    overwrites it, and so does putting that build back."""
    (places["tree"] / "pkg" / "fast.so").write_bytes(b"host build")
    key = sync(places)
    assert key is not None
    build(places)  # overwrites the copy's fast.so
    step.save_build(key)
    (places["venv"] / "lib" / "pkg.pth").unlink()
    assert sync(places) == key
    assert (places["src"] / "pkg" / "fast.so").read_bytes() == b"host build"
    assert step.restore_build(key)
    assert (places["src"] / "pkg" / "fast.so").read_bytes() == b"\x7fELF built"


def test_what_the_build_installed_beside_the_project_is_put_back(places: dict[str, Path]) -> None:
    """An editable install also installs the dependencies the environment lacks (those that
    only setup.cfg or a build hook names): a reused build must bring them back too. (A real
    project, aiosignal, failed its tests after a reuse: frozenlist was gone.)"""
    (places["venv"] / "lib" / "already.py").write_text("X = 1\n")  # the environment's own
    key = sync(places)
    assert key is not None
    before = step.venv_files()
    build(places)
    (places["venv"] / "lib" / "frozenlist").mkdir()
    (places["venv"] / "lib" / "frozenlist" / "__init__.py").write_text("FROZEN = 1\n")
    step.save_build(key, before)
    # the next run: a fresh venv (the environment's files only), the copy synced again
    (places["venv"] / "lib" / "pkg.pth").unlink()
    import shutil

    shutil.rmtree(places["venv"] / "lib" / "frozenlist")
    assert sync(places) == key
    assert step.restore_build(key)
    assert (places["venv"] / "lib" / "frozenlist" / "__init__.py").read_text() == "FROZEN = 1\n"
    assert (places["venv"] / "lib" / "already.py").read_text() == "X = 1\n"


def test_a_build_that_changed_the_environment_itself_is_not_kept(
    places: dict[str, Path],
) -> None:
    """pip replaced or removed a file the environment had (another version of a dependency):
    putting the build back could not undo that on failure, so it is built each time."""
    (places["venv"] / "lib" / "dep.py").write_text("VERSION = 1\n")
    key = sync(places)
    assert key is not None
    before = step.venv_files()
    build(places)
    (places["venv"] / "lib" / "dep.py").unlink()
    (places["venv"] / "lib" / "dep.py").write_text("VERSION = 2\n")
    step.save_build(key, before)
    assert not step.restore_build(key)


def test_builds_kept_by_an_older_step_are_not_used(
    places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kept build holds is part of its key: a build kept before the step kept the
    installed dependencies too would be put back without them."""
    key = sync(places)
    monkeypatch.setattr(step, "BUILD_FORMAT", step.BUILD_FORMAT + 1)
    assert sync(places) != key
