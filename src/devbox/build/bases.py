"""Pre-built dependency images (``--base`` / ``base-ref``): which one stands in for which
version's dependency stage, checked by the digest label `devbox base build` puts on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console

from devbox import config as config_mod
from devbox.build.dockerfile import DIGEST_LABEL, deps_digest, render
from devbox.build.plan import Plan, make_plan
from devbox.config.project import ProjectFacts
from devbox.engine import Docker
from devbox.errors import BuildFailed

#: labels `devbox base build` adds beside the digest: the base image (FROM) it was built
#: from, by reference and by image ID, so that a stale base can say what changed
BASE_IMAGE_LABEL = "devbox.base-image"
BASE_IMAGE_ID_LABEL = "devbox.base-image-id"


def deps_digests(
    cfg: config_mod.Config,
    facts: ProjectFacts,
    unavailable: Sequence[str] = (),
    *,
    image_ids: Mapping[str, str],
) -> dict[str, str]:
    """Python version → digest of its dependency stage, as `devbox base build` makes it, for
    the versions whose base image's ID (:func:`base_image_id`) is in ``image_ids``.

    A base image holds what lint and test both need (the `check` plan), so one image serves
    every command; the digest is computed the same way for the label and for the check.
    """
    # virtualenvs=(): the digest does not depend on the excludes, so no second tree walk
    plan = make_plan(cfg, facts, "check", unavailable=unavailable, virtualenvs=())
    rendered = render(plan)
    return {
        e.python: deps_digest(plan, rendered, e, image_id=image_ids[e.python])
        for e in plan.environments
        if e.python in image_ids
    }


def base_image_id(image: str, docker: Docker, *, offline: bool) -> tuple[str | None, str]:
    """The ID of the base image (FROM) ``image`` as the engine resolves the reference now,
    pulled if the engine lacks it (as the build would): ``(ID, "")``, or ``(None, why not)``."""
    found = docker.image_id(image)
    if found is not None:
        return found, ""
    if offline:
        return None, "it is not in the engine's image store, and --offline pulls nothing"
    why = docker.pull(image)
    if why is not None:
        return None, f"it is not in the engine and could not be pulled ({why})"
    found = docker.image_id(image)
    return (found, "") if found is not None else (None, "the engine cannot inspect it")


@dataclass(frozen=True)
class Problem:
    """Why a pre-built image cannot stand in for a dependency stage, and what to do."""

    text: str
    #: what fixes it (the rebuild command is added when None)
    remedy: str | None = None


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
    set, built from the image its base-image reference names now; otherwise devbox warns and
    installs them itself (or fails, with ``strict``).
    """
    if cfg.base_ref is None:
        return {}
    refs = {e.python: str(cfg.base_ref_for(e.python)) for e in plan.environments}
    problems: dict[str, Problem] = {}
    labels: dict[str, Mapping[str, str]] = {}
    image_ids: dict[str, str] = {}
    for e in plan.environments:
        found, problem = _labels(refs[e.python], docker, offline=plan.offline)
        if problem is None:
            image_id, why = base_image_id(e.image, docker, offline=plan.offline)
            if image_id is None:
                # Nothing tells whether the base was built from the image the reference
                # names now: not used (with --strict-base, an error), never trusted.
                problem = Problem(
                    f"the base image {refs[e.python]} cannot be checked against its "
                    f"base-image {e.image}: {why}",
                    remedy=f"Make {e.image} available to the engine (docker pull {e.image})",
                )
            else:
                labels[e.python], image_ids[e.python] = found, image_id
        if problem is not None:
            problems[e.python] = problem
    planned = {e.python for e in plan.environments}
    digests = deps_digests(
        cfg, facts, [p for p in cfg.python if p not in planned], image_ids=image_ids
    )
    where = _where_base(cfg)
    rebuild = f"`devbox base build --tag {cfg.base_ref} --push`"
    bases: dict[str, str] = {}
    for e in plan.environments:
        ref = refs[e.python]
        problem = problems.get(e.python) or _stale(
            ref, e.image, labels[e.python], digests[e.python], image_ids[e.python]
        )
        if problem is None:
            bases[e.python] = ref
            continue
        if strict:
            remedy = problem.remedy or f"Rebuild it from this project with {rebuild}"
            raise BuildFailed(
                f"--strict-base: {problem.text} ({where}). {remedy}, or run without "
                "--strict-base to install the dependencies in this build instead."
            )
        remedy = problem.remedy or f"Rebuild it with {rebuild}"
        console.print(
            f"devbox: warning: {problem.text} ({where}); installing the dependencies in this "
            f"build instead. {remedy}, or pass --strict-base to make this an error.",
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


def _labels(ref: str, docker: Docker, *, offline: bool) -> tuple[Mapping[str, str], Problem | None]:
    """The labels of the pre-built image ``ref`` (pulled if need be), or why it cannot be
    used: missing, or not made by `devbox base build`."""
    labels = docker.image_labels(ref)
    if labels is None:
        if offline:
            return {}, Problem(
                f"the base image {ref} is not in the engine's image store, and --offline pulls "
                f"nothing (pull it first: docker pull {ref})"
            )
        why = docker.pull(ref)
        if why is not None:
            return {}, Problem(
                f"the base image {ref} is not in the engine and could not be pulled ({why})"
            )
        labels = docker.image_labels(ref) or {}
    if DIGEST_LABEL not in labels:
        return labels, Problem(
            f"the base image {ref} has no {DIGEST_LABEL} label, so it was not made by "
            "`devbox base build`"
        )
    return labels, None


def _stale(
    ref: str, image: str, labels: Mapping[str, str], digest: str, image_id: str
) -> Problem | None:
    """Why the labels of ``ref`` do not match ``digest`` (this project's dependency stage on
    the base image ``image``, which is ``image_id`` now), or None when they do."""
    found = labels[DIGEST_LABEL]
    if found == digest:
        return None
    built_from = labels.get(BASE_IMAGE_ID_LABEL)
    if labels.get(BASE_IMAGE_LABEL) == image and built_from not in (None, image_id):
        return Problem(
            f"the base image {ref} was built from another {image} (image {built_from}; the "
            f"engine's {image} is {image_id} now)"
        )
    return Problem(
        f"the base image {ref} was built for other dependencies (its {DIGEST_LABEL} is "
        f"{found[:19]}…, this project's is {digest[:19]}…): a manifest, requirement, lock, "
        "tool or base image changed since"
    )
