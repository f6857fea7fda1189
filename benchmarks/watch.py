"""Watch mode on boltons: the time from saving a file to devbox watch's first result.

    python benchmarks/watch.py [--reps 5] [--out docs/performance.md]

One `devbox watch check` (ruff and pytest, configured by DEVBOX_* variables) runs on the
pinned boltons sdist, unmodified. Each repetition appends a unique comment line to one test
file and times, from the moment the file is closed: the first tool result devbox watch
prints (`devbox: ruff: passed`), pytest's result, and the end of the run ("waiting for
changes"). In the same run, native baselines: `ruff check .` and `pytest -q` in a local venv.
Then one `devbox watch test --affected`: each repetition adds a test to the same file, and
pytest's result is timed, against native pytest of that one file. Medians of --reps (at
least 5 for the published table). Needs what bench.py needs.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # (beside this file)
import measure

BEGIN, END = "<!-- watch:begin -->", "<!-- watch:end -->"
RESULT = re.compile(r"^devbox: (\S+): (passed|failed|cached|error|timeout)\b")
WAITING = "devbox watch: waiting for changes"


class Watching:
    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))

    def until(self, wanted: re.Pattern[str] | str, timeout: float = 600) -> float:
        """When the first line matching ``wanted`` came (perf_counter)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                at, line = self.lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if (wanted in line) if isinstance(wanted, str) else wanted.search(line):
                return at
        raise SystemExit(f"watch bench: no {wanted!r} from devbox watch")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            self.proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the table into this Markdown file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="devbox-watch-bench-"))
    try:
        project = bench.fetch_boltons(work)
        edited = project / "tests" / "test_iterutils.py"
        venv = work / "native-venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--disable-pip-version-check", "pytest", "ruff"], check=True)
        subprocess.run([*pip, "-e", str(project)], check=True)
        env = bench.devbox_env(work, DEVBOX_LINT="ruff", DEVBOX_TEST="pytest")
        native_ruff = [str(venv / "bin" / "ruff"), "check", "--no-cache", "."]
        native_pytest = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]  # fmt: skip
        any_rc = lambda rc: rc in (0, 1)  # noqa: E731 (boltons' own lint findings: exit 1)
        w = Watching([sys.executable, "-m", "devbox", "watch", "check"], project, env)
        first, pytest_at, whole, ruff_n, pytest_n = [], [], [], [], []
        try:
            w.until(WAITING)  # the first run: environment built, caches warm
            for i in range(args.reps + 1):
                with edited.open("a") as f:
                    f.write(f"# watch edit {i} {uuid.uuid4().hex}\n")
                saved = time.perf_counter()
                r = w.until(RESULT) - saved
                p = w.until(re.compile(r"^devbox: pytest: (passed|failed)")) - saved
                a = w.until(WAITING) - saved
                if i == 0:
                    continue  # the first edit after the start: warms the tree copies
                first.append(r)
                pytest_at.append(p)
                whole.append(a)
                ruff_n.append(measure.timed(native_ruff, project, env, any_rc, "watch bench"))
                pytest_n.append(measure.timed(native_pytest, project, env, label="watch bench"))
        finally:
            w.stop()
        # devbox watch test --affected: each edit adds a test to the file; pytest-testmon
        # runs the tests that edit affects (and native pytest, in the same run, that file)
        aff, aff_n = [], []
        native_file = [*native_pytest, str(edited.relative_to(project))]
        w = Watching([sys.executable, "-m", "devbox", "watch", "test", "--affected"], project, env)
        try:
            w.until(WAITING)  # the first run: the whole suite, recorded
            for i in range(args.reps + 1):
                with edited.open("a") as f:
                    f.write(f"\n\ndef test_watch_edit_{i}_{uuid.uuid4().hex[:8]}():\n    pass\n")
                saved = time.perf_counter()
                p = w.until(re.compile(r"^devbox: pytest: (passed|failed)")) - saved
                w.until(WAITING)
                if i == 0:
                    continue
                aff.append(p)
                aff_n.append(measure.timed(native_file, project, env, label="watch bench"))
        finally:
            w.stop()
        med = bench.median
        f, p, a, nr, np_ = med(first), med(pytest_at), med(whole), med(ruff_n), med(pytest_n)
        rows = [
            (
                "save → first result (ruff's), `devbox watch check`",
                f,
                f"native `ruff check .` {bench.fmt_s(nr)}",
                f / nr,
                "≤ 1.0 s",
                f <= 1.0,
            ),
            (
                "save → pytest's result, `devbox watch check`",
                p,
                f"native `pytest -q` {bench.fmt_s(np_)}",
                p / np_,
                "(information)",
                True,
            ),
            (
                "save → the run's end, `devbox watch check`",
                a,
                f"native `pytest -q` {bench.fmt_s(np_)}",
                a / np_,
                "(information)",
                True,
            ),
            (
                "save → pytest's result, `devbox watch test --affected` (a test added)",
                med(aff),
                f"native `pytest -q {edited.relative_to(project)}` {bench.fmt_s(med(aff_n))}",
                med(aff) / med(aff_n),
                "≤ 1.0 s",
                med(aff) <= 1.0,
            ),
        ]
        server, buildx = bench.engine_versions()
        command = " ".join(["python benchmarks/watch.py", *sys.argv[1:]])
        lines = [
            f"Measured {time.strftime('%Y-%m-%d')} with `{command}`: medians of {args.reps} "
            f"edits, one `devbox watch check` (ruff and pytest), then one `devbox watch test "
            f"--affected`, on {bench.BOLTONS} from its sdist, unmodified. Docker Engine {server}; {buildx}; {os.cpu_count()} cores.",
            "",
            "| from saving one test file to | devbox watch | baseline | ratio | target | met |",
            "|---|---|---|---|---|---|",
        ]
        for name, value, base, ratio, target, met in rows:
            lines.append(
                f"| {name} | {bench.fmt_s(value)} | {base} | {ratio:.2f}× | {target} | "
                f"{'yes' if met else 'no'} |"
            )
        table = "\n".join(lines) + "\n"
        print(table)
        if args.out:
            measure.write_between_markers(args.out, table, BEGIN, END)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
