"""The run, as a short chain: load → plan → render → build → results → report."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from devbox import config as config_mod
from devbox import engine, fsutil
from devbox.build import secrets as credentials
from devbox.build.dockerfile import DIGEST_LABEL, Rendered, base_arg, deps_digest, render
from devbox.build.plan import Command, Plan, make_plan
from devbox.config.project import ProjectFacts, inspect_project, read_pyproject
from devbox.errors import (
    BuildFailed,
    ConfigError,
    EngineUnavailable,
    EnvironmentError_,
    Interrupted,
)
from devbox.report import console as report
from devbox.report import junit
from devbox.results.model import Environment, RunResult, read_environment, read_result
from devbox.results.progress import BuildProgress


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
    #: --offline: no network in any step, installs included
    offline: bool = False
    #: --strict-base: a stale or missing base-ref is an error, not a warning
    strict_base: bool = False


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
    return make_plan(
        cfg,
        facts,
        opts.command,
        extra_args=opts.extra_args,
        unavailable=unavailable,
        offline=opts.offline,
    )


def deps_digests(
    cfg: config_mod.Config, facts: ProjectFacts, unavailable: Sequence[str] = ()
) -> dict[str, str]:
    """Python version → digest of its dependency stage, as `devbox base build` makes it.

    A base image holds what lint and test both need (the `check` plan), so one image serves
    every command; the digest is computed the same way for the label and for the check.
    """
    # virtualenvs=(): the digest does not depend on the excludes, so no second tree walk
    plan = make_plan(cfg, facts, "check", unavailable=unavailable, virtualenvs=())
    rendered = render(plan)
    return {e.python: deps_digest(plan, rendered, e) for e in plan.environments}


def resolve_bases(
    cfg: config_mod.Config,
    facts: ProjectFacts,
    plan: Plan,
    builder: engine.Builder,
    env: Mapping[str, str],
    console: Console,
    *,
    strict: bool,
) -> dict[str, str]:
    """Python version → the pre-built dependency image (base-ref) to use for it.

    An image is used only when its label says it holds exactly this project's dependency
    set; otherwise devbox warns and installs them itself (or fails, with ``strict``).
    """
    if cfg.base_ref is None:
        return {}
    digests = deps_digests(
        cfg, facts, [p for p in cfg.python if p not in {e.python for e in plan.environments}]
    )
    where = _where_base(cfg)
    bases: dict[str, str] = {}
    for environment in plan.environments:
        ref = str(cfg.base_ref_for(environment.python))
        problem = _base_problem(
            ref, digests[environment.python], builder, env, offline=plan.offline
        )
        if problem is None:
            bases[environment.python] = ref
            continue
        if strict:
            raise BuildFailed(
                f"--strict-base: {problem} ({where}). Rebuild it from this project with "
                f"`devbox base build --tag {cfg.base_ref} --push`, or run without --strict-base to "
                "install the dependencies in this build instead."
            )
        console.print(
            f"devbox: warning: {problem} ({where}); installing the dependencies in this build "
            f"instead. Rebuild it with `devbox base build --tag {cfg.base_ref} --push`, or pass "
            "--strict-base to make this an error.",
            highlight=False,
            markup=False,
        )
    return bases


def _where_base(cfg: config_mod.Config) -> str:
    source = cfg.sources.get("base-ref")
    if source is config_mod.Source.CLI:
        return "from --base"
    if source is config_mod.Source.ENV:
        return "from DEVBOX_BASE_REF"
    return "from base-ref in [tool.devbox]"


def _base_problem(
    ref: str, digest: str, builder: engine.Builder, env: Mapping[str, str], *, offline: bool
) -> str | None:
    """Why the pre-built image ``ref`` cannot stand in for the dependency stage, or None."""
    docker, denv = builder.docker(), builder.env(env)
    inspect = [*docker, "image", "inspect", "--format", "{{json .Config.Labels}}", ref]
    proc = engine.run_command(inspect, env=denv)
    if proc.returncode != 0:
        if offline:
            return (
                f"the base image {ref} is not in the engine's image store, and --offline pulls "
                f"nothing (pull it first: docker pull {ref})"
            )
        pulled = engine.run_command([*docker, "pull", "-q", ref], timeout=900, env=denv)
        if pulled.returncode != 0:
            why = (pulled.stderr.strip().splitlines() or ["not found"])[-1]
            return f"the base image {ref} is not in the engine and could not be pulled ({why})"
        proc = engine.run_command(inspect, env=denv)
    try:
        labels = json.loads(proc.stdout) or {}
    except ValueError:
        labels = {}
    found = labels.get(DIGEST_LABEL) if isinstance(labels, dict) else None
    if found is None:
        return f"the base image {ref} has no {DIGEST_LABEL} label, so it was not made by `devbox base build`"
    if found != digest:
        return (
            f"the base image {ref} was built for other dependencies (its {DIGEST_LABEL} is "
            f"{found[:19]}…, this project's is {digest[:19]}…): a manifest, requirement, lock, "
            "tool or base image changed since"
        )
    return None


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


def missing_images(
    cfg: config_mod.Config,
    builder: engine.Builder = engine.DEFAULT_BUILDER,
    env: Mapping[str, str] | None = None,
    *,
    offline: bool = False,
) -> dict[str, str]:
    """With several versions, find base images that cannot be had, before the build.

    BuildKit cancels the whole build when one FROM cannot be resolved; checking first lets
    the other versions run (a missing one is reported as that version's environment error).
    One version needs no check: the build itself says so, with the same message.
    """
    missing: dict[str, str] = {}
    if len(cfg.python) < 2:
        return missing
    docker, denv = builder.docker(), None if env is None else builder.env(env)
    for python in cfg.python:
        image = cfg.image_for(python)
        if engine.run_command([*docker, "image", "inspect", image], env=denv).returncode == 0:
            continue
        if offline:
            missing[python] = "--offline pulls nothing"
            continue
        pulled = engine.run_command([*docker, "pull", "-q", image], timeout=600, env=denv)
        if pulled.returncode != 0:
            missing[python] = (pulled.stderr.strip().splitlines() or ["not found"])[-1]
    return missing


def prepare_build(
    cfg: config_mod.Config, env: Mapping[str, str], console: Console
) -> tuple[engine.Builder, credentials.Secrets]:
    """The builder to use and the build's secrets; checks what can be checked before building."""
    builder = engine.resolve_builder(cfg.builder, env)
    if cfg.cache_to:
        engine.check_cache_export(builder, cfg.cache_to, env)
    secrets = credentials.from_config(cfg, env)
    for name in secrets.missing:
        console.print(
            f"devbox: note: secret-env names {name}, which is not set here; the steps run without it.",
            highlight=False,
            markup=False,
        )
    return builder, secrets


def run(opts: Options, env: Mapping[str, str], console: Console) -> RunResult:
    cfg, facts = load_config(opts, env)
    builder, secrets = prepare_build(cfg, env, console)
    missing = missing_images(cfg, builder, env, offline=opts.offline)
    if len(missing) == len(cfg.python):
        python, why = next(iter(missing.items()))
        raise BuildFailed(_missing_image_message(cfg.image_for(python), why))
    plan = make_plan(
        cfg,
        facts,
        opts.command,
        extra_args=opts.extra_args,
        unavailable=list(missing),
        offline=opts.offline,
    )
    if plan.unreadable:
        raise ConfigError(unreadable_message(plan))
    rendered = render(plan)
    bases = resolve_bases(cfg, facts, plan, builder, env, console, strict=opts.strict_base)

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
    build_args.update(
        {base_arg(e): bases[e.python] for e in plan.environments if e.python in bases}
    )

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
            secrets=secrets.write(run_dir),
            cache_from=cfg.cache_from,
            cache_to=[c for c in cfg.cache_to if not c.startswith("type=inline")],
            builder=builder,
            env=env,
        )
        progress = BuildProgress({r.stage: r.key for r in plan.tools})
        progress_log = (run_dir / "build-progress.jsonl").open("w", encoding="utf-8")
        masked = secrets.values()
        with progress_log, report.LiveView(console, plan.tools, quiet=opts.quiet) as view:
            view.update(progress.tools)

            def on_line(line: str) -> None:
                progress_log.write(credentials.mask(line, masked))
                if progress.feed(line, time.monotonic()):
                    view.update(progress.tools)

            try:
                rc = engine.stream_build(
                    argv, on_line, builder.env(env), settle=lambda: _settle(progress)
                )
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
        (work / "logs").mkdir(parents=True, exist_ok=True)
        os.replace(run_dir / "build-progress.jsonl", work / "logs" / "build-progress.jsonl")
        if rc != 0:
            raise failed_build(plan, progress, builder.env(env))
        environments = [
            dataclasses.replace(
                read_environment(
                    work_out,
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
    result = save_logs(result, work / "logs", secrets.values())

    if result.nothing_ran:
        # Every environment failed: that is the error (exit 3), as for a single version.
        bad = next(e for e in result.environments if not e.ok)
        raise BuildFailed(environment_message(plan, bad), detail=tail(bad.log))

    cwd = Path(env.get("PWD") or os.getcwd())
    for bad in (e for e in result.environments if not e.ok):
        report.print_environment_error(console, environment_message(plan, bad), tail(bad.log))
    if opts.verbose:
        report.print_outputs(console, result, plan.project.root, cwd)
    else:
        report.print_failures(console, result, plan.project.root, cwd)
    report.print_summary(console, result)
    if opts.annotations:
        from devbox.results.findings import github_annotations

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


def unreadable_message(plan: Plan) -> str:
    names = plan.unreadable
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        f"devbox cannot read {len(names)} path{'s' if len(names) > 1 else ''} in {plan.project.root}: "
        f"{shown}. BuildKit would send an unreadable file as an empty one, so nothing ran. Make "
        "them readable (chmod a+r FILE, a+rx for a directory), or keep them out of the build "
        'with exclude in [tool.devbox] (for example exclude = ["' + names[0] + '"]).'
    )


def _settle(progress: BuildProgress) -> float:
    """How long to wait before cancelling, so no running step is younger than SETTLE_S."""
    now = time.monotonic()
    running = [
        t.started_at for t in progress.tools.values() if t.state == "running" and t.started_at
    ]
    return max((engine.SETTLE_S - (now - s) for s in running), default=0.0)


def save_logs(result: RunResult, logs: Path, masked: Sequence[str] = ()) -> RunResult:
    """Keep every tool's full output in a file (the terminal may show only its tail).

    Secret values are masked again here (the steps mask them already): nothing devbox
    prints or keeps holds one.
    """
    tools = []
    for tool in result.tools:
        path = logs / f"{tool.name}-{tool.python}.log"
        output = credentials.mask(tool.output, masked)
        fsutil.atomic_write(path, output)
        tools.append(dataclasses.replace(tool, output=output, log_path=path))
    environments = tuple(
        dataclasses.replace(e, log=credentials.mask(e.log, masked)) for e in result.environments
    )
    return dataclasses.replace(result, tools=tuple(tools), environments=environments)


def tail(log: str, lines: int = 60) -> str:
    return "\n".join(log.rstrip().splitlines()[-lines:])


def _missing_image_message(image: str, why: str) -> str:
    return (
        f"the base image {image} is not available: it is not in the engine's image store and "
        f"could not be pulled ({why.strip()}). Pull or build it first, or set base-image (or "
        "DEVBOX_BASE_IMAGE) to an image you have."
    )


def environment_message(plan: Plan, env: Environment) -> str:
    if env.log and plan.offline:
        return (
            f"--offline: installing the dependencies of Python {env.python} needed the network "
            f"(installer {plan.installer}): they are neither in a pre-built base nor in the "
            "build cache. The installer's output below names what was missing. Use a pre-built "
            "base (`devbox base build`, then --base REF), or run once without --offline."
        )
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


def quiet_build(argv: Sequence[str], plan: Plan, env: Mapping[str, str]) -> BuildProgress:
    """Run a build without the live view (shell and base images); raise if it fails."""
    progress = BuildProgress({})
    rc = engine.stream_build(argv, lambda line: progress.feed(line, time.monotonic()), env)
    if rc != 0:
        raise failed_build(plan, progress, env)
    return progress


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
    # "RUN --mount=… --network=none python3 …": the command says which step it was
    step = " ".join(re.sub(r"--(?:mount|network)=\S+", "", v.name.split("] ", 1)[-1]).split())
    in_base = (v.stage or "").startswith("test-base")
    if step.startswith("load metadata for") or (in_base and step.startswith("FROM")):
        image = step.removeprefix("load metadata for ").removeprefix("FROM ").split()[0]
        return BuildFailed(_missing_image_message(image, v.error))
    if in_base:
        offline = (
            " --offline: this step has no network; everything it installs must come from the "
            "cache or a pre-built base (--base), or run once without --offline."
            if plan.offline
            else ""
        )
        return BuildFailed(
            f"preparing the environment failed in step {step!r} (installer {plan.installer})."
            f"{offline} Its output is below.",
            detail=log_tail,
        )
    if "failed to compute cache key" in v.error or "not found" in v.error:
        return BuildFailed(f"a file the build needs is missing: {v.error.strip()}", detail=log_tail)
    return EnvironmentError_(
        f"the build failed in step {v.name!r}: {v.error.strip()}", detail=log_tail or tail
    )
