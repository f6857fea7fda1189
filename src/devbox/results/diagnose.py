"""Why a build failed, in the user's terms: pure functions of the plan and the progress.

Unit-tested on progress streams recorded from the real engine (tests/data/progress/).
"""

from __future__ import annotations

import re

from devbox.build.plan import Plan, is_env_stage
from devbox.errors import BuildFailed, EngineUnavailable, EnvironmentError_
from devbox.results.model import Environment
from devbox.results.progress import BuildProgress


def unreadable_message(plan: Plan) -> str:
    names = plan.unreadable
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (
        f"devbox cannot read {len(names)} path{'s' if len(names) > 1 else ''} in {plan.project.root}: "
        f"{shown}. BuildKit would send an unreadable file as an empty one, so nothing ran. Make "
        "them readable (chmod a+r FILE, a+rx for a directory), or keep them out of the build "
        'with exclude in [tool.devbox] (for example exclude = ["' + names[0] + '"]).'
    )


def tail(log: str, lines: int = 60) -> str:
    return "\n".join(log.rstrip().splitlines()[-lines:])


def missing_image_message(image: str, why: str) -> str:
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


def build_error(plan: Plan, progress: BuildProgress) -> EnvironmentError_:
    v = progress.failed_vertex()
    tail = "\n".join(progress.text_lines[-5:])
    said = " ".join([*progress.text_lines[-5:], v.error if v else ""])
    if progress.vertexes and any(marker in said for marker in _ENGINE_GONE):
        return EngineUnavailable(
            "the Docker engine stopped answering during the build. If it stopped, start it "
            "again: Docker Desktop, or on Linux `sudo systemctl start docker`; `devbox doctor` "
            "checks it. Then run again: steps that finished are in BuildKit's cache.",
            detail=tail,
        )
    if v is None:
        return EnvironmentError_("the build failed before any step ran.", detail=tail)
    logs = bytes(v.logs).decode("utf-8", errors="replace")
    log_tail = "\n".join(logs.rstrip().splitlines()[-60:])
    # "RUN --mount=… --network=none python3 …": the command says which step it was
    step = " ".join(re.sub(r"--(?:mount|network)=\S+", "", v.name.split("] ", 1)[-1]).split())
    in_base = is_env_stage(v.stage)
    if step.startswith("load metadata for") or (in_base and step.startswith("FROM")):
        image = step.removeprefix("load metadata for ").removeprefix("FROM ").split()[0]
        return BuildFailed(missing_image_message(image, v.error))
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
