"""Pre-built dependency images (``--base`` / ``base-ref``): which one stands in for which
version's dependency stage, checked by the digest label `devbox base build` puts on it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from devbox import config as config_mod
from devbox.build.dockerfile import DIGEST_LABEL, deps_digest, render
from devbox.build.plan import Plan, make_plan
from devbox.config.project import ProjectFacts
from devbox.engine import Docker
from devbox.errors import BuildFailed


def deps_digests(
    cfg: config_mod.Config, facts: ProjectFacts, unavailable: Sequence[str] = ()
) -> dict[str, str]:
    """Python version → digest of its dependency stage, as `devbox base build` makes it.

    A base image holds what lint and test both need (the `check` plan), so one image serves
    every command; the digest is computed the same way for the label and for the check.
    """
    # virtualenvs=(): the digest does not depend on the excludes, so no second tree walk
    plan = make_plan(cfg, facts, "check", unavailable=unavailable, virtualenvs=())
    rendered = render(plan)
    return {e.python: deps_digest(plan, rendered, e) for e in plan.environments}


def resolve_bases(
    cfg: config_mod.Config,
    facts: ProjectFacts,
    plan: Plan,
    docker: Docker,
    console: Console,
    *,
    strict: bool,
) -> dict[str, str]:
    """Python version → the pre-built dependency image (base-ref) to use for it.

    An image is used only when its label says it holds exactly this project's dependency
    set; otherwise devbox warns and installs them itself (or fails, with ``strict``).
    """
    if cfg.base_ref is None:
        return {}
    digests = deps_digests(
        cfg, facts, [p for p in cfg.python if p not in {e.python for e in plan.environments}]
    )
    where = _where_base(cfg)
    bases: dict[str, str] = {}
    for environment in plan.environments:
        ref = str(cfg.base_ref_for(environment.python))
        problem = base_problem(ref, digests[environment.python], docker, offline=plan.offline)
        if problem is None:
            bases[environment.python] = ref
            continue
        if strict:
            raise BuildFailed(
                f"--strict-base: {problem} ({where}). Rebuild it from this project with "
                f"`devbox base build --tag {cfg.base_ref} --push`, or run without --strict-base to "
                "install the dependencies in this build instead."
            )
        console.print(
            f"devbox: warning: {problem} ({where}); installing the dependencies in this build "
            f"instead. Rebuild it with `devbox base build --tag {cfg.base_ref} --push`, or pass "
            "--strict-base to make this an error.",
            highlight=False,
            markup=False,
        )
    return bases


def _where_base(cfg: config_mod.Config) -> str:
    source = cfg.sources.get("base-ref")
    if source is config_mod.Source.CLI:
        return "from --base"
    if source is config_mod.Source.ENV:
        return "from DEVBOX_BASE_REF"
    return "from base-ref in [tool.devbox]"


def base_problem(ref: str, digest: str, docker: Docker, *, offline: bool) -> str | None:
    """Why the pre-built image ``ref`` cannot stand in for the dependency stage, or None."""
    labels = docker.image_labels(ref)
    if labels is None:
        if offline:
            return (
                f"the base image {ref} is not in the engine's image store, and --offline pulls "
                f"nothing (pull it first: docker pull {ref})"
            )
        why = docker.pull(ref)
        if why is not None:
            return f"the base image {ref} is not in the engine and could not be pulled ({why})"
        labels = docker.image_labels(ref) or {}
    found = labels.get(DIGEST_LABEL)
    if found is None:
        return f"the base image {ref} has no {DIGEST_LABEL} label, so it was not made by `devbox base build`"
    if found != digest:
        return (
            f"the base image {ref} was built for other dependencies (its {DIGEST_LABEL} is "
            f"{found[:19]}…, this project's is {digest[:19]}…): a manifest, requirement, lock, "
            "tool or base image changed since"
        )
    return None
