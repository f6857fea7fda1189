"""When a test run still fails for a reason a setting would fix: one line saying what to set.

:func:`hints` reads a failing test tool's output (pytest's) for three causes a setting fixes:

- a module that cannot be imported (``No module named 'X'`` while collecting or loading a
  conftest);
- a plugin's option given without its plugin (``error: unrecognized arguments: --cov``);
- a plugin's fixture without its plugin (``fixture 'mocker' not found``).

Each names a distribution: the import name normalised (PEP 503), or :data:`IMPORT_NAMES` for
the few well-known ones whose distribution is named otherwise; :data:`PLUGIN_OPTIONS` and
:data:`PLUGIN_FIXTURES` for plugins. The project's declarations are read as
:mod:`devbox.config.testdeps` reads them (nothing of the project runs): dependency groups,
``[project.optional-dependencies]``, ``setup.cfg [options.extras_require]``, requirement files,
``tox.ini [testenv] deps``. The hint names the first declaration that has the distribution and
is not installed yet, with the key and the ``DEVBOX_`` variable that install it; when none
declares it, ``packages`` / ``DEVBOX_PACKAGES``. Pure: files are read, nothing else.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from devbox.config.project import ProjectFacts, normalize_name
from devbox.config.pytestcfg import PLUGIN_OPTIONS, plugin_for_option
from devbox.config.testdeps import (
    group_requirements,
    nox_deps,
    outside_extras,
    read_tox,
    req_name,
    requirement_files,
    tox_deps,
    where_extra,
)
from devbox.results.findings import ESCAPES
from devbox.results.model import RunResult, Status, ToolResult

__all__ = [
    "IMPORT_NAMES",
    "MAX_HINTS",
    "PLUGIN_FIXTURES",
    "PLUGIN_OPTIONS",
    "Installed",
    "attach",
    "hints",
]

#: import name → distribution, only where the normalised import name is not the distribution's
IMPORT_NAMES = {
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "dateutil": "python-dateutil",
    "attr": "attrs",
    "sklearn": "scikit-learn",
}

#: fixture → the plugin that provides it
PLUGIN_FIXTURES = {
    "mocker": "pytest-mock",
    "class_mocker": "pytest-mock",
    "module_mocker": "pytest-mock",
    "session_mocker": "pytest-mock",
    "benchmark": "pytest-benchmark",
}

#: at most this many lines per tool
MAX_HINTS = 3
#: a value taken from the output is at most this long; a whole line at most MAX_LINE
MAX_VALUE = 100
MAX_LINE = 300

_MISSING = re.compile(r"No module named '([A-Za-z_][\w.]{0,200})'")
_UNRECOGNIZED = re.compile(r"error: unrecognized arguments: ([^\n]{1,2000})")
_FIXTURE = re.compile(r"fixture '([A-Za-z_]\w{0,200})' not found")
#: the async plugins pytest names for an async test it cannot run: the first one the project
#: declares is hinted, else the first
ASYNC_PLUGINS = ("pytest-asyncio", "anyio", "pytest-trio", "pytest-tornasync", "pytest-twisted")
#: pytest's warning (and failure) for an async test without an async plugin
_ASYNC = re.compile(r"async def functions are not natively supported")


@dataclass(frozen=True)
class Installed:
    """What the run installed already (the configuration's values, or what was found)."""

    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()


def clean(text: str, limit: int = MAX_LINE) -> str:
    """Printable and bounded: escape sequences removed, other control characters as ``?``."""
    text = ESCAPES.sub("", text)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class _Source:
    where: str  # "the [project.optional-dependencies] test extra"
    key: str  # "extras"
    value: str  # "test"
    names: frozenset[str]  # normalised distribution names it declares


def _names(requirements: object) -> frozenset[str]:
    out = set()
    for req in requirements if isinstance(requirements, (list, tuple)) else ():
        if isinstance(req, str) and not req.lstrip().startswith("-"):
            name = req_name(req)
            if name:
                out.add(name)
    return frozenset(out)


def _file_lines(facts: ProjectFacts, rel: str) -> list[str]:
    try:
        text = (facts.root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [line.split(" #")[0].strip() for line in text.splitlines()]


def _sources(facts: ProjectFacts) -> Iterator[_Source]:
    """Every declaration of test dependencies, in the order a hint prefers them."""
    for g in facts.dependency_groups:
        yield _Source(f"the [dependency-groups] {g} group", "groups", g,
                      _names(group_requirements(facts, g)))  # fmt: skip
    for e, reqs in facts.optional_dependencies.items():
        yield _Source(f"the [project.optional-dependencies] {e} extra", "extras", e, _names(reqs))
    for e, reqs in outside_extras(facts).items():
        if facts.extra(e) is None:
            where = f"the {where_extra(facts, e)} {e} extra"
            yield _Source(where, "extras", e, _names(reqs))
    chosen, others = requirement_files(facts.root)
    for rel in (*chosen, *others):
        yield _Source(rel, "requirements", rel, _names(_file_lines(facts, rel)))
    for env in (tox_deps(read_tox(facts.root, facts.pyproject, [])), nox_deps(facts.root)):
        for req in env.packages:
            yield _Source(f"{env.where} deps", "packages", req, _names([req]))


def _wanted(output: str) -> Iterator[tuple[str, str]]:
    """(distribution, what the output says) for each cause found, in output order."""
    causes: list[tuple[int, str, str]] = []
    output = ESCAPES.sub("", output)  # pytest's colours, on a terminal
    for m in _MISSING.finditer(output):
        top = m.group(1).split(".")[0]
        if top in sys.stdlib_module_names or top.startswith("_"):
            continue
        dist = IMPORT_NAMES.get(top, top)
        causes.append((m.start(), dist, f"No module named '{m.group(1)}'"))
    for m in _UNRECOGNIZED.finditer(output):
        for token in m.group(1).split():
            option = token.split("=")[0]
            plugin = plugin_for_option(option)
            if plugin is not None:
                causes.append((m.start(), plugin, f"unrecognized argument {option}"))
    for m in _FIXTURE.finditer(output):
        plugin = PLUGIN_FIXTURES.get(m.group(1))
        if plugin is not None:
            causes.append((m.start(), plugin, f"fixture '{m.group(1)}' not found"))
    not_async = _ASYNC.search(output)
    if not_async is not None:
        what = "async def functions are not natively supported"
        causes.append((not_async.start(), ASYNC_PLUGINS[0], what))
    for _, dist, what in sorted(causes, key=lambda c: c[0]):
        yield dist, what


def _own_module(facts: ProjectFacts, dist: str) -> bool:
    """The project's own code (not importable for another reason: no setting installs it)."""
    if facts.name and normalize_name(facts.name) == normalize_name(dist):
        return True
    for base in {facts.root, facts.root / facts.import_root}:
        if (base / dist).is_dir() or (base / f"{dist}.py").is_file():
            return True
    return False


def _setting(key: str, value: str, installed: Installed) -> str:
    values = [*getattr(installed, key), value]
    listed = ", ".join(f'"{v}"' for v in values)
    return f"DEVBOX_{key.upper()}={','.join(values)} or {key} = [{listed}]"


def hints(
    tool_result: ToolResult, facts: ProjectFacts, installed: Installed | None = None
) -> list[str]:
    """At most :data:`MAX_HINTS` lines for a failing test tool: what devbox found, and what
    to set (nothing for a tool that passed, or when no setting would help)."""
    if tool_result.status is not Status.FAILED or tool_result.kind != "test":
        return []
    installed = installed or Installed()
    done = {
        "extras": {normalize_name(e) for e in installed.extras},
        "groups": {normalize_name(g) for g in installed.groups},
        "requirements": set(installed.requirements),
        "packages": {n for n in map(req_name, installed.packages) if n},
    }
    sources: list[_Source] | None = None
    out: list[str] = []
    seen: set[str] = set()
    for dist, what in _wanted(tool_result.output):
        key = normalize_name(dist)
        if key in seen or _own_module(facts, dist):
            continue
        seen.add(key)
        if sources is None:
            sources = list(_sources(facts))
        if dist == ASYNC_PLUGINS[0]:  # the one of them the project declares, if any
            named = {n for s in sources for n in s.names}
            dist = next((p for p in ASYNC_PLUGINS if normalize_name(p) in named), dist)
            key = normalize_name(dist)
        declared = [s for s in sources if key in s.names]
        todo = [
            s
            for s in declared
            if (normalize_name(s.value) if s.key in ("extras", "groups") else s.value)
            not in done[s.key]
            and (s.key != "packages" or key not in done["packages"])
        ]
        name = clean(dist, MAX_VALUE)
        if todo:
            s = todo[0]
            line = f"devbox: {name} is in {s.where}: set {_setting(s.key, s.value, installed)}"
        elif declared or key in done["packages"]:
            continue  # declared and installed: a setting would not help
        else:
            line = (
                f"devbox: {name} ({clean(what, MAX_VALUE)}) is declared nowhere in the project: "
                f"set {_setting('packages', dist, installed)}"
            )
        out.append(clean(line))
        if len(out) == MAX_HINTS:
            break
    return out


def attach(result: RunResult, facts: ProjectFacts, installed: Installed) -> RunResult:
    """``result`` with each failing test tool's :func:`hints` (in ``ToolResult.hints``)."""
    tools = tuple(
        dataclasses.replace(t, hints=tuple(found)) if (found := hints(t, facts, installed)) else t
        for t in result.tools
    )
    return dataclasses.replace(result, tools=tools)
