"""``devbox lint``, ``test`` and ``check``: the run, as a short chain of named steps.

prepare (:func:`devbox.build.session.prepare`) → build with the live view → collect →
remember → present. Each step is small and testable alone; only :func:`build_with_live_view`
talks to the engine.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rich.console import Console

from devbox import fsutil
from devbox.build import bases as bases_mod
from devbox.build import secrets as build_secrets
from devbox.build import state
from devbox.build.dockerfile import render
from devbox.build.session import Job, Options, RunDir, prepare
from devbox.engine import SETTLE_S
from devbox.errors import (
    BuildFailed,
    ConfigError,
    DevboxError,
    EnvironmentError_,
    Interrupted,
    UsageError,
)
from devbox.report import codequality, json_report, junit, timeline
from devbox.report import console as report
from devbox.results import why
from devbox.results.collect import collect, save_logs
from devbox.results.diagnose import environment_message, tail, unreadable_message
from devbox.results.hints import Installed
from devbox.results.hints import attach as attach_hints
from devbox.results.model import Environment, RunResult, Status, ToolResult
from devbox.results.progress import BuildProgress


def run(
    opts: Options,
    env: Mapping[str, str],
    console: Console,
    on_job: Callable[[Job], object] | None = None,
) -> RunResult:
    """Prepare, build, collect, remember, present; on an error that stops the run, the report
    files asked for still say so (never an older report left in place). ``on_job``: called
    with the prepared job, before the build (devbox watch reads its excludes)."""
    check_report_paths(opts)
    job: Job | None = None
    reported = False
    try:
        job = prepare(opts, env, console, check_images=True)
        if on_job is not None:
            on_job(job)
        if _redraws(console) and not console.no_color and console.color_system:
            # a colour terminal: pytest prints its colours (told through a secret, so no
            # step's cache key changes; replayed in a log, the console drops them)
            job = dataclasses.replace(job, secrets=dataclasses.replace(job.secrets, colour=True))
        result = build_collect_remember(job, console)
        cfg = job.cfg
        installed = Installed(cfg.extras, cfg.groups, cfg.requirements, cfg.packages)
        result = attach_hints(result, job.facts, installed)
        # The report files first: they are written even when the terminal goes away.
        written = write_reports(opts, result, job.secrets.values(), job.plan.project.root, env)
        reported = True
        present(job, result, console, written)
        return result
    except Interrupted:
        raise
    except ConfigError:
        # Nothing ran: no report, and none from an earlier run left to be taken for this one.
        remove_reports(opts)
        raise
    except DevboxError as exc:
        if not reported:
            masked = job.secrets.values() if job else ()
            root = job.plan.project.root if job else opts.project_dir
            announce(console, write_reports(opts, failure_result(job, exc), masked, root, env))
        raise


def build_collect_remember(job: Job, console: Console) -> RunResult:
    opts = job.opts
    if job.plan.unreadable:
        raise ConfigError(unreadable_message(job.plan))
    bases = bases_mod.resolve_bases(
        job.cfg, job.facts, job.plan, job.docker, console, strict=opts.strict_base
    )
    state_file = job.work / state.STATE_FILE
    result = build_and_collect(job, state_file, bases, console)
    replayed = state.replayed_failures(result)
    if any(replayed):
        # A failing result is never shown from the cache: the engine replayed one (cached
        # under a key devbox had not busted), so those steps run again, now.
        _say_replayed(console, replayed)
        result = build_and_collect(job, state_file, bases, console, also=replayed)
    state.remember(state_file, result)
    state.remember_inputs(state_file, job.plan, job.rendered)
    return save_logs(result, job.work / "logs", job.secrets.values())


def check_report_paths(opts: Options) -> None:
    """A report path devbox cannot write is a usage error before anything runs (exit 2)."""
    for flag, path in (
        ("--report-json", opts.report_json),
        ("--junit-xml", opts.junit_xml),
        ("--codequality", opts.codequality),
        ("--timeline", opts.timeline),
    ):
        if path is None:
            continue
        problem = fsutil.unwritable(path)
        if problem:
            raise UsageError(
                f"{flag} {path}: devbox cannot write the report there ({problem}). Give a path "
                "in a directory you can write to."
            )


def remove_reports(opts: Options) -> None:
    for path in (opts.report_json, opts.junit_xml, opts.codequality, opts.timeline):
        if path is not None and (path.is_file() or path.is_symlink()):
            path.unlink()


def failure_result(job: Job | None, exc: DevboxError) -> RunResult:
    """What the reports say when the run stopped before any tool's result: every planned
    environment (or, with no plan, one unnamed one) failed with the error."""
    if job is None:
        pythons: list[tuple[str, str]] = [("", "")]
    else:
        pythons = [(e.python, e.image) for e in job.plan.environments]
    return RunResult(
        (),
        environments=tuple(
            Environment(p, image, cached=False, ok=False, error=exc.message, log=exc.detail)
            for p, image in pythons
        ),
    )


def write_reports(
    opts: Options,
    result: RunResult,
    masked: Sequence[str],
    project_root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[tuple[Path, bool]]:
    """Write the report files asked for (atomically): [(path, whether it replaced one)].

    ``project_root`` (default: ``opts.project_dir``) and ``env`` (``PWD``, ``CI_PROJECT_DIR``)
    say where the Code Quality report's paths start."""
    written: list[tuple[Path, bool]] = []
    env = env if env is not None else os.environ
    quality = functools.partial(
        codequality.write,
        project_root=project_root or opts.project_dir,
        cwd=Path(env.get("PWD") or os.getcwd()),
        env=env,
    )
    writers: tuple[tuple[Path | None, Callable[[Path, RunResult, Sequence[str]], None]], ...] = (
        (opts.report_json, json_report.write),
        (opts.junit_xml, junit.write),
        (opts.codequality, quality),
        (opts.timeline, timeline.write),
    )
    for path, write in writers:
        if path is None:
            continue
        replaced = path.exists()
        try:
            write(path, result, masked)
        except OSError as exc:
            raise EnvironmentError_(
                f"devbox could not write {path} ({exc.strerror or exc}). Free space or give "
                "another path."
            ) from None
        written.append((path, replaced))
    return written


def announce(console: Console, written: Sequence[tuple[Path, bool]]) -> None:
    for path, replaced in written:
        console.print(
            f"devbox: {'replaced' if replaced else 'wrote'} {path}", highlight=False, markup=False
        )


def build_and_collect(
    job: Job,
    state_file: Path,
    bases: Mapping[str, str],
    console: Console,
    *,
    also: tuple[set[str], set[str]] = (set(), set()),
) -> RunResult:
    """One build of the results (busting what failed last time, and ``also``), collected.

    With --fail-fast, a tool that fails stops the build; the tools that had finished are then
    exported by a second build of just their stages (replayed from the cache the first one
    filled), and the others are reported as cancelled."""
    build_args = state.build_args(job.plan, state_file, rerun=job.rerun, bases=bases, also=also)
    with job.run_dir("run-") as run_dir:
        try:
            progress = build_with_live_view(
                job, run_dir, build_args, console, fail_fast=job.opts.fail_fast
            )
        except StoppedAtFailure as stop:
            state.remember_tree(state_file, job.tree)
            return _with_why(job, _after_stop(job, stop, build_args, bases), build_args, also)
        state.remember_tree(state_file, job.tree)
        result = collect(
            job.plan,
            progress,
            run_dir.out,
            bases=bases,
            missing=job.missing,
            python_order=job.cfg.python,
            image_for={p: job.cfg.image_for(p) for p in job.cfg.python},
        )
        return _with_why(job, result, build_args, also)


def _with_why(
    job: Job, result: RunResult, build_args: Mapping[str, str], also: tuple[set[str], set[str]]
) -> RunResult:
    """Each tool's ``why``: what devbox asked for (the steps it busted), what changed."""
    forced = {}
    for r in job.plan.tools:
        if r.rerun_arg in build_args:
            forced[r.key] = (
                why.RERUN if job.rerun else why.REPLAYED_FAILURE if r.key in also[0] else why.FAILED
            )
    built = {e.python for e in result.environments if not e.cached and e.ok}
    return why.explain(result, forced, built)


class StoppedAtFailure(KeyboardInterrupt):
    """--fail-fast: a tool failed, so the build is cancelled (as for Ctrl-C, see
    devbox.engine.buildx.stream_build); carries what the live view had seen."""

    def __init__(self, failed: str) -> None:
        super().__init__(failed)
        self.failed = failed
        self.progress: BuildProgress | None = None


def _after_stop(
    job: Job, stop: StoppedAtFailure, build_args: Mapping[str, str], bases: Mapping[str, str]
) -> RunResult:
    """The results of a build --fail-fast stopped: the finished tools' (exported by a build
    of their stages only, which replays them) and the cancelled ones'."""
    progress = stop.progress
    assert progress is not None
    finished = tuple(r for r in job.plan.tools if progress.tools[r.key].finished)
    results: dict[str, ToolResult] = {}
    environments: tuple[Environment, ...] = ()
    if finished:
        sub_plan = dataclasses.replace(job.plan, tools=finished)
        sub = dataclasses.replace(job, plan=sub_plan, rendered=render(sub_plan))
        with sub.run_dir("run-") as run_dir:
            again = BuildProgress({r.stage: r.key for r in finished})
            argv = sub.build_argv(run_dir, output=run_dir.out, build_args=build_args)
            if sub.docker.build(argv, lambda line: again.feed(line, time.monotonic())) != 0:
                raise sub.failed_build(again)
            got = collect(
                sub_plan, again, run_dir.out, bases=bases, missing=job.missing,
                python_order=job.cfg.python,
                image_for={p: job.cfg.image_for(p) for p in job.cfg.python},
            )  # fmt: skip
        environments = got.environments
        for t in got.tools:  # what the stopped build ran counts as run, not replayed
            ran = progress.tools[t.key].state != "cached"
            results[t.key] = dataclasses.replace(t, cached=t.cached and not ran)
    failed = stop.failed
    for r in job.plan.tools:
        if r.key not in results:
            results[r.key] = ToolResult(
                r.name, r.kind, r.python, Status.CANCELLED, -1, 0.0, False,
                f"devbox: not run to the end: --fail-fast stopped the build when {failed} failed.\n",
            )  # fmt: skip
    return RunResult(
        tuple(results[r.key] for r in job.plan.tools),
        context_bytes=progress.context_bytes,
        environments=environments,
    )


def _say_replayed(console: Console, replayed: tuple[set[str], set[str]]) -> None:
    tools, envs = replayed
    names = sorted(tools) + [f"the Python {p} environment" for p in sorted(envs)]
    console.print(
        f"devbox: the engine replayed an earlier failure of {', '.join(names)} from its cache; "
        "running again to check it",
        highlight=False,
        markup=False,
    )


def build_with_live_view(
    job: Job,
    run_dir: RunDir,
    build_args: Mapping[str, str],
    console: Console,
    *,
    fail_fast: bool = False,
) -> BuildProgress:
    """Build the results target with the live table; keep the progress record (masked).

    ``fail_fast``: the first tool that fails (or times out) cancels the build, which raises
    :class:`StoppedAtFailure` with the progress seen."""
    argv = job.build_argv(
        run_dir,
        output=run_dir.out,
        build_args=build_args,
        cache_from=job.cfg.cache_from,
        cache_to=[c for c in job.cfg.cache_to if not c.startswith("type=inline")],
    )
    plan = job.plan
    verbose = job.opts.verbose and not job.opts.quiet
    progress = BuildProgress({r.stage: r.key for r in plan.tools}, stream=verbose)
    record = run_dir.path / "build-progress.jsonl"
    masked = job.secrets.values()
    cwd = Path(job.env.get("PWD") or os.getcwd())
    view = report.LiveView(
        console,
        plan.tools,
        quiet=job.opts.quiet,
        verbose=verbose,
        live=_redraws(console),
        heartbeat_s=report.heartbeat_interval(job.env),
        paths=(plan.project.root, cwd),
    )
    stops: list[StoppedAtFailure] = []
    with record.open("w", encoding="utf-8") as log, view:
        view.update(progress.tools)

        def on_line(line: str) -> None:
            log.write(build_secrets.mask_progress(line, masked))
            changed = progress.feed(line, time.monotonic())
            if verbose:
                # the step scripts masked what they printed; masked again, as the record
                lines = progress.take_output()
                view.output([(k, build_secrets.mask(t, masked)) for k, t in lines])
            if changed:
                view.update(progress.tools)
            if fail_fast and changed and not stops:
                bad = [k for k, t in progress.tools.items() if t.state in ("failed", "timeout")]
                if bad:  # cancelled like Ctrl-C: stream_build turns it into Interrupted
                    stops.append(StoppedAtFailure(bad[0]))
                    raise stops[-1]

        try:
            rc = job.docker.build(argv, on_line, settle=lambda: _settle(progress))
        except Interrupted:
            if stops:
                stops[0].progress = progress
                view.update(progress.tools)
                raise stops[0] from None
            raise _interrupted(progress) from None
        view.update(progress.tools)
    (job.work / "logs").mkdir(parents=True, exist_ok=True)
    os.replace(record, job.work / "logs" / "build-progress.jsonl")
    if rc != 0:
        raise job.failed_build(progress)
    return progress


def _redraws(console: Console) -> bool:
    """Whether the live table may be redrawn: the console is a terminal, really. FORCE_COLOR
    makes rich treat a pipe as one (colours in a CI log are fine, cursor moves are not)."""
    if not console.is_terminal:
        return False
    try:
        return console.file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


def _interrupted(progress: BuildProgress) -> Interrupted:
    busy = [k for k, t in progress.tools.items() if t.state in ("running", "installing", "queued")]
    return Interrupted(
        "interrupted: the build was cancelled in the engine"
        + (f" ({', '.join(busy)} had not finished)" if busy else "")
        + ". Nothing was reported; the next run starts from BuildKit's cache."
    )


def _settle(progress: BuildProgress) -> float:
    """How long to wait before cancelling, so no running step is younger than SETTLE_S."""
    now = time.monotonic()
    running = [
        t.started_at for t in progress.tools.values() if t.state == "running" and t.started_at
    ]
    return max((SETTLE_S - (now - s) for s in running), default=0.0)


def present(
    job: Job, result: RunResult, console: Console, written: Sequence[tuple[Path, bool]] = ()
) -> None:
    """Environment errors, failing output (all output with -v), the summary, annotations, and
    the report files ``written``."""
    opts, plan = job.opts, job.plan
    if result.nothing_ran:
        # Every environment failed: that is the error (exit 3), as for a single version.
        announce(console, written)
        bad = next(e for e in result.environments if not e.ok)
        raise BuildFailed(environment_message(plan, bad), detail=tail(bad.log))
    cwd = Path(job.env.get("PWD") or os.getcwd())
    for bad in (e for e in result.environments if not e.ok):
        report.print_environment_error(console, environment_message(plan, bad), tail(bad.log))
    if opts.verbose:
        # the live view streamed the output of every step that ran (build_with_live_view)
        report.print_outputs(console, result, plan.project.root, cwd, streamed=not opts.quiet)
    else:
        report.print_failures(console, result, plan.project.root, cwd, github=opts.annotations)
    for line in (h for t in result.tools for h in t.hints):  # what a setting would fix
        console.print(line, style="yellow", highlight=False, markup=False)
    warned: set[str] = set()
    for tool in result.tools:  # passing tools too: an extension that was not built
        for warning in tool.warnings:
            if warning not in warned:
                warned.add(warning)
                console.print(
                    f"devbox: warning: {tool.name}: {warning}",
                    style="yellow",
                    highlight=False,
                    markup=False,
                )
    report.print_summary(console, result)
    if opts.annotations:
        _github(job, result, console, cwd)
    announce(console, written)


def _github(job: Job, result: RunResult, console: Console, cwd: Path) -> None:
    """The annotations (those GitHub shows, and how many more) and, with
    ``GITHUB_STEP_SUMMARY`` set, the job summary appended to that file."""
    from devbox.report import github  # only on CI, off the hot path

    root = job.plan.project.root
    annotations = github.annotate(result, root, cwd, job.env)
    for line in annotations.lines:
        console.out(line, highlight=False)
    more = annotations.more_line()
    if more:
        console.print(more, highlight=False, markup=False)
    summary_file = job.env.get("GITHUB_STEP_SUMMARY")
    if not summary_file:
        return
    masked = job.secrets.values()
    text = github.job_summary(result, root, cwd, job.env, annotations.omitted, masked)
    try:
        with open(summary_file, "a", encoding="utf-8") as f:
            f.write(build_secrets.mask(text, masked))
    except OSError as exc:  # the summary is a courtesy: the run's result stands
        console.print(
            f"devbox: warning: could not write the job summary to {summary_file} "
            f"({exc.strerror or exc})",
            style="yellow",
            highlight=False,
            markup=False,
        )
