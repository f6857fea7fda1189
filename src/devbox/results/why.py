"""Why a tool ran instead of replaying, in the project's terms (``tools[].why``).

The reasons come from what devbox asked for (``--rerun``, a tool that failed last time, whose
step it busts) and from what the run found: the files that changed since the tool's last run
(its step's copy of the tree knows them, by content), and a dependency environment that was
built again. When the step ran for none of these, the tool's own command, environment or
devbox's step changed (a configuration edit, a new devbox).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from devbox.results.model import Changes, RunResult, ToolResult

#: how many paths a reason names before "and N more"
NAMED = 3

RERUN = "--rerun"
FAILED = "it failed last time"
REPLAYED_FAILURE = "its failure came from the engine's cache, so it ran again"
FIRST = "no earlier run of it here (first run, or its cache was removed)"
ENVIRONMENT = "the dependency environment changed"
OTHER = "its command, environment or devbox's step changed"


def _files(paths: Sequence[str], count: int, verb: str) -> str:
    named = list(paths[:NAMED])
    rest = count - len(named)
    listed = ", ".join(named) + (f" and {rest} more" if rest > 0 else "")
    return f"{listed} {verb}" if count == 1 else f"{count} files {verb}: {listed}"


def file_reasons(changes: Changes) -> list[str]:
    """The changed and the deleted files, named (a few) and counted."""
    out = []
    if changes.changed_count:
        out.append(_files(changes.changed, changes.changed_count, "changed"))
    if changes.deleted_count:
        out.append(_files(changes.deleted, changes.deleted_count, "deleted"))
    return out


def reasons(
    tool: ToolResult, *, forced: str | None = None, environment_built: bool = False
) -> tuple[str, ...]:
    """Why ``tool`` ran; () when it replayed."""
    if tool.cached:
        return ()
    out: list[str] = [forced] if forced else []
    changes: Changes | None = tool.changes
    if changes is not None and changes.first:
        out.append(FIRST)
    elif changes is not None:
        out += file_reasons(changes)
    if environment_built:
        out.append(ENVIRONMENT)
    return tuple(out) or (OTHER,)


def explain(
    result: RunResult, forced: Mapping[str, str], built_environments: set[str]
) -> RunResult:
    """The result with each tool's ``why``; ``forced``: tool key → what devbox asked for."""
    tools = tuple(
        dataclasses.replace(
            t,
            why=reasons(
                t, forced=forced.get(t.key), environment_built=t.python in built_environments
            ),
        )
        for t in result.tools
    )
    return dataclasses.replace(result, tools=tools)
