"""A failed tool's findings, with paths where a report needs them: one reading for all.

A built-in tool that wrote its findings machine-readably (``Tool.machine``: ruff's and mypy's
JSON, pylint's json2, pytest's JUnit XML) is read from that; any other tool, or one whose
side file is missing or unreadable (an older release, a run that crashed), from its text
output (:func:`devbox.tools.parse`).  Either way a path is the container's (``/src/a.py``)
or relative to the project, and comes out relative to the report's ``base`` directory.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from devbox import tools
from devbox.build.contract import WORKDIR
from devbox.report.console import rewrite_paths
from devbox.results.findings import Finding
from devbox.results.model import Status, ToolResult


def machine_findings(tool: ToolResult) -> list[Finding] | None:
    """The findings in what the tool wrote machine-readably, paths as written; None when it
    wrote nothing devbox can read."""
    known = tools.BUILTIN.get(tool.name)
    if known is None or known.machine is None:
        return None
    text = tool.junit_xml if known.machine.how == "junit" else tool.machine_output
    return known.machine.parse(text) if text else None


def _container_path(path: str) -> str:
    """A path as a tool wrote it (relative to its working directory, the project's mount)."""
    if os.path.isabs(path):
        return path
    return f"{WORKDIR}/{path}"


def findings(tool: ToolResult, project_root: Path, base: Path) -> list[Finding]:
    """A failed tool's findings (none for any other), paths relative to ``base``; paths and
    messages that name devbox's own directories read ``<devbox venv>/…`` and the like."""
    if tool.status is not Status.FAILED:
        return []
    machine = machine_findings(tool)
    if machine is None:
        return tools.parse(tool.name, rewrite_paths(tool.output, project_root, base))
    return [
        dataclasses.replace(
            f,
            path=rewrite_paths(_container_path(f.path), project_root, base),
            message=rewrite_paths(f.message, project_root, base),
        )
        for f in machine
    ]
