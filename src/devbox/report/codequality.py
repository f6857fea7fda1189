"""``--codequality PATH``: the lint findings as a GitLab Code Quality report.

GitLab's format (``artifacts:reports:codequality``, a subset of Code Climate's): a JSON list
of issues, each with ``description``, ``check_name``, ``fingerprint``, ``severity`` (info,
minor, major, critical, blocker) and ``location.path`` / ``location.lines.begin``.

Only the findings of failed lint tools are issues (tests go to GitLab through
``--junit-xml``).  Paths are relative to ``CI_PROJECT_DIR`` (the checkout, which GitLab takes
them relative to) when it holds the project, else to the current directory.  The same finding
from several Python versions is one issue.  A fingerprint is what GitLab compares between the
merge request's report and the target branch's: it is made of the tool, path, code and message
(and which occurrence of them it is), not the line, so it stays the same across runs and when
lines above the finding move.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devbox.build import secrets as build_secrets
from devbox.fsutil import atomic_write
from devbox.report import located
from devbox.report.github import checkout_base
from devbox.results.model import RunResult, Status

#: a finding's severity → GitLab's
SEVERITY = {"error": "major", "warning": "minor", "note": "info"}


def base_dir(project_root: Path, cwd: Path, env: Mapping[str, str]) -> Path:
    """Where the report's paths start: ``CI_PROJECT_DIR`` when it holds the project."""
    return checkout_base(project_root, cwd, env.get("CI_PROJECT_DIR"))


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def issues(
    result: RunResult, project_root: Path, base: Path, masked: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The report's issues, in the order of the run and of each tool's output; ``masked``:
    the secret values, masked before anything (the fingerprint too) is made of the text."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[object, ...]] = set()
    occurrences: dict[tuple[str, ...], int] = {}
    for tool in result.tools:
        if tool.status is not Status.FAILED or tool.kind != "lint":
            continue
        for found in located.findings(tool, project_root, base):
            f = dataclasses.replace(
                found,
                path=build_secrets.mask(found.path, masked),
                message=build_secrets.mask(found.message, masked),
            )
            key = (tool.name, f.path, f.line, f.col, f.code, f.message)
            if key in seen:  # the same finding from another Python version
                continue
            seen.add(key)
            ident = (tool.name, f.path, f.code or "", f.message)
            occurrences[ident] = occurrences.get(ident, 0) + 1
            out.append(
                {
                    "description": f.summary,
                    "check_name": f"{tool.name} {f.code}" if f.code else tool.name,
                    "fingerprint": fingerprint(*ident, str(occurrences[ident])),
                    "severity": SEVERITY.get(f.severity, "major"),
                    "location": {"path": f.path, "lines": {"begin": max(f.line, 1)}},
                }
            )
    return out


def to_json(
    result: RunResult,
    project_root: Path,
    cwd: Path,
    env: Mapping[str, str],
    masked: Sequence[str] = (),
) -> str:
    found = issues(result, project_root, base_dir(project_root, cwd, env), masked)
    return json.dumps(found, indent=2) + "\n"


def write(
    path: Path,
    result: RunResult,
    masked: Sequence[str] = (),
    *,
    project_root: Path,
    cwd: Path,
    env: Mapping[str, str],
) -> None:
    atomic_write(path, to_json(result, project_root, cwd, env, masked))
