"""``devbox base build``: a project's dependency stage as an image of its own.

Teams build it once (in CI, when the dependencies change) and push it; every other run uses
it with ``--base REF`` / ``base-ref`` instead of installing. The image carries a label with
the digest of the dependency inputs (:func:`devbox.build.dockerfile.deps_digest`), which runs
compare against their own before using it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from rich.console import Console

from devbox import config as config_mod
from devbox import engine, fsutil
from devbox.build.dockerfile import DIGEST_LABEL, ENV_STATUS_STAGE, deps_digest, render
from devbox.build.plan import Plan, make_plan
from devbox.commands.run import (
    Options,
    environment_message,
    load_config,
    prepare_build,
    project_work_dir,
    quiet_build,
    tail,
    write_build_files,
)
from devbox.errors import BuildFailed, UsageError
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
    cfg, facts = load_config(opts, env)
    builder, secrets = prepare_build(cfg, env, console)
    plan = make_plan(cfg, facts, "check")
    template = _tag_template(tag or cfg.base_ref or default_tag(plan), plan)
    rendered = render(plan)
    benv = builder.env(env)
    refs: list[str] = []
    versions = ", ".join(e.python for e in plan.environments)
    console.print(
        f"devbox: building the dependency image (Python {versions}, installer {plan.installer})",
        highlight=False,
        markup=False,
    )
    with fsutil.private_dir(project_work_dir(env, plan) / "runs", "base-") as run_dir:
        dockerfile, ctx = write_build_files(plan, rendered, run_dir)
        argv = functools.partial(
            engine.build_argv,
            dockerfile=dockerfile,
            context=plan.project.root,
            devbox_context=ctx,
            build_args={},
            ca_bundle=plan.ca_bundle,
            secrets=secrets.write(run_dir),
            cache_from=cfg.cache_from,
            builder=builder,
            env=env,
        )
        # 1. Install, and read each version's install record before anything is tagged:
        #    an image whose install failed must never reach a registry.
        out = run_dir / "out"
        progress = quiet_build(
            argv(output=out, target=ENV_STATUS_STAGE),
            plan,
            benv,
        )
        cached = {e.python: progress.stage_cached(e.stage) for e in plan.environments}
        for e in plan.environments:
            environment = read_environment(out, e.python, e.image, cached=cached[e.python])
            if not environment.ok:
                raise BuildFailed(
                    environment_message(plan, environment) + " Nothing was tagged or pushed.",
                    detail=tail(environment.log),
                )
        # 2. Tag (and push) each version's stage: its steps replay from step 1.
        for e in plan.environments:
            ref = template.replace("{python}", e.python)
            digest = deps_digest(plan, rendered, e)
            labels = {
                DIGEST_LABEL: digest,
                "devbox.python": e.python,
                "devbox.project": plan.project.name or plan.project.root.name,
            }
            quiet_build(
                argv(
                    output=None,
                    target=e.stage,
                    tag=ref,
                    push=push,
                    labels=labels,
                    cache_to=cfg.cache_to,
                ),
                plan,
                benv,
            )
            refs.append(ref)
            how = "replayed from the cache" if cached[e.python] else "installed"
            console.print(
                f"devbox: {'pushed' if push else 'built'} {ref} (Python {e.python}, dependencies "
                f"{how}, {DIGEST_LABEL} {digest[:19]}…)",
                highlight=False,
                markup=False,
            )
    console.print(
        f'devbox: use it with `devbox test --base {template}`, or base-ref = "{template}" '
        "in [tool.devbox].",
        highlight=False,
        markup=False,
    )
    return refs
