"""Parity with native runs: real, published projects tested natively and through devbox.

    python benchmarks/parity.py [--only NAME,...] [--out docs/parity.md] [--work DIR]
                                [--zero-config]

For each pinned project: download its sdist (which includes its tests), unpack it twice, and
run its tests
- natively: a fresh venv of this Python, `pip install -e .` with the project's test extras or
  dependency groups and the listed packages, then `pytest --junitxml`;
- through devbox: `devbox test -- ARGS`, configured only by DEVBOX_* environment variables
  (the project is never edited), on the local base image of the same Python minor version.
With --zero-config, devbox gets only DEVBOX_BASE_IMAGE and DEVBOX_PYTHON (and its cache
directory): the test dependencies are what it finds in the project's own declarations, and
the line saying so is printed. Both sides count passed/failed/skipped/errors/xfailed/xpassed
from pytest's JUnit XML (devbox's own reading of it), and the table says whether they match.
Needs a Docker engine with buildx and the local base images (scripts/provision-engine.sh),
and the package index. The projects' code is downloaded into
--work (default: a temporary directory), never into this repository.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
from devbox.results.model import TestCounts, parse_junit  # noqa: E402

IMAGE = os.environ.get("DEVBOX_PARITY_IMAGE", "localhost/devbox-test/python:{python}")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Project:
    name: str
    requirement: str
    covers: str
    #: pytest arguments, the same on both sides
    args: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    system_packages: tuple[str, ...] = ()
    #: why a count may differ (shown in the table when it does)
    note: str = ""
    env: dict[str, str] = field(default_factory=dict)


PROJECTS = [
    Project("boltons", "boltons==26.2.0", "pure Python; tox.ini", args=("tests",)),
    Project(
        "six",
        "six==1.17.0",
        "setup.py and setup.cfg only (no [project] table); a single test module",
        args=("test_six.py",),
        # Debian's python3 keeps tkinter in a package of its own (15 tests need it)
        system_packages=("python3-tk",),
        note="The host's Python (pyenv) was built without the ndbm module, Debian's python3 has "
        "it: test_six's ndbm test is skipped natively and runs (and passes) in the image. Every "
        "other test has the same outcome. Debian also ships tkinter as a package of its own: "
        "without `DEVBOX_SYSTEM_PACKAGES=python3-tk` 15 more tests are skipped in the image. "
        "Differences like these come from the interpreters, not from devbox: pick a base image "
        "whose Python is built like the one you compare with (`base-image`), or add the "
        "missing modules with `system-packages`.",
    ),
    Project(
        "attrs",
        "attrs==26.1.0",
        "test-only packages from a dependency group (hypothesis, pympler, cloudpickle); "
        "hatch-vcs version from PKG-INFO",
        args=("tests",),
        groups=("tests",),
    ),
    Project(
        "packaging",
        "packaging==26.4",
        "src layout; flit; test group (pretend, hypothesis, tomli_w)",
        args=("tests",),
        groups=("test",),
    ),
    Project(
        "markupsafe",
        "markupsafe==3.0.4",
        "C extension (built in the container with system-packages gcc); src layout",
        args=("tests",),
        groups=("tests",),
        system_packages=("gcc", "libc6-dev", "python3-dev"),
    ),
    Project(
        "markdown",
        "markdown==3.11.3",
        "data files read by the tests (tests/basic, ...); test extra; unittest suites",
        # test_legacy.py turns warnings into errors at import, so pytest's warning about a
        # class it cannot collect fails that module's collection, natively too
        args=("tests", "--continue-on-collection-errors"),
        extras=("testing",),
    ),
    Project(
        "iniconfig",
        "iniconfig==2.3.1",
        "setuptools-scm version; tests in testing/",
        args=("testing",),
        packages=("pytest",),
    ),
    Project(
        "more-itertools",
        "more-itertools==11.2.1",
        "flit; unittest-style tests collected by pytest",
        args=("tests",),
    ),
    Project(
        "idna",
        "idna==3.20",
        "flit; large data tables; property tests need hypothesis",
        args=("tests",),
        packages=("hypothesis",),
    ),
]


@dataclass
class Side:
    counts: TestCounts | None = None
    seconds: float = 0.0
    setup_seconds: float = 0.0
    error: str = ""
    #: devbox's line saying which test dependencies it found (--zero-config)
    chose: str = ""

    def cell(self) -> str:
        if self.counts is None:
            return f"error: {self.error}"
        c = self.counts
        return f"{c.passed} / {c.failed} / {c.skipped} / {c.errors} / {c.xfailed} / {c.xpassed}"


def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]


def fetch(project: Project, work: Path) -> Path:
    """The sdist, downloaded once and unpacked into a fresh directory per call."""
    sdists = work / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    have = list(sdists.glob(f"{project.requirement.split('==')[0].replace('-', '_')}-*.tar.gz"))
    have += list(sdists.glob(f"{project.requirement.split('==')[0]}-*.tar.gz"))
    if not have:
        got = run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                   "-d", str(sdists), project.requirement])  # fmt: skip
        if got.returncode != 0:
            raise RuntimeError(f"pip download {project.requirement} failed:\n{got.stderr[-2000:]}")
        have = sorted(sdists.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)[-1:]
    return have[0]


def unpack(archive: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.unpack_archive(archive, dest)
    return next(p for p in dest.iterdir() if p.is_dir())


def native(project: Project, root: Path, work: Path) -> Side:
    side = Side()
    venv = work / "venvs" / project.name
    shutil.rmtree(venv, ignore_errors=True)
    started = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)])
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    run([*pip, "-U", "pip"])  # --group needs pip >= 25.1
    target = "." + (f"[{','.join(project.extras)}]" if project.extras else "")
    groups = [a for g in project.groups for a in ("--group", g)]
    got = run([*pip, "-e", target, "pytest", *groups, *project.packages], cwd=root)
    side.setup_seconds = time.perf_counter() - started
    if got.returncode != 0:
        side.error = "install failed: " + got.stderr.strip().splitlines()[-1][:200]
        return side
    junit = work / f"{project.name}-native.xml"
    started = time.perf_counter()
    run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={junit}", *project.args], cwd=root)  # fmt: skip
    side.seconds = time.perf_counter() - started
    side.counts = parse_junit(junit)
    if side.counts is None:
        side.error = "no JUnit XML"
    return side


def devbox_env(project: Project, work: Path, *, zero_config: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVBOX_")}
    if zero_config:  # what devbox finds by itself: nothing of the project's set-up is given
        env.update(
            DEVBOX_PYTHON=PYTHON,
            DEVBOX_BASE_IMAGE=IMAGE,
            DEVBOX_CACHE_DIR=str(work / "devbox-cache"),
            NO_COLOR="1",
        )
        return env
    env.update(
        DEVBOX_PYTHON=PYTHON,
        DEVBOX_BASE_IMAGE=IMAGE,
        DEVBOX_TEST="pytest",
        DEVBOX_CACHE_DIR=str(work / "devbox-cache"),
        NO_COLOR="1",
    )
    for key, values in (
        ("DEVBOX_EXTRAS", project.extras),
        ("DEVBOX_GROUPS", project.groups),
        ("DEVBOX_PACKAGES", project.packages),
        ("DEVBOX_SYSTEM_PACKAGES", project.system_packages),
    ):
        if values:
            env[key] = ",".join(values)
    env.update(project.env)
    return env


def through_devbox(project: Project, root: Path, work: Path, *, zero_config: bool = False) -> Side:
    side = Side()
    report = work / f"{project.name}-devbox.json"
    argv = [sys.executable, "-m", "devbox", "test", "--report-json", str(report), "-q", "--rerun",
            "--", *project.args]  # fmt: skip
    env = devbox_env(project, work, zero_config=zero_config)
    # First run: the dependency stage is built (or replayed); the second is the timed one.
    started = time.perf_counter()
    first = run(argv, cwd=root, env=env)
    side.setup_seconds = time.perf_counter() - started
    for line in (first.stdout + first.stderr).splitlines():
        if line.startswith("devbox: test dependencies:"):
            side.chose = line
    if first.returncode not in (0, 1):
        side.error = (
            f"exit {first.returncode}: " + (first.stderr.strip().splitlines() or ["?"])[0][:300]
        )
        return side
    started = time.perf_counter()
    run(argv, cwd=root, env=env)
    side.seconds = time.perf_counter() - started
    data = json.loads(report.read_text())
    tests = data["tools"][0].get("tests")
    if tests is None:
        side.error = "no test counts: " + data["tools"][0]["status"]
        return side
    # xfailed/xpassed are in the report only when not 0
    side.counts = TestCounts(
        tests["passed"],
        tests["failed"],
        tests["skipped"],
        tests["errors"],
        tests.get("xfailed", 0),
        tests.get("xpassed", 0),
    )
    return side


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated project names")
    parser.add_argument(
        "--out", type=Path, help="write the Markdown table here (e.g. docs/parity.md)"
    )
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument(
        "--zero-config",
        action="store_true",
        help="run devbox with only DEVBOX_BASE_IMAGE and DEVBOX_PYTHON set",
    )
    args = parser.parse_args()
    chosen = [p for p in PROJECTS if not args.only or p.name in args.only.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="devbox-parity-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for project in chosen:
        archive = fetch(project, work)
        print(f"== {project.name}: native", file=sys.stderr, flush=True)
        nat = native(project, unpack(archive, work / "native" / project.name), work)
        print(f"== {project.name}: devbox", file=sys.stderr, flush=True)
        dbx = through_devbox(
            project,
            unpack(archive, work / "devbox" / project.name),
            work,
            zero_config=args.zero_config,
        )
        if dbx.chose:
            print(f"   {dbx.chose}", file=sys.stderr, flush=True)
        match = nat.counts is not None and nat.counts == dbx.counts
        rows.append((project, nat, dbx, match))
        print(f"   native {nat.cell()}  devbox {dbx.cell()}  {'match' if match else 'DIFFER'}",
              file=sys.stderr, flush=True)  # fmt: skip
    table = render(rows)
    print(table)
    if args.out:
        args.out.write_text(page(table, rows), encoding="utf-8")
    return 0 if all(match or p.note for p, _, _, match in rows) else 1


def render(rows: list[tuple[Project, Side, Side, bool]]) -> str:
    lines = [
        "| project | covers | native passed / failed / skipped / errors / xfailed / xpassed | devbox | match | native pytest | devbox test (warm) | native set-up | devbox first run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p, nat, dbx, match in rows:
        lines.append(
            f"| {p.requirement} | {p.covers} | {nat.cell()} | {dbx.cell()} | "
            f"{'yes' if match else ('no: explained below' if p.note else 'NO')} | "
            f"{nat.seconds:.1f} s | {dbx.seconds:.1f} s | "
            f"{nat.setup_seconds:.1f} s | {dbx.setup_seconds:.1f} s |"
        )
    return "\n".join(lines) + "\n"


def page(table: str, rows: list[tuple[Project, Side, Side, bool]]) -> str:
    docker = run(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip()
    matched = sum(1 for *_, m in rows if m)
    notes = [f"- **{p.name}**: {p.note}" for p, _, _, m in rows if p.note and not m]
    return PAGE.format(
        notes="\n".join(["## Differences, and why", "", *notes, "", ""]) if notes else "",
        date=datetime.date.today().isoformat(),
        python=platform.python_version(),
        image=IMAGE.format(python=PYTHON),
        docker=docker,
        matched=matched,
        total=len(rows),
        table=table,
    )


PAGE = """# Parity with native runs

devbox is trusted only if it reports what the native tools report. `benchmarks/parity.py`
downloads pinned sdists of real, published projects (their tests included), runs each
project's tests natively and through devbox, and compares pytest's counts.

- **Native**: a fresh venv of Python {python} on the host, `pip install -e .` with the
  project's test extras or dependency groups, then `pytest --junitxml`.
- **devbox**: `devbox test -- ARGS` on the unmodified project, configured only by `DEVBOX_*`
  variables (`DEVBOX_GROUPS`, `DEVBOX_EXTRAS`, `DEVBOX_PACKAGES`, `DEVBOX_SYSTEM_PACKAGES`),
  in the image {image}.
- Both sides pass the same pytest arguments, and both counts come from pytest's JUnit XML.
  Times: the native pytest run, and devbox's second run with `--rerun` (dependencies
  replayed, tests executed); set-up is the native venv install and devbox's first run,
  which replays the dependency stage when an earlier run on the engine built it (as in the
  run below, made after development runs) and installs everything on a cold engine.

Run on {date} (docker {docker}): {matched} of {total} projects match.

{table}
{notes}Reproduce: `python benchmarks/parity.py --out docs/parity.md` (about ten minutes on a cold
machine; `--only NAME,...` for some). The projects' code is downloaded into a temporary
directory, never into this repository.
"""


if __name__ == "__main__":
    sys.exit(main())
