"""How devbox's edit loop and replay grow with the size of the tree (issue 17).

    python benchmarks/scaling.py [--sizes 1000,10000,50000,100000] [--reps 5] [--out FILE]

For each size, a synthetic project: one trivial test file and N small data files spread
over directories of 1,000 (what real trees carry besides code: data, assets, docs). In the
same run and for each size it measures, medians of --reps:

- native: ``python -m pytest -q`` in a host venv (this interpreter, which has pytest);
- edit loop: one line of the test file changed, then ``devbox test``;
- replay: ``devbox test`` with nothing changed;
- devbox's own walk of the tree on the host (virtualenvs, unreadable files, files changed in
  place), alone, as a share of the edit loop.

It prints a growth table (each figure, and its ratio to the smallest tree) as Markdown;
--out replaces the part of FILE between the scaling markers with it.  Needs a Docker engine
with buildx and the local base image (scripts/provision-engine.sh).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import measure
from measure import write_between_markers

timed = functools.partial(measure.timed, label="scaling")
REPO = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("DEVBOX_BENCH_IMAGE", "localhost/devbox-test/python:{python}")
PER_DIR = 1000
BEGIN = "<!-- scaling:begin -->"
END = "<!-- scaling:end -->"

PYPROJECT = """\
[project]
name = "scaletree"
version = "0.1.0"

[tool.devbox]
python = "3.11"
lint = []
test = ["pytest"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

TEST = "def test_one():\n    assert 1 + 1 == 2\n"


def make_tree(root: Path, files: int) -> None:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "tests").mkdir()
    (root / "tests" / "test_one.py").write_text(TEST)
    for i in range(files):
        d = root / "data" / f"d{i // PER_DIR:04d}"
        if i % PER_DIR == 0:
            d.mkdir(parents=True)
        (d / f"f{i:06d}.txt").write_text(f"row {i}\n")


def measure_tree(root: Path, reps: int, env: dict[str, str]) -> dict[str, float]:
    devbox = [sys.executable, "-m", "devbox", "test", "-q"]
    # the same pytest configuration (testpaths: pytest itself does not walk the data files)
    native = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    timed(devbox, root, env)  # the environment, once
    test = root / "tests" / "test_one.py"
    edits, replays, natives = [], [], []
    for i in range(reps):
        test.write_text(TEST + f"# edit {i} {time.time_ns()}\n")
        edits.append(timed(devbox, root, env))
        replays.append(timed(devbox, root, env))
        natives.append(timed(native, root, env))
    walk = [sys.executable, "-c", WALK, str(root)]
    walks = [
        float(subprocess.run(walk, env=env, capture_output=True, text=True, check=True).stdout)
        for _ in range(reps)
    ]
    return {
        "native": statistics.median(natives),
        "edit": statistics.median(edits),
        "replay": statistics.median(replays),
        "walk": statistics.median(walks),
    }


#: devbox's walk of the tree, timed in a process of its own (its imports not counted)
WALK = """
import sys, time
from pathlib import Path
from devbox.build.plan import scan_tree
start = time.perf_counter()
scan_tree(Path(sys.argv[1]), since=time.time() - 60)
print(time.perf_counter() - start)
"""


def render(rows: list[tuple[int, dict[str, float]]], reps: int, command: str) -> str:
    base = rows[0][1]
    lines = [
        f"Measured {datetime.date.today().isoformat()} with `{command}`: medians of {reps} "
        f"runs each, all in one run; ratios (×) are to the {rows[0][0]:,}-file tree.",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}.",
        "",
        "| files in the tree | native pytest | edit one test file, `devbox test` | "
        "nothing changed (replay) | edit / native | devbox's own walk of the tree |",
        "|---|---|---|---|---|---|",
    ]
    for files, m in rows:
        walk = m.get("walk")
        share = "" if walk is None else f"{walk:.2f} s ({walk / m['edit']:.0%} of the edit loop)"
        lines.append(
            f"| {files:,} | {m['native']:.2f} s | {m['edit']:.2f} s "
            f"({m['edit'] / base['edit']:.2f}×) | {m['replay']:.2f} s "
            f"({m['replay'] / base['replay']:.2f}×) | {m['edit'] / m['native']:.1f}× | {share} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--work", type=Path, help="where the trees go (default: a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="devbox-scaling-"))
    env = measure.devbox_env(work, IMAGE, "cache", PYTHONPATH=str(REPO / "src"))
    rows = []
    try:
        for files in sizes:
            root = work / f"tree-{files}"
            if root.exists():
                shutil.rmtree(root)
            make_tree(root, files)
            rows.append((files, measure_tree(root, args.reps, env)))
            print(f"scaling: {files} files: {rows[-1][1]}", file=sys.stderr, flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    command = "python benchmarks/scaling.py " + " ".join(sys.argv[1:])
    table = render(rows, args.reps, command.strip())
    print(table)
    if args.out:
        write_between_markers(args.out, table, BEGIN, END)


if __name__ == "__main__":
    main()
