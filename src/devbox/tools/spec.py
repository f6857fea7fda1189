"""What a built-in tool's module declares: the :class:`Tool` record and its building blocks.

Every piece of knowledge about a tool is a required field of :class:`Tool`, so a module that
forgets one does not type-check (and fails when imported): the command and what to install,
how to read its output (:mod:`devbox.results.findings` has the shared parsing pieces), its
VS Code problem matchers, and the clues ``devbox init`` looks for to see that a project uses it.
"""

from __future__ import annotations

import configparser
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from devbox.results.findings import Finding, LineFormat

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Kind = Literal["lint", "test"]

#: A VS Code problem matcher, as written into tasks.json.
Matcher = dict[str, Any]


@dataclass(frozen=True)
class Tool:
    name: str
    kind: Kind
    command: tuple[str, ...]
    #: the fixing form of the command (``devbox fix``): it rewrites the files it would
    #: report; None when the tool has none
    fix: tuple[str, ...] | None
    packages: tuple[str, ...]
    env: Mapping[str, str]
    #: results depend on the interpreter: with several Python versions, run once per version
    per_python: bool
    #: the tool writes a JUnit XML report (pytest): devbox adds the flags and reads the counts,
    #: and the report's test cases stand for the tool in devbox's --junit-xml
    junit: bool
    #: the tool's output (as printed, paths rewritten to host paths) → its findings
    parse: Callable[[str], list[Finding]]
    #: the line formats ``parse`` reads; a tool devbox does not know is tried with every
    #: built-in one (empty when the output is not read line by line, as pytest's)
    line_formats: tuple[LineFormat, ...]
    #: how the tool writes its findings machine-readably (ruff's and mypy's JSON, pylint's
    #: json2, pytest's JUnit), read instead of its text output; None: the text is read
    machine: Machine | None
    #: VS Code problem matchers for what the tool prints (its own ``devbox: NAME`` task)
    matchers: tuple[Matcher, ...]
    #: where a project configures the tool: ``devbox init`` proposes it when one is found
    detect: tuple[Clue, ...]


# --- machine-readable findings ------------------------------------------------------------

#: How the side file is written.  ``after-failure``: when the tool failed, the step runs its
#: command a second time with :attr:`Machine.args`, the run's standard output being the file
#: (ruff and mypy print one format at a time; both replay the first run from their caches);
#: ``alongside``: the command itself writes the file as well as its text (pylint's
#: ``--output-format=text,json2:FILE``); ``junit``: the JUnit XML the tool writes anyway.
MachineHow = Literal["after-failure", "alongside", "junit"]


@dataclass(frozen=True)
class Machine:
    """A tool's machine-readable findings: how the tool step gets them, how devbox reads them.

    Used only when the configured command runs the built-in's program (``mypy …`` or
    ``python -m mypy …``, see :func:`program`): a custom command is read as text."""

    how: MachineHow
    #: options added to the command; ``{file}`` is the side file's path in the container
    args: tuple[str, ...]
    #: options removed from the command first: name → whether it takes a value (a format
    #: option given twice is an error, a second ``--output-format`` would win over ours)
    drop: Mapping[str, bool]
    #: the side file's text → its findings, paths relative to the project or container paths;
    #: None when the text is not what the tool writes (devbox then reads the output instead)
    parse: Callable[[str], list[Finding] | None]
    #: (distribution, major version): ``alongside`` options an older release rejects are
    #: added only when the environment has at least this release
    min_major: tuple[str, int] | None = None


def program(command: tuple[str, ...]) -> str | None:
    """The program a command runs: ``mypy`` for ``mypy .`` and ``python3 -m mypy .``."""
    if not command:
        return None
    first = command[0].rsplit("/", 1)[-1]
    if first.startswith("python") and len(command) > 2 and command[1] == "-m":
        return command[2]
    return first


# --- VS Code problem matchers ----------------------------------------------------------------

# The regular expressions are JavaScript's (VS Code), kept to the subset that Python's ``re``
# reads the same way with ``re.ASCII``.  Paths are devbox's host paths, relative to the
# directory devbox ran in (the workspace folder).

FILE_LOCATION = ["relative", "${workspaceFolder}"]


def matcher(owner: str, pattern: dict[str, Any] | list[dict[str, Any]]) -> Matcher:
    """A problem matcher; ``pattern`` a list when a problem spans consecutive lines."""
    return {
        "owner": f"devbox-{owner}",
        "source": "devbox",
        "fileLocation": list(FILE_LOCATION),
        "severity": "error",
        "pattern": pattern,
    }


#: ruff (concise), flake8: ``file:line:col: [CODE] message``; mypy's lines and pylint's
#: (``CODE:`` with a colon; PYLINT_MATCHERS) excluded.
LINT_REGEXP = (
    r"^([^\s:][^:]*):(\d+):(\d+): (?!(?:error|warning|note): )(?![A-Z][0-9]{4}: )"
    r"(?:([A-Z]+[0-9]+):? (?:\[\*\] )?)?(.*)$"
)
#: black and older ruff-format: ``would reformat file`` / ``Would reformat: file``
REFORMAT_REGEXP = r"^(would reformat|Would reformat:) (.+)$"

#: Shared by the linters that print ``file:line:col: CODE message`` (one owner: one list).
LINT_MATCHER = matcher(
    "lint", {"regexp": LINT_REGEXP, "file": 1, "line": 2, "column": 3, "code": 4, "message": 5}
)


def _pylint_matcher(letters: str, severity: str) -> Matcher:
    found = matcher(
        f"pylint-{severity}",
        {
            "regexp": rf"^([^\s:][^:]*):(\d+):\d+: ([{letters}][0-9]{{4}}): (.*)$",
            "file": 1,
            "line": 2,
            "code": 3,
            "message": 4,
        },
    )
    found["severity"] = severity
    return found


#: pylint: one matcher per severity its message letters mean (fatal and error: error;
#: warning; convention, refactor, information: info). No column: pylint counts columns from
#: 0 and a matcher cannot add one, so the marker goes to the line rather than one to the left.
PYLINT_MATCHERS = (
    _pylint_matcher("EF", "error"),
    _pylint_matcher("W", "warning"),
    _pylint_matcher("CRI", "info"),
)
#: Shared by the formatters that name the files they would change.
REFORMAT_MATCHER = matcher(
    "format", {"regexp": REFORMAT_REGEXP, "kind": "file", "file": 2, "message": 1}
)


# --- where a project configures a tool -----------------------------------------------------

#: The INI files ``devbox init`` reads (in this order) for :class:`IniSection` clues.
INI_FILES = ("setup.cfg", "tox.ini")


@dataclass(frozen=True)
class Project:
    """What ``devbox init`` has read of the project, for the tools' clues."""

    root: Path
    #: pyproject.toml's ``[tool]`` table (empty without one)
    tool: Mapping[str, Any]
    #: the :data:`INI_FILES`, parsed; None when absent or unreadable
    ini: Mapping[str, configparser.ConfigParser | None]

    def table(self, *keys: str) -> dict[str, Any] | None:
        node: Any = self.tool
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else None


class Clue(Protocol):
    """One place a tool's configuration can be; ``where`` names it in init's comments."""

    @property
    def where(self) -> str: ...

    def found(self, project: Project) -> bool: ...


@dataclass(frozen=True)
class Table:
    """``[tool.KEY.SUBKEY]`` in pyproject.toml (a table, not a value)."""

    keys: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"[tool.{'.'.join(self.keys)}]"

    def found(self, project: Project) -> bool:
        return project.table(*self.keys) is not None


@dataclass(frozen=True)
class TablePrefix:
    """Any ``[tool.*]`` key starting with ``prefix`` (pylint reads ``[tool.pylint.*]`` too)."""

    prefix: str

    @property
    def where(self) -> str:
        return f"[tool.{self.prefix}]"

    def found(self, project: Project) -> bool:
        return any(k.startswith(self.prefix) for k in project.tool)


@dataclass(frozen=True)
class TableKey:
    """A key (of any value) inside the pyproject table ``[tool.TABLE]``."""

    table: tuple[str, ...]
    key: str

    @property
    def where(self) -> str:
        return f"[tool.{'.'.join((*self.table, self.key))}]"

    def found(self, project: Project) -> bool:
        table = project.table(*self.table)
        return table is not None and self.key in table


@dataclass(frozen=True)
class File:
    name: str

    @property
    def where(self) -> str:
        return self.name

    def found(self, project: Project) -> bool:
        return (project.root / self.name).is_file()


@dataclass(frozen=True)
class Dir:
    name: str

    @property
    def where(self) -> str:
        return f"a {self.name}/ directory"

    def found(self, project: Project) -> bool:
        return (project.root / self.name).is_dir()


@dataclass(frozen=True)
class IniSection:
    """``[section]`` in one of the :data:`INI_FILES`."""

    file: str
    section: str

    @property
    def where(self) -> str:
        return f"{self.file} [{self.section}]"

    def found(self, project: Project) -> bool:
        ini = project.ini.get(self.file)
        return ini is not None and ini.has_section(self.section)


@dataclass(frozen=True)
class TomlTable:
    """A table in a tool's own TOML file (``[format]`` in ruff.toml); unreadable: not found."""

    file: str
    key: str

    @property
    def where(self) -> str:
        return f"[{self.key}] in {self.file}"

    def found(self, project: Project) -> bool:
        path = project.root / self.file
        if not path.is_file():
            return False
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False
        return isinstance(data.get(self.key), dict)
