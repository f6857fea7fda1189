"""The project's test dependencies, found in its own declarations (read as data, never run).

One home for what ``devbox init`` proposes and what a run without configured test
dependencies installs: :func:`find_test_dependencies` reads PEP 735 groups and
``[project.optional-dependencies]`` with the conventional names (:data:`TEST_NAMES`),
``setup.cfg [options.extras_require]`` and setup.py's ``extras_require`` / ``tests_require``
(literals, :mod:`devbox.config.pysource`), requirement files named for tests, what tox's test
environment declares (``tox.ini`` or ``[tool.tox] legacy_tox_ini``: ``[testenv]`` or the env
of ``env_list`` for the Python that runs, its factor-conditional deps applied) and what a
noxfile's test session installs. Nothing of the project is executed (not setup.py, not tox,
not nox).

Choice, so that the install is what a contributor would make and never a mix that cannot be
satisfied: when tox's test environment declares test dependencies (deps, ``-r`` files,
extras, dependency_groups), exactly those; else the noxfile's test session's; otherwise the
one best candidate by name (test, tests, testing before dev, devel, develop, development)
and kind (dependency group, extra in pyproject.toml, extra in setup.cfg or setup.py,
requirement file, setup.py tests_require). What was passed over is said. Then the pytest
plugins the pytest configuration needs (:mod:`devbox.config.pytestcfg`) that the choice does
not name are added, each with the option that needs it.
"""

from __future__ import annotations

import configparser
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devbox.config.keys import KEYS
from devbox.config.project import ProjectFacts, normalize_name, read_ini, requirement_problem
from devbox.config.pysource import nox_test_session, read_setup_py
from devbox.config.pytestcfg import needed_plugins
from devbox.errors import ConfigError

__all__ = [
    "TEST_NAMES",
    "EnvDeps",
    "Found",
    "expand_braces",
    "file_requirement_names",
    "find_test_dependencies",
    "group_requirements",
    "installed_names",
    "is_test_name",
    "nox_deps",
    "outside_extra",
    "outside_extras",
    "read_ini",
    "read_tox",
    "req_name",
    "requirement_files",
    "setup_cfg_extras",
    "setup_py_extras",
    "tox_deps",
    "tox_env",
    "where_extra",
]

#: Names of extras, dependency groups and requirement files that hold test/dev dependencies.
TEST_NAMES = frozenset({"test", "tests", "testing", "dev", "devel", "develop", "development"})
#: the names that say "tests" (preferred over the dev ones when several are found)
_TEST_FIRST = frozenset({"test", "tests", "testing"})
#: an extra that gathers every optional dependency: the last resort, when no test or dev
#: declaration exists (idna's tests need hypothesis, which only its "all" extra names)
ALL_EXTRA = "all"


def valid(key: str, value: object) -> bool:
    try:
        KEYS[key].check(value)
    except ValueError:
        return False
    return True


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def req_name(requirement: str) -> str | None:
    m = _REQ_NAME.match(requirement)
    return normalize_name(m.group(1)) if m else None


def is_test_name(name: str) -> bool:
    return normalize_name(name) in TEST_NAMES


def _name_rank(name: str) -> int:
    return 0 if normalize_name(name) in _TEST_FIRST else 1


def _file_words(path: Path) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", path.stem.lower().replace("requirements", " ")) if w]


def requirement_files(root: Path) -> tuple[list[str], list[str]]:
    """Requirement files at the root (and in requirements/): (test/dev ones, the others)."""
    candidates = sorted(p for p in root.glob("*requirements*.txt") if p.is_file())
    req_dir = root / "requirements"
    if req_dir.is_dir():
        candidates += sorted(p for p in req_dir.glob("*.txt") if p.is_file())
    chosen: list[str] = []
    others: list[str] = []
    for path in candidates:
        rel = path.relative_to(root).as_posix()
        looks_like_test = any(
            w.startswith("test") or w in TEST_NAMES or w == "ci" for w in _file_words(path)
        )
        if looks_like_test and valid("requirements", [rel]):
            chosen.append(rel)
        else:
            others.append(rel)
    return chosen, others


def _file_rank(rel: str) -> int:
    return 0 if any(w.startswith("test") for w in _file_words(Path(rel))) else 1


_INLINE_COMMENT = re.compile(r"\s+#.*$")
_SELF_EXTRAS = re.compile(r"^(?:-e\s*)?\.\[([^\]]+)\]$")
#: ``py311,py312: dep`` / ``!pypy-cov: dep`` (not ``https://``)
_TOX_CONDITION = re.compile(r"^([\w.,!{}-]+):(?!//)\s*(.*)$")
#: ``{[testenv]deps}``: another section's value, as tox substitutes it
_TOX_REFERENCE = re.compile(r"\{\[([^\]]+)\]([\w-]+)\}")
#: env names that say "the tests" (after the one for the Python that runs)
TOX_TEST_ENVS = ("py", "py3", "test", "tests", "pytest", "unit")


@dataclass
class EnvDeps:
    """What one test environment declares: tox.ini's (``[testenv]`` or the env the tests run
    in) or a noxfile's test session. ``where`` names it ("tox.ini [testenv]")."""

    where: str = ""
    #: plain requirement strings
    packages: list[str] = field(default_factory=list)
    #: files named with ``-r``
    files: list[str] = field(default_factory=list)
    #: factor-conditional lines that do not apply to this environment (``py38: tomli``)
    conditional: list[str] = field(default_factory=list)
    #: options, paths, ``{...}`` substitutions, anything devbox would not accept
    skipped: list[str] = field(default_factory=list)
    #: extras of the project (``[testenv] extras``)
    extras: list[str] = field(default_factory=list)
    #: ``[testenv] dependency_groups``
    groups: list[str] = field(default_factory=list)
    #: extras of the project itself named in deps (``.[test]``; also in ``skipped``)
    self_extras: list[str] = field(default_factory=list)

    @property
    def declared(self) -> bool:
        return bool(self.packages or self.files or self.extras or self.groups or self.self_extras)


def expand_braces(text: str) -> list[str]:
    """tox's generative names: ``py{310,311}-cov`` → py310-cov, py311-cov."""
    m = re.search(r"\{([^{}]*)\}", text)
    if m is None:
        return [text]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out += expand_braces(text[: m.start()] + alt.strip() + text[m.end() :])
    return out


def _applies(condition: str, factors: set[str]) -> bool:
    """A tox factor condition: ``a,b`` either, ``a-b`` both, ``!a`` not."""
    for alternative in expand_braces(condition):
        for option in alternative.split(","):
            parts = [f for f in option.strip().split("-") if f]
            if parts and all(
                (f[1:] not in factors) if f.startswith("!") else (f in factors) for f in parts
            ):
                return True
    return False


def _tox_value(tox: configparser.ConfigParser, section: str, key: str, depth: int = 0) -> str:
    """A key of an env section as tox reads it: the env's own, else [testenv]'s, with
    ``{[section]key}`` references replaced (three levels at most)."""
    if tox.has_option(section, key):
        text = tox.get(section, key)
    elif section != "testenv" and tox.has_option("testenv", key):
        text = tox.get("testenv", key)
    else:
        return ""
    if depth < 3:
        text = _TOX_REFERENCE.sub(
            lambda m: (
                _tox_value(tox, m.group(1), m.group(2), depth + 1)
                if tox.has_section(m.group(1))
                else m.group(0)
            ),
            text,
        )
    return text


def _lines(text: str, factors: set[str], conditional: list[str]) -> list[str]:
    out = []
    for raw in text.splitlines():
        line = _INLINE_COMMENT.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        m = _TOX_CONDITION.match(line)
        if m:
            if _applies(m.group(1), factors):
                line = m.group(2).strip()
            else:
                conditional.append(line)
                continue
        if line:
            out.append(line)
    return out


def _default_env(python: str | None) -> str:
    return f"py{python.replace('.', '')}" if python else "py"


def tox_env(tox: configparser.ConfigParser, python: str | None) -> tuple[str, str]:
    """(section, env name) of the environment tox runs the tests in with ``python``: the first
    env of ``env_list`` for that Python (``py311``, ``py311-cov``), else ``[testenv:NAME]`` for a
    test name, else ``[testenv]`` as the env ``pyXY``."""
    py = _default_env(python)
    listed = []
    for key in ("env_list", "envlist"):
        if tox.has_option("tox", key):
            for raw in re.split(r"[\n,](?![^{]*\})", tox.get("tox", key)):
                listed += expand_braces(_INLINE_COMMENT.sub("", raw).strip())
    for name in listed:
        if py in name.split("-"):
            return (f"testenv:{name}" if tox.has_section(f"testenv:{name}") else "testenv"), name
    for name in (py, *TOX_TEST_ENVS):
        if tox.has_section(f"testenv:{name}"):
            return f"testenv:{name}", name
    return "testenv", py


def tox_deps(tox: configparser.ConfigParser | None, python: str | None = None) -> EnvDeps:
    """What tox installs in the test environment (:func:`tox_env`), read as text: deps (their
    factor-conditional lines for this environment's factors), extras, dependency_groups.
    Nothing of tox is run."""
    if tox is None:
        return EnvDeps()
    section, name = tox_env(tox, python)
    if not tox.has_section(section):
        return EnvDeps()
    listed = section == "testenv" and name != _default_env(python)
    result = EnvDeps(where=f"tox.ini [{section}]" + (f" ({name})" if listed else ""))
    factors = set(name.split("-"))
    for key, into in (("extras", result.extras), ("dependency_groups", result.groups)):
        for item in _lines(_tox_value(tox, section, key).replace(",", "\n"), factors, []):
            if "{" not in item:
                into.append(item)
    deps = _tox_value(tox, section, "deps")
    # tox's path substitutions: {/} is the path separator, {toxinidir} the project
    deps = deps.replace("{/}", "/").replace("{toxinidir}/", "").replace("{toxinidir}", ".")
    for line in _lines(deps, factors, result.conditional):
        if line.startswith(("-r", "--requirement")):
            result.files.append(re.sub(r"^(-r|--requirement)[=\s]*", "", line))
            continue
        m = _SELF_EXTRAS.match(line)
        if m:
            result.skipped.append(line)
            result.self_extras += [e.strip() for e in m.group(1).split(",") if e.strip()]
        elif (
            line.startswith(("-", ".", "/"))
            or "{" in line
            or "}" in line
            or not valid("packages", [line])
        ):
            result.skipped.append(line)
        else:
            result.packages.append(line)
    return result


def read_tox(
    root: Path, pyproject: Mapping[str, Any], notes: list[str]
) -> configparser.ConfigParser | None:
    """tox's configuration as INI: tox.ini, else pyproject.toml's ``[tool.tox] legacy_tox_ini``."""
    tox = read_ini(root / "tox.ini", notes)
    if tox is not None:
        return tox
    table = (
        pyproject.get("tool", {}).get("tox") if isinstance(pyproject.get("tool"), dict) else None
    )
    legacy = table.get("legacy_tox_ini") if isinstance(table, dict) else None
    if not isinstance(legacy, str):
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(legacy, source="pyproject.toml [tool.tox] legacy_tox_ini")
    except configparser.Error:
        notes.append("pyproject.toml [tool.tox] legacy_tox_ini could not be read: it was not used.")
        return None
    return parser


def nox_deps(root: Path, notes: list[str] | None = None) -> EnvDeps:
    """What the noxfile's test session installs (:func:`devbox.config.pysource.nox_test_session`)."""
    session = nox_test_session(root, notes)
    if session is None:
        return EnvDeps()
    result = EnvDeps(
        where=f"noxfile.py session {session.name!r}",
        files=list(session.files),
        groups=list(session.groups),
        self_extras=list(session.self_extras),
        skipped=list(session.skipped),
    )
    for req in session.packages:
        (
            result.packages
            if valid("packages", [req]) and requirement_problem(req) is None
            else result.skipped
        ).append(req)
    return result


def group_requirements(facts: ProjectFacts, name: str, seen: tuple[str, ...] = ()) -> list[str]:
    wanted = normalize_name(name)
    if wanted in seen:
        return []
    out: list[str] = []
    for key, entries in facts.dependency_groups.items():
        if normalize_name(key) != wanted or not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, str):
                out.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                out += group_requirements(facts, entry["include-group"], (*seen, wanted))
    return out


# --- setup.cfg [options.extras_require] -------------------------------------------------------


def _setup_cfg_counts(facts: ProjectFacts) -> bool:
    """Whether setuptools reads setup.cfg's extras: no [project] table, or its extras dynamic."""
    project = facts.pyproject.get("project")
    return not isinstance(project, dict) or "optional-dependencies" in facts.dynamic


def setup_cfg_extras(facts: ProjectFacts) -> dict[str, tuple[str, ...]]:
    """``[options.extras_require]`` of setup.cfg, read as data (extra → requirement lines, not
    yet checked: :func:`setup_cfg_extra` checks the one it returns), when setuptools would use
    it; ``name:marker`` keys (the old form) add the marker."""
    if not _setup_cfg_counts(facts):
        return {}
    cfg = read_ini(facts.root / "setup.cfg", [])
    if cfg is None or not cfg.has_section("options.extras_require"):
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key, text in cfg.items("options.extras_require"):
        name, _, marker = key.partition(":")
        reqs = []
        for raw in text.splitlines():
            line = _INLINE_COMMENT.sub("", raw).strip()
            if not line or line.startswith("#"):
                continue
            if marker.strip() and ";" not in line:
                line = f"{line}; {marker.strip()}"
            reqs.append(line)
        out[name.strip()] = out.get(name.strip(), ()) + tuple(reqs)
    return out


def setup_py_extras(facts: ProjectFacts) -> dict[str, tuple[str, ...]]:
    """setup.py's ``extras_require``, read as literals (:mod:`devbox.config.pysource`), when
    setuptools would use it (as for setup.cfg)."""
    if not _setup_cfg_counts(facts):
        return {}
    return dict(read_setup_py(facts.root).extras)


def outside_extras(facts: ProjectFacts) -> dict[str, tuple[str, ...]]:
    """The extras declared outside pyproject.toml, as setuptools merges them: setup.cfg's,
    then setup.py's (a keyword of ``setup()`` wins over setup.cfg)."""
    out = dict(setup_cfg_extras(facts))
    for key, reqs in setup_py_extras(facts).items():
        for old in [k for k in out if normalize_name(k) == normalize_name(key)]:
            del out[old]
        out[key] = reqs
    return out


def where_extra(facts: ProjectFacts, name: str) -> str:
    wanted = normalize_name(name)
    if any(normalize_name(k) == wanted for k in setup_py_extras(facts)):
        return "setup.py extras_require"
    return "setup.cfg [options.extras_require]"


def outside_extra(facts: ProjectFacts, name: str) -> tuple[str, ...] | None:
    """One extra declared outside pyproject.toml (setup.cfg or setup.py; PEP 685 names), or
    None when neither declares it.

    A requirement that is not PEP 508 (or not one line of a requirements file) is a
    :class:`ConfigError`, as in pyproject.toml."""
    wanted = normalize_name(name)
    for key, reqs in outside_extras(facts).items():
        if normalize_name(key) != wanted:
            continue
        for line in reqs:
            problem = requirement_problem(line)
            if problem is not None:
                where = where_extra(facts, key)
                file = "setup.py" if where.startswith("setup.py") else "setup.cfg"
                raise ConfigError(
                    f"{facts.root / file}: {where.partition(' ')[2]} {key}: {line!r} is "
                    f"not a PEP 508 requirement ({problem}). Write one requirement per line; "
                    "installer options (-e, -r, --index-url) do not belong in an extra."
                )
        return reqs
    return None


# --- the choice -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """What a run without configured test dependencies installs, and why."""

    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    #: what was chosen, each as where it is declared ("[dependency-groups] tests")
    chosen: tuple[str, ...] = ()
    #: candidates found but not used (another was chosen)
    passed_over: tuple[str, ...] = ()
    #: the test environment the choice follows ("tox.ini [testenv]"), if any
    from_env: str = ""

    def __bool__(self) -> bool:
        return bool(self.chosen)

    @property
    def from_tox(self) -> bool:
        return self.from_env.startswith("tox.ini")

    @property
    def line(self) -> str:
        """The one line a run prints."""
        why = "found"
        if self.from_env:
            why += f"; what {self.from_env} installs"
        if self.passed_over:
            why += f"; not used: {', '.join(self.passed_over)}"
        return f"devbox: test dependencies: {', '.join(self.chosen)} ({why})"


def _inside(root: Path, rel: str) -> bool:
    try:
        return (root / rel).is_file() and (root / rel).resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _from_env(
    facts: ProjectFacts, env: EnvDeps, extras_outside: dict[str, tuple[str, ...]]
) -> Found:
    root = facts.root
    outside = {normalize_name(k) for k in extras_outside}
    extras: list[str] = []
    for extra in (*env.extras, *env.self_extras):
        known = facts.extra(extra) is not None or normalize_name(extra) in outside
        if known and valid("extras", [extra]) and extra not in extras:
            extras.append(extra)
    groups = [g for g in env.groups if facts.has_group(g) and valid("groups", [g])]
    files = []
    for raw in env.files:
        rel = re.sub(r"^\{toxinidir\}/", "", raw)
        if valid("requirements", [rel]) and _inside(root, rel) and rel not in files:
            files.append(rel)
    packages = [p for p in env.packages if requirement_problem(p) is None]
    installs = "installs" if env.where.startswith("noxfile") else "deps"
    chosen = (
        [f"{env.where} dependency_groups {g}" for g in groups]
        + [f"{env.where} extras {e}" for e in extras]
        + [f"{env.where} {installs} -r {f}" for f in files]
        + ([f"{env.where} {installs} {', '.join(packages)}"] if packages else [])
    )
    return Found(
        tuple(extras),
        tuple(groups),
        tuple(files),
        tuple(packages),
        tuple(chosen),
        from_env=env.where,
    )


def file_requirement_names(root: Path, rel: str, depth: int = 0) -> set[str]:
    """The distributions a requirement file names (with the files it includes, inside root)."""
    names: set[str] = set()
    try:
        text = (root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return names
    for raw in text.splitlines():
        line = _INLINE_COMMENT.sub("", raw).strip()
        if line.startswith(("-r", "--requirement")) and depth < 5:
            inc = re.sub(r"^(-r|--requirement)[=\s]*", "", line)
            inc = (Path(rel).parent / inc).as_posix()
            if _inside(root, inc):
                names |= file_requirement_names(root, inc, depth + 1)
        elif line and not line.startswith(("-", "#")):
            name = req_name(line)
            if name:
                names.add(name)
    return names


def installed_names(facts: ProjectFacts, found: Found) -> set[str]:
    """The distributions installing ``found`` (and the project's dependencies) brings, by the
    names its declarations give (not what they pull in)."""
    reqs: list[str] = [*facts.dependencies, *found.packages]
    for extra in found.extras:
        reqs += facts.extra(extra) or outside_extras(facts).get(extra, ())
    for group in found.groups:
        reqs += group_requirements(facts, group)
    names = {n for n in map(req_name, reqs) if n}
    for rel in found.requirements:
        names |= file_requirement_names(facts.root, rel)
    return names


def _with_plugins(facts: ProjectFacts, found: Found) -> Found:
    """``found`` plus the pytest plugins the pytest configuration needs that it lacks."""
    have = installed_names(facts, found)
    added: list[str] = []
    said: list[str] = []
    for need in needed_plugins(facts.root, facts.pyproject):
        if need.name not in have and valid("packages", [need.requirement]):
            added.append(need.requirement)
            said.append(f"{need.requirement} ({need.why})")
    if not added:
        return found
    return dataclasses.replace(
        found, packages=(*found.packages, *added), chosen=(*found.chosen, *said)
    )


def find_test_dependencies(
    facts: ProjectFacts,
    tox: configparser.ConfigParser | None = None,
    python: str | None = None,
) -> Found:
    """What a contributor would install to run the project's tests (see the module's text).

    ``tox``: tox's configuration already parsed (read from the project when None);
    ``python``: the version the tests run with (tox's factor-conditional deps). Empty (falsy)
    when nothing is declared."""
    return _with_plugins(facts, _declared(facts, tox, python))


def _declared(
    facts: ProjectFacts, tox: configparser.ConfigParser | None, python: str | None
) -> Found:
    root = facts.root
    if tox is None:
        tox = read_tox(root, facts.pyproject, [])
    py_setup = read_setup_py(root) if _setup_cfg_counts(facts) else None
    extras_outside = outside_extras(facts)
    # (name rank, kind rank, where, what) for every conventional candidate
    candidates: list[tuple[int, int, str, Found]] = []
    for g in facts.dependency_groups:
        if is_test_name(g) and valid("groups", [g]):
            where = f"[dependency-groups] {g}"
            candidates.append((_name_rank(g), 0, where, Found(groups=(g,), chosen=(where,))))
    for e in facts.optional_dependencies:
        if is_test_name(e) and valid("extras", [e]):
            where = f"[project.optional-dependencies] {e}"
            candidates.append((_name_rank(e), 1, where, Found(extras=(e,), chosen=(where,))))
        elif normalize_name(e) == ALL_EXTRA and valid("extras", [e]):
            where = f"[project.optional-dependencies] {e}"
            candidates.append((2, 1, where, Found(extras=(e,), chosen=(where,))))
    for e in extras_outside:
        if is_test_name(e) and valid("extras", [e]) and facts.extra(e) is None:
            where = f"{where_extra(facts, e)} {e}"
            candidates.append((_name_rank(e), 2, where, Found(extras=(e,), chosen=(where,))))
    for rel in requirement_files(root)[0]:
        if _inside(root, rel):
            candidates.append((_file_rank(rel), 3, rel, Found(requirements=(rel,), chosen=(rel,))))
    if py_setup is not None and py_setup.tests_require:
        tests = tuple(r for r in py_setup.tests_require if requirement_problem(r) is None)
        if tests and valid("packages", list(tests)):
            where = "setup.py tests_require"
            candidates.append((0, 4, where, Found(packages=tests, chosen=(where,))))
    candidates.sort(key=lambda c: (c[0], c[1]))
    for env in (tox_deps(tox, python), nox_deps(root)):
        if not env.declared:
            continue
        found = _from_env(facts, env, extras_outside)
        if found:
            names = set(found.extras) | set(found.groups) | set(found.requirements)
            passed = [
                where
                for _, _, where, c in candidates
                if not names & {*c.extras, *c.groups, *c.requirements}
            ]
            return dataclasses.replace(found, passed_over=tuple(passed))
    if not candidates:
        return Found()
    best = candidates[0][3]
    return Found(
        best.extras,
        best.groups,
        best.requirements,
        best.packages,
        chosen=best.chosen,
        passed_over=tuple(where for _, _, where, _ in candidates[1:]),
    )
