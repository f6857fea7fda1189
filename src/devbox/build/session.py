"""Preparing a build, once for every command that builds: run (lint/test/check), shell, base.

:func:`prepare` is the one sequence config → engine and builder → secrets → plan → render;
a :class:`Job` holds its outcome and makes each build's private directory and buildx command
line. Nothing here prints results or decides exit codes.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from devbox import config as config_mod
from devbox import fsutil
from devbox.build import secrets as build_secrets
from devbox.build import state
from devbox.build.dockerfile import Rendered, render
from devbox.build.plan import Command, Plan, make_plan, project_key
from devbox.config.project import ProjectFacts, inspect_project, read_pyproject
from devbox.engine import Docker, build_argv, check_cache_export, resolve_builder
from devbox.errors import BuildFailed, EnvironmentError_
from devbox.results import diagnose
from devbox.results.progress import BuildProgress


@dataclass(frozen=True)
class Options:
    """What the command line asked for (config values in ``cli``, by key)."""

    project_dir: Path
    command: Command
    cli: Mapping[str, object]
    extra_args: Sequence[str] = ()
    #: tools named on the command line (``devbox lint mypy``): only those run
    tools: Sequence[str] = ()
    report_json: Path | None = None
    junit_xml: Path | None = None
    #: --codequality: the lint findings as a GitLab Code Quality report
    codequality: Path | None = None
    #: --timeline: the run's stages in time (HTML, or a Chrome trace for .json)
    timeline: Path | None = None
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
    #: --refresh: resolve the dependency environments anew (newer releases upstream)
    refresh: bool = False
    #: --fail-fast: cancel the build when a tool fails
    fail_fast: bool = False
    #: --affected: the test tools run only the tests the changes affect (pytest-testmon)
    affected: bool = False


def cache_home(env: Mapping[str, str]) -> Path:
    """devbox's own files (generated Dockerfiles, state), never in the user's tree."""
    if env.get("DEVBOX_CACHE_DIR"):
        return Path(env["DEVBOX_CACHE_DIR"])
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "devbox"


def project_work_dir(env: Mapping[str, str], plan: Plan) -> Path:
    """devbox's own directory for a project: state, logs, per-run build files."""
    return work_dir_of(env, plan.project.root)


def work_dir_of(env: Mapping[str, str], root: Path) -> Path:
    # Only safe characters of the project's name: this path reaches buildx's specs and logs.
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:64]
    return cache_home(env) / "projects" / f"{name}-{project_key(root)}"


def load_config(
    opts: Options,
    env: Mapping[str, str],
    on_found: Callable[[config_mod.Found], object] | None = None,
) -> tuple[config_mod.Config, ProjectFacts]:
    pyproject = read_pyproject(opts.project_dir)
    facts = inspect_project(opts.project_dir, pyproject)
    cfg = config_mod.load(
        pyproject,
        path=opts.project_dir / "pyproject.toml",
        env=env,
        cli=opts.cli,
        facts=facts,
        all_pythons=opts.all_pythons,
        on_found=on_found,
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
        only=opts.tools,
        refresh=state.refresh_token(work_dir_of(env, facts.root) / state.STATE_FILE),
        affected=opts.affected,
    )


def connect(
    cfg: config_mod.Config, env: Mapping[str, str], console: Console
) -> tuple[Docker, build_secrets.Secrets]:
    """The engine of the configured builder and the build's secrets; checks what can be
    checked before building."""
    builder = resolve_builder(cfg.builder, env)
    if cfg.cache_to:
        check_cache_export(builder, cfg.cache_to, env)
    secrets = build_secrets.from_config(cfg, env)
    for name in secrets.missing:
        console.print(
            f"devbox: note: secret-env names {name}, which is not set here; the steps run without it.",
            highlight=False,
            markup=False,
        )
    return Docker(env, builder), secrets


def missing_images(cfg: config_mod.Config, docker: Docker, *, offline: bool) -> dict[str, str]:
    """With several versions, find base images that cannot be had, before the build.

    BuildKit cancels the whole build when one FROM cannot be resolved; checking first lets
    the other versions run (a missing one is reported as that version's environment error).
    One version needs no check: the build itself says so, with the same message.
    """
    if len(cfg.python) < 2:
        return {}
    missing: dict[str, str] = {}
    for python in cfg.python:
        why = docker.ensure_image(cfg.image_for(python), offline=offline)
        if why is not None:
            missing[python] = why
    return missing


@dataclass(frozen=True)
class RunDir:
    """One build's private directory: its Dockerfile, devbox's context and secret files."""

    path: Path
    dockerfile: Path
    context: Path
    secrets: Mapping[str, Path]

    @property
    def out(self) -> Path:
        """Where a local export (``--output type=local``) puts the results."""
        return self.path / "out"


@dataclass(frozen=True)
class Job:
    """A prepared build: what :func:`prepare` found, and how to build it."""

    opts: Options
    env: Mapping[str, str]
    cfg: config_mod.Config
    facts: ProjectFacts
    docker: Docker
    secrets: build_secrets.Secrets
    plan: Plan
    rendered: Rendered
    #: Python version → why its base image cannot be had (those versions are not planned)
    missing: Mapping[str, str] = field(default_factory=dict)
    #: the path the tree is sent through (see :func:`devbox.build.state.context_link`)
    context: Path | None = None
    #: what to record once the engine has received the tree through ``context``
    tree: state.TreeState = field(default_factory=state.TreeState)
    #: run every tool, replaying none: --rerun, or files changed in place (BuildKit's cache
    #: key does not see every such change: a directory's new mode, checked with BuildKit 0.13)
    rerun: bool = False

    @property
    def work(self) -> Path:
        return project_work_dir(self.env, self.plan)

    @contextlib.contextmanager
    def run_dir(self, prefix: str) -> Iterator[RunDir]:
        """A private build directory: two runs of one project at once (an editor and a
        terminal) never clobber each other's Dockerfile, context or exported results."""
        with (
            fsutil.private_dir(self.work / "runs", prefix) as path,
            # secret files apart: on a tmpfs when there is one, and gone with a killed run
            fsutil.secret_dir(cache_home(self.env) / "secrets") as secret_path,
        ):
            dockerfile, ctx = write_build_files(self.rendered, path)
            yield RunDir(path, dockerfile, ctx, self.secrets.write(secret_path))

    def build_argv(
        self,
        run_dir: RunDir,
        *,
        output: Path | None,
        build_args: Mapping[str, str] | None = None,
        target: str = "results",
        tag: str | None = None,
        push: bool = False,
        labels: Mapping[str, str] | None = None,
        cache_from: Sequence[str] = (),
        cache_to: Sequence[str] = (),
    ) -> list[str]:
        return build_argv(
            dockerfile=run_dir.dockerfile, context=self.context or self.plan.project.root,
            devbox_context=run_dir.context, output=output, build_args=build_args or {},
            target=target, tag=tag, push=push, labels=labels, ca_bundle=self.plan.ca_bundle,
            secrets=run_dir.secrets, cache_from=cache_from, cache_to=cache_to,
            builder=self.docker.builder, env=self.docker.caller_env,
        )  # fmt: skip

    def quiet_build(
        self,
        argv: Sequence[str],
        refused: Callable[[BuildProgress], None] | None = None,
    ) -> BuildProgress:
        """Run a build without the live view (shell, base images, explain); raise if it fails.
        ``refused``: looks at a failed build first, and may raise an error of its own."""
        progress = BuildProgress({})
        rc = self.docker.build(argv, lambda line: progress.feed(line, time.monotonic()))
        if rc != 0:
            if refused is not None:
                refused(progress)
            raise self.failed_build(progress)
        return progress

    def failed_build(self, progress: BuildProgress) -> EnvironmentError_:
        """The error for a build that exited non-zero."""
        if not progress.vertexes:
            # Nothing was solved: diagnose the engine and buildx only now, so a working set-up
            # pays for no checks (the docker SDK import alone costs ~0.2 s). Raises if unusable.
            self.docker.probe()
        return diagnose.build_error(self.plan, progress)


def prepare(
    opts: Options, env: Mapping[str, str], console: Console, *, check_images: bool = False
) -> Job:
    """Config → engine and builder → secrets → (base images) → plan → rendered Dockerfile.

    ``check_images``: find the versions whose base image cannot be had first (runs do; with
    every version missing, that is the error).
    """
    # what the project declares, when the configuration names no test dependencies
    found: list[config_mod.Found] = []
    cfg, facts = load_config(opts, env, on_found=found.append)
    try:
        project_text = (opts.project_dir / "pyproject.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        project_text = ""
    for line in config_mod.unknown_env_vars(env, cfg, project_text):
        console.print(line, style="yellow", highlight=False, markup=False, soft_wrap=True)
    for f in found:
        console.print(f.line, highlight=False, markup=False, soft_wrap=True)
    docker, secrets = connect(cfg, env, console)
    missing = missing_images(cfg, docker, offline=opts.offline) if check_images else {}
    if missing and len(missing) == len(cfg.python):
        python, why = next(iter(missing.items()))
        raise BuildFailed(diagnose.missing_image_message(cfg.image_for(python), why))
    work = work_dir_of(env, facts.root)
    last = state.tree_state(work / state.STATE_FILE)
    if opts.refresh:
        refresh = state.new_refresh_token(work / state.STATE_FILE)
    else:
        refresh = state.refresh_token(work / state.STATE_FILE)
    walked_at = time.time()
    plan = make_plan(
        cfg,
        facts,
        opts.command,
        extra_args=opts.extra_args,
        unavailable=list(missing),
        offline=opts.offline,
        sent_at=last.sent_at,
        only=opts.tools,
        refresh=refresh,
        affected=opts.affected,
    )
    if plan.native_note:  # the project builds native code and system-packages is not set
        console.print(plan.native_note, highlight=False, markup=False, soft_wrap=True)
    # A file changed in place (or no record of the last transfer, or --rerun: test what is
    # on disk, whatever the engine holds): send the whole tree through a new path.
    fresh = plan.rewritten is None or bool(plan.rewritten) or opts.rerun
    tree = state.TreeState(last.generation + 1 if fresh else last.generation, walked_at)
    try:
        context = state.context_link(work, tree.generation, facts.root)
    except OSError as exc:
        raise EnvironmentError_(
            f"devbox cannot write its own directory {work} ({exc.strerror or exc}). Set "
            "DEVBOX_CACHE_DIR to a writable directory with free space (devbox keeps its "
            "generated build files, logs and state there, never in your project)."
        ) from None
    rerun = opts.rerun or bool(plan.rewritten)
    return Job(
        opts, env, cfg, facts, docker, secrets, plan, render(plan), missing, context, tree, rerun
    )


def write_build_files(rendered: Rendered, work: Path) -> tuple[Path, Path]:
    """Write the Dockerfile, its ignore file and devbox's context into ``work`` (a run's own)."""
    work.mkdir(parents=True, exist_ok=True)
    dockerfile = work / "Dockerfile"
    dockerfile.write_text(rendered.dockerfile, encoding="utf-8")
    # The frontend reads "<Dockerfile>.dockerignore" next to the Dockerfile, before the
    # context's own .dockerignore: the user's tree needs no file of ours.
    (work / "Dockerfile.dockerignore").write_text(rendered.dockerignore, encoding="utf-8")
    # A name of this run's own: BuildKit keeps its incremental copy of a local context by the
    # directory's name (see devbox.build.state.context_link), never to be shared.
    ctx = work / f"devbox-{work.name}"
    for rel, content in rendered.context.items():
        path = ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return dockerfile, ctx
