"""A finished build's exported files → a :class:`~devbox.results.model.RunResult`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path

from devbox import fsutil
from devbox.build import secrets as build_secrets
from devbox.build.plan import Plan
from devbox.results.diagnose import missing_image_message
from devbox.results.model import (
    Environment,
    RunResult,
    Stage,
    read_environment,
    read_result,
)
from devbox.results.progress import BuildProgress, Vertex, timestamp_s


def collect(
    plan: Plan,
    progress: BuildProgress,
    out: Path,
    *,
    bases: Mapping[str, str],
    missing: Mapping[str, str],
    python_order: Sequence[str],
    image_for: Mapping[str, str],
) -> RunResult:
    """Every tool's and environment's result, in configured order.

    ``missing``: versions whose base image could not be had (they were not built);
    ``image_for``: each configured version's base image.
    """
    environments = [
        dataclasses.replace(
            read_environment(
                out,
                e.python,
                e.image,
                cached=e.python in bases or progress.stage_cached(e.stage),
            ),
            base=bases.get(e.python, ""),
        )
        for e in plan.environments
    ]
    environments += [
        Environment(
            p,
            image_for[p],
            cached=False,
            ok=False,
            error=missing_image_message(image_for[p], why),
        )
        for p, why in missing.items()
    ]
    packages = {e.python: e.packages for e in environments}
    results = []
    for r in plan.tools:
        result = read_result(out, r, cached=progress.tools[r.key].state == "cached")
        version = packages.get(r.python, {}).get(r.package or "")
        results.append(dataclasses.replace(result, version=version) if version else result)
    return RunResult(
        tuple(results),
        context_bytes=progress.context_bytes,
        environments=tuple(sorted(environments, key=lambda e: python_order.index(e.python))),
        stages=stages(plan, progress),
    )


#: BuildKit's names of the steps that send the project and export the results
_CONTEXT_STEP = "[internal] load build context"
_EXPORT_STEP = "exporting to client directory"


def stages(plan: Plan, progress: BuildProgress) -> tuple[Stage, ...]:
    """The run's timeline: sending the project, each environment, each tool, the export;
    a stage BuildKit gave no times for (not reached) is left out."""
    groups: list[tuple[str, str, list[Vertex]]] = []
    everything = [progress.vertexes[d] for d in progress.order]
    groups.append(
        ("send the project", "context", [v for v in everything if v.name == _CONTEXT_STEP])
    )
    for e in plan.environments:
        groups.append((f"environment {e.python}", "environment", progress.stage_vertexes(e.stage)))
    for r in plan.tools:
        groups.append((f"{r.name} [{r.python}]", "tool", progress.stage_vertexes(r.stage)))
    groups.append(
        ("export the results", "export", [v for v in everything if v.name == _EXPORT_STEP])
    )
    timed = []
    for name, kind, vertexes in groups:
        spans = [
            (timestamp_s(v.started_at), timestamp_s(v.completed_at), v.cached)
            for v in vertexes
            if v.started_at and v.completed_at
        ]
        if spans:
            start = min(a for a, _, _ in spans)
            end = max(b for _, b, _ in spans)
            timed.append((name, kind, start, end, all(c for _, _, c in spans)))
    if not timed:
        return ()
    origin = min(start for _, _, start, _, _ in timed)
    return tuple(
        Stage(name, kind, round(start - origin, 3), round(end - origin, 3), cached)
        for name, kind, start, end, cached in timed
    )


def save_logs(result: RunResult, logs: Path, masked: Sequence[str] = ()) -> RunResult:
    """Keep every tool's full output in a file (the terminal may show only its tail).

    Secret values are masked again here (the steps mask them already): nothing devbox
    prints or keeps holds one.
    """
    tools = []
    for tool in result.tools:
        path = logs / f"{tool.name}-{tool.python}.log"
        output = build_secrets.mask(tool.output, masked)
        fsutil.atomic_write(path, output)
        # pytest's own JUnit XML holds captured output and assertion text, XML-escaped (the
        # escaped forms are among the masked values)
        junit = build_secrets.mask(tool.junit_xml, masked) if tool.junit_xml else tool.junit_xml
        machine = tool.machine_output and build_secrets.mask(tool.machine_output, masked)
        tools.append(
            dataclasses.replace(
                tool, output=output, log_path=path, junit_xml=junit, machine_output=machine
            )
        )
    environments = tuple(
        dataclasses.replace(e, log=build_secrets.mask(e.log, masked)) for e in result.environments
    )
    return dataclasses.replace(result, tools=tuple(tools), environments=environments)
