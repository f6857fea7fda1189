"""What devbox remembers between runs of a project: which tools and environments failed.

BuildKit caches a failing step too (tool and install steps exit 0 by design, so that every
result is exported): the steps that failed last time get a fresh cache-bust build argument,
so they run again, while passing ones replay instantly.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path

from devbox import fsutil
from devbox.build.dockerfile import base_arg
from devbox.build.plan import Plan
from devbox.results.model import RunResult

STATE_FILE = "state.json"


def failed_last_time(state_file: Path) -> tuple[set[str], set[str]]:
    """Tools (``name@python``) and Python versions whose run failed last time."""
    try:
        data = json.loads(state_file.read_text(encoding="utf-8"))
        return {str(n) for n in data.get("failed", [])}, {
            str(p) for p in data.get("failed_environments", [])
        }
    except (OSError, ValueError, AttributeError):
        return set(), set()


def build_args(
    plan: Plan, state_file: Path, *, rerun: bool, bases: Mapping[str, str]
) -> dict[str, str]:
    """The build's arguments: cache busts for what failed last time (everything with
    ``rerun``), and the pre-built base image of each version that has one."""
    failed_tools, failed_envs = failed_last_time(state_file)
    if rerun:
        failed_tools = {r.key for r in plan.tools}
    nonce = uuid.uuid4().hex
    args = {r.rerun_arg: nonce for r in plan.tools if r.key in failed_tools}
    args.update({e.rerun_arg: nonce for e in plan.environments if e.python in failed_envs})
    args.update({base_arg(e): bases[e.python] for e in plan.environments if e.python in bases})
    return args


def remember(state_file: Path, result: RunResult) -> None:
    """Record what failed in this run, for the next one's :func:`build_args`."""
    state = {
        "failed": [t.key for t in result.tools if not t],
        "failed_environments": [e.python for e in result.environments if not e.ok],
    }
    fsutil.atomic_write(state_file, json.dumps(state) + "\n")
