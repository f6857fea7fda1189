"""What devbox remembers between runs of a project (``state.json`` in its work directory).

* Which tools and environments failed. BuildKit caches a failing step too (tool and install
  steps exit 0 by design, so that every result is exported): the steps that failed last time
  get a fresh cache-bust build argument, so they run again, while passing ones replay
  instantly. This is only a head start: a failure the engine replays anyway (another cache
  dir, a fresh checkout, a failure cached under an older key) is run again in the same
  invocation (see :func:`replayed_failures`).
* When the engine last received the tree, and through which path (:class:`TreeState`).
  BuildKit's incremental context transfer keeps its copy of a file whose size and mtime did
  not change (moby/buildkit#2592); devbox sends the tree through a path of its own, and a new
  one — a full transfer — whenever a file may have changed in place (see
  :attr:`devbox.build.plan.Plan.rewritten`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devbox import fsutil
from devbox.build.dockerfile import Rendered, base_arg, inputs_digest, spec_digest
from devbox.build.plan import Plan, project_key
from devbox.results.model import RunResult

STATE_FILE = "state.json"
#: where the context links live, in the project's work directory
TREES_DIR = "trees"


def _read(state_file: Path) -> dict[str, Any]:
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def failed_last_time(state_file: Path) -> tuple[set[str], set[str]]:
    """Tools (``name@python``) and Python versions whose last run failed."""
    data = _read(state_file)
    tools, envs = data.get("failed", []), data.get("failed_environments", [])
    if not isinstance(tools, list) or not isinstance(envs, list):
        return set(), set()
    return {str(n) for n in tools}, {str(p) for p in envs}


def build_args(
    plan: Plan,
    state_file: Path,
    *,
    rerun: bool,
    bases: Mapping[str, str],
    also: tuple[set[str], set[str]] = (set(), set()),
) -> dict[str, str]:
    """The build's arguments: cache busts for what failed last time (everything with
    ``rerun``; plus the tools and versions in ``also``), and the pre-built base image of each
    version that has one."""
    failed_tools, failed_envs = failed_last_time(state_file)
    failed_tools |= also[0]
    failed_envs |= also[1]
    if rerun:
        failed_tools = {r.key for r in plan.tools}
    nonce = uuid.uuid4().hex
    args = {r.rerun_arg: nonce for r in plan.tools if r.key in failed_tools}
    args.update({e.rerun_arg: nonce for e in plan.environments if e.python in failed_envs})
    args.update({base_arg(e): bases[e.python] for e in plan.environments if e.python in bases})
    return args


def refresh_token(state_file: Path) -> str:
    """The project's refresh token (``devbox --refresh``), "" when none was asked for."""
    token = _read(state_file).get("refresh")
    return token if isinstance(token, str) and len(token) < 100 and token.isprintable() else ""


def new_refresh_token(state_file: Path) -> str:
    """A new refresh token, remembered: the dependency stages resolve anew, and later runs
    (and shells) keep what this one installs."""
    data = _read(state_file)
    data["refresh"] = f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
    fsutil.atomic_write(state_file, json.dumps(data) + "\n")
    return str(data["refresh"])


def replayed_failures(result: RunResult) -> tuple[set[str], set[str]]:
    """Failures the engine replayed from its cache instead of running: (tool keys, versions).

    A failing result is never shown from the cache: these run again at once.
    """
    envs = {e.python for e in result.environments if not e.ok and e.cached and not e.base}
    tools = {t.key for t in result.tools if not t and t.cached}
    return tools, envs


def remember(state_file: Path, result: RunResult) -> None:
    """Record what failed in this run, keeping what other commands recorded about the tools
    and versions this run did not include (`devbox lint` keeps pytest's failure)."""
    data = _read(state_file)
    ran = {t.key for t in result.tools}
    versions = {e.python for e in result.environments}
    old_tools, old_envs = failed_last_time(state_file)
    data["failed"] = sorted(
        {k for k in old_tools if k not in ran} | {t.key for t in result.tools if not t}
    )
    data["failed_environments"] = sorted(
        {p for p in old_envs if p not in versions}
        | {e.python for e in result.environments if not e.ok}
    )
    fsutil.atomic_write(state_file, json.dumps(data) + "\n")


def remember_inputs(state_file: Path, plan: Plan, rendered: Rendered) -> None:
    """What the run's tools and environments were made of (devbox explain compares)."""
    data = _read(state_file)
    tools, envs = last_inputs(state_file)
    tools.update({r.key: spec_digest(plan, r) for r in plan.tools})
    envs.update({e.python: inputs_digest(plan, rendered, e) for e in plan.environments})
    data["tool_inputs"], data["env_inputs"] = tools, envs
    fsutil.atomic_write(state_file, json.dumps(data) + "\n")


def last_inputs(state_file: Path) -> tuple[dict[str, str], dict[str, str]]:
    """What :func:`remember_inputs` recorded: (tool key → spec digest, version → digest)."""
    data = _read(state_file)
    tools, envs = data.get("tool_inputs"), data.get("env_inputs")
    return (
        {str(k): str(v) for k, v in tools.items()} if isinstance(tools, dict) else {},
        {str(k): str(v) for k, v in envs.items()} if isinstance(envs, dict) else {},
    )


@dataclass(frozen=True)
class TreeState:
    #: the context link the engine last received the tree through
    generation: int = 0
    #: when (wall clock, at the start of that run's tree walk); None: never
    sent_at: float | None = None


def tree_state(state_file: Path) -> TreeState:
    tree = _read(state_file).get("tree")
    if not isinstance(tree, dict):
        return TreeState()
    try:
        sent = tree.get("sent_at")
        return TreeState(int(tree["generation"]), None if sent is None else float(sent))
    except (KeyError, TypeError, ValueError):
        return TreeState()


def remember_tree(state_file: Path, tree: TreeState) -> None:
    data = _read(state_file)
    data["tree"] = {"generation": tree.generation, "sent_at": tree.sent_at}
    fsutil.atomic_write(state_file, json.dumps(data) + "\n")


def context_link(work: Path, generation: int, root: Path) -> Path:
    """The path the tree is sent through: ``work/trees/<key>-tree-N`` → the project (made
    here; ``<key>`` is the project's :func:`~devbox.build.plan.project_key`).

    BuildKit keeps one incremental copy of a context per directory *name* (buildx 0.13 with
    the docker driver: ``/a/proj`` and ``/b/proj`` share one, and a file whose path, size and
    mtime match is not sent again), so the name is the project's own: no other project's copy
    is ever taken for this one. A new generation is a new name, so the engine receives the
    whole tree afresh. The two newest links stay (a concurrent run may still be sending
    through the older one).
    """
    trees = work / TREES_DIR
    trees.mkdir(parents=True, exist_ok=True)
    prefix = f"{project_key(root)}-tree-"
    link = trees / f"{prefix}{generation}"
    if not (link.is_symlink() and os.readlink(link) == str(root)):
        tmp = trees / f".{prefix}{generation}.{uuid.uuid4().hex[:8]}"
        os.symlink(root, tmp)
        os.replace(tmp, link)
    for old in trees.glob("*tree-*"):
        suffix = old.name.rpartition("tree-")[2]
        stale = not old.name.startswith(prefix) and not old.name.startswith(".")
        if stale or (suffix.isdigit() and int(suffix) < generation - 1):
            with contextlib.suppress(OSError):
                old.unlink()
    return link
