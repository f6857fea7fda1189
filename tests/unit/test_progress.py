"""BuildProgress: parsing buildx's ``--progress=rawjson`` stream into per-tool states."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from devbox.results.progress import LOG_LIMIT, BuildProgress, Vertex
from helpers import tool_run

#: recorded before the Python matrix: stages are "tool-ruff" and "test-base" there
SAMPLE = Path(__file__).parent.parent / "data" / "rawjson-sample.txt"


def run_step(stage: str, python: str = "3.11") -> str:
    return f"[{stage} 1/1] RUN --mount=type=bind,target=/src,rw /opt/devbox/venv/bin/python /devbox/run.py {python}"


def base_install(python: str) -> str:
    return f"[test-base-{python} 3/4] RUN --mount=type=cache,id=devbox-pip,target=/root/.cache/pip python3 /devbox/devbox_install.py deps {python}"


RUNS = (tool_run("ruff"), tool_run("pytest"))
#: what the runner passes: stage → key
STAGES = {r.stage: r.key for r in RUNS}

RUFF_RUN = run_step("tool-ruff-3.11")
PYTEST_RUN = run_step("tool-pytest-3.11")
BASE_FROM = "[test-base-3.11 1/4] FROM localhost/devbox-test/python:3.11"
BASE_INSTALL = base_install("3.11")
RESULTS_COPY = "[results 1/2] COPY --from=tool-ruff-3.11 /devbox/out/ /"


def vertex(digest: str, name: str, **flags: Any) -> dict[str, Any]:
    v: dict[str, Any] = {"digest": digest, "name": name}
    for key, value in flags.items():
        # buildx sends timestamps for started/completed; anything truthy counts
        v[key] = "2026-11-29T00:45:23.0Z" if value is True and key != "cached" else value
    return v


def log(digest: str, data: bytes, stream: int = 1) -> dict[str, Any]:
    return {"vertex": digest, "stream": stream, "data": base64.b64encode(data).decode()}


def feed_obj(bp: BuildProgress, obj: dict[str, Any], now: float = 0.0) -> bool:
    """Feed one SolveStatus the way buildx 0.13 prints it: pretty-printed, line by line."""
    changed = False
    for line in json.dumps(obj, indent=2).splitlines(keepends=True):
        changed = bp.feed(line, now) or changed
    return changed


def states(bp: BuildProgress) -> dict[str, str]:
    return {name: t.state for name, t in bp.tools.items()}


# --- decoding the stream -------------------------------------------------------------------


def test_pretty_printed_object_is_decoded_only_once_complete() -> None:
    bp = BuildProgress(STAGES)
    lines = json.dumps(
        {"vertexes": [vertex("sha256:a", RUFF_RUN, started=True)]}, indent=2
    ).splitlines(keepends=True)
    assert len(lines) > 3
    for line in lines[:-1]:
        assert bp.feed(line, 1.0) is False
        assert bp.vertexes == {}
    assert bp.feed(lines[-1], 1.0) is True
    assert list(bp.vertexes) == ["sha256:a"]
    assert bp.vertexes["sha256:a"].name == RUFF_RUN
    assert bp.tools["ruff@3.11"].state == "running"
    assert bp.text_lines == []


def test_object_split_mid_line_across_feeds() -> None:
    bp = BuildProgress(STAGES)
    text = json.dumps({"vertexes": [vertex("sha256:a", RUFF_RUN, started=True)]}) + "\n"
    cut = text.index(RUFF_RUN) + 5  # inside a string value
    assert bp.feed(text[:cut], 1.0) is False
    assert bp.vertexes == {}
    assert bp.feed(text[cut:], 1.0) is True
    assert bp.vertexes["sha256:a"].name == RUFF_RUN
    assert bp.tools["ruff@3.11"].state == "running"


def test_compact_objects_one_per_line_and_back_to_back() -> None:
    bp = BuildProgress(STAGES)
    a = json.dumps({"vertexes": [vertex("sha256:a", BASE_FROM)]})
    b = json.dumps({"vertexes": [vertex("sha256:b", RUFF_RUN)]})
    bp.feed(a + "\n", 0.0)
    bp.feed(b + b.replace("sha256:b", "sha256:c").replace("tool-ruff", "tool-pytest") + "\n", 0.0)
    assert bp.order == ["sha256:a", "sha256:b", "sha256:c"]
    assert bp.vertexes["sha256:c"].stage == "tool-pytest-3.11"


def test_non_json_lines_are_kept_as_text() -> None:
    bp = BuildProgress(STAGES)
    assert bp.feed("#0 building with default instance\n", 0.0) is False
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN, started=True)]})
    assert bp.feed("\n", 0.0) is False
    assert bp.feed("   \n", 0.0) is False
    assert bp.feed("ERROR: failed to solve: process did not complete successfully\n", 0.0) is False
    assert bp.text_lines == [
        "#0 building with default instance",
        "ERROR: failed to solve: process did not complete successfully",
    ]
    # the JSON between them was still parsed
    assert bp.tools["ruff@3.11"].state == "running"


def test_non_dict_json_and_unknown_keys_are_ignored() -> None:
    bp = BuildProgress(STAGES)
    assert (
        feed_obj(bp, {"statuses": [{"id": "x", "vertex": "sha256:nope"}], "warnings": []}) is False
    )
    assert feed_obj(bp, {"vertexes": None, "logs": None}) is False
    assert bp.vertexes == {}
    assert bp.text_lines == []
    assert states(bp) == {"ruff@3.11": "queued", "pytest@3.11": "queued"}


def sample_lines(python: str | None) -> list[str]:
    """The recorded stream; with ``python``, its stages renamed as the matrix names them."""
    text = SAMPLE.read_text(encoding="utf-8")
    if python is not None:
        renamed = re.sub(r"\[(tool-[a-z-]+|test-base) ", rf"[\1-{python} ", text)
        assert renamed != text
        text = renamed
    return text.splitlines(keepends=True)


@pytest.mark.parametrize("python", [None, "3.11"])
def test_real_buildx_sample_all_cached(python: str | None) -> None:
    suffix = f"-{python}" if python else ""
    names = ("ruff", "ruff-format", "pytest")
    keys = {name: f"{name}@{python}" if python else name for name in names}
    bp = BuildProgress({f"tool-{name}{suffix}": keys[name] for name in names})
    changes = 0
    for line in sample_lines(python):
        changes += bp.feed(line, 5.0)
    assert bp.text_lines == []
    assert states(bp) == {keys[name]: "cached" for name in names}
    assert changes >= 1
    for t in bp.tools.values():
        assert t.started_at == 5.0
        assert t.ended_at == 5.0
    stages = {v.stage for v in bp.vertexes.values()}
    assert {
        "internal",
        f"test-base{suffix}",
        f"tool-ruff{suffix}",
        f"tool-ruff-format{suffix}",
        f"tool-pytest{suffix}",
        "results",
    } <= stages
    assert len(bp.stage_vertexes(f"test-base{suffix}")) == 4
    assert bp.stage_cached(f"test-base{suffix}") is True
    assert bp.failed_vertex() is None
    # vertex updates were merged by digest, not appended
    assert len(bp.order) == len(set(bp.order)) == len(bp.vertexes)


# --- vertexes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stage"),
    [
        (RUFF_RUN, "tool-ruff-3.11"),
        ("[tool-ruff-format-3.13 1/1] RUN x", "tool-ruff-format-3.13"),
        ("[tool-ruff 1/1] RUN x", "tool-ruff"),
        (BASE_INSTALL, "test-base-3.11"),
        (base_install("3.14t"), "test-base-3.14t"),
        ("[test-base 3/4] RUN x", "test-base"),
        ("[internal] load build definition from Dockerfile", "internal"),
        ("[context devbox] load from client", None),
        ("exporting to client directory", None),
        ("", None),
    ],
)
def test_vertex_stage(name: str, stage: str | None) -> None:
    assert Vertex("d", name).stage == stage


def test_vertex_updates_are_merged_by_digest() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN), vertex("sha256:b", BASE_FROM)]})
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN, started=True)]})
    # an update without a name keeps the known name; flags never go back to false
    feed_obj(bp, {"vertexes": [{"digest": "sha256:a", "completed": "t", "started": None}]})
    feed_obj(bp, {"vertexes": [{"digest": "sha256:a", "error": "boom"}]})
    feed_obj(bp, {"vertexes": [{"digest": "sha256:a", "error": ""}]})
    assert bp.order == ["sha256:a", "sha256:b"]
    a = bp.vertexes["sha256:a"]
    assert a.name == RUFF_RUN
    assert a.started is True
    assert a.completed is True
    assert a.cached is False
    assert a.error == "boom"
    b = bp.vertexes["sha256:b"]
    assert (b.started, b.completed, b.error) == (False, False, "")


def test_logs_are_decoded_and_appended_per_vertex() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN), vertex("sha256:b", PYTEST_RUN)]})
    feed_obj(bp, {"logs": [log("sha256:a", b"hello "), log("sha256:b", b"other")]})
    feed_obj(bp, {"logs": [log("sha256:a", b"world\n", stream=2)]})
    # logs of unknown vertexes and undecodable data are dropped
    feed_obj(bp, {"logs": [log("sha256:zzz", b"lost"), {"vertex": "sha256:a", "data": "abc"}]})
    assert bytes(bp.vertexes["sha256:a"].logs) == b"hello world\n"
    assert bytes(bp.vertexes["sha256:b"].logs) == b"other"
    assert "sha256:zzz" not in bp.vertexes


def test_logs_are_truncated_to_the_tail() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN, started=True)]})
    chunk = b"x" * (LOG_LIMIT // 2 + 10)
    feed_obj(bp, {"logs": [log("sha256:a", b"HEAD" + chunk)]})
    feed_obj(bp, {"logs": [log("sha256:a", chunk + b"\ndevbox-exit-code: 0\n")]})
    logs = bytes(bp.vertexes["sha256:a"].logs)
    assert len(logs) == LOG_LIMIT
    assert not logs.startswith(b"HEAD")
    assert logs.endswith(b"\ndevbox-exit-code: 0\n")
    # the marker at the end survives truncation, so the outcome is still known
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN, completed=True)]})
    assert bp.tools["ruff@3.11"].state == "passed"


# --- tool states ---------------------------------------------------------------------------


def test_tool_lifecycle_installing_running_passed() -> None:
    """Tool steps not yet in the stream: a running test-base step means "installing"."""
    bp = BuildProgress(STAGES)
    assert feed_obj(bp, {"vertexes": [vertex("sha256:base", BASE_INSTALL)]}, 1.0) is False
    assert states(bp) == {"ruff@3.11": "queued", "pytest@3.11": "queued"}

    assert feed_obj(bp, {"vertexes": [vertex("sha256:base", BASE_INSTALL, started=True)]}, 2.0)
    assert states(bp) == {"ruff@3.11": "installing", "pytest@3.11": "installing"}
    assert bp.tools["ruff@3.11"].started_at is None

    feed_obj(bp, {"vertexes": [vertex("sha256:base", BASE_INSTALL, completed=True)]}, 3.0)
    assert feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]}, 4.0) is True
    assert bp.tools["ruff@3.11"].state == "running"
    assert bp.tools["ruff@3.11"].started_at == 4.0
    assert bp.tools["ruff@3.11"].ended_at is None

    feed_obj(bp, {"logs": [log("sha256:r", b"All checks passed!\n")]}, 5.0)
    feed_obj(bp, {"logs": [log("sha256:r", b"\ndevbox-exit-code: 0\n")]}, 6.0)
    assert bp.tools["ruff@3.11"].state == "running"  # not completed yet
    assert feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, completed=True)]}, 7.5) is True
    ruff = bp.tools["ruff@3.11"]
    assert (ruff.state, ruff.started_at, ruff.ended_at) == ("passed", 4.0, 7.5)
    # later updates do not move the timestamps
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True, completed=True)]}, 9.0)
    assert (ruff.started_at, ruff.ended_at) == (4.0, 7.5)
    assert bp.tools["pytest@3.11"].state == "installing"


def test_tool_shows_installing_when_all_vertexes_are_announced_up_front() -> None:
    """BuildKit announces every vertex of the graph (unstarted) before any of them runs.

    tests/data/rawjson-sample.txt shows it: the tool-* RUN vertexes arrive, without
    "started", before test-base 3/4 starts.  While test-base installs, tools are "installing".
    """
    bp = BuildProgress(STAGES)
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:r", RUFF_RUN),
                vertex("sha256:p", PYTEST_RUN),
                vertex("sha256:from", BASE_FROM),
                vertex("sha256:base", BASE_INSTALL),
                vertex("sha256:res", RESULTS_COPY),
            ]
        },
        1.0,
    )
    assert states(bp) == {"ruff@3.11": "queued", "pytest@3.11": "queued"}
    feed_obj(
        bp, {"vertexes": [vertex("sha256:from", BASE_FROM, started=True, completed=True)]}, 2.0
    )
    assert feed_obj(bp, {"vertexes": [vertex("sha256:base", BASE_INSTALL, started=True)]}, 3.0)
    assert states(bp) == {"ruff@3.11": "installing", "pytest@3.11": "installing"}


def test_failed_from_exit_code_marker() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:p", PYTEST_RUN, started=True)]}, 1.0)
    # the tool's own output mentioning the marker does not count; the last one does
    feed_obj(bp, {"logs": [log("sha256:p", b"devbox-exit-code: 0 (printed by a test)\n")]}, 1.5)
    feed_obj(bp, {"logs": [log("sha256:p", b"1 failed\n\ndevbox-exit-code: 1\n")]}, 2.0)
    assert feed_obj(bp, {"vertexes": [vertex("sha256:p", PYTEST_RUN, completed=True)]}, 3.0)
    p = bp.tools["pytest@3.11"]
    assert (p.state, p.started_at, p.ended_at) == ("failed", 1.0, 3.0)
    assert bp.tools["ruff@3.11"].state == "queued"


def test_marker_split_across_log_chunks() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]})
    feed_obj(bp, {"logs": [log("sha256:r", b"\ndevbox-exit-")]})
    feed_obj(bp, {"logs": [log("sha256:r", b"code: 0\n")]})
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, completed=True)]})
    assert bp.tools["ruff@3.11"].state == "passed"


def test_negative_exit_code_and_missing_marker_are_failures() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]})
    feed_obj(bp, {"vertexes": [vertex("sha256:p", PYTEST_RUN, started=True)]})
    feed_obj(bp, {"logs": [log("sha256:r", b"devbox-exit-code: -9\n")]})
    feed_obj(bp, {"logs": [log("sha256:p", b"no marker here\n")]})
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:r", RUFF_RUN, completed=True),
                vertex("sha256:p", PYTEST_RUN, completed=True),
            ]
        },
    )
    assert states(bp) == {"ruff@3.11": "failed", "pytest@3.11": "failed"}


def test_cached_tool_step() -> None:
    bp = BuildProgress(STAGES)
    changed = feed_obj(
        bp,
        {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True, completed=True, cached=True)]},
        2.0,
    )
    assert changed is True
    r = bp.tools["ruff@3.11"]
    assert (r.state, r.started_at, r.ended_at) == ("cached", 2.0, 2.0)


def test_error_vertex_makes_error_state() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]}, 1.0)
    feed_obj(bp, {"logs": [log("sha256:r", b"\ndevbox-exit-code: 0\n")]}, 1.0)
    feed_obj(
        bp,
        {"vertexes": [vertex("sha256:r", RUFF_RUN, completed=True, error="exit code: 137")]},
        4.0,
    )
    r = bp.tools["ruff@3.11"]
    assert (r.state, r.started_at, r.ended_at) == ("error", 1.0, 4.0)


def test_only_the_run_step_of_a_tool_stage_counts() -> None:
    bp = BuildProgress(STAGES)
    copy = "[tool-ruff-3.11 1/2] COPY foo /bar"
    feed_obj(bp, {"vertexes": [vertex("sha256:c", copy, started=True, completed=True)]}, 1.0)
    assert bp.tools["ruff@3.11"].state == "queued"
    assert bp.tools["ruff@3.11"].started_at is None
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN.replace("1/1", "2/2"), started=True)]})
    assert bp.tools["ruff@3.11"].state == "running"


def test_feed_reports_change_only_on_state_change() -> None:
    bp = BuildProgress(STAGES)
    assert feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]}) is True
    assert feed_obj(bp, {"logs": [log("sha256:r", b"some output\n")]}) is False
    assert feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]}) is False


# --- the Python matrix ---------------------------------------------------------------------

MATRIX = (tool_run("ruff", "3.11"), tool_run("pytest", "3.11"), tool_run("pytest", "3.13"))


def test_matrix_stages_and_keys() -> None:
    bp = BuildProgress({r.stage: r.key for r in MATRIX})
    assert bp.tool_stages == {
        "tool-ruff-3.11": "ruff@3.11",
        "tool-pytest-3.11": "pytest@3.11",
        "tool-pytest-3.13": "pytest@3.13",
    }
    assert states(bp) == {"ruff@3.11": "queued", "pytest@3.11": "queued", "pytest@3.13": "queued"}


def test_matrix_versions_of_one_tool_are_tracked_apart() -> None:
    bp = BuildProgress({r.stage: r.key for r in MATRIX})
    p311, p313 = run_step("tool-pytest-3.11"), run_step("tool-pytest-3.13", "3.13")
    feed_obj(bp, {"vertexes": [vertex("sha256:a", p311, started=True)]}, 1.0)
    assert states(bp) == {"ruff@3.11": "queued", "pytest@3.11": "running", "pytest@3.13": "queued"}
    feed_obj(bp, {"vertexes": [vertex("sha256:b", p313, started=True)]}, 2.0)
    feed_obj(bp, {"logs": [log("sha256:a", b"\ndevbox-exit-code: 0\n")]}, 3.0)
    feed_obj(bp, {"logs": [log("sha256:b", b"\ndevbox-exit-code: 1\n")]}, 3.0)
    feed_obj(bp, {"vertexes": [vertex("sha256:b", p313, completed=True)]}, 4.0)
    assert bp.tools["pytest@3.13"].state == "failed"
    assert bp.tools["pytest@3.11"].state == "running"
    feed_obj(bp, {"vertexes": [vertex("sha256:a", p311, completed=True)]}, 5.0)
    a, b = bp.tools["pytest@3.11"], bp.tools["pytest@3.13"]
    assert (a.state, a.started_at, a.ended_at) == ("passed", 1.0, 5.0)
    assert (b.state, b.started_at, b.ended_at) == ("failed", 2.0, 4.0)
    assert bp.tools["ruff@3.11"].state == "queued"


def test_matrix_old_stage_names_are_not_a_tool() -> None:
    """A pre-matrix stage name ("tool-pytest") is not the stage of pytest@3.11."""
    bp = BuildProgress({r.stage: r.key for r in MATRIX})
    old = "[tool-pytest 1/1] RUN /opt/devbox/venv/bin/python /devbox/run.py"
    assert feed_obj(bp, {"vertexes": [vertex("sha256:a", old, started=True)]}) is False
    assert set(states(bp).values()) == {"queued"}


def test_installing_while_any_versions_base_installs() -> None:
    bp = BuildProgress({r.stage: r.key for r in MATRIX})
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:b311", base_install("3.11"), started=True, completed=True),
                vertex("sha256:r", RUFF_RUN),
                vertex("sha256:p311", PYTEST_RUN),
                vertex("sha256:p313", run_step("tool-pytest-3.13", "3.13")),
            ]
        },
        1.0,
    )
    # 3.11 is installed, 3.13 not started: nothing installs yet
    assert set(states(bp).values()) == {"queued"}
    assert feed_obj(bp, {"vertexes": [vertex("sha256:b313", base_install("3.13"), started=True)]})
    assert set(states(bp).values()) == {"installing"}
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True)]}, 2.0)
    feed_obj(bp, {"vertexes": [vertex("sha256:b313", base_install("3.13"), completed=True)]})
    assert states(bp) == {
        "ruff@3.11": "running",
        "pytest@3.11": "installing",
        "pytest@3.13": "installing",
    }


def test_other_stages_running_is_not_installing() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:r", RUFF_RUN),
                vertex("sha256:i", "[internal] load build context", started=True),
                vertex("sha256:x", "[results 1/2] COPY x /", started=True),
                vertex("sha256:t", "[testing 1/1] RUN x", started=True),
            ]
        },
    )
    assert states(bp) == {"ruff@3.11": "queued", "pytest@3.11": "queued"}


def test_environment_error_marker_makes_error_state() -> None:
    """The tool step of a version whose install failed prints the marker and exits 0."""
    bp = BuildProgress({r.stage: r.key for r in MATRIX})
    p313 = run_step("tool-pytest-3.13", "3.13")
    feed_obj(bp, {"vertexes": [vertex("sha256:p", p313, started=True)]}, 1.0)
    feed_obj(bp, {"logs": [log("sha256:p", b"\ndevbox-environment-error\n")]}, 1.5)
    # not decided before the step completes
    assert bp.tools["pytest@3.13"].state == "running"
    assert feed_obj(bp, {"vertexes": [vertex("sha256:p", p313, completed=True)]}, 2.0) is True
    p = bp.tools["pytest@3.13"]
    assert (p.state, p.started_at, p.ended_at) == ("error", 1.0, 2.0)
    assert bp.tools["pytest@3.11"].state == "queued"


def test_environment_error_marker_in_other_tool_only() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:r", RUFF_RUN, started=True),
                vertex("sha256:p", PYTEST_RUN, started=True),
            ]
        },
    )
    feed_obj(
        bp,
        {
            "logs": [
                log("sha256:r", b"\ndevbox-environment-error\n"),
                log("sha256:p", b"\ndevbox-exit-code: 0\n"),
            ]
        },
    )
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:r", RUFF_RUN, completed=True),
                vertex("sha256:p", PYTEST_RUN, completed=True),
            ]
        },
    )
    assert states(bp) == {"ruff@3.11": "error", "pytest@3.11": "passed"}


def test_vertex_timestamps_first_start_last_completion() -> None:
    bp = BuildProgress(STAGES)
    t0, t1, t2 = "2026-11-29T00:45:23Z", "2026-11-29T00:45:24.5Z", "2026-11-29T00:45:26+00:00"
    feed_obj(bp, {"vertexes": [{"digest": "sha256:r", "name": RUFF_RUN, "started": t0}]})
    v = bp.vertexes["sha256:r"]
    assert (v.started_at, v.completed_at, v.duration_s) == (t0, "", None)
    feed_obj(bp, {"vertexes": [{"digest": "sha256:r", "started": t1, "completed": t1}]})
    assert (v.started_at, v.completed_at) == (t0, t1)
    assert v.duration_s == pytest.approx(1.5)
    # an update without timestamps keeps them
    feed_obj(bp, {"vertexes": [{"digest": "sha256:r", "name": RUFF_RUN}]})
    assert (v.started_at, v.completed_at) == (t0, t1)
    feed_obj(bp, {"vertexes": [{"digest": "sha256:r", "completed": t2}]})
    assert v.completed_at == t2
    assert v.duration_s == pytest.approx(3.0)


def test_vertex_duration_across_time_zones() -> None:
    v = Vertex(
        "d",
        started_at="2026-11-29T01:00:00.999999999+01:00",
        completed_at="2026-11-29T00:00:02.5Z",
    )
    assert v.duration_s == pytest.approx(1.500001, abs=1e-6)
    assert Vertex("d", completed_at="2026-11-29T00:00:02Z").duration_s is None


def test_stage_cached_per_version() -> None:
    bp = BuildProgress({r.stage: r.key for r in MATRIX})
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:f", "[test-base-3.13 1/4] FROM python:3.13", started=True),
                vertex("sha256:a", base_install("3.11"), completed=True, cached=True),
                vertex("sha256:b", base_install("3.13"), started=True, completed=True),
            ]
        },
    )
    assert bp.stage_cached("test-base-3.11") is True
    assert bp.stage_cached("test-base-3.13") is False
    # a stage with no RUN step seen is not "cached"
    assert bp.stage_cached("test-base-3.12") is False


# --- failed_vertex -------------------------------------------------------------------------


def test_failed_vertex_none_without_errors() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, started=True, completed=True)]})
    assert bp.failed_vertex() is None


def test_failed_vertex_prefers_real_error_over_cancellation() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex("sha256:r", RUFF_RUN, started=True),
                vertex("sha256:base", BASE_INSTALL, started=True),
            ]
        },
    )
    feed_obj(
        bp, {"vertexes": [vertex("sha256:r", RUFF_RUN, completed=True, error="context canceled")]}
    )
    feed_obj(
        bp,
        {
            "vertexes": [
                vertex(
                    "sha256:base",
                    BASE_INSTALL,
                    completed=True,
                    error='process "/bin/sh -c python3 install.py" did not complete successfully: exit code: 1',
                )
            ]
        },
    )
    v = bp.failed_vertex()
    assert v is not None
    assert v.digest == "sha256:base"
    assert v.stage == "test-base-3.11"


def test_failed_vertex_first_real_error_wins() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN, error="first")]})
    feed_obj(bp, {"vertexes": [vertex("sha256:b", PYTEST_RUN, error="second")]})
    v = bp.failed_vertex()
    assert v is not None
    assert v.error == "first"


def test_failed_vertex_falls_back_to_cancellation() -> None:
    bp = BuildProgress(STAGES)
    feed_obj(bp, {"vertexes": [vertex("sha256:a", RUFF_RUN)]})
    feed_obj(
        bp, {"vertexes": [vertex("sha256:b", PYTEST_RUN, error="rpc error: context canceled")]}
    )
    v = bp.failed_vertex()
    assert v is not None
    assert v.digest == "sha256:b"


def test_vertex_duration_from_buildkit_timestamps() -> None:
    progress = BuildProgress({})
    digest = "sha256:" + "a" * 64
    for data in (
        {
            "digest": digest,
            "name": "[test-base-3.11 3/3] RUN x",
            "started": "2026-11-29T00:45:23.056908924Z",
        },
        {
            "digest": digest,
            "name": "[test-base-3.11 3/3] RUN x",
            "started": "2026-11-29T00:45:23.056908924Z",
            "completed": "2026-11-29T00:45:25.306908999Z",
        },
    ):
        progress.feed(json.dumps({"vertexes": [data]}), 0.0)
    assert progress.vertexes[digest].duration_s == pytest.approx(2.25, abs=1e-5)
    assert progress.stage_cached("test-base-3.11") is False


def test_marker_text_in_a_tools_own_output_does_not_decide_its_state() -> None:
    digest = "sha256:" + "b" * 64
    progress = BuildProgress({"tool-pytest-3.11": "pytest@3.11"})
    logs = b'checking "devbox-environment-error" handling\ndevbox-environment-error\n1 passed\n\ndevbox-exit-code: 0\n'
    vertex = {
        "digest": digest,
        "name": "[tool-pytest-3.11 1/1] RUN /opt/devbox/venv/bin/python /devbox/run.py 3.11",
    }
    progress.feed(json.dumps({"vertexes": [{**vertex, "started": "2026-11-29T00:00:00Z"}]}), 0.0)
    progress.feed(
        json.dumps(
            {"logs": [{"vertex": digest, "stream": 1, "data": base64.b64encode(logs).decode()}]}
        ),
        0.0,
    )
    progress.feed(
        json.dumps(
            {
                "vertexes": [
                    {
                        **vertex,
                        "started": "2026-11-29T00:00:00Z",
                        "completed": "2026-11-29T00:00:01Z",
                    }
                ]
            }
        ),
        1.0,
    )
    assert progress.tools["pytest@3.11"].state == "passed"
