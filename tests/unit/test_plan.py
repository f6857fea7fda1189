"""Planning: which tools run, what gets installed, what stays out of the context."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from devbox.build.dockerfile import render
from devbox.build.plan import DEFAULT_EXCLUDES, excluded, find_virtualenvs, scan_tree, select_tools
from devbox.errors import ConfigError
from helpers import load_config, make_project, plan_for

BASIC = '[project]\nname = "p"\nversion = "1"\n'


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("lint", [("ruff", "lint"), ("mypy", "lint")]),
        ("test", [("pytest", "test"), ("mypy", "test")]),
        ("check", [("ruff", "lint"), ("mypy", "lint"), ("pytest", "test")]),
    ],
)
def test_select_tools(tmp_path: Path, command: str, expected: list[tuple[str, str]]) -> None:
    root = make_project(
        tmp_path, BASIC + '[tool.devbox]\nlint = ["ruff", "mypy"]\ntest = ["pytest", "mypy"]\n'
    )
    cfg = load_config(root, facts=False)
    assert select_tools(cfg, command) == expected  # type: ignore[arg-type]


def test_requirements_from_dependencies_extras_groups_and_packages(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        """
[project]
name = "My_Proj"
version = "1"
dependencies = ["attrs"]
[project.optional-dependencies]
a = ["six"]
b = ["my-proj[a]", "toml"]
[dependency-groups]
base = ["iniconfig"]
dev = ["coverage", {include-group = "base"}]
[tool.devbox]
extras = ["b"]
groups = ["dev"]
packages = ["hypothesis"]
test = ["pytest"]
lint = []
""",
    )
    plan = plan_for(root)
    # the self-reference my-proj[a] expands in place; tool packages come last
    assert plan.requirements == (
        "attrs",
        "six",
        "toml",
        "coverage",
        "iniconfig",
        "hypothesis",
        "pytest",
    )
    assert plan.project_install == "metadata"


def test_include_group_cycle_is_a_config_error(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASIC + '[dependency-groups]\na = [{include-group = "b"}]\nb = [{include-group = "a"}]\n'
        '[tool.devbox]\ngroups = ["a"]\n',
    )
    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        plan_for(root)


def test_project_install_modes(tmp_path: Path) -> None:
    static = make_project(tmp_path / "s", BASIC)
    assert plan_for(static).project_install == "metadata"
    dynamic = make_project(tmp_path / "d", '[project]\nname = "d"\ndynamic = ["version"]\n')
    assert plan_for(dynamic).project_install == "editable"
    setup_py = make_project(
        tmp_path / "p", "[tool.ruff]\n", {"setup.py": "from setuptools import setup\nsetup()\n"}
    )
    assert plan_for(setup_py).project_install == "editable"
    loose = make_project(tmp_path / "n", "[tool.ruff]\n")
    assert plan_for(loose).project_install == "none"


def test_dynamic_dependencies_are_not_installed_from_the_manifest(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        '[project]\nname = "d"\nversion = "1"\ndynamic = ["dependencies"]\ndependencies = ["x"]\n',
    )
    plan = plan_for(root)
    assert "x" not in plan.requirements
    assert plan.project_install == "editable"


def test_virtualenvs_by_any_name_are_excluded(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASIC,
        {
            "env-3.11/pyvenv.cfg": "home = /usr\n",
            "tools/.direnv/python/pyvenv.cfg": "",
            "node_modules/x/pyvenv.cfg": "",  # already excluded: not walked
            "src/p/__init__.py": "",
        },
    )
    assert find_virtualenvs(root) == ["env-3.11", "tools/.direnv/python"]
    plan = plan_for(root, env={"DEVBOX_EXCLUDE": "data/*.bin"})
    assert plan.excludes[: len(DEFAULT_EXCLUDES)] == DEFAULT_EXCLUDES
    assert plan.excludes[len(DEFAULT_EXCLUDES) :] == (
        "env-3.11",
        "tools/.direnv/python",
        "data/*.bin",
    )
    for needed in (
        ".git",
        "**/node_modules",
        "**/__pycache__",
        ".tox",
        ".nox",
        "build",
        "dist",
        "**/*.egg-info",
    ):
        assert needed in plan.excludes


def test_pytest_args_go_only_to_pytest(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASIC)
    plan = plan_for(root, "check", extra_args=["-k", "slow"])
    by_name = {t.name: t for t in plan.tools}
    assert by_name["pytest"].command == ("python", "-m", "pytest", "-k", "slow")
    assert "-k" not in by_name["ruff"].command


def test_tool_override_merges_env_and_replaces_command(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASIC + '[tool.devbox.tools.ruff]\ncommand = ["ruff", "check", "src"]\nenv = { A = "1" }\n',
    )
    ruff = next(t for t in plan_for(root, "lint").tools if t.name == "ruff")
    assert ruff.command == ("ruff", "check", "src")
    assert ruff.env["A"] == "1"
    assert ruff.env["RUFF_CACHE_DIR"] == "/devbox/cache/ruff"
    assert ruff.env["PYTHONPYCACHEPREFIX"] == "/devbox/cache/pycache"


def test_tool_names_that_collide_as_build_args_are_rejected(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASIC + '[tool.devbox]\nlint = ["a-b", "a_b"]\n'
        '[tool.devbox.tools.a-b]\ncommand = ["true"]\n[tool.devbox.tools.a_b]\ncommand = ["true"]\n',
    )
    with pytest.raises(ConfigError, match="differ only in"):
        plan_for(root, "lint")


def test_requirement_includes_inside_the_project_are_followed(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "proj",
        BASIC + '[tool.devbox]\nrequirements = ["req/a.txt"]\n',
        {
            "req/a.txt": "-r b.txt  # base\n--constraint=../c.txt\n-r\\\n  ../..d.txt\n"
            "-rmissing.txt\n-r https://example.com/r.txt\n# -r ../../commented.txt\n",
            "req/b.txt": "x\n",
            "c.txt": "y<2\n",
            "..d.txt": "z\n",  # a name that starts with two dots is not a parent
        },
    )
    plan = plan_for(root)
    assert set(plan.requirement_files) == {"req/a.txt", "req/b.txt", "c.txt", "..d.txt"}


@pytest.mark.parametrize(
    ("text", "line", "where"),
    [
        ("x\n-r ../../outside.txt\n", 2, "outside.txt"),
        ("--constraint=../../outside.txt\n", 1, "outside.txt"),
        ("--requirement ../../outside.txt\n", 1, "outside.txt"),
        ("-r../../outside.txt\n", 1, "outside.txt"),
        ("# a comment\n-c \\\n  ../../outside.txt\n", 2, "outside.txt"),
        ("-r ../../missing.txt\n", 1, "missing.txt"),  # no probing of what exists there
        ("-r /etc/passwd\n", 1, "/etc/passwd"),
        ("-r link.txt\n", 1, "outside.txt"),  # a symlink in the project, to outside it
        ("-r linkdir/inner.txt\n", 1, "inner.txt"),  # through a symlinked directory
    ],
)
def test_requirement_includes_leading_out_of_the_project_are_config_errors(
    tmp_path: Path, text: str, line: int, where: str
) -> None:
    # They were skipped (or, through a symlink, copied into the build with their content).
    root = make_project(
        tmp_path / "proj",
        BASIC + '[tool.devbox]\nrequirements = ["req/a.txt"]\n',
        {"req/a.txt": text},
    )
    (tmp_path / "outside.txt").write_text("secret\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "inner.txt").write_text("secret\n")
    (root / "req" / "link.txt").symlink_to(tmp_path / "outside.txt")
    (root / "req" / "linkdir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ConfigError) as info:
        plan_for(root)
    message = info.value.message
    assert info.value.exit_code == 2
    assert f"{root / 'req' / 'a.txt'} line {line}: " in message
    assert "outside the project" in message and where in message
    assert "Copy the file into the project" in message and "\n" not in message


def test_a_requirement_file_symlinked_out_of_the_project_only_from_the_environment(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "proj", BASIC)
    (tmp_path / "outside.txt").write_text("secret-dist\n")
    (root / "reqs.txt").symlink_to(tmp_path / "outside.txt")
    (root / "inner.txt").symlink_to(root / "real.txt")
    (root / "real.txt").write_text("attrs\n")
    with pytest.raises(ConfigError) as info:
        plan_for(root, pyproject={"project": {"name": "p", "version": "1"},
                                  "tool": {"devbox": {"requirements": ["reqs.txt"]}}})  # fmt: skip
    message = info.value.message
    assert message.startswith(f"{root / 'pyproject.toml'}: [tool.devbox] key 'requirements': ")
    assert "'reqs.txt'" in message and "outside the project" in message
    assert "DEVBOX_REQUIREMENTS" in message
    # a symlink inside the project is fine
    plan = plan_for(root, pyproject={"project": {"name": "p", "version": "1"},
                                     "tool": {"devbox": {"requirements": ["inner.txt"]}}})  # fmt: skip
    assert plan.requirement_files == {"inner.txt": "attrs\n"}
    # the user's own setting may lead elsewhere (its includes may not)
    plan = plan_for(root, env={"DEVBOX_REQUIREMENTS": "reqs.txt"})
    assert plan.requirement_files == {"reqs.txt": "secret-dist\n"}
    (tmp_path / "outside.txt").write_text("-r ../elsewhere.txt\n")
    with pytest.raises(ConfigError, match=re.escape("reqs.txt line 1: '-r ../elsewhere.txt'")):
        plan_for(root, env={"DEVBOX_REQUIREMENTS": "reqs.txt"})


@pytest.mark.parametrize("name", ["uv.lock", "pyproject.toml"])
def test_lock_files_symlinked_out_of_the_project_are_config_errors(
    tmp_path: Path, name: str
) -> None:
    # Both travel to the build as text for uv sync.
    root = make_project(tmp_path / "proj", BASIC, {"uv.lock": "version = 1\n"})
    outside = tmp_path / name
    (root / name).rename(outside)
    (root / name).symlink_to(outside)
    with pytest.raises(ConfigError) as info:
        plan_for(root)
    message = info.value.message
    assert message.startswith(f"{root / name}: resolves to {str(outside)!r}, outside the project")
    assert "Replace the symlink by the file itself" in message
    # with pip, the lock is not read
    assert plan_for(root, env={"DEVBOX_INSTALLER": "pip"}).lock is None


def test_lock_files_symlinked_inside_the_project_are_read(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", BASIC, {"locks/uv.lock": "version = 1\n"})
    (root / "uv.lock").symlink_to(root / "locks" / "uv.lock")
    plan = plan_for(root)
    assert plan.lock is not None
    assert render(plan).context["install/lock/uv.lock"] == "version = 1\n"


def test_extra_and_group_names_match_as_pep_685_normalizes_them(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASIC
        + '[project.optional-dependencies]\nDev_Tools = ["six"]\n[dependency-groups]\n"Test.Deps" = ["toml"]\n'
        '[tool.devbox]\nextras = ["dev-tools"]\ngroups = ["test-deps"]\nlint = ["noop"]\ntest = []\n'
        '[tool.devbox.tools.noop]\ncommand = ["true"]\npackages = []\n',
    )
    assert plan_for(root).requirements == ("six", "toml")


def test_dynamic_version_of_an_unpacked_sdist_comes_from_pkg_info(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        '[project]\nname = "lib"\ndynamic = ["version"]\n',
        {
            "PKG-INFO": "Metadata-Version: 2.1\nName: lib\nVersion: 26.2.0\n\nlong description\nVersion: 0\n"
        },
    )
    plan = plan_for(root)
    assert plan.project_install == "metadata"
    assert plan.install_spec()["version"] == "26.2.0"


def test_the_tree_scan_finds_virtualenvs_and_unreadable_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "env" / "lib").mkdir(parents=True)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "src").mkdir()
    for name in ("src/ok.py", "src/secret.key", "notes.log", "env/lib/x.py"):
        (tmp_path / name).write_text("x\n")
    for name in ("src/secret.key", "notes.log"):  # not readable by others: access() decides
        (tmp_path / name).chmod(0o600)
    # root reads everything: the modes are not what this checks, the walk and the filter are
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: real_access(p, mode) and not str(p).endswith((".key", ".log"))
    )
    scan = scan_tree(tmp_path)
    venvs, unreadable = scan.virtualenvs, scan.unreadable
    assert venvs == ["env"] and unreadable == ["notes.log", "src/secret.key"]
    assert excluded("notes.log", ["*.log"]) and not excluded("src/notes.log", ["*.log"])
    assert excluded("src/a/notes.log", ["**/*.log"]) and excluded("src/secret.key", ["src"])
    assert excluded("build/x/y.o", ["build/"]) and not excluded("builder.py", ["build"])
    assert not excluded("keep.log", ["!keep.log"])


def test_unreadable_paths_outside_the_excludes_reach_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(tmp_path, BASIC, {"data.bin": "x", "dist/p.whl": "x"})
    for name in ("data.bin", "dist/p.whl"):  # not readable by others: access() decides
        (tmp_path / name).chmod(0o600)
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode: real_access(p, mode) and Path(p).name not in ("data.bin", "p.whl"),
    )
    assert plan_for(tmp_path, "test").unreadable == ("data.bin",)  # dist/ is excluded anyway


def test_a_file_anyone_may_read_needs_no_access_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "open.txt").write_text("x\n")
    (tmp_path / "open.txt").chmod(0o644)
    asked: list[str] = []
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: asked.append(str(p)) or real_access(p, mode))
    assert scan_tree(tmp_path).unreadable == [] and asked == []  # one lstat, no access()


@pytest.mark.parametrize(
    ("pyproject", "files", "compiled"),
    [
        (
            BASIC,
            {"setup.py": "from setuptools import Extension, setup\nsetup(ext_modules=[])\n"},
            True,
        ),
        (
            BASIC,
            {"setup.py": "from setuptools import setup\nsetup(cffi_modules=['x.py:ffi'])\n"},
            True,
        ),
        (BASIC, {"setup.py": "from setuptools import setup\nsetup()\n"}, False),
        (BASIC + '[build-system]\nbuild-backend = "mesonpy"\n', {}, True),
        (BASIC + '[build-system]\nbuild-backend = "scikit_build_core.build"\n', {}, True),
        (BASIC + '[build-system]\nbuild-backend = "maturin"\n', {}, True),
        (
            BASIC + '[tool.setuptools]\next-modules = [{name = "p._c", sources = ["c.c"]}]\n',
            {},
            True,
        ),
        (BASIC + '[build-system]\nbuild-backend = "hatchling.build"\n', {}, False),
    ],
)
def test_projects_with_native_code_are_built_not_just_put_on_the_path(
    tmp_path: Path, pyproject: str, files: dict[str, str], compiled: bool
) -> None:
    plan = plan_for(make_project(tmp_path, pyproject, files))
    assert plan.project.compiled is compiled
    assert plan.project_install == ("editable" if compiled else "metadata")


def test_a_build_time_version_comes_from_pretend_version_pkg_info_or_a_stand_in(
    tmp_path: Path,
) -> None:
    scm = '[project]\nname = "s"\ndynamic = ["version"]\n'
    checkout = make_project(tmp_path / "checkout", scm)
    plan = plan_for(checkout)
    assert plan.project_install == "editable" and plan.version == "0.0.0+devbox"
    pinned = plan_for(checkout, env={"DEVBOX_PRETEND_VERSION": "4.5.6"})
    # given a version, the manifest says everything: no build needed
    assert pinned.project_install == "metadata" and pinned.version == "4.5.6"
    assert json.loads(render(pinned).context["install/install.json"])["version"] == "4.5.6"
    sdist = make_project(
        tmp_path / "sdist", scm, {"PKG-INFO": "Metadata-Version: 2.1\nName: s\nVersion: 7.0\n"}
    )
    assert plan_for(sdist).version == "7.0"
    tool = json.loads(render(plan).context["tools/pytest.json"])
    assert tool["version"] == "0.0.0+devbox"  # the tool step's SETUPTOOLS_SCM_PRETEND_VERSION


def test_system_packages_add_an_apt_step_only_when_asked(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASIC)
    assert "devbox_install.py system" not in render(plan_for(root)).dockerfile
    out = render(plan_for(root, env={"DEVBOX_SYSTEM_PACKAGES": "gcc,libpq-dev"}))
    assert out.context["install/system-packages.txt"] == "gcc\nlibpq-dev\n"
    assert out.dockerfile.count("python3 /devbox/devbox_install.py system") == 1
    # no package name in the Dockerfile: they travel as data
    assert "libpq-dev" not in out.dockerfile


def test_an_exception_after_an_exclude_keeps_the_path_in_the_context() -> None:
    """As .dockerignore reads them: the last pattern that matches decides, and a '!' pattern
    puts back what an earlier one excluded (BuildKit sends data/keep.txt; so an unreadable
    data/keep.txt must be reported, and a change to it seen)."""
    patterns = ["data/", "!data/keep.txt"]
    assert excluded("data/big.bin", patterns) and not excluded("data/keep.txt", patterns)
    assert excluded("data/keep.txt", [*patterns, "data/*.txt"])
    assert not excluded("x.log", ["*.log", "!x.log"]) and excluded("y.log", ["*.log", "!x.log"])
    # a character class, as in the default "**/*.py[cod]"
    assert excluded("pkg/mod.pyc", ["**/*.py[cod]"]) and not excluded(
        "pkg/mod.py", ["**/*.py[cod]"]
    )
    assert (
        excluded("a1", ["a[0-9]"])
        and not excluded("ab", ["a[0-9]"])
        and excluded("ab", ["a[^0-9]"])
    )
