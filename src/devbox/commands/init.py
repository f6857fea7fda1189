"""``devbox init``: propose a commented ``[tool.devbox]`` table and write it into pyproject.toml.

:func:`propose` reads the project (never runs anything from it, tox included) and returns the
table's text; every value has a comment saying why it was chosen.  :func:`init` writes it:
appended at the end of pyproject.toml when the file has no ``[tool.devbox]``, or, with
``force``, in place of the existing table and its sub-tables.  Every other byte of the file
stays as it was; the result is checked (with tomllib and tomlkit) before anything is written
(the splice and the check are :mod:`devbox.edit.pyproject`'s).
"""

from __future__ import annotations

import configparser
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

from devbox import __version__, config, tools
from devbox.config.project import (
    PYPROJECT,
    ProjectFacts,
    detect_import_root,
    inspect_project,
    normalize_name,
    read_pyproject,
    tomllib,
)
from devbox.config.testdeps import TEST_NAMES as TEST_NAMES
from devbox.config.testdeps import (
    Found,
    find_test_dependencies,
    installed_names,
    read_tox,
    tox_deps,
)
from devbox.config.testdeps import read_ini as _read_ini
from devbox.edit.pyproject import insert_table
from devbox.errors import ConfigError
from devbox.fsutil import atomic_write
from devbox.tools import spec as tool_spec

__all__ = ["InitResult", "init", "propose"]

_COMMENT_WIDTH = 96


@dataclass(frozen=True)
class InitResult:
    #: the proposed ``[tool.devbox]`` table (with its sub-tables), as TOML text
    text: str
    #: the pyproject.toml written (or, with ``dry_run``, that would be written)
    path: Path
    #: whether the file was written (False with ``dry_run``)
    written: bool
    #: whether an existing ``[tool.devbox]`` was (or, with ``dry_run``, would be) replaced
    replaced: bool


# --- reading the project ----------------------------------------------------------------------


@dataclass
class _Proposal:
    """Keys in the order they are written, each with the comment lines that explain it."""

    header: list[str] = field(default_factory=list)
    keys: dict[str, tuple[object, list[str]]] = field(default_factory=dict)
    #: tool → key → (value, the comment lines above it)
    tool_tables: dict[str, dict[str, tuple[object, list[str]]]] = field(default_factory=dict)

    def set(self, name: str, value: object, *why: str) -> None:
        config.KEYS[name].check(value)  # a proposal is always a legal value
        self.keys[name] = (value, [w for w in why if w])


def _safe(text: object) -> str:
    """Text from the project, fit for a one-line TOML comment (no control characters)."""
    return re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", "?", str(text))


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{_safe(n)}"' for n in names)


def _table(data: Mapping[str, Any], *keys: str) -> dict[str, Any] | None:
    node: Any = data
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


@dataclass
class _Found:
    #: tool name → where its configuration was found
    where: dict[str, list[str]] = field(default_factory=dict)
    tox: configparser.ConfigParser | None = None

    def add(self, tool: str, where: str) -> None:
        self.where.setdefault(tool, []).append(where)

    def configured(self, kind: tools.Kind) -> list[str]:
        """Configured tools of one kind, in the order of :data:`devbox.tools.BUILTIN`."""
        return [n for n, t in tools.BUILTIN.items() if t.kind == kind and n in self.where]


def _tool_config_files(root: Path, pyproject: Mapping[str, Any], notes: list[str]) -> _Found:
    """Which built-in tools the project configures, and where (for the comments).

    Each tool's clues (``Tool.detect``) are looked for in what is read here, once for all.
    """
    ini = {name: _read_ini(root / name, notes) for name in tool_spec.INI_FILES}
    project = tool_spec.Project(root, _table(pyproject, "tool") or {}, ini)
    found = _Found(tox=ini["tox.ini"])
    for name, tool in tools.BUILTIN.items():
        for clue in tool.detect:
            if clue.found(project):
                found.add(name, clue.where)
    return found


def _python(p: _Proposal, facts: ProjectFacts) -> None:
    python = config.default_python(facts)
    spec = facts.requires_python
    if not spec:
        why = f"No requires-python in [project]: {python}, devbox's default."
    else:
        allowed = config.allowed_pythons(facts)
        if allowed:
            why = (
                f'requires-python "{_safe(spec)}" allows {", ".join(allowed)} of devbox\'s '
                "candidates: the newest."
            )
        else:
            why = (
                f'requires-python "{_safe(spec)}" allows none of '
                f"{', '.join(config.PYTHON_CANDIDATES)}: {python} is only devbox's fallback; "
                "set a version the project supports."
            )
    p.set("python", python, why)


def _layout(p: _Proposal, root: Path) -> None:
    p.header.append(
        "Proposed by `devbox init` from this project's files; each comment says why. Edit freely."
    )
    if detect_import_root(root) == "src":
        p.header.append("Layout: src/ (a package under src/); devbox puts src/ on sys.path.")
    else:
        p.header.append("Layout: flat (no package under src/); the project root is on sys.path.")


def _installer(p: _Proposal, locked: bool) -> None:
    if locked:
        p.set(
            "installer",
            "uv",
            "uv.lock is present: uv installs the locked dependencies, extras and groups "
            "from it (uv sync --frozen).",
        )
    else:
        p.set(
            "installer",
            "uv",
            'No uv.lock: uv (the default) resolves the dependencies; "pip" works too.',
        )


def _test_dependencies(
    p: _Proposal,
    facts: ProjectFacts,
    tox: configparser.ConfigParser | None,
    python: str,
    locked: bool,
    notes: list[str],
) -> Found:
    """Exactly what a run without this table installs (devbox.config.testdeps), each key
    with where it was found; returns it."""
    found = find_test_dependencies(facts, tox, python)
    if not found:
        notes.append(
            "No test dependencies declared (no test/dev extra, dependency group, requirement "
            "file, tox or nox test environment): none proposed. Add extras, groups, "
            "requirements or packages if the tests need more than pytest."
        )
        return found
    env = tox_deps(tox, python) if found.from_tox else None
    why = [
        f"What `devbox test` installs when this table names none: "
        f"{', '.join(_safe(c) for c in found.chosen)}.",
        f"Not used: {', '.join(_safe(c) for c in found.passed_over)}." if found.passed_over else "",
        "Installed from uv.lock." if locked and found.groups else "",
    ]
    for key in ("groups", "extras", "requirements", "packages"):
        value = list(getattr(found, key))
        if value:
            p.set(key, value, *why)
            why = []
    if env is not None and (env.conditional or env.skipped):
        left = [_safe(s) for s in (*env.conditional, *env.skipped)]
        notes.append(f"{env.where} deps not carried over: {', '.join(left)}.")
    return found


def _lint_and_test(p: _Proposal, found: _Found) -> list[str]:
    """The configured linters and test tools (or devbox's defaults); returns the linters."""
    lint = found.configured("lint")
    if lint:
        reasons = "; ".join(f"{', '.join(found.where[t])} -> {t}" for t in lint)
        p.set("lint", lint, f"Configured in this project: {reasons}.")
    else:
        p.set(
            "lint",
            list(config.KEYS["lint"].default),
            "No linter configured here: ruff, devbox's default (with ruff's default rules).",
        )
    test = found.configured("test")
    if test:
        reasons = "; ".join(f"{', '.join(found.where[t])} -> {t}" for t in test)
        p.set("test", test, f"Found: {reasons}.")
    else:
        p.set(
            "test",
            list(config.KEYS["test"].default),
            "No pytest configuration or tests/ directory found: pytest, devbox's default.",
        )
    return lint


def _system_packages(p: _Proposal, facts: ProjectFacts) -> None:
    if facts.compiled:
        p.set(
            "system-packages",
            ["gcc", "libc6-dev", "python3-dev"],
            "The project builds native extensions: a compiler and Python's headers, installed "
            "with apt-get (python:X-slim images have the headers; gcc and libc6-dev suffice).",
        )


def _tool_tables(
    p: _Proposal, pyproject: Mapping[str, Any], lint: list[str], declared: set[str]
) -> None:
    """mypy's command when [tool.mypy] sets files; the pinned version of each linter the
    project does not declare itself (so that upgrading devbox changes no linter's verdict)."""
    mypy = _table(pyproject, "tool", "mypy")
    if "mypy" in lint and mypy is not None and mypy.get("files"):
        p.tool_tables["mypy"] = {
            "command": (
                ["mypy"],
                [
                    "[tool.mypy] sets files: run plain `mypy` so it checks those, "
                    "not the whole tree (the built-in command is `mypy .`)."
                ],
            )
        }
    for name in lint:
        builtin = tools.BUILTIN.get(name)
        pins = [pkg for pkg in builtin.packages if "==" in pkg] if builtin else []
        if not pins or normalize_name(name) in declared:
            continue
        p.tool_tables.setdefault(name, {})["packages"] = (
            pins,
            [
                f"Pinned to the version devbox {__version__} was tested with; change it when "
                "you choose to (the project's own declaration of the tool wins over this)."
            ],
        )
    if p.tool_tables:
        config.KEYS["tools"].check(
            {t: {k: v for k, (v, _) in body.items()} for t, body in p.tool_tables.items()}
        )


def _propose(project_dir: Path) -> _Proposal:
    root = project_dir
    pyproject: dict[str, Any] = read_pyproject(root) if (root / PYPROJECT).is_file() else {}
    facts = inspect_project(root, pyproject)
    notes: list[str] = []
    found = _tool_config_files(root, pyproject, notes)
    p = _Proposal()
    _layout(p, root)
    _python(p, facts)
    locked = (root / "uv.lock").is_file()
    _installer(p, locked)
    tox = found.tox if found.tox is not None else read_tox(root, pyproject, notes)
    python = p.keys["python"][0]
    assert isinstance(python, str)
    found_deps = _test_dependencies(p, facts, tox, python, locked, notes)
    _lint_and_test(p, found)
    _system_packages(p, facts)
    proposed_lint = p.keys["lint"][0]
    assert isinstance(proposed_lint, list)
    _tool_tables(p, pyproject, proposed_lint, installed_names(facts, found_deps))
    p.header += notes
    return p


def _comment_lines(text: str) -> list[str]:
    return textwrap.wrap(text, _COMMENT_WIDTH, break_long_words=False, break_on_hyphens=False)


def _render(p: _Proposal) -> str:
    table = tomlkit.table()
    for line in p.header:
        for part in _comment_lines(line):
            table.add(tomlkit.comment(part))
    for name, (value, why) in p.keys.items():
        for line in why:
            for part in _comment_lines(line):
                table.add(tomlkit.comment(part))
        table.add(name, value)
    if p.tool_tables:
        tools_table = tomlkit.table(is_super_table=True)
        for name, body in p.tool_tables.items():
            sub = tomlkit.table()
            for key, (value, why) in body.items():
                for line in why:
                    for part in _comment_lines(line):
                        sub.add(tomlkit.comment(part))
                sub.add(key, value)
            tools_table.add(name, sub)
        table.add("tools", tools_table)
    tool = tomlkit.table(is_super_table=True)
    tool.add("devbox", table)
    doc = tomlkit.document()
    doc.add("tool", tool)
    return doc.as_string().rstrip("\n") + "\n"


def propose(project_dir: Path) -> str:
    """The text of a commented ``[tool.devbox]`` table for the project in ``project_dir``."""
    return _render(_propose(project_dir))


# --- writing it -------------------------------------------------------------------------------


def init(project_dir: Path, *, force: bool = False, dry_run: bool = False) -> InitResult:
    """Write the proposed ``[tool.devbox]`` into ``project_dir``'s pyproject.toml.

    The table is appended when the file has none (the file is created when missing); an
    existing one is a :class:`ConfigError` unless ``force``, which replaces just that table
    and its sub-tables.  ``dry_run`` goes through the same checks but writes nothing.
    """
    path = project_dir / PYPROJECT
    text = propose(project_dir)
    old: str | None = None
    if path.is_file():
        try:
            old = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the file ({exc}).") from None
    new, replaced = insert_table(old, text, force=force, path=path)
    data = tomllib.loads(new)
    # The proposal must be a configuration devbox accepts for this very project.
    config.load(data, path=path, env={}, facts=inspect_project(project_dir, data))
    if not dry_run:
        try:
            atomic_write(path, new.encode("utf-8"))  # never a truncated pyproject.toml
        except OSError as exc:
            raise ConfigError(f"{path}: cannot write the file ({exc}).") from None
    return InitResult(text=text, path=path, written=not dry_run, replaced=replaced)
