"""Every legal key of ``[tool.devbox]``, as data: :data:`KEYS`.

One source for validation, defaults, environment variable names, the JSON Schema
(:mod:`devbox.config.schema`, derived from each key's check) and the reference table in
docs/configuration.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from devbox import tools
from devbox.config.checks import (
    SINGLE_LINE,
    WHITESPACE,
    Bool,
    Check,
    Choice,
    OneOrList,
    Seconds,
    String,
    StringList,
    StringTable,
    ToolTable,
)

PYTHON_CANDIDATES = ("3.10", "3.11", "3.12", "3.13")

# --- patterns: each must match the whole string (see devbox.config.checks) --------------------

PYTHON = r"3\.[0-9]{1,2}"
# An image reference (registry/name:tag or @digest), allowing a {python} placeholder.
IMAGE = (
    r"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9{}]+(?:[._-][a-z0-9{}]+)*"
    r"(?:/[a-z0-9{}]+(?:[._-][a-z0-9{}]+)*)*(?::[A-Za-z0-9_{}][A-Za-z0-9_.{}-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?"
)
# Braces only as the {python} placeholder.
ONLY_PYTHON_PLACEHOLDER = r"(?:[^{}]|\{python\})*"
TOOL_NAME = r"[a-z0-9][a-z0-9_.-]{0,62}"
PEP508_NAME = r"[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]"
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# A path inside the project: not absolute, no '..' part, and at least one part that is not '.'
# (a part holding anything but dots, or three dots or more).
RELATIVE_PATH = r"(?!/)(?!(?:.*/)?\.\.(?![^/]))(?=.*(?:[^./]|\.\.\.))[A-Za-z0-9._+@/-]+"
NOT_AN_OPTION = r"(?!-)[\s\S]*"
BUILDER = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
CACHE_TYPES = ("registry", "inline", "local", "gha", "s3", "azblob")
CACHE_SPEC = r"type=(?:" + "|".join(CACHE_TYPES) + rf")(?:,[a-z_-]+=[^,{WHITESPACE}]*)*"
URL = rf"(?:https?|file)://[^{WHITESPACE}]+"
DEB_PACKAGE = r"[a-z0-9][a-z0-9+.-]+(?:=[A-Za-z0-9.+:~-]+)?"
VERSION = r"[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}"
NO_NUL = r"[^\x00]*"
#: the longest time limit a tool may be given: a day
MAX_TIMEOUT_S = 86400

# --- checks shared by several keys ------------------------------------------------------------

python_value = OneOrList(
    StringList(
        String((PYTHON, 'a Python version such as "3.12"')),
        'Python versions such as "3.12"',
        min_items=1,
        too_few='at least one Python version, such as "3.12"',
    ),
    expected='a Python version string such as "3.12" (quoted), or a list of them',
)
image_value = String(
    (
        IMAGE,
        'an image reference such as "python:{python}-slim" or "registry:5000/team/py:{python}"',
    ),
    (ONLY_PYTHON_PLACEHOLDER, "an image reference whose only placeholder is {python}"),
    max_length=255,
)
timeout_value = Seconds(
    MAX_TIMEOUT_S,
    expected=f"a number of seconds above 0 and at most {MAX_TIMEOUT_S} (a day), such as 300",
)
installer_value = Choice("uv", "pip", expected='"uv" or "pip"')
_pep508_name = String((PEP508_NAME, "names made of letters, digits, '.', '-' and '_'"))
_requirement = String(
    (SINGLE_LINE, "requirement strings without leading/trailing spaces or line breaks"),
    (
        NOT_AN_OPTION,
        'requirement strings such as "requests>=2" (options like -r or --index-url are not allowed)',
    ),
)
_requirements = StringList(_requirement, "requirement strings")
_tool_name = String(
    (TOOL_NAME, "tool names made of lowercase letters, digits, '.', '-' and '_'"),
)
_tool_names = StringList(_tool_name, "tool names")
_index_url = String(
    (
        URL,
        'package index URLs such as "https://pkgs.example.com/simple" (http, https or file; '
        "credentials may be written as ${VARIABLE}, taken from the environment)",
    ),
    not_a_string='a package index URL such as "https://pkgs.example.com/simple"',
)
_cache_specs = StringList(
    String(
        (
            CACHE_SPEC,
            'buildx cache specs such as "type=registry,ref=registry.example/team/cache" '
            f"(type one of {', '.join(CACHE_TYPES)}; no spaces)",
        )
    ),
    "cache specs",
)


@dataclass(frozen=True)
class ToolOverride:
    """``[tool.devbox.tools.NAME]``: each field is None when not given."""

    command: tuple[str, ...] | None = None
    #: what ``devbox fix`` runs (a built-in tool's own fixing form when not given)
    fix_command: tuple[str, ...] | None = None
    packages: tuple[str, ...] | None = None
    env: Mapping[str, str] | None = None
    per_python: bool | None = None
    #: seconds
    timeout: float | None = None


_COMMAND = 'a non-empty array of non-empty strings, such as ["pytest", "-x"]'
_FIX_COMMAND = 'a non-empty array of non-empty strings, such as ["ruff", "check", "--fix", "."]'
_TOOL_FIELDS: dict[str, Check[Any]] = {
    "command": StringList(
        String((r"[^\x00]+", _COMMAND)),
        unique=False,
        min_items=1,
        not_a_list=_COMMAND,
        too_few=_COMMAND,
    ),
    # what `devbox fix` runs instead of the built-in tool's fixing form (a tool without one,
    # such as a custom linter, is fixed only when it has this key)
    "fix-command": StringList(
        String((r"[^\x00]+", _FIX_COMMAND)),
        unique=False,
        min_items=1,
        not_a_list=_FIX_COMMAND,
        too_few=_FIX_COMMAND,
    ),
    "packages": _requirements,
    "env": StringTable(
        String((ENV_NAME, "environment variable names (letters, digits, '_')")),
        String((NO_NUL, "strings without NUL characters")),
        not_a_table='a table of strings, such as { DJANGO_SETTINGS_MODULE = "app.settings" }',
        bad_entry="a table mapping variable names (letters, digits, '_') to strings",
    ),
    "per-python": Bool(),
    "timeout": timeout_value,
}
TOOL_KEYS = tuple(_TOOL_FIELDS)
tools_value = ToolTable(
    _tool_name,
    _TOOL_FIELDS,
    builtin=tuple(tools.BUILTIN),
    required="command",
    build=ToolOverride,
)


@dataclass(frozen=True)
class Key:
    name: str
    help: str
    check: Check[Any]
    default: Any
    #: how the value is spelled in an environment variable: "list" (comma-separated),
    #: "words" (space-separated), "str", "bool", "number", or "toml" (an inline TOML table)
    env_form: str = "list"
    #: how the type reads in the docs
    type_doc: str = "list of strings"

    @property
    def schema(self) -> dict[str, Any]:
        """JSON Schema of the value, derived from :attr:`check` (devbox.config.schema)."""
        return self.check.schema()

    @property
    def env_var(self) -> str:
        return "DEVBOX_" + self.name.upper().replace("-", "_")

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")


#: Every legal key of [tool.devbox], in the order of the docs table.
KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "python",
            "Python version(s) the images use; several make a matrix. Default: the newest of "
            "python-candidates allowed by requires-python, else 3.12.",
            python_value,
            None,
            type_doc="string or list of strings",
        ),
        Key(
            "python-candidates",
            "Versions `--all-pythons` chooses from (those requires-python allows).",
            python_value,
            PYTHON_CANDIDATES,
            type_doc="string or list of strings",
        ),
        Key(
            "base-image",
            "Base image; {python} is replaced by the version.",
            image_value,
            "python:{python}-slim",
            env_form="str",
            type_doc="string",
        ),
        Key(
            "installer",
            'What installs dependencies in the image: "uv" or "pip".',
            installer_value,
            "uv",
            env_form="str",
            type_doc='"uv" or "pip"',
        ),
        Key(
            "extras",
            "[project.optional-dependencies] names to install.",
            StringList(_pep508_name, "extra names"),
            (),
        ),
        Key(
            "groups",
            "[dependency-groups] (PEP 735) names to install.",
            StringList(_pep508_name, "group names"),
            (),
        ),
        Key(
            "requirements",
            "Requirement files to install (paths in the project).",
            StringList(
                String(
                    (
                        RELATIVE_PATH,
                        "paths relative to the project directory, inside it, made of letters, "
                        "digits and ._+@/-",
                    ),
                    normalize=lambda v: str(PurePosixPath(v)),
                ),
                "paths relative to the project",
            ),
            (),
            type_doc="list of paths",
        ),
        Key(
            "packages",
            "Extra requirement strings to install.",
            _requirements,
            (),
            type_doc="list of requirement strings",
        ),
        Key(
            "system-packages",
            "Debian/Ubuntu packages installed in the dependency stage with apt-get (a compiler "
            "and headers for C extensions, libraries, command-line tools); apt's cache and lists "
            "are BuildKit cache mounts. Needs a Debian or Ubuntu base image.",
            StringList(
                String(
                    (
                        DEB_PACKAGE,
                        'Debian/Ubuntu package names such as "gcc" or "libpq-dev=15.8-0+deb12u1" '
                        "(lowercase letters, digits, '+', '-', '.'; optionally =VERSION)",
                    )
                ),
                "Debian package names",
            ),
            (),
            type_doc="list of package names",
        ),
        Key(
            "pretend-version",
            "The project's version when it is computed at build time (setuptools-scm, hatch-vcs) "
            "and no .git reaches the build. Default: the sdist's PKG-INFO, else 0.0.0+devbox.",
            String((VERSION, 'a version such as "1.4.2" or "0.0.0+local"')),
            None,
            env_form="str",
            type_doc="string",
        ),
        Key(
            "lint",
            "Tools `devbox lint` runs.",
            _tool_names,
            ("ruff",),
            type_doc="list of tool names",
        ),
        Key(
            "test",
            "Tools `devbox test` runs.",
            _tool_names,
            ("pytest",),
            type_doc="list of tool names",
        ),
        Key(
            "tools",
            "Tool definitions and overrides: command, fix-command (what `devbox fix` runs), "
            "packages, env, per-python, timeout.",
            tools_value,
            {},
            env_form="toml",
            type_doc="table of tool tables",
        ),
        Key(
            "timeout",
            "Time limit of each tool, in seconds (above 0, at most 86400): a tool still running "
            "then is stopped with everything it started and reported as `timeout`, with its "
            "output so far. A tool's own `timeout` in [tool.devbox.tools.NAME] wins over this "
            "key's value from pyproject.toml; DEVBOX_TIMEOUT and `--timeout` win over both. "
            "Default: no limit.",
            timeout_value,
            None,
            env_form="number",
            type_doc="number (seconds)",
        ),
        Key(
            "ca-bundle",
            "CA bundle (PEM) for package downloads in the build, e.g. a corporate proxy's; passed "
            "as a BuildKit secret (never in a layer). Default: SSL_CERT_FILE, REQUESTS_CA_BUNDLE or "
            "PIP_CERT when set.",
            String(
                (SINGLE_LINE, "a path without leading/trailing spaces or line breaks"),
                not_a_string='a path to a PEM file, such as "/etc/ssl/certs/corp-ca.pem"',
            ),
            None,
            env_form="str",
            type_doc="path",
        ),
        Key(
            "index-url",
            "Package index to install from instead of PyPI. Credentials may be written as "
            "${VARIABLE} (read from the environment at run time); the URL reaches the build only "
            "as a BuildKit secret. Default: PIP_INDEX_URL, UV_DEFAULT_INDEX or UV_INDEX_URL when set.",
            _index_url,
            None,
            env_form="str",
            type_doc="URL",
        ),
        Key(
            "extra-index-url",
            "More package indexes, searched besides index-url; passed like index-url. Default: "
            "PIP_EXTRA_INDEX_URL, UV_INDEX or UV_EXTRA_INDEX_URL when set (space-separated).",
            StringList(_index_url, "package index URLs"),
            (),
            env_form="words",
            type_doc="list of URLs",
        ),
        Key(
            "secret-env",
            "Names of environment variables passed to install and tool steps as BuildKit secrets "
            "(never in a layer, a build argument or devbox's logs; masked in tool output).",
            StringList(
                String((ENV_NAME, "environment variable names (letters, digits, '_')")),
                "environment variable names",
            ),
            (),
            type_doc="list of names",
        ),
        Key(
            "base-ref",
            "A pre-built dependency image (`devbox base build`) used instead of installing "
            "dependencies; {python} is replaced by the version. Checked against the project's "
            "dependencies by its label: a stale one is not used.",
            image_value,
            None,
            env_form="str",
            type_doc="string",
        ),
        Key(
            "builder",
            "Run builds on this buildx builder or docker context instead of the default one.",
            String(
                (
                    BUILDER,
                    "the name of a buildx builder or docker context (letters, digits, '.', '-', "
                    "'_'), such as \"ci-builder\"",
                )
            ),
            None,
            env_form="str",
            type_doc="string",
        ),
        Key(
            "network",
            "false: tool steps run without network (`RUN --network=none`); `--offline` also "
            "cuts it for installs.",
            Bool(),
            True,
            env_form="bool",
            type_doc="boolean",
        ),
        Key(
            "cache-from",
            "buildx cache sources (`--cache-from`), such as type=registry,ref=REF.",
            _cache_specs,
            (),
            env_form="words",
            type_doc="list of cache specs",
        ),
        Key(
            "cache-to",
            "buildx cache exports (`--cache-to`), such as type=registry,ref=REF,mode=max. The "
            "docker driver exports only type=inline.",
            _cache_specs,
            (),
            env_form="words",
            type_doc="list of cache specs",
        ),
        Key(
            "exclude",
            "Extra patterns (.dockerignore syntax) kept out of the build context.",
            StringList(
                String((SINGLE_LINE, "patterns without leading/trailing spaces or line breaks")),
                "patterns",
            ),
            (),
            type_doc="list of patterns",
        ),
    )
}
