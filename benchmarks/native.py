"""A project with a mandatory C extension: warm ``devbox test --rerun`` against native pytest.

    python benchmarks/native.py [--reps 5] [--out FILE]

The project is tests/fixtures/cext (setuptools, one C extension the tests import), copied to
a temporary directory, with ccache added to its system-packages and --c-functions generated
functions appended to its C source (so that compiling it costs what a real extension's
does). In the same run, medians of --reps:

- native: a host venv with the project installed editable (``pip install -e .``, once), then
  ``python -m pytest -q``: what a developer runs after editing a test;
- devbox: ``devbox test --rerun`` once the environment is built (the tool step installs the
  project, building the extension, then runs pytest);
- devbox after editing a test file (``devbox test``), after editing a Python module of the
  package (a build input: the project is built again, its compilation from ccache), and
  after changing code in the C source (compiled again);
- devbox's fixed overhead: ``devbox test --rerun`` on tests/fixtures/clean (pure Python,
  static metadata: nothing is installed in the tool step), the floor of the first rows.

--out replaces the part of FILE between the native markers with the table.  Needs a Docker
engine with buildx and the local base image (scripts/provision-engine.sh).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
import venv
from pathlib import Path

import measure
from measure import write_between_markers

timed = functools.partial(measure.timed, label="native")
REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "cext"
FLOOR = REPO / "tests" / "fixtures" / "clean"
IMAGE = os.environ.get("DEVBOX_BENCH_IMAGE", "localhost/devbox-test/python:{python}")
BEGIN = "<!-- native:begin -->"
END = "<!-- native:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--c-functions", type=int, default=3000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="devbox-native-"))
    try:
        project = work / "cext"
        shutil.copytree(FIXTURE, project)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace('"python3-dev"]', '"python3-dev", "ccache"]')
        )
        heavy = project / "src" / "cextpkg" / "_speedups.c"
        heavy.write_text(heavy.read_text() + "".join(
            f"long devbox_bench_{i}(long x) {{ long s = {i}; for (long j = 0; j < x; j++) "
            f"{{ s += (j * {i}) ^ (s >> 3); }} return s; }}\n"
            for i in range(args.c_functions)
        ))  # fmt: skip
        floor = work / "clean"
        shutil.copytree(FLOOR, floor)
        env = measure.devbox_env(work, IMAGE, "cache", PYTHONPATH=str(REPO / "src"))
        native_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        venv.create(work / "venv", with_pip=True)
        py = str(work / "venv" / "bin" / "python")
        timed([py, "-m", "pip", "install", "-q", "-e", ".", "pytest"], project, native_env)
        native_cmd = [py, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        devbox = [sys.executable, "-m", "devbox", "test", "-q"]
        timed(devbox, project, env)  # the environment, once
        timed(devbox, floor, env)
        test = project / "tests" / "test_cext.py"
        source = project / "src" / "cextpkg" / "_speedups.c"
        module = project / "src" / "cextpkg" / "__init__.py"
        test_text, source_text = test.read_text(), source.read_text()
        module_text = module.read_text()
        rows: dict[str, list[float]] = {
            "native": [], "rerun": [], "test": [], "module": [], "c": [], "floor": []
        }  # fmt: skip
        for i in range(args.reps):
            rows["floor"].append(timed([*devbox, "--rerun"], floor, env))
            rows["native"].append(timed(native_cmd, project, native_env))
            rows["rerun"].append(timed([*devbox, "--rerun"], project, env))
            test.write_text(test_text + f"# edit {i} {time.time_ns()}\n")
            rows["test"].append(timed(devbox, project, env))
            module.write_text(module_text + f"# edit {i} {time.time_ns()}\n")
            rows["module"].append(timed(devbox, project, env))
            # a change of code (a comment alone is no change to ccache: it hashes the
            # preprocessed source)
            first_function = "long devbox_bench_0(long x) { long s = 0;"
            changed = f"long devbox_bench_0(long x) {{ long s = {time.time_ns() % 10**9};"
            source.write_text(source_text.replace(first_function, changed))
            rows["c"].append(timed(devbox, project, env))
        m = {k: statistics.median(v) for k, v in rows.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    native = m["native"]
    lines = [
        f"Measured {datetime.date.today().isoformat()} with `python benchmarks/native.py "
        f"--reps {args.reps}`: medians of {args.reps} runs, all in one run; the extension "
        f"has {args.c_functions} generated functions more, and ccache.",
        "",
        "| scenario | time | vs native pytest |",
        "|---|---|---|",
        f"| native pytest (project installed editable once) | {native:.2f} s | 1.00× |",
        f"| `devbox test --rerun` (warm) | {m['rerun']:.2f} s | {m['rerun'] / native:.2f}× |",
        f"| `devbox test` after editing a test file | {m['test']:.2f} s | {m['test'] / native:.2f}× |",
        f"| `devbox test` after editing a Python module (built again, compiled by ccache from its cache) | {m['module']:.2f} s | {m['module'] / native:.2f}× |",
        f"| `devbox test` after changing code in the C source (compiled again) | {m['c']:.2f} s | {m['c'] / native:.2f}× |",
        f"| floor: `devbox test --rerun` on a pure-Python project | {m['floor']:.2f} s | "
        f"{m['floor'] / native:.2f}× |",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        write_between_markers(args.out, table, BEGIN, END)


if __name__ == "__main__":
    main()
