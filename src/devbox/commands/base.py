"""``devbox base build``: a project's dependency stage as an image of its own.

Teams build it once (in CI, when the dependencies change) and push it; every other run uses
it with ``--base REF`` / ``base-ref`` instead of installing. The image carries a label with
the digest of the dependency inputs (:func:`devbox.build.dockerfile.deps_digest`, which covers
the base image's ID as well as its reference), which runs compare against their own before
using it.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console

from devbox import config as config_mod
from devbox.build.bases import BASE_IMAGE_ID_LABEL, BASE_IMAGE_LABEL, base_image_id
from devbox.build.dockerfile import DIGEST_LABEL, ENV_STATUS_STAGE, deps_digest
from devbox.build.plan import EnvPlan, Plan
from devbox.build.session import Job, Options, RunDir, prepare
from devbox.errors import BuildFailed, UsageError
from devbox.results.diagnose import environment_message, tail
from devbox.results.model import read_environment


def default_tag(plan: Plan) -> str:
    return f"devbox-base/{plan.image_name}:{{python}}"


def _tag_template(tag: str, plan: Plan) -> str:
    try:
        config_mod.image_value(tag)
    except ValueError as exc:
        raise UsageError(f"--tag {tag!r}: expected {exc}.") from None
    if len(plan.environments) > 1 and "{python}" not in tag:
        raise UsageError(
            f"--tag {tag!r}: with several Python versions the reference needs {{python}} "
            "(one image per version), such as registry.example/team/deps:{python}."
        )
    return tag


def build(
    opts: Options, env: Mapping[str, str], console: Console, *, tag: str | None, push: bool
) -> list[str]:
    """Build (and tag, and push) the dependency image of every configured Python version."""
    job = prepare(opts, env, console)
    plan = job.plan
    template = _tag_template(tag or job.cfg.base_ref or default_tag(plan), plan)
    versions = ", ".join(e.python for e in plan.environments)
    console.print(
        f"devbox: building the dependency image (Python {versions}, installer {plan.installer})",
        highlight=False,
        markup=False,
    )
    image_ids = _base_image_ids(job)
    with job.run_dir("base-") as run_dir:
        cached = _install(job, run_dir)
        refs = [_tag(job, run_dir, e, template, push, cached[e.python], image_ids[e.python],
                     console)
                for e in plan.environments]  # fmt: skip
    console.print(
        f'devbox: use it with `devbox test --base {template}`, or base-ref = "{template}" '
        "in [tool.devbox].",
        highlight=False,
        markup=False,
    )
    return refs


def _base_image_ids(job: Job) -> dict[str, str]:
    """Python version → the ID of its base image (FROM) as the engine resolves it, pulled if
    need be, before anything is built: the label covers the image, not only its name."""
    ids: dict[str, str] = {}
    for e in job.plan.environments:
        image_id, why = base_image_id(e.image, job.docker, offline=job.plan.offline)
        if image_id is None:
            raise BuildFailed(
                f"the base image {e.image} (Python {e.python}) cannot be identified: {why}. "
                "The dependency image's label must name the image it is built from; make "
                f"{e.image} available to the engine (docker pull {e.image}). Nothing was built."
            )
        ids[e.python] = image_id
    return ids


def _install(job: Job, run_dir: RunDir) -> dict[str, bool]:
    """Install, and read each version's install record before anything is tagged: an image
    whose install failed must never reach a registry. Python version → replayed from cache."""
    plan = job.plan
    argv = job.build_argv(
        run_dir, output=run_dir.out, target=ENV_STATUS_STAGE, cache_from=job.cfg.cache_from
    )
    progress = job.quiet_build(argv)
    cached = {e.python: progress.stage_cached(e.stage) for e in plan.environments}
    for e in plan.environments:
        environment = read_environment(run_dir.out, e.python, e.image, cached=cached[e.python])
        if not environment.ok:
            raise BuildFailed(
                environment_message(plan, environment) + " Nothing was tagged or pushed.",
                detail=tail(environment.log),
            )
    return cached


def _tag(
    job: Job, run_dir: RunDir, e: EnvPlan, template: str, push: bool, cached: bool,
    image_id: str, console: Console,
) -> str:  # fmt: skip
    """Tag (and push) one version's stage: its steps replay from the install build."""
    plan = job.plan
    ref = template.replace("{python}", e.python)
    digest = deps_digest(plan, job.rendered, e, image_id=image_id)
    labels = {
        DIGEST_LABEL: digest,
        BASE_IMAGE_LABEL: e.image,
        BASE_IMAGE_ID_LABEL: image_id,
        "devbox.python": e.python,
        "devbox.project": plan.project.name or plan.project.root.name,
    }
    argv = job.build_argv(
        run_dir, output=None, target=e.stage, tag=ref, push=push, labels=labels,
        cache_from=job.cfg.cache_from, cache_to=job.cfg.cache_to,
    )  # fmt: skip
    job.quiet_build(argv)
    how = "replayed from the cache" if cached else "installed"
    console.print(
        f"devbox: {'pushed' if push else 'built'} {ref} (Python {e.python}, dependencies "
        f"{how}, {DIGEST_LABEL} {digest[:19]}…)",
        highlight=False,
        markup=False,
    )
    return ref
