"""``[tool.devbox]`` → a frozen :class:`Config`.

Precedence, stated once (see :class:`Source`): defaults < pyproject < environment < command line.
Legal keys, their types, defaults and help have one source: :data:`KEYS`.  Config code never
reads ``os.environ``: the environment is a parameter.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from devbox import tools
from devbox.config.project import PYPROJECT, ProjectFacts, python_allowed, tomllib
from devbox.errors import ConfigError

TABLE = "[tool.devbox]"
PYTHON_CANDIDATES = ("3.10", "3.11", "3.12", "3.13")
FALLBACK_PYTHON = "3.12"


class Source(enum.IntEnum):
    """Where a value came from; a higher value wins: defaults < pyproject < environment < CLI."""

    DEFAULT = 0
    PYPROJECT = 1
    ENV = 2
    CLI = 3


# --- validators: each returns the normalized value or raises ValueError("what was expected") -

_PYTHON_RE = re.compile(r"^3\.[0-9]{1,2}$")
# An image reference (registry/name:tag or @digest), allowing a {python} placeholder.
_IMAGE_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9{}]+(?:[._-][a-z0-9{}]+)*"
    r"(?:/[a-z0-9{}]+(?:[._-][a-z0-9{}]+)*)*(?::[A-Za-z0-9_{}][A-Za-z0-9_.{}-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?$"
)
_TOOL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_PEP508_NAME_RE = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _describe(value: object) -> str:
    kinds = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return f"{value!r} ({kinds.get(type(value), type(value).__name__)})"


def _single_line(s: str, what: str) -> str:
    if not s or s != s.strip() or any(c in s for c in "\n\r\0"):
        raise ValueError(f"{what} without leading/trailing spaces or line breaks")
    return s


def _string_list(item: Callable[[str], str], what: str) -> Callable[[object], tuple[str, ...]]:
    def check(value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"an array of strings ({what})")
        return tuple(dict.fromkeys(item(v) for v in value))

    return check


def _python_version(v: str) -> str:
    if not _PYTHON_RE.fullmatch(v):
        raise ValueError('a Python version such as "3.12"')
    return v


def python_value(value: object) -> tuple[str, ...]:
    """One version ("3.12"), several ("3.11,3.13" or a list): a matrix, first version first."""
    if isinstance(value, str):
        value = [v.strip(" ") for v in value.split(",") if v.strip(" ")]
    if not isinstance(value, list):
        raise ValueError('a Python version string such as "3.12" (quoted), or a list of them')
    versions = _string_list(_python_version, 'Python versions such as "3.12"')(value)
    if not versions:
        raise ValueError('at least one Python version, such as "3.12"')
    return versions


def image_value(value: object) -> str:
    if not isinstance(value, str) or not _IMAGE_RE.fullmatch(value) or len(value) > 255:
        raise ValueError(
            'an image reference such as "python:{python}-slim" or "registry:5000/team/py:{python}"'
        )
    if re.sub(r"\{python\}", "", value).count("{") or re.sub(r"\{python\}", "", value).count("}"):
        raise ValueError("an image reference whose only placeholder is {python}")
    return value


def installer_value(value: object) -> str:
    if value not in ("uv", "pip"):
        raise ValueError('"uv" or "pip"')
    return str(value)


def _pep508_name(v: str) -> str:
    if not _PEP508_NAME_RE.fullmatch(v):
        raise ValueError("names made of letters, digits, '.', '-' and '_'")
    return v


def _requirement(v: str) -> str:
    _single_line(v, "requirement strings")
    if v.startswith("-"):
        raise ValueError(
            'requirement strings such as "requests>=2" (options like -r or --index-url are not allowed)'
        )
    return v


_PATH_RE = re.compile(r"^[A-Za-z0-9._+@/-]+$")


def _relative_path(v: str) -> str:
    p = PurePosixPath(v)
    if not _PATH_RE.fullmatch(v) or p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(
            "paths relative to the project directory, inside it, made of letters, digits and ._+@/-"
        )
    return str(p)


def _ca_bundle(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError('a path to a PEM file, such as "/etc/ssl/certs/corp-ca.pem"')
    return _single_line(value, "a path")


_BUILDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _builder(value: object) -> str:
    if not isinstance(value, str) or not _BUILDER_RE.fullmatch(value):
        raise ValueError(
            "the name of a buildx builder or docker context (letters, digits, '.', '-', '_'), "
            'such as "ci-builder"'
        )
    return value


_CACHE_TYPES = ("registry", "inline", "local", "gha", "s3", "azblob")
_CACHE_RE = re.compile(r"^type=(" + "|".join(_CACHE_TYPES) + r")(?:,[a-z_-]+=[^,\s]*)*$")


def _cache_spec(v: str) -> str:
    if not _CACHE_RE.fullmatch(v):
        raise ValueError(
            'buildx cache specs such as "type=registry,ref=registry.example/team/cache" '
            f"(type one of {', '.join(_CACHE_TYPES)}; no spaces)"
        )
    return v


_URL_RE = re.compile(r"^(https?|file)://[^\s]+$")


def _index_url(v: str) -> str:
    if not _URL_RE.fullmatch(v):
        raise ValueError(
            'package index URLs such as "https://pkgs.example.com/simple" (http, https or file; '
            "credentials may be written as ${VARIABLE}, taken from the environment)"
        )
    return v


def _index_url_value(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError('a package index URL such as "https://pkgs.example.com/simple"')
    return _index_url(value)


_DEB_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(?:=[A-Za-z0-9.+:~-]+)?$")


def _deb_package(v: str) -> str:
    if not _DEB_PACKAGE_RE.fullmatch(v):
        raise ValueError(
            'Debian/Ubuntu package names such as "gcc" or "libpq-dev=15.8-0+deb12u1" '
            "(lowercase letters, digits, '+', '-', '.'; optionally =VERSION)"
        )
    return v


_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}$")


def _version_value(value: object) -> str:
    if not isinstance(value, str) or not _VERSION_RE.fullmatch(value):
        raise ValueError('a version such as "1.4.2" or "0.0.0+local"')
    return value


def _env_name(v: str) -> str:
    if not _ENV_NAME_RE.fullmatch(v):
        raise ValueError("environment variable names (letters, digits, '_')")
    return v


def _pattern(v: str) -> str:
    return _single_line(v, "patterns")


def _tool_name(v: str) -> str:
    if not _TOOL_NAME_RE.fullmatch(v):
        raise ValueError("tool names made of lowercase letters, digits, '.', '-' and '_'")
    return v


@dataclass(frozen=True)
class ToolOverride:
    """``[tool.devbox.tools.NAME]``: each field is None when not given."""

    command: tuple[str, ...] | None = None
    packages: tuple[str, ...] | None = None
    env: Mapping[str, str] | None = None
    per_python: bool | None = None


TOOL_KEYS = ("command", "packages", "env", "per-python")


def _command(value: object) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v and "\0" not in v for v in value)
    ):
        raise ValueError('a non-empty array of non-empty strings, such as ["pytest", "-x"]')
    return tuple(value)


def _env_table(value: object) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise ValueError('a table of strings, such as { DJANGO_SETTINGS_MODULE = "app.settings" }')
    for k, v in value.items():
        if not _ENV_NAME_RE.fullmatch(k) or not isinstance(v, str) or "\0" in v:
            raise ValueError(
                "a table mapping variable names (letters, digits, '_') to strings; "
                f"{k!r} = {_describe(v)} is not"
            )
    return dict(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def tools_value(value: object) -> Mapping[str, ToolOverride]:
    if not isinstance(value, dict):
        raise ValueError("a table of tool tables, such as [tool.devbox.tools.pytest]")
    result: dict[str, ToolOverride] = {}
    for name, body in value.items():
        try:
            _tool_name(name)
        except ValueError as exc:
            raise ValueError(f"{exc}; {name!r} is not") from None
        if not isinstance(body, dict):
            raise ValueError(f"a table for tool {name!r}, got {_describe(body)}")
        unknown = [k for k in body if k not in TOOL_KEYS]
        if unknown:
            raise ValueError(
                f"tool {name!r}: unknown key {unknown[0]!r}{_suggest(unknown[0], TOOL_KEYS)}"
            )
        fields: dict[str, Any] = {}
        for key, check in (
            ("command", _command),
            ("packages", _string_list(_requirement, "requirement strings")),
            ("env", _env_table),
            ("per-python", _bool),
        ):
            if key in body:
                try:
                    fields[key] = check(body[key])
                except ValueError as exc:
                    raise ValueError(
                        f"tool {name!r}, key {key!r}: {exc}; got {_describe(body[key])}"
                    ) from None
        if name not in tools.BUILTIN and "command" not in fields:
            raise ValueError(f"tool {name!r} is not built in, so it needs a 'command'")
        result[name] = ToolOverride(**{k.replace("-", "_"): v for k, v in fields.items()})
    return result


@dataclass(frozen=True)
class Key:
    name: str
    help: str
    check: Callable[[object], Any]
    default: Any
    #: how the value is spelled in an environment variable: "list" (comma-separated),
    #: "str", or "toml" (an inline TOML table)
    env_form: str = "list"
    #: JSON Schema of the value (devbox.schema assembles the table's schema from these)
    schema: Mapping[str, Any] = field(default_factory=dict)
    #: how the type reads in the docs
    type_doc: str = "list of strings"

    @property
    def env_var(self) -> str:
        return "DEVBOX_" + self.name.upper().replace("-", "_")

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")


#: Every legal key of [tool.devbox]: one source for validation, defaults, env names and docs.
def _strings(pattern: re.Pattern[str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string", "minLength": 1}
    if pattern is not None:
        item["pattern"] = pattern.pattern
    return {"type": "array", "items": item}  # duplicates are allowed: the loader drops them


_VERSIONS: dict[str, Any] = {
    "oneOf": [
        {"type": "string", "pattern": r"^3\.[0-9]{1,2}(,3\.[0-9]{1,2})*$"},
        {
            "type": "array",
            "items": {"type": "string", "pattern": _PYTHON_RE.pattern},
            "minItems": 1,
        },
    ]
}
_TOOLS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": _TOOL_NAME_RE.pattern},
    "additionalProperties": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "command": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
            },
            "packages": _strings(),
            "env": {
                "type": "object",
                "propertyNames": {"pattern": _ENV_NAME_RE.pattern},
                "additionalProperties": {"type": "string"},
            },
            "per-python": {"type": "boolean"},
        },
    },
}

#: Every legal key of [tool.devbox]: one source for validation, defaults, env names, the JSON
#: Schema (devbox.schema) and the reference table in docs/configuration.md.
KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "python",
            "Python version(s) the images use; several make a matrix. Default: the newest of "
            "python-candidates allowed by requires-python, else 3.12.",
            python_value,
            None,
            schema=_VERSIONS,
            type_doc="string or list of strings",
        ),
        Key(
            "python-candidates",
            "Versions `--all-pythons` chooses from (those requires-python allows).",
            python_value,
            PYTHON_CANDIDATES,
            schema=_VERSIONS,
            type_doc="string or list of strings",
        ),
        Key(
            "base-image",
            "Base image; {python} is replaced by the version.",
            image_value,
            "python:{python}-slim",
            env_form="str",
            schema={"type": "string", "pattern": _IMAGE_RE.pattern, "maxLength": 255},
            type_doc="string",
        ),
        Key(
            "installer",
            'What installs dependencies in the image: "uv" or "pip".',
            installer_value,
            "uv",
            env_form="str",
            schema={"enum": ["uv", "pip"]},
            type_doc='"uv" or "pip"',
        ),
        Key(
            "extras",
            "[project.optional-dependencies] names to install.",
            _string_list(_pep508_name, "extra names"),
            (),
            schema=_strings(_PEP508_NAME_RE),
        ),
        Key(
            "groups",
            "[dependency-groups] (PEP 735) names to install.",
            _string_list(_pep508_name, "group names"),
            (),
            schema=_strings(_PEP508_NAME_RE),
        ),
        Key(
            "requirements",
            "Requirement files to install (paths in the project).",
            _string_list(_relative_path, "paths relative to the project"),
            (),
            schema=_strings(_PATH_RE),
            type_doc="list of paths",
        ),
        Key(
            "packages",
            "Extra requirement strings to install.",
            _string_list(_requirement, "requirement strings"),
            (),
            schema=_strings(re.compile(r"^[^-\s]")),
            type_doc="list of requirement strings",
        ),
        Key(
            "system-packages",
            "Debian/Ubuntu packages installed in the dependency stage with apt-get (a compiler "
            "and headers for C extensions, libraries, command-line tools); apt's cache and lists "
            "are BuildKit cache mounts. Needs a Debian or Ubuntu base image.",
            _string_list(_deb_package, "Debian package names"),
            (),
            schema=_strings(_DEB_PACKAGE_RE),
            type_doc="list of package names",
        ),
        Key(
            "pretend-version",
            "The project's version when it is computed at build time (setuptools-scm, hatch-vcs) "
            "and no .git reaches the build. Default: the sdist's PKG-INFO, else 0.0.0+devbox.",
            _version_value,
            None,
            env_form="str",
            schema={"type": "string", "pattern": _VERSION_RE.pattern},
            type_doc="string",
        ),
        Key(
            "lint",
            "Tools `devbox lint` runs.",
            _string_list(_tool_name, "tool names"),
            ("ruff",),
            schema=_strings(_TOOL_NAME_RE),
            type_doc="list of tool names",
        ),
        Key(
            "test",
            "Tools `devbox test` runs.",
            _string_list(_tool_name, "tool names"),
            ("pytest",),
            schema=_strings(_TOOL_NAME_RE),
            type_doc="list of tool names",
        ),
        Key(
            "tools",
            "Tool definitions and overrides: command, packages, env, per-python.",
            tools_value,
            {},
            env_form="toml",
            schema=_TOOLS_SCHEMA,
            type_doc="table of tool tables",
        ),
        Key(
            "ca-bundle",
            "CA bundle (PEM) for package downloads in the build, e.g. a corporate proxy's; passed "
            "as a BuildKit secret (never in a layer). Default: SSL_CERT_FILE, REQUESTS_CA_BUNDLE or "
            "PIP_CERT when set.",
            _ca_bundle,
            None,
            env_form="str",
            schema={"type": "string", "minLength": 1},
            type_doc="path",
        ),
        Key(
            "index-url",
            "Package index to install from instead of PyPI. Credentials may be written as "
            "${VARIABLE} (read from the environment at run time); the URL reaches the build only "
            "as a BuildKit secret. Default: PIP_INDEX_URL, UV_DEFAULT_INDEX or UV_INDEX_URL when set.",
            _index_url_value,
            None,
            env_form="str",
            schema={"type": "string", "pattern": _URL_RE.pattern},
            type_doc="URL",
        ),
        Key(
            "extra-index-url",
            "More package indexes, searched besides index-url; passed like index-url. Default: "
            "PIP_EXTRA_INDEX_URL, UV_INDEX or UV_EXTRA_INDEX_URL when set (space-separated).",
            _string_list(_index_url, "package index URLs"),
            (),
            env_form="words",
            schema=_strings(_URL_RE),
            type_doc="list of URLs",
        ),
        Key(
            "secret-env",
            "Names of environment variables passed to install and tool steps as BuildKit secrets "
            "(never in a layer, a build argument or devbox's logs; masked in tool output).",
            _string_list(_env_name, "environment variable names"),
            (),
            schema=_strings(_ENV_NAME_RE),
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
            schema={"type": "string", "pattern": _IMAGE_RE.pattern, "maxLength": 255},
            type_doc="string",
        ),
        Key(
            "builder",
            "Run builds on this buildx builder or docker context instead of the default one.",
            _builder,
            None,
            env_form="str",
            schema={"type": "string", "pattern": _BUILDER_RE.pattern},
            type_doc="string",
        ),
        Key(
            "network",
            "false: tool steps run without network (`RUN --network=none`); `--offline` also "
            "cuts it for installs.",
            _bool,
            True,
            env_form="bool",
            schema={"type": "boolean"},
            type_doc="boolean",
        ),
        Key(
            "cache-from",
            "buildx cache sources (`--cache-from`), such as type=registry,ref=REF.",
            _string_list(_cache_spec, "cache specs"),
            (),
            env_form="words",
            schema=_strings(_CACHE_RE),
            type_doc="list of cache specs",
        ),
        Key(
            "cache-to",
            "buildx cache exports (`--cache-to`), such as type=registry,ref=REF,mode=max. The "
            "docker driver exports only type=inline.",
            _string_list(_cache_spec, "cache specs"),
            (),
            env_form="words",
            schema=_strings(_CACHE_RE),
            type_doc="list of cache specs",
        ),
        Key(
            "exclude",
            "Extra patterns (.dockerignore syntax) kept out of the build context.",
            _string_list(_pattern, "patterns"),
            (),
            schema=_strings(),
            type_doc="list of patterns",
        ),
    )
}


@dataclass(frozen=True)
class Config:
    python: tuple[str, ...]
    python_candidates: tuple[str, ...]
    base_image: str
    installer: str
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    requirements: tuple[str, ...]
    packages: tuple[str, ...]
    lint: tuple[str, ...]
    test: tuple[str, ...]
    tools: Mapping[str, ToolOverride]
    exclude: tuple[str, ...]
    system_packages: tuple[str, ...]
    pretend_version: str | None
    #: absolute path of the CA bundle passed to the build as a secret, if any
    ca_bundle: str | None
    #: ${VARIABLE}s expanded: these may hold credentials and reach the build only as secrets
    index_url: str | None
    extra_index_url: tuple[str, ...]
    secret_env: tuple[str, ...]
    base_ref: str | None
    builder: str | None
    network: bool
    cache_from: tuple[str, ...]
    cache_to: tuple[str, ...]
    #: where each key's value came from
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False)

    def image_for(self, python: str) -> str:
        return self.base_image.replace("{python}", python)

    def base_ref_for(self, python: str) -> str | None:
        return None if self.base_ref is None else self.base_ref.replace("{python}", python)


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parse_env(key: Key, raw: str) -> object:
    if key.env_form == "str":
        return raw.strip()
    if key.env_form == "toml":
        try:
            return tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(
                f'an inline TOML table such as \'{{ pytest = {{ command = ["pytest", "-x"] }} }}\' ({exc})'
            ) from None
    if key.env_form == "bool":
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError("true or false (1/0, yes/no, on/off)")
    if key.env_form == "words":
        return raw.split()
    items = [p.strip() for p in raw.split(",") if p.strip()]
    return items


def allowed_pythons(
    facts: ProjectFacts | None, candidates: tuple[str, ...] = PYTHON_CANDIDATES
) -> list[str]:
    """The candidates ``requires-python`` allows (all of them when it is absent)."""
    spec = facts.requires_python if facts else None
    return [v for v in candidates if not spec or python_allowed(spec, v)]


def default_python(
    facts: ProjectFacts | None, candidates: tuple[str, ...] = PYTHON_CANDIDATES
) -> str:
    if facts is not None and facts.requires_python:
        allowed = allowed_pythons(facts, candidates)
        if allowed:
            return allowed[-1]
    return FALLBACK_PYTHON


def load(
    pyproject: Mapping[str, Any],
    *,
    path: Path,
    env: Mapping[str, str],
    cli: Mapping[str, object] | None = None,
    facts: ProjectFacts | None = None,
    all_pythons: bool = False,
) -> Config:
    """Resolve the configuration: defaults < pyproject < environment < command line.

    ``cli`` maps key names to values from command-line options (None means "not given").
    ``all_pythons`` (``--all-pythons``) runs every ``python-candidates`` version that
    ``requires-python`` allows, whatever ``python`` says.
    """
    where_file = f"{path}"
    table = (
        pyproject.get("tool", {}).get("devbox", {})
        if isinstance(pyproject.get("tool"), dict)
        else {}
    )
    if not isinstance(table, dict):
        raise ConfigError(f"{where_file}: {TABLE} must be a table, got {_describe(table)}.")

    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for name, key in KEYS.items():
        values[name] = key.default
        sources[name] = Source.DEFAULT

    for name, raw in table.items():
        if name not in KEYS:
            raise ConfigError(
                f"{where_file}: {TABLE} has an unknown key {name!r}{_suggest(name, KEYS)}. "
                f"Valid keys: {', '.join(KEYS)}."
            )
        values[name] = _check(KEYS[name], raw, f"{where_file}: {TABLE} key {name!r}")
        sources[name] = Source.PYPROJECT

    for name, key in KEYS.items():
        raw_env = env.get(key.env_var)
        if raw_env is None or raw_env == "":
            continue
        where = f"environment variable {key.env_var}={raw_env!r}"
        try:
            parsed = _parse_env(key, raw_env)
        except ValueError as exc:
            raise ConfigError(f"{where}: expected {exc}.") from None
        values[name] = _check(key, parsed, where)
        sources[name] = Source.ENV

    for name, raw in (cli or {}).items():
        if raw is None:
            continue
        key = KEYS[name]
        values[name] = _check(key, raw, f"command-line option --{name}")
        sources[name] = Source.CLI

    values["ca-bundle"] = _resolve_ca_bundle(
        values["ca-bundle"], sources["ca-bundle"], env, path, where_file
    )
    _resolve_indexes(values, sources, env, where_file)

    if all_pythons:
        allowed = allowed_pythons(facts, values["python-candidates"])
        if not allowed:
            raise ConfigError(
                f"--all-pythons: requires-python {facts.requires_python if facts else ''!r} allows none of "
                f"python-candidates ({', '.join(values['python-candidates'])}). Add a version it allows "
                "to python-candidates."
            )
        values["python"] = tuple(allowed)
        sources["python"] = Source.CLI
    elif values["python"] is None:
        values["python"] = (default_python(facts, values["python-candidates"]),)

    # Tool names in lint/test must be built in or defined in [tool.devbox.tools].
    known = set(tools.BUILTIN) | set(values["tools"])
    for list_key in ("lint", "test"):
        for tool_name in values[list_key]:
            if tool_name not in known:
                where = _where(sources[list_key], KEYS[list_key], where_file)
                raise ConfigError(
                    f"{where}: unknown tool {tool_name!r}{_suggest(tool_name, known)}. Built-in tools: "
                    f"{', '.join(tools.BUILTIN)}; define others in [tool.devbox.tools.{tool_name}] "
                    "with a 'command'."
                )

    if facts is not None:
        _check_against_project(values, sources, facts, where_file)

    return Config(**{KEYS[n].attr: v for n, v in values.items()}, sources=sources)


#: where a CA bundle is found when ca-bundle is not set (the usual variables of Python tools)
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT")


def _resolve_ca_bundle(
    value: str | None, source: Source, env: Mapping[str, str], path: Path, where_file: str
) -> str | None:
    if value is None:
        for var in CA_VARIABLES:
            candidate = env.get(var)
            if candidate and Path(candidate).is_file():
                return str(Path(candidate).resolve())
        return None
    bundle = Path(value).expanduser()
    if not bundle.is_absolute():
        bundle = path.parent / bundle
    if not bundle.is_file():
        raise ConfigError(
            f"{_where(source, KEYS['ca-bundle'], where_file)}: the CA bundle {str(bundle)!r} does not "
            "exist. Give the path of a PEM file (absolute, or relative to the project)."
        )
    return str(bundle.resolve())


#: where package indexes are found when index-url / extra-index-url are not set
INDEX_VARIABLES = ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL")
EXTRA_INDEX_VARIABLES = ("PIP_EXTRA_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _resolve_indexes(
    values: dict[str, Any], sources: dict[str, Source], env: Mapping[str, str], where_file: str
) -> None:
    """Index URLs: the usual installer variables as defaults, then ${VARIABLE}s expanded."""
    if values["index-url"] is None:
        found = next((env[v] for v in INDEX_VARIABLES if env.get(v, "").strip()), None)
        if found is not None:
            values["index-url"] = _check(
                KEYS["index-url"], found.strip(), "the installer's index variable"
            )
    if not values["extra-index-url"]:
        found = next((env[v] for v in EXTRA_INDEX_VARIABLES if env.get(v, "").strip()), None)
        if found is not None:
            # UV_INDEX entries may be named (name=URL): the URL is what installers need.
            urls = [u.split("=", 1)[1] if "=" in u.split("://")[0] else u for u in found.split()]
            values["extra-index-url"] = _check(
                KEYS["extra-index-url"], urls, "the installer's extra-index variable"
            )

    def expand(url: str, name: str) -> str:
        def one(m: re.Match[str]) -> str:
            if m.group(1) not in env:
                raise ConfigError(
                    f"{_where(sources[name], KEYS[name], where_file)}: the URL uses ${{{m.group(1)}}}, "
                    f"but {m.group(1)} is not set in the environment. Set it (for example from your "
                    "CI's secret store) or remove it from the URL."
                )
            return env[m.group(1)]

        return _VAR_RE.sub(one, url)

    if values["index-url"] is not None:
        values["index-url"] = expand(values["index-url"], "index-url")
    values["extra-index-url"] = tuple(
        expand(u, "extra-index-url") for u in values["extra-index-url"]
    )


def _where(source: Source, key: Key, where_file: str) -> str:
    if source is Source.ENV:
        return f"environment variable {key.env_var}"
    if source is Source.CLI:
        return f"command-line option --{key.name}"
    return f"{where_file}: {TABLE} key {key.name!r}"


def _check(key: Key, raw: object, where: str) -> Any:
    try:
        return key.check(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}: expected {exc}; got {_describe(raw)}.") from None


def _check_against_project(
    values: Mapping[str, Any], sources: Mapping[str, Source], facts: ProjectFacts, where_file: str
) -> None:
    """Names that must exist in the project: extras, groups, requirement files."""
    for extra in values["extras"]:
        if facts.extra(extra) is None:
            have = ", ".join(facts.optional_dependencies) or "none"
            raise ConfigError(
                f"{_where(sources['extras'], KEYS['extras'], where_file)}: extra {extra!r} is not in "
                f"[project.optional-dependencies] of {facts.root / PYPROJECT}{_suggest(extra, facts.optional_dependencies)}. "
                f"Defined extras: {have}."
            )
    for group in values["groups"]:
        if not facts.has_group(group):
            have = ", ".join(facts.dependency_groups) or "none"
            raise ConfigError(
                f"{_where(sources['groups'], KEYS['groups'], where_file)}: group {group!r} is not in "
                f"[dependency-groups] of {facts.root / PYPROJECT}{_suggest(group, facts.dependency_groups)}. "
                f"Defined groups: {have}."
            )
    for req in values["requirements"]:
        if not (facts.root / req).is_file():
            raise ConfigError(
                f"{_where(sources['requirements'], KEYS['requirements'], where_file)}: requirement file "
                f"{req!r} does not exist in {facts.root}. Give a path relative to the project directory."
            )
