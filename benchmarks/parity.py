"""Parity with native runs: real, published projects tested natively and through devbox.

    python benchmarks/parity.py [--only NAME,...] [--columns native,zero,init,configured]
                                [--out docs/parity.md] [--work DIR]

For each pinned project: download its sdist (which includes its tests), unpack a fresh copy
for each side, and run its tests, always with the project's pytest arguments,
- natively: a fresh venv of this Python, `pip install -e .` with the project's test extras or
  dependency groups and the listed packages, then `pytest --junitxml`;
- through devbox, on the local base image of the same Python minor version, in three columns:
  - zero: `devbox test -- ARGS` given only DEVBOX_BASE_IMAGE, DEVBOX_PYTHON (and its cache
    directory, NO_COLOR): the test dependencies are what devbox finds in the project's own
    declarations (the line saying so is kept);
  - init: `devbox init` run in the copy (it writes [tool.devbox] into pyproject.toml, or
    creates one), then `devbox test -- ARGS` with the same environment as zero;
  - configured: configured only by DEVBOX_* variables (the project's extras, groups,
    packages, system packages below); run twice, the second run is the timed one.
Every side counts passed/failed/skipped/errors/xfailed/xpassed from pytest's JUnit XML
(devbox's own reading of it), and the table says whether each column matches native.

Results are kept in WORK/results.json, so `--columns` and `--only` refresh part of the table
and --out renders every stored result of the listed projects. Each run's output is kept in
WORK/logs/. Needs a Docker engine with buildx and the local base images
(scripts/provision-engine.sh), and the package index. The projects' code is downloaded into
--work (default: a temporary directory), never into this repository. devbox is run as
`python -m devbox` with this interpreter: set PYTHONPATH to test another checkout of it.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("devbox") is None:  # PYTHONPATH (or an install) comes first
    sys.path.insert(0, str(REPO / "src"))
from devbox.results.model import TestCounts, parse_junit  # noqa: E402

IMAGE = os.environ.get("DEVBOX_PARITY_IMAGE", "localhost/devbox-test/python:{python}")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
#: no run of a project's tests (or of its install) may take longer than this
TIMEOUT = 1800
COLUMNS = ("zero", "init", "configured")
TITLES = {"zero": "zero-config", "init": "init", "configured": "configured"}
#: whose a difference is, in the notes
WHOSE = ("devbox", "interpreter", "project")


@dataclass(frozen=True)
class Project:
    name: str
    requirement: str
    covers: str
    #: pytest arguments, the same on every side
    args: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    system_packages: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    #: why a column's counts differ from native's, verified: column -> (whose, why)
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)


NDBM = (
    "The host's Python (pyenv) was built without the ndbm module, Debian's python3 has it: "
    "test_six's ndbm test is skipped natively and runs (and passes) in the image."
)
TK = (
    " Debian ships tkinter as a package of its own (python3-tk), which nothing of the "
    "project names: without it (as here) 15 tests that import tkinter are skipped in the "
    "image; the configured column adds it with system-packages."
)
PICK = (
    " Pick a base image whose Python is built like the one you compare with (`base-image`), "
    "or add the missing modules with `system-packages`."
)
SIX_TK = ("interpreter", NDBM + TK + PICK)

PROJECTS = [
    Project(
        "boltons",
        "boltons==26.2.0",
        "flat layout; flit; pure Python; tox.ini [testenv] deps",
        args=("tests",),
    ),
    Project(
        "six",
        "six==1.17.0",
        "setup.py and setup.cfg only (no [project] table); flat layout; a single test module",
        args=("test_six.py",),
        # Debian's python3 keeps tkinter in a package of its own (15 tests need it)
        system_packages=("python3-tk",),
        notes={"zero": SIX_TK, "init": SIX_TK, "configured": ("interpreter", NDBM + PICK)},
    ),
    Project(
        "attrs",
        "attrs==26.1.0",
        "hatchling, hatch-vcs (version from PKG-INFO); PEP 735 [dependency-groups] tests "
        "(hypothesis, pympler, cloudpickle)",
        args=("tests",),
        groups=("tests",),
    ),
    Project(
        "packaging",
        "packaging==26.4",
        "src layout; flit; [dependency-groups] test (pretend, hypothesis, tomli_w)",
        args=("tests",),
        groups=("test",),
    ),
    Project(
        "markupsafe",
        "markupsafe==3.0.4",
        "optional C extension (speedups; falls back to pure Python); src layout; "
        "[dependency-groups] tests",
        args=("tests",),
        groups=("tests",),
        system_packages=("gcc", "libc6-dev", "python3-dev"),
    ),
    Project(
        "markdown",
        "markdown==3.11.3",
        "data files read by the tests (tests/basic, ...); [project.optional-dependencies] "
        "testing; unittest suites",
        # test_legacy.py turns warnings into errors at import, so pytest's warning about a
        # class it cannot collect fails that module's collection, natively too
        args=("tests", "--continue-on-collection-errors"),
        extras=("testing",),
    ),
    Project(
        "iniconfig",
        "iniconfig==2.3.1",
        "setuptools-scm version; tests in testing/; no test dependencies declared",
        args=("testing",),
        packages=("pytest",),
    ),
    Project(
        "more-itertools",
        "more-itertools==11.2.1",
        "flit; flat layout; unittest-style tests collected by pytest; requirements/ files",
        args=("tests",),
    ),
    Project(
        "idna",
        "idna==3.20",
        "flit; large data tables; property tests need hypothesis, declared only in the extra "
        "`all` (with ruff, mypy, ty, coverage: not a test name)",
        args=("tests",),
        packages=("hypothesis",),
        notes={
            c: (
                "project",
                "tests/test_idna_properties.py imports hypothesis, which idna declares only in "
                "[project.optional-dependencies] all (a name devbox does not take for tests); "
                "devbox finds no test dependencies, and the module's collection fails "
                "(`No module named 'hypothesis'`): 1 error, no test run.",
            )
            for c in ("zero", "init")
        },
    ),
    Project(
        "asgiref",
        "asgiref==3.13.0",
        "setup.cfg only (no pyproject.toml; setup.py calls setup()); setup.cfg "
        "[options.extras_require] tests; pytest-asyncio (asyncio_mode in [tool:pytest]); "
        "tox [testenv] extras with a factor (mypy: mypy); a test module needs pytest-benchmark "
        "(tox [testenv:benchmark] deps)",
        args=("tests",),
        extras=("tests",),
        packages=("pytest-benchmark",),
        notes={
            "zero": (
                "project",
                "devbox installs what tox.ini [testenv] installs (extras tests, deps "
                "setuptools); tests/test_benchmark_local.py needs pytest-benchmark (or "
                "pytest-codspeed), which only [testenv:benchmark] deps names, and skips itself "
                "without it (`pytest-benchmark or pytest-codspeed required`): its 11 tests are "
                "1 skipped module.",
            ),
            "init": (
                "project",
                "devbox init writes what the zero-config run installs (tox.ini [testenv] "
                "extras tests, deps setuptools): the same skipped benchmark module.",
            ),
        },
    ),
    Project(
        "aiosignal",
        "aiosignal==1.4.0",
        "setup.cfg metadata (pyproject.toml has only [build-system]); pytest.ini addopts "
        "`-p pytest_cov --cov --doctest-modules` and asyncio_mode = auto (pytest-cov, "
        "pytest-asyncio); tox [testenv] deps = -rrequirements{/}ci-wheel.txt (requirements/)",
        args=("tests",),
        packages=("pytest-asyncio", "pytest-cov"),
        notes={
            "zero": (
                "devbox",
                "tox.ini [testenv] deps = -rrequirements{/}ci-wheel.txt is passed over (a "
                "tox substitution, `{/}`), so devbox takes the first requirement file named "
                "like CI, requirements/ci-bot.txt (`-r ci-wheel.txt`, `-e .`); its `-e .` is "
                "read from the directory the file was copied to, without the project: the "
                "install fails (uv: `/devbox/install` does not appear to be a Python project).",
            ),
            "init": (
                "devbox",
                'devbox init writes requirements = ["requirements/ci-bot.txt", '
                '"requirements/ci-wheel.txt", "requirements/ci.txt", '
                '"requirements/dev.txt"] (every file named like CI or dev; its comment says '
                "tox.ini's -r requirements{/}ci-wheel.txt was not used); ci-bot.txt and ci.txt "
                "hold `-e .`, and the install fails as in zero-config.",
            ),
        },
    ),
    Project(
        "bitarray",
        "bitarray==3.12.3",
        "mandatory C extension; setup.py only (pyproject.toml has only [build-system]); tests "
        "inside the package; data file (test_281.pickle); no test dependencies",
        # test_free_threading.py asserts at import that the interpreter is free-threaded
        args=("bitarray", "--ignore=bitarray/test_free_threading.py"),
        system_packages=("gcc", "libc6-dev", "python3-dev"),
    ),
    Project(
        "simplejson",
        "simplejson==4.3.0",
        "optional C extension (setup.py falls back to pure Python when it cannot be built; "
        "test_speedups skips without it); setup.py only; tests inside the package",
        args=("simplejson/tests",),
        system_packages=("gcc", "libc6-dev", "python3-dev"),
    ),
    Project(
        "patsy",
        "patsy==1.0.3",
        "binary-wheel dependency (numpy; scipy for the tests); setup.py extras_require test "
        "(pytest, pytest-cov, scipy); tox [testenv] deps `.[test]` and a factor "
        "(with_pandas: pandas); setup.cfg [tool:pytest] python_files = *.py",
        args=("patsy",),
        extras=("test",),
        notes={
            c: (
                "devbox",
                'The test extra is declared in setup.py (extras_require={"test": ["pytest", '
                '"pytest-cov", "scipy"]}) and named by tox.ini [testenv] deps `.[test]`: '
                "devbox reads neither setup.py nor an extra it cannot see, finds nothing, and "
                "scipy is missing: 8 spline tests fail (`ImportError: spline functionality "
                "requires scipy`, `No module named 'scipy'`).",
            )
            for c in ("zero", "init")
        },
    ),
    Project(
        "jinja2",
        "jinja2==3.1.6",
        "flit; src layout; requirements/tests.txt (pip-compiled: pytest, trio), named by tox "
        "[testenv] deps = -r requirements/tests.txt",
        args=("tests",),
        packages=("trio",),
        notes={
            "init": (
                "devbox",
                'devbox init writes requirements = ["requirements/dev.txt", '
                '"requirements/tests.txt", "requirements/tests37.txt"]: tests.txt (what '
                "tox.ini [testenv] deps names, and zero-config takes) pins trio==0.27.0, "
                "tests37.txt (tox [testenv:py37,py3.7] only) pins trio==0.22.2, and uv stops: "
                "`No solution found when resolving dependencies ... you require trio==0.27.0 "
                "and trio==0.22.2`.",
            ),
        },
    ),
    Project(
        "pluggy",
        "pluggy==1.7.0",
        "setuptools-scm; src layout; [dependency-groups] testing (pytest-benchmark), named by "
        "tox [testenv] dependency_groups; tox [pytest] addopts; tests in testing/",
        args=("testing",),
        groups=("testing",),
    ),
    Project(
        "python-dateutil",
        "python-dateutil==4.0.0",
        "hatchling, hatch-vcs; src layout; requirements-dev.txt (attrs, freezegun, hypothesis, "
        "pytest-cov, pytest-xdist) named by tox [testenv] deps = -rrequirements-dev.txt; "
        "time zone data; conftest.py uses pytest-cov's no_cover marker",
        args=("tests",),
        # tests/conftest.py marks items no_cover, a marker pytest-cov registers
        packages=("attrs", "freezegun", "hypothesis", "pytest-cov"),
    ),
    Project(
        "zipp",
        "zipp==4.1.2",
        "setuptools-scm; flat layout; pytest.ini addopts --doctest-modules --import-mode "
        "importlib; [project.optional-dependencies] test; tox [testenv] extras test, check, "
        "cover, enabler, type (pytest-checkdocs, pytest-ruff, pytest-cov, pytest-enabler, "
        "pytest-mypy)",
        # test_complexity.py measures run times (big-O): not deterministic on a loaded machine
        args=("zipp", "tests", "--ignore=tests/test_complexity.py"),
        # what its test environment (tox.ini [testenv]) installs, as a contributor runs it:
        # pytest-enabler turns on pytest-ruff, whose ruff items count as tests
        extras=("test", "check", "cover", "enabler", "type"),
    ),
    Project(
        "referencing",
        "referencing==0.37.0",
        'hatchling, hatch-vcs; noxfile.py session tests: `session.install("-r", '
        "test-requirements.txt)` (pytest-subtests; `referencing @ file:.`); data files "
        "(suite/, the referencing test suite); binary-wheel dependency (rpds-py)",
        args=("referencing",),
        packages=("pytest-subtests",),
        notes={
            "zero": (
                "devbox",
                "devbox takes test-requirements.txt (what noxfile.py's tests session installs), "
                "which pins the project itself as `referencing @ file:.`; the file is copied to "
                "/devbox/install without the project, so uv fails: `Failed to build "
                "referencing @ file:///devbox/install`.",
            ),
            "init": (
                "devbox",
                'devbox init writes requirements = ["test-requirements.txt"]: the same '
                "failure as zero-config (`Failed to build referencing @ file:///devbox/install`).",
            ),
        },
    ),
    Project(
        "filelock",
        "filelock==3.18.0",
        "hatchling, hatch-vcs; src layout; [project.optional-dependencies] testing "
        "(pytest-asyncio, pytest-mock, pytest-timeout, pytest-cov, virtualenv), named by tox "
        "[testenv] extras",
        args=("tests",),
        extras=("testing",),
    ),
]


@dataclass
class Side:
    counts: TestCounts | None = None
    seconds: float = 0.0
    setup_seconds: float = 0.0
    error: str = ""
    #: devbox's line saying which test dependencies it found
    chose: str = ""
    date: str = ""
    #: the devbox checkout that ran it (its commit), "" natively
    devbox: str = ""

    def cell(self) -> str:
        if self.counts is None:
            # devbox's first sentence only (earlier runs stored all of its first line)
            short = self.error.replace("devbox: error: ", "").split(" (")[0].split(". ")[0]
            return f"error: {short}" if self.error else "not run"
        c = self.counts
        return f"{c.passed} / {c.failed} / {c.skipped} / {c.errors} / {c.xfailed} / {c.xpassed}"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["counts"] = None if self.counts is None else asdict(self.counts)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Side:
        counts = data.get("counts")
        side = cls(**{k: v for k, v in data.items() if k != "counts"})  # type: ignore[arg-type]
        side.counts = TestCounts(**counts) if isinstance(counts, dict) else None
        return side


def run(argv: list[str], log: Path | None = None, **kw: object) -> subprocess.CompletedProcess[str]:
    try:
        got = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=TIMEOUT, **kw)  # type: ignore[call-overload]  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        got = subprocess.CompletedProcess(argv, -9, out, f"timed out after {TIMEOUT} s")
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as f:
            f.write(f"$ {' '.join(argv)}\n[exit {got.returncode}]\n{got.stdout}\n{got.stderr}\n")
    return got


def fetch(project: Project, work: Path) -> Path:
    """The sdist, downloaded once and unpacked into a fresh directory per call."""
    sdists = work / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    name, version = project.requirement.split("==")
    for stem in {name, name.replace("-", "_"), name.lower().replace("-", "_")}:
        have = sorted(sdists.glob(f"{stem}-{version}.tar.gz"))
        if have:
            return have[0]
    before = set(sdists.iterdir())
    # only the project from source: its build dependencies may come as wheels
    got = run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", name,
               "-d", str(sdists), project.requirement])  # fmt: skip
    new = sorted(set(sdists.iterdir()) - before)
    if got.returncode != 0 or not new:
        raise RuntimeError(f"pip download {project.requirement} failed:\n{got.stderr[-2000:]}")
    return new[0]


def unpack(archive: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.unpack_archive(archive, dest)
    return next(p for p in dest.iterdir() if p.is_dir())


def native(project: Project, root: Path, work: Path) -> Side:
    side = Side(date=datetime.date.today().isoformat())
    log = work / "logs" / f"{project.name}-native.log"
    log.unlink(missing_ok=True)
    venv = work / "venvs" / project.name
    shutil.rmtree(venv, ignore_errors=True)
    started = time.perf_counter()
    run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run([*pip, "-U", "pip"])  # --group needs pip >= 25.1
    target = "." + (f"[{','.join(project.extras)}]" if project.extras else "")
    groups = [a for g in project.groups for a in ("--group", g)]
    got = run([*pip, "-e", target, "pytest", *groups, *project.packages], log, cwd=root)
    side.setup_seconds = time.perf_counter() - started
    if got.returncode != 0:
        side.error = "install failed: " + (got.stderr.strip().splitlines() or ["?"])[-1][:200]
        return side
    junit = work / f"{project.name}-native.xml"
    junit.unlink(missing_ok=True)
    started = time.perf_counter()
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
         *project.args], log, cwd=root)  # fmt: skip
    side.seconds = time.perf_counter() - started
    side.counts = parse_junit(junit)
    if side.counts is None:
        side.error = "no JUnit XML"
    return side


def devbox_env(project: Project, work: Path, column: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVBOX_")}
    env.update(
        DEVBOX_PYTHON=PYTHON,
        DEVBOX_BASE_IMAGE=IMAGE,
        DEVBOX_CACHE_DIR=str(work / "devbox-cache"),
        NO_COLOR="1",
    )
    if column != "configured":  # what devbox finds (or init writes): nothing of the set-up
        return env
    env["DEVBOX_TEST"] = "pytest"
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


def through_devbox(project: Project, root: Path, work: Path, column: str, commit: str) -> Side:
    side = Side(date=datetime.date.today().isoformat(), devbox=commit)
    log = work / "logs" / f"{project.name}-{column}.log"
    log.unlink(missing_ok=True)
    env = devbox_env(project, work, column)
    if column == "init":
        made = run([sys.executable, "-m", "devbox", "init"], log, cwd=root, env=env)
        if made.returncode != 0:
            side.error = "devbox init: " + (made.stderr.strip().splitlines() or ["?"])[-1][:300]
            return side
        if (root / "pyproject.toml").is_file():
            with log.open("a", encoding="utf-8") as f:
                f.write("--- pyproject.toml after devbox init\n")
                f.write((root / "pyproject.toml").read_text(encoding="utf-8"))
    report = work / f"{project.name}-{column}.json"
    report.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "devbox", "test", "--report-json", str(report), "-q", "--rerun",
            "--", *project.args]  # fmt: skip
    # The first run builds (or replays) the dependency stage; in the configured column a
    # second run is the timed one.
    started = time.perf_counter()
    first = run(argv, log, cwd=root, env=env)
    side.setup_seconds = time.perf_counter() - started
    for line in (first.stdout + first.stderr).splitlines():
        if line.startswith("devbox: test dependencies:"):
            side.chose = line
    if first.returncode not in (0, 1):
        # the first sentence of devbox's message (the log has the installer's output)
        said = (first.stderr.strip().splitlines() or ["?"])[0].removeprefix("devbox: error: ")
        side.error = f"exit {first.returncode}: " + said.split(" (")[0].split(". ")[0][:200]
        return side
    if column == "configured":
        started = time.perf_counter()
        run(argv, log, cwd=root, env=env)
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


def devbox_checkout() -> str:
    """Where `python -m devbox` imports from in the subprocesses, and its commit."""
    where = run([sys.executable, "-c", "import devbox; print(devbox.__file__)"]).stdout.strip()
    head = run(["git", "-C", str(Path(where).parent), "rev-parse", "--short", "HEAD"])
    dirty = run(["git", "-C", str(Path(where).parent), "status", "--porcelain", "--", "."])
    commit = head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    print(f"devbox: {where} ({commit or 'no git'})", file=sys.stderr, flush=True)
    return commit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated project names")
    parser.add_argument(
        "--columns",
        default="native," + ",".join(COLUMNS),
        help="comma-separated, of native, zero, init, configured (default: all); native is "
        "run anyway when no stored native result exists; empty: render the stored results",
    )
    parser.add_argument(
        "--out", type=Path, help="write the Markdown page here (e.g. docs/parity.md)"
    )
    parser.add_argument("--work", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument(
        "--zero-config", action="store_true", help="the same as --columns native,zero"
    )
    args = parser.parse_args()
    # --columns "": nothing is run, the page is rendered from the stored results
    columns = ["native", "zero"] if args.zero_config else [c for c in args.columns.split(",") if c]
    unknown = set(columns) - {"native", *COLUMNS}
    if unknown:
        parser.error(f"unknown column(s): {', '.join(sorted(unknown))}")
    names = args.only.split(",") if args.only else [p.name for p in PROJECTS]
    missing = set(names) - {p.name for p in PROJECTS}
    if missing:
        parser.error(f"unknown project(s): {', '.join(sorted(missing))}")
    chosen = [p for p in PROJECTS if p.name in names]
    work = args.work or Path(tempfile.mkdtemp(prefix="devbox-parity-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "results.json"
    results: dict[str, dict[str, dict[str, object]]] = (
        json.loads(store.read_text()) if store.is_file() else {}
    )
    commit = devbox_checkout() if set(columns) & set(COLUMNS) else ""
    for project in chosen:
        archive = fetch(project, work)
        stored = results.setdefault(project.requirement, {})
        if "native" in columns or "native" not in stored:
            print(f"== {project.name}: native", file=sys.stderr, flush=True)
            nat = native(project, unpack(archive, work / "native" / project.name), work)
            stored["native"] = nat.to_json()
            store.write_text(json.dumps(results, indent=1))
        nat = Side.from_json(stored["native"])
        print(f"   native {nat.cell()}", file=sys.stderr, flush=True)
        for column in COLUMNS:
            if column not in columns:
                continue
            print(f"== {project.name}: {TITLES[column]}", file=sys.stderr, flush=True)
            root = unpack(archive, work / column / project.name)
            side = through_devbox(project, root, work, column, commit)
            stored[column] = side.to_json()
            store.write_text(json.dumps(results, indent=1))
            if side.chose:
                print(f"   {side.chose}", file=sys.stderr, flush=True)
            same = "match" if nat.counts is not None and nat.counts == side.counts else "DIFFER"
            print(f"   {TITLES[column]} {side.cell()}  {same}", file=sys.stderr, flush=True)
    rows = [(p, {k: Side.from_json(v) for k, v in results.get(p.requirement, {}).items()})
            for p in PROJECTS if p.requirement in results and (args.out or p in chosen)]  # fmt: skip
    table = render(rows)
    print(table)
    if args.out:
        args.out.write_text(page(table, rows), encoding="utf-8")
    unexplained = [
        (p.name, c)
        for p, sides in rows
        if p in chosen
        for c in COLUMNS
        if c in columns and not matches(sides, c) and c not in p.notes
    ]
    return 1 if unexplained else 0


def matches(sides: dict[str, Side], column: str) -> bool:
    nat, side = sides.get("native"), sides.get(column)
    return bool(nat and side and nat.counts is not None and nat.counts == side.counts)


def verdict(p: Project, sides: dict[str, Side], column: str) -> str:
    if column not in sides:
        return "not run"
    cell = sides[column].cell()
    if matches(sides, column):
        return f"{cell} (yes)"
    return f"{cell} (no{': see below' if column in p.notes else ''})"


def seconds(side: Side, value: float) -> str:
    return f"{value:.1f} s" if side.date else "-"


def render(rows: list[tuple[Project, dict[str, Side]]]) -> str:
    lines = [
        "| project | covers | native passed / failed / skipped / errors / xfailed / xpassed | "
        "zero-config | init | configured | native pytest | configured test (warm) | "
        "native set-up | configured first run | date |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p, sides in rows:
        nat = sides.get("native", Side())
        conf = sides.get("configured", Side())
        date = max((s.date for s in sides.values()), default="")
        lines.append(
            f"| {p.requirement} | {p.covers} | {nat.cell()} | "
            + " | ".join(verdict(p, sides, c) for c in COLUMNS)
            + f" | {seconds(nat, nat.seconds)} | {seconds(conf, conf.seconds)} | "
            f"{seconds(nat, nat.setup_seconds)} | {seconds(conf, conf.setup_seconds)} | {date} |"
        )
    return "\n".join(lines) + "\n"


def page(table: str, rows: list[tuple[Project, dict[str, Side]]]) -> str:
    docker = run(["docker", "version", "--format", "{{.Server.Version}}"]).stdout.strip()
    summary = ", ".join(
        f"{TITLES[c]} matches {sum(matches(s, c) for _, s in rows)} of "
        f"{sum(c in s for _, s in rows)}"
        for c in COLUMNS
    )
    notes = []
    for p, sides in rows:
        for c in COLUMNS:
            if c in sides and c in p.notes and not matches(sides, c):
                whose, why = p.notes[c]
                notes.append(f"- **{p.name}**, {TITLES[c]} ({whose}'s): {why}")
    commits = sorted({s.devbox for _, sides in rows for s in sides.values() if s.devbox})
    return PAGE.format(
        notes="\n".join(["## Differences, and why", "", *notes, "", ""]) if notes else "",
        python=platform.python_version(),
        image=IMAGE.format(python=PYTHON),
        docker=docker,
        summary=summary,
        total=len(rows),
        commits=", ".join(commits) or "?",
        table=table,
    )


PAGE = """# Parity with native runs

devbox is trusted only if it reports what the native tools report. `benchmarks/parity.py`
downloads pinned sdists of real, published projects (their tests included), runs each
project's tests natively and through devbox, and compares pytest's counts.

- **Native**: a fresh venv of Python {python} on the host, `pip install -e .` with the
  project's test extras or dependency groups and the packages its tests need, then
  `pytest --junitxml`.
- **zero-config**: `devbox test -- ARGS` on the unmodified project, given only
  `DEVBOX_BASE_IMAGE` and `DEVBOX_PYTHON`: the test dependencies are what devbox finds in
  the project's own declarations.
- **init**: `devbox init` in a fresh copy (it writes `[tool.devbox]` into pyproject.toml, or
  creates one), then `devbox test -- ARGS` with the same environment as zero-config.
- **configured**: `devbox test -- ARGS` on the unmodified project, configured only by
  `DEVBOX_*` variables (`DEVBOX_GROUPS`, `DEVBOX_EXTRAS`, `DEVBOX_PACKAGES`,
  `DEVBOX_SYSTEM_PACKAGES`) with what native installs.
- All run in the image {image}; every side passes the same pytest arguments, and every
  count comes from pytest's JUnit XML. Times: the native pytest run, and the configured
  column's second run with `--rerun` (dependencies replayed, tests executed); set-up is the
  native venv install and the configured column's first run, which replays the dependency
  stage when an earlier run on the engine built it and installs everything on a cold engine.
  zero-config and init run once each.

{total} projects, docker {docker}, devbox {commits}: {summary}.

{table}
{notes}Reproduce: `python benchmarks/parity.py --out docs/parity.md` (about an hour on a cold
machine; `--only NAME,...` for some projects, `--columns native,zero,init,configured` for
some columns: the results of earlier runs, kept in `--work DIR`, fill the rest of the
table). The projects' code is downloaded into the work directory, never into this
repository.
"""


if __name__ == "__main__":
    sys.exit(main())
