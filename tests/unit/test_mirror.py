"""The tool step's copy of the tree (devbox._container.run.mirror), on real directories.

The copy outlives the step (a cache mount), so what a tool did to it last time must never
reach the next run: these tests edit, add, remove, retype and tamper with files and check that
the copy ends equal to the source every time, and that an unchanged file is not copied again.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from devbox._container import run as step


def snapshot(root: Path) -> dict[str, tuple[str, object, int]]:
    """Every entry: kind, content (or link target), permission bits."""
    found: dict[str, tuple[str, object, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            found[rel] = ("l", os.readlink(path), 0)
        elif stat.S_ISDIR(st.st_mode):
            found[rel] = ("d", None, 0)
        else:
            found[rel] = ("f", path.read_bytes(), stat.S_IMODE(st.st_mode))
    return found


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path, Path]:
    source, target, state = tmp_path / "tree", tmp_path / "src", tmp_path / "mirror"
    (source / "pkg" / "sub").mkdir(parents=True)
    (source / "pkg" / "__init__.py").write_text("")
    (source / "pkg" / "sub" / "mod.py").write_text("X = 1\n")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    (source / "link").symlink_to("pkg/sub/mod.py")
    target.mkdir()
    state.mkdir()
    return source, target, state / "state.json"


def sync(trees: tuple[Path, Path, Path]) -> dict[str, int]:
    source, target, state = trees
    counts = step.mirror(str(source), str(target), str(state))
    assert snapshot(target) == snapshot(source)
    return counts


def test_first_copy_then_only_what_changed(trees: tuple[Path, Path, Path]) -> None:
    source = trees[0]
    assert sync(trees) == {"copied": 4, "removed": 0, "kept": 0}
    assert sync(trees) == {"copied": 0, "removed": 0, "kept": 4}
    (source / "pkg" / "sub" / "mod.py").write_text("X = 2\n")
    assert sync(trees)["copied"] == 1


def test_a_same_size_edit_with_the_old_mtime_is_still_seen(trees: tuple[Path, Path, Path]) -> None:
    """As BuildKit's snapshot has it after devbox made it send the file again: new content,
    the old size and mtime (only ctime, or the inode, tells)."""
    source = trees[0]
    sync(trees)
    mod = source / "pkg" / "sub" / "mod.py"
    before = mod.stat()
    mod.write_text("X = 9\n")  # same size
    os.utime(mod, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert mod.stat().st_mtime_ns == before.st_mtime_ns
    assert sync(trees)["copied"] == 1


def test_what_a_tool_wrote_into_its_copy_never_reaches_the_next_run(
    trees: tuple[Path, Path, Path],
) -> None:
    target = trees[1]
    sync(trees)
    # a tool's own files and directories, a changed file (same size, mtime put back), a
    # removed one, a file turned into a directory, a changed mode
    (target / "coverage.xml").write_text("<coverage/>")
    (target / "build" / "lib").mkdir(parents=True)
    (target / "build" / "lib" / "x.so").write_bytes(b"\0")
    mod = target / "pkg" / "sub" / "mod.py"
    before = mod.stat()
    mod.write_text("X = 7\n")
    os.utime(mod, ns=(before.st_atime_ns, before.st_mtime_ns))
    (target / "pkg" / "__init__.py").unlink()
    (target / "run.sh").chmod(0o600)
    (target / "link").unlink()
    (target / "link").mkdir()
    (target / "link" / "inside").write_text("x")
    counts = sync(trees)  # equal to the source again (sync asserts it)
    assert counts["removed"] >= 3 and counts["copied"] == 4


def test_deletions_and_type_changes_in_the_source(trees: tuple[Path, Path, Path]) -> None:
    source = trees[0]
    sync(trees)
    (source / "run.sh").unlink()
    (source / "pkg" / "sub" / "mod.py").unlink()
    (source / "pkg" / "sub").rmdir()
    (source / "pkg" / "sub").write_text("now a file\n")
    (source / "link").unlink()
    (source / "link").symlink_to("elsewhere")
    sync(trees)


def test_a_lost_record_means_copying_again_not_trusting(trees: tuple[Path, Path, Path]) -> None:
    _, target, state = trees
    sync(trees)
    state.unlink()
    (target / "pkg" / "sub" / "mod.py").write_text("X = 5\n")  # same size, unrecorded
    assert sync(trees)["copied"] == 4
    state.write_text("not json")
    assert sync(trees)["copied"] == 4


def test_a_copy_that_cannot_be_updated_is_made_again_whole(
    trees: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target, _ = trees
    sync(trees)
    (source / "new.py").write_text("new\n")

    def broken(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    original = step._mirror
    monkeypatch.setattr(step, "_mirror", broken)
    (target / "stray").write_text("from the last run")
    assert step.mirror(str(source), str(target), str(trees[2]))["copied"] == -1
    assert snapshot(target) == snapshot(source)
    monkeypatch.setattr(step, "_mirror", original)
    assert sync(trees)["copied"] == 5  # no record: everything once more, then kept


def test_special_files_in_the_tree_are_not_copied_and_do_not_hang(
    trees: tuple[Path, Path, Path],
) -> None:
    """A named pipe (or a socket) in the tree: opening it to copy would wait forever."""
    source, target, _ = trees
    os.mkfifo(source / "pipe")
    counts = step.mirror(str(source), str(target), str(trees[2]))
    assert counts["copied"] == 4 and not (target / "pipe").exists()
    # and one a tool left in its copy is removed
    os.mkfifo(target / "left-by-a-tool")
    step.mirror(str(source), str(target), str(trees[2]))
    assert not (target / "left-by-a-tool").exists()


def test_pending_changes_foretell_what_the_next_sync_finds(trees: tuple[Path, Path, Path]) -> None:
    """devbox explain's comparison (nothing copied) names what the next sync then reports:
    an edit, an addition, a deletion; a file saved again unchanged is no change."""
    source, target, state = trees
    assert step.pending_changes(str(source), str(state))["first"] is True
    sync(trees)
    (source / "pkg" / "sub" / "mod.py").write_text("X = 2\n")
    (source / "new.txt").write_text("n\n")
    (source / "run.sh").unlink()
    os.utime(source / "pkg" / "__init__.py")  # touched, content unchanged
    before = snapshot(target)
    pending = step.pending_changes(str(source), str(state))
    assert snapshot(target) == before  # nothing copied
    assert pending["changed"] == ["new.txt", "pkg/sub/mod.py"] and pending["deleted"] == ["run.sh"]
    sync(trees)
    assert {k: v for k, v in step.CHANGES.items()} == pending
    assert step.pending_changes(str(source), str(state))["changed_count"] == 0
