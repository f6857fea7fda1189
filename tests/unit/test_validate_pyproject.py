"""Installing devbox never breaks validate-pyproject: its own API, with the plugins loaded from
the installed entry points as its command line loads them (devbox's among them), on a good
``[tool.devbox]`` table, a bad one and a file without one."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from validate_pyproject import api, errors, plugins

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

BASE = """
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "example"
version = "0.1.0"
requires-python = ">=3.10"
"""

GOOD = """
[tool.devbox]
python = ["3.11", "3.12"]
extras = ["test"]
lint = ["ruff", "ruff-format", "mypy"]
test = ["pytest"]

[tool.devbox.tools.mypy]
command = ["mypy", "--strict", "src"]
"""


def validator() -> api.Validator:
    found = plugins.list_from_entry_points()
    assert "devbox" in {p.tool for p in found}, (
        "devbox's validate_pyproject.tool_schema entry point"
    )
    return api.Validator(found)


def validate(text: str) -> Any:
    return validator()(tomllib.loads(text))


def test_a_file_without_tool_devbox_is_valid() -> None:
    assert validate(BASE)["project"]["name"] == "example"


def test_a_good_tool_devbox_table_is_valid() -> None:
    assert validate(BASE + GOOD)["tool"]["devbox"]["lint"] == ["ruff", "ruff-format", "mypy"]


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('[tool.devbox]\npyhton = "3.12"\n', "pyhton"),  # an unknown key
        ("[tool.devbox]\nlint = 3\n", "tool.devbox.lint"),  # a known key, a wrong type
    ],
)
def test_a_bad_tool_devbox_table_is_an_error_naming_the_key(table: str, named: str) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        validate(BASE + table)
    assert named in str(caught.value)


def test_other_tools_tables_are_still_checked() -> None:
    """devbox's plugin sits beside the others: a bad [project] is still reported."""
    with pytest.raises(errors.ValidationError) as caught:
        validate(BASE.replace('version = "0.1.0"', "version = 1") + GOOD)
    assert "project.version" in str(caught.value)
