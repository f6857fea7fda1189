"""Tests for devbox.config: [tool.devbox] → Config, precedence, sources and errors."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from devbox import config, tools
from devbox.config import Source, ToolOverride
from devbox.config.project import ProjectFacts, inspect_project, read_pyproject
from devbox.errors import ConfigError
from helpers import devbox_pyproject, load_config, load_project, make_project

# --- helpers ----------------------------------------------------------------------------------


def load_error(
    tmp_path: Path,
    table: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, object] | None = None,
    facts: ProjectFacts | bool = False,
) -> str:
    """Load ``[tool.devbox]`` = ``table`` (no ``[project]``; no facts unless given), expecting
    a ConfigError with exit code 2; return its message."""
    pyproject = devbox_pyproject(table, project=None)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, pyproject, env=env, cli=cli, facts=facts)
    assert info.value.exit_code == 2
    assert str(info.value) == info.value.message
    return info.value.message


def assert_names_key(message: str, tmp_path: Path, key: str) -> None:
    """The message says which file, which table and which key is wrong."""
    assert str(tmp_path / "pyproject.toml") in message
    assert "[tool.devbox]" in message
    assert repr(key) in message


# --- defaults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pyproject",
    [
        pytest.param({}, id="empty-pyproject"),
        pytest.param({"project": {"name": "x"}}, id="no-tool-table"),
        pytest.param({"tool": {"ruff": {"line-length": 100}}}, id="no-devbox-table"),
        pytest.param({"tool": {"devbox": {}}}, id="empty-devbox-table"),
        pytest.param({"tool": "not a table"}, id="tool-not-a-table"),
    ],
)
def test_defaults_when_no_table(tmp_path: Path, pyproject: dict[str, Any]) -> None:
    cfg = config.load(pyproject, path=tmp_path / "pyproject.toml", env={})
    assert cfg.python == (config.FALLBACK_PYTHON,)
    assert cfg.python == ("3.12",)
    assert cfg.base_image == "python:{python}-slim"
    assert cfg.installer == "uv"
    assert cfg.extras == ()
    assert cfg.groups == ()
    assert cfg.requirements == ()
    assert cfg.packages == ()
    assert cfg.lint == ("ruff",)
    assert cfg.test == ("pytest",)
    assert dict(cfg.tools) == {}
    assert cfg.exclude == ()
    assert set(cfg.sources) == set(config.KEYS)
    assert all(source is Source.DEFAULT for source in cfg.sources.values())


def test_defaults_match_keys_table(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, devbox_pyproject(project=None), facts=False)
    for name, key in config.KEYS.items():
        if name == "python":
            continue  # computed from requires-python
        value = getattr(cfg, key.attr)
        assert value == key.default, name


def test_devbox_table_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load({"tool": {"devbox": ["python"]}}, path=tmp_path / "pyproject.toml", env={})
    assert info.value.exit_code == 2
    assert str(tmp_path / "pyproject.toml") in info.value.message
    assert "[tool.devbox]" in info.value.message
    assert "must be a table" in info.value.message


def test_image_for_substitutes_python(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"base-image": "registry:5000/team/py:{python}-{python}"}, project=None),
        facts=False,
    )
    assert cfg.image_for("3.11") == "registry:5000/team/py:3.11-3.11"
    assert (
        load_config(tmp_path, devbox_pyproject(project=None), facts=False).image_for("3.13")
        == "python:3.13-slim"
    )


def test_key_metadata() -> None:
    assert config.KEYS["base-image"].env_var == "DEVBOX_BASE_IMAGE"
    assert config.KEYS["base-image"].attr == "base_image"
    assert config.KEYS["tools"].env_var == "DEVBOX_TOOLS"
    assert config.KEYS["python"].env_var == "DEVBOX_PYTHON"
    # every key maps to a Config field
    fields = set(config.Config.__dataclass_fields__) - {"sources"}
    assert {key.attr for key in config.KEYS.values()} == fields


# --- each key, read from a real pyproject.toml ---------------------------------------------------


def test_full_table_from_pyproject_file(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "corp.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    pyproject = read_pyproject(
        make_project(
            tmp_path,
            """
        [project]
        name = "demo"
        version = "1.0"

        [tool.devbox]
        python = "3.11"
        python-candidates = ["3.11", "3.12"]
        ca-bundle = "certs/corp.pem"
        base-image = "ghcr.io/acme/python:{python}-bookworm"
        installer = "pip"
        extras = ["test", "docs"]
        groups = ["dev"]
        requirements = ["requirements/dev.txt"]
        packages = ["requests>=2", "attrs"]
        lint = ["ruff", "mypy", "custom"]
        test = ["pytest"]
        exclude = ["*.log", "build/"]
        index-url = "https://${CORP_USER}:${CORP_TOKEN}@pkgs.example.com/simple"
        extra-index-url = ["https://mirror.example.com/simple"]
        secret-env = ["API_TOKEN", "API_TOKEN"]
        base-ref = "127.0.0.1:5000/team/deps:{python}"
        builder = "ci-builder"
        network = false
        cache-from = ["type=registry,ref=registry.example/team/cache"]
        cache-to = ["type=inline"]
        system-packages = ["gcc", "libpq-dev=15.8-0+deb12u1"]
        pretend-version = "1.2.3.dev4"
        timeout = 600

        [tool.devbox.tools.pytest]
        packages = ["pytest", "pytest-xdist"]
        env = { DJANGO_SETTINGS_MODULE = "app.settings" }

        [tool.devbox.tools.custom]
        command = ["python", "-m", "custom", "--check"]
        """,
        )
    )
    env = {"CORP_USER": "ci", "CORP_TOKEN": "s3cr3t"}
    cfg = config.load(pyproject, path=tmp_path / "pyproject.toml", env=env)
    assert cfg.python == ("3.11",)
    assert cfg.python_candidates == ("3.11", "3.12")
    # ${VARIABLE}s in index URLs are expanded from the environment at run time
    assert cfg.index_url == "https://ci:s3cr3t@pkgs.example.com/simple"
    assert cfg.extra_index_url == ("https://mirror.example.com/simple",)
    assert cfg.secret_env == ("API_TOKEN",)
    assert cfg.base_ref_for("3.11") == "127.0.0.1:5000/team/deps:3.11"
    assert cfg.builder == "ci-builder"
    assert cfg.network is False
    assert cfg.cache_from == ("type=registry,ref=registry.example/team/cache",)
    assert cfg.cache_to == ("type=inline",)
    assert cfg.system_packages == ("gcc", "libpq-dev=15.8-0+deb12u1")
    assert cfg.pretend_version == "1.2.3.dev4"
    assert cfg.timeout == 600.0
    assert cfg.ca_bundle == str((tmp_path / "certs" / "corp.pem").resolve())
    assert cfg.base_image == "ghcr.io/acme/python:{python}-bookworm"
    assert cfg.image_for("3.11") == "ghcr.io/acme/python:3.11-bookworm"
    assert cfg.installer == "pip"
    assert cfg.extras == ("test", "docs")
    assert cfg.groups == ("dev",)
    assert cfg.requirements == ("requirements/dev.txt",)
    assert cfg.packages == ("requests>=2", "attrs")
    assert cfg.lint == ("ruff", "mypy", "custom")
    assert cfg.test == ("pytest",)
    assert cfg.exclude == ("*.log", "build/")
    assert cfg.tools["pytest"] == ToolOverride(
        command=None,
        packages=("pytest", "pytest-xdist"),
        env={"DJANGO_SETTINGS_MODULE": "app.settings"},
    )
    assert cfg.tools["custom"] == ToolOverride(command=("python", "-m", "custom", "--check"))
    assert set(cfg.tools) == {"pytest", "custom"}
    assert all(source is Source.PYPROJECT for source in cfg.sources.values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3.11", ("3.11",)),
        (["3.13"], ("3.13",)),
        ("3.9", ("3.9",)),
        (["3.10", "3.10"], ("3.10",)),  # duplicates collapse to one version
    ],
)
def test_python_string_or_one_element_list(
    tmp_path: Path, value: object, expected: tuple[str, ...]
) -> None:
    cfg = load_config(tmp_path, devbox_pyproject({"python": value}, project=None), facts=False)
    assert cfg.python == expected
    assert cfg.sources["python"] is Source.PYPROJECT


@pytest.mark.parametrize(
    "image",
    [
        "python:{python}-slim",
        "python:{python}",
        "python",
        "library/python:3.12",
        "ghcr.io/acme/tools/python:{python}-alpine",
        "registry:5000/team/py:{python}",
        "localhost:5000/py_{python}:latest",
        "python:3.12@sha256:" + "a" * 64,
    ],
)
def test_base_image_accepted(tmp_path: Path, image: str) -> None:
    cfg = load_config(tmp_path, devbox_pyproject({"base-image": image}, project=None), facts=False)
    assert cfg.base_image == image
    assert cfg.sources["base-image"] is Source.PYPROJECT


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_installer(tmp_path: Path, installer: str) -> None:
    assert (
        load_config(
            tmp_path, devbox_pyproject({"installer": installer}, project=None), facts=False
        ).installer
        == installer
    )


def test_extras_and_groups_dedupe_keep_order(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject(
            {"extras": ["b", "a", "b"], "groups": ["lint", "test", "lint"]}, project=None
        ),
        facts=False,
    )
    assert cfg.extras == ("b", "a")
    assert cfg.groups == ("lint", "test")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("requirements.txt", "requirements.txt"),
        ("./requirements.txt", "requirements.txt"),
        ("reqs/dev.txt", "reqs/dev.txt"),
        ("reqs//dev.txt", "reqs/dev.txt"),
    ],
)
def test_requirements_normalized(tmp_path: Path, given: str, expected: str) -> None:
    assert load_config(
        tmp_path, devbox_pyproject({"requirements": [given]}, project=None), facts=False
    ).requirements == (expected,)


def test_packages(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject(
            {"packages": ["requests>=2", "attrs; python_version >= '3.10'"]}, project=None
        ),
        facts=False,
    )
    assert cfg.packages == ("requests>=2", "attrs; python_version >= '3.10'")


@pytest.mark.parametrize("name", sorted(tools.BUILTIN))
def test_every_builtin_tool_allowed_in_lint_and_test(tmp_path: Path, name: str) -> None:
    cfg = load_config(
        tmp_path, devbox_pyproject({"lint": [name], "test": [name]}, project=None), facts=False
    )
    assert cfg.lint == (name,)
    assert cfg.test == (name,)


def test_empty_lint_and_test_lists(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path, devbox_pyproject({"lint": [], "test": []}, project=None), facts=False
    )
    assert cfg.lint == ()
    assert cfg.test == ()
    assert cfg.sources["lint"] is Source.PYPROJECT


def test_tool_override_of_builtin_only_command(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"tools": {"ruff": {"command": ["ruff", "check", "src"]}}}, project=None),
        facts=False,
    )
    assert cfg.tools["ruff"] == ToolOverride(command=("ruff", "check", "src"))
    assert cfg.tools["ruff"].packages is None
    assert cfg.tools["ruff"].env is None


def test_new_tool_usable_in_lint_and_test(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject(
            {
                "tools": {
                    "bandit": {"command": ["bandit", "-r", "src"], "packages": ["bandit"]},
                    "behave": {"command": ["behave"]},
                },
                "lint": ["ruff", "bandit"],
                "test": ["pytest", "behave"],
            },
            project=None,
        ),
        facts=False,
    )
    assert cfg.tools["bandit"] == ToolOverride(
        command=("bandit", "-r", "src"), packages=("bandit",)
    )
    assert cfg.lint == ("ruff", "bandit")
    assert cfg.test == ("pytest", "behave")


def test_exclude(tmp_path: Path) -> None:
    assert load_config(
        tmp_path,
        devbox_pyproject({"exclude": ["data/", "*.bin", "data/"]}, project=None),
        facts=False,
    ).exclude == ("data/", "*.bin")


# --- environment -----------------------------------------------------------------------------


def test_env_every_key(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("attrs\n", encoding="utf-8")
    env = {
        "DEVBOX_PYTHON": "3.10",
        "DEVBOX_PYTHON_CANDIDATES": "3.10, 3.11",
        "DEVBOX_CA_BUNDLE": str(tmp_path / "reqs.txt"),
        "DEVBOX_BASE_IMAGE": "  my/python:{python}  ",
        "DEVBOX_INSTALLER": "pip",
        "DEVBOX_EXTRAS": "test, docs",
        "DEVBOX_GROUPS": "dev",
        "DEVBOX_REQUIREMENTS": "reqs.txt",
        "DEVBOX_PACKAGES": "requests>=2, attrs",
        "DEVBOX_LINT": "ruff,mypy,mine",
        "DEVBOX_TEST": "pytest",
        "DEVBOX_TOOLS": '{ mine = { command = ["mine", "--check"] } }',
        "DEVBOX_EXCLUDE": "*.log,build/",
        "DEVBOX_INDEX_URL": "https://pkgs.example.com/simple",
        "DEVBOX_EXTRA_INDEX_URL": "https://a.example/simple  https://b.example/simple",
        "DEVBOX_SECRET_ENV": "API_TOKEN, OTHER",
        "DEVBOX_BASE_REF": "reg.example/deps:{python}",
        "DEVBOX_BUILDER": "remote",
        "DEVBOX_NETWORK": "0",
        "DEVBOX_CACHE_FROM": "type=registry,ref=reg.example/c type=gha",
        "DEVBOX_CACHE_TO": "type=inline",
        "DEVBOX_SYSTEM_PACKAGES": "gcc, python3-dev",
        "DEVBOX_PRETEND_VERSION": "2.0",
        "DEVBOX_TIMEOUT": " 90.5 ",
    }
    cfg = load_config(tmp_path, devbox_pyproject(project=None), env=env, facts=False)
    assert cfg.timeout == 90.5
    assert cfg.index_url == "https://pkgs.example.com/simple"
    assert cfg.extra_index_url == ("https://a.example/simple", "https://b.example/simple")
    assert cfg.secret_env == ("API_TOKEN", "OTHER")
    assert cfg.base_ref == "reg.example/deps:{python}"
    assert cfg.builder == "remote"
    assert cfg.network is False
    assert cfg.cache_from == ("type=registry,ref=reg.example/c", "type=gha")
    assert cfg.cache_to == ("type=inline",)
    assert cfg.system_packages == ("gcc", "python3-dev")
    assert cfg.pretend_version == "2.0"
    assert cfg.python == ("3.10",)
    assert cfg.python_candidates == ("3.10", "3.11")
    assert cfg.base_image == "my/python:{python}"
    assert cfg.installer == "pip"
    assert cfg.extras == ("test", "docs")
    assert cfg.groups == ("dev",)
    assert cfg.requirements == ("reqs.txt",)
    assert cfg.packages == ("requests>=2", "attrs")
    assert cfg.lint == ("ruff", "mypy", "mine")
    assert cfg.test == ("pytest",)
    assert cfg.tools == {"mine": ToolOverride(command=("mine", "--check"))}
    assert cfg.exclude == ("*.log", "build/")
    assert all(source is Source.ENV for source in cfg.sources.values())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a,b", ("a", "b")),
        (" a , b ", ("a", "b")),
        ("a,,b,", ("a", "b")),
        ("a", ("a",)),
    ],
)
def test_env_lists_are_comma_separated(tmp_path: Path, raw: str, expected: tuple[str, ...]) -> None:
    assert (
        load_config(
            tmp_path, devbox_pyproject(project=None), env={"DEVBOX_EXTRAS": raw}, facts=False
        ).extras
        == expected
    )


def test_env_python_single_value(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"python": "3.11"}, project=None),
        env={"DEVBOX_PYTHON": " 3.13 "},
        facts=False,
    )
    assert cfg.python == ("3.13",)
    assert cfg.sources["python"] is Source.ENV


def test_env_tools_inline_table_override(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject(project=None),
        env={
            "DEVBOX_TOOLS": '{ pytest = { packages = ["pytest", "hypothesis"], env = { A = "1" } } }'
        },
        facts=False,
    )
    assert cfg.tools["pytest"] == ToolOverride(packages=("pytest", "hypothesis"), env={"A": "1"})
    assert cfg.sources["tools"] is Source.ENV


@pytest.mark.parametrize("value", ["", None])
def test_env_empty_or_absent_is_ignored(tmp_path: Path, value: str | None) -> None:
    env = {} if value is None else {"DEVBOX_INSTALLER": value, "DEVBOX_LINT": value}
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"installer": "pip", "lint": ["mypy"]}, project=None),
        env=env,
        facts=False,
    )
    assert cfg.installer == "pip"
    assert cfg.lint == ("mypy",)
    assert cfg.sources["installer"] is Source.PYPROJECT
    assert cfg.sources["lint"] is Source.PYPROJECT


def test_env_ignores_unrelated_variables(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject(project=None),
        env={"DEVBOX": "x", "DEVBOX_UNKNOWN": "x", "PYTHON": "3.10"},
        facts=False,
    )
    assert cfg.python == ("3.12",)
    assert all(source is Source.DEFAULT for source in cfg.sources.values())


# --- precedence and sources ----------------------------------------------------------------------


def test_precedence_defaults_pyproject_env_cli(tmp_path: Path) -> None:
    table = {"python": "3.10", "base-image": "a/py:{python}", "installer": "pip"}
    env = {"DEVBOX_PYTHON": "3.11", "DEVBOX_BASE_IMAGE": "b/py:{python}"}
    cli = {"python": "3.13"}
    cfg = load_config(
        tmp_path, devbox_pyproject(table, project=None), env=env, cli=cli, facts=False
    )
    assert cfg.python == ("3.13",)  # cli > env > pyproject
    assert cfg.base_image == "b/py:{python}"  # env > pyproject
    assert cfg.installer == "pip"  # pyproject > default
    assert cfg.lint == ("ruff",)  # default
    assert cfg.sources["python"] is Source.CLI
    assert cfg.sources["base-image"] is Source.ENV
    assert cfg.sources["installer"] is Source.PYPROJECT
    assert cfg.sources["lint"] is Source.DEFAULT


def test_cli_none_means_not_given(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"python": "3.10"}, project=None),
        env={"DEVBOX_BASE_IMAGE": "b/py:{python}"},
        cli={"python": None, "base-image": None},
        facts=False,
    )
    assert cfg.python == ("3.10",)
    assert cfg.base_image == "b/py:{python}"
    assert cfg.sources["python"] is Source.PYPROJECT
    assert cfg.sources["base-image"] is Source.ENV


def test_cli_base_image_overrides_everything(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"base-image": "a/py:{python}"}, project=None),
        env={"DEVBOX_BASE_IMAGE": "b/py:{python}"},
        cli={"base-image": "c/py:{python}"},
        facts=False,
    )
    assert cfg.base_image == "c/py:{python}"
    assert cfg.sources["base-image"] is Source.CLI


def test_env_list_replaces_pyproject_list(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"lint": ["ruff", "mypy"]}, project=None),
        env={"DEVBOX_LINT": "black"},
        facts=False,
    )
    assert cfg.lint == ("black",)


def test_source_order() -> None:
    assert Source.DEFAULT < Source.PYPROJECT < Source.ENV < Source.CLI


def test_sources_not_part_of_equality(tmp_path: Path) -> None:
    from_file = load_config(
        tmp_path, devbox_pyproject({"installer": "pip"}, project=None), facts=False
    )
    from_env = load_config(
        tmp_path, devbox_pyproject(project=None), env={"DEVBOX_INSTALLER": "pip"}, facts=False
    )
    assert from_file.sources["installer"] is Source.PYPROJECT
    assert from_env.sources["installer"] is Source.ENV
    assert from_file == from_env


# --- default Python from requires-python ---------------------------------------------------------


@pytest.mark.parametrize(
    ("requires_python", "expected"),
    [
        (">=3.10,<3.12", "3.11"),
        (">=3.10", "3.13"),
        (">=3.8", "3.13"),
        ("<3.11", "3.10"),
        ("==3.11.*", "3.11"),
        ("~=3.10.0", "3.10"),
        (">=3.10,!=3.13.*", "3.12"),
        (">=3.14", "3.12"),  # nothing among the candidates: fallback
        ("<3.10", "3.12"),  # nothing among the candidates: fallback
        ("not a specifier", "3.13"),  # unparsable allows all: newest candidate
        (None, "3.12"),
    ],
)
def test_default_python(tmp_path: Path, requires_python: str | None, expected: str) -> None:
    project: dict[str, Any] = {"name": "x"}
    if requires_python is not None:
        project["requires-python"] = requires_python
    cfg, facts = load_project(tmp_path, devbox_pyproject(project=project))
    assert config.default_python(facts) == expected
    assert cfg.python == (expected,)
    assert cfg.sources["python"] is Source.DEFAULT


def test_default_python_without_facts() -> None:
    assert config.default_python(None) == config.FALLBACK_PYTHON == "3.12"


def test_default_python_candidates() -> None:
    assert config.PYTHON_CANDIDATES == ("3.10", "3.11", "3.12", "3.13")
    assert config.FALLBACK_PYTHON in config.PYTHON_CANDIDATES


def test_explicit_python_wins_over_requires_python(tmp_path: Path) -> None:
    project = {"name": "x", "requires-python": ">=3.10,<3.11"}
    cfg = load_config(tmp_path, devbox_pyproject({"python": "3.13"}, project=project))
    assert cfg.python == ("3.13",)


# --- errors: unknown keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("base_image", "base-image"),
        ("bse-image", "base-image"),
        ("pyhton", "python"),
        ("extra", "extras"),
        ("requirement", "requirements"),
        ("tool", "tools"),
    ],
)
def test_unknown_key_suggests(tmp_path: Path, key: str, suggestion: str) -> None:
    message = load_error(tmp_path, {key: "x"})
    assert_names_key(message, tmp_path, key)
    assert "unknown key" in message
    assert f"did you mean {suggestion!r}?" in message
    assert "Valid keys:" in message


def test_unknown_key_without_close_match(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"zzzzzzzz": 1})
    assert_names_key(message, tmp_path, "zzzzzzzz")
    assert "did you mean" not in message
    for key in config.KEYS:
        assert key in message


# --- errors: wrong types and values from pyproject -------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "described"),
    [
        ("python", 3.11, "3.11 (a number)"),
        ("python", 3, "3 (an integer)"),
        ("python", "3", "'3' (a string)"),
        ("python", "3.12.1", "'3.12.1' (a string)"),
        ("python", "py3.12", "'py3.12' (a string)"),
        ("python", [], "[] (an array)"),
        ("python", [3.12], "[3.12] (an array)"),
        ("base-image", 7, "7 (an integer)"),
        ("installer", "conda", "'conda' (a string)"),
        ("installer", True, "True (a boolean)"),
        ("extras", "test", "'test' (a string)"),
        ("extras", ["bad name"], "['bad name'] (an array)"),
        ("groups", [1], "[1] (an array)"),
        ("requirements", "requirements.txt", "'requirements.txt' (a string)"),
        ("packages", {"a": 1}, "{'a': 1} (a table)"),
        ("lint", "ruff", "'ruff' (a string)"),
        ("lint", ["Ruff"], "['Ruff'] (an array)"),
        ("test", [["pytest"]], "[['pytest']] (an array)"),
        ("tools", ["pytest"], "['pytest'] (an array)"),
        ("exclude", [""], "[''] (an array)"),
        ("exclude", [" x"], "[' x'] (an array)"),
    ],
)
def test_wrong_types_and_values(tmp_path: Path, key: str, value: object, described: str) -> None:
    message = load_error(tmp_path, {key: value})
    assert_names_key(message, tmp_path, key)
    assert "expected" in message
    assert f"got {described}" in message


def test_python_float_from_real_toml(tmp_path: Path) -> None:
    pyproject = read_pyproject(make_project(tmp_path, "[tool.devbox]\npython = 3.11\n"))
    with pytest.raises(ConfigError) as info:
        config.load(pyproject, path=tmp_path / "pyproject.toml", env={})
    assert_names_key(info.value.message, tmp_path, "python")
    assert "(a number)" in info.value.message


@pytest.mark.parametrize("value", [["3.11", "3.12"], ["3.10", "3.11", "3.12"], "3.10,3.11,3.12"])
def test_python_several_versions_make_a_matrix(tmp_path: Path, value: object) -> None:
    cfg = load_config(tmp_path, devbox_pyproject({"python": value}, project=None), facts=False)
    assert cfg.python[0] == "3.10" or cfg.python[0] == "3.11"
    assert cfg.python == tuple(value.split(",") if isinstance(value, str) else value)


@pytest.mark.parametrize("value", [[], ["3.11", "3"], "3.11,,x"])
def test_python_matrix_values_are_checked(tmp_path: Path, value: object) -> None:
    message = load_error(tmp_path, {"python": value})
    assert_names_key(message, tmp_path, "python")


def test_all_pythons_takes_the_candidates_requires_python_allows(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.11"\n[tool.devbox]\npython = "3.12"\n',
    )
    cfg = load_config(root, all_pythons=True)
    assert cfg.python == ("3.11", "3.12", "3.13")
    narrowed = load_config(root, env={"DEVBOX_PYTHON_CANDIDATES": "3.10,3.13"}, all_pythons=True)
    assert narrowed.python == ("3.13",)
    with pytest.raises(ConfigError, match="allows none of python-candidates"):
        load_config(root, env={"DEVBOX_PYTHON_CANDIDATES": "3.10"}, all_pythons=True)


@pytest.mark.parametrize(
    "image",
    [
        pytest.param("python:3.12 slim", id="space"),
        pytest.param(" python:3.12", id="leading-space"),
        pytest.param("python:3.12\nRUN echo pwned", id="newline-inside"),
        pytest.param("python:3.12-slim\n", id="trailing-newline"),
        pytest.param("Python:3.12", id="uppercase-repo"),
        pytest.param("acme/Python:3.12", id="uppercase-path"),
        pytest.param("python:{foo}", id="foo-placeholder"),
        pytest.param("python:{python}-{version}", id="second-placeholder"),
        pytest.param("python:{}", id="empty-placeholder"),
        pytest.param("python:{python-slim", id="unclosed-placeholder"),
        pytest.param("", id="empty"),
        pytest.param("python:", id="empty-tag"),
        pytest.param("python:3.12@sha256:abc", id="short-digest"),
        pytest.param("a" * 256, id="too-long"),
    ],
)
def test_invalid_image_references(tmp_path: Path, image: str) -> None:
    message = load_error(tmp_path, {"base-image": image})
    assert_names_key(message, tmp_path, "base-image")
    assert "image reference" in message


@pytest.mark.parametrize(
    "requirement",
    [
        pytest.param("-r requirements.txt", id="dash-r"),
        pytest.param("--index-url=https://evil.example/simple", id="index-url"),
        pytest.param("-e .", id="editable"),
        pytest.param("requests\nurllib3", id="newline"),
        pytest.param("requests\r", id="carriage-return"),
        pytest.param(" requests", id="leading-space"),
        pytest.param("", id="empty"),
    ],
)
def test_invalid_requirement_strings(tmp_path: Path, requirement: str) -> None:
    message = load_error(tmp_path, {"packages": ["ok", requirement]})
    assert_names_key(message, tmp_path, "packages")
    assert "requirement strings" in message


def test_dash_requirement_explains_options(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"packages": ["-r other.txt"]})
    assert "options like -r or --index-url are not allowed" in message


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("../outside.txt", id="parent"),
        pytest.param("reqs/../../outside.txt", id="parent-inside"),
        pytest.param("..\\outside.txt", id="parent-backslash"),
        pytest.param(".", id="dot"),
        pytest.param("", id="empty"),
        pytest.param("reqs\n.txt", id="newline"),
        pytest.param("reqs\\dev.txt", id="backslash"),
        pytest.param("my reqs.txt", id="space"),
    ],
)
def test_invalid_requirement_paths(tmp_path: Path, path: str) -> None:
    message = load_error(tmp_path, {"requirements": [path]})
    assert_names_key(message, tmp_path, "requirements")
    assert "paths" in message


# Values a regex with "$" instead of "\Z" would let through with a trailing line break.
@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("python", "3.12\n", id="python"),
        pytest.param("base-image", "python:3.12\n", id="base-image"),
        pytest.param("extras", ["test\n"], id="extras"),
        pytest.param("groups", ["dev\n"], id="groups"),
        pytest.param("requirements", ["reqs.txt\n"], id="requirements"),
        pytest.param("tools", {"mine\n": {"command": ["mine"]}}, id="tool-name"),
    ],
)
def test_trailing_newline_rejected(tmp_path: Path, key: str, value: object) -> None:
    message = load_error(tmp_path, {key: value})
    assert_names_key(message, tmp_path, key)


def test_tool_env_name_with_trailing_newline_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"tools": {"pytest": {"env": {"A\n": "1"}}}})
    assert_names_key(message, tmp_path, "tools")
    assert "'env'" in message


# --- errors: tools ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "tool", "suggestion"),
    [
        ("lint", "rufff", "ruff"),
        ("lint", "mpy", "mypy"),
        ("lint", "flake9", "flake8"),
        ("test", "pytset", "pytest"),
    ],
)
def test_unknown_tool_suggests(tmp_path: Path, key: str, tool: str, suggestion: str) -> None:
    message = load_error(tmp_path, {key: [tool]})
    assert_names_key(message, tmp_path, key)
    assert f"unknown tool {tool!r}" in message
    assert f"did you mean {suggestion!r}?" in message
    assert f"[tool.devbox.tools.{tool}]" in message
    for builtin in tools.BUILTIN:
        assert builtin in message


def test_unknown_tool_suggests_defined_tool(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        {"tools": {"bandit": {"command": ["bandit"]}}, "lint": ["bandti"]},
    )
    assert "did you mean 'bandit'?" in message


def test_unknown_tool_from_env_names_variable(tmp_path: Path) -> None:
    message = load_error(tmp_path, env={"DEVBOX_TEST": "pytest,nose"})
    assert "environment variable DEVBOX_TEST" in message
    assert "unknown tool 'nose'" in message


@pytest.mark.parametrize(
    ("body", "bad_key", "suggestion"),
    [
        ({"comand": ["x"]}, "comand", "command"),
        ({"package": ["x"]}, "package", "packages"),
        ({"envs": {}}, "envs", "env"),
        ({"environment": {}}, "environment", None),
        ({"kind": "lint"}, "kind", None),
    ],
)
def test_unknown_key_in_tool_table(
    tmp_path: Path, body: dict[str, Any], bad_key: str, suggestion: str | None
) -> None:
    message = load_error(tmp_path, {"tools": {"pytest": body}})
    assert_names_key(message, tmp_path, "tools")
    assert "'pytest'" in message
    assert f"unknown key {bad_key!r}" in message
    if suggestion is None:
        assert "did you mean" not in message
    else:
        assert f"did you mean {suggestion!r}?" in message


def test_new_tool_without_command(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"tools": {"bandit": {"packages": ["bandit"]}}})
    assert_names_key(message, tmp_path, "tools")
    assert "'bandit'" in message
    assert "needs a 'command'" in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"command": []}, "command"),
        ({"command": "pytest -x"}, "command"),
        ({"command": ["pytest", ""]}, "command"),
        ({"command": ["pytest", 1]}, "command"),
        ({"packages": ["-e ."]}, "packages"),
        ({"packages": "pytest"}, "packages"),
        ({"env": ["A=1"]}, "env"),
        ({"env": {"A": 1}}, "env"),
        ({"env": {"1A": "x"}}, "env"),
        ({"env": {"A-B": "x"}}, "env"),
    ],
)
def test_invalid_tool_fields(tmp_path: Path, body: dict[str, Any], field: str) -> None:
    message = load_error(tmp_path, {"tools": {"pytest": body}})
    assert_names_key(message, tmp_path, "tools")
    assert f"tool 'pytest', key {field!r}" in message


@pytest.mark.parametrize("name", ["My-Tool", "-tool", "tool name", "a" * 64, ""])
def test_invalid_tool_names(tmp_path: Path, name: str) -> None:
    message = load_error(tmp_path, {"tools": {name: {"command": ["x"]}}})
    assert_names_key(message, tmp_path, "tools")
    assert "tool names" in message


def test_tool_body_not_a_table(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"tools": {"pytest": ["pytest"]}})
    assert_names_key(message, tmp_path, "tools")
    assert "a table for tool 'pytest'" in message


# --- errors: environment and command line ----------------------------------------------------------


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("DEVBOX_PYTHON", "3.11,3.1x", "Python version"),
        ("DEVBOX_PYTHON", "three", "Python version"),
        ("DEVBOX_INSTALLER", "conda", '"uv" or "pip"'),
        ("DEVBOX_BASE_IMAGE", "Python:3", "image reference"),
        ("DEVBOX_PACKAGES", "requests,-r x.txt", "requirement strings"),
        ("DEVBOX_REQUIREMENTS", "../x.txt", "paths relative"),
        ("DEVBOX_TOOLS", "{ not toml", "inline TOML table"),
        ("DEVBOX_TOOLS", '"pytest"', "table of tool tables"),
        ("DEVBOX_TOOLS", '{ mine = { packages = ["x"] } }', "needs a 'command'"),
    ],
)
def test_env_errors_name_variable(tmp_path: Path, var: str, value: str, expected: str) -> None:
    message = load_error(tmp_path, env={var: value})
    assert f"environment variable {var}" in message
    assert expected in message
    assert str(tmp_path) not in message  # the file is not to blame


def test_env_error_wins_over_valid_pyproject(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"installer": "pip"}, env={"DEVBOX_INSTALLER": "npm"})
    assert "environment variable DEVBOX_INSTALLER='npm'" in message


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("python", "3.11.4", "Python version"),
        ("python", "3.11,3.1x", "Python version"),
        ("base-image", "python:{foo}", "only placeholder is {python}"),
        ("base-image", "PYTHON", "image reference"),
    ],
)
def test_cli_errors_name_option(tmp_path: Path, option: str, value: str, expected: str) -> None:
    message = load_error(tmp_path, cli={option: value})
    assert f"command-line option --{option}" in message
    assert expected in message


def test_cli_error_for_unknown_tool_names_option(tmp_path: Path) -> None:
    message = load_error(tmp_path, cli={"lint": ["nope"]})
    assert "command-line option --lint" in message
    assert "unknown tool 'nope'" in message


# --- errors: checked against the project -------------------------------------------------------


PROJECT = """
[project]
name = "demo"
version = "1.0"

[project.optional-dependencies]
test = ["pytest"]
docs = ["sphinx"]

[dependency-groups]
lint = ["ruff"]
typing = ["mypy"]
"""


def project_facts(tmp_path: Path, text: str = PROJECT) -> ProjectFacts:
    """The facts of a project whose pyproject.toml is ``text`` (its ``[tool.devbox]`` comes
    separately, from each test's table)."""
    return inspect_project(tmp_path, read_pyproject(make_project(tmp_path, text)))


def test_extras_groups_requirements_present(tmp_path: Path) -> None:
    facts = project_facts(tmp_path)
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "dev.txt").write_text("attrs\n", encoding="utf-8")
    cfg = load_config(
        tmp_path,
        devbox_pyproject(
            {"extras": ["test", "docs"], "groups": ["lint"], "requirements": ["reqs/dev.txt"]},
            project=None,
        ),
        facts=facts,
    )
    assert cfg.extras == ("test", "docs")
    assert cfg.groups == ("lint",)
    assert cfg.requirements == ("reqs/dev.txt",)


def test_extra_not_in_project(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"extras": ["tset"]}, facts=project_facts(tmp_path))
    assert_names_key(message, tmp_path, "extras")
    assert "extra 'tset'" in message
    assert "[project.optional-dependencies]" in message
    assert "did you mean 'test'?" in message
    assert "Defined extras: test, docs." in message


def test_extra_when_project_has_none(tmp_path: Path) -> None:
    facts = project_facts(tmp_path, '[project]\nname = "demo"\n')
    message = load_error(tmp_path, {"extras": ["test"]}, facts=facts)
    assert_names_key(message, tmp_path, "extras")
    assert "Defined extras: none." in message


def test_group_not_in_project(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"groups": ["typng"]}, facts=project_facts(tmp_path))
    assert_names_key(message, tmp_path, "groups")
    assert "group 'typng'" in message
    assert "[dependency-groups]" in message
    assert "did you mean 'typing'?" in message
    assert "Defined groups: lint, typing." in message


def test_extra_from_env_not_in_project_names_variable(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, env={"DEVBOX_EXTRAS": "test,nope"}, facts=project_facts(tmp_path)
    )
    assert "environment variable DEVBOX_EXTRAS" in message
    assert "extra 'nope'" in message


def test_requirement_file_missing(tmp_path: Path) -> None:
    facts = project_facts(tmp_path)
    message = load_error(tmp_path, {"requirements": ["requirements-dev.txt"]}, facts=facts)
    assert_names_key(message, tmp_path, "requirements")
    assert "'requirements-dev.txt' does not exist" in message


def test_requirement_path_is_a_directory(tmp_path: Path) -> None:
    facts = project_facts(tmp_path)
    (tmp_path / "reqs").mkdir()
    message = load_error(tmp_path, {"requirements": ["reqs"]}, facts=facts)
    assert_names_key(message, tmp_path, "requirements")
    assert "does not exist" in message


def test_project_checks_skipped_without_facts(tmp_path: Path) -> None:
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"extras": ["nope"], "requirements": ["missing.txt"]}, project=None),
        facts=False,
    )
    assert cfg.extras == ("nope",)
    assert cfg.requirements == ("missing.txt",)


def test_ca_bundle_is_found_in_the_usual_variables_and_checked(tmp_path: Path) -> None:
    bundle = tmp_path / "corp.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_config(
        tmp_path,
        devbox_pyproject(project=None),
        env={"REQUESTS_CA_BUNDLE": str(bundle)},
        facts=False,
    ).ca_bundle == str(bundle.resolve())
    assert (
        load_config(
            tmp_path,
            devbox_pyproject(project=None),
            env={"SSL_CERT_FILE": str(tmp_path / "absent.pem")},
            facts=False,
        ).ca_bundle
        is None
    )
    assert (
        load_config(tmp_path, devbox_pyproject(project=None), env={}, facts=False).ca_bundle is None
    )
    message = load_error(tmp_path, {"ca-bundle": "missing.pem"})
    assert_names_key(message, tmp_path, "ca-bundle")
    assert "does not exist" in message


def test_ca_bundle_home_paths_use_the_given_environment(tmp_path: Path) -> None:
    # A "~user" that does not exist was a crash (RuntimeError from Path.expanduser), and "~"
    # was expanded from the process environment instead of the env config code is given.
    message = load_error(tmp_path, {"ca-bundle": "~nosuchuser9/corp.pem"})
    assert_names_key(message, tmp_path, "ca-bundle")
    assert "~nosuchuser9" in message
    home = tmp_path / "home"
    (home / "certs").mkdir(parents=True)
    (home / "certs" / "corp.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = load_config(
        tmp_path,
        devbox_pyproject({"ca-bundle": "~/certs/corp.pem"}, project=None),
        env={"HOME": str(home)},
        facts=False,
    )
    assert cfg.ca_bundle == str((home / "certs" / "corp.pem").resolve())
