"""``devbox explain``: what the next ``devbox lint/test/check`` would run, and why, without
running any tool.

The files come from the engine, by the same comparison the tool steps make: one small step
per tool, on the version's base image, compares the tree as sent with the record of that
tool's copy of the tree (by content, copying nothing; see
:func:`devbox._container.run.pending_changes`). The rest comes from devbox's state: the tools
that failed last time (their steps are busted), the files changed in place (every tool runs
on the tree sent afresh), and the digests of each tool's spec and each environment's inputs
at the last run.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from rich.console import Console

from devbox.build import state
from devbox.build.contract import EXPLAIN_FILE
from devbox.build.dockerfile import EXPLAIN_NONCE_ARG, inputs_digest, render_explain, spec_digest
from devbox.build.session import Options, prepare
from devbox.results import why
from devbox.results.model import parse_changes, read_exported

REPLAY = "would replay its last result: nothing it depends on changed"
REWRITTEN = "files changed in place since the last run, so the tree is sent afresh"
CAVEAT = (
    "devbox explain: a tool said to run can still replay, when the engine has its result for "
    "this very tree and configuration from an earlier run (an edit undone)."
)


@dataclass(frozen=True)
class Forecast:
    name: str
    python: str
    #: why it would run; () when it would replay
    reasons: tuple[str, ...]


def explain(opts: Options, env: Mapping[str, str], console: Console) -> list[Forecast]:
    job = prepare(opts, env, console)
    plan = job.plan
    explain_job = dataclasses.replace(job, rendered=render_explain(plan, job.rendered))
    state_file = job.work / state.STATE_FILE
    found: dict[str, object] = {}
    with explain_job.run_dir("explain-") as run_dir:
        argv = explain_job.build_argv(
            run_dir, output=run_dir.out, build_args={EXPLAIN_NONCE_ARG: uuid.uuid4().hex}
        )
        explain_job.quiet_build(argv)
        # the tree went to the engine through this path: as after a run (see prepare)
        state.remember_tree(state_file, job.tree)
        for run in plan.tools:
            try:
                raw = read_exported(run_dir.out, (run.name, run.python), EXPLAIN_FILE)
                found[run.key] = json.loads(raw.decode("utf-8"))
            except (OSError, ValueError):
                found[run.key] = None
    failed, _ = state.failed_last_time(state_file)
    tool_inputs, env_inputs = state.last_inputs(state_file)
    forecasts = []
    for run in plan.tools:
        reasons: list[str] = []
        if plan.rewritten:
            reasons.append(REWRITTEN)
        elif run.key in failed:
            reasons.append(why.FAILED)
        changes = parse_changes(found.get(run.key))
        if changes is None or changes.first:
            reasons.append(why.FIRST)
        else:
            reasons += why.file_reasons(changes)
        environment = next(e for e in plan.environments if e.python == run.python)
        if env_inputs.get(run.python) not in (None, inputs_digest(plan, job.rendered, environment)):
            reasons.append(why.ENVIRONMENT)
        if tool_inputs.get(run.key) not in (None, spec_digest(plan, run)):
            reasons.append("its command or environment changed")
        forecasts.append(Forecast(run.name, run.python, tuple(dict.fromkeys(reasons))))
    show(console, opts.command, forecasts)
    return forecasts


def show(console: Console, command: str, forecasts: list[Forecast]) -> None:
    several = len({f.python for f in forecasts}) > 1
    say = console.print
    say(
        f"devbox explain: what the next `devbox {command}` would run, and why (nothing was run):",
        highlight=False,
        markup=False,
    )
    for f in forecasts:
        label = f"{f.name} [{f.python}]" if several else f.name
        line = f"would run: {'; '.join(f.reasons)}" if f.reasons else REPLAY
        say(f"  {label}: {line}", highlight=False, markup=False)
    if any(f.reasons for f in forecasts):
        say(CAVEAT, highlight=False, markup=False, style="dim")
