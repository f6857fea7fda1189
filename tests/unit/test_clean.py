"""`devbox clean` picks this project's cache mounts out of `docker buildx du --verbose`."""

from __future__ import annotations

from devbox.commands.clean import project_mounts
from devbox.engine.docker import parse_cache_records

#: blocks as docker buildx du --verbose prints them (buildx 0.13), trimmed
DU = """\
ID:\t\tqgvbhzqiim6qosfgtgjealpe5
Created at:\t2026-12-01 21:59:49.885306253 +0000 UTC
Mutable:\ttrue
Size:\t\t95.35MB
Description:\tcached mount /root/.cache/uv from exec /bin/sh -c python3 run.py 3.11 with id "/devbox-uv"
Type:\t\texec.cachemount

ID:\t\ta1
Size:\t\t1.2MB
Description:\tcached mount /devbox/cache from exec /bin/sh -c run.py 3.11 with id "/devbox-0123abcd-pytest-3.11"
Type:\t\texec.cachemount

ID:\t\ta2
Size:\t\t3MB
Description:\tcached mount /devbox/cache from exec /bin/sh -c run.py 3.11 with id "/devbox-0123abcd9-pytest-3.11"
Type:\t\texec.cachemount

ID:\t\tb1
Size:\t\t248.9MB
Description:\tmount / from exec /bin/sh -c python3 /devbox/install/devbox_install.py deps 3.11 with id "/devbox-0123abcd-x"
Type:\t\tregular

Reclaimable:\t1.2GB
Total:\t\t1.5GB
"""


def test_only_this_projects_cache_mounts_are_picked() -> None:
    records = parse_cache_records(DU)
    assert [r.id for r in records] == ["qgvbhzqiim6qosfgtgjealpe5", "a1", "a2", "b1"]
    assert records[1].size == "1.2MB" and records[1].type == "exec.cachemount"
    # another key that starts the same, the shared installer cache and a layer: not these
    assert [r.id for r in project_mounts(records, "0123abcd")] == ["a1"]
