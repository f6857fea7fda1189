"""devbox benchmarks: each scenario against a baseline measured in the same run.

    python benchmarks/bench.py [--reps 5] [--out docs/performance.md]

Needs a Docker engine with buildx and the local base image (scripts/provision-engine.sh),
and network access to the package index (for the native venv and the naive Dockerfile).
Prints a Markdown table and writes it, with the machine and engine versions, to --out.
Every figure is the median of --reps runs (at least 5 for the published table).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
import measure  # noqa: E402  (beside this file)
from measure import timed  # noqa: E402

from devbox.results.progress import BuildProgress  # noqa: E402

IMAGE = os.environ.get("DEVBOX_BENCH_IMAGE", "localhost/devbox-test/python:{python}")
#: The real-world project (519 tests in its sdist); pinned so runs compare.
BOLTONS = "boltons==26.2.0"
PYTHON = "3.11"
MATRIX_SECOND = "3.13"
LINTERS = ["ruff", "flake8", "pylint", "mypy"]
MODULES = 20
TESTS_PER_MODULE = 30  # 600 tests


# --- the benchmark project ---------------------------------------------------------------


def devbox_env(work: Path, **settings: str) -> dict[str, str]:
    """:func:`measure.devbox_env` with the local base image and Python ``PYTHON``."""
    return measure.devbox_env(work, IMAGE, DEVBOX_PYTHON=PYTHON, **settings)


def fetch_boltons(work: Path) -> Path:
    """The pinned boltons sdist, unpacked (its tests are included). Configured by env only."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(work / "sdist"),
            BOLTONS,
        ],
        check=True,
    )
    archive = next((work / "sdist").glob("boltons-*.tar.gz"))
    shutil.unpack_archive(archive, work)
    return next(p for p in work.glob("boltons-*") if p.is_dir())


def add_dependency(pyproject: str, requirement: str) -> str:
    if "dependencies = [" in pyproject:
        return pyproject.replace("dependencies = [", f'dependencies = ["{requirement}", ', 1)
    return pyproject.replace("[project]\n", f'[project]\ndependencies = ["{requirement}"]\n', 1)


def write_project(root: Path) -> None:
    """A src-layout package with MODULES modules and MODULES * TESTS_PER_MODULE tests."""
    (root / "src" / "benchproj").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "benchproj"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[tool.devbox]
python = "{PYTHON}"
lint = {json.dumps(LINTERS)}
test = ["pytest"]

[tool.pylint."messages control"]
disable = ["missing-docstring", "invalid-name"]

[tool.mypy]
strict = true
"""
    )
    (root / "setup.cfg").write_text("[flake8]\nmax-line-length = 100\n")
    (root / "src" / "benchproj" / "__init__.py").write_text('"""Benchmark project."""\n')
    for m in range(MODULES):
        funcs = []
        for f in range(10):
            funcs.append(
                f"def f{f}(values: list[int], k: int = {f + 1}) -> list[int]:\n"
                f"    out = [v * k + {m} for v in values if v % {f + 2} != 0]\n"
                f"    return sorted(out, reverse={bool(f % 2)})\n"
            )
        (root / "src" / "benchproj" / f"mod_{m:02}.py").write_text(
            f'"""Module {m}."""\n\n\n' + "\n\n".join(funcs)
        )
        tests = [
            "import pytest\n",
            f"from benchproj import mod_{m:02} as mod\n",
        ]
        per_func = TESTS_PER_MODULE // 10
        for f in range(10):
            tests.append(
                f"\n\n@pytest.mark.parametrize('n', range({per_func}))\n"
                f"def test_f{f}(n: int) -> None:\n"
                f"    values = list(range(n * 50, n * 50 + 200))\n"
                f"    out = mod.f{f}(values)\n"
                f"    assert len(out) == len([v for v in values if v % {f + 2} != 0])\n"
            )
        (root / "tests" / f"test_mod_{m:02}.py").write_text("".join(tests))


# --- measuring -------------------------------------------------------------------------------


def median(xs: list[float]) -> float:
    return statistics.median(xs)


@dataclass
class Row:
    scenario: str
    devbox: str
    baseline: str
    ratio: float
    target: str
    met: bool


def fmt_s(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 0.1 else f"{x:.2f} s"


class Bench:
    def __init__(self, work: Path, reps: int, kind: str) -> None:
        self.work = work
        self.reps = reps
        self.kind = kind
        self.project = work / "benchproj"
        self.venv = work / "native-venv"
        self.env = devbox_env(work, DEVBOX_LINT=",".join(LINTERS), DEVBOX_TEST="pytest")
        self.devbox = [sys.executable, "-m", "devbox"]
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def log(self, msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    def setup(self) -> None:
        if self.kind == "boltons":
            self.project = fetch_boltons(self.work)
            self.edited = self.project / "tests" / "test_iterutils.py"
        else:
            write_project(self.project)
            self.edited = self.project / "tests" / "test_mod_00.py"
        self.description = (
            f"{BOLTONS} from its sdist, unmodified, configured by DEVBOX_* variables"
            if self.kind == "boltons"
            else f"generated: {MODULES} modules, {MODULES * TESTS_PER_MODULE} tests"
        )
        self.log("native venv (pytest and the four linters, project editable)")
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        pip = [
            str(self.venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, "pytest", *LINTERS], check=True)
        subprocess.run([*pip, "-e", str(self.project)], check=True)

    def run_devbox(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> float:
        return timed(
            [*self.devbox, *args],
            cwd or self.project,
            {**self.env, **(env or {})},
            lambda rc: rc in (0, 1),
        )

    def build_rawjson(
        self, dockerfile: Path, context: Path, *extra: str
    ) -> tuple[float, BuildProgress]:
        """A plain `docker buildx build`, timed, with its progress parsed (BuildKit's timings)."""
        progress = BuildProgress({})
        start = time.perf_counter()
        argv = [
            "docker",
            "buildx",
            "build",
            "--progress=rawjson",
            "-f",
            str(dockerfile),
            *extra,
            str(context),
        ]
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=self.env)
        assert proc.stderr is not None
        for line in proc.stderr:
            progress.feed(line, 0)
        if proc.wait() != 0:
            raise SystemExit(
                f"bench: {' '.join(argv)} failed:\n" + "\n".join(progress.text_lines[-20:])
            )
        return time.perf_counter() - start, progress

    def native_pytest(self) -> float:
        return timed(
            [str(self.venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            self.project,
            self.env,
        )

    def edit_test_file(self, i: int) -> None:
        with self.edited.open("a") as f:
            # unique text: an edit no earlier run (of any project) made, so nothing replays
            f.write(f"# edit {i} {uuid.uuid4().hex}\n")

    # 1 and 2
    def edit_loop_and_replay(self) -> None:
        self.log("edit loop and replay")
        self.run_devbox("test", "-q")  # warm: test-base, caches
        self.native_pytest()
        devbox_edit, native, replay = [], [], []
        for i in range(self.reps):
            self.edit_test_file(i)
            devbox_edit.append(self.run_devbox("test", "-q"))
            native.append(self.native_pytest())
            replay.append(self.run_devbox("test", "-q"))
        n, e, r = median(native), median(devbox_edit), median(replay)
        self.rows.append(
            Row(
                "1. edit loop: one test file edited, `devbox test`",
                fmt_s(e),
                f"native pytest {fmt_s(n)}",
                e / n,
                "≤ 1.5× and overhead < 1 s",
                e / n <= 1.5 and e - n < 1.0,
            )
        )
        self.notes.append(f"Edit-loop overhead over native pytest: {e - n:+.2f} s (medians).")
        self.rows.append(
            Row(
                "2. replay: nothing changed, `devbox test`",
                fmt_s(r),
                f"native pytest {fmt_s(n)}",
                r / n,
                "≤ 0.3×",
                r / n <= 0.3,
            )
        )

    # 3
    def parallel_lint(self) -> None:
        self.log("parallel lint")
        self.run_devbox("lint", "-q")
        for tool in LINTERS:  # warm each single-linter environment once
            self.run_devbox("lint", "-q", env={"DEVBOX_LINT": tool})
        parallel = [self.run_devbox("lint", "-q", "--rerun") for _ in range(self.reps)]
        single = {
            tool: median(
                [
                    self.run_devbox("lint", "-q", "--rerun", env={"DEVBOX_LINT": tool})
                    for _ in range(self.reps)
                ]
            )
            for tool in LINTERS
        }
        p = median(parallel)
        slowest_tool = max(single, key=lambda t: single[t])
        slowest, total = single[slowest_tool], sum(single.values())
        self.rows.append(
            Row(
                f"3. `devbox lint`, four linters in parallel ({', '.join(LINTERS)})",
                fmt_s(p),
                f"slowest alone ({slowest_tool}) {fmt_s(slowest)}",
                p / slowest,
                "≤ 1.3×",
                p / slowest <= 1.3,
            )
        )
        self.rows.append(
            Row(
                "3b. the same four linters",
                fmt_s(p),
                f"sum of each alone {fmt_s(total)}",
                p / total,
                "(information)",
                True,
            )
        )
        self.notes.append(
            "Each linter alone: " + ", ".join(f"{t} {fmt_s(v)}" for t, v in single.items()) + "."
        )

    # 4
    def dependency_change(self) -> None:
        self.log("dependency change")
        naive_dir = self.work / "naive"
        naive_dir.mkdir()
        image = IMAGE.replace("{python}", PYTHON)
        (naive_dir / "Dockerfile").write_text(
            f"FROM {image}\nCOPY . /app\nWORKDIR /app\n"
            "RUN python3 -m venv /v && /v/bin/pip install -q . pytest\n"
            "RUN /v/bin/python -m pytest -q -p no:cacheprovider\n"
        )
        pyproject = self.project / "pyproject.toml"
        original = pyproject.read_text()
        devbox_t, naive_t, devbox_rest, naive_rest = [], [], [], []
        report = self.work / "deps.json"
        try:
            for _ in range(self.reps):
                # One new dependency, spelled differently every time (an exclusion of a version
                # that does not exist): a real change for both sides, never an earlier run's
                # cached layer.
                unique = f"six>=1.10,!=0.{uuid.uuid4().int % 10**12}"
                pyproject.write_text(add_dependency(original, unique))
                t = self.run_devbox("test", "-q", "--report-json", str(report))
                devbox_t.append(t)
                tests_s = json.loads(report.read_text())["tools"][0]["duration_s"]
                devbox_rest.append(t - tests_s)
                t, progress = self.build_rawjson(
                    naive_dir / "Dockerfile", self.project, "-t", "devbox-bench-naive"
                )
                naive_t.append(t)
                pytest_step = next(v for v in progress.vertexes.values() if "pytest -q" in v.name)
                naive_rest.append(t - (pytest_step.duration_s or 0.0))
        finally:
            pyproject.write_text(original)
        d, n = median(devbox_t), median(naive_t)
        self.rows.append(
            Row(
                "4. dependency added, `devbox test`",
                fmt_s(d),
                f"naive Dockerfile {fmt_s(n)}",
                n / d,
                "≥ 3× faster",
                n / d >= 3,
            )
        )
        dr, nr = median(devbox_rest), median(naive_rest)
        self.rows.append(
            Row(
                "4b. the same, without the test run itself",
                fmt_s(dr),
                f"naive Dockerfile {fmt_s(nr)}",
                nr / dr,
                "(information)",
                True,
            )
        )
        subprocess.run(["docker", "image", "rm", "-f", "devbox-bench-naive"], capture_output=True)

    # 5
    def context(self) -> None:
        self.log("context size")
        proj = self.work / "heavy"
        # copy without timestamps: a project BuildKit has never seen (its file sync compares
        # metadata, so a copy2 of an already-sent tree would look unchanged)
        shutil.copytree(self.project, proj, copy_function=shutil.copy)
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(proj / ".venv")], check=True
        )
        blobs = {
            ".venv/lib/big.bin": 300,
            "node_modules/pkg/big.js": 50,
            "other-env/lib/big.bin": 20,
        }
        for rel, mb in blobs.items():
            (proj / rel).parent.mkdir(parents=True, exist_ok=True)
            (proj / rel).write_bytes(os.urandom(mb * 1024 * 1024))
        (proj / "other-env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
        (proj / "history.bin").write_bytes(os.urandom(50 * 1024 * 1024))
        git = ["git", "-c", "user.name=b", "-c", "user.email=b@b", "-C", str(proj)]
        subprocess.run([*git, "add", "history.bin"], check=True)
        subprocess.run([*git, "commit", "-qm", "big"], check=True)
        subprocess.run([*git, "rm", "-q", "history.bin"], check=True)
        subprocess.run([*git, "commit", "-qm", "gone"], check=True)
        on_disk = sum(p.stat().st_size for p in proj.rglob("*") if p.is_file())

        report = self.work / "heavy.json"
        t_devbox = timed(
            [*self.devbox, "test", "-q", "--report-json", str(report)],
            proj,
            self.env,
            lambda rc: rc in (0, 1),
        )
        sent_devbox = json.loads(report.read_text())["context_bytes"]

        naive = self.work / "naive-ctx"
        naive.mkdir()
        (naive / "Dockerfile").write_text(
            f"FROM {IMAGE.replace('{python}', PYTHON)}\nCOPY . /app\n"
        )
        progress = BuildProgress({})
        start = time.perf_counter()
        proc = subprocess.Popen(
            [
                "docker",
                "buildx",
                "build",
                "--progress=rawjson",
                "-f",
                str(naive / "Dockerfile"),
                "--output",
                "type=cacheonly",
                str(proj),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            progress.feed(line, 0)
        proc.wait()
        t_naive = time.perf_counter() - start
        sent_naive = progress.context_bytes
        mb = 1024 * 1024
        self.rows.append(
            Row(
                "5. context sent: project with a 300 MB .venv, .git, node_modules",
                f"{sent_devbox / 1024:.0f} KB ({fmt_s(t_devbox)} whole run)",
                f"`docker build .` {sent_naive / mb:.0f} MB ({fmt_s(t_naive)} to send and copy)",
                sent_naive / max(sent_devbox, 1),
                "(information)",
                sent_devbox < 1 * mb,
            )
        )
        self.notes.append(f"The heavy project holds {on_disk / mb:.0f} MB on disk.")

    # 7
    def matrix(self) -> None:
        self.log("Python matrix")
        two = {"DEVBOX_PYTHON": f"{PYTHON},{MATRIX_SECOND}"}
        self.run_devbox("test", "-q")
        self.run_devbox("test", "-q", env=two)
        single = [self.run_devbox("test", "-q", "--rerun") for _ in range(self.reps)]
        both = [self.run_devbox("test", "-q", "--rerun", env=two) for _ in range(self.reps)]
        s1, s2 = median(single), median(both)
        self.rows.append(
            Row(
                f"7. `devbox test --rerun`, Python {PYTHON} and {MATRIX_SECOND} in one build",
                fmt_s(s2),
                f"Python {PYTHON} alone {fmt_s(s1)}",
                s2 / s1,
                "< 1.6×",
                s2 / s1 < 1.6,
            )
        )

    # 6
    def startup(self) -> None:
        self.log("CLI start-up")
        n = max(self.reps * 10, 50)
        py = [sys.executable]
        script = Path(sys.executable).parent / "devbox"  # the console script users run
        cli = [str(script)] if script.exists() else self.devbox
        samples: dict[str, list[float]] = {"base": [], "help": [], "dockerfile": []}
        for _ in range(n):  # interleaved, so drift on the machine hits all three alike
            samples["base"].append(timed([*py, "-c", "pass"], self.project, self.env))
            samples["help"].append(timed([*cli, "--help"], self.project, self.env))
            samples["dockerfile"].append(timed([*cli, "dockerfile"], self.project, self.env))
        base, helps, dockerfile = (median(samples[k]) for k in ("base", "help", "dockerfile"))
        self.rows.append(
            Row(
                "6. `devbox --help`",
                fmt_s(helps),
                f"`python -c pass` {fmt_s(base)}",
                helps / base,
                "≤ 1.6×",
                helps / base <= 1.6,
            )
        )
        self.rows.append(
            Row(
                "6b. `devbox dockerfile`",
                fmt_s(dockerfile),
                f"`python -c pass` {fmt_s(base)}",
                dockerfile / base,
                "(information)",
                True,
            )
        )


def engine_versions() -> tuple[str, str]:
    server = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True
    )
    buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True)
    return server.stdout.strip(), " ".join(buildx.stdout.split()[:2])


def render(rows: list[Row], notes: list[str], reps: int, description: str, command: str) -> str:
    server, buildx = engine_versions()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    lines = [
        "| scenario | devbox | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.devbox} | {r.baseline} | {r.ratio:.2f}× | {r.target} | {'yes' if r.met else 'no'} |"
        )
    head = [
        f"Measured {datetime.date.today().isoformat()} with `{command}`: "
        f"medians of {reps} runs (start-up: of {max(reps * 10, 50)}, interleaved).",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}; "
        f"Docker Engine {server}; {buildx}. Base image `{IMAGE.replace('{python}', PYTHON)}`; "
        f"Benchmark project: {description}.",
        "",
    ]
    return "\n".join(head + lines + [""] + [f"- {n}" for n in notes]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, help="write the table into this Markdown file (between markers)"
    )
    parser.add_argument(
        "--project",
        choices=["boltons", "synthetic"],
        default="boltons",
        help="boltons (real, downloaded) or synthetic (generated, offline)",
    )
    parser.add_argument(
        "--only", nargs="*", default=None, help="scenarios to run: edit lint deps context startup"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="devbox-bench-"))
    try:
        bench = Bench(work, args.reps, args.project)
        bench.setup()
        steps = {
            "edit": bench.edit_loop_and_replay,
            "lint": bench.parallel_lint,
            "deps": bench.dependency_change,
            "context": bench.context,
            "matrix": bench.matrix,
            "startup": bench.startup,
        }
        for name, step in steps.items():
            if args.only is None or name in args.only:
                step()
        command = " ".join(["python benchmarks/bench.py", *sys.argv[1:]])
        table = render(bench.rows, bench.notes, args.reps, bench.description, command)
        print(table)
        if args.out:
            write_between_markers(args.out, table)
    finally:
        shutil.rmtree(work, ignore_errors=True)


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def write_between_markers(path: Path, table: str) -> None:
    measure.write_between_markers(path, table, BEGIN, END)


if __name__ == "__main__":
    main()
