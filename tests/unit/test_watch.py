"""devbox watch's pure parts: which changes count, and how they are named."""

from __future__ import annotations

from pathlib import Path

from devbox.build.plan import DEFAULT_EXCLUDES
from devbox.commands.watch import Watcher, describe


def test_changes_are_named_a_few_and_counted() -> None:
    assert describe({"b.py"}) == "b.py changed"
    assert describe({"d.py", "a.py", "c.py", "b.py", "e.py"}) == (
        "a.py, b.py, c.py and 2 more changed"
    )
    assert describe({"x\x1b[2J.py"}) == "x\\x1b[2J.py changed"


def test_what_the_context_leaves_out_and_devboxs_own_reports_do_not_count(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.json"
    w = Watcher(tmp_path, [report])
    assert w.ignored == DEFAULT_EXCLUDES  # before the first plan: the defaults
    assert w.relative(str(tmp_path / "src" / "m.py")) == "src/m.py"
    assert w.relative(str(report)) is None
    assert w.relative(str(tmp_path / ".git" / "index")) is None
    assert w.relative(str(tmp_path / "pkg" / "__pycache__" / "m.cpython-311.pyc")) is None
    assert w.relative(str(tmp_path.parent / "elsewhere.py")) is None
    w.ignored = (*DEFAULT_EXCLUDES, "data/", "!data/keep.csv")
    assert w.relative(str(tmp_path / "data" / "big.csv")) is None
    assert w.relative(str(tmp_path / "data" / "keep.csv")) == "data/keep.csv"
