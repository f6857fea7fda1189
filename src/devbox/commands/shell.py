"""``devbox shell``: an interactive shell (or one command) in the test-base image.

The dependency stage is built and loaded into the engine's image store under a per-project
tag, then ``docker run`` starts it with the project mounted **read-write** at /src — the
user's explicit choice here, unlike lint/test, which never touch the tree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from rich.console import Console

from devbox import engine, fsutil
from devbox.build.contract import WORKDIR
from devbox.build.dockerfile import render
from devbox.build.plan import EnvPlan, Plan, make_plan
from devbox.commands.run import (
    Options,
    load_config,
    prepare_build,
    project_work_dir,
    quiet_build,
    write_build_files,
)
from devbox.errors import UsageError

#: Checks the install step's record before handing over: a failed install says so and exits 3.
_GUARD = (
    "if ! grep -q '\"ok\": true' /opt/devbox/env/status.json 2>/dev/null; then "
    "cat /opt/devbox/env/install.log 2>/dev/null; "
    'echo "devbox: the environment could not be built (the installer output is above)" >&2; exit 3; fi; '
    'exec "$@"'
)
_INTERACTIVE = ["sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"]


def image_tag(plan: Plan, env: EnvPlan) -> str:
    return f"devbox-shell/{plan.image_name}-{plan.project_key}:{env.python}"


def build_image(
    opts: Options, env_vars: Mapping[str, str], console: Console
) -> tuple[Plan, str, engine.Builder]:
    cfg, facts = load_config(opts, env_vars)
    builder, secrets = prepare_build(cfg, env_vars, console)
    plan = make_plan(cfg, facts, "check")
    environment = plan.environments[0]
    tag = image_tag(plan, environment)
    console.print(
        f"devbox: preparing {tag} (Python {environment.python})", highlight=False, markup=False
    )
    with fsutil.private_dir(project_work_dir(env_vars, plan) / "runs", "shell-") as run_dir:
        dockerfile, ctx = write_build_files(plan, render(plan), run_dir)
        argv = engine.build_argv(
            dockerfile=dockerfile, context=plan.project.root, devbox_context=ctx,
            output=None, build_args={}, target=environment.stage, tag=tag,
            ca_bundle=plan.ca_bundle, secrets=secrets.write(run_dir), builder=builder,
            env=env_vars,
        )  # fmt: skip
        quiet_build(argv, plan, builder.env(env_vars))
    return plan, tag, builder


def run_argv(
    plan: Plan,
    tag: str,
    command: Sequence[str],
    *,
    tty: bool,
    docker: Sequence[str] = ("docker",),
) -> list[str]:
    """``docker``: the docker command of the builder's engine, where the image was loaded."""
    argv = [*docker, "run", "--rm", "-v", f"{plan.project.root}:{WORKDIR}", "-w", WORKDIR]
    # Bytecode goes to /tmp, not into the tree; files created in the tree belong to the user.
    argv += ["-e", "PYTHONPYCACHEPREFIX=/tmp/devbox-pycache"]
    if hasattr(os, "getuid") and os.getuid() != 0:
        argv += ["--user", f"{os.getuid()}:{os.getgid()}", "-e", "HOME=/tmp"]
    if tty:
        argv += ["-it"]
    elif not command:
        argv += ["-i"]
    return [*argv, tag, "sh", "-c", _GUARD, "devbox-shell", *(command or _INTERACTIVE)]


def shell(
    opts: Options, env_vars: Mapping[str, str], command: Sequence[str], console: Console
) -> None:
    if opts.cli.get("python") and "," in str(opts.cli["python"]):
        raise UsageError("devbox shell takes one Python version (--python 3.12).")
    plan, tag, builder = build_image(opts, env_vars, console)
    if plan.project_install == "editable":
        console.print(
            "devbox: the project's metadata is dynamic, so it is not installed in the image; "
            "`pip install -e .` inside the shell installs it (into the container only).",
            highlight=False,
            markup=False,
        )
    tty = not command and sys.stdin.isatty() and sys.stdout.isatty()
    argv = run_argv(plan, tag, command, tty=tty, docker=builder.docker())
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(
        argv[0], argv, builder.env(os.environ)
    )  # the shell owns the terminal (and signals) from here
