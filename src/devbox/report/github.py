"""``--format github``: GitHub Actions workflow commands and the job summary.

- Annotations (``::error file=…,line=…::message``) for the findings of failed tools (a
  finding's severity: error, warning, or ``note`` → ``::notice``), devbox's own warnings about
  a tool (``::warning``) and its hints (``::notice``).  GitHub shows at most
  :data:`PER_TYPE` annotations of each type per step and :data:`PER_JOB` per job, so the most
  important are printed first and no more than that: errors, then warnings, then notices,
  each with the failing tools' first; the rest are counted (:attr:`Annotations.omitted`).
- Paths are relative to ``GITHUB_WORKSPACE`` (the repository's checkout, which GitHub takes
  them relative to) when it is set and holds the project, else to the current directory.
- :func:`job_summary`: the Markdown appended to ``$GITHUB_STEP_SUMMARY``.

Every value in a workflow command is escaped as the workflow-command syntax says: ``%``,
``\\r``, ``\\n`` in the message, and also ``:`` and ``,`` in a property.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox.build import secrets as build_secrets
from devbox.report import located
from devbox.results.model import RunResult, Status, ToolResult

#: GitHub shows this many annotations of one type (error, warning, notice) per step...
PER_TYPE = 10
#: ...and this many in all per job
PER_JOB = 50
#: a failing tool's output longer than this is folded (``::group::``)
FOLD_LINES = 20
#: the job summary lists at most this many findings (GitHub takes 1 MiB per step)
SUMMARY_FINDINGS = 100

_RANK = {"error": 0, "warning": 1, "notice": 2}
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


@dataclass(frozen=True)
class Annotation:
    """One annotation: ``command`` is error, warning or notice."""

    command: str
    message: str
    title: str
    file: str | None = None
    line: int | None = None
    col: int | None = None

    def workflow_command(self) -> str:
        props = []
        if self.file is not None:
            props.append(f"file={escape_property(self.file)}")
            if self.line is not None:
                props.append(f"line={self.line}")
            if self.col is not None:
                props.append(f"col={self.col}")
        props.append(f"title={escape_property(self.title)}")
        return f"::{self.command} {','.join(props)}::{escape_data(self.message)}"


@dataclass(frozen=True)
class Annotations:
    """What is printed (``lines``, most important first) and how many GitHub would not show."""

    lines: tuple[str, ...]
    omitted: int

    def more_line(self) -> str | None:
        """The line saying how many were left out, if any."""
        if not self.omitted:
            return None
        return (
            f"devbox: {self.omitted} more annotations not shown (GitHub shows {PER_TYPE} "
            "errors, warnings and notices each per step): see the output above and the job "
            "summary"
        )


def checkout_base(project_root: Path, cwd: Path, checkout: str | None) -> Path:
    """Where a CI system's paths start: its ``checkout`` directory when that holds the
    project, else ``cwd``."""
    if checkout:
        root = Path(checkout).resolve()
        if project_root.resolve().is_relative_to(root):
            return root
    return cwd


def base_dir(project_root: Path, cwd: Path, env: Mapping[str, str]) -> Path:
    """Where annotation paths start: ``GITHUB_WORKSPACE`` when it holds the project."""
    return checkout_base(project_root, cwd, env.get("GITHUB_WORKSPACE"))


def _failing(tool: ToolResult) -> bool:
    return tool.status in (Status.FAILED, Status.TIMEOUT)


def all_annotations(result: RunResult, project_root: Path, base: Path) -> list[Annotation]:
    """Every annotation, most important first: by type, failing tools' first, then in the
    order of the run."""
    ranked: list[tuple[int, int, int, Annotation]] = []
    seen: set[tuple[str, str]] = set()

    def add(tool: ToolResult, annotation: Annotation) -> None:
        rank = (_RANK[annotation.command], 0 if _failing(tool) else 1)
        ranked.append((*rank, len(ranked), annotation))

    for tool in result.tools:
        title = f"{tool.name} [{tool.python}]"
        if tool.status is Status.TIMEOUT:
            add(tool, Annotation("error", tool.timeout_message, title))
        elif tool.status is Status.FAILED:
            found = located.findings(tool, project_root, base)
            if not found:
                add(
                    tool,
                    Annotation("error", f"{tool.name} failed (exit code {tool.exit_code})", title),
                )
            for f in found:
                add(tool, Annotation(_COMMAND[f.severity], f.summary, title, f.path, f.line, f.col))
        for kind, lines in (("warning", tool.warnings), ("notice", tool.hints)):
            for text in lines:
                if (kind, text) not in seen:  # the same for every Python version: once
                    seen.add((kind, text))
                    add(tool, Annotation(kind, text, f"devbox: {tool.name}"))
    return [a for *_, a in sorted(ranked, key=lambda r: r[:3])]


def select(annotations: Sequence[Annotation]) -> tuple[list[Annotation], int]:
    """The first that GitHub shows (:data:`PER_TYPE` of each type, :data:`PER_JOB` in all),
    and how many are left."""
    shown: list[Annotation] = []
    per_type: dict[str, int] = {}
    for a in annotations:
        if per_type.get(a.command, 0) < PER_TYPE and len(shown) < PER_JOB:
            per_type[a.command] = per_type.get(a.command, 0) + 1
            shown.append(a)
    return shown, len(annotations) - len(shown)


def annotate(
    result: RunResult, project_root: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> Annotations:
    shown, omitted = select(
        all_annotations(result, project_root, base_dir(project_root, cwd, env or {}))
    )
    return Annotations(tuple(a.workflow_command() for a in shown), omitted)


def github_annotations(
    result: RunResult, project_root: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> list[str]:
    """The workflow commands printed (see :func:`annotate`)."""
    return list(annotate(result, project_root, cwd, env).lines)


# -- the job summary -------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md(text: str, masked: Sequence[str] = ()) -> str:
    """Plain text in Markdown (and a table cell): one line, secrets masked, HTML and Markdown
    escaped."""
    one_line = " ".join(build_secrets.mask(text, masked).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


_STATUS = {
    Status.PASSED: "✅ passed",
    Status.FAILED: "❌ failed",
    Status.TIMEOUT: "⏱️ timeout",
    Status.ERROR: "💥 error",
    Status.CANCELLED: "⏹️ cancelled",
}


def _link(path: str, line: int, env: Mapping[str, str]) -> str:
    where = md(f"{path}:{line}")
    server, repo, sha = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA")
    )
    if not (server and repo and sha) or path.startswith(("/", "..", "<")):
        return where
    url = f"{server}/{repo}/blob/{sha}/{urllib.parse.quote(path)}#L{line}"
    return f"[{where}]({url})"


def job_summary(
    result: RunResult,
    project_root: Path,
    cwd: Path,
    env: Mapping[str, str],
    omitted: int = 0,
    masked: Sequence[str] = (),
) -> str:
    """The Markdown job summary: the results table (with timings), each failure with its
    file:line (a link to the file at the commit when GitHub's variables say where), and how
    many annotations GitHub did not show; ``masked``: the secret values to mask."""
    base = base_dir(project_root, cwd, env)
    failed = [t for t in result.tools if not t]
    head = (
        f"{len(failed)} of {len(result.tools)} tools did not pass"
        if failed
        else f"all {len(result.tools)} tools passed"
    )
    out = [
        f"## devbox: {head}",
        "",
        "| tool | Python | status | time | tests |",
        "|---|---|---|---|---|",
    ]
    for t in result.tools:
        name = f"{t.name} {t.version}" if t.version else t.name
        time = f"{t.duration_s:.1f}s" + (" (cached)" if t.cached else "")
        tests = ""
        if t.tests is not None:
            tests = f"{t.tests.passed} passed, {t.tests.failed} failed, {t.tests.skipped} skipped"
            if t.tests.errors:
                tests += f", {t.tests.errors} errors"
        out.append(f"| {md(name)} | {md(t.python)} | {_STATUS[t.status]} | {time} | {md(tests)} |")
    total = sum(t.duration_s for t in result.tools)
    out += ["", f"Total tool time: {total:.1f}s."]
    for env_ in (e for e in result.environments if not e.ok):
        out += [
            "",
            f"**The Python {md(env_.python)} environment could not be built**: {md(env_.error, masked)}",
        ]
    listed = 0
    lines: list[str] = []
    for t in failed:
        label = f"**{md(t.name)}** \\[{md(t.python)}\\]"
        if t.status is Status.TIMEOUT:
            lines.append(f"- {label}: {md(t.timeout_message)}")
            continue
        if t.status is not Status.FAILED:
            continue
        found = located.findings(t, project_root, base)
        if not found:
            lines.append(f"- {label}: failed (exit code {t.exit_code})")
        for f in found:
            listed += 1
            if listed <= SUMMARY_FINDINGS:
                lines.append(f"- {label} {_link(f.path, f.line, env)}: {md(f.summary, masked)}")
    if lines:
        out += ["", "### Failures", "", *lines]
    if listed > SUMMARY_FINDINGS:
        out += ["", f"{listed - SUMMARY_FINDINGS} more findings: see the step's output."]
    if omitted:
        out += [
            "",
            f"{omitted} more annotations than GitHub shows in one step ({PER_TYPE} of each "
            "type): the findings above and the step's output have them all.",
        ]
    if result.stages:
        out += ["", *timeline_table(result)]
    return "\n".join(out) + "\n"


#: the width of a stage's bar in the job summary's timeline, in characters
BAR = 30


def timeline_table(result: RunResult) -> list[str]:
    """The run's timeline (``--timeline``'s stages) as a Markdown table with text bars."""
    total = max(s.end_s for s in result.stages) or 1.0
    lines = ["### Timeline", "", "| stage | | start | duration | |", "|---|---|---|---|---|"]
    for s in result.stages:
        first = round(BAR * s.start_s / total)
        length = max(1, round(BAR * (s.end_s - s.start_s) / total))
        bar = "·" * first + ("░" if s.cached else "█") * length
        state = "cached" if s.cached else "ran"
        lines.append(
            f"| {md(s.name)} | `{bar.ljust(BAR + 1, '·')}` | {s.start_s:.2f}s | "
            f"{s.end_s - s.start_s:.2f}s | {state} |"
        )
    return lines
