"""``--format github``: GitHub Actions workflow commands for the findings of failed tools."""

from __future__ import annotations

from pathlib import Path

from devbox import tools
from devbox.report.console import rewrite_paths
from devbox.results.model import RunResult, Status


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: RunResult, project_root: Path, cwd: Path) -> list[str]:
    """GitHub Actions workflow commands (``::error file=…``) for every failed tool; a tool that
    timed out gets one annotation naming its time limit.

    Paths are relative to ``cwd``, which GitHub takes as the repository root.  A failed tool
    whose output has no finding devbox can read gets one annotation without a file.
    """
    commands: list[str] = []
    for tool in result.tools:
        if tool.status not in (Status.FAILED, Status.TIMEOUT):
            continue
        title = _escape_property(f"{tool.name} [{tool.python}]")
        if tool.status is Status.TIMEOUT:
            commands.append(f"::error title={title}::{_escape_data(tool.timeout_message)}")
            continue
        found = tools.parse(tool.name, rewrite_paths(tool.output, project_root, cwd))
        if not found:
            message = _escape_data(f"{tool.name} failed (exit code {tool.exit_code})")
            commands.append(f"::error title={title}::{message}")
            continue
        for f in found:
            command = "error" if f.severity == "error" else "warning"
            props = [f"file={_escape_property(f.path)}", f"line={f.line}"]
            if f.col is not None:
                props.append(f"col={f.col}")
            props.append(f"title={title}")
            commands.append(f"::{command} {','.join(props)}::{_escape_data(f.summary)}")
    return commands
