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
    #: tools whose step the "engine" replays from its cache unless a cache-bust arg is set
    CACHED: ClassVar[set[str]] = set()
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
        for name in self.CACHED:
            if not any(a.startswith(f"devbox_rerun_{name}_") for a in argv):
                _announce_cached(on_line, f"tool-{name}-{_pythons(argv)[0]}")
        for name, rc in self.EXIT_CODES.items():
            for python in _pythons(argv):
                tool_dir = out / name / python
                tool_dir.mkdir(parents=True, exist_ok=True)
                (tool_dir / contract.STATUS_FILE).write_text(
                    json.dumps({contract.FIELD_EXIT_CODE: rc, contract.FIELD_DURATION_S: 0.5})
                )
                (tool_dir / contract.OUTPUT_FILE).write_text(f"{name} said {rc}\n")
        return 0


def _announce_cached(on_line: Callable[[str], object], stage: str) -> None:
    """What buildx prints for a step replayed from the cache (rawjson, one object)."""
    vertex = {"digest": f"sha256:{stage}", "name": f"[{stage} 1/1] RUN run.py",
              "started": "2026-12-01T00:00:00Z", "completed": "2026-12-01T00:00:00Z",
              "cached": True}  # fmt: skip
    for line in json.dumps({"vertexes": [vertex]}, indent=2).splitlines(keepends=True):
        on_line(line)


def _pythons(argv: Sequence[str]) -> list[str]:
    dockerfile = Path(argv[argv.index("--file") + 1]).read_text()
    return sorted({line.split()[-1].removeprefix("test-base-")
                   for line in dockerfile.splitlines() if line.startswith("FROM ") and
                   " AS test-base-" in line})  # fmt: skip


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Mapping[str, str]:
    monkeypatch.setattr(session, "Docker", FakeDocker)
    FakeDocker.builds.clear()
    FakeDocker.CACHED = set()
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


def test_a_failure_the_engine_replays_is_run_again_in_the_same_invocation(
    fake_engine: Mapping[str, str],
) -> None:
    # A fresh cache dir: devbox knows of no failure, the engine replays pytest's old one.
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 1}
    FakeDocker.CACHED = {"pytest"}
    result, shown = run(fake_engine)
    assert len(FakeDocker.builds) == 2
    assert "replayed an earlier failure of pytest@3.11" in shown
    second = [a for a in FakeDocker.builds[1] if a.startswith("devbox_rerun_")]
    assert len(second) == 1 and "pytest" in second[0]
    pytest_result = next(t for t in result.tools if t.name == "pytest")
    assert not pytest_result.cached and pytest_result.status is Status.FAILED


def test_a_replayed_pass_is_not_run_again(fake_engine: Mapping[str, str]) -> None:
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 0}
    FakeDocker.CACHED = {"ruff", "pytest"}
    result, _ = run(fake_engine)
    assert len(FakeDocker.builds) == 1 and all(t.cached for t in result.tools)


def test_each_run_after_a_failure_runs_the_tool(fake_engine: Mapping[str, str]) -> None:
    # fail, then pass, then the engine offers the old failure again: never shown as cached
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 1}
    run(fake_engine)
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 0}
    FakeDocker.CACHED = {"pytest"}
    for _ in range(3):
        result, _ = run(fake_engine)
        assert next(t for t in result.tools if t.name == "pytest").status is Status.PASSED


def test_the_tree_goes_through_a_new_path_when_a_file_changed_in_place(
    fake_engine: Mapping[str, str], tmp_path: Path
) -> None:
    import os
    import shutil

    project = tmp_path / "proj"
    shutil.copytree(FIXTURES / "clean", project)
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 0}

    def context() -> str:
        console = Console(record=True, width=100)
        run_mod.run(Options(project, "check", {}), fake_engine, console)
        return FakeDocker.builds[-1][-1]

    first = context()
    assert Path(first).resolve() == project.resolve()
    assert context() == first  # nothing changed: the same path (incremental transfer)
    source = next(project.rglob("test_*.py"))
    st = source.stat()
    text = source.read_text()
    source.write_text(text.replace("assert", "assert ", 1)[: len(text)])  # same size
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime restored, as cp -p does
    assert context() != first


def test_lint_keeps_the_record_of_a_test_failure(fake_engine: Mapping[str, str]) -> None:
    FakeDocker.EXIT_CODES = {"ruff": 0, "pytest": 1}
    run(fake_engine)
    FakeDocker.EXIT_CODES = {"ruff": 0}
    console = Console(record=True, width=100)
    run_mod.run(Options(FIXTURES / "clean", "lint", {}), fake_engine, console)
    FakeDocker.EXIT_CODES = {"pytest": 0}
    run_mod.run(Options(FIXTURES / "clean", "test", {}), fake_engine, console)
    busted = [a for a in FakeDocker.builds[-1] if a.startswith("devbox_rerun_")]
    assert len(busted) == 1 and "pytest" in busted[0]
