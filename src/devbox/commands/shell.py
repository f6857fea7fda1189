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

from devbox.build.contract import ENV_STATUS, FIELD_OK, INSTALL_LOG, STATUS_FILE, WORKDIR
from devbox.build.plan import EnvPlan, Plan
from devbox.build.session import Job, Options, prepare
from devbox.errors import UsageError

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
        ["sh", "-c", _GUARD, "devbox-shell", *(command or _INTERACTIVE)],
        mounts={job.plan.project.root: WORKDIR},
        workdir=WORKDIR,
        env=env,
        user=user,
        tty=tty,
        stdin=True,
    )


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
