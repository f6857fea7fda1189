"""The run as a chain (prepare → build → collect → remember → present), with a fake engine:
what the steps hand each other, without BuildKit."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console

from conftest import FIXTURES
from devbox.build import contract, session
from devbox.build.session import Options
from devbox.commands import run as run_mod
from devbox.engine import Docker
from devbox.results.model import Status


class FakeDocker(Docker):
    """Exports what each tool step "recorded": exit codes by tool name, from ``EXIT_CODES``."""

    EXIT_CODES: ClassVar[dict[str, int]] = {}
    builds: ClassVar[list[list[str]]] = []

    def build(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], object],
        settle: Callable[[], float] = lambda: 0.0,
    ) -> int:
        FakeDocker.builds.append(list(argv))
        out = Path(argv[argv.index("--output") + 1].removeprefix("type=local,dest="))
        for python in _pythons(argv):
            status = out / "environments" / python / contract.STATUS_FILE
            status.parent.mkdir(parents=True, exist_ok=True)
            status.write_text(json.dumps({contract.FIELD_OK: True}))
        for name, rc in self.EXIT_CODES.items():
            for python in _pythons(argv):
                tool_dir = out / name / python
                tool_dir.mkdir(parents=True, exist_ok=True)
                (tool_dir / contract.STATUS_FILE).write_text(
                    json.dumps({contract.FIELD_EXIT_CODE: rc, contract.FIELD_DURATION_S: 0.5})
                )
                (tool_dir / contract.OUTPUT_FILE).write_text(f"{name} said {rc}\n")
        return 0


def _pythons(argv: Sequence[str]) -> list[str]:
    dockerfile = Path(argv[argv.index("--file") + 1]).read_text()
    return sorted({line.split()[-1].removeprefix("test-base-")
                   for line in dockerfile.splitlines() if line.startswith("FROM ") and
                   " AS test-base-" in line})  # fmt: skip


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Mapping[str, str]:
    monkeypatch.setattr(session, "Docker", FakeDocker)
    FakeDocker.builds.clear()
    return {"DEVBOX_CACHE_DIR": str(tmp_path / "cache"), "PWD": str(FIXTURES / "clean")}


def run(env: Mapping[str, str], **opts: Any) -> tuple[Any, str]:
    console = Console(record=True, width=100)
    result = run_mod.run(Options(FIXTURES / "clean", "check", {}, **opts), env, console)
    return result, console.export_text()


def test_every_tool_result_is_collected_and_presented(fake_engine: Mapping[str, str]) -> None:
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 1}
    result, shown = run(fake_engine)
    assert [(t.name, t.status) for t in result.tools] == [
        ("ruff", Status.PASSED),
        ("pytest", Status.FAILED),
    ]
    assert "pytest said 1" in shown and "failed: pytest" in shown
    # the full output is kept in a log file, under devbox's cache dir
    assert all(t.log_path and t.log_path.read_text() == t.output for t in result.tools)
    assert str(Path(fake_engine["DEVBOX_CACHE_DIR"])) in str(result.tools[0].log_path)


def test_what_failed_is_remembered_and_run_again_next_time(
    fake_engine: Mapping[str, str],
) -> None:
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 1}
    run(fake_engine)
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 0}
    run(fake_engine)
    first, second = (" ".join(argv) for argv in FakeDocker.builds)
    assert "devbox_rerun_" not in first
    busted = [a for a in second.split() if a.startswith("devbox_rerun_")]
    assert len(busted) == 1 and "pytest" in busted[0] and "ruff" not in busted[0]


def test_rerun_busts_every_tool(fake_engine: Mapping[str, str]) -> None:
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 0}
    run(fake_engine, rerun=True)
    busted = [a for a in FakeDocker.builds[0] if a.startswith("devbox_rerun_")]
    assert len(busted) == 2


def test_report_files_are_written_and_announced(
    fake_engine: Mapping[str, str], tmp_path: Path
) -> None:
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 0}
    report = tmp_path / "report.json"
    result, shown = run(fake_engine, report_json=report)
    assert result.ok
    assert json.loads(report.read_text())["tools"][0]["name"] == "ruff"
    assert f"devbox: wrote {report}" in shown
