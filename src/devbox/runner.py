"""The run, as a short chain: load → plan → render → build → results → report."""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from devbox import config as config_mod
from devbox import engine, fsutil, junit, report
from devbox.dockerfile import Rendered, render
from devbox.errors import BuildFailed, EngineUnavailable, EnvironmentError_, Interrupted
from devbox.plan import Command, Plan, make_plan
from devbox.progress import BuildProgress
from devbox.project import ProjectFacts, inspect_project, read_pyproject
from devbox.results import Environment, RunResult, read_environment, read_result


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
    junit_xml: Path | None = None
    #: print GitHub Actions workflow annotations for findings (--format github)
    annotations: bool = False
    rerun: bool = False
    verbose: bool = False
    quiet: bool = False
    all_pythons: bool = False


def load_config(opts: Options, env: Mapping[str, str]) -> tuple[config_mod.Config, ProjectFacts]:
    pyproject = read_pyproject(opts.project_dir)
    facts = inspect_project(opts.project_dir, pyproject)
    cfg = config_mod.load(
        pyproject,
        path=opts.project_dir / "pyproject.toml",
        env=env,
        cli=opts.cli,
        facts=facts,
        all_pythons=opts.all_pythons,
    )
    return cfg, facts


def load_plan(opts: Options, env: Mapping[str, str], unavailable: Sequence[str] = ()) -> Plan:
    cfg, facts = load_config(opts, env)
    return make_plan(cfg, facts, opts.command, extra_args=opts.extra_args, unavailable=unavailable)


def project_work_dir(env: Mapping[str, str], plan: Plan) -> Path:
    """devbox's own directory for a project: state, logs, per-run build files."""
    return cache_home(env) / "projects" / f"{plan.project.root.name}-{plan.project_key}"


def write_build_files(plan: Plan, rendered: Rendered, work: Path) -> tuple[Path, Path]:
    """Write the Dockerfile, its ignore file and devbox's context into ``work`` (a run's own)."""
    work.mkdir(parents=True, exist_ok=True)
    dockerfile = work / "Dockerfile"
    dockerfile.write_text(rendered.dockerfile, encoding="utf-8")
    # The frontend reads "<Dockerfile>.dockerignore" next to the Dockerfile, before the
    # context's own .dockerignore: the user's tree needs no file of ours.
    (work / "Dockerfile.dockerignore").write_text(rendered.dockerignore, encoding="utf-8")
    ctx = work / "context"
    for rel, content in rendered.context.items():
        path = ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return dockerfile, ctx


def _failed_last_time(state_file: Path) -> tuple[set[str], set[str]]:
    """Tools (``name@python``) and Python versions whose run failed last time."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
        return {str(n) for n in data.get("failed", [])}, {
            str(p) for p in data.get("failed_environments", [])
        }
    except (OSError, ValueError, AttributeError):
        return set(), set()


def missing_images(cfg: config_mod.Config) -> dict[str, str]:
    """With several versions, find base images that cannot be had, before the build.

    BuildKit cancels the whole build when one FROM cannot be resolved; checking first lets
    the other versions run (a missing one is reported as that version's environment error).
    One version needs no check: the build itself says so, with the same message.
    """
    missing: dict[str, str] = {}
    if len(cfg.python) < 2:
        return missing
    for python in cfg.python:
        image = cfg.image_for(python)
        if engine.run_command(["docker", "image", "inspect", image]).returncode == 0:
            continue
        pulled = engine.run_command(["docker", "pull", "-q", image], timeout=600)
        if pulled.returncode != 0:
            missing[python] = (pulled.stderr.strip().splitlines() or ["not found"])[-1]
    return missing


def run(opts: Options, env: Mapping[str, str], console: Console) -> RunResult:
    cfg, facts = load_config(opts, env)
    missing = missing_images(cfg)
    if len(missing) == len(cfg.python):
        python, why = next(iter(missing.items()))
        raise BuildFailed(_missing_image_message(cfg.image_for(python), why))
    plan = make_plan(
        cfg, facts, opts.command, extra_args=opts.extra_args, unavailable=list(missing)
    )
    rendered = render(plan)

    work = project_work_dir(env, plan)
    state_file = work / "state.json"
    # BuildKit caches a failing step too (tool and install steps exit 0 by design): bust the
    # steps that failed last time, so they run again; passing ones replay instantly.
    failed_tools, failed_envs = _failed_last_time(state_file)
    if opts.rerun:
        failed_tools = {r.key for r in plan.tools}
    nonce = uuid.uuid4().hex
    build_args = {r.rerun_arg: nonce for r in plan.tools if r.key in failed_tools}
    build_args.update({e.rerun_arg: nonce for e in plan.environments if e.python in failed_envs})

    # Every run builds from its own directory: two runs of one project at once (an editor
    # and a terminal) never clobber each other's Dockerfile, context or exported results.
    with fsutil.private_dir(work / "runs", "run-") as run_dir:
        dockerfile, ctx = write_build_files(plan, rendered, run_dir)
        work_out = run_dir / "out"
        argv = engine.build_argv(
            dockerfile=dockerfile,
            context=plan.project.root,
            devbox_context=ctx,
            output=work_out,
            build_args=build_args,
            ca_bundle=plan.ca_bundle,
            env=env,
        )
        progress = BuildProgress({r.stage: r.key for r in plan.tools})
        with report.LiveView(console, plan.tools, quiet=opts.quiet) as view:
            view.update(progress.tools)

            def on_line(line: str) -> None:
                if progress.feed(line, time.monotonic()):
                    view.update(progress.tools)

            try:
                rc = engine.stream_build(argv, on_line, dict(env), settle=lambda: _settle(progress))
            except Interrupted:
                busy = [
                    k
                    for k, t in progress.tools.items()
                    if t.state in ("running", "installing", "queued")
                ]
                raise Interrupted(
                    "interrupted: the build was cancelled in the engine"
                    + (f" ({', '.join(busy)} had not finished)" if busy else "")
                    + ". Nothing was reported; the next run starts from BuildKit's cache."
                ) from None
            view.update(progress.tools)
        if rc != 0:
            raise failed_build(plan, progress, env)
        environments = [
            read_environment(work_out, e.python, e.image, cached=progress.stage_cached(e.stage))
            for e in plan.environments
        ]
        environments += [
            Environment(
                p,
                cfg.image_for(p),
                cached=False,
                ok=False,
                error=_missing_image_message(cfg.image_for(p), why),
            )
            for p, why in missing.items()
        ]
        result = RunResult(
            tuple(
                read_result(work_out, r, cached=progress.tools[r.key].state == "cached")
                for r in plan.tools
            ),
            context_bytes=progress.context_bytes,
            environments=tuple(sorted(environments, key=lambda e: cfg.python.index(e.python))),
        )

    state = {
        "failed": [t.key for t in result.tools if not t],
        "failed_environments": [e.python for e in result.environments if not e.ok],
    }
    fsutil.atomic_write(state_file, json.dumps(state) + "\n")
    result = save_logs(result, work / "logs")

    if result.nothing_ran:
        # Every environment failed: that is the error (exit 3), as for a single version.
        bad = next(e for e in result.environments if not e.ok)
        raise BuildFailed(_environment_message(plan, bad), detail=_tail(bad.log))

    cwd = Path(env.get("PWD") or os.getcwd())
    for bad in (e for e in result.environments if not e.ok):
        report.print_environment_error(console, _environment_message(plan, bad), _tail(bad.log))
    if opts.verbose:
        report.print_outputs(console, result, plan.project.root, cwd)
    else:
        report.print_failures(console, result, plan.project.root, cwd)
    report.print_summary(console, result)
    if opts.annotations:
        from devbox.findings import github_annotations

        for line in github_annotations(result, plan.project.root, cwd):
            console.out(line, highlight=False)
    for path, write in (
        (opts.report_json, report.write_json),
        (opts.junit_xml, junit.write),
    ):  # atomic
        if path is not None:
            replaced = path.exists()
            write(path, result)
            console.print(
                f"devbox: {'replaced' if replaced else 'wrote'} {path}",
                highlight=False,
                markup=False,
            )
    return result


def _settle(progress: BuildProgress) -> float:
    """How long to wait before cancelling, so no running step is younger than SETTLE_S."""
    now = time.monotonic()
    running = [
        t.started_at for t in progress.tools.values() if t.state == "running" and t.started_at
    ]
    return max((engine.SETTLE_S - (now - s) for s in running), default=0.0)


def save_logs(result: RunResult, logs: Path) -> RunResult:
    """Keep every tool's full output in a file (the terminal may show only its tail)."""
    tools = []
    for tool in result.tools:
        path = logs / f"{tool.name}-{tool.python}.log"
        fsutil.atomic_write(path, tool.output)
        tools.append(dataclasses.replace(tool, log_path=path))
    return dataclasses.replace(result, tools=tuple(tools))


def _tail(log: str, lines: int = 60) -> str:
    return "\n".join(log.rstrip().splitlines()[-lines:])


def _missing_image_message(image: str, why: str) -> str:
    return (
        f"the base image {image} is not available: it is not in the engine's image store and "
        f"could not be pulled ({why.strip()}). Pull or build it first, or set base-image (or "
        "DEVBOX_BASE_IMAGE) to an image you have."
    )


def _environment_message(plan: Plan, env: Environment) -> str:
    if env.log:
        return (
            f"installing the dependencies failed (Python {env.python}, installer {plan.installer}, "
            f"base image {env.image}). The installer's output is below; fix the requirement "
            "named there (pyproject dependencies, extras, groups, requirements or packages)."
        )
    return (
        env.error if env.error.startswith("the base image") else f"Python {env.python}: {env.error}"
    )


#: what buildx says when the engine goes away mid-build
_ENGINE_GONE = ("error reading from server", "connection reset", "Cannot connect to the Docker daemon",
                "rpc error: code = Unavailable", "transport is closing", ": EOF")  # fmt: skip


def failed_build(plan: Plan, progress: BuildProgress, env: Mapping[str, str]) -> EnvironmentError_:
    """The error for a build that exited non-zero."""
    if not progress.vertexes:
        # Nothing was solved: diagnose the engine and buildx only now, so a working set-up
        # pays for no checks (the docker SDK import alone costs ~0.2 s). Raises if unusable.
        engine.probe(env)
    return build_error(plan, progress)


def build_error(plan: Plan, progress: BuildProgress) -> EnvironmentError_:
    v = progress.failed_vertex()
    tail = "\n".join(progress.text_lines[-5:])
    said = " ".join([*progress.text_lines[-5:], v.error if v else ""])
    if progress.vertexes and any(marker in said for marker in _ENGINE_GONE):
        return EngineUnavailable(
            "the Docker engine stopped answering during the build. Check that it is running "
            "(`devbox doctor`), then run again: steps that finished are in BuildKit's cache.",
            detail=tail,
        )
    if v is None:
        return EnvironmentError_("the build failed before any step ran.", detail=tail)
    logs = bytes(v.logs).decode("utf-8", errors="replace")
    log_tail = "\n".join(logs.rstrip().splitlines()[-60:])
    step = v.name.split("] ", 1)[-1]
    in_base = (v.stage or "").startswith("test-base")
    if step.startswith("load metadata for") or (in_base and step.startswith("FROM")):
        image = step.removeprefix("load metadata for ").removeprefix("FROM ").split()[0]
        return BuildFailed(_missing_image_message(image, v.error))
    if in_base:
        return BuildFailed(
            f"preparing the environment failed in step {step!r} (installer {plan.installer}). "
            "Its output is below.",
            detail=log_tail,
        )
    if "failed to compute cache key" in v.error or "not found" in v.error:
        return BuildFailed(f"a file the build needs is missing: {v.error.strip()}", detail=log_tail)
    return EnvironmentError_(
        f"the build failed in step {v.name!r}: {v.error.strip()}", detail=log_tail or tail
    )
