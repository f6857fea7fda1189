"""``devbox shell``: an interactive shell (or one command) in the test-base image.

The dependency stage is built and loaded into the engine's image store under a per-project
tag, then ``docker run`` starts it with the project mounted **read-write** at /src — the
user's explicit choice here, unlike lint/test, which never touch the tree.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import uuid
from collections.abc import Mapping, Sequence

from rich.console import Console

from devbox.build import state
from devbox.build.contract import (
    AT_ENTER,
    AT_MISSING_MARKER,
    ENV_STATUS,
    FIELD_OK,
    INSTALL_LOG,
    STATUS_FILE,
    WORKDIR,
)
from devbox.build.dockerfile import AT_NONCE_ARG, at_stage, render_at
from devbox.build.plan import EnvPlan, Plan, ToolRun
from devbox.build.session import Job, Options, prepare
from devbox.config.keys import TOOL_NAME
from devbox.errors import UsageError
from devbox.results.progress import BuildProgress

#: Checks the install step's record before handing over: a failed install says so and exits 3.
#: (install.py writes status.json with json.dump's default separators: '"ok": true')
_GUARD = (
    f"if ! grep -q '\"{FIELD_OK}\": true' {ENV_STATUS}/{STATUS_FILE} 2>/dev/null; then "
    f"cat {ENV_STATUS}/{INSTALL_LOG} 2>/dev/null; "
    'echo "devbox: the environment could not be built (the installer output is above)" >&2; exit 3; fi; '
    'exec "$@"'
)
_INTERACTIVE = ["sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"]


def image_tag(plan: Plan, env: EnvPlan) -> str:
    return f"devbox-shell/{plan.image_name}-{plan.project_key}:{env.python}"


def build_image(opts: Options, env_vars: Mapping[str, str], console: Console) -> tuple[Job, str]:
    job = prepare(opts, env_vars, console)
    environment = job.plan.environments[0]
    tag = image_tag(job.plan, environment)
    console.print(
        f"devbox: preparing {tag} (Python {environment.python})", highlight=False, markup=False
    )
    with job.run_dir("shell-") as run_dir:
        job.quiet_build(job.build_argv(run_dir, output=None, target=environment.stage, tag=tag))
    return job, tag


def run_argv(job: Job, tag: str, command: Sequence[str], *, tty: bool) -> list[str]:
    """``docker run`` on the builder's engine, where the image was loaded."""
    user = None
    env = {"PYTHONPYCACHEPREFIX": "/tmp/devbox-pycache"}
    # Bytecode goes to /tmp, not into the tree; files created in the tree belong to the user.
    if hasattr(os, "getuid") and os.getuid() != 0:
        user = f"{os.getuid()}:{os.getgid()}"
        env["HOME"] = "/tmp"
    return job.docker.run_argv(
        tag,
        _guarded(command or _INTERACTIVE),
        mounts={job.plan.project.root: WORKDIR},
        workdir=WORKDIR,
        env=env,
        user=user,
        tty=tty,
        stdin=True,
    )


def _guarded(command: Sequence[str]) -> list[str]:
    return ["sh", "-c", _GUARD, "devbox-shell", *command]


def shell(
    opts: Options, env_vars: Mapping[str, str], command: Sequence[str], console: Console
) -> None:
    if opts.cli.get("python") and "," in str(opts.cli["python"]):
        raise UsageError("devbox shell takes one Python version (--python 3.12).")
    job, tag = build_image(opts, env_vars, console)
    if job.plan.project_install == "editable":
        console.print(
            "devbox: the project's metadata is dynamic, so it is not installed in the image; "
            "`pip install -e .` inside the shell installs it (into the container only).",
            highlight=False,
            markup=False,
        )
    # stdin always reaches the shell or the command (`devbox shell -- python < script.py`,
    # `pytest --pdb`); a TTY when devbox has one on both ends
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    job.docker.exec(run_argv(job, tag, command, tty=tty))


# --- devbox shell --at TOOL: the environment and tree of the tool's last failure ---------------


def failing_run(job: Job, tool: str) -> tuple[ToolRun, bool]:
    """The run of ``tool`` to open: one that failed in its last run (the first version's when
    none did). Also whether it failed in its last run here (devbox's state)."""
    runs = [r for r in job.plan.tools if r.name == tool]
    if not re.fullmatch(TOOL_NAME, tool):
        raise UsageError(
            f"devbox shell --at {tool!a}: not a tool name (tool names are made of lowercase "
            "letters, digits, '.', '-' and '_'). Name a tool as `devbox check` reports it."
        )
    if not runs:
        names = ", ".join(dict.fromkeys(r.name for r in job.plan.tools)) or "none"
        raise UsageError(
            f"devbox shell --at {tool}: no tool of that name runs in this project (devbox "
            f"check runs: {names}). Name one of them, as `devbox check` reports it."
        )
    failed, _ = state.failed_last_time(job.work / state.STATE_FILE)
    for run in runs:
        if run.key in failed:
            return run, True
    return runs[0], False


def at_tag(plan: Plan, run: ToolRun) -> str:
    return f"devbox-shell/{plan.image_name}-{plan.project_key}:at-{run.name}-{run.python}"


def build_at(job: Job, run: ToolRun) -> str:
    """Build and load the image of ``run``'s last failure; its tag."""
    job = dataclasses.replace(job, rendered=render_at(job.plan, run, job.rendered))
    tag = at_tag(job.plan, run)

    def no_failure(progress: BuildProgress) -> None:
        if any(AT_MISSING_MARKER.encode() in v.logs for v in progress.vertexes.values()):
            raise UsageError(
                f"devbox shell --at {run.name}: the engine has no failure of {run.name} "
                f"(Python {run.python}) to open: it has not failed since its results were "
                "last cleared (devbox clean, or the engine pruned its cache). Run it "
                f"(devbox check {run.name}); when it fails, `devbox shell --at {run.name}` "
                "opens its shell."
            )

    with job.run_dir("shell-") as run_dir:
        argv = job.build_argv(
            run_dir,
            output=None,
            target=at_stage(run),
            tag=tag,
            # the snapshot is copied anew each time: its cache mount is not in the cache key
            build_args={AT_NONCE_ARG: uuid.uuid4().hex},
        )
        job.quiet_build(argv, no_failure)
    return tag


def shell_at(
    opts: Options,
    env_vars: Mapping[str, str],
    tool: str,
    command: Sequence[str],
    console: Console,
) -> None:
    """A shell (or ``command``) in the environment of ``tool``'s last failure, at the tree that
    run had (a copy in the image: nothing reaches the project)."""
    if opts.cli.get("python") and "," in str(opts.cli["python"]):
        raise UsageError("devbox shell takes one Python version (--python 3.12).")
    job = prepare(opts, env_vars, console)
    run, failing = failing_run(job, tool)
    if not failing:
        console.print(
            f"devbox: note: {run.name} did not fail in its last run here (or devbox has no "
            "record of it): this is the shell of its failure before that, if the engine has one.",
            highlight=False,
            markup=False,
        )
    console.print(
        f"devbox: preparing the shell of {run.name}'s last failure (Python {run.python})",
        highlight=False,
        markup=False,
    )
    tag = build_at(job, run)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    argv = job.docker.run_argv(
        tag,
        _guarded(["sh", AT_ENTER, *command]),
        mounts={},  # the tree is the image's own copy
        workdir=WORKDIR,
        env={"PYTHONPYCACHEPREFIX": "/tmp/devbox-pycache"},
        user=None,
        tty=tty,
        stdin=True,
    )
    job.docker.exec(argv)
