"""``devbox doctor``: check everything a run needs, and say how to fix what is missing.

Each check is a small function returning :class:`Check` results; nothing here changes the
machine. Exit 0 only when a run can work (no check failed; warnings are allowed).
"""

from __future__ import annotations

import enum
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from devbox import engine
from devbox.engine import Docker
from devbox.errors import DevboxError

MIN_FREE_GB = 2.0
WARN_FREE_GB = 10.0


class Level(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    fix: str = ""


@dataclass
class Context:
    #: the caller's environment (builder names and cache exports are resolved in it)
    env: Mapping[str, str]
    images: list[str]
    #: the engine the checks ask: the configured builder's when it is a docker context
    docker: Docker
    endpoint: str = ""
    server_version: str = ""
    engine_up: bool = False
    #: the configured builder (docker context or buildx builder), and the cache exports
    builder: str | None = None
    cache_to: tuple[str, ...] = ()


def check_client(ctx: Context) -> Iterator[Check]:
    if not ctx.docker.client_present():
        yield Check("docker client", Level.FAIL, "not found on PATH",
                    "install Docker Desktop, or on Linux the docker packages of your "
                    "distribution or of Docker's own repository")  # fmt: skip
        return
    yield Check("docker client", Level.OK, ctx.docker.client_version() or "present")


def check_engine(ctx: Context) -> Iterator[Check]:
    if not ctx.docker.client_present():
        return
    try:
        info = ctx.docker.probe_engine()
    except DevboxError as exc:
        yield Check("engine", Level.FAIL, exc.message.split(". ", 1)[0],
                    "start Docker Desktop or the docker service: on Linux `sudo systemctl start "
                    "docker`; or point `docker context use NAME` or DOCKER_HOST at a running engine")  # fmt: skip
        return
    ctx.engine_up, ctx.endpoint, ctx.server_version = True, info[0], info[1]
    level = Level.OK if engine.version_tuple(info[1])[:1] >= (23,) else Level.FAIL
    fix = (
        ""
        if level is Level.OK
        else "devbox needs Docker Engine >= 23 (RUN --mount in the built-in frontend)"
    )
    yield Check("engine", level, f"Docker Engine {info[1]} at {info[0]}", fix)


def check_buildx(ctx: Context) -> Iterator[Check]:
    if not ctx.engine_up:
        return
    version = ctx.docker.buildx_version()
    if not version:
        yield Check("buildx", Level.FAIL, "the buildx plugin is missing",
                    "Docker Desktop ships it; on Debian or Ubuntu `sudo apt-get install docker-buildx`, "
                    "or docker-buildx-plugin from Docker's own repository")  # fmt: skip
        return
    text = ".".join(map(str, version))
    if version[:2] < engine.MIN_BUILDX:
        yield Check(
            "buildx",
            Level.FAIL,
            f"{text} is too old",
            "devbox needs buildx >= 0.12 (--progress=rawjson)",
        )
        return
    yield Check("buildx", Level.OK, text)
    reported = ctx.docker.buildkit_version()
    known = engine.version_tuple(reported)
    if known and known != (0, 0, 0) and known[:2] < (0, 11):
        yield Check(
            "BuildKit", Level.FAIL, reported, "upgrade the engine: devbox needs BuildKit >= 0.11"
        )
    else:
        # Distribution builds of dockerd report v0.0.0+unknown for their embedded BuildKit.
        note = "" if known[:2] >= (0, 11) else f" (embedded in Docker Engine {ctx.server_version})"
        yield Check("BuildKit", Level.OK, f"{reported}{note}")


def check_images(ctx: Context) -> Iterator[Check]:
    if not ctx.engine_up:
        return
    for image in ctx.images:
        if ctx.docker.image_present(image):
            yield Check(f"base image {image}", Level.OK, "present in the engine")
            continue
        why = ctx.docker.registry_has(image)
        if why is None:
            yield Check(
                f"base image {image}",
                Level.OK,
                "not local yet; the registry has it (pulled on first run)",
            )
        else:
            yield Check(f"base image {image}", Level.FAIL, f"not local, and not pullable ({why[:160]})",
                        f"`docker pull {image}` on a connected machine, build it, or set base-image "
                        "(DEVBOX_BASE_IMAGE) to an image the engine has")  # fmt: skip


def check_disk(ctx: Context) -> Iterator[Check]:
    if not ctx.engine_up:
        return
    root = ctx.docker.root_dir()
    if not root or not Path(root).exists():
        yield Check(
            "disk",
            Level.INFO,
            f"Docker root {root or '?'} is not on this machine (a VM or remote engine)",
        )
        return
    free = shutil.disk_usage(root).free / 1024**3
    level = Level.FAIL if free < MIN_FREE_GB else Level.WARN if free < WARN_FREE_GB else Level.OK
    fix = "" if level is Level.OK else "free space, or prune BuildKit's cache: docker builder prune"
    yield Check("disk", level, f"{free:.1f} GB free under {root}", fix)


def check_network(ctx: Context) -> Iterator[Check]:
    proxies = [
        k for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy") if ctx.env.get(k)
    ]
    bundles = [k for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT") if ctx.env.get(k)]
    if proxies:
        yield Check("proxy", Level.INFO, f"{', '.join(proxies)} set here: devbox passes them to "
                    "every step as BuildKit's proxy build arguments (pulls of base images use the "
                    "engine's own proxy settings)")  # fmt: skip
    if bundles:
        yield Check("CA bundle", Level.INFO,
                    f"{', '.join(bundles)} set here: devbox passes that bundle to builds as a secret "
                    "(a TLS-intercepting proxy is likely); set ca-bundle to choose another")  # fmt: skip


def check_builder(ctx: Context) -> Iterator[Check]:
    if ctx.builder is None and not ctx.cache_to:
        return
    try:
        builder = engine.resolve_builder(ctx.builder, ctx.env)
        if ctx.cache_to:
            engine.check_cache_export(builder, ctx.cache_to, ctx.env)
    except DevboxError as exc:
        name, _, why = exc.message.partition(": ")
        yield Check(name, Level.FAIL, why.split(". ", 1)[0], why.split(". ", 1)[-1])
        return
    if builder.context:
        yield Check("builder", Level.OK, f"{builder.name}: a docker context; the checks above "
                    "ran against its engine")  # fmt: skip
    elif builder.instance:
        driver = builder.driver(ctx.env) or "unknown"
        yield Check("builder", Level.OK, f"{builder.name}: a buildx builder (driver {driver}); "
                    "the engine checks above are the default context's")  # fmt: skip


CHECKS: list[Callable[[Context], Iterator[Check]]] = [
    check_client, check_engine, check_buildx, check_builder, check_images, check_disk,
    check_network,
]  # fmt: skip


def run_checks(
    env: Mapping[str, str],
    images: list[str],
    builder: str | None = None,
    cache_to: tuple[str, ...] = (),
) -> list[Check]:
    """Every check, against the engine builds would go to: with a configured builder that is a
    docker context, that context's engine (a buildx builder instance is checked by name)."""
    try:
        chosen = engine.resolve_builder(builder, env)
    except DevboxError:
        chosen = engine.DEFAULT_BUILDER  # check_builder says why
    docker = Docker(env, chosen if chosen.context else engine.DEFAULT_BUILDER)
    ctx = Context(dict(env), images, docker, builder=builder, cache_to=cache_to)
    return [c for check in CHECKS for c in check(ctx)]


def can_run(checks: list[Check]) -> bool:
    return not any(c.level is Level.FAIL for c in checks)


_MARKS = {
    Level.OK: ("ok  ", "green"),
    Level.WARN: ("warn", "yellow"),
    Level.FAIL: ("FAIL", "bold red"),
    Level.INFO: ("info", "cyan"),
}


def doctor(
    project_dir: Path | None, python: str | None, env: Mapping[str, str], console: Console
) -> bool:
    """Print every check (with the project's images and builder, when there is a project) and
    whether a run can work here."""
    from devbox.build.session import Options, load_config

    images: list[str] = []
    builder: str | None = None
    cache_to: tuple[str, ...] = ()
    try:
        if project_dir is None:
            from devbox.config.project import find_project_dir

            project_dir = find_project_dir(Path.cwd())
        opts = Options(project_dir, "check", {"python": python, "base-image": None})
        cfg, _ = load_config(opts, env)
        images = [cfg.image_for(p) for p in cfg.python]
        builder, cache_to = cfg.builder, cfg.cache_to
    except DevboxError as exc:  # no project here: check the engine anyway
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"devbox: no project configuration to check images for ({exc.message})",
            markup=False,
        )
    checks = run_checks(env, images, builder, cache_to)
    for check in checks:
        mark, style = _MARKS[check.level]
        console.print(Text(f"[{mark}] ", style=style) + Text(f"{check.name}: {check.detail}"))
        if check.fix:
            console.print(Text(f"       fix: {check.fix}"))
    ok = can_run(checks)
    console.print(Text("devbox: a run can work here" if ok else "devbox: a run cannot work here yet (see FAIL above)",
                       style="green" if ok else "bold red"))  # fmt: skip
    return ok
