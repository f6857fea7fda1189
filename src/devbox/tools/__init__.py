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
from devbox.results import findings
from devbox.results.findings import Finding
from devbox.tools import black, flake8, isort, mypy, pylint, pytest, ruff
from devbox.tools.spec import Kind, Tool

__all__ = ["BUILTIN", "COMMON_ENV", "Kind", "Tool", "parse"]

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


def parse(tool: str, output: str) -> list[Finding]:
    """The findings in what ``tool`` printed (paths as printed: rewrite container paths first).

    A built-in tool reads its own format; a tool devbox does not know is read as a pytest
    session when it is one, else with every built-in line format.
    """
    # colours (pytest's on a terminal) never get in the way of a format
    output = findings.ESCAPES.sub("", output)
    known = BUILTIN.get(tool)
    if known is not None:
        return known.parse(output)
    text_lines = findings.lines(output)
    if findings.is_pytest_session(text_lines):
        return pytest.parse_session(text_lines)
    formats = findings.fallback_formats(t.line_formats for t in BUILTIN.values())
    return findings.read_lines(text_lines, formats)
