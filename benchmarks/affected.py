"""`devbox test --affected` against the whole suite, on a series of real edits.

    python benchmarks/affected.py [--git-dir DIR] [--commits 30] [--out docs/performance.md]

The edits are a real project's last commits (boltons, from its public repository; or any
git directory given with --git-dir whose project devbox runs without configuration). The
project's tree starts at the commit before the series; each commit of the series is then
checked out over it in turn (only the files it changed are rewritten), and at each one
`devbox test --affected` and the plain `devbox test` (the whole suite, the baseline) both
run. For each edit the table says how many tests each ran, how long each took, and whether
their outcomes are equal: the same exit code and the same failing tests (from their JUnit
XML). It must be yes on every edit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (beside this file)
import measure

BEGIN, END = "<!-- affected:begin -->", "<!-- affected:end -->"
REPOSITORY = "https://github.com/mahmoud/boltons"


@dataclass
class Run:
    rc: int
    seconds: float
    ran: int
    failing: frozenset[str]
    selected: bool | None


def git(git_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout


def devbox(project: Path, env: dict[str, str], work: Path, *args: str) -> Run:
    junit, report = work / "junit.xml", work / "report.json"
    argv = [sys.executable, "-m", "devbox", "test", *args]
    argv += ["--junit-xml", str(junit), "--report-json", str(report)]
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(
            f"affected bench: {' '.join(argv)} exited {proc.returncode}\n{proc.stderr}"
        )
    failing, ran = set(), 0
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        if not suite.get("name", "").startswith("pytest"):
            continue
        for case in suite.iter("testcase"):
            if case.find("skipped") is not None:
                continue
            ran += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failing.add(f"{case.get('classname')}::{case.get('name')}")
    tool = next(t for t in json.loads(report.read_text())["tools"] if t["name"] == "pytest")
    selected = tool.get("affected", {}).get("selected")
    return Run(proc.returncode, seconds, ran, frozenset(failing), selected)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--git-dir", type=Path, help=f"a git directory (default: {REPOSITORY})")
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--out", type=Path, help="write the table into this Markdown file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="devbox-affected-bench-"))
    try:
        git_dir = args.git_dir
        if git_dir is None:
            git_dir = work / "repo.git"
            subprocess.run(["git", "clone", "-q", "--bare", REPOSITORY, str(git_dir)], check=True)
        commits = git(git_dir, "rev-list", "--first-parent", f"-{args.commits + 1}", "HEAD")
        series = list(reversed(commits.split()))
        project = work / "project"
        project.mkdir()
        index = {**os.environ, "GIT_INDEX_FILE": str(work / "index")}
        checkout = [f"--work-tree={project}", "checkout", "-q", "-f"]
        env = bench.devbox_env(work)
        git(git_dir, *checkout, series[0], "--", ".", env=index)
        devbox(project, env, work, "--affected")  # the record the series starts from
        devbox(project, env, work)
        rows = []
        for commit in series[1:]:
            changed = git(git_dir, "diff", "--name-only", f"{commit}~1", commit).split()
            # the commit's tree over the last one: changed files rewritten, deleted ones gone
            git(git_dir, *checkout, commit, "--", ".", env=index)
            for rel in git(git_dir, "diff", "--name-only", "--diff-filter=D", f"{commit}~1", commit).split():  # fmt: skip
                (project / rel).unlink(missing_ok=True)
            affected = devbox(project, env, work, "--affected")
            full = devbox(project, env, work)
            equal = affected.rc == full.rc and affected.failing == full.failing
            subject = git(git_dir, "log", "-1", "--format=%s", commit).strip()
            rows.append((commit[:7], subject, len(changed), affected, full, equal))
            print(
                f"affected bench: {commit[:7]} {len(changed)} files: --affected ran "
                f"{affected.ran} ({'selected' if affected.selected else 'whole'}) in "
                f"{affected.seconds:.2f} s, whole {full.ran} in {full.seconds:.2f} s, "
                f"equal: {equal}",
                file=sys.stderr,
                flush=True,
            )
        table = render(rows, git_dir, args)
        print(table)
        if args.out:
            measure.write_between_markers(args.out, table, BEGIN, END)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(rows: list[tuple[str, str, int, Run, Run, bool]], git_dir: Path, args: argparse.Namespace) -> str:  # fmt: skip
    command = " ".join(["python benchmarks/affected.py", *sys.argv[1:]])
    equal = sum(1 for *_, e in rows if e)
    selected = [a for _, _, _, a, _, _ in rows if a.selected]
    server, buildx = bench.engine_versions()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} with `{command}`: the last {len(rows)} commits "
        f"of {args.git_dir or REPOSITORY} (first parent), each checked out over the one "
        f"before; Docker Engine {server}; {buildx}; {os.cpu_count()} cores.",
        "",
        f"Outcomes equal on **{equal} of {len(rows)}** edits. pytest-testmon chose the tests "
        f"on {len(selected)} of them; on the others a file coverage cannot follow changed "
        "(CHANGELOG.md, pyproject.toml, docs…), so the whole suite ran.",
        "",
    ]
    if selected:
        a_ran = bench.median([float(a.ran) for a in selected])
        a_s = bench.median([a.seconds for a in selected])
        f_ran = bench.median([float(f.ran) for _, _, _, a, f, _ in rows if a.selected])
        f_s = bench.median([f.seconds for _, _, _, a, f, _ in rows if a.selected])
        lines += [
            f"On the edits where pytest-testmon chose: a median of {a_ran:.0f} tests in "
            f"{a_s:.2f} s, against {f_ran:.0f} tests in {f_s:.2f} s for the whole suite "
            f"({a_s / f_s:.2f}×).",
            "",
        ]
    lines += [
        "| commit | files changed | `--affected`: tests run | time | whole suite: tests | time | outcomes equal |",
        "|---|---|---|---|---|---|---|",
    ]
    for commit, _subject, changed, a, f, eq in rows:
        how = "chosen" if a.selected else "whole suite"
        lines.append(
            f"| {commit} | {changed} | {a.ran} ({how}) | {a.seconds:.2f} s | {f.ran} | "
            f"{f.seconds:.2f} s | {'yes' if eq else '**no**'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
