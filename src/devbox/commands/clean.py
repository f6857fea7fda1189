"""``devbox clean``: remove what devbox keeps for this project, and nothing of any other.

What is this project's, by name:

- devbox's own directory for it (state, logs, context links: ``projects/<name>-<key>``
  under devbox's cache directory);
- BuildKit's cache mounts of its tools (tool caches, bytecode: ids
  ``devbox-<key>-<tool>-<python>``), found in ``docker buildx du --verbose`` and removed one
  by one with ``docker buildx prune --filter id=ID``.

The installers' caches (``devbox-pip``, ``devbox-uv``) and apt's are shared by every project,
and layer records are shared by content: they are left to BuildKit's own garbage collection,
as nothing can tell which project they belong to. Nothing is pruned by age or size.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from devbox.build.plan import project_key
from devbox.build.session import Options, cache_home, connect, load_config, work_dir_of
from devbox.engine.docker import CacheRecord

__all__ = ["Cleaned", "clean", "project_mounts"]


@dataclass(frozen=True)
class Cleaned:
    mounts: tuple[CacheRecord, ...]
    #: devbox's directory for the project, if there was one
    work_dir: Path | None


def project_mounts(records: list[CacheRecord], key: str) -> list[CacheRecord]:
    """The cache mounts of the project with ``key`` (never another project's)."""
    marker = f'with id "/devbox-{key}-'
    return [r for r in records if r.type == "exec.cachemount" and marker in r.description]


def clean(
    opts: Options, env: Mapping[str, str], console: Console, *, dry_run: bool = False
) -> Cleaned:
    cfg, facts = load_config(opts, env)
    docker, _ = connect(cfg, env, console)
    key = project_key(facts.root)
    mounts = project_mounts(docker.cache_records(), key)
    work = work_dir_of(env, facts.root)
    projects = cache_home(env) / "projects"
    # only a real directory right under devbox's own projects directory is removed
    keep = work.is_symlink() or not work.is_dir() or work.parent.resolve() != projects.resolve()
    verb = "would remove" if dry_run else "removed"
    for record in mounts:
        if dry_run or docker.prune_record(record.id):
            what = record.description.rsplit("with id ", 1)[-1].strip('"/')
            console.print(
                f"devbox: {verb} the cache mount {what} ({record.size})",
                highlight=False,
                markup=False,
            )
    if not keep:
        if not dry_run:
            shutil.rmtree(work)
        console.print(f"devbox: {verb} {work}", highlight=False, markup=False)
    if not mounts and keep:
        console.print("devbox: nothing to clean for this project", highlight=False, markup=False)
    return Cleaned(tuple(mounts), None if keep else work)
