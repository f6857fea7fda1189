"""``[tool.devbox]`` → a frozen :class:`Config`.

Precedence, stated once (see :class:`Source`): defaults < pyproject < environment < command line.
Legal keys, their types, defaults and help have one source: :data:`KEYS` (devbox.config.keys),
whose checks (devbox.config.checks) also state the JSON Schema.  Config code never reads
``os.environ``: the environment is a parameter.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devbox import tools
from devbox.config.checks import describe as _describe
from devbox.config.checks import suggest as _suggest
from devbox.config.keys import (
    KEYS,
    PYTHON_CANDIDATES,
    TOOL_KEYS,
    Key,
    ToolOverride,
    image_value,
    installer_value,
    python_value,
    tools_value,
)
from devbox.config.project import (
    PYPROJECT,
    ProjectFacts,
    normalize_name,
    python_allowed,
    tomllib,
)
from devbox.config.testdeps import Found, find_test_dependencies, outside_extras
from devbox.errors import ConfigError

# Other modules import these from devbox.config; they live in devbox.config.keys.
__all__ = [
    "CA_VARIABLES",
    "EXTRA_INDEX_VARIABLES",
    "FALLBACK_PYTHON",
    "INDEX_VARIABLES",
    "KEYS",
    "PYTHON_CANDIDATES",
    "TABLE",
    "TOOL_KEYS",
    "Config",
    "Found",
    "Key",
    "Source",
    "ToolOverride",
    "allowed_pythons",
    "default_python",
    "found_test_dependencies",
    "image_value",
    "installer_value",
    "load",
    "python_value",
    "tools_value",
    "unknown_env_vars",
]

TABLE = "[tool.devbox]"
FALLBACK_PYTHON = "3.12"


class Source(enum.IntEnum):
    """Where a value came from; a higher value wins: defaults < pyproject < environment < CLI."""

    DEFAULT = 0
    PYPROJECT = 1
    ENV = 2
    CLI = 3


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
    #: seconds each tool may run (a tool's own ToolOverride.timeout may win: build.plan.tool_timeout)
    timeout: float | None
    #: where each key's value came from
    sources: Mapping[str, Source] = field(default_factory=dict, compare=False)

    def image_for(self, python: str) -> str:
        return self.base_image.replace("{python}", python)

    def base_ref_for(self, python: str) -> str | None:
        return None if self.base_ref is None else self.base_ref.replace("{python}", python)


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
    if key.env_form == "number":
        try:
            return float(raw.strip())
        except ValueError:
            raise ValueError("a number, such as 300") from None
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
    on_found: Callable[[Found], object] | None = None,
) -> Config:
    """Resolve the configuration: defaults < pyproject < environment < command line.

    ``cli`` maps key names to values from command-line options (None means "not given").
    ``all_pythons`` (``--all-pythons``) runs every ``python-candidates`` version that
    ``requires-python`` allows, whatever ``python`` says. ``on_found`` is told the test
    dependencies found in the project's declarations when the configuration names none.
    """
    where_file = f"{path}"
    table = _devbox_table(pyproject, where_file)
    values: dict[str, Any] = {name: key.default for name, key in KEYS.items()}
    sources: dict[str, Source] = dict.fromkeys(KEYS, Source.DEFAULT)
    _apply_pyproject(values, sources, table, where_file)
    _apply_env(values, sources, env)
    if KEYS["system-packages"].env_var in env:  # set, even empty: no native-code packages
        sources["system-packages"] = max(sources["system-packages"], Source.ENV)
    _apply_cli(values, sources, cli or {})

    values["ca-bundle"] = _resolve_ca_bundle(
        values["ca-bundle"], sources["ca-bundle"], env, path, where_file
    )
    _resolve_indexes(values, sources, env, where_file)
    _resolve_python(values, sources, facts, all_pythons)
    _check_tool_names(values, sources, where_file)
    found = found_test_dependencies(
        sources, env, facts, values["python"][0] if values["python"] else None
    )
    if found:  # their sources stay DEFAULT: the configuration named none
        for name in TEST_DEPENDENCY_KEYS:
            values[name] = getattr(found, name)
        if on_found is not None:
            on_found(found)
    if facts is not None:
        _check_against_project(values, sources, facts, where_file)

    return Config(**{KEYS[n].attr: v for n, v in values.items()}, sources=sources)


#: DEVBOX_* variables devbox reads that are not configuration keys (docs/configuration.md)
OTHER_ENV_VARS = frozenset(
    {
        "DEVBOX_CACHE_DIR",
        "DEVBOX_ENGINE_TIMEOUT",
        "DEVBOX_HEARTBEAT_S",
        "DEVBOX_STRICT_BASE",
        "DEVBOX_OFFLINE",
    }
)


def unknown_env_vars(env: Mapping[str, str], cfg: Config, project_text: str = "") -> list[str]:
    """One warning line per DEVBOX_* variable that devbox does not read (a typo, most likely),
    with the closest name it does read. Names the project uses itself — in secret-env, or
    anywhere in its pyproject.toml (``${DEVBOX_TOKEN}`` in an index URL) — are not warned of."""
    known = {k.env_var for k in KEYS.values()} | OTHER_ENV_VARS
    used = set(cfg.secret_env) | set(re.findall(r"DEVBOX_[A-Za-z0-9_]+", project_text))
    lines = []
    for name in sorted(env):
        if not name.startswith("DEVBOX_") or name in known or name in used:
            continue
        shown = name if name.isprintable() and len(name) <= 80 else repr(name[:80])
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]}?)" if close else ""
        lines.append(
            f"devbox: warning: {shown} is not a variable devbox reads{hint}; it is ignored. "
            "The variables: docs/configuration.md, Environment variables."
        )
    return lines


#: The keys that name test dependencies. When none of them is set, by [tool.devbox], a
#: DEVBOX_* variable (set at all, even empty) or an option, the run installs what the
#: project's own declarations name (devbox.config.testdeps); ``extras = []`` turns that off.
TEST_DEPENDENCY_KEYS = ("extras", "groups", "requirements", "packages")


def found_test_dependencies(
    sources: Mapping[str, Source],
    env: Mapping[str, str],
    facts: ProjectFacts | None,
    python: str | None = None,
) -> Found | None:
    """What :func:`load` installs because the configuration names no test dependencies (its
    ``sources`` and ``env``), found in the project's declarations; None when it names some,
    or the project declares none. Pure: reading it again gives the same answer."""
    if facts is None:
        return None
    for name in TEST_DEPENDENCY_KEYS:
        if sources.get(name, Source.DEFAULT) is not Source.DEFAULT or KEYS[name].env_var in env:
            return None
    found = find_test_dependencies(facts, python=python)
    return found or None


def _devbox_table(pyproject: Mapping[str, Any], where_file: str) -> dict[str, Any]:
    table = (
        pyproject.get("tool", {}).get("devbox", {})
        if isinstance(pyproject.get("tool"), dict)
        else {}
    )
    if not isinstance(table, dict):
        raise ConfigError(f"{where_file}: {TABLE} must be a table, got {_describe(table)}.")
    return table


def _apply_pyproject(
    values: dict[str, Any], sources: dict[str, Source], table: Mapping[str, Any], where_file: str
) -> None:
    for name, raw in table.items():
        if name not in KEYS:
            raise ConfigError(
                f"{where_file}: {TABLE} has an unknown key {name!r}{_suggest(name, KEYS)}. "
                f"Valid keys: {', '.join(KEYS)}."
            )
        values[name] = _check(KEYS[name], raw, f"{where_file}: {TABLE} key {name!r}")
        sources[name] = Source.PYPROJECT


def _apply_env(values: dict[str, Any], sources: dict[str, Source], env: Mapping[str, str]) -> None:
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


def _apply_cli(
    values: dict[str, Any], sources: dict[str, Source], cli: Mapping[str, object]
) -> None:
    for name, raw in cli.items():
        if raw is None:
            continue
        key = KEYS[name]
        values[name] = _check(key, raw, f"command-line option --{name}")
        sources[name] = Source.CLI


def _resolve_python(
    values: dict[str, Any],
    sources: dict[str, Source],
    facts: ProjectFacts | None,
    all_pythons: bool,
) -> None:
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


def _check_tool_names(
    values: Mapping[str, Any], sources: Mapping[str, Source], where_file: str
) -> None:
    """Tool names in lint/test must be built in or defined in [tool.devbox.tools]."""
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


#: where a CA bundle is found when ca-bundle is not set (the usual variables of Python tools)
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT")


def _expand_home(value: str, env: Mapping[str, str], where: Callable[[], str]) -> Path:
    """``~/x`` from the given environment's HOME; ``~user/x`` from the user database."""
    if value == "~" or value.startswith("~/"):
        home = env.get("HOME")
        return Path(home + value[1:]) if home else Path(value).expanduser()
    try:
        return Path(value).expanduser()
    except RuntimeError:  # "~user" names no user here
        user = value[1:].split("/", 1)[0]
        raise ConfigError(
            f"{where()}: {value!r} starts with ~{user}, but there is no user {user!r} here. "
            "Give the path of a PEM file (absolute, or relative to the project)."
        ) from None


def _resolve_ca_bundle(
    value: str | None, source: Source, env: Mapping[str, str], path: Path, where_file: str
) -> str | None:
    if value is None:
        for var in CA_VARIABLES:
            candidate = env.get(var)
            if candidate and Path(candidate).is_file():
                return str(Path(candidate).resolve())
        return None
    bundle = _expand_home(value, env, lambda: _where(source, KEYS["ca-bundle"], where_file))
    if not bundle.is_absolute():
        bundle = path.parent / bundle
    project_dir = path.parent.resolve()
    if source is Source.PYPROJECT and not bundle.resolve().is_relative_to(project_dir):
        # The project's own file may not hand a file from elsewhere (~/.ssh/id_rsa) to its
        # build, where the bundle is readable; checked before existence: no probing either.
        raise ConfigError(
            f"{_where(source, KEYS['ca-bundle'], where_file)}: {value!r} resolves to "
            f"{str(bundle.resolve())!r}, outside the project {str(project_dir)!r}; a path in "
            "pyproject.toml must stay inside the project (after following symlinks). Set "
            "DEVBOX_CA_BUNDLE (or SSL_CERT_FILE) in the environment for a bundle elsewhere, or "
            "put the PEM file in the project."
        )
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
    from_setup_cfg = outside_extras(facts) if values["extras"] else {}
    declared = [*facts.optional_dependencies, *from_setup_cfg]
    for extra in values["extras"]:
        if facts.extra(extra) is None and normalize_name(extra) not in map(
            normalize_name, from_setup_cfg
        ):
            have = ", ".join(declared) or "none"
            raise ConfigError(
                f"{_where(sources['extras'], KEYS['extras'], where_file)}: extra {extra!r} is not in "
                f"[project.optional-dependencies] of {facts.root / PYPROJECT} (nor in setup.cfg "
                f"[options.extras_require] or setup.py extras_require, where setuptools reads "
                f"it){_suggest(extra, declared)}. "
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
