"""The run, as a short chain: load → plan → render → build → results → report."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from devbox import config as config_mod
from devbox import engine, report
from devbox.dockerfile import Rendered, render
from devbox.errors import BuildFailed, EnvironmentError_
from devbox.plan import Command, Plan, make_plan
from devbox.progress import BuildProgress
from devbox.project import inspect_project, read_pyproject
from devbox.results import Environment, RunResult, read_result


def cache_home(env: Mapping[str, str]) -> Path:
    """devbox's own files (generated Dockerfiles, state), never in the user's tree."""
    if env.get("DEVBOX_CACHE_DIR"):
        return Path(env["DEVBOX_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "devbox"


@dataclass(frozen=True)
class Options:
    project_dir: Path
    command: Command
    cli: Mapping[str, object]
    extra_args: Sequence[str] = ()
    report_json: Path | None = None
    rerun: bool = False
    verbose: bool = False
    quiet: bool = False


def load_plan(opts: Options, env: Mapping[str, str]) -> Plan:
    pyproject = read_pyproject(opts.project_dir)
    facts = inspect_project(opts.project_dir, pyproject)
    cfg = config_mod.load(
        pyproject, path=opts.project_dir / "pyproject.toml", env=env, cli=opts.cli, facts=facts
    )
    return make_plan(cfg, facts, opts.command, extra_args=opts.extra_args)


def write_build_files(plan: Plan, rendered: Rendered, work: Path) -> tuple[Path, Path]:
    """Write the Dockerfile, its ignore file and devbox's context under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    dockerfile = work / "Dockerfile"
    dockerfile.write_text(rendered.dockerfile, encoding="utf-8")
    # The frontend reads "<Dockerfile>.dockerignore" next to the Dockerfile, before the
    # context's own .dockerignore: the user's tree needs no file of ours.
    (work / "Dockerfile.dockerignore").write_text(rendered.dockerignore, encoding="utf-8")
    ctx = work / "context"
    if ctx.exists():
        shutil.rmtree(ctx)
    for rel, content in rendered.context.items():
        path = ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return dockerfile, ctx


def _failed_last_time(state_file: Path) -> set[str]:
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
        return {str(n) for n in data.get("failed", [])}
    except (OSError, ValueError, AttributeError):
        return set()


def run(opts: Options, env: Mapping[str, str], console: Console) -> RunResult:
    plan = load_plan(opts, env)
    rendered = render(plan)

    work = cache_home(env) / "projects" / f"{plan.project.root.name}-{plan.project_key}"
    dockerfile, ctx = write_build_files(plan, rendered, work)
    state_file = work / "state.json"
    # BuildKit caches a failing tool's step too (it exits 0 by design): bust the steps of
    # tools that failed last time, so they run again; passing ones replay instantly.
    rerun = {r.name for r in plan.tools} if opts.rerun else _failed_last_time(state_file)
    nonce = uuid.uuid4().hex
    build_args = {r.rerun_arg: nonce for r in plan.tools if r.name in rerun}

    work_out = Path(tempfile.mkdtemp(prefix="out-", dir=work))
    try:
        argv = engine.build_argv(
            dockerfile=dockerfile,
            context=plan.project.root,
            devbox_context=ctx,
            output=work_out,
            build_args=build_args,
        )
        progress = BuildProgress({r.stage: r.name for r in plan.tools})
        build_env = dict(env)
        with report.LiveView(console, plan.tools, quiet=opts.quiet) as view:
            view.update(progress.tools)

            def on_line(line: str) -> None:
                if progress.feed(line, time.monotonic()):
                    view.update(progress.tools)

            rc = engine.stream_build(argv, on_line, build_env)
            view.update(progress.tools)
        if rc != 0:
            if not progress.vertexes:
                # Nothing was solved: diagnose the engine and buildx only now, so a working
                # set-up pays for no checks (the docker SDK import alone costs ~0.2 s).
                engine.probe(env)
            raise _build_error(plan, progress)
        result = RunResult(
            tuple(
                read_result(work_out, r, cached=progress.tools[r.name].state == "cached")
                for r in plan.tools
            ),
            context_bytes=progress.context_bytes,
            environments=(
                Environment(plan.python, plan.base_image, progress.stage_cached("test-base")),
            ),
        )
    finally:
        shutil.rmtree(work_out, ignore_errors=True)

    failed = [t.name for t in result.tools if not t]
    state_file.write_text(json.dumps({"failed": failed}) + "\n", encoding="utf-8")

    cwd = Path(env.get("PWD") or os.getcwd())
    if opts.verbose:
        report.print_outputs(console, result, plan.project.root, cwd)
    else:
        report.print_failures(console, result, plan.project.root, cwd)
    report.print_summary(console, result)
    if opts.report_json is not None:
        replaced = opts.report_json.exists()
        report.write_json(opts.report_json, result)
        console.print(
            f"devbox: {'replaced' if replaced else 'wrote'} {opts.report_json}",
            highlight=False,
            markup=False,
        )
    return result


def _build_error(plan: Plan, progress: BuildProgress) -> EnvironmentError_:
    v = progress.failed_vertex()
    tail = "\n".join(progress.text_lines[-5:])
    if v is None:
        return EnvironmentError_("the build failed before any step ran.", detail=tail)
    logs = bytes(v.logs).decode("utf-8", errors="replace")
    log_tail = "\n".join(logs.rstrip().splitlines()[-60:])
    step = v.name.split("] ", 1)[-1]
    if step.startswith("load metadata for") or (v.stage == "test-base" and step.startswith("FROM")):
        return BuildFailed(
            f"the base image {plan.base_image} is not available: it is not in the engine's image "
            f"store and could not be pulled ({v.error.strip()}). Pull or build it first, or set "
            "base-image (or DEVBOX_BASE_IMAGE) to an image you have.",
        )
    if v.stage == "test-base":
        return BuildFailed(
            f"installing the dependencies failed (Python {plan.python}, installer {plan.installer}, "
            f"base image {plan.base_image}). The installer's output is below; fix the requirement "
            "named there (pyproject dependencies, extras, groups, requirements or packages).",
            detail=log_tail,
        )
    if "failed to compute cache key" in v.error or "not found" in v.error:
        return BuildFailed(f"a file the build needs is missing: {v.error.strip()}", detail=log_tail)
    return EnvironmentError_(
        f"the build failed in step {v.name!r}: {v.error.strip()}", detail=log_tail or tail
    )
