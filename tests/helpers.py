"""Helpers the tests share: fixture copies, small projects, loaded configurations and plans,
and the ToolRun / ToolResult values the result and report tests are made of.

Import them as ``from helpers import ...`` (pytest puts tests/ on sys.path, as for conftest).
Unlike this module, conftest imports nothing of devbox: a module of devbox that does not
import breaks the tests that use it, not the whole session.
"""

from __future__ import annotations

import shutil
import textwrap
import uuid
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from conftest import FIXTURES
from devbox import config
from devbox.build.plan import Plan, ToolRun, make_plan
from devbox.config.project import ProjectFacts, inspect_project, read_pyproject
from devbox.results.model import Status, TestCounts, ToolResult

#: The ``[project]`` table of a minimal installable project: a name and a static version.
MINIMAL_PROJECT: Mapping[str, Any] = {"name": "p", "version": "1"}


# -- projects on disk --------------------------------------------------------------------------


def copy_fixture(
    name: str, tmp_path: Path, *, fresh: bool = True, dirname: str | None = None
) -> Path:
    """A copy of the fixture project ``tests/fixtures/NAME`` under ``tmp_path``; returns it.

    ``fresh`` (the default, for engine tests): the copy is a project of its own, with a fresh
    path (``DIRNAME-<8 hex>``: own tool caches) and content no earlier run had (a
    ``run-id.txt`` with a random line). BuildKit's cache is content-addressed across
    projects (cache mounts are not part of a step's key), so without the unique file a step
    could replay from an earlier test session.

    ``fresh=False``: an exact copy at ``tmp_path/DIRNAME``, nothing added (for tests that
    look at the tree itself, or want an earlier run's cache).

    ``dirname`` defaults to ``name``.
    """
    base = dirname or name
    project = tmp_path / (f"{base}-{uuid.uuid4().hex[:8]}" if fresh else base)
    shutil.copytree(FIXTURES / name, project)
    if fresh:
        (project / "run-id.txt").write_text(uuid.uuid4().hex + "\n")
    return project


def make_project(
    root: Path, pyproject: str | None = None, files: Mapping[str, str] | None = None
) -> Path:
    """Write a project under ``root`` (created if need be) and return ``root``.

    ``pyproject`` is the text of ``pyproject.toml`` (none is written when it is None);
    ``files`` maps further relative paths to their text, and a path ending in ``/`` is an
    (empty) directory. Every text is dedented (:func:`textwrap.dedent`) and written as UTF-8;
    parent directories are made as needed.
    """
    root.mkdir(parents=True, exist_ok=True)
    entries = dict(files or {})
    if pyproject is not None:
        entries = {"pyproject.toml": pyproject, **entries}
    for rel, text in entries.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


# -- configuration and plans -------------------------------------------------------------------


def devbox_pyproject(
    table: Mapping[str, Any] | None = None,
    *,
    project: Mapping[str, Any] | None = MINIMAL_PROJECT,
    tables: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A parsed pyproject: ``[project]`` (None: left out), other top-level ``tables``, and
    ``[tool.devbox]`` = ``table`` (None: an empty one), in that order."""
    data: dict[str, Any] = {}
    if project is not None:
        data["project"] = dict(project)
    data.update(tables or {})
    data["tool"] = {"devbox": dict(table or {})}
    return data


def load_config(
    root: Path,
    pyproject: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, object] | None = None,
    facts: ProjectFacts | bool = True,
    all_pythons: bool = False,
) -> config.Config:
    """The configuration of the project at ``root``, resolved as devbox does.

    ``pyproject``: the parsed file (None: read ``root/pyproject.toml`` with
    :func:`read_pyproject`). ``env`` stands for the environment (None: no variables at all,
    not the caller's). ``facts`` says which facts :func:`config.load` gets: True those of the
    project (:func:`inspect_project`), False none (what ``requires-python`` and the project's
    tables imply is then not used), or the ones given. Errors
    (:class:`~devbox.errors.ConfigError`) propagate.
    """
    data = read_pyproject(root) if pyproject is None else pyproject
    if facts is True:
        facts = inspect_project(root, data)
    return config.load(
        data,
        path=root / "pyproject.toml",
        env=env or {},
        cli=cli,
        facts=None if facts is False else facts,
        all_pythons=all_pythons,
    )


def load_project(
    root: Path,
    pyproject: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, object] | None = None,
    all_pythons: bool = False,
) -> tuple[config.Config, ProjectFacts]:
    """The configuration and the facts of the project at ``root`` (see :func:`load_config`)."""
    data = read_pyproject(root) if pyproject is None else pyproject
    facts = inspect_project(root, data)
    cfg = load_config(root, data, env=env, cli=cli, facts=facts, all_pythons=all_pythons)
    return cfg, facts


def plan_for(
    root: Path,
    command: str = "check",
    *,
    pyproject: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    virtualenvs: Sequence[str] | None = None,
    offline: bool = False,
) -> Plan:
    """The plan of ``devbox COMMAND`` for the project at ``root`` (see :func:`load_config`).

    ``virtualenvs`` None lets :func:`make_plan` look for virtual environments in the tree;
    pass ``[]`` to skip that.
    """
    cfg, facts = load_project(root, pyproject, env=env)
    return make_plan(
        cfg,
        facts,
        command,  # type: ignore[arg-type]
        extra_args=extra_args,
        virtualenvs=virtualenvs,
        offline=offline,
    )


# -- runs and results --------------------------------------------------------------------------


def tool_run(
    name: str,
    python: str = "3.11",
    *,
    junit: bool = False,
    kind: str | None = None,
    command: tuple[str, ...] | None = None,
) -> ToolRun:
    """A planned tool run: ``kind`` defaults to "test" for a JUnit tool, else "lint", and
    ``command`` to ``(name,)``; no environment."""
    return ToolRun(
        name=name,
        kind=(kind or ("test" if junit else "lint")),  # type: ignore[arg-type]
        python=python,
        command=(name,) if command is None else command,
        env={},
        junit=junit,
    )


def tool_result(
    name: str,
    status: Status = Status.PASSED,
    *,
    python: str = "3.11",
    kind: str | None = None,
    exit_code: int | None = None,
    duration_s: float = 1.25,
    cached: bool = False,
    output: str = "",
    tests: TestCounts | None = None,
    junit_xml: str | None = None,
    machine_output: str | None = None,
) -> ToolResult:
    """A tool's result: ``kind`` defaults to "test" when there are ``tests`` counts, else
    "lint"; ``exit_code`` to 0 for a pass and 1 otherwise."""
    return ToolResult(
        name=name,
        kind=kind or ("test" if tests is not None else "lint"),
        python=python,
        status=status,
        exit_code=(0 if status is Status.PASSED else 1) if exit_code is None else exit_code,
        duration_s=duration_s,
        cached=cached,
        output=output,
        tests=tests,
        junit_xml=junit_xml,
        machine_output=machine_output,
    )


class TimelineBars(HTMLParser):
    """The bars of a --timeline page: each ``span.bar``'s attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.bars: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "span" and "bar" in (found.get("class") or "").split():
            self.bars.append(found)
