"""The command line: a thin click layer over :mod:`devbox.commands`.

Options are declared once (:mod:`devbox.cli.options`); outcomes become output and exit codes
in one place (:mod:`devbox.cli.errors`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from devbox import __version__
from devbox.cli import options
from devbox.cli.errors import console as _console
from devbox.cli.errors import main as _main
from devbox.errors import EXIT_ENVIRONMENT, EXIT_OK, EXIT_TOOLS_FAILED

if TYPE_CHECKING:
    from devbox.build.plan import Command
    from devbox.build.session import Options


def _project_dir(ctx: click.Context) -> Path:
    from devbox.config.project import find_project_dir

    given = ctx.obj.get("project")
    return Path(given).resolve() if given else find_project_dir(Path.cwd())


def _project_dir_or_none(ctx: click.Context) -> Path | None:
    given = ctx.obj.get("project")
    return Path(given).resolve() if given else None


EPILOG = (
    "Exit codes: 0 every tool passed; 1 a tool failed; 2 bad configuration or usage; "
    "3 the environment (engine, image, network, cache directory); 70 an internal error (a "
    "crash log is written); 130 interrupted.\b\n\nDocs: docs/usage.md and "
    "docs/configuration.md of devbox's source (README.md lists them all)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, "-V", "--version", prog_name="devbox")
@options.PROJECT
@options.COLOR
@click.option("-v", "--verbose", "g_verbose", is_flag=True, help="Show every tool's full output.")
@click.option("-q", "--quiet", "g_quiet", is_flag=True, help="Print only failures and the summary.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, g_verbose: bool, g_quiet: bool, debug: bool) -> None:
    """Run a Python project's linters and tests in containers, through Docker BuildKit.

    Configuration lives in [tool.devbox] of pyproject.toml. Precedence:
    defaults < pyproject < DEVBOX_* environment < command line.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["verbose"] = g_verbose
    ctx.obj["quiet"] = g_quiet


def _color(ctx: click.Context) -> str | None:
    return str(ctx.obj.get("color")) if ctx.obj and ctx.obj.get("color") else None


class RunCommand(click.Command):
    """lint, test and check: ``[TOOL]...`` picks tools; what follows ``--`` goes to the test
    tools (pytest). Before ``--``, every option is devbox's: a typo is a usage error."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        tool_args: list[str] = []
        if "--" in args:
            at = args.index("--")
            args, tool_args = args[:at], args[at + 1 :]
        if tool_args and self.name == "lint":
            raise click.UsageError(
                "devbox lint passes no arguments to the linters (after --); set a linter's "
                "arguments in [tool.devbox.tools.NAME] command.",
                ctx,
            )
        ctx.meta["devbox.tool_args"] = tuple(tool_args)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            if self.name not in ("test", "check"):
                raise
            hint = f" (pytest's own options go after --: devbox {self.name} -- {exc.option_name})"
            raise click.UsageError(exc.format_message() + hint, ctx) from None


def _run(ctx: click.Context, command: str, tools: tuple[str, ...], **kw: Any) -> None:
    from devbox.commands.run import run

    opts = _run_options(ctx, command, tools, **kw)
    result = run(opts, os.environ, _console(kw["no_color"], color=_color(ctx)))
    ctx.exit(EXIT_OK if result.ok else EXIT_TOOLS_FAILED)


def _run_options(ctx: click.Context, command: str, tools: tuple[str, ...], **kw: Any) -> Options:
    from devbox.build.session import Options

    return Options(
        project_dir=_project_dir(ctx),
        command=command,  # type: ignore[arg-type]
        cli=options.config_values(kw),
        extra_args=ctx.meta.get("devbox.tool_args", ()),
        tools=tools,
        offline=kw["offline"],
        strict_base=kw["strict_base"],
        report_json=kw["report_json"],
        junit_xml=kw["junit_xml"],
        codequality=kw["codequality"],
        timeline=kw["timeline"],
        annotations=(
            kw["output_format"]
            or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
        )
        == "github",
        rerun=kw["rerun"],
        refresh=kw["refresh"],
        fail_fast=kw["fail_fast"],
        affected=kw["affected"],
        all_pythons=kw["all_pythons"],
        verbose=kw["verbose"] or bool(ctx.obj.get("verbose")),
        quiet=kw["quiet"] or bool(ctx.obj.get("quiet")),
    )


TOOLS = click.argument("tools", nargs=-1, metavar="[TOOL]...")


@cli.command(cls=RunCommand, short_help="Run the linters (or the TOOLs named).", epilog=EPILOG)
@options.apply(*options.RUN)
@click.option(
    "--fix", "apply_fixes", is_flag=True, help="Run `devbox fix` instead: write the fixes."
)
@TOOLS
@click.pass_context
def lint(ctx: click.Context, /, tools: tuple[str, ...], apply_fixes: bool, **kw: Any) -> None:
    """Run the linters listed in `lint` (default: ruff), or only the TOOLs named.

    devbox lint mypy
    """
    if apply_fixes:
        _fix(ctx, tools, diff=False, **kw)
    if kw["affected"]:
        raise click.UsageError(
            "--affected picks tests: devbox test --affected, or devbox check --affected.", ctx
        )
    _run(ctx, "lint", tools, **kw)


def _fix(ctx: click.Context, tools: tuple[str, ...], *, diff: bool, **kw: Any) -> None:
    from devbox.build.session import Options
    from devbox.commands.fix import fix as fix_files

    opts = Options(
        project_dir=_project_dir(ctx),
        command="lint",
        cli=options.config_values(kw),
        tools=tools,
        offline=kw["offline"],
        strict_base=kw["strict_base"],
        rerun=kw["rerun"],
        verbose=kw["verbose"] or bool(ctx.obj.get("verbose")),
        quiet=kw["quiet"] or bool(ctx.obj.get("quiet")),
    )
    console = _console(kw["no_color"], color=_color(ctx))
    ctx.exit(fix_files(opts, os.environ, console, diff=diff))


@cli.command(short_help="Write the linters' fixes into the project (or print them).", epilog=EPILOG)
@click.option(
    "--diff",
    is_flag=True,
    help="Print the fixes as a unified diff (for git apply) and write nothing; exit 1 when "
    "there is something to fix.",
)
@options.python("Python version the fixers run with (default: the first configured one).")
@options.base_image()
@options.apply(*options.STEPS, *options.OUTPUT, *options.COMMON)
@TOOLS
@click.pass_context
def fix(ctx: click.Context, /, tools: tuple[str, ...], diff: bool, **kw: Any) -> None:
    """Run the fixing form of each lint tool (ruff check --fix, isort, ruff format, black, a
    fix-command) in the container and write the files they changed back, or only the TOOLs
    named. A file edited meanwhile stops it with nothing written.

    devbox fix --diff | git apply
    """
    _fix(ctx, tools, diff=diff, **kw)


@cli.command(cls=RunCommand, short_help="Run the tests (or the TOOLs named).", epilog=EPILOG)
@options.apply(*options.RUN)
@TOOLS
@click.pass_context
def test(ctx: click.Context, /, tools: tuple[str, ...], **kw: Any) -> None:
    """Run the test tools listed in `test` (default: pytest), or only the TOOLs named.

    Arguments after `--` go to pytest: devbox test -- -k slow -x
    """
    _run(ctx, "test", tools, **kw)


@cli.command(
    cls=RunCommand, short_help="Run the linters and the tests, in parallel.", epilog=EPILOG
)
@options.apply(*options.RUN)
@TOOLS
@click.pass_context
def check(ctx: click.Context, /, tools: tuple[str, ...], **kw: Any) -> None:
    """Run the linters and the tests in one build (in parallel), or only the TOOLs named.

    devbox check ruff pytest -- -x   (arguments after `--` go to pytest)
    """
    _run(ctx, "check", tools, **kw)


def _command_and_tools(args: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """``[lint|test|check] [TOOL]...`` (explain, watch): the command (check by default), and
    the tools named."""
    if args and args[0] in ("lint", "test", "check"):
        return args[0], args[1:]
    return "check", args


@cli.command(short_help="What the next run would run, and why; runs nothing.")
@options.python("Python version(s), as for devbox check.", several=True)
@options.base_image()
@options.apply(*options.COMMON)
@click.argument("args", nargs=-1, metavar="[lint|test|check] [TOOL]...")
@click.pass_context
def explain(
    ctx: click.Context, /, python: str | None, base_image: str | None, args: tuple[str, ...]
) -> None:
    """Say which tools the next `devbox check` (or lint, or test) would run and why (the
    files changed since each tool last ran, a failure last time, a changed dependency
    environment), or that they would replay. No tool runs.

    devbox explain test
    """
    from devbox.build.session import Options
    from devbox.commands.explain import explain as explain_mod

    command, tools = _command_and_tools(args)
    opts = Options(
        project_dir=_project_dir(ctx),
        command=command,  # type: ignore[arg-type]
        cli={"python": python, "base-image": base_image},
        tools=tools,
    )
    explain_mod(opts, os.environ, _console(color=_color(ctx)))


@cli.command(
    cls=RunCommand,
    short_help="Run lint, test or check, then again on every change.",
    epilog=EPILOG,
)
@options.apply(*options.RUN)
@click.argument("args", nargs=-1, metavar="[lint|test|check] [TOOL]...")
@click.pass_context
def watch(ctx: click.Context, /, args: tuple[str, ...], **kw: Any) -> None:
    """Run `devbox check` (or lint, or test; or only the TOOLs named), then again each time a
    file of the project changes, until Ctrl-C. What did not change replays.

    devbox watch test -- -x   (arguments after `--` go to pytest)
    """
    from devbox.cli.errors import print_error
    from devbox.commands.watch import watch as watch_mod

    command, tools = _command_and_tools(args)
    if command == "lint" and ctx.meta.get("devbox.tool_args"):
        raise click.UsageError(
            "devbox watch lint passes no arguments to the linters (after --); set a linter's "
            "arguments in [tool.devbox.tools.NAME] command.",
            ctx,
        )
    opts = _run_options(ctx, command, tools, **kw)
    watch_mod(opts, os.environ, _console(kw["no_color"], color=_color(ctx)), print_error)


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
@options.python()
@options.base_image(None)
@options.apply(*options.COMMON)
@click.pass_context
def dockerfile(
    ctx: click.Context, command: Command, ignore: bool, python: str | None, base_image: str | None
) -> None:
    """Print the Dockerfile that `devbox lint`/`test`/`check` build."""
    from devbox.commands.dockerfile import dockerfile as text

    project = _project_dir(ctx)
    click.echo(
        text(project, command, python=python, base_image=base_image, ignore=ignore, env=os.environ),
        nl=False,
    )


@cli.group(short_help="Pre-built dependency images (devbox base build).")
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
@options.python("Python version(s).", several=True)
@options.base_image()
@options.NO_COLOR
@options.apply(*options.BUILD, *options.COMMON)
@click.pass_context
def base_build(ctx: click.Context, /, tag: str | None, push: bool, **kw: Any) -> None:
    """Build the dependency image (test-base) for the current dependency set, label it with
    their digest, and tag (and push) it. `devbox test --base REF` then installs nothing."""
    from devbox.build.session import Options
    from devbox.commands import base as base_mod

    opts = Options(project_dir=_project_dir(ctx), command="check", cli=options.config_values(kw))
    console = _console(kw["no_color"], color=_color(ctx))
    base_mod.build(opts, os.environ, console, tag=tag, push=push)


@cli.group()
def editor() -> None:
    """Editor integration (VS Code tasks with problem matchers)."""


@editor.command("vscode")
@click.option("--dry-run", is_flag=True, help="Print the resulting tasks.json; write nothing.")
@options.apply(*options.COMMON)
@click.pass_context
def editor_vscode(ctx: click.Context, /, dry_run: bool) -> None:
    """Write .vscode/tasks.json tasks "devbox: lint", "devbox: test" and one per tool.

    An existing tasks.json is merged: other tasks and comments are kept.
    """
    from devbox.commands import editor as editor_mod

    text = editor_mod.vscode_command(_project_dir(ctx), os.environ, dry_run=dry_run)
    click.echo(text, nl=not text.endswith("\n"))


@cli.command("init", short_help="Write a commented [tool.devbox] table for this project.")
@click.option("--force", is_flag=True, help="Replace an existing [tool.devbox] table.")
@click.option("--dry-run", is_flag=True, help="Print the proposed table; write nothing.")
@options.apply(*options.COMMON)
@click.pass_context
def init_command(ctx: click.Context, /, force: bool, dry_run: bool) -> None:
    """Inspect the project and write a commented [tool.devbox] table into pyproject.toml."""
    from devbox.commands.init import init

    result = init(_project_dir(ctx), force=force, dry_run=dry_run)
    if dry_run:
        click.echo(result.text, nl=not result.text.endswith("\n"))
        return
    action = "replaced [tool.devbox] in" if result.replaced else "added [tool.devbox] to"
    click.echo(f"devbox: {action} {result.path}:\n")
    click.echo(result.text, nl=not result.text.endswith("\n"))


@cli.command(short_help="Remove this project's devbox state and cache mounts.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@options.NO_COLOR
@options.apply(*options.COMMON)
@click.pass_context
def clean(ctx: click.Context, /, dry_run: bool, no_color: bool) -> None:
    """Remove what devbox keeps for this project: its state, logs and the BuildKit cache
    mounts of its tools. Other projects' cache, the shared installer caches and the layers
    are left alone (BuildKit's own garbage collection handles those)."""
    from devbox.build.session import Options
    from devbox.commands import clean as clean_mod

    opts = Options(project_dir=_project_dir(ctx), command="check", cli={})
    clean_mod.clean(opts, os.environ, _console(no_color, color=_color(ctx)), dry_run=dry_run)


@cli.command(short_help="Check docker, the engine, buildx, images, disk and network.")
@options.python("Which Python version's images to check.")
@options.apply(*options.COMMON)
@click.pass_context
def doctor(ctx: click.Context, /, python: str | None) -> None:
    """Check the docker client, engine, buildx, base images, disk and network; explain fixes."""
    from devbox.commands import doctor as doctor_mod

    ok = doctor_mod.doctor(
        _project_dir_or_none(ctx), python, os.environ, _console(color=_color(ctx))
    )
    ctx.exit(EXIT_OK if ok else EXIT_ENVIRONMENT)


@cli.command(
    context_settings={"ignore_unknown_options": True},
    short_help="A shell (or one command) in the dependency image.",
)
@options.python("Python version of the shell's image.")
@options.base_image()
@click.option(
    "--at",
    "at",
    metavar="TOOL",
    help="Open the shell where TOOL last failed: its environment, and the tree as that run "
    "had it (a copy; the project is not mounted). Its command is printed and in the history.",
)
@options.apply(*options.COMMON)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def shell(
    ctx: click.Context,
    /,
    python: str | None,
    base_image: str | None,
    at: str | None,
    command: tuple[str, ...],
) -> None:
    """A shell in the project's dependency image, the project mounted read-write at /src.

    With a command after --, run just that: devbox shell -- pytest -q.
    With --at TOOL, the shell is where TOOL last failed: devbox shell --at pytest
    """
    from devbox.build.session import Options
    from devbox.commands import shell as shell_mod

    opts = Options(
        project_dir=_project_dir(ctx),
        command="check",
        cli={"python": python, "base-image": base_image},
    )
    console = _console(stderr=True, color=_color(ctx))
    if at is not None:
        shell_mod.shell_at(opts, os.environ, at, command, console)
    shell_mod.shell(opts, os.environ, command, console)


def main(argv: list[str] | None = None) -> None:
    """Entry point: map outcomes to exit codes (0 ok, 1 tools failed, 2 config, 3 env, 130 ^C)."""
    _main(lambda: cli.main(args=argv, prog_name="devbox", standalone_mode=False), argv)
