"""Facts about the user's project, read from its files (never modified)."""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from devbox.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "PYPROJECT",
    "ProjectFacts",
    "inspect_project",
    "read_pyproject",
    "requirement_problem",
    "tomllib",
]

PYPROJECT = "pyproject.toml"


def read_pyproject(project_dir: Path) -> dict[str, Any]:
    """Parse ``pyproject.toml``; every way it can be unusable is a :class:`ConfigError`."""
    path = project_dir / PYPROJECT
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if any((project_dir / name).is_file() for name in LEGACY_MANIFESTS):
            return {}  # a setup.py/setup.cfg project: no [tool.devbox], defaults and DEVBOX_*
        raise ConfigError(
            f"{path}: no pyproject.toml (nor setup.py or setup.cfg) here. Run devbox from a "
            "project's root directory or point at one with --project DIR."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the file ({exc}). Check its permissions and encoding."
        ) from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line L, column C)": keep it, that is the where.
        raise ConfigError(
            f"{path}: invalid TOML: {exc}. Fix the syntax at that position."
        ) from None


#: manifests of projects without a pyproject.toml (configured by DEVBOX_* and options only)
LEGACY_MANIFESTS = ("setup.py", "setup.cfg")


def find_project_dir(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding a pyproject.toml, setup.py or
    setup.cfg (else ``start``)."""
    start = start.resolve()
    for d in (start, *start.parents):
        if any((d / name).is_file() for name in (PYPROJECT, *LEGACY_MANIFESTS)):
            return d
    return start


def setup_cfg_requires_python(root: Path) -> str | None:
    """``python_requires`` of setup.cfg's ``[options]``, read as data (None: none, or no
    readable setup.cfg): a setup.cfg-only project says which Pythons it supports there."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(root / "setup.cfg", encoding="utf-8")
        value = parser.get("options", "python_requires", fallback=None)
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None
    return value.strip() or None if value else None


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


_NAME_NORMALIZE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalized project name."""
    return _NAME_NORMALIZE.sub("-", name).lower()


@dataclass(frozen=True)
class ProjectFacts:
    root: Path
    pyproject: Mapping[str, Any]
    name: str | None
    version: str | None
    dynamic: tuple[str, ...]
    requires_python: str | None
    dependencies: tuple[str, ...]
    optional_dependencies: Mapping[str, tuple[str, ...]]
    dependency_groups: Mapping[str, Any]
    scripts: Mapping[str, str]
    #: directory (relative to the root) that must be on sys.path to import the project
    import_root: str
    #: the project builds native code (C/C++/Cython/Rust extensions): it must be installed,
    #: not just put on sys.path
    compiled: bool = False

    def extra(self, name: str) -> tuple[str, ...] | None:
        """An extra's requirements, matching names as PEP 685 does (normalized)."""
        wanted = normalize_name(name)
        for key, reqs in self.optional_dependencies.items():
            if normalize_name(key) == wanted:
                return reqs
        return None

    def has_group(self, name: str) -> bool:
        wanted = normalize_name(name)
        return any(normalize_name(k) == wanted for k in self.dependency_groups)

    @property
    def has_static_metadata(self) -> bool:
        """Name, version and dependencies are all known without building the project."""
        return (
            self.name is not None
            and self.version is not None
            and not {"dependencies", "optional-dependencies"} & set(self.dynamic)
        )


def _str_tuple(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


#: what may not appear in a requirement devbox writes as a line of requirements.txt, though
#: packaging accepts some of it in URLs and marker strings: control characters and line breaks
#: (a new line), backslashes (pip joins a line ending in one with the next), and a word that
#: starts with '-' or '#' (pip reads the rest of the line as options, or as a comment)
_UNSAFE_IN_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\\]|(?:^|\s)[-#]")


def requirement_problem(text: str) -> str | None:
    """Why ``text`` is not a PEP 508 requirement devbox can write as one line of a requirements
    file (None: it is one). Parsing is ``packaging``'s; the line rules are devbox's."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        return str(exc).splitlines()[0].rstrip(".") if str(exc) else "it does not parse"
    if req.url is not None:
        try:
            scheme = urlsplit(req.url).scheme
        except ValueError as exc:  # e.g. a bracketed host that is no IPv6 address
            return f"the URL after '@' does not parse: {exc}"
        if not scheme:
            return "the URL after '@' has no scheme (such as https:// or file://)"
    unsafe = _UNSAFE_IN_LINE.search(text)
    if unsafe is not None:
        found = unsafe.group()
        if found[-1] in "-#":
            return (
                f"as a line of requirements.txt: a word starts with {found[-1]!r}, which pip "
                "reads as an option or a comment"
            )
        return (
            f"as a line of requirements.txt: it holds {found!r}, and line breaks, control "
            "characters and backslashes are not allowed"
        )
    return None


def _checked_requirements(value: object, key: str, path: Path) -> tuple[str, ...]:
    """The requirement strings of a list (other entries ignored), each checked as PEP 508."""
    reqs = _str_tuple(value)
    for req in reqs:
        problem = requirement_problem(req)
        if problem is not None:
            raise ConfigError(
                f"{path}: {key}: {req!r} is not a PEP 508 requirement ({problem}). Write one "
                'requirement per entry, such as "requests>=2" or "name @ https://host/name.whl"; '
                "installer options (--index-url, -r, -e, --trusted-host) do not belong in the "
                "project's metadata: use [tool.devbox] index-url, extra-index-url or requirements."
            )
    return reqs


def _checked_groups(groups: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """[dependency-groups] with every requirement string checked ({include-group} tables and
    entries of other types are kept as they are)."""
    for name, entries in groups.items():
        if isinstance(entries, list):
            _checked_requirements(entries, f"[dependency-groups] {name}", path)
    return dict(groups)


def inspect_project(root: Path, pyproject: Mapping[str, Any]) -> ProjectFacts:
    """Facts about the project at ``root``; every requirement string of its metadata must be
    PEP 508 (a :class:`ConfigError` names the key of the first that is not)."""
    path = root / PYPROJECT
    project = pyproject.get("project")
    project = project if isinstance(project, dict) else {}
    name = project.get("name") if isinstance(project.get("name"), str) else None
    version = project.get("version") if isinstance(project.get("version"), str) else None
    dynamic = _str_tuple(project.get("dynamic"))
    if "version" in dynamic:  # computed at build time: known only in an unpacked sdist
        version = sdist_version(root)
    optional = project.get("optional-dependencies")
    groups = pyproject.get("dependency-groups")
    scripts = project.get("scripts")
    return ProjectFacts(
        root=root,
        pyproject=pyproject,
        name=name,
        version=version,
        dynamic=dynamic,
        requires_python=project.get("requires-python")
        if isinstance(project.get("requires-python"), str)
        else setup_cfg_requires_python(root),
        dependencies=_checked_requirements(
            project.get("dependencies"), "[project] dependencies", path
        ),
        optional_dependencies={
            k: _checked_requirements(v, f"[project.optional-dependencies] {k}", path)
            for k, v in optional.items()
        }
        if isinstance(optional, dict)
        else {},
        dependency_groups=_checked_groups(groups, path) if isinstance(groups, dict) else {},
        scripts={k: v for k, v in scripts.items() if isinstance(v, str)}
        if isinstance(scripts, dict)
        else {},
        import_root=detect_import_root(root),
        compiled=builds_native_code(root, pyproject),
    )


#: build backends that compile native code
NATIVE_BACKENDS = (
    "mesonpy",
    "scikit_build_core",
    "maturin",
    "enscons",
    "pymsbuild",
    "py_build_cmake",
)
#: what a setup.py that builds extensions contains
_SETUP_MARKERS = ("ext_modules", "Extension(", "cythonize", "cffi_modules", "rust_extensions")


def builds_native_code(root: Path, pyproject: Mapping[str, Any]) -> bool:
    """Whether building the project compiles extensions (so it must be built to be imported)."""
    system = pyproject.get("build-system")
    backend = system.get("build-backend") if isinstance(system, dict) else None
    if isinstance(backend, str) and backend.split(".")[0] in NATIVE_BACKENDS:
        return True
    tool = pyproject.get("tool")
    setuptools = tool.get("setuptools") if isinstance(tool, dict) else None
    if isinstance(setuptools, dict) and "ext-modules" in setuptools:
        return True
    try:
        setup_py = (root / "setup.py").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(marker in setup_py for marker in _SETUP_MARKERS)


def sdist_version(root: Path) -> str | None:
    """The version an unpacked sdist records in PKG-INFO (a dynamic version, already computed)."""
    try:
        with (root / "PKG-INFO").open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip() or None
                if not line.strip():
                    break
    except (OSError, UnicodeDecodeError):
        pass
    return None


def detect_import_root(root: Path) -> str:
    """``"src"`` for a src layout (a package under ``src/``), else ``"."`` (flat layout)."""
    src = root / "src"
    if src.is_dir():
        for child in src.iterdir():
            if (child / "__init__.py").is_file() or child.suffix == ".py":
                return "src"
    return "."


# --- requires-python ------------------------------------------------------------------------

_CLAUSE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*)(\.\*)?\s*$")


def _release(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def _pad(t: tuple[int, ...], n: int = 3) -> tuple[int, ...]:
    return t + (0,) * (n - len(t))


def _satisfies(version: tuple[int, int, int], op: str, target: str, wildcard: bool) -> bool:
    t = _release(target)
    if wildcard:  # ==3.11.* / !=3.11.*
        match = version[: len(t)] == t
        return match if op == "==" else not match
    tp = _pad(t)
    if op in ("==", "==="):
        return version == tp
    if op == "!=":
        return version != tp
    if op == "<":
        return version < tp
    if op == "<=":
        return version <= tp
    if op == ">":
        return version > tp
    if op == ">=":
        return version >= tp
    # ~=X.Y.Z: >= X.Y.Z and == X.Y.*
    return version >= tp and version[: len(t) - 1] == t[:-1]


def python_allowed(spec: str, minor_version: str) -> bool:
    """Whether some release of ``3.Y`` (``minor_version``) satisfies ``requires-python``.

    A small evaluator for the clause forms PEP 440 allows in ``requires-python``; an
    unparsable clause allows everything (devbox then falls back to its default).
    """
    major, minor = _release(minor_version)[:2]
    clauses = [c for c in spec.split(",") if c.strip()]
    parsed = []
    for c in clauses:
        m = _CLAUSE.fullmatch(c)
        if m is None or (m.group(3) and m.group(1) not in ("==", "!=")):
            return True  # PEP 440 allows ".*" only with == and !=
        parsed.append((m.group(1), m.group(2), m.group(3) is not None))
    patches = {0, 999} | {_pad(_release(t))[2] + d for _, t, _ in parsed for d in (-1, 0, 1)}
    return any(
        all(_satisfies((major, minor, p), op, t, w) for op, t, w in parsed)
        for p in patches
        if p >= 0
    )
