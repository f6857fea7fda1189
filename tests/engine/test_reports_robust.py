"""Reports and errors when a run cannot finish normally (issue 13): a failed install or build
still writes the reports asked for (never an older one left in place), unwritable report
paths and cache dirs are clear errors, and a reader that goes away early loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import cli_env
from helpers import copy_fixture

pytestmark = pytest.mark.engine


def old_reports(tmp_path: Path) -> tuple[Path, Path]:
    # (not report.json: the devbox fixture's own report)
    report, junit = tmp_path / "asked.json", tmp_path / "asked.xml"
    report.write_text('{"ok": true, "old": true}\n')
    junit.write_text("<testsuites old='true'/>\n")
    return report, junit


def test_a_failed_install_still_writes_both_reports(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    report, junit = old_reports(tmp_path)
    run = devbox(
        "test", "--report-json", str(report), "--junit-xml", str(junit), cwd=project,
        env={"DEVBOX_PACKAGES": "no-such-dist-devbox-xyz==1.0"}, report=False,
    )  # fmt: skip
    assert run.returncode == 3, run.stdout + run.stderr
    data = json.loads(report.read_text())
    assert data["ok"] is False and "old" not in data
    assert "installing the dependencies failed" in data["environments"][0]["error"]
    xml = junit.read_text()
    assert "old=" not in xml and "devbox.environment" in xml and "<error" in xml


def test_a_build_that_stops_early_still_writes_both_reports(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    report, junit = old_reports(tmp_path)
    run = devbox(
        "test", "--report-json", str(report), "--junit-xml", str(junit), cwd=project,
        env={"DEVBOX_BASE_IMAGE": "localhost/devbox-test/nope:{python}"}, report=False,
    )  # fmt: skip
    assert run.returncode == 3, run.stdout + run.stderr
    data = json.loads(report.read_text())
    assert data["ok"] is False and data["tools"] == []
    assert "localhost/devbox-test/nope:3.11 is not available" in data["environments"][0]["error"]
    assert "nope:3.11 is not available" in junit.read_text()


def test_an_unwritable_report_path_is_exit_2_before_running(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    run = devbox("test", "--report-json", str(blocker / "r.json"), cwd=project, report=False)
    assert run.returncode == 2, run.stdout + run.stderr  # was: internal error, exit 70
    assert f"--report-json {blocker / 'r.json'}: devbox cannot write the report there" in (
        run.stderr
    )
    assert "internal error" not in run.stderr and "pytest" not in run.stdout


def test_an_unwritable_cache_dir_is_a_clear_error(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    run = devbox("test", cwd=project, env={"DEVBOX_CACHE_DIR": str(blocker / "cache")})
    assert run.returncode == 3, run.stdout + run.stderr  # was: internal error, exit 70
    assert "devbox cannot write its own directory" in run.stderr
    assert "DEVBOX_CACHE_DIR" in run.stderr and "internal error" not in run.stderr


def test_reports_are_written_when_the_reader_goes_away(devbox_cache: Path, tmp_path: Path) -> None:
    project = copy_fixture("clean", tmp_path)
    report = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devbox", "test", "--rerun", "--report-json", str(report)],
        cwd=project, env=cli_env(devbox_cache, project), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `devbox test | head -1`
    proc.stdout.close()
    rc = proc.wait(timeout=600)
    err = proc.stderr.read()
    proc.stderr.close()
    assert rc == 0, err
    assert json.loads(report.read_text())["ok"] is True
    assert "BrokenPipe" not in err and "Exception ignored" not in err


def test_a_full_cache_dir_is_a_clear_error(devbox: Any, tmp_path: Path) -> None:
    # A tiny tmpfs as devbox's cache dir: the disk is full as soon as devbox writes its files.
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8k", "devbox-full", str(full)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        (full / "filler").write_bytes(b"x" * 4096)
        project = copy_fixture("clean", tmp_path)
        run = devbox("test", cwd=project, env={"DEVBOX_CACHE_DIR": str(full / "cache")})
        assert run.returncode == 3, run.stdout + run.stderr  # was: internal error, exit 70
        assert "No space left on device" in run.stderr and "DEVBOX_CACHE_DIR" in run.stderr
        assert "internal error" not in run.stderr
    finally:
        subprocess.run(["umount", str(full)], capture_output=True)


def test_a_config_error_leaves_no_report_from_an_earlier_run(devbox: Any, tmp_path: Path) -> None:
    project = copy_fixture("invalid_config", tmp_path)
    report, junit = old_reports(tmp_path)
    run = devbox(
        "test", "--report-json", str(report), "--junit-xml", str(junit), cwd=project,
        report=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert not report.exists() and not junit.exists()
