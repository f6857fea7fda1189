"""Plan → Dockerfile text, its ignore file, and the files of devbox's own build context.

Pure.  Only validated values reach the Dockerfile (the base image reference, tool names, the
Python version, a hex project key); everything else a user configures (commands, env,
requirements) travels as JSON/text files in a separate named build context (``devbox``),
so no config value can add an instruction, a mount or a shell command.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from devbox import tools
from devbox.build import contract
from devbox.build.contract import (
    CACHE,
    ENV_STATUS,
    INSTALL_DIR,
    MIRROR_DIR,
    OUT,
    SYSTEM_PACKAGES,
    TOOL_SPEC,
    TREE,
    VENV,
    WORKDIR,
)
from devbox.build.plan import EnvPlan, Plan, ToolRun
from devbox.tools.spec import program

#: where a tool step's script is mounted (the script does not need to know)
RUN_SCRIPT = "/devbox/run.py"
#: The name of devbox's own build context (``--build-context devbox=DIR``).
CONTEXT_NAME = "devbox"
SOURCE_STAGE = "source"


@dataclass(frozen=True)
class Rendered:
    dockerfile: str
    dockerignore: str
    #: relative path → content of devbox's build context
    context: dict[str, str]


#: A CA bundle reaches steps as a BuildKit secret: not in any layer, not in the cache key.
#: Always declared (an absent secret is just an absent file), so the Dockerfile is the same
#: with or without one.
CA_SECRET = f"--mount=type=secret,id={contract.CA_ID},target={contract.CA_SECRET}"
#: The step scripts' shared secrets module, next to a script mounted at /devbox/.
SECRETS_MODULE = (
    f"--mount=type=bind,from={CONTEXT_NAME},source=install/{contract.SECRETS_MODULE_NAME}.py,"
    f"target=/devbox/{contract.SECRETS_MODULE_NAME}.py"
)
#: Package index URLs (which may carry credentials) and ``secret-env`` values: secrets too.
INDEX_SECRET = f"--mount=type=secret,id={contract.INDEX_ID},target={contract.INDEX_SECRET}"
ENV_SECRET = f"--mount=type=secret,id={contract.ENV_ID},target={contract.ENV_SECRET}"
SECRETS = (CA_SECRET, INDEX_SECRET, ENV_SECRET)
NO_NETWORK = "--network=none"
#: the label `devbox base build` puts on a dependency image: the digest of its inputs
DIGEST_LABEL = "devbox.deps-digest"


def base_arg(env: EnvPlan) -> str:
    """The build arg that replaces a version's dependency stage by a pre-built image."""
    return "build_base_image_" + env.python.replace(".", "_")


def deps_stage(env: EnvPlan) -> str:
    """The stage tools build on: the dependency stage, or the pre-built image that replaces it."""
    return f"deps-{env.python}"


def _installer_caches(plan: Plan, sharing: str = "locked") -> list[str]:
    # locked for the install step: two builds installing at once wait instead of racing;
    # shared for tool steps, which run in parallel and only read what pip/uv lock themselves.
    caches = [f"--mount=type=cache,id=devbox-pip,target=/root/.cache/pip,sharing={sharing}"]
    if plan.installer == "uv":
        caches.append(f"--mount=type=cache,id=devbox-uv,target=/root/.cache/uv,sharing={sharing}")
    return caches


def _run(mounts: list[str], command: str) -> str:
    lines = ["RUN " + mounts[0]] + ["    " + m for m in mounts[1:]] + ["    " + command]
    return " \\\n".join(lines)


def mirror_id(plan: Plan, run: ToolRun) -> str:
    """The cache mount of a tool's copy of the tree (``--``: no tool's own cache id)."""
    return f"devbox-{plan.project_key}--src-{run.name}-{run.python}"


def _tool_stage(plan: Plan, run: ToolRun) -> str:
    mounts = [
        *([] if plan.tool_network else [NO_NETWORK]),
        # The tree as sent, read-only: its transfer and checksum stay incremental (a copy of
        # it in a stage, or a rw bind, re-copies or re-sends the whole tree on every edit);
        # the tool works in its own copy, kept in a cache mount and brought up to date from
        # the tree by the step (only what changed is copied).
        f"--mount=type=bind,target={TREE}",
        f"--mount=type=cache,id={mirror_id(plan, run)},target={WORKDIR},sharing=locked",
        f"--mount=type=cache,id={mirror_id(plan, run)}-state,target={MIRROR_DIR},sharing=locked",
        f"--mount=type=bind,from={CONTEXT_NAME},source=run/devbox_run.py,target={RUN_SCRIPT}",
        SECRETS_MODULE,
        f"--mount=type=bind,from={CONTEXT_NAME},source=tools/{run.name}.json,target={TOOL_SPEC}",
        f"--mount=type=cache,id=devbox-{plan.project_key}-{run.name}-{run.python},target={CACHE}",
        CA_SECRET,
        ENV_SECRET,
    ]
    if plan.project_install == "editable":  # the tool step installs the project
        mounts += [INDEX_SECRET, *_installer_caches(plan, "shared")]
    base = affected_stage(run.python) if run.affected else f"deps-{run.python}"
    return "\n".join(
        [
            f"FROM {base} AS {run.stage}",
            f"ARG {run.rerun_arg}",
            _run(mounts, f"{VENV}/bin/python {RUN_SCRIPT} {run.python}"),
        ]
    )


def affected_stage(python: str) -> str:
    """``--affected``: the version's dependency stage with pytest-testmon added, so that the
    dependency environment itself (shared by every command and the shell) stays the same."""
    return f"affected-{python}"


def _affected_stage(plan: Plan, env: EnvPlan) -> str:
    offline = [NO_NETWORK] if plan.offline else []
    flag = " --offline" if plan.offline else ""
    install = _run(
        [
            *offline,
            f"--mount=type=bind,from={CONTEXT_NAME},source=install,target={INSTALL_DIR}",
            *_installer_caches(plan),
            *SECRETS,
        ],
        f"python3 {INSTALL_DIR}/devbox_install.py testmon{flag}",
    )
    return f"FROM {deps_stage(env)} AS {affected_stage(env.python)}\n{install}"


def _env_stage(plan: Plan, env: EnvPlan) -> str:
    # --offline: installs get no network either; they can only come from the caches.
    offline = [NO_NETWORK] if plan.offline else []
    flag = " --offline" if plan.offline else ""
    bootstrap = _run(
        [
            *offline,
            f"--mount=type=bind,from={CONTEXT_NAME},source=install/devbox_install.py,target=/devbox/devbox_install.py",
            SECRETS_MODULE,
            *_installer_caches(plan),
            CA_SECRET,
            INDEX_SECRET,
        ],
        f"python3 /devbox/devbox_install.py bootstrap {plan.installer}{flag}",
    )
    # The install step records its outcome and exits 0 (like tool steps): one version's
    # failure must not cancel the other versions' builds. ARG: re-run it after a failure.
    deps = _run(
        [
            *offline,
            f"--mount=type=bind,from={CONTEXT_NAME},source=install,target={INSTALL_DIR}",
            *_installer_caches(plan),
            *SECRETS,
        ],
        f"python3 {INSTALL_DIR}/devbox_install.py deps {env.python}{flag}",
    )
    system = []
    if plan.system_packages:
        # apt's downloads and lists live in cache mounts (per base image: lists of different
        # releases must not mix), so they are neither re-downloaded nor part of the image.
        apt_id = "devbox-apt-" + re.sub(r"[^a-z0-9]+", "-", env.image.lower()).strip("-")
        system.append(
            _run(
                [
                    *offline,
                    f"--mount=type=bind,from={CONTEXT_NAME},source=install/devbox_install.py,target=/devbox/devbox_install.py",
                    SECRETS_MODULE,
                    f"--mount=type=bind,from={CONTEXT_NAME},source=install/system-packages.txt,target={SYSTEM_PACKAGES}",
                    f"--mount=type=cache,id={apt_id}-cache,target=/var/cache/apt,sharing=locked",
                    f"--mount=type=cache,id={apt_id}-lists,target=/var/lib/apt/lists,sharing=locked",
                ],
                f"python3 /devbox/devbox_install.py system{flag}",
            )
        )
    return "\n\n".join(
        [
            f"FROM {env.image} AS {env.stage}",
            f"ENV VIRTUAL_ENV={VENV} \\\n    PATH={VENV}/bin:$PATH \\\n"
            "    PIP_DISABLE_PIP_VERSION_CHECK=1 \\\n    PYTHONUNBUFFERED=1",
            f"WORKDIR {WORKDIR}",
            *system,
            bootstrap,
            f"ARG {env.rerun_arg}\n{deps}",
        ]
    )


def render(plan: Plan) -> Rendered:
    # A pre-built dependency image (`--base`) replaces a version's dependency stage through
    # its build arg; by default the arg names the stage itself, so nothing changes.
    parts = [
        "# Generated by devbox: do not edit; `devbox dockerfile` prints it.\n"
        + "\n".join(f"ARG {base_arg(env)}={env.stage}" for env in plan.environments)
    ]
    for env in plan.environments:
        parts.append(_env_stage(plan, env))
        parts.append(f"FROM ${{{base_arg(env)}}} AS {deps_stage(env)}")
    # The project enters each tool step as the local context, bind-mounted read-only (see
    # _tool_stage). Mounting it rw makes BuildKit drop its incremental-transfer snapshot, so
    # every run re-sent the whole tree; copying it into a stage (``COPY . /``) made a new
    # snapshot of the whole tree, re-hashed, on every edit (measured with buildx 0.13 /
    # dockerd 26: benchmarks/scaling.py).
    affected = {r.python for r in plan.tools if r.affected}
    parts += [_affected_stage(plan, env) for env in plan.environments if env.python in affected]
    for run in plan.tools:
        parts.append(_tool_stage(plan, run))
    parts.append(_env_status(plan))
    # Each tool's result comes only from its own stage's OUT/NAME/PYTHON/: whatever else a
    # tool step (a test, a plugin) writes under OUT, such as another tool's result, stays in
    # its stage. The install records are copied last, so that even a tool named
    # "environments" cannot stand in for one.
    results = ["FROM scratch AS results"]
    results += [
        f"COPY --from={run.stage} {OUT}/{run.name}/{run.python}/ /{run.name}/{run.python}/"
        for run in plan.tools
    ]
    results += [
        f"COPY --from={deps_stage(env)} {ENV_STATUS}/ /environments/{env.python}/"
        for env in plan.environments
    ]
    parts.append("\n".join(results))
    dockerfile = "\n\n".join(parts) + "\n"

    ignore = (
        "# Generated by devbox: kept out of the build context.\n" + "\n".join(plan.excludes) + "\n"
    )

    context = {
        "install/devbox_install.py": _container_script("install.py"),
        "install/devbox_secrets.py": _container_script("stepsecrets.py"),
        "install/system-packages.txt": "".join(p + "\n" for p in plan.system_packages),
        "install/install.json": json.dumps(plan.install_spec(), indent=2, sort_keys=True) + "\n",
        "install/requirements.txt": "".join(line + "\n" for line in plan.requirements),
        "run/devbox_run.py": _container_script("run.py"),
    }
    for path, content in plan.requirement_files.items():
        context[f"install/project/{path}"] = content
    if plan.lock is not None:
        # uv sync reads the lock next to its pyproject.toml; nothing else of the tree.
        for name in ("pyproject.toml", "uv.lock"):
            context[f"install/lock/{name}"] = (plan.project.root / name).read_text(encoding="utf-8")
    for run in plan.tools:
        context[f"tools/{run.name}.json"] = (
            json.dumps(tool_spec(plan, run), indent=2, sort_keys=True) + "\n"
        )
    return Rendered(dockerfile, ignore, context)


#: exports each version's install record alone (`devbox base build` checks it before tagging)
ENV_STATUS_STAGE = "env-status"


def _env_status(plan: Plan) -> str:
    return "\n".join(
        [f"FROM scratch AS {ENV_STATUS_STAGE}"]
        + [
            f"COPY --from={e.stage} {ENV_STATUS}/ /environments/{e.python}/"
            for e in plan.environments
        ]
    )


def deps_digest(plan: Plan, rendered: Rendered, env: EnvPlan, *, image_id: str) -> str:
    """What a version's dependency stage is made of: base image, installer inputs, devbox's
    install script. Equal digests mean a pre-built image has the same dependencies.

    The base image counts by its reference and by ``image_id``, what the engine resolves
    that reference to (:meth:`devbox.engine.Docker.image_id`): another image behind the same
    tag is another digest."""
    h = hashlib.sha256()
    for part in (env.image, image_id, env.python, plan.installer):
        h.update(part.encode() + b"\0")
    for rel in sorted(k for k in rendered.context if k.startswith("install/")):
        h.update(rel.encode() + b"\0" + rendered.context[rel].encode() + b"\0")
    return "sha256:" + h.hexdigest()


def tool_spec(plan: Plan, run: ToolRun) -> dict[str, object]:
    return {
        "name": run.name,
        "kind": run.kind,
        "command": list(run.command),
        "env": dict(run.env),
        "junit": run.junit,
        "timeout": run.timeout,
        "project_install": plan.project_install,
        "installer": plan.installer,
        "version": plan.version,
        # the project builds native code: the step warns when its build made no extension
        "native": plan.project.compiled,
        "machine": machine_spec(run),
        "affected": run.affected,
    }


def machine_spec(run: ToolRun) -> dict[str, object] | None:
    """How the step gets the tool's machine-readable findings (``Tool.machine``): only for
    a command that runs the built-in tool's own program (a custom one is read as text)."""
    builtin = tools.BUILTIN.get(run.name)
    machine = builtin.machine if builtin else None
    if builtin is None or machine is None or machine.how == "junit":
        return None
    if program(run.command) != program(builtin.command):
        return None
    return {
        "how": machine.how,
        "args": list(machine.args),
        "drop": dict(machine.drop),
        "min_major": list(machine.min_major) if machine.min_major else None,
    }


def _container_script(name: str) -> str:
    return (
        resources.files("devbox").joinpath("_container").joinpath(name).read_text(encoding="utf-8")
    )


# --- devbox shell --at: the image of a tool's last failure ---------------------------------

#: the build arg that makes the shell --at step copy the snapshot anew every time (the cache
#: mount's content is not part of its cache key)
AT_NONCE_ARG = "devbox_at_nonce"


def at_stage(run: ToolRun) -> str:
    return f"at-{run.name}-{run.python}"


def render_at(plan: Plan, run: ToolRun, lint: Rendered) -> Rendered:
    """The run's Dockerfile (``lint``: :func:`render` of ``plan``) and one more stage:
    ``run.python``'s dependency stage with the tree of the tool's last failure at WORKDIR
    (kept by the tool step in its mirror's cache mount), the project installed as the tool
    step installs it. The other stages are the run's own, so the dependency stage replays;
    the tool stages are not built."""
    mounts = [
        *([] if plan.tool_network else [NO_NETWORK]),
        f"--mount=type=cache,id={mirror_id(plan, run)}-state,target={MIRROR_DIR},sharing=locked",
        f"--mount=type=bind,from={CONTEXT_NAME},source=run/devbox_run.py,target={RUN_SCRIPT}",
        SECRETS_MODULE,
        f"--mount=type=cache,id=devbox-{plan.project_key}-{run.name}-{run.python},target={CACHE}",
        CA_SECRET,
    ]
    if plan.project_install == "editable":  # as in the tool step: the project is installed
        mounts += [INDEX_SECRET, *_installer_caches(plan, "shared")]
    stage = "\n".join(
        [
            f"FROM deps-{run.python} AS {at_stage(run)}",
            f"ARG {AT_NONCE_ARG}",
            _run(mounts, f"{VENV}/bin/python {RUN_SCRIPT} --at"),
        ]
    )
    return Rendered(lint.dockerfile + "\n" + stage + "\n", lint.dockerignore, lint.context)


# --- devbox explain: what each tool's next run would find changed -------------------------

#: the build arg that makes every explain step run (what it reads, the tree copies' records,
#: is in cache mounts, which are not part of a step's cache key)
EXPLAIN_NONCE_ARG = "devbox_explain_nonce"


def render_explain(plan: Plan, full: Rendered) -> Rendered:
    """One step per tool run, on the version's base image (its python3: nothing is
    installed), that compares the tree as sent with the record of the tool's copy of the
    tree (its mirror's state) and writes what changed; the ``results`` target exports them.
    ``full``: :func:`render` of ``plan`` (its step scripts and ignore file)."""
    parts = ["# Generated by devbox (devbox explain): do not edit."]
    for run in plan.tools:
        image = next(e.image for e in plan.environments if e.python == run.python)
        mounts = [
            NO_NETWORK,
            f"--mount=type=bind,target={TREE}",
            f"--mount=type=cache,id={mirror_id(plan, run)}-state,target={MIRROR_DIR},sharing=locked",
            f"--mount=type=bind,from={CONTEXT_NAME},source=run/devbox_run.py,target={RUN_SCRIPT}",
            SECRETS_MODULE,
        ]
        parts.append(
            "\n".join(
                [
                    f"FROM {image} AS explain-{run.name}-{run.python}",
                    f"ARG {EXPLAIN_NONCE_ARG}",
                    _run(mounts, f"python3 {RUN_SCRIPT} --changes {run.name} {run.python}"),
                ]
            )
        )
    parts.append(
        "\n".join(
            ["FROM scratch AS results"]
            + [
                f"COPY --from=explain-{r.name}-{r.python} {OUT}/{r.name}/{r.python}/ /{r.name}/{r.python}/"
                for r in plan.tools
            ]
        )
    )
    context = {
        k: v for k, v in full.context.items() if k.startswith(("run/", "install/devbox_secrets"))
    }
    return Rendered("\n\n".join(parts) + "\n", full.dockerignore, context)


def inputs_digest(plan: Plan, rendered: Rendered, env: EnvPlan) -> str:
    """What devbox explain compares of a version's dependency stage: :func:`deps_digest`
    without the base image's id (asking the engine for it costs a call)."""
    return deps_digest(plan, rendered, env, image_id="")


def spec_digest(plan: Plan, run: ToolRun) -> str:
    """What devbox explain compares of a tool's step: its spec (command, env, ...)."""
    text = json.dumps(tool_spec(plan, run), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --- devbox fix: one step runs the fixers in sequence and exports what they changed ------

#: where the fix step's script, the tool step's script it reuses, and its spec are mounted
FIX_SCRIPT = "/devbox/fix.py"
FIX_RUN_MODULE = "/devbox/devbox_run.py"
FIX_SPEC = "/devbox/fix.json"
#: the source as it was sent, read-only, next to the writable copy the fixers change
BEFORE = "/devbox/before"
#: in OUT/NAME/PYTHON/ of the fix step: the record of the changes, and their new contents
CHANGES_FILE = "changes.json"
FILES_DIR = "files"
#: the keys of fix_spec() (all read by _container/fix.py), and of each of its fixers
FIX_SPEC_KEYS = ("fixers", "name")
FIXER_KEYS = ("command", "env", "name", "timeout")


@dataclass(frozen=True)
class Fixer:
    """One tool's fixing command, as the fix step runs it."""

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    timeout: float | None = None


def render_fix(plan: Plan, step: ToolRun, fixers: Sequence[Fixer]) -> Rendered:
    """The Dockerfile of ``devbox fix``: ``step.python``'s dependency stage (the one lint
    builds: same stages, same context files, so it replays), the source stage, and one fix
    stage whose RUN runs ``fixers`` in order on a writable copy of the source (each fixer sees
    what the ones before it wrote). The ``results`` target exports the step's status, output
    and changed files as a tool's result, and the version's install record."""
    env = next(e for e in plan.environments if e.python == step.python)
    header = f"# Generated by devbox (devbox fix): do not edit.\nARG {base_arg(env)}={env.stage}"
    mounts = [
        *([] if plan.tool_network else [NO_NETWORK]),
        f"--mount=type=bind,from={SOURCE_STAGE},target={WORKDIR},rw",
        f"--mount=type=bind,from={SOURCE_STAGE},target={BEFORE}",
        f"--mount=type=bind,from={CONTEXT_NAME},source=run/devbox_fix.py,target={FIX_SCRIPT}",
        f"--mount=type=bind,from={CONTEXT_NAME},source=run/devbox_run.py,target={FIX_RUN_MODULE}",
        SECRETS_MODULE,
        f"--mount=type=bind,from={CONTEXT_NAME},source=fix/fix.json,target={FIX_SPEC}",
        # '--': no tool name starts with '-', so no tool's cache is this one
        f"--mount=type=cache,id=devbox-{plan.project_key}--fix-{step.python},target={CACHE}",
        CA_SECRET,
        ENV_SECRET,
    ]
    fix_stage = "\n".join(
        [
            f"FROM {deps_stage(env)} AS {step.stage}",
            f"ARG {step.rerun_arg}",
            _run(mounts, f"{VENV}/bin/python {FIX_SCRIPT} {step.python}"),
        ]
    )
    results = "\n".join(
        [
            "FROM scratch AS results",
            f"COPY --from={step.stage} {OUT}/{step.name}/{step.python}/ /{step.name}/{step.python}/",
            f"COPY --from={deps_stage(env)} {ENV_STATUS}/ /environments/{env.python}/",
        ]
    )
    parts = [
        header,
        _env_stage(plan, env),
        f"FROM ${{{base_arg(env)}}} AS {deps_stage(env)}",
        f"FROM scratch AS {SOURCE_STAGE}\nCOPY . /",
        fix_stage,
        results,
    ]
    lint = render(plan)
    context = {k: v for k, v in lint.context.items() if not k.startswith("tools/")}
    context["run/devbox_fix.py"] = _container_script("fix.py")
    context["fix/fix.json"] = json.dumps(fix_spec(step, fixers), indent=2, sort_keys=True) + "\n"
    return Rendered("\n\n".join(parts) + "\n", lint.dockerignore, context)


def fix_spec(step: ToolRun, fixers: Sequence[Fixer]) -> dict[str, object]:
    return {
        "name": step.name,
        "fixers": [
            {"name": f.name, "command": list(f.command), "env": dict(f.env), "timeout": f.timeout}
            for f in fixers
        ],
    }
