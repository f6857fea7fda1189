"""Built-in tools: what each installs, the command it runs, where its caches go.

One entry per tool in :data:`BUILTIN`; a project adds or overrides tools in
``[tool.devbox.tools.NAME]`` (see :mod:`devbox.config`).  Commands run with the project
mounted at :data:`~devbox.build.contract.WORKDIR` and are executed directly, never through a shell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from devbox.build.contract import CACHE

Kind = Literal["lint", "test"]


@dataclass(frozen=True)
class Tool:
    name: str
    kind: Kind
    command: tuple[str, ...]
    packages: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    #: the tool writes a JUnit XML report (pytest): devbox adds the flags and reads the counts
    junit: bool = False
    #: results depend on the interpreter: with several Python versions, run once per version
    per_python: bool = False


BUILTIN: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "ruff",
            "lint",
            ("ruff", "check", "--output-format=concise", "."),
            ("ruff",),
            {"RUFF_CACHE_DIR": f"{CACHE}/ruff"},
        ),
        Tool(
            "ruff-format",
            "lint",
            ("ruff", "format", "--check", "."),
            ("ruff",),
            {"RUFF_CACHE_DIR": f"{CACHE}/ruff"},
        ),
        Tool("flake8", "lint", ("flake8", "."), ("flake8",)),
        Tool(
            "pylint",
            "lint",
            ("pylint", "--recursive=y", "."),
            ("pylint",),
            {"PYLINTHOME": f"{CACHE}/pylint"},
            per_python=True,  # it infers from the running interpreter's standard library
        ),
        Tool(
            "mypy",
            "lint",
            ("mypy", "."),
            ("mypy",),
            {"MYPY_CACHE_DIR": f"{CACHE}/mypy"},
            per_python=True,
        ),
        Tool(
            "black",
            "lint",
            ("black", "--check", "."),
            ("black",),
            {"BLACK_CACHE_DIR": f"{CACHE}/black"},
        ),
        Tool("isort", "lint", ("isort", "--check-only", "."), ("isort",)),
        Tool(
            "pytest",
            "test",
            ("python", "-m", "pytest"),
            ("pytest",),
            {"COVERAGE_FILE": f"{CACHE}/coverage"},
            junit=True,
            per_python=True,
        ),
    )
}

#: Environment every tool step gets: bytecode goes to the cache mount, not the tree.
COMMON_ENV: Mapping[str, str] = {"PYTHONPYCACHEPREFIX": f"{CACHE}/pycache"}
