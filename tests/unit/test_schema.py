"""The JSON Schema of [tool.devbox] is current and agrees with the config loader on every key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from devbox import config
from devbox.config import schema
from devbox.errors import ConfigError
from helpers import devbox_pyproject, load_config

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"

#: per key: values the loader accepts, values it rejects (every key must be here)
SAMPLES: dict[str, tuple[list[Any], list[Any]]] = {
    "python": (["3.12", ["3.11", "3.13"], "3.11,3.13", ["3.11", "3.11"]], [3.12, [], ["3"], "3.x", True]),
    "python-candidates": ([["3.10", "3.11"], "3.12"], [[], 3, ["py3"]]),
    "base-image": (["python:{python}-slim", "registry.local:5000/team/py:{python}", "py@sha256:" + "a" * 64],
                   ["Python:3", "a b", 3, "x:" + "t" * 200, ""]),
    "installer": (["uv", "pip"], ["poetry", 1, ""]),
    "extras": ([[], ["test", "Dev_Tools"]], ["test", [""], ["a b"], [1]]),
    "groups": ([["dev"]], [["-dev"], "dev", [None]]),
    "requirements": ([["requirements/dev.txt"]], [["a b.txt"], "req.txt", [1], [""]]),
    "packages": ([["requests>=2", "attrs; python_version > '3'"]], [["-r x.txt"], "requests", [1], [""]]),
    "lint": ([["ruff", "mypy"], [], ["ruff", "ruff"]], [["Ruff"], "ruff", [1]]),
    "test": ([["pytest"]], [["py test"], [None]]),
    "tools": (
        [{}, {"pytest": {"command": ["pytest", "-x"], "env": {"A_B": "1"}, "per-python": False}},
         {"mine": {"command": ["mine"], "packages": ["mine==1"], "timeout": 30}}],
        [{"pytest": {"comand": ["x"]}}, {"pytest": {"command": []}}, {"pytest": {"env": {"A-B": "1"}}},
         {"Bad Name": {"command": ["x"]}}, {"pytest": {"per-python": "yes"}}, {"pytest": ["x"]}, [],
         {"pytest": {"timeout": 0}}, {"pytest": {"timeout": "60"}}],
    ),
    "exclude": ([["*.log", "data/"]], ["*.log", [3], [""]]),
    # a bundle named in pyproject.toml must be inside the project (see the test below)
    "ca-bundle": (["ca.pem"], [3, "", ["a.pem"]]),
    "index-url": (["https://pkgs.example.com/simple", "http://127.0.0.1:8080/simple/"],
                  ["pkgs.example.com", "https://a b", 3, ["https://x/simple"], "ftp://x/simple"]),
    "extra-index-url": ([[], ["https://a.example/simple", "file:///srv/wheels"]],
                        ["https://a.example/simple", ["not a url"], [1]]),
    "secret-env": ([[], ["API_TOKEN", "_X1"]], [["API-TOKEN"], "API_TOKEN", ["1X"], [""]]),
    "base-ref": (["127.0.0.1:5000/team/deps:{python}", "ghcr.io/acme/deps:3.12"],
                 ["Bad:Ref", "a b", 3, ""]),
    "builder": (["default", "ci-builder", "remote.1"], ["-x", "a b", 3, "", "x/y"]),
    "network": ([True, False], ["false", 0, None]),
    "cache-from": ([[], ["type=registry,ref=r.example/c:1", "type=gha"]],
                   [["registry"], ["type=ftp,ref=x"], ["type=local,dest=a b"], "type=gha"]),
    "cache-to": ([["type=inline"], ["type=registry,ref=r.example/c,mode=max"]],
                 [["type=inline "], [""], [3]]),
    "system-packages": ([[], ["gcc", "python3-dev", "libpq-dev=15.8-0+deb12u1", "g++"]],
                        [["GCC"], ["gcc; rm -rf /"], "gcc", [""], ["-y"]]),
    "pretend-version": (["1.2.3", "0.0.0+devbox", "2.0.0rc1"], ["", "1 2", 3, "-1"]),
    "timeout": ([300, 0.5, 86400, 1e-3], [0, -1, 0.0, "300", True, 86401, 86400.5, float("inf"), [5]]),
}  # fmt: skip


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema.tool_schema())


def loads(table: dict[str, Any], tmp_path: Path) -> bool:
    try:
        load_config(tmp_path, devbox_pyproject(table), facts=False)
    except ConfigError:
        return False
    return True


def test_schema_is_a_valid_draft7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(schema.tool_schema())


def test_shipped_schema_file_and_docs_table_are_current() -> None:
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == schema.schema_text(), (
        "run: python -m devbox.config.schema"
    )
    docs = DOCS.read_text(encoding="utf-8")
    assert schema.replace_between(docs, schema.docs_table()) == docs, (
        "run: python -m devbox.config.schema"
    )


def test_every_key_has_samples() -> None:
    assert set(SAMPLES) == set(config.KEYS) == set(schema.tool_schema()["properties"])


@pytest.mark.parametrize("key", list(SAMPLES))
def test_schema_and_loader_agree(key: str, tmp_path: Path) -> None:
    good, bad = SAMPLES[key]
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    v = validator()
    for value in good:
        assert loads({key: value}, tmp_path), (key, value)
        assert v.is_valid({key: value}), (
            key,
            value,
            [e.message for e in v.iter_errors({key: value})],
        )
    for value in bad:
        assert not loads({key: value}, tmp_path), (key, value)
        assert not v.is_valid({key: value}), (key, value)


def test_unknown_keys_are_rejected_by_both(tmp_path: Path) -> None:
    assert not loads({"lintt": ["ruff"]}, tmp_path)
    assert not validator().is_valid({"lintt": ["ruff"]})


def test_entry_point_is_registered_for_validate_pyproject() -> None:
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="validate_pyproject.tool_schema") if e.name == "devbox"]
    assert ep.load()("devbox")["title"] == "[tool.devbox]"
    assert json.loads(schema.schema_text())["properties"].keys() == config.KEYS.keys()
