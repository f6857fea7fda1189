"""The command line: the only place that turns errors into output and exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from devbox import __version__
from devbox.errors import EXIT_INTERNAL, EXIT_OK, EXIT_TOOLS_FAILED, DevboxError, Interrupted

if TYPE_CHECKING:
    from devbox.build.plan import Command

F = TypeVar("F", bound=Callable[..., Any])


def _console(no_color: bool = False, stderr: bool = False) -> Any:
    from rich.console import Console

    color = not no_color and "NO_COLOR" not in os.environ
    return Console(stderr=stderr, no_color=not color, highlight=False, soft_wrap=True)


def _project_dir(ctx: click.Context) -> Path:
    from devbox.config.project import find_project_dir

    given = ctx.obj.get("project")
    return Path(given).resolve() if given else find_project_dir(Path.cwd())


build_options = [
    click.option(
        "--builder",
        metavar="NAME",
        help="Build on this buildx builder or docker context (overrides builder).",
    ),
    click.option(
        "--cache-from",
        multiple=True,
        metavar="SPEC",
        help="buildx cache source, such as type=registry,ref=REF (repeatable).",
    ),
    click.option(
        "--cache-to",
        multiple=True,
        metavar="SPEC",
        help="buildx cache export, such as type=registry,ref=REF,mode=max (repeatable).",
    ),
]


def with_build_options(f: F) -> F:
    for option in reversed(build_options):
        f = option(f)
    return f


def build_cli(kw: dict[str, Any]) -> dict[str, object]:
    """Command-line values of config keys (None: not given)."""
    return {
        "python": kw.get("python"),
        "base-image": kw.get("base_image"),
        "base-ref": kw.get("base_ref"),
        "builder": kw.get("builder"),
        "cache-from": list(kw["cache_from"]) if kw.get("cache_from") else None,
        "cache-to": list(kw["cache_to"]) if kw.get("cache_to") else None,
    }


def run_options(f: F) -> F:
    options = [
        click.option(
            "--python",
            "python",
            metavar="VERSION[,VERSION...]",
            help="Python version(s); several make a matrix (overrides config and DEVBOX_PYTHON).",
        ),
        click.option(
            "--all-pythons",
            is_flag=True,
            help="Every python-candidates version that requires-python allows.",
        ),
        click.option(
            "--base-image", metavar="REF", help="Base image; {python} is replaced by the version."
        ),
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
            "--rerun",
            is_flag=True,
            help="Run every selected tool, even those BuildKit could replay.",
        ),
        click.option(
            "--base",
            "base_ref",
            metavar="REF",
            help="Use this pre-built dependency image (devbox base build) instead of installing; "
            "{python} is replaced by the version (overrides base-ref and DEVBOX_BASE_REF).",
        ),
        click.option(
            "--strict-base",
            is_flag=True,
            envvar="DEVBOX_STRICT_BASE",
            help="Fail when the base image is missing or stale, instead of installing here.",
        ),
        click.option(
            "--offline",
            is_flag=True,
            envvar="DEVBOX_OFFLINE",
            help="No network in any step: dependencies must come from the base or the cache.",
        ),
        *build_options,
        click.option("-v", "--verbose", is_flag=True, help="Show every tool's full output."),
        click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary."),
        click.option("--no-color", is_flag=True, help="No colors (NO_COLOR is respected too)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="devbox")
@click.option(
    "-C",
    "--project",
    type=click.Path(file_okay=False, exists=True),
    help="Project directory (default: the nearest one with a pyproject.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, project: str | None, debug: bool) -> None:
    """Run a Python project's linters and tests in containers, through Docker BuildKit.

    Configuration lives in [tool.devbox] of pyproject.toml. Precedence:
    defaults < pyproject < DEVBOX_* environment < command line.
    """
    ctx.ensure_object(dict)
    ctx.obj["project"] = project
    ctx.obj["debug"] = debug


def _run(ctx: click.Context, command: str, extra_args: tuple[str, ...], **kw: Any) -> None:
    from devbox.commands.run import Options, run

    opts = Options(
        project_dir=_project_dir(ctx),
        command=command,  # type: ignore[arg-type]
        cli=build_cli(kw),
        extra_args=extra_args,
        offline=kw["offline"],
        strict_base=kw["strict_base"],
        report_json=kw["report_json"],
        junit_xml=kw["junit_xml"],
        annotations=(
            kw["output_format"]
            or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
        )
        == "github",
        rerun=kw["rerun"],
        all_pythons=kw["all_pythons"],
        verbose=kw["verbose"],
        quiet=kw["quiet"],
    )
    result = run(opts, os.environ, _console(kw["no_color"]))
    ctx.exit(EXIT_OK if result.ok else EXIT_TOOLS_FAILED)


@cli.command()
@run_options
@click.pass_context
def lint(ctx: click.Context, /, **kw: Any) -> None:
    """Run the linters listed in `lint` (default: ruff)."""
    _run(ctx, "lint", (), **kw)


@cli.command(context_settings={"ignore_unknown_options": True})
@run_options
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def test(ctx: click.Context, /, pytest_args: tuple[str, ...], **kw: Any) -> None:
    """Run the test tools listed in `test` (default: pytest).

    Arguments after `--` go to pytest: devbox test -- -k slow -x
    """
    _run(ctx, "test", pytest_args, **kw)


@cli.command()
@run_options
@click.pass_context
def check(ctx: click.Context, /, **kw: Any) -> None:
    """Run the linters and the tests in one build (in parallel)."""
    _run(ctx, "check", (), **kw)


@cli.command()
@click.option(
    "--for",
    "command",
    type=click.Choice(["lint", "test", "check"]),
    default="check",
    show_default=True,
    help="Print the Dockerfile of this command.",
)
@click.option("--ignore", is_flag=True, help="Print the generated ignore file instead.")
@click.option("--python", "python", metavar="VERSION")
@click.option("--base-image", metavar="REF")
@click.pass_context
def dockerfile(
    ctx: click.Context, command: Command, ignore: bool, python: str | None, base_image: str | None
) -> None:
    """Print the Dockerfile that `devbox lint`/`test`/`check` build."""
    from devbox.build.dockerfile import render
    from devbox.commands.run import Options, load_plan

    opts = Options(
        project_dir=_project_dir(ctx),
        command=command,
        cli={"python": python, "base-image": base_image},
    )
    rendered = render(load_plan(opts, os.environ))
    click.echo(rendered.dockerignore if ignore else rendered.dockerfile, nl=False)


@cli.group()
def base() -> None:
    """Pre-built dependency images: build once (in CI), use everywhere with --base."""


@base.command("build")
@click.option(
    "--tag",
    metavar="REF",
    help="Image reference; {python} is replaced by the version. Default: base-ref, else "
    "devbox-base/PROJECT:{python}.",
)
@click.option("--push", is_flag=True, help="Push the image (to the registry in --tag).")
@click.option("--python", "python", metavar="VERSION[,VERSION...]", help="Python version(s).")
@click.option(
    "--base-image", metavar="REF", help="Base image; {python} is replaced by the version."
)
@click.option("--no-color", is_flag=True, help="No colors (NO_COLOR is respected too).")
@with_build_options
@click.pass_context
def base_build(ctx: click.Context, /, tag: str | None, push: bool, **kw: Any) -> None:
    """Build the dependency image (test-base) for the current dependency set, label it with
    their digest, and tag (and push) it. `devbox test --base REF` then installs nothing."""
    from devbox.commands import base as base_mod
    from devbox.commands.run import Options

    opts = Options(project_dir=_project_dir(ctx), command="check", cli=build_cli(kw))
    base_mod.build(opts, os.environ, _console(kw["no_color"]), tag=tag, push=push)


@cli.group()
def editor() -> None:
    """Editor integration (VS Code tasks with problem matchers)."""


@editor.command("vscode")
@click.option("--dry-run", is_flag=True, help="Print the resulting tasks.json; write nothing.")
@click.pass_context
def editor_vscode(ctx: click.Context, /, dry_run: bool) -> None:
    """Write .vscode/tasks.json tasks "devbox: lint", "devbox: test" and one per tool.

    An existing tasks.json is merged: other tasks and comments are kept.
    """
    from devbox.commands import editor as editor_mod
    from devbox.commands.run import Options, load_config

    root = _project_dir(ctx)
    cfg, _ = load_config(Options(project_dir=root, command="check", cli={}), os.environ)
    tools = [(name, "lint") for name in cfg.lint] + [
        (name, "test") for name in cfg.test if name not in cfg.lint
    ]
    text, changed = editor_mod.write_vscode(root, tools, dry_run=dry_run)
    target = root / editor_mod.TASKS_FILE
    if dry_run:
        click.echo(text, nl=not text.endswith("\n"))
    elif changed:
        click.echo(
            f"devbox: wrote {target} (tasks: {', '.join(['lint', 'test', *(n for n, _ in tools)])})"
        )
    else:
        click.echo(f"devbox: {target} is up to date")


@cli.command("init")
@click.option("--force", is_flag=True, help="Replace an existing [tool.devbox] table.")
@click.option("--dry-run", is_flag=True, help="Print the proposed table; write nothing.")
@click.pass_context
def init_command(ctx: click.Context, /, force: bool, dry_run: bool) -> None:
    """Inspect the project and write a commented [tool.devbox] table into pyproject.toml."""
    from devbox.commands.init import init

    given = ctx.obj.get("project")
    project_dir = Path(given).resolve() if given else Path.cwd()
    result = init(project_dir, force=force, dry_run=dry_run)
    if dry_run:
        click.echo(result.text, nl=not result.text.endswith("\n"))
        return
    action = "replaced [tool.devbox] in" if result.replaced else "added [tool.devbox] to"
    click.echo(f"devbox: {action} {result.path}:\n")
    click.echo(result.text, nl=not result.text.endswith("\n"))


@cli.command()
@click.option(
    "--python", "python", metavar="VERSION", help="Which Python version's images to check."
)
@click.pass_context
def doctor(ctx: click.Context, /, python: str | None) -> None:
    """Check the docker client, engine, buildx, base images, disk and network; explain fixes."""
    from rich.text import Text

    from devbox.commands import doctor as doctor_mod
    from devbox.commands.run import Options, load_config
    from devbox.errors import EXIT_ENVIRONMENT

    images: list[str] = []
    builder: str | None = None
    cache_to: tuple[str, ...] = ()
    try:
        opts = Options(
            project_dir=_project_dir(ctx),
            command="check",
            cli={"python": python, "base-image": None},
        )
        cfg, _ = load_config(opts, os.environ)
        images = [cfg.image_for(p) for p in cfg.python]
        builder, cache_to = cfg.builder, cfg.cache_to
    except DevboxError as exc:  # no project here: check the engine anyway
        click.echo(
            f"devbox: no project configuration to check images for ({exc.message})", err=True
        )
    console = _console()
    if builder is not None:
        from devbox.engine import resolve_builder

        try:
            chosen = resolve_builder(builder, os.environ)
        except DevboxError:
            chosen = None  # check_builder says why
        if chosen is not None and chosen.context:  # check the engine the builds go to
            os.environ.pop("DOCKER_HOST", None)
            os.environ["DOCKER_CONTEXT"] = chosen.context
    checks = doctor_mod.run_checks(os.environ, images, builder, cache_to)
    marks = {
        "ok": ("ok  ", "green"),
        "warn": ("warn", "yellow"),
        "fail": ("FAIL", "bold red"),
        "info": ("info", "cyan"),
    }
    for check in checks:
        mark, style = marks[check.level.value]
        line = Text(f"[{mark}] ", style=style) + Text(f"{check.name}: {check.detail}")
        console.print(line)
        if check.fix:
            console.print(Text(f"       fix: {check.fix}"))
    ok = doctor_mod.can_run(checks)
    console.print(Text("devbox: a run can work here" if ok else "devbox: a run cannot work here yet (see FAIL above)",
                       style="green" if ok else "bold red"))  # fmt: skip
    ctx.exit(EXIT_OK if ok else EXIT_ENVIRONMENT)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--python", "python", metavar="VERSION", help="Python version of the shell's image.")
@click.option(
    "--base-image", metavar="REF", help="Base image; {python} is replaced by the version."
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def shell(
    ctx: click.Context, /, python: str | None, base_image: str | None, command: tuple[str, ...]
) -> None:
    """A shell in the project's dependency image, the project mounted read-write at /src.

    With a command after --, run just that: devbox shell -- pytest -q
    """
    from devbox.commands import shell as shell_mod
    from devbox.commands.run import Options

    opts = Options(
        project_dir=_project_dir(ctx),
        command="check",
        cli={"python": python, "base-image": base_image},
    )
    shell_mod.shell(opts, os.environ, command, _console(stderr=True))


def main(argv: list[str] | None = None) -> None:
    """Entry point: map outcomes to exit codes (0 ok, 1 tools failed, 2 config, 3 env, 130 ^C)."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="devbox", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort:
        code = Interrupted.exit_code
    except DevboxError as exc:
        if debug:
            traceback.print_exc()
        console = _console(stderr=True)
        from rich.text import Text

        console.print(Text("devbox: error: ", style="bold red") + Text(exc.message), soft_wrap=True)
        if exc.detail:
            console.print(exc.detail, markup=False, soft_wrap=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("devbox: interrupted.", err=True)
        code = Interrupted.exit_code
    except Exception as exc:  # a bug in devbox: say so, and keep what a bug report needs
        if debug:
            traceback.print_exc()
        log = _write_crash_log(argv if argv is not None else sys.argv[1:])
        where = f" Details are in {log}; please attach that file to a bug report." if log else ""
        click.echo(f"devbox: internal error: {type(exc).__name__}: {exc}.{where}", err=True)
        code = EXIT_INTERNAL
    sys.exit(code or 0)


def _write_crash_log(args: list[str]) -> Path | None:
    """The traceback, version and platform, in devbox's cache dir (never the project)."""
    import datetime
    import platform

    from devbox.commands.run import cache_home
    from devbox.fsutil import atomic_write

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = cache_home(os.environ) / "crash" / f"crash-{stamp}-{os.getpid()}.log"
    text = (
        f"devbox {__version__} on Python {platform.python_version()} ({platform.platform()})\n"
        f"command: devbox {' '.join(args)}\ncwd: {os.getcwd()}\n\n{traceback.format_exc()}"
    )
    try:
        atomic_write(path, text)
    except OSError:
        return None
    return path
