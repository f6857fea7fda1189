"""A "passed" is true for the tree on disk (issue 13, stale or wrong results), against the
real engine: files changed in place without a new mtime, failures the engine replays."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture, make_project

pytestmark = pytest.mark.engine

#: a data file the test reads; its two versions have the same size
GOOD, BAD = "value = 5\n", "value = 6\n"
TEST = """\
from pathlib import Path


def test_value() -> None:
    assert Path(__file__).with_name("data.txt").read_text() == "value = 5\\n"
"""


def rewrite_in_place(path: Path, text: str) -> None:
    """New content, same size, the old mtime put back (as cp -p, rsync -t, touch -r do)."""
    st = path.stat()
    assert len(text.encode()) == st.st_size
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_file_changed_in_place_with_its_old_mtime_is_tested_as_it_is_now(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("clean", tmp_path)
    (project / "tests" / "data.txt").write_text(GOOD)
    (project / "tests" / "test_value.py").write_text(TEST)
    first = devbox("test", cwd=project)
    assert first.returncode == 0, first.stdout + first.stderr
    for i in range(10):  # the same edit back and forth: the right result every time
        bad = i % 2 == 0
        rewrite_in_place(project / "tests" / "data.txt", BAD if bad else GOOD)
        args = ("test", "--rerun") if i % 3 == 2 else ("test",)
        run = devbox(*args, cwd=project)
        assert run.returncode == (1 if bad else 0), (i, run.stdout + run.stderr)
        assert run.tool("pytest")["status"] == ("failed" if bad else "passed"), i
        if bad:
            assert "value = 6" in run.stdout


def test_a_directory_whose_mode_changed_in_place_is_tested_as_it_is_now(
    devbox: Any, tmp_path: Path
) -> None:
    # chmod keeps the mtime; BuildKit's transfer and its cache key both missed a directory's
    # new mode (checked with buildx 0.13 / BuildKit 0.13), so the test saw the old one.
    project = copy_fixture("clean", tmp_path)
    data = project / "data"
    data.mkdir()
    (project / "tests" / "test_mode.py").write_text(
        "import os\nimport stat\nfrom pathlib import Path\n\n\n"
        "def test_the_data_directory_is_private() -> None:\n"
        "    mode = os.stat(Path(__file__).parents[1] / 'data').st_mode\n"
        "    assert stat.S_IMODE(mode) == 0o700, oct(mode)\n"
    )
    for i in range(4):
        private = i % 2 == 1
        data.chmod(0o700 if private else 0o755)
        run = devbox("test", cwd=project)
        assert run.returncode == (0 if private else 1), (i, run.stdout + run.stderr)


def test_a_tool_that_failed_once_is_never_replayed_as_a_failure(
    devbox: Any, tmp_path: Path
) -> None:
    # The test fails the first time it ever runs (its marker lives in the tool's cache
    # mount, which outlives the step) and passes afterwards, on the same tree.
    project = copy_fixture("clean", tmp_path)
    (project / "tests" / "test_once.py").write_text(
        "from pathlib import Path\n\n\n"
        "def test_fails_only_the_first_time() -> None:\n"
        "    marker = Path('/devbox/cache/failed-once-' + Path(__file__).read_text()[-9:-1])\n"
        "    first = not marker.exists()\n"
        "    marker.touch()\n"
        "    assert not first\n"
        f"# {os.urandom(4).hex()}\n"
    )
    first = devbox("test", cwd=project)
    assert first.returncode == 1 and first.tool("pytest")["status"] == "failed"
    for i in range(10):  # was: pass, fail (the old failure, replayed), pass, fail, ...
        run = devbox("test", cwd=project)
        assert run.returncode == 0, (i, run.stdout + run.stderr)
        assert run.tool("pytest")["status"] == "passed", i


def test_a_failure_cached_by_the_engine_is_run_again_from_a_new_cache_dir(
    devbox: Any, tmp_path: Path
) -> None:
    project = copy_fixture("failing_test", tmp_path)
    first = devbox("test", cwd=project)
    assert first.returncode == 1
    elsewhere = {"DEVBOX_CACHE_DIR": str(tmp_path / "another-cache")}
    again = devbox("test", cwd=project, env=elsewhere)
    assert again.returncode == 1
    assert again.tool("pytest")["status"] == "failed"
    assert again.tool("pytest")["cached"] is False, again.stdout
    assert "replayed an earlier failure of pytest@" in again.stdout


def test_lint_does_not_erase_a_test_failure(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("failing_test", tmp_path)
    assert devbox("test", cwd=project).returncode == 1
    devbox("lint", cwd=project)
    after = devbox("test", cwd=project)
    assert after.returncode == 1
    assert after.tool("pytest")["cached"] is False
    # known from the record: busted up front, not found replayed and run a second time
    assert "replayed an earlier failure" not in after.stdout


def test_a_failed_install_is_never_replayed_after_its_cause_is_gone(
    devbox: Any, tmp_path: Path
) -> None:
    # The cause reaches the install step as a secret (not part of the cache key): an
    # installer setting uv refuses. Without it, the same step must install, not replay.
    project = copy_fixture("clean", tmp_path)
    # an install input of this test's own, so no other test's install step is replayed
    (project / "requirements-extra.txt").write_text(f"# {os.urandom(8).hex()}\n")
    unique = {"DEVBOX_REQUIREMENTS": "requirements-extra.txt"}
    cause = {"DEVBOX_SECRET_ENV": "UV_CONCURRENT_DOWNLOADS", "UV_CONCURRENT_DOWNLOADS": "many"}
    broken = devbox("test", cwd=project, env={**unique, **cause})
    assert broken.returncode == 3, broken.stdout + broken.stderr
    for cache in ("first", "second"):  # fresh cache dirs: no record of the failure
        elsewhere = {**unique, "DEVBOX_CACHE_DIR": str(tmp_path / cache)}
        fixed = devbox("test", cwd=project, env=elsewhere)
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert fixed.tool("pytest")["status"] == "passed"


def test_two_projects_never_see_each_others_files(devbox: Any, tmp_path: Path) -> None:
    """BuildKit keeps its incremental copy of a context by the directory's name, not its path
    (checked with buildx 0.13: /a/proj and /b/proj share one): a file of the same path, size
    and mtime in another project was replayed from that project's copy. Two fresh projects
    whose pyproject.toml and data file differ only in content must each see their own."""
    seen = {}
    for name, letter in (("one", "A"), ("two", "B")):
        project = make_project(
            tmp_path / name / "proj",
            f'[project]\nname = "same{letter}"\nversion = "1"\n',
            {"data.txt": letter * 64 + "\n"},
        )
        for rel in ("pyproject.toml", "data.txt"):
            os.utime(project / rel, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
        env = {
            "DEVBOX_PYTHON": "3.11",
            "DEVBOX_TOOLS": '{ show = { command = ["sh", "-c", "cat pyproject.toml data.txt"] } }',
            "DEVBOX_LINT": "show",
        }
        run = devbox("lint", "-v", cwd=project, env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        seen[name] = run.stdout
    assert 'name = "sameA"' in seen["one"] and "A" * 64 in seen["one"]
    assert 'name = "sameB"' in seen["two"] and "B" * 64 in seen["two"], seen["two"]
