"""Check devbox's distributions as a user gets them (scripts/test.sh runs this; not a pytest module).

1. ``python -m build`` on a copy of the checkout (its tracked and not-ignored files: what a
   clean clone has; the checkout itself is not written to): an sdist, and a wheel built from it.
2. ``twine check --strict`` on both (the metadata and README render as an index shows them).
3. The sdist holds pyproject.toml, README.md, the license files and every file of the package
   (src/devbox: modules, py.typed, resources/, the _container step scripts); the wheel holds
   every file of the package, its console script and its validate-pyproject entry point, and
   nothing outside ``devbox/`` and its .dist-info.
4. The wheel installs in a fresh venv (beside validate-pyproject, which loads devbox's schema
   plugin); ``devbox --version`` there prints the version; the package data the code reads at
   run time (``_container/*.py``, ``resources/*``) reads the same through importlib.resources
   as in the checkout; validate-pyproject still validates this project's pyproject.toml and
   the demo's ``[tool.devbox]`` table (installing devbox must not break another tool).

Usage: python tests/check_dist.py [--keep DIR]. Exit 0 when all holds, else 1 with what is wrong.
Needs ``build`` and ``twine`` (the test extra) in the running interpreter, and the package index
(the isolated build installs setuptools, the fresh venv devbox's dependencies).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "devbox"
#: read at run time through importlib.resources / __file__: must reach the wheel and the venv
RUNTIME_DATA = ("_container", "resources")
IGNORED_PARTS = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


class Failed(Exception):
    pass


def run(argv: list[str], what: str, **kwargs: object) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip().splitlines()[-30:]
        raise Failed(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n" + "\n".join(out))
    return str(proc.stdout)


def source_files() -> list[str]:
    """The checkout's files a clean clone would have (tracked, or new and not ignored)."""
    if (REPO / ".git").exists() and shutil.which("git"):
        out = run(
            [
                "git",
                "-C",
                str(REPO),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            "git ls-files",
        )
        names = [n for n in out.split("\0") if n]
    else:
        names = [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file()]
    return sorted(
        n
        for n in names
        if (REPO / n).is_file()
        and not IGNORED_PARTS.intersection(Path(n).parts)
        and not any(part.endswith(".egg-info") for part in Path(n).parts)
    )


def copy_tree(files: list[str], dest: Path) -> None:
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)


def package_files(files: list[str]) -> list[str]:
    """src/devbox/... as paths inside the package (devbox/...)."""
    prefix = f"src/{PACKAGE}/"
    return [n.removeprefix("src/") for n in files if n.startswith(prefix)]


def check_sdist(sdist: Path, files: list[str]) -> None:
    with tarfile.open(sdist) as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name and m.isfile()}
    licenses = [n for n in files if "/" not in n and n.upper().startswith(("LICENSE", "COPYING"))]
    wanted = ["pyproject.toml", "README.md", "PKG-INFO", *licenses]
    wanted += [f"src/{n}" for n in package_files(files)]
    missing = [n for n in wanted if n not in names]
    if missing:
        raise Failed(
            f"the sdist {sdist.name} lacks {len(missing)} file(s) it should hold: "
            + ", ".join(missing[:20])
            + ". Package data goes in [tool.setuptools.package-data] in pyproject.toml."
        )


def check_wheel(wheel: Path, files: list[str], version: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = f"devbox_buildkit-{version}.dist-info"
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    missing = [n for n in package_files(files) if n not in names]
    if missing:
        raise Failed(
            f"the wheel {wheel.name} lacks {len(missing)} package file(s) devbox needs: "
            + ", ".join(missing[:20])
            + ". Add them to [tool.setuptools.package-data] in pyproject.toml."
        )
    stray = sorted(n for n in names if not n.startswith((f"{PACKAGE}/", f"{dist_info}/")))
    if stray:
        raise Failed(f"the wheel {wheel.name} holds files outside the package: {stray[:20]}")
    for needed in ("devbox = devbox.cli.entry:main", "devbox = devbox.config.schema:tool_schema"):
        if needed not in entry_points:
            raise Failed(f"the wheel's entry_points.txt lacks {needed!r}:\n{entry_points}")


#: run in the fresh venv: every runtime data file, as the code reads it, is the checkout's
PROBE = """
import sys
from importlib import resources
root = resources.files("devbox")
for rel in sys.argv[1:]:
    sys.stdout.write(rel + "\\t" + str(len(root.joinpath(rel).read_bytes())) + "\\n")
"""


def check_install(wheel: Path, files: list[str], version: str, work: Path) -> None:
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], "making a fresh venv")
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, str(wheel), "validate-pyproject"], "installing the wheel in a fresh venv", env=env)
    out = run([str(bindir / "devbox"), "--version"], "devbox --version", cwd=work, env=env)
    if version not in out:
        raise Failed(f"`devbox --version` from the wheel printed {out.strip()!r}, not {version}")
    data = [n.split("/", 1)[1] for n in package_files(files)]
    data = [n for n in data if n.split("/", 1)[0] in RUNTIME_DATA]
    out = run([str(py), "-c", PROBE, *data], "reading package data in the venv", cwd=work, env=env)
    got = dict(line.split("\t") for line in out.splitlines())
    wrong = [n for n in data if got.get(n) != str((REPO / "src" / PACKAGE / n).stat().st_size)]
    if wrong:
        raise Failed(f"the installed package reads other package data than the checkout: {wrong}")
    tomls = [REPO / "pyproject.toml", REPO / "examples" / "demo" / "pyproject.toml"]
    run([str(bindir / "validate-pyproject"), *map(str, tomls)],
        "validate-pyproject with the wheel's devbox installed", cwd=work, env=env)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keep", type=Path, help="build in this directory and leave it there")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="devbox-dist-"))
    start = time.monotonic()
    try:
        files = source_files()
        tree = work / "tree"
        copy_tree(files, tree)
        out = work / "dist"
        run([sys.executable, "-m", "build", "--outdir", str(out), str(tree)], "python -m build")
        sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            raise Failed(f"python -m build made {sdists + wheels}, not one sdist and one wheel")
        run([sys.executable, "-m", "twine", "check", "--strict", *map(str, sdists + wheels)],
            "twine check --strict")  # fmt: skip
        version = wheels[0].name.split("-")[1]
        check_sdist(sdists[0], files)
        check_wheel(wheels[0], files, version)
        check_install(wheels[0], files, version, work)
    except Failed as exc:
        print(f"check_dist: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    took = time.monotonic() - start
    print(f"check_dist: {sdists[0].name} and {wheels[0].name} build, pass twine check, and the "
          f"wheel installs and runs in a fresh venv ({took:.0f}s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
