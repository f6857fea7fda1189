"""results.diagnose: why a build failed, decided from progress streams recorded from the real
engine (tests/data/progress/, recorded with dockerd 26.1 / buildx 0.13 on the `clean`
fixture)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import FIXTURES
from devbox.build.plan import Plan
from devbox.build.session import Options, load_plan
from devbox.errors import BuildFailed, EngineUnavailable, EnvironmentError_
from devbox.results import diagnose
from devbox.results.progress import BuildProgress

STREAMS = Path(__file__).parents[1] / "data" / "progress"


def replay(name: str, *, cut: int | None = None, then: str = "") -> BuildProgress:
    """Feed a recorded stream (up to the object ending after line ``cut``; then ``then``)."""
    progress = BuildProgress({})
    lines = (STREAMS / name).read_text(encoding="utf-8").splitlines(keepends=True)
    if cut is not None:  # at the end of a SolveStatus object, as a dying engine leaves it
        lines = lines[: lines.index("}\n", cut) + 1]
    for line in lines:
        progress.feed(line, time.monotonic())
    if then:
        progress.feed(then + "\n", time.monotonic())
    return progress


def clean_plan(**env: str) -> Plan:
    return load_plan(Options(FIXTURES / "clean", "test", {}), env)


def test_a_missing_base_image_is_named_with_the_engines_reason() -> None:
    error = diagnose.build_error(
        clean_plan(DEVBOX_BASE_IMAGE="localhost/devbox-test/nope:1"),
        replay("missing-base-image.jsonl"),
    )
    assert isinstance(error, BuildFailed) and error.exit_code == 3
    assert error.message.startswith(
        "the base image localhost/devbox-test/nope:1 is not available: it is not in the "
        "engine's image store and could not be pulled ("
    )
    assert "connection refused" in error.message
    assert "base-image (or DEVBOX_BASE_IMAGE)" in error.message


def test_a_failed_dependency_step_names_the_step_and_shows_its_output() -> None:
    error = diagnose.build_error(
        clean_plan(DEVBOX_SYSTEM_PACKAGES="no-such-package-xyz"),
        replay("system-package-missing.jsonl"),
    )
    assert isinstance(error, BuildFailed)
    assert error.message == (
        "preparing the environment failed in step 'RUN python3 /devbox/devbox_install.py "
        "system' (installer uv). Its output is below."
    )
    assert "E: Unable to locate package no-such-package-xyz" in error.detail
    assert "--offline" not in error.message


def test_offline_adds_what_to_do_when_a_dependency_step_fails() -> None:
    plan = load_plan(Options(FIXTURES / "clean", "test", {}, offline=True), {})
    error = diagnose.build_error(plan, replay("system-package-missing.jsonl"))
    assert "--offline: this step has no network" in error.message


def test_an_engine_that_stops_answering_is_an_engine_error() -> None:
    # The recorded stream up to the apt step, then what buildx prints when dockerd dies.
    progress = replay(
        "system-package-missing.jsonl",
        cut=200,
        then="ERROR: failed to solve: Unavailable: error reading from server: EOF",
    )
    assert progress.vertexes
    error = diagnose.build_error(clean_plan(), progress)
    assert isinstance(error, EngineUnavailable)
    assert "stopped answering during the build" in error.message


def test_a_build_that_failed_before_any_step() -> None:
    progress = BuildProgress({})
    progress.feed("ERROR: failed to read dockerfile: open Dockerfile: no such file\n", 0.0)
    error = diagnose.build_error(clean_plan(), progress)
    assert type(error) is EnvironmentError_
    assert error.message == "the build failed before any step ran."
    assert "failed to read dockerfile" in error.detail


@pytest.mark.parametrize("offline", [False, True])
def test_environment_messages(offline: bool) -> None:
    from devbox.results.model import Environment

    plan = load_plan(Options(FIXTURES / "clean", "test", {}, offline=offline), {})
    failed = Environment("3.11", "img", cached=False, ok=False, log="pip: no such dist")
    text = diagnose.environment_message(plan, failed)
    assert text.startswith("--offline: installing" if offline else "installing the dependencies")
