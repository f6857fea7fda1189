"""Shared fixtures: the engine guard, the unit/engine split, and a runner for the real CLI.

The helpers that build projects, configurations and results are in tests/helpers.py.
This module imports nothing of devbox, so that every test session can start.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
#: The local images scripts/provision-engine.sh makes (no registry is reachable in CI).
TEST_IMAGE = "localhost/devbox-test/python:{python}"


def engine_problem() -> str | None:
    """Why no engine can be used here, or None when one answers and buildx is present."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
        if info.returncode != 0:
            return (
                "no Docker engine answers (`docker info` failed): run scripts/provision-engine.sh"
            )
        bx = subprocess.run(
            ["docker", "buildx", "version"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "`docker info` timed out"
    if bx.returncode != 0:
        return "the docker buildx plugin is missing: run scripts/provision-engine.sh"
    return None


UNIT = TESTS / "unit"
ENGINE = TESTS / "engine"
#: What a unit test must not run (the basename of argv[0], or of ``executable=``).
DOCKER_PROGRAMS = frozenset({"docker", "docker-buildx"})


def misplaced(item: pytest.Item) -> str | None:
    """Why ``item`` breaks the split, or None: tests/unit never carries the `engine` marker,
    tests/engine always does (``pytestmark = pytest.mark.engine``)."""
    engine = item.get_closest_marker("engine") is not None
    if engine and item.path.is_relative_to(UNIT):
        return "is under tests/unit but marked `engine`: move it to tests/engine"
    if not engine and item.path.is_relative_to(ENGINE):
        return "is under tests/engine but not marked `engine` (pytestmark = pytest.mark.engine)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Enforce the unit/engine split (a usage error naming every misplaced test), then run
    the tests that kill and restart the engine last, whatever their file."""
    wrong = [f"{item.nodeid} {why}" for item in items if (why := misplaced(item)) is not None]
    if wrong:
        raise pytest.UsageError(
            "tests on the wrong side of the unit/engine split:\n  " + "\n  ".join(wrong)
        )
    items.sort(key=lambda item: item.get_closest_marker("kills_engine") is not None)


def need(what: str, problem: str | None) -> None:
    """Skip the test when ``problem`` says why ``what`` cannot be had here; fail it instead
    when CI is set."""
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and the tests need {what}, but {problem}.", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def engine() -> None:
    need("a Docker engine", engine_problem())


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and directory under ``root``: mode and content hash."""
    result: dict[str, tuple[int, str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        result[path.relative_to(root).as_posix()] = (st.st_mode, digest)
    return result


def program(args: Any, executable: Any = None, shell: bool = False) -> str:
    """The basename of the program a ``subprocess.Popen(args, ...)`` call runs."""
    if executable is not None:
        first: Any = executable
    elif isinstance(args, (str, bytes, os.PathLike)):
        first = args
        if shell:
            text = os.fsdecode(args)
            first = (shlex.split(text) or [""])[0]
    else:
        first = next(iter(args), "")
    return os.path.basename(os.fsdecode(first))


class _NoDockerPopen(subprocess.Popen):  # type: ignore[type-arg]
    """subprocess.Popen for unit tests: running docker or docker-buildx fails the test."""

    def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
        name = program(args, kwargs.get("executable"), bool(kwargs.get("shell")))
        if name in DOCKER_PROGRAMS:
            pytest.fail(
                f"a unit test ran {name} ({args!r}): unit tests run without an engine. "
                "Fake the command, or move the test to tests/engine.",
                pytrace=True,
            )
        super().__init__(args, *rest, **kwargs)


@pytest.fixture(autouse=True)
def _no_docker_in_unit_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under tests/unit, any attempt to run `docker` fails loudly; other programs run."""
    if request.node.path.is_relative_to(UNIT):
        monkeypatch.setattr(subprocess, "Popen", _NoDockerPopen)


@pytest.fixture(autouse=True)
def _engine_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked `engine` need the engine and must leave every fixture tree as it was."""
    if request.node.get_closest_marker("engine") is None:
        yield
        return
    request.getfixturevalue("engine")
    before = snapshot(FIXTURES)
    yield
    after = snapshot(FIXTURES)
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"devbox changed the fixture trees: {changed[:10]}"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None

    def tool(self, name: str) -> dict[str, Any]:
        assert self.report is not None, self.stdout + self.stderr
        return next(t for t in self.report["tools"] if t["name"] == name)

    def tool_at(self, name: str, python: str) -> dict[str, Any]:
        assert self.report is not None, self.stdout + self.stderr
        return next(t for t in self.report["tools"] if t["name"] == name and t["python"] == python)


@pytest.fixture(scope="session")
def devbox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("devbox-cache")


def cli_env(cache: Path, cwd: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the CLI runs in: no DEVBOX_* of the caller's, the local test images."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVBOX_")}
    env.update(
        DEVBOX_BASE_IMAGE=TEST_IMAGE,
        DEVBOX_CACHE_DIR=str(cache),
        NO_COLOR="1",
        COLUMNS="200",
        PWD=str(cwd),
    )
    env.update(extra or {})
    return env


def run_cli(cache: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m devbox ARGS`` as a user runs it, without a terminal or stdin."""
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args],
        cwd=cwd,
        env=cli_env(cache, cwd),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def devbox(devbox_cache: Path, tmp_path: Path) -> Any:
    """Run the real CLI (``python -m devbox``) as a user would, and read its JSON report."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None, report: bool = True) -> Run:
        full_env = cli_env(devbox_cache, cwd, env)
        argv = [sys.executable, "-m", "devbox", *args]
        report_path = tmp_path / "report.json"
        if report and args and args[0] in ("lint", "test", "check"):
            argv[3:4] = [args[0], "--report-json", str(report_path)]
        proc = subprocess.run(
            argv, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=900
        )
        data = json.loads(report_path.read_text()) if report_path.exists() else None
        if report_path.exists():
            report_path.unlink()
        return Run(proc.returncode, proc.stdout, proc.stderr, data)

    return run


# -- a local registry and a second engine (tests/infra.py) -------------------------------------

import infra  # noqa: E402  (appended section: infra.py is a plain module beside this file)

#: The base images the second engine gets from the main one (it can pull only from `registry`).
SECOND_ENGINE_IMAGES = (TEST_IMAGE.format(python="3.11"),)


@pytest.fixture(scope="session")
def registry(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real registry (Debian's docker-registry) on 127.0.0.1: yields "127.0.0.1:PORT"."""
    need("a local registry", infra.infra_problem(registry=True, second_engine=False))
    with infra.registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="session")
def second_engine(
    engine: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[infra.SecondEngine]:
    """A second dockerd standing in for a remote builder (an `infra.SecondEngine`), with
    SECOND_ENGINE_IMAGES copied in; afterwards the main engine must still run containers."""
    need("a second Docker engine", infra.infra_problem(registry=False, second_engine=True))
    with infra.second_engine(
        tmp_path_factory.mktemp("second-engine"), f"devbox-remote-{os.getpid()}"
    ) as eng:
        for image in SECOND_ENGINE_IMAGES:
            infra.copy_image(None, eng, image)
        yield eng
    main = subprocess.run(
        ["docker", "run", "--rm", SECOND_ENGINE_IMAGES[0], "true"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert main.returncode == 0, f"the main engine no longer runs containers: {main.stderr}"
