"""The plugins the project's pytest configuration needs, read from that configuration.

A root ``conftest.py`` may load plugins with ``pytest_plugins = [...]`` (read as a literal,
never imported). pytest reads one configuration file (the first of ``pytest.ini``, ``.pytest.ini``,
``pyproject.toml [tool.pytest.ini_options]``, ``tox.ini [pytest]``, ``setup.cfg
[tool:pytest]`` in the root that has its section). Its ``addopts`` may use a plugin's
options (``--cov``, ``-n auto``, ``--timeout=30``, ``--asyncio-mode=auto``), load plugins by
name (``-p xdist``), and its other keys may belong to plugins (``asyncio_mode``, ``timeout``)
or list them (``required_plugins``). Without the plugin, pytest stops at ``unrecognized
arguments`` or runs async tests as failures: :func:`needed_plugins` names each plugin, and why.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from devbox.config.project import normalize_name, read_ini, requirement_problem
from devbox.config.pysource import module_strings

__all__ = [
    "PLUGIN_INI_KEYS",
    "PLUGIN_OPTIONS",
    "Needed",
    "PytestConfig",
    "needed_plugins",
    "plugin_for_option",
    "read_pytest_config",
]

#: pytest option (a name, or a prefix ending in ``-``) → the distribution of its plugin
PLUGIN_OPTIONS = {
    "--cov": "pytest-cov",
    "--cov-": "pytest-cov",
    "--no-cov": "pytest-cov",
    "--no-cov-on-fail": "pytest-cov",
    "--timeout": "pytest-timeout",
    "--timeout-method": "pytest-timeout",
    "-n": "pytest-xdist",
    "--numprocesses": "pytest-xdist",
    "--dist": "pytest-xdist",
    "--maxprocesses": "pytest-xdist",
    "--asyncio-mode": "pytest-asyncio",
    "--benchmark-": "pytest-benchmark",
    "--reruns": "pytest-rerunfailures",
    "--reruns-delay": "pytest-rerunfailures",
    "--randomly-": "pytest-randomly",
    "--hypothesis-": "hypothesis",
    "--mypy": "pytest-mypy",
    "--html": "pytest-html",
    "--self-contained-html": "pytest-html",
    "--ds": "pytest-django",
    "--reuse-db": "pytest-django",
    "--mpl": "pytest-mpl",
    "--mpl-": "pytest-mpl",
    "--forked": "pytest-forked",
    "--json-report": "pytest-json-report",
}

#: ini key → the distribution of the plugin that reads it
PLUGIN_INI_KEYS = {
    "asyncio_mode": "pytest-asyncio",
    "asyncio_default_fixture_loop_scope": "pytest-asyncio",
    "asyncio_default_test_loop_scope": "pytest-asyncio",
    "timeout": "pytest-timeout",
    "timeout_method": "pytest-timeout",
    "timeout_func_only": "pytest-timeout",
    "mock_use_standalone_module": "pytest-mock",
    "mock_traceback_monkeypatch": "pytest-mock",
    "django_settings_module": "pytest-django",
    "django_find_project": "pytest-django",
    "env": "pytest-env",
    "mpl-baseline-path": "pytest-mpl",
}

#: ``-p NAME`` module names whose distribution is not ``pytest-NAME``
_PLUGIN_MODULES = {"xdist": "pytest-xdist", "anyio": "anyio", "hypothesis": "hypothesis"}


def plugin_for_option(option: str) -> str | None:
    """The distribution whose plugin adds ``option`` (``--cov=src`` → pytest-cov), or None."""
    name = option.split("=", 1)[0]
    if name in PLUGIN_OPTIONS:
        return PLUGIN_OPTIONS[name]
    if name.startswith("-n") and (name[2:].isdigit() or name[2:] in ("auto", "logical")):  # -n4
        return "pytest-xdist"
    return next(
        (d for o, d in PLUGIN_OPTIONS.items() if o.endswith("-") and name.startswith(o)), None
    )


def _plugin_module(module: str) -> str | None:
    if module.startswith("no:") or not module.replace("_", "").replace(".", "").isalnum():
        return None
    top = module.split(".")[0]
    if top in _PLUGIN_MODULES:
        return _PLUGIN_MODULES[top]
    if top.startswith("pytest_"):
        return "pytest-" + top[len("pytest_") :].replace("_", "-")
    return None


@dataclass(frozen=True)
class PytestConfig:
    #: where pytest reads it ("pytest.ini", "pyproject.toml [tool.pytest.ini_options]")
    where: str
    #: the addopts, split as pytest splits them
    addopts: tuple[str, ...]
    #: every key of the section, lower-case
    keys: frozenset[str]
    #: required_plugins entries
    required: tuple[str, ...]


def _ini_section(path: Path, section: str) -> Mapping[str, str] | None:
    parser = read_ini(path, [])
    if parser is None or not parser.has_section(section):
        return None
    return dict(parser.items(section))


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str))
    if isinstance(value, str):
        try:
            return tuple(shlex.split(value))
        except ValueError:
            return tuple(value.split())
    return ()


def read_pytest_config(root: Path, pyproject: Mapping[str, Any]) -> PytestConfig | None:
    """The configuration pytest would read in ``root`` (None: there is none)."""
    for name in ("pytest.ini", ".pytest.ini"):
        section = _ini_section(root / name, "pytest")
        if section is not None or (root / name).is_file():
            return _config(name, section or {})
    tool = pyproject.get("tool")
    table = tool.get("pytest") if isinstance(tool, dict) else None
    if isinstance(table, dict):
        options = table.get("ini_options")
        if isinstance(options, dict):
            return _config("pyproject.toml [tool.pytest.ini_options]", options)
        return _config("pyproject.toml [tool.pytest]", table)  # pytest 9's native table
    for name, section_name in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        section = _ini_section(root / name, section_name)
        if section is not None:
            return _config(f"{name} [{section_name}]", section)
    return None


def _config(where: str, section: Mapping[str, Any]) -> PytestConfig:
    keys = frozenset(k.lower() for k in section)
    required = _words(section.get("required_plugins", ""))
    return PytestConfig(where, _words(section.get("addopts", "")), keys, required)


@dataclass(frozen=True)
class Needed:
    #: a requirement (``pytest-cov``, or a required_plugins entry such as ``pytest-asyncio>=0.21``)
    requirement: str
    #: why, in the configuration's terms ("setup.cfg addopts --cov", "pytest.ini asyncio_mode")
    why: str

    @property
    def name(self) -> str:
        return normalize_name(Requirement(self.requirement).name)


def _from_addopts(addopts: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    words = list(addopts)
    for i, word in enumerate(words):
        if word == "-p" and i + 1 < len(words):
            dist = _plugin_module(words[i + 1])
            if dist:
                yield dist, f"addopts -p {words[i + 1]}"
        elif word.startswith("-p") and len(word) > 2 and not word.startswith("--"):
            dist = _plugin_module(word[2:])
            if dist:
                yield dist, f"addopts {word}"
        elif word.startswith("-"):
            dist = plugin_for_option(word)
            if dist:
                yield dist, f"addopts {word.split('=', 1)[0]}"


def needed_plugins(root: Path, pyproject: Mapping[str, Any]) -> list[Needed]:
    """Each plugin the pytest configuration needs, once, in the order the configuration
    names them (``required_plugins`` entries as written, when they are PEP 508)."""
    out: dict[str, Needed] = {}
    for module in module_strings(root / "conftest.py", "pytest_plugins"):
        local = root / Path(*module.split("."))
        dist = _plugin_module(module)
        if dist and not local.is_dir() and not local.with_suffix(".py").is_file():
            need = Needed(dist, f"conftest.py pytest_plugins {module}")
            out.setdefault(normalize_name(dist), need)
    config = read_pytest_config(root, pyproject)
    if config is None:
        return list(out.values())
    file = config.where.split(" ")[0]
    for req in config.required:
        if requirement_problem(req) is None:
            need = Needed(req, f"{file} required_plugins")
            out.setdefault(need.name, need)
    for dist, why in _from_addopts(config.addopts):
        out.setdefault(normalize_name(dist), Needed(dist, f"{file} {why}"))
    for key in sorted(config.keys):
        plugin = PLUGIN_INI_KEYS.get(key)
        if plugin:
            out.setdefault(normalize_name(plugin), Needed(plugin, f"{file} {key}"))
    return list(out.values())
