"""Built-in tools: one module each, listed in :data:`BUILTIN`.

A tool's module says everything devbox knows about it (a :class:`~devbox.tools.spec.Tool`):
what it installs, the command it runs, where its caches go, how to read its output, its VS Code
problem matchers and where a project configures it.  A project adds or overrides tools in
``[tool.devbox.tools.NAME]`` (see :mod:`devbox.config`).  Commands run with the project
mounted at :data:`~devbox.build.contract.WORKDIR` and are executed directly, never through a
shell.
"""

from __future__ import annotations

from collections.abc import Mapping

from devbox.build.contract import CACHE
from devbox.tools import black, flake8, isort, mypy, pylint, pytest, ruff
from devbox.tools.spec import Kind, Tool

__all__ = ["BUILTIN", "COMMON_ENV", "Kind", "Tool"]

#: The registry, in the order devbox proposes and lists tools.
BUILTIN: dict[str, Tool] = {
    "ruff": ruff.RUFF,
    "ruff-format": ruff.RUFF_FORMAT,
    "flake8": flake8.FLAKE8,
    "pylint": pylint.PYLINT,
    "mypy": mypy.MYPY,
    "black": black.BLACK,
    "isort": isort.ISORT,
    "pytest": pytest.PYTEST,
}

#: Environment every tool step gets: bytecode goes to the cache mount, not the tree.
COMMON_ENV: Mapping[str, str] = {"PYTHONPYCACHEPREFIX": f"{CACHE}/pycache"}
