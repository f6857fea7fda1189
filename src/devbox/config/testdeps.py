"""The project's test dependencies, found in its own declarations (read as data, never run).

One home for what ``devbox init`` proposes and what a run without configured test
dependencies installs: :func:`find_test_dependencies` reads PEP 735 groups and
``[project.optional-dependencies]`` with the conventional names (:data:`TEST_NAMES`),
``setup.cfg [options.extras_require]``, requirement files named for tests, and what
``tox.ini``'s ``[testenv]`` declares. Nothing of the project is executed (not setup.py, not tox).

Choice, so that the install is what a contributor would make and never a mix that cannot be
satisfied: when ``tox.ini [testenv]`` declares test dependencies (deps, ``-r`` files, extras,
dependency_groups), exactly those; otherwise the one best candidate by name (test, tests,
testing before dev, devel, develop, development) and kind (dependency group, extra in
pyproject.toml, extra in setup.cfg, requirement file). What was passed over is said.
"""

from __future__ import annotations

import configparser
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from devbox.config.keys import KEYS
from devbox.config.project import ProjectFacts, normalize_name, requirement_problem
from devbox.errors import ConfigError

__all__ = [
    "TEST_NAMES",
    "Found",
    "ToxDeps",
    "find_test_dependencies",
    "group_requirements",
    "is_test_name",
    "read_ini",
    "req_name",
    "requirement_files",
    "setup_cfg_extra",
    "setup_cfg_extras",
    "tox_deps",
]

#: Names of extras, dependency groups and requirement files that hold test/dev dependencies.
TEST_NAMES = frozenset({"test", "tests", "testing", "dev", "devel", "develop", "development"})
#: the names that say "tests" (preferred over the dev ones when several are found)
_TEST_FIRST = frozenset({"test", "tests", "testing"})


def valid(key: str, value: object) -> bool:
    try:
        KEYS[key].check(value)
    except ValueError:
        return False
    return True


def read_ini(path: Path, notes: list[str]) -> configparser.ConfigParser | None:
    """An INI file (setup.cfg, tox.ini, ...) parsed as data, or None when absent/unreadable."""
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        notes.append(f"{path.name} could not be read ({first_line}): it was not used.")
        return None
    return parser


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


_TOX_FACTOR = re.compile(r"^[\w.,!-]+:(?!//)")
_INLINE_COMMENT = re.compile(r"\s+#.*$")
_SELF_EXTRAS = re.compile(r"^\.\[([^\]]+)\]$")


@dataclass
class ToxDeps:
    #: plain requirement strings
    packages: list[str] = field(default_factory=list)
    #: files named with ``-r``
    files: list[str] = field(default_factory=list)
    #: factor-conditional lines (``py311: tomli``)
    conditional: list[str] = field(default_factory=list)
    #: options, paths, ``{...}`` substitutions, anything devbox would not accept
    skipped: list[str] = field(default_factory=list)
    #: ``[testenv] extras``
    extras: list[str] = field(default_factory=list)
    #: ``[testenv] dependency_groups``
    groups: list[str] = field(default_factory=list)
    #: extras of the project itself named in deps (``.[test]``; also in ``skipped``)
    self_extras: list[str] = field(default_factory=list)

    @property
    def declared(self) -> bool:
        return bool(self.packages or self.files or self.extras or self.groups or self.self_extras)


def _tox_list(tox: configparser.ConfigParser, key: str) -> list[str]:
    out = []
    for raw in tox.get("testenv", key, fallback="").replace(",", "\n").splitlines():
        item = _INLINE_COMMENT.sub("", raw).strip()
        if item and not item.startswith("#") and "{" not in item:
            out.append(item)
    return out


def tox_deps(tox: configparser.ConfigParser | None) -> ToxDeps:
    """``[testenv]`` deps, extras and dependency_groups read as text; nothing of tox is run."""
    result = ToxDeps()
    if tox is None or not tox.has_section("testenv"):
        return result
    result.extras = _tox_list(tox, "extras")
    result.groups = _tox_list(tox, "dependency_groups")
    for raw in tox.get("testenv", "deps", fallback="").splitlines():
        line = _INLINE_COMMENT.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r", "--requirement")):
            result.files.append(re.sub(r"^(-r|--requirement)[=\s]*", "", line))
        elif _TOX_FACTOR.match(line):
            result.conditional.append(line)
        elif (
            line.startswith(("-", ".", "/"))
            or "{" in line
            or "}" in line
            or not valid("packages", [line])
        ):
            result.skipped.append(line)
            m = _SELF_EXTRAS.match(line)
            if m:
                result.self_extras += [e.strip() for e in m.group(1).split(",") if e.strip()]
        else:
            result.packages.append(line)
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


def setup_cfg_extra(facts: ProjectFacts, name: str) -> tuple[str, ...] | None:
    """One extra of setup.cfg (PEP 685 names), or None when it declares no such extra.

    A requirement that is not PEP 508 (or not one line of a requirements file) is a
    :class:`ConfigError`, as in pyproject.toml."""
    wanted = normalize_name(name)
    for key, reqs in setup_cfg_extras(facts).items():
        if normalize_name(key) != wanted:
            continue
        for line in reqs:
            problem = requirement_problem(line)
            if problem is not None:
                raise ConfigError(
                    f"{facts.root / 'setup.cfg'}: [options.extras_require] {key}: {line!r} is "
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
    #: the choice follows tox.ini's [testenv]
    from_tox: bool = False

    def __bool__(self) -> bool:
        return bool(self.chosen)

    @property
    def line(self) -> str:
        """The one line a run prints."""
        why = "found"
        if self.from_tox:
            why += "; what tox.ini [testenv] installs"
        if self.passed_over:
            why += f"; not used: {', '.join(self.passed_over)}"
        return f"devbox: test dependencies: {', '.join(self.chosen)} ({why})"


def _inside(root: Path, rel: str) -> bool:
    try:
        return (root / rel).is_file() and (root / rel).resolve().is_relative_to(root.resolve())
    except OSError:
        return False


def _from_tox(facts: ProjectFacts, tox: ToxDeps, cfg_extras: dict[str, tuple[str, ...]]) -> Found:
    root = facts.root
    cfg_names = {normalize_name(k) for k in cfg_extras}
    extras: list[str] = []
    for extra in (*tox.extras, *tox.self_extras):
        known = facts.extra(extra) is not None or normalize_name(extra) in cfg_names
        if known and valid("extras", [extra]) and extra not in extras:
            extras.append(extra)
    groups = [g for g in tox.groups if facts.has_group(g) and valid("groups", [g])]
    files = []
    for raw in tox.files:
        rel = re.sub(r"^\{toxinidir\}/", "", raw)
        if valid("requirements", [rel]) and _inside(root, rel) and rel not in files:
            files.append(rel)
    packages = [p for p in tox.packages if requirement_problem(p) is None]
    chosen = (
        [f"tox.ini [testenv] dependency_groups {g}" for g in groups]
        + [f"tox.ini [testenv] extras {e}" for e in extras]
        + [f"tox.ini [testenv] deps -r {f}" for f in files]
        + ([f"tox.ini [testenv] deps {', '.join(packages)}"] if packages else [])
    )
    return Found(
        tuple(extras), tuple(groups), tuple(files), tuple(packages), tuple(chosen), from_tox=True
    )


def find_test_dependencies(
    facts: ProjectFacts, tox: configparser.ConfigParser | None = None
) -> Found:
    """What a contributor would install to run the project's tests (see the module's text).

    ``tox``: tox.ini already parsed (read from the project when None). Empty (falsy) when
    nothing is declared."""
    root = facts.root
    if tox is None:
        tox = read_ini(root / "tox.ini", [])
    cfg_extras = setup_cfg_extras(facts)
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
    for e in cfg_extras:
        if is_test_name(e) and valid("extras", [e]) and facts.extra(e) is None:
            where = f"setup.cfg [options.extras_require] {e}"
            candidates.append((_name_rank(e), 2, where, Found(extras=(e,), chosen=(where,))))
    for rel in requirement_files(root)[0]:
        if _inside(root, rel):
            candidates.append((_file_rank(rel), 3, rel, Found(requirements=(rel,), chosen=(rel,))))
    candidates.sort(key=lambda c: (c[0], c[1]))
    declared = tox_deps(tox)
    if declared.declared:
        found = _from_tox(facts, declared, cfg_extras)
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
        chosen=best.chosen,
        passed_over=tuple(where for _, _, where, _ in candidates[1:]),
    )
