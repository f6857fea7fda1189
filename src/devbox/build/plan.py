"""Config + project facts → a :class:`Plan`: which stages, what to install, which commands.

Pure: no I/O beyond reading the project's directory listing, no Docker.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import re
import stat
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version
from pyproject_metadata import ConfigurationError, StandardMetadata

from devbox import tools
from devbox.build.contract import INSTALL_DIR, NATIVE_AUTO
from devbox.config import Config, Source
from devbox.config.keys import KEYS
from devbox.config.project import ProjectFacts, normalize_name, sdist_version, tomllib
from devbox.config.testdeps import file_requirement_names, outside_extra, req_name
from devbox.errors import ConfigError

Command = Literal["lint", "test", "check"]
ProjectInstall = Literal["metadata", "editable", "none"]

#: The version a project with a build-time version gets when nothing better is known.
FALLBACK_VERSION = "0.0.0+devbox"

#: Where the project's requirement files are mounted in the install step.
REQUIREMENTS_DIR = INSTALL_DIR + "/project"

#: Never sent to the engine: VCS data, environments, caches, build outputs.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    "**/node_modules",
    "**/__pycache__",
    "**/*.py[cod]",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "**/.mypy_cache",
    "**/.ruff_cache",
    "**/.pytest_cache",
    "**/.hypothesis",
    ".coverage",
    ".coverage.*",
    "htmlcov",
    "build",
    "dist",
    "**/*.egg-info",
    ".eggs",
)

#: Directories never walked when looking for virtualenvs (already excluded, or huge).
_SKIP_WALK = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox"}


#: the stage names the Dockerfile gives a version's dependency step and a tool's step
ENV_STAGE_PREFIX = "test-base-"
TOOL_STAGE_PREFIX = "tool-"


def is_env_stage(stage: str | None) -> bool:
    """Whether ``stage`` (as progress names it) is a dependency stage."""
    return (stage or "").startswith(ENV_STAGE_PREFIX)


def tool_key(name: str, python: str) -> str:
    """One result's key: the tool and its Python version (``pytest@3.12``)."""
    return f"{name}@{python}"


def _arg_suffix(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", text)


@dataclass(frozen=True)
class EnvPlan:
    """The dependency stage of one Python version."""

    python: str
    image: str

    @property
    def stage(self) -> str:
        return f"{ENV_STAGE_PREFIX}{self.python}"

    @property
    def rerun_arg(self) -> str:
        """Build arg that busts this version's install step (set when it failed last time)."""
        return "devbox_rerun_base_" + _arg_suffix(self.python)


@dataclass(frozen=True)
class ToolRun:
    name: str
    kind: tools.Kind
    python: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    junit: bool
    #: seconds the tool may run before it is stopped (tool_timeout()); None: no limit
    timeout: float | None = None
    #: the distribution whose version is the tool's (its first package), normalised
    package: str | None = None
    #: --affected: a pytest run selects the tests the changes affect (pytest-testmon)
    affected: bool = False

    @property
    def key(self) -> str:
        """Unique per result: the tool and its Python version."""
        return tool_key(self.name, self.python)

    @property
    def stage(self) -> str:
        return f"{TOOL_STAGE_PREFIX}{self.name}-{self.python}"

    @property
    def rerun_arg(self) -> str:
        """Build arg that busts this tool's cached step (set for tools that failed last time)."""
        return f"devbox_rerun_{_arg_suffix(self.name)}_{_arg_suffix(self.python)}"


@dataclass(frozen=True)
class Lock:
    """Install from ``uv.lock``: which extras and groups to sync."""

    extras: tuple[str, ...]
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    project: ProjectFacts
    project_key: str
    #: one per Python version, the first version first (it runs the version-blind tools)
    environments: tuple[EnvPlan, ...]
    installer: str
    #: lines of the generated requirements file installed into test-base
    requirements: tuple[str, ...]
    #: project-relative requirement files (and those they include with -r/-c) → content
    requirement_files: Mapping[str, str]
    project_install: ProjectInstall
    tools: tuple[ToolRun, ...]
    excludes: tuple[str, ...]
    #: set when the project has a uv.lock (and the installer is uv)
    lock: Lock | None = None
    #: host path of a CA bundle passed as the build secret ``devbox-ca`` (never a layer)
    ca_bundle: str | None = None
    #: package indexes with any credentials replaced by "***" (the real URLs are secrets)
    indexes: tuple[str, ...] = ()
    #: False: tool steps run without network (``network = false``)
    network: bool = True
    #: --offline: no step has network, installs included
    offline: bool = False
    #: project files (or directories) in the build context that devbox's user cannot read
    unreadable: tuple[str, ...] = ()
    #: Debian/Ubuntu packages apt-get installs in the dependency stage; (NATIVE_AUTO,): what
    #: the image lacks to build native code (see :func:`system_packages`)
    system_packages: tuple[str, ...] = ()
    #: the project's version (for a build-time version: pretend-version, PKG-INFO or a stand-in)
    version: str | None = None
    #: sent paths changed in place since the last transfer without a new mtime (``cp -p``,
    #: ``touch -r``, ``chmod``): BuildKit's incremental transfer would miss them (see
    #: :func:`scan_tree`); None when there was no earlier transfer to compare with
    rewritten: tuple[str, ...] | None = ()
    #: ``devbox --refresh``'s token for this project ("<unix time>-<id>"; "" never asked): part
    #: of the dependency stage's key, so a refresh resolves anew and later runs keep the result
    refresh: str = ""

    @property
    def native_note(self) -> str | None:
        """The console line saying devbox installs a compiler unasked (None: it does not)."""
        if NATIVE_AUTO not in self.system_packages:
            return None
        return (
            "devbox: native code: installing a C compiler and Python's headers where the image "
            "lacks them (system-packages not set; system-packages = [] turns this off)"
        )

    @property
    def image_name(self) -> str:
        """The project directory's name as an image repository component (shell, base)."""
        name = re.sub(r"[^a-z0-9._-]", "-", self.project.root.name.lower()).strip(".-_")
        return name or "project"

    @property
    def tool_network(self) -> bool:
        return self.network and not self.offline

    def install_spec(self) -> dict[str, Any]:
        """What the in-image installer needs (written to the devbox context as JSON)."""
        f = self.project
        entry_points: dict[str, dict[str, str]] = {}
        if f.scripts:
            entry_points["console_scripts"] = dict(f.scripts)
        project_table = f.pyproject.get("project", {})
        gui = project_table.get("gui-scripts") if isinstance(project_table, dict) else None
        if isinstance(gui, dict):
            entry_points["gui_scripts"] = {k: v for k, v in gui.items() if isinstance(v, str)}
        eps = project_table.get("entry-points") if isinstance(project_table, dict) else None
        if isinstance(eps, dict):
            for group, items in eps.items():
                if isinstance(items, dict):
                    entry_points[group] = {k: v for k, v in items.items() if isinstance(v, str)}
        metadata, note = core_metadata(f) if self.project_install == "metadata" else (None, None)
        return {
            "installer": self.installer,
            "project_install": self.project_install,
            "name": f.name,
            "version": f.version,
            "metadata": metadata,
            "metadata_note": note,
            "import_root": f.import_root,
            "entry_points": entry_points,
            "indexes": list(self.indexes),
            "lock": None
            if self.lock is None
            else {"extras": list(self.lock.extras), "groups": list(self.lock.groups)},
            "refresh": self.refresh or None,
        }


def core_metadata(facts: ProjectFacts) -> tuple[str, str | None]:
    """The project's core metadata (a wheel's METADATA file) from its ``[project]`` table, as
    pyproject-metadata writes it, and None; or, when that library rejects the table, Name
    and Version only and a one-line note saying why.

    Left out: the long description (``readme``), so that editing the README does not
    reinstall the dependencies (this text is part of the dependency stage's key), and fields
    declared dynamic (computed by a build devbox does not run); a dynamic version is the one
    devbox knows (``facts.version``: pretend-version or an sdist's PKG-INFO).
    """
    name, version = facts.name, facts.version
    assert name is not None and version is not None, "only projects with static metadata"
    fallback = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    project = facts.pyproject.get("project")
    table = {k: v for k, v in project.items() if k != "readme"} if isinstance(project, dict) else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its style warnings are not the user's problem here
            meta = StandardMetadata.from_pyproject(
                {"project": table}, facts.root, allow_extra_keys=True
            )
            if meta.version is None or "version" in facts.dynamic:
                meta.version = Version(version)
            text = str(meta.as_rfc822())
    except (ConfigurationError, ValueError, TypeError) as exc:
        why = " ".join(str(exc).split())
        return fallback, (
            f"the project's METADATA has only Name and Version: pyproject-metadata rejects its "
            f"[project] table ({why})"
        )
    return text, None


def redact_url(url: str) -> str:
    """``url`` with its user-info (credentials) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if sep and "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    return f"{scheme}{sep}{netloc}{slash}{path}"


def project_key(root: Path) -> str:
    """A short stable id for a project directory (cache mounts and devbox's own files)."""
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def _expand(reqs: Iterable[str], facts: ProjectFacts, seen: set[str]) -> list[str]:
    """Requirement strings, with references to the project's own extras expanded in place."""
    out: list[str] = []
    own = normalize_name(facts.name) if facts.name else None
    for req in reqs:
        m = _REQ_NAME.match(req)
        if own and m and normalize_name(m.group(1)) == own:
            for extra in (e.strip() for e in (m.group(2) or "").split(",") if e.strip()):
                if normalize_name(extra) not in seen:
                    seen.add(normalize_name(extra))
                    out += _expand(facts.extra(extra) or (), facts, seen)
            continue
        out.append(req)
    return out


def _group(name: str, facts: ProjectFacts, stack: tuple[str, ...] = ()) -> list[str]:
    if name in stack:
        raise ConfigError(f"[dependency-groups] include a cycle: {' -> '.join((*stack, name))}.")
    out: list[str] = []
    norm = {normalize_name(k): v for k, v in facts.dependency_groups.items()}
    entries = norm.get(normalize_name(name), [])
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
            out += _group(entry["include-group"], facts, (*stack, name))
    return out


#: an include (``-r``/``-c`` and their long forms, value after a space, ``=`` or attached) at
#: the start of a logical line, as pip reads it
_INCLUDE = re.compile(
    r"(?:(?:--requirement|--constraint)(?:\s*=\s*|\s+)|-[rc](?:\s*=\s*|\s*))(\S+)"
)
_COMMENT = re.compile(r"(?:^|\s+)#.*$")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each line pip reads: comments removed, lines ending in a
    backslash joined with the next."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = _COMMENT.sub("", line)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        out.append((start, "".join(pending) + line))
        pending = []
    if pending:
        out.append((start, "".join(pending)))
    return out


def _outside(root: Path, rel: str) -> Path | None:
    """Where ``root/rel`` leads when that is outside ``root`` (following symlinks), else None."""
    resolved = (root / rel).resolve()
    return None if resolved.is_relative_to(root.resolve()) else resolved


def collect_requirement_files(
    root: Path, paths: Sequence[str], *, named_by: str | None = None
) -> dict[str, str]:
    """The named requirement files and, recursively, the project files they include.

    They are copied into devbox's own build context (so no path reaches the Dockerfile);
    nested ``-r``/``-c`` references resolve relative to the including file, as pip does.
    What the project's files name must stay inside the project after following symlinks: the
    files ``paths`` names when ``named_by`` (where they were named: the pyproject key) is
    given, and every include. ``named_by`` None: the user named them (environment, command
    line), and they may lead elsewhere. A URL, or an include that is not a file, stays for the
    installer to report.
    """
    files: dict[str, str] = {}
    todo = list(paths)
    if named_by is not None:
        for rel in paths:
            elsewhere = _outside(root, rel)
            if elsewhere is not None:
                raise ConfigError(
                    f"{named_by}: requirement file {rel!r} resolves to {str(elsewhere)!r}, outside "
                    f"the project {str(root)!r} (through a symlink); a path in pyproject.toml "
                    "must stay inside the project. Put the file itself in the project, or name "
                    "it in DEVBOX_REQUIREMENTS if you mean to install a file from elsewhere."
                )
    while todo:
        rel = todo.pop(0)
        if rel in files:
            continue
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read requirement file {root / rel}: {exc}.") from None
        files[rel] = without_self(text, rel)
        for number, line in _logical_lines(text):
            m = _INCLUDE.match(line.strip())
            if m is None or "://" in m.group(1):
                continue
            ref = m.group(1)
            target = os.path.normpath(os.path.join(os.path.dirname(rel), ref))
            escapes = os.path.isabs(ref) or Path(target).parts[:1] == ("..",)
            leads_to = Path(ref) if os.path.isabs(ref) else _outside(root, target)
            if escapes or leads_to is not None:
                raise ConfigError(
                    f"{root / rel} line {number}: {line.strip()!r} names "
                    f"{str(leads_to or (root / target))!r}, outside the project {str(root)!r}; "
                    "requirement files may include only files inside the project (after "
                    "following symlinks), by paths relative to the including file. Copy the "
                    "file into the project and include it from there."
                )
            if (root / target).is_file():
                todo.append(Path(target).as_posix())
    return files


#: a requirement line naming a local path: ``-e PATH``, ``PATH``, ``NAME @ file:PATH``
_SELF_LINE = re.compile(
    r"^(?:(?:-e|--editable)(?:\s*=\s*|\s+))?"
    r"(?:(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*@\s*)?"
    r"(?P<path>(?:file:(?://)?)?\.{1,2}(?:/[^\s\[;]*)?)(?P<extras>\[[^\]]*\])?\s*(?:;.*)?$"
)
#: what a line that installed the project itself becomes in devbox's copy
SELF_NOTE = "# devbox installs the project itself; this line was: "


def self_line(line: str, rel: str) -> tuple[str, ...] | None:
    """The extras of a requirement line that installs the project itself (``-e .``,
    ``.[test]``, ``..`` from requirements/, ``name @ file:.``), or None for any other line."""
    m = _SELF_LINE.match(line.strip())
    if m is None:
        return None
    path = re.sub(r"^file:(//)?", "", m.group("path"))
    target = os.path.normpath(os.path.join(os.path.dirname(rel), path))
    if target != ".":
        return None
    extras = (m.group("extras") or "").strip("[]")
    return tuple(e.strip() for e in extras.split(",") if e.strip())


def without_self(text: str, rel: str) -> str:
    """A requirement file's text with the lines that install the project itself commented
    out: devbox installs the project (from its manifest, or editable in the tool step), and
    in the build the file sits in devbox's own context, where ``.`` is not the project."""
    out = []
    for line in text.splitlines(keepends=True):
        body = _COMMENT.sub("", line).strip()
        if body and self_line(body, rel) is not None:
            out.append(SELF_NOTE + body + "\n")
        else:
            out.append(line)
    return "".join(out)


def file_self_extras(files: Mapping[str, str]) -> list[str]:
    """The project's extras the requirement files ask for in their self lines (``-e .[test]``)."""
    extras: list[str] = []
    for rel, text in files.items():
        for line in text.splitlines():
            if line.startswith(SELF_NOTE):
                found = self_line(line[len(SELF_NOTE) :], rel) or ()
                extras += [e for e in found if e not in extras]
    return extras


#: the files devbox sends to the build for uv sync (beside each other, as uv reads them)
LOCK_FILES = ("pyproject.toml", "uv.lock")


def _check_lock_files(root: Path) -> None:
    """uv.lock and pyproject.toml travel to the build as text: neither may be a symlink that
    leads out of the project."""
    for name in LOCK_FILES:
        target = _outside(root, name)
        if target is not None:
            raise ConfigError(
                f"{root / name}: resolves to {str(target)!r}, outside the project "
                f"{str(root)!r} (through a symlink); devbox sends {name} to the build for uv "
                f"sync, so it must be a file inside the project. Replace the symlink by the "
                "file itself (uv lock writes uv.lock), or install without the lock with "
                'installer = "pip".'
            )


def find_virtualenvs(root: Path) -> list[str]:
    """Project-relative directories holding a ``pyvenv.cfg`` (virtualenvs by any name)."""
    return scan_tree(root).virtualenvs


@dataclass(frozen=True)
class TreeScan:
    #: virtualenvs by any name (directories holding a ``pyvenv.cfg``)
    virtualenvs: list[str]
    #: files and directories devbox's user cannot read
    unreadable: list[str]
    #: paths changed in place since ``since`` without a new mtime (None: no ``since``)
    rewritten: list[str] | None


def _rewritten(st: os.stat_result, since_ns: int) -> bool:
    """Changed (ctime) after ``since`` while its mtime says before: the content or mode changed
    with the old mtime kept. BuildKit's incremental transfer compares size and mtime only
    (moby/buildkit#2592), so it would keep its old copy; ctime cannot be set back."""
    return st.st_ctime_ns >= since_ns > st.st_mtime_ns


def scan_tree(root: Path, since: float | None = None) -> TreeScan:
    """One walk of the project. BuildKit sends an unreadable file as an empty one, without an
    error (seen with buildx 0.13), so devbox looks for them itself; the unreadable list is
    filtered by the excludes later (it is almost always empty, so that costs nothing).

    ``since``: when the engine last received the tree (a wall-clock time); files and
    directories changed in place after it are listed as ``rewritten``.
    """
    found: list[str] = []
    unreadable: list[str] = []
    rewritten: list[str] = []
    since_ns = None if since is None else int(since * 1e9)

    def check(path: str) -> None:
        if since_ns is None:
            return
        try:
            st = os.lstat(path)
        except OSError:
            return
        if _rewritten(st, since_ns):
            rewritten.append(rel(path) if path != str(root) else ".")

    def rel(path: str) -> str:
        return Path(path).relative_to(root).as_posix()

    def on_error(err: OSError) -> None:
        if err.filename and Path(err.filename) != root:
            unreadable.append(rel(err.filename))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        if "pyvenv.cfg" in filenames:
            found.append(rel(dirpath))
            dirnames.clear()
            continue
        check(dirpath)
        dirnames[:] = [d for d in dirnames if d not in _SKIP_WALK]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue  # gone since the directory was listed: not sent either
            if since_ns is not None and _rewritten(st, since_ns):
                rewritten.append(rel(path))
            # One system call per file, as before: readable by anyone needs no access() (a
            # link's target is checked by BuildKit, as it always was).
            if stat.S_ISLNK(st.st_mode) or st.st_mode & stat.S_IROTH:
                continue
            if not os.access(path, os.R_OK):
                unreadable.append(rel(path))
    return TreeScan(sorted(found), sorted(unreadable), None if since is None else sorted(rewritten))


def _ignore_regex(pattern: str) -> re.Pattern[str] | None:
    """A .dockerignore pattern as a regex over project-relative paths (None: an exception)."""
    pattern = pattern.strip().strip("/")
    if not pattern or pattern.startswith(("!", "#")):
        return None
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:  # a class: [cod], [^x], [a-z]
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = re.sub(r"([\\\]\[^])", r"\\\1", body[1:] if negate else body)
            out, i = out + ("[^/" if negate else "[") + body + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")  # a directory excludes what is inside it


def excluded(path: str, patterns: Sequence[str]) -> bool:
    """Whether ``path`` (project-relative) is kept out of the build context by ``patterns``:
    as BuildKit reads a .dockerignore, the last pattern that matches decides, and a ``!``
    pattern puts back what an earlier one excluded."""
    out = False
    for pattern in patterns:
        pattern = pattern.strip()
        keep = pattern.startswith("!")
        rx = _ignore_regex(pattern[1:] if keep else pattern)
        if rx is not None and rx.fullmatch(path) is not None:
            out = not keep
    return out


def select_tools(
    config: Config, command: Command, only: Sequence[str] = ()
) -> list[tuple[str, tools.Kind]]:
    """The tools ``command`` runs, in configured order; with ``only`` (names from the command
    line), just those. An unknown name, or a command with no tool to run, is a ConfigError."""
    names: list[tuple[str, tools.Kind]] = []
    if command in ("lint", "check"):
        names += [(n, "lint") for n in config.lint]
    if command in ("test", "check"):
        names += [(n, "test") for n in config.test if n not in config.lint or command == "test"]
    if not names:
        keys = {"lint": "lint", "test": "test", "check": "lint and test"}[command]
        raise ConfigError(
            f"devbox {command}: no tool to run: {keys} is empty in the configuration. Name the "
            f'tools to run ([tool.devbox] {keys.split()[0]} = ["..."]; the defaults are '
            f"{', '.join(KEYS['lint'].default)} and {', '.join(KEYS['test'].default)})."
        )
    if not only:
        return names
    known = {normalize_name(n): (n, k) for n, k in names}
    for name in only:
        if normalize_name(name) not in known:
            raise ConfigError(_unknown_tool(config, command, name, [n for n, _ in names]))
    wanted = {normalize_name(n) for n in only}
    return [(n, k) for n, k in names if normalize_name(n) in wanted]


def _unknown_tool(config: Config, command: Command, name: str, have: Sequence[str]) -> str:
    shown = name if name.isprintable() and len(name) <= 64 else repr(name[:64])
    close = difflib.get_close_matches(name, have, n=1, cutoff=0.6)
    other = "test" if name in config.test else "lint" if name in config.lint else None
    if other is not None and other != command:
        why = f" {shown!r} is a {other} tool: devbox {other} {shown}, or devbox check {shown}."
    elif close:
        why = f" Did you mean {close[0]!r}?"
    else:
        why = ""
    return (
        f"devbox {command}: no tool named {shown!r} to run.{why} The tools of devbox {command} "
        f"here: {', '.join(have)} (set in [tool.devbox] lint and test)."
    )


def tool_timeout(config: Config, name: str) -> float | None:
    """The time limit of tool ``name``: its own ``timeout`` ([tool.devbox.tools.NAME]), unless
    the top-level ``timeout`` comes from a stronger source (DEVBOX_TIMEOUT or --timeout over
    pyproject.toml); a tool's own value wins over a top-level one from the same source."""
    override = config.tools.get(name)
    own = override.timeout if override else None
    if own is None:
        return config.timeout
    top = config.sources.get("timeout", Source.DEFAULT)
    if config.timeout is not None and top > config.sources.get("tools", Source.DEFAULT):
        return config.timeout
    return own


def tool_packages(config: Config, name: str) -> tuple[str, ...]:
    """What tool ``name`` installs: its [tool.devbox.tools.NAME] packages, else the built-in's."""
    override = config.tools.get(name)
    if override and override.packages is not None:
        return tuple(override.packages)
    builtin = tools.BUILTIN.get(name)
    return tuple(builtin.packages) if builtin else ()


def _package_name(packages: Sequence[str]) -> str | None:
    """The normalised distribution name of a tool's first package (``ruff==0.8`` → ruff)."""
    for req in packages:
        try:
            return normalize_name(Requirement(req).name)
        except InvalidRequirement:
            continue
    return None


def _tool_runs(
    config: Config,
    command: Command,
    pythons: Sequence[str],
    extra_args: Sequence[str],
    only: Sequence[str] = (),
) -> tuple[list[ToolRun], list[str]]:
    """The tool steps of ``command`` (a built-in tool's facts under the project's overrides),
    and the packages every configured tool installs: one environment for lint, test, check,
    a subset of tools and the shell, so that switching commands replays the install."""
    runs: list[ToolRun] = []
    packages: list[str] = []
    rerun_args: dict[str, str] = {}
    for name in dict.fromkeys((*config.lint, *config.test)):
        packages += tool_packages(config, name)
    for name, kind in select_tools(config, command, only):
        builtin = tools.BUILTIN.get(name)
        override = config.tools.get(name)
        command_ = (override.command if override and override.command else None) or (
            builtin.command if builtin else ()
        )
        env = dict(tools.COMMON_ENV)
        if builtin:
            env.update(builtin.env)
        if override and override.env:
            env.update(override.env)
        junit = bool(builtin and builtin.junit)
        if junit:
            command_ = (*command_, *extra_args)
        per_python = (
            override.per_python
            if override and override.per_python is not None
            else bool(builtin and builtin.per_python)
        )
        # Interpreter-blind tools (ruff, black, ...) run once, on the first version.
        for python in pythons if per_python else pythons[:1]:
            run = ToolRun(
                name,
                kind,
                python,
                tuple(command_),
                env,
                junit,
                tool_timeout(config, name),
                _package_name(tool_packages(config, name)),
            )
            if rerun_args.setdefault(run.rerun_arg, name) != name:
                raise ConfigError(
                    f"tools {rerun_args[run.rerun_arg]!r} and {name!r} differ only in '-', '.' or '_'; rename one."
                )
            runs.append(run)
    return runs, packages


def _requirements(
    config: Config,
    facts: ProjectFacts,
    tool_packages: Sequence[str],
    *,
    locked: bool,
    also_extras: Sequence[str] = (),
) -> list[str]:
    """What the install step resolves: the project's dependencies, extras and groups (unless
    a uv.lock holds them), then devbox's own additions."""
    seen: set[str] = set()
    requirements: list[str] = []
    if not locked:
        if facts.has_static_metadata:
            requirements += _expand(facts.dependencies, facts, seen)
        for extra in (*config.extras, *also_extras):
            if normalize_name(extra) not in seen:
                seen.add(normalize_name(extra))
                # An extra only setup.cfg declares (read as data): what pip install -e .[x]
                # would add, installed here with the other dependencies.
                reqs = facts.extra(extra)
                requirements += _expand(
                    reqs if reqs is not None else outside_extra(facts, extra) or (), facts, seen
                )
        for group in config.groups:
            requirements += _expand(_group(group, facts), facts, seen)
    requirements += config.packages
    # A tool the project declares itself (its test/dev dependencies, requirement files, uv.lock)
    # runs in the project's version: devbox's pinned default is left out, never both.
    declared = {n for n in map(req_name, requirements) if n}
    for rel in config.requirements:
        declared |= file_requirement_names(facts.root, rel)
    if locked:
        declared |= locked_names(facts.root)
    requirements += [p for p in tool_packages if req_name(p) not in declared]
    requirements += [f"-r {REQUIREMENTS_DIR}/{r}" for r in config.requirements]
    return requirements


def locked_names(root: Path) -> set[str]:
    """The distributions uv.lock pins (its ``[[package]]`` names), normalised."""
    try:
        data = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return set()
    packages = data.get("package")
    if not isinstance(packages, list):
        return set()
    return {
        normalize_name(p["name"])
        for p in packages
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    }


def _project_install(facts: ProjectFacts) -> ProjectInstall:
    if facts.has_static_metadata and not facts.compiled:
        return "metadata"
    if facts.name or (facts.root / "setup.py").is_file() or (facts.root / "setup.cfg").is_file():
        return "editable"
    return "none"


def system_packages(config: Config, facts: ProjectFacts) -> tuple[str, ...]:
    """The system-packages; (NATIVE_AUTO,) when the project builds native code and no source
    sets the key (``system-packages = []`` and an empty DEVBOX_SYSTEM_PACKAGES set it).

    The host only says "native code, not configured": what the image lacks (a compiler, the
    headers of its python3) is known inside it, so the install step decides what to install.
    Projects without native code get the system step only when configured, as before."""
    if facts.compiled and config.sources.get("system-packages", Source.DEFAULT) is Source.DEFAULT:
        return (NATIVE_AUTO,)
    return config.system_packages


def make_plan(
    config: Config,
    facts: ProjectFacts,
    command: Command,
    *,
    extra_args: Sequence[str] = (),
    virtualenvs: Sequence[str] | None = None,
    unavailable: Sequence[str] = (),
    offline: bool = False,
    sent_at: float | None = None,
    only: Sequence[str] = (),
    refresh: str = "",
    affected: bool = False,
) -> Plan:
    """``unavailable``: Python versions whose base image cannot be had (left out, reported).
    ``sent_at``: when the engine last received this tree (see :attr:`Plan.rewritten`)."""
    pythons = [p for p in config.python if p not in set(unavailable)]
    if not pythons:
        raise ConfigError("no Python version is left to run (every base image is unavailable).")
    runs, packages = _tool_runs(config, command, pythons, extra_args, only)
    if affected:  # pytest's runs (the tools with JUnit: pytest's arguments) select tests
        runs = [dataclasses.replace(r, affected=True) if r.junit else r for r in runs]

    # A version computed at build time: pretend-version when given (then the manifests say
    # everything), else the sdist's PKG-INFO (inspect_project read it). Projects installed
    # editable get it, or a stand-in, as setuptools-scm's pretend version: no .git reaches
    # the build, so setuptools-scm and hatch-vcs could not compute one.
    if config.pretend_version and facts.name and "version" in facts.dynamic:
        facts = dataclasses.replace(facts, version=config.pretend_version)
    version = config.pretend_version or facts.version or sdist_version(facts.root)

    # uv.lock: the project's dependencies, extras and groups come from the lock (uv sync
    # --frozen, without the project); only devbox's own additions are resolved on top.
    locked = config.installer == "uv" and (facts.root / "uv.lock").is_file()
    if locked:
        _check_lock_files(facts.root)
    requirement_files = collect_requirement_files(
        facts.root,
        config.requirements,
        named_by=f"{facts.root / 'pyproject.toml'}: [tool.devbox] key 'requirements'"
        if config.sources.get("requirements") is Source.PYPROJECT
        else None,
    )
    # `-e .[test]` in a requirement file: the project is installed anyway, its extras here
    file_extras = [
        e
        for e in file_self_extras(requirement_files)
        if facts.extra(e) is not None or outside_extra(facts, e) is not None
    ]
    requirements = _requirements(config, facts, packages, locked=locked, also_extras=file_extras)

    if virtualenvs is None:
        scan = scan_tree(facts.root, sent_at)
    else:  # the caller knows them (a second plan of the same tree): no walk
        scan = TreeScan(list(virtualenvs), [], [])
    excludes = (*DEFAULT_EXCLUDES, *(v for v in scan.virtualenvs if v != "."), *config.exclude)
    return Plan(
        project=facts,
        project_key=project_key(facts.root),
        environments=tuple(EnvPlan(p, config.image_for(p)) for p in pythons),
        installer=config.installer,
        requirements=tuple(dict.fromkeys(requirements)),
        requirement_files=requirement_files,
        lock=Lock(config.extras, config.groups) if locked else None,
        ca_bundle=config.ca_bundle,
        indexes=tuple(
            redact_url(u)
            for u in ([config.index_url] if config.index_url else []) + list(config.extra_index_url)
        ),
        network=config.network,
        offline=offline,
        project_install=_project_install(facts),
        tools=tuple(runs),
        excludes=excludes,
        unreadable=tuple(p for p in scan.unreadable if not excluded(p, excludes)),
        rewritten=None
        if scan.rewritten is None
        else tuple(p for p in scan.rewritten if p == "." or not excluded(p, excludes)),
        system_packages=system_packages(config, facts),
        version=version or FALLBACK_VERSION,
        refresh=refresh,
    )
