"""A cold CI machine with and without a pre-built dependency image (`devbox base build`).

    python benchmarks/teams.py [--reps 5] [--out docs/teams.md]

A real project (attrs, whose tests need hypothesis, pympler, cloudpickle and pytest) is
tested on a second Docker engine that starts cold for every run — its build cache, cache
mounts and pulled images are removed first — the way a fresh CI runner starts:
- baseline: `devbox test --builder SECOND`, which installs the dependencies;
- with a base: `devbox test --builder SECOND --base REF --strict-base`, where REF was built
  and pushed once, by the main engine, to a local registry (`devbox base build --push`).
Both sides then run the same tests. Prints medians and their ratio; with --out, writes the
table between the `<!-- teams-bench:begin/end -->` markers of that file.

Needs what the test suite's teams tests need (root on Debian, scripts/provision-engine.sh
all): the registry and the second engine come from tests/infra.py.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))
from parity import PROJECTS, devbox_env, fetch, unpack  # noqa: E402

import infra  # noqa: E402

BEGIN, END = "<!-- teams-bench:begin -->", "<!-- teams-bench:end -->"
BASE_IMAGE = "localhost/devbox-test/python:3.11"


def devbox(args: list[str], root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "devbox", *args], cwd=root, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(
            f"devbox {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
        )
    return took


def make_cold(engine: infra.SecondEngine, keep: str) -> None:
    """Forget every build and pulled image: the state of a fresh CI runner."""
    engine.docker("builder", "prune", "-af")
    images = engine.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    for image in images:
        if image != keep:
            engine.docker("image", "rm", "-f", image)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    problem = infra.infra_problem()
    if problem:
        print(f"teams benchmark: cannot run here: {problem}", file=sys.stderr)
        return 2
    project = next(p for p in PROJECTS if p.name == "attrs")
    work = Path(tempfile.mkdtemp(prefix="devbox-teams-bench-"))
    root = unpack(fetch(project, work), work / "src")
    env = devbox_env(project, work)
    with (
        infra.registry(work / "registry") as registry,
        infra.second_engine(work / "engine", f"devbox-bench-{uuid.uuid4().hex[:6]}") as engine,
    ):
        infra.copy_image(None, engine, BASE_IMAGE)
        ref = f"{registry}/bench/attrs-deps:{{python}}"
        devbox(["base", "build", "--tag", ref, "--push"], root, env)
        cold, based = [], []
        for rep in range(args.reps):
            make_cold(engine, BASE_IMAGE)
            cold.append(
                devbox(
                    ["test", "-q", "--rerun", "--builder", engine.context, "--", "tests"], root, env
                )
            )
            make_cold(engine, BASE_IMAGE)
            based.append(devbox(["test", "-q", "--rerun", "--builder", engine.context, "--base", ref,
                                 "--strict-base", "--", "tests"], root, env))  # fmt: skip
            print(
                f"rep {rep + 1}: installing {cold[-1]:.1f} s, with the base {based[-1]:.1f} s",
                file=sys.stderr,
            )
    c, b = statistics.median(cold), statistics.median(based)
    table = (
        f"| cold engine, `devbox test` ({project.requirement}, {len(cold)} runs, medians) | time |\n"
        "|---|---|\n"
        f"| installs the dependencies (baseline) | {c:.1f} s |\n"
        f"| `--base REF`: pulls the pre-built image, installs nothing | {b:.1f} s |\n"
        f"| ratio | {b / c:.2f}× ({c / b:.1f}× faster) |\n"
    )
    print(table)
    if args.out:
        text = args.out.read_text(encoding="utf-8")
        before, _, rest = text.partition(BEGIN)
        _, _, after = rest.partition(END)
        body = f"Measured on {datetime.date.today().isoformat()} with `python benchmarks/teams.py --reps {args.reps}`:\n\n{table}"
        args.out.write_text(f"{before}{BEGIN}\n{body}{END}{after}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
