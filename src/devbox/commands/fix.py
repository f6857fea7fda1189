"""``devbox fix``: run the fixing form of each lint tool in the container, and write the
files they changed back into the project.

The one command that writes source files. The chain: prepare (the lint run's preparation:
same environment, same context) → build one fix step that runs the fixers in order on a
writable copy of the source (:func:`devbox.build.dockerfile.render_fix`) → read what it
changed → check every changed file on the host against the content the fixers started from
→ write them all (each atomically), or none. ``--diff`` prints the changes as a unified diff
and writes nothing.

What is written, and how (docs/usage.md, "devbox fix"; docs/reliability.md):

- only files that exist and whose content is what the fixers started from (a file edited
  meanwhile stops everything: nothing is written, the files are named, exit 1);
- through a temporary file in the same directory and a rename, keeping the file's mode; every
  directory on the way is opened without following links, so nothing is written through a
  symbolic link, nor outside the project;
- by devbox's own process, so as the invoking user (like an editor's save);
- never a new file and never a deletion: when a fixer creates, deletes or replaces a file
  (by a link, say), nothing is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import errno
import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rich.console import Console

from devbox import tools as tools_mod
from devbox.build import bases as bases_mod
from devbox.build import state
from devbox.build.dockerfile import CHANGES_FILE, FILES_DIR, Fixer, render_fix
from devbox.build.plan import Plan, ToolRun
from devbox.build.session import Job, Options, prepare
from devbox.commands.run import build_with_live_view
from devbox.config import Config
from devbox.errors import EXIT_OK, EXIT_TOOLS_FAILED, BuildFailed, ConfigError
from devbox.report import console as report
from devbox.results.collect import collect, save_logs
from devbox.results.diagnose import environment_message, tail, unreadable_message
from devbox.results.model import NotARegularFile, Status, ToolResult, read_exported

#: the fix step's name (in the live view, its result directory and its log file)
FIX_STEP = "fix"
#: formatters run after every other fixer, so that what is written is formatted
FORMATTERS = ("ruff-format", "black")
#: exit code: fixed (or nothing to fix); every fixer exited 0
EXIT_FIXED = EXIT_OK
#: exit code: a fixer left problems it could not fix (what it fixed is written), --diff had
#: changes to show, or nothing was written because a file changed meanwhile (or a fixer
#: created or deleted files, or a path was unsafe)
EXIT_NOT_CLEAN = EXIT_TOOLS_FAILED


@dataclass(frozen=True)
class Change:
    """One file a fixer changed: its project-relative path (POSIX), what its content was when
    the fixers started (``sha256:HEX``), its new content, and the fixers that changed it."""

    path: str
    before: str
    after: bytes
    tools: tuple[str, ...]


@dataclass(frozen=True)
class Changes:
    changed: tuple[Change, ...]
    #: files the fixers created, deleted, or replaced by another kind of file: (path, tools)
    created: tuple[tuple[str, tuple[str, ...]], ...] = ()
    deleted: tuple[tuple[str, tuple[str, ...]], ...] = ()
    replaced: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Problem:
    """Why a change cannot be written (nothing is written then)."""

    path: str
    why: str


class Refused(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(", ".join(p.path for p in problems))
        self.problems = tuple(problems)


# --- the command ---------------------------------------------------------------------------


def fix(opts: Options, env: Mapping[str, str], console: Console, *, diff: bool) -> int:
    """Run the fixers, then write the changed files back (``diff``: print them instead).
    Returns the exit code (:data:`EXIT_FIXED`, :data:`EXIT_NOT_CLEAN`); errors that stop the
    run raise, as for lint."""
    job = prepare(dataclasses.replace(opts, command="lint"), env, console, check_images=True)
    if job.plan.unreadable:
        raise ConfigError(unreadable_message(job.plan))
    fixers = select_fixers(job.cfg, job.plan)
    if not fixers:
        names = ", ".join(dict.fromkeys(r.name for r in job.plan.tools)) or "none"
        raise ConfigError(
            f"devbox fix: none of the lint tools ({names}) has a fixing form. ruff, "
            "ruff-format, black and isort have one; give another tool a fix-command in "
            "[tool.devbox.tools.NAME]."
        )
    result, changes = run_fixers(job, fixers, console)
    root = job.plan.project.root
    cwd = Path(job.env.get("PWD") or os.getcwd())
    return present(console, result, changes, root, cwd, diff=diff)


def select_fixers(cfg: Config, plan: Plan) -> list[Fixer]:
    """The fixing commands of the lint tools in ``plan``: a tool's ``fix-command``, else the
    built-in tool's own. Order: as in ``lint``, except that formatters (ruff-format, black)
    come last; each tool once (fixing does not depend on the Python version)."""
    first: dict[str, ToolRun] = {}
    for run in plan.tools:
        first.setdefault(run.name, run)
    found: list[Fixer] = []
    for run in first.values():
        override = cfg.tools.get(run.name)
        builtin = tools_mod.BUILTIN.get(run.name)
        command = (override.fix_command if override else None) or (builtin.fix if builtin else None)
        if command:
            found.append(Fixer(run.name, tuple(command), dict(run.env), run.timeout))
    return sorted(found, key=lambda f: f.name in FORMATTERS)


def fix_step(python: str) -> ToolRun:
    """The fix step, as the live view and the result reader see a tool."""
    return ToolRun(FIX_STEP, "lint", python, (), {}, False)


def run_fixers(
    job: Job, fixers: Sequence[Fixer], console: Console
) -> tuple[ToolResult, Changes | None]:
    """Build the fix step (with the live view) and read its result and changes (None when it
    exported no readable record)."""
    plan = job.plan
    step = fix_step(plan.environments[0].python)
    fix_plan = dataclasses.replace(plan, tools=(step,), environments=plan.environments[:1])
    fix_job = dataclasses.replace(job, plan=fix_plan, rendered=render_fix(fix_plan, step, fixers))
    bases = bases_mod.resolve_bases(
        job.cfg, job.facts, fix_plan, job.docker, console, strict=job.opts.strict_base
    )
    state_file = job.work / state.STATE_FILE
    build_args = state.build_args(fix_plan, state_file, rerun=job.rerun, bases=bases)
    with fix_job.run_dir("fix-") as run_dir:
        progress = build_with_live_view(fix_job, run_dir, build_args, console)
        state.remember_tree(state_file, job.tree)
        result = collect(
            fix_plan,
            progress,
            run_dir.out,
            bases=bases,
            missing={},
            python_order=[step.python],
            image_for={step.python: job.cfg.image_for(step.python)},
        )
        changes = read_changes(run_dir.out, step)
    result = save_logs(result, job.work / "logs", job.secrets.values())
    bad = next((e for e in result.environments if not e.ok), None)
    if bad is not None:
        raise BuildFailed(environment_message(fix_plan, bad), detail=tail(bad.log))
    return result.tools[0], changes


def read_changes(out: Path, step: ToolRun) -> Changes | None:
    """The fix step's record of what changed, and the new contents (regular files only, no
    link followed); None when it is missing or not what the step writes."""
    where = (step.name, step.python)
    try:
        record = json.loads(read_exported(out, where, CHANGES_FILE).decode("utf-8"))
        changed = tuple(
            Change(
                str(c["path"]),
                str(c["before"]),
                read_exported(out, (*where, FILES_DIR), str(c["file"])),
                tuple(str(t) for t in c["tools"]),
            )
            for c in record["changed"]
        )
        other = {
            key: tuple((str(c["path"]), tuple(str(t) for t in c["tools"])) for c in record[key])
            for key in ("created", "deleted", "replaced")
        }
    except (OSError, NotARegularFile, ValueError, KeyError, TypeError):
        return None
    return Changes(changed, other["created"], other["deleted"], other["replaced"])


def present(
    console: Console,
    result: ToolResult,
    changes: Changes | None,
    root: Path,
    cwd: Path,
    *,
    diff: bool,
) -> int:
    """Show what the fixers left unfixed, then write the changes (or print their diff)."""

    def say(line: str, style: str | None = None) -> None:
        console.print(line, style=style, highlight=False, markup=False, soft_wrap=True)

    failed = not result
    if failed:
        # what the fixers could not fix (or why they failed), with host paths, as lint shows
        # a failing tool's output (only its colours kept; a huge one as its tail)
        report.print_output(console, result, root, cwd)
    if changes is None:
        say("devbox: the fix step left no record of its changes; nothing was written.", "red")
        return EXIT_NOT_CLEAN
    if result.status is Status.TIMEOUT:
        say(
            "devbox: a fixer was stopped at its time limit (timeout), so the files may be "
            "half-written; nothing was written.",
            "red",
        )
        return EXIT_NOT_CLEAN
    moved = [
        (path, tools, what)
        for what, entries in (
            ("created", changes.created),
            ("deleted", changes.deleted),
            ("replaced", changes.replaced),
        )
        for path, tools in entries
    ]
    if moved:
        for path, tools, what in moved:
            say(f"devbox: {_by(tools)} {what} {_shown(root, path, cwd)}", "red")
        say(
            "devbox fix only rewrites files that exist; it creates, deletes and replaces none: "
            "nothing was written.",
            "red",
        )
        return EXIT_NOT_CLEAN
    try:
        if diff:
            text = unified_diff(root, changes.changed)
            if text:
                console.out(text.rstrip("\n"), highlight=False)
        else:
            apply_changes(root, changes.changed)
    except Refused as exc:
        for problem in exc.problems:
            say(f"devbox: {_shown(root, problem.path, cwd)}: {problem.why}", "red")
        say(
            "devbox: nothing was written. Run devbox fix again on the files as they are now.",
            "red",
        )
        return EXIT_NOT_CLEAN
    if not diff:
        for change in changes.changed:
            say(f"devbox: fixed {_shown(root, change.path, cwd)} ({', '.join(change.tools)})")
    if not changes.changed:
        say("devbox: nothing to fix")
    if failed:
        return EXIT_NOT_CLEAN
    return EXIT_NOT_CLEAN if diff and changes.changed else EXIT_FIXED


def _by(tools: Sequence[str]) -> str:
    return ", ".join(tools) or "a fixer"


def _shown(root: Path, path: str, cwd: Path) -> str:
    """A project path as the user's terminal reaches it (relative to cwd when inside it)."""
    full = root / path
    try:
        return full.relative_to(cwd).as_posix()
    except ValueError:
        return os.path.relpath(full, cwd) if cwd.is_absolute() else full.as_posix()


# --- writing the changes (pure file-system work, no engine) -----------------------------------

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def digest(data: bytes) -> str:
    """A content's hash, as the fix step writes it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parts_of(path: str) -> tuple[str, ...] | None:
    """The parts of a project-relative POSIX path, or None when it is not one (absolute, with
    '..' or '.', empty parts, a NUL)."""
    if not path or "\0" in path or path.startswith("/") or "//" in path or path.endswith("/"):
        return None
    parts = PurePosixPath(path).parts
    if any(p in ("", ".", "..") for p in parts) or "/".join(parts) != path:
        return None
    return parts


@dataclass
class _Target:
    change: Change
    dir_fd: int
    name: str
    mode: int
    content: bytes
    temp: str | None = None


def _open(root: Path, change: Change) -> _Target | Problem:
    """Open the file ``change`` is about: every directory on the way without following a
    link, and the file itself only when it is a regular file."""
    parts = parts_of(change.path)
    if parts is None:
        return Problem(change.path, "not a path inside the project; refused")
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                return Problem(change.path, _why_not_dir(exc, part))
            os.close(fd)
            fd = next_fd
        name = parts[-1]
        try:
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return Problem(change.path, "was deleted since the fixers saw it")
        if stat.S_ISLNK(mode):
            return Problem(change.path, "is a symbolic link; devbox fix writes through none")
        if not stat.S_ISREG(mode):
            return Problem(change.path, "is not a regular file")
        content = _read(fd, name)
        if content is None:
            return Problem(change.path, "changed into something that is not a regular file")
        target = _Target(change, fd, name, stat.S_IMODE(mode), content)
        fd = -1  # the target keeps it
        return target
    finally:
        if fd != -1:
            os.close(fd)


def _why_not_dir(exc: OSError, part: str) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return f"{part!r} on the way is a symbolic link or not a directory; refused"
    if exc.errno == errno.ENOENT:
        return f"its directory {part!r} was removed since the fixers saw it"
    return f"cannot open its directory {part!r} ({exc.strerror})"


def _read(dir_fd: int, name: str) -> bytes | None:
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return f.read()


def _stale(target: _Target) -> Problem | None:
    if digest(target.content) != target.change.before:
        return Problem(target.change.path, "changed since the fixers saw it")
    return None


def _as_seen(root: Path, change: Change) -> _Target | Problem:
    """The file of ``change`` read now (its directory closed again), or why it cannot be
    written: unsafe to open, or changed since the fixers saw it."""
    opened = _open(root, change)
    if isinstance(opened, Problem):
        return opened
    os.close(opened.dir_fd)
    return _stale(opened) or opened


def check_changes(root: Path, changes: Sequence[Change]) -> list[Problem]:
    """Why each change could not be written now (empty: all could); writes nothing."""
    return [p for c in changes if isinstance(p := _as_seen(root, c), Problem)]


def apply_changes(root: Path, changes: Sequence[Change]) -> None:
    """Write every change, or none (raises :class:`Refused` naming each file that cannot be).

    Each file: its content must still be what the fixers started from; the new content goes
    to a temporary file next to it (same mode), which replaces it by a rename. Every file is
    checked, then every temporary file written, then every file checked again, and only then
    renamed: a file edited while devbox writes stops it with nothing written (short of an
    edit in the instant between that last check and the rename)."""
    targets: list[_Target] = []
    try:
        problems: list[Problem] = []
        for change in changes:
            opened = _open(root, change)
            if isinstance(opened, Problem):
                problems.append(opened)
                continue
            targets.append(opened)
            stale = _stale(opened)
            if stale is not None:
                problems.append(stale)
        if problems:
            raise Refused(problems)
        for target in targets:
            target.temp = _write_temp(target)
        for target in targets:
            now = _read(target.dir_fd, target.name)
            if now is None or digest(now) != target.change.before:
                problems.append(Problem(target.change.path, "changed while devbox wrote"))
        if problems:
            raise Refused(problems)
        for target in targets:
            assert target.temp is not None
            os.replace(target.temp, target.name, src_dir_fd=target.dir_fd, dst_dir_fd=target.dir_fd)
            target.temp = None
        for target in targets:
            os.fsync(target.dir_fd)
    finally:
        for target in targets:
            if target.temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(target.temp, dir_fd=target.dir_fd)
            os.close(target.dir_fd)


def _write_temp(target: _Target) -> str:
    # the name: hidden, unique, and short enough for any file system (255 bytes)
    stem = os.fsencode(target.name)[:180].decode("utf-8", "ignore")
    temp = f".{stem}.devbox-fix-{secrets.token_hex(6)}.tmp"
    fd = os.open(temp, _TEMP_FLAGS, 0o600, dir_fd=target.dir_fd)
    target.temp = temp
    with os.fdopen(fd, "wb") as f:
        f.write(target.change.after)
        f.flush()
        os.fchmod(f.fileno(), target.mode)
        os.fsync(f.fileno())
    return temp


def unified_diff(root: Path, changes: Sequence[Change]) -> str:
    """The changes as a unified diff (``a/PATH`` → ``b/PATH``, for ``git apply`` or
    ``patch -p1`` in the project directory), from the files as they are on disk, which must
    still be what the fixers saw (else :class:`Refused`). Reads only; writes nothing."""
    problems: list[Problem] = []
    chunks: list[str] = []
    for change in changes:
        opened = _as_seen(root, change)
        if isinstance(opened, Problem):
            problems.append(opened)
            continue
        try:
            old = opened.content.decode("utf-8")
            new = change.after.decode("utf-8")
        except UnicodeDecodeError:
            chunks.append(f"Binary files a/{change.path} and b/{change.path} differ\n")
            continue
        lines = difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{change.path}",
            f"b/{change.path}",
        )
        chunks.append("".join(_terminated(lines)))
    if problems:
        raise Refused(problems)
    return "".join(chunks)


def _terminated(lines: Iterable[str]) -> list[str]:
    """Diff lines, each ending in a newline (a last line without one gets git's marker)."""
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return out
