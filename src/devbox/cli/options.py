"""Every command-line option, declared once; commands pick the ones they take."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[F], F]


def apply(*options: Decorator[Any]) -> Decorator[F]:
    """Apply ``options`` in the order given (the first is shown first in --help)."""

    def decorate(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def python(help: str | None = None, *, several: bool = False) -> Decorator[Any]:
    """``-p``/``--python``: one version, or with ``several`` a comma-separated matrix."""
    return click.option(
        "-p",
        "--python",
        "python",
        metavar="VERSION[,VERSION...]" if several else "VERSION",
        help=help,
    )


def base_image(
    help: str | None = "Base image; {python} is replaced by the version.",
) -> Decorator[Any]:
    return click.option("--base-image", metavar="REF", help=help)


def _into_obj(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """A callback that stores an option given after the subcommand where the group's goes."""

    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.ensure_object(dict)[key] = value

    return store


NO_COLOR = click.option(
    "--no-color",
    is_flag=True,
    help="No colours (the same as --color never; NO_COLOR is respected).",
)
COLOR = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default=None,
    expose_value=False,
    callback=_into_obj("color"),
    help="Colours: auto (on a terminal, unless NO_COLOR is set), always, never.",
)
#: ``-C`` after the subcommand too (``devbox test -C proj``)
PROJECT = click.option(
    "-C",
    "--project",
    type=click.Path(file_okay=False, exists=True),
    expose_value=False,
    callback=_into_obj("project"),
    help="Project directory (default: the nearest one with a pyproject.toml).",
)
#: what every command takes, after its name as well as before it
COMMON = (PROJECT, COLOR)

BUILDER = click.option(
    "--builder",
    metavar="NAME",
    help="Build on this buildx builder or docker context (overrides builder).",
)
CACHE_FROM = click.option(
    "--cache-from",
    multiple=True,
    metavar="SPEC",
    help="buildx cache source, such as type=registry,ref=REF (repeatable).",
)
CACHE_TO = click.option(
    "--cache-to",
    multiple=True,
    metavar="SPEC",
    help="buildx cache export, such as type=registry,ref=REF,mode=max (repeatable).",
)
#: where builds run and which cache they share (run commands and `base build`)
BUILD = (BUILDER, CACHE_FROM, CACHE_TO)

TIMEOUT = click.option(
    "--timeout",
    type=float,
    metavar="SECONDS",
    help="Stop each tool still running after this long and report it as timeout "
    "(overrides timeout, the tools' own timeout and DEVBOX_TIMEOUT).",
)
RERUN = click.option(
    "--rerun",
    is_flag=True,
    help="Run every selected tool, even those BuildKit could replay.",
)
BASE = click.option(
    "--base",
    "base_ref",
    metavar="REF",
    help="Use this pre-built dependency image (devbox base build) instead of installing; "
    "{python} is replaced by the version (overrides base-ref and DEVBOX_BASE_REF).",
)
STRICT_BASE = click.option(
    "--strict-base",
    is_flag=True,
    envvar="DEVBOX_STRICT_BASE",
    help="Fail when the base image is missing or stale, instead of installing here.",
)
OFFLINE = click.option(
    "--offline",
    is_flag=True,
    envvar="DEVBOX_OFFLINE",
    help="No network in any step: dependencies must come from the base or the cache.",
)
VERBOSE = click.option("-v", "--verbose", is_flag=True, help="Show every tool's full output.")
QUIET = click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
#: where the dependencies come from and how the tools run (run commands and fix)
STEPS = (TIMEOUT, RERUN, BASE, STRICT_BASE, OFFLINE, *BUILD)
OUTPUT = (VERBOSE, QUIET, NO_COLOR)

#: the options of lint, test and check
RUN = (
    python(
        "Python version(s); several make a matrix (overrides config and DEVBOX_PYTHON).",
        several=True,
    ),
    click.option(
        "--all-pythons",
        is_flag=True,
        help="Every python-candidates version that requires-python allows.",
    ),
    base_image(),
    click.option(
        "--report-json",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a JSON report here.",
    ),
    click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "github"]),
        default=None,
        help="github: also print workflow annotations (::error file=...). Default: github "
        "when GITHUB_ACTIONS=true, else text.",
    ),
    click.option(
        "--junit-xml",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a JUnit XML report here (a suite per tool and Python version).",
    ),
    click.option(
        "--codequality",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the lint findings here as a GitLab Code Quality report (JSON).",
    ),
    click.option(
        "--timeline",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the run's stages in time here: an HTML page, or a Chrome trace for a "
        "path ending in .json.",
    ),
    click.option(
        "--fail-fast",
        is_flag=True,
        help="Stop at the first tool that fails; the tools still running or queued are "
        "cancelled and reported as such.",
    ),
    click.option(
        "--affected",
        is_flag=True,
        help="Run only the tests the changes since the last --affected run affect, and "
        "those that failed (pytest-testmon); the whole suite when that cannot be known.",
    ),
    click.option(
        "-r",
        "--refresh",
        is_flag=True,
        help="Resolve the dependency environment anew (picks up new releases upstream; "
        "later runs keep it). No cache is pruned.",
    ),
    *STEPS,
    *OUTPUT,
    *COMMON,
)


def config_values(kw: dict[str, Any]) -> dict[str, object]:
    """Command-line values of config keys (None: not given)."""
    return {
        "python": kw.get("python"),
        "base-image": kw.get("base_image"),
        "base-ref": kw.get("base_ref"),
        "builder": kw.get("builder"),
        "cache-from": list(kw["cache_from"]) if kw.get("cache_from") else None,
        "cache-to": list(kw["cache_to"]) if kw.get("cache_to") else None,
        "timeout": kw.get("timeout"),
    }
