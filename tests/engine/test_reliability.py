"""Faults against the real engine: concurrency, huge output, missing commands, interruption,
and (last, see conftest) the engine dying mid-build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES, REPO, cli_env
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def start(
    args: list[str], cwd: Path, cache: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "devbox", *args], cwd=cwd, env=cli_env(cache, cwd, env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(proc: subprocess.Popen[str], text: str) -> str:
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"never saw {text!r}:\n" + "".join(seen))


def test_two_runs_of_one_project_at_once_each_report_their_own(
    devbox_cache: Path, tmp_path: Path
) -> None:
    project = FIXTURES / "failing_test"
    reports = [tmp_path / "a.json", tmp_path / "b.json"]
    procs = [
        start(
            ["test", "--report-json", str(reports[0]), "--", "-k", "test_one"],
            project,
            devbox_cache,
        ),
        start(
            ["test", "--report-json", str(reports[1]), "--", "-k", "test_wrong"],
            project,
            devbox_cache,
        ),
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 1], outs
    a, b = (json.loads(r.read_text()) for r in reports)
    assert a["tools"][0]["tests"] == {"passed": 1, "failed": 0, "skipped": 0, "errors": 0}
    assert b["tools"][0]["tests"] == {"passed": 0, "failed": 1, "skipped": 0, "errors": 0}
    assert "1 failed" in outs[1][0] and "1 failed" not in outs[0][0]


NOISY = (
    "import sys; w = sys.stdout.buffer.write; line = b'x' * 99 + b'\\n'\n"
    "for i in range(520000): w(line)\n"
    "w(b'bad utf-8: \\xff\\xfe and \\x1b[31mred\\x1b[0m\\nlast line\\n'); sys.exit(1)"
)


def test_huge_and_binary_output_shows_the_tail_and_keeps_the_whole(devbox: Any) -> None:
    tools = '{ noisy = { command = ["python", "-c", ' + json.dumps(NOISY) + "] } }"
    started = time.monotonic()
    run = devbox(
        "lint", cwd=FIXTURES / "clean", env={"DEVBOX_TOOLS": tools, "DEVBOX_LINT": "noisy"}
    )
    assert run.returncode == 1, run.stderr
    assert time.monotonic() - started < 300
    assert run.tool("noisy")["exit_code"] == 1
    assert "last line" in run.stdout and "bad utf-8: \ufffd\ufffd and red" in run.stdout
    assert "\x1b[" not in run.stdout
    assert len(run.stdout) < 200_000  # the tail, not 50 MB
    marker = next(line for line in run.stdout.splitlines() if "full output: " in line)
    log = Path(marker.split("full output: ", 1)[1].rstrip("]"))
    assert log.stat().st_size > 50_000_000


def test_a_command_missing_from_the_image_is_exit_127_with_a_hint(devbox: Any) -> None:
    tools = '{ ghost = { command = ["no-such-tool-xyz", "--check"] } }'
    run = devbox(
        "lint", cwd=FIXTURES / "clean", env={"DEVBOX_TOOLS": tools, "DEVBOX_LINT": "ghost"}
    )
    assert run.returncode == 1
    assert run.tool("ghost")["exit_code"] == 127
    assert "ghost failed (exit code 127" in run.stdout
    assert (
        "cannot run no-such-tool-xyz" in run.stdout
        and "Add it to the tool's 'packages'" in run.stdout
    )


def test_a_second_ctrl_c_exits_at_once_and_the_next_run_works(
    devbox: Any, devbox_cache: Path
) -> None:
    project = FIXTURES / "slow"
    proc = start(["test", "--rerun"], project, devbox_cache)  # never a replay of the slow step
    wait_for(proc, "pytest: running")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    rc = proc.wait(timeout=30)
    _, err = proc.communicate()
    assert rc == 130 and time.monotonic() - started < 10
    assert (
        "devbox: interrupted" in err or "interrupted: the build was cancelled in the engine" in err
    )
    # buildx finishes cancelling on its own: soon no buildx and no step is left running.
    left: list[bool] = []
    for _ in range(40):
        left = [
            subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0
            for pattern in ("buildx build.*slow", "/devbox/run.py")
        ]
        if not any(left):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"left behind (buildx, tool step): {left}")
    after = devbox("lint", cwd=project)
    assert after.returncode == 0, after.stdout + after.stderr


def engine_is_ours() -> bool:
    """The engine scripts/provision-engine.sh started (root, its daemon): a test may restart it."""
    return (
        os.geteuid() == 0
        and Path("/opt/devbox-engine/usr/sbin/dockerd").exists()
        and bool(
            subprocess.run(
                ["pgrep", "-f", "/opt/devbox-engine/usr/sbin/dockerd"], capture_output=True
            ).stdout
        )
    )


@pytest.mark.kills_engine
def test_the_engine_dying_mid_build_is_exit_3_and_the_next_run_works(
    devbox: Any, devbox_cache: Path
) -> None:
    if not engine_is_ours():
        pytest.skip(
            "only restarts an engine that scripts/provision-engine.sh started (CI, Debian hosts)"
        )
    proc = start(["test", "--rerun"], FIXTURES / "slow", devbox_cache)
    wait_for(proc, "pytest: running")
    subprocess.run(["pkill", "-KILL", "-f", "/opt/devbox-engine/usr/sbin/dockerd"], check=True)
    rc = proc.wait(timeout=120)
    _, err = proc.communicate()
    try:
        assert rc == 3, err
        assert (
            "the Docker engine stopped answering during the build" in err
            or "no Docker engine answers" in err
        )
        assert "Traceback" not in err
    finally:
        restart = subprocess.run(["bash", str(REPO / "scripts" / "provision-engine.sh"), "engine"],
                                 capture_output=True, text=True, timeout=300)  # fmt: skip
        # The dead daemon's step processes outlive it (their runc parent died with it):
        # end them, as an operator restarting a crashed engine would.
        subprocess.run(["pkill", "-KILL", "-f", "/devbox/run.py"], capture_output=True)
        assert restart.returncode == 0, restart.stdout + restart.stderr
    after = devbox("lint", cwd=FIXTURES / "clean")
    assert after.returncode == 0, after.stdout + after.stderr


def test_devbox_never_writes_into_the_tree_even_when_tools_try(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path, fresh=False, dirname="p")
    tools = '{ scribble = { command = ["sh", "-c", "echo x > written-by-tool.txt && mkdir -p build && touch build/y"] } }'
    run = devbox("lint", cwd=project, env={"DEVBOX_TOOLS": tools, "DEVBOX_LINT": "scribble"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (project / "written-by-tool.txt").exists() and not (project / "build").exists()


def test_an_unreadable_file_is_named_instead_of_sent_empty(
    devbox_cache: Path, tmp_path: Path
) -> None:
    """buildx sends a file it cannot read as an empty one, without an error: devbox checks.

    The tests run as root, who reads everything; without CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH (setpriv drops them) root is held to the file modes like any user.
    """
    if shutil.which("setpriv") is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set, and this test needs setpriv (util-linux)")
        pytest.skip("setpriv (util-linux) is not installed")
    project = copy_fixture("clean", tmp_path, fresh=False, dirname="unreadable")
    (project / "private.txt").write_text("only for its owner\n")
    (project / "private.txt").chmod(0)
    (project / "locked").mkdir()
    (project / "locked" / "inside.txt").write_text("x\n")
    (project / "locked").chmod(0)
    limited = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]

    def run(*extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*limited, sys.executable, "-m", "devbox", "test", "-q", *extra],
            cwd=project, env=cli_env(devbox_cache, project, env), capture_output=True, text=True, timeout=600,
        )  # fmt: skip

    try:
        refused = run()
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "devbox cannot read 2 paths" in refused.stderr
        assert "locked, private.txt" in refused.stderr and "Traceback" not in refused.stderr
        # Kept out of the build, they are no obstacle.
        excluded = run(env={"DEVBOX_EXCLUDE": "private.txt,locked"})
        assert excluded.returncode == 0, excluded.stdout + excluded.stderr
    finally:
        (project / "locked").chmod(0o755)
