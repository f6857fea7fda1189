"""For generated values of every key, the loader accepts exactly what the JSON Schema accepts.

The schema is derived from each key's check (devbox.config.checks), so disagreement would be a
bug in a combinator's ``schema()``; the generated values aim at the edges of the rules: valid
values with one character inserted, deleted or replaced, whitespace and line breaks, commas,
braces, non-strings, nested tables.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devbox import config, tools
from devbox.config import schema
from devbox.config.checks import WHITESPACE
from devbox.errors import ConfigError
from helpers import devbox_pyproject, load_config

VALIDATOR = jsonschema.Draft7Validator(schema.tool_schema())
EXAMPLES = 200
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    suppress_health_check=[HealthCheck.too_slow],
)

#: Keys whose loader does more than JSON Schema can say; for them only the key's check (what the
#: loader does before that) is compared with the schema, in test_check_and_schema_agree.
NOT_AT_LOAD = {
    # an unknown tool name is an error, and what is known depends on the tools table and on
    # devbox's built-in tools: the schema checks only the name's spelling
    "lint": "tool names are cross-checked against built-in and defined tools",
    "test": "tool names are cross-checked against built-in and defined tools",
    # the file must exist (relative to the project): not a property of the value
    "ca-bundle": "the CA bundle file must exist",
    # ${VARIABLE}s are expanded from the environment at run time and must be set
    "index-url": "${VARIABLE} interpolation needs the variable set in the environment",
    "extra-index-url": "${VARIABLE} interpolation needs the variable set in the environment",
}

#: Characters that matter to some rule (separators, placeholders, whitespace of both regex
#: dialects, line breaks, NUL), and letters of each case.
HOSTILE = " \t\n\r\x00\x0b\x1c\x85\xa0\u2028\u3000\ufeff{},;=:/@.-_+!~$#*?'\"\\Aaz9é"

#: per key: values near the rules' edges (valid ones, mostly), which the strategies mutate
SEEDS: dict[str, list[str]] = {
    "python": ["3.12", "3.9", "3.100", "3.", "py3", " 3.11 ", "3.11,3.13", "3.11, 3.13"],
    "python-candidates": ["3.10", "3.13", "3.1x"],
    "base-image": [
        "python:{python}-slim",
        "registry.local:5000/team/py:{python}",
        "py@sha256:" + "a" * 64,
        "a" * 250 + ":tag",
        "py:{pyth}",
        "{python}/x",
    ],
    "installer": ["uv", "pip", "UV"],
    "extras": ["test", "Dev_Tools", "a", "a.", "-a"],
    "groups": ["dev", "a-b", "_x"],
    "requirements": ["requirements/dev.txt", "./a", "a/../b", "..", "...", "/abs", ".", "a//b"],
    "packages": ["requests>=2", "attrs; python_version > '3'", "-r x.txt", "a b"],
    "system-packages": ["gcc", "g++", "libpq-dev=15.8-0+deb12u1", "GCC", "a"],
    "pretend-version": ["1.2.3", "0.0.0+devbox", "2.0.0rc1", "-1", "v" * 64],
    "lint": ["ruff", "mypy", "Ruff", "ruff-format"],
    "test": ["pytest", "py test"],
    "ca-bundle": ["certs/corp.pem", "/etc/ssl/ca.pem", " a.pem"],
    "index-url": ["https://pkgs.example.com/simple", "file:///srv", "ftp://x", "https://${T}@x"],
    "extra-index-url": ["https://a.example/simple", "http://127.0.0.1:8080/"],
    "secret-env": ["API_TOKEN", "_X1", "1X", "A-B"],
    "base-ref": ["127.0.0.1:5000/team/deps:{python}", "ghcr.io/acme/deps:3.12", "Bad:Ref"],
    "builder": ["default", "ci-builder", "remote.1", "x/y", "-x", "b" * 128],
    "network": ["true", "false"],
    "cache-from": ["type=registry,ref=r.example/c:1", "type=gha", "type=ftp", "type=local,dest="],
    "cache-to": ["type=inline", "type=registry,ref=r.example/c,mode=max"],
    "exclude": ["*.log", "data/", "a b", "!keep"],
    "tools": ["pytest", "mine"],
    "timeout": ["300", "0", "1e3"],
}


@st.composite
def mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    """A seed with a few characters inserted, deleted or replaced."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(HOSTILE))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            text = text[:at] + char + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + char + text[at + 1 :]
    return text


def strings(key: str) -> st.SearchStrategy[str]:
    seeds = SEEDS[key]
    alphabet = "".join(sorted(set("".join(seeds)))) + HOSTILE
    return st.one_of(
        st.sampled_from(seeds),
        mutated(seeds),
        st.text(alphabet=alphabet, max_size=12),
        # pieces of seeds joined: separators, repeated placeholders, lengths near the limits
        st.lists(st.sampled_from([*seeds, ",", " ", ", ", "{python}"]), max_size=4).map("".join),
    )


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(-2, 2), st.booleans(), st.none(), st.just(3.12))


def values(key: str) -> st.SearchStrategy[Any]:
    text = strings(key)
    # mostly strings in lists, sometimes something else
    items = st.one_of(text, text, text, scalars())
    return st.one_of(
        text,
        scalars(),
        st.lists(items, max_size=4),
        st.dictionaries(text, items, max_size=2),
    )


def seconds() -> st.SearchStrategy[Any]:
    """Numbers around the timeout's bounds (0, 86400); no NaN, which JSON has no word for
    (the loader refuses it: tests/unit/test_timeout.py)."""
    return st.one_of(
        st.integers(-2, 90000),
        st.floats(allow_nan=False),
        st.sampled_from([0, 0.0, -0.0, 5e-324, 86400, 86400.0, 86400.0001, 86401]),
    )


def tool_tables() -> st.SearchStrategy[Any]:
    names = st.one_of(
        st.sampled_from([*tools.BUILTIN, "mine", "Bad Name", "", "a" * 64, "x.y_z-1"]),
        mutated(["pytest", "mine"]),
    )
    words = st.sampled_from(["pytest", "-x", "", "a\x00b", " ", "mine==1", "-r x", "a\nb"])
    word_lists = st.one_of(st.lists(words, max_size=3), words, scalars())
    env_names = st.one_of(st.sampled_from(["A_B", "A-B", "_X", "1X", ""]), mutated(["A_B"]))
    env_values = st.one_of(st.sampled_from(["1", "", "a\x00", "a\nb"]), scalars())
    fields = {
        "command": word_lists,
        "packages": word_lists,
        "env": st.one_of(st.dictionaries(env_names, env_values, max_size=2), words, scalars()),
        "per-python": st.one_of(st.booleans(), words, scalars()),
        "timeout": st.one_of(seconds(), words, scalars()),
        "comand": word_lists,  # a typo of a field: unknown keys are errors
    }
    body = st.one_of(
        st.fixed_dictionaries({}, optional=fields),
        scalars(),
        st.lists(words, max_size=2),
    )
    return st.one_of(st.dictionaries(names, body, max_size=3), scalars(), st.lists(words))


def strategy(key: str) -> st.SearchStrategy[Any]:
    if key == "tools":
        return tool_tables()
    if key == "timeout":
        return st.one_of(values(key), seconds())
    if key in ("python", "python-candidates"):
        parts = st.sampled_from(["3.11", " 3.12 ", "3.13", "", " ", "3.1x", "\t3.10", "3.9\n"])
        return st.one_of(values(key), st.lists(parts, max_size=4).map(",".join))
    return values(key)


def loads(key: str, value: Any) -> bool:
    try:
        load_config(Path("."), devbox_pyproject({key: value}), facts=False)
    except ConfigError:
        return False
    return True


def checks(key: str, value: Any) -> bool:
    try:
        config.KEYS[key].check(value)
    except ValueError:
        return False
    return True


def schema_accepts(key: str, value: Any) -> bool:
    return bool(VALIDATOR.is_valid({key: value}))


def test_every_key_is_generated() -> None:
    assert set(SEEDS) == set(config.KEYS)
    assert set(NOT_AT_LOAD) < set(config.KEYS)


@pytest.mark.parametrize("key", [k for k in config.KEYS if k not in NOT_AT_LOAD])
def test_loader_and_schema_agree(key: str) -> None:
    @SETTINGS
    @given(value=strategy(key))
    def agree(value: Any) -> None:
        assert loads(key, value) == schema_accepts(key, value), (key, value)

    agree()


@pytest.mark.parametrize("key", list(NOT_AT_LOAD))
def test_check_and_schema_agree(key: str) -> None:
    """The keys the loader checks further: what their check accepts, the schema accepts."""

    @SETTINGS
    @given(value=strategy(key))
    def agree(value: Any) -> None:
        assert checks(key, value) == schema_accepts(key, value), (key, value)

    agree()


def test_python_versions_with_spaces_after_commas() -> None:
    """The disagreement that made the schema derived: "3.11, 3.13" loads, so it must validate."""
    for value in ("3.11, 3.13", " 3.11 ,, 3.13 ,"):
        assert loads("python", value)
        assert schema_accepts("python", value)
    assert not loads("python", " , ") and not schema_accepts("python", " , ")


def test_whitespace_class_is_pythons() -> None:
    """WHITESPACE (spelled out for ECMA-262) is exactly Python's \\s and str.isspace."""
    every = "".join(map(chr, range(0x110000)))
    spelled = re.findall(f"[{WHITESPACE}]", every)
    assert spelled == re.findall(r"\s", every) == [c for c in every if c.isspace()]
