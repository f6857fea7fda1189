"""devbox.results.hints on real pytest outputs (tests/data/hints/, made with pytest 9 on tiny
projects): what a setting would fix, in one line each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devbox.config.project import ProjectFacts, inspect_project, read_pyproject
from devbox.results.hints import MAX_HINTS, Installed, attach, hints
from devbox.results.model import RunResult, Status, ToolResult
from helpers import make_project, tool_result

SAMPLES = Path(__file__).parents[1] / "data" / "hints"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def facts_of(root: Path, pyproject: str, files: dict[str, str] | None = None) -> ProjectFacts:
    make_project(root, pyproject, files)
    return inspect_project(root, read_pyproject(root))


def failed(output: str) -> ToolResult:
    return tool_result("pytest", Status.FAILED, kind="test", output=output)


PROJECT = """\
    [project]
    name = "pkg"
    version = "0"
    """


def test_a_module_of_an_extra_names_the_extra(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        PROJECT + '[project.optional-dependencies]\ntest = ["freezegun>=1", "PyYAML"]\n',
    )
    assert hints(failed(sample("collect-freezegun-yaml.txt")), facts) == [
        "devbox: freezegun is in the [project.optional-dependencies] test extra: set "
        'DEVBOX_EXTRAS=test or extras = ["test"]',
        "devbox: PyYAML is in the [project.optional-dependencies] test extra: set "
        'DEVBOX_EXTRAS=test or extras = ["test"]',
    ]


def test_import_names_map_to_distributions_in_groups_setup_cfg_files_and_tox(
    tmp_path: Path,
) -> None:
    facts = facts_of(
        tmp_path,
        PROJECT + '[dependency-groups]\nlint = ["ruff"]\nimages = ["pillow>=10"]\n',
        {
            "requirements/ci.txt": "-r base.txt\npython-dateutil==2.9  # dates\n",
            "tox.ini": "[testenv]\ndeps =\n    pytest\n    pytest-mock>=3\n",
        },
    )
    out = sample("conftest-pil.txt") + "E   ModuleNotFoundError: No module named 'dateutil.tz'\n"
    out += sample("fixture-mocker-benchmark.txt")
    assert hints(failed(out), facts) == [
        "devbox: Pillow is in the [dependency-groups] images group: set DEVBOX_GROUPS=images or "
        'groups = ["images"]',
        "devbox: python-dateutil is in requirements/ci.txt: set "
        'DEVBOX_REQUIREMENTS=requirements/ci.txt or requirements = ["requirements/ci.txt"]',
        "devbox: pytest-mock is in tox.ini [testenv] deps: set DEVBOX_PACKAGES=pytest-mock>=3 or "
        'packages = ["pytest-mock>=3"]',
    ]


def test_a_setup_cfg_extra(tmp_path: Path) -> None:
    make_project(
        tmp_path,
        None,
        {"setup.cfg": "[options.extras_require]\nextra-deps =\n    freezegun\n"},
    )
    facts = inspect_project(tmp_path, {})
    assert hints(failed(sample("collect-freezegun-yaml.txt")), facts) == [
        "devbox: freezegun is in the setup.cfg [options.extras_require] extra-deps extra: set "
        'DEVBOX_EXTRAS=extra-deps or extras = ["extra-deps"]',
        "devbox: PyYAML (No module named 'yaml') is declared nowhere in the project: set "
        'DEVBOX_PACKAGES=PyYAML or packages = ["PyYAML"]',
    ]


def test_plugin_options_declared_nowhere_say_packages(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, PROJECT)
    assert hints(failed(sample("unrecognized-cov-n.txt")), facts) == [
        "devbox: pytest-cov (unrecognized argument --cov) is declared nowhere in the project: "
        'set DEVBOX_PACKAGES=pytest-cov or packages = ["pytest-cov"]',
        "devbox: pytest-xdist (unrecognized argument -n) is declared nowhere in the project: "
        'set DEVBOX_PACKAGES=pytest-xdist or packages = ["pytest-xdist"]',
    ]
    lines = hints(failed(sample("unrecognized-timeout-asyncio.txt")), facts)
    assert [line.split(" (")[0] for line in lines] == [
        "devbox: pytest-timeout",
        "devbox: pytest-asyncio",
    ]
    bench = failed("pytest: error: unrecognized arguments: --benchmark-skip -n4\n")
    assert [line.split(" (")[0] for line in hints(bench, facts)] == [
        "devbox: pytest-benchmark",
        "devbox: pytest-xdist",
    ]


def test_what_is_installed_already_is_added_to_or_not_repeated(tmp_path: Path) -> None:
    facts = facts_of(
        tmp_path,
        PROJECT
        + '[project.optional-dependencies]\ntest = ["freezegun"]\nyaml = ["pyyaml"]\n'
        + 'cov = ["pytest-cov"]\n',
    )
    installed = Installed(extras=("test", "cov"))
    assert hints(failed(sample("collect-freezegun-yaml.txt")), facts, installed) == [
        "devbox: PyYAML is in the [project.optional-dependencies] yaml extra: set "
        'DEVBOX_EXTRAS=test,cov,yaml or extras = ["test", "cov", "yaml"]',
    ]
    # pytest-cov is installed (through the cov extra) and still missing: no setting helps
    assert hints(failed(sample("unrecognized-cov-n.txt")), facts, installed) == [
        "devbox: pytest-xdist (unrecognized argument -n) is declared nowhere in the project: "
        'set DEVBOX_PACKAGES=pytest-xdist or packages = ["pytest-xdist"]',
    ]
    with_packages = Installed(packages=("pytest-xdist==3.6",))
    lines = hints(failed(sample("unrecognized-cov-n.txt")), facts, with_packages)
    assert lines == [
        "devbox: pytest-cov is in the [project.optional-dependencies] cov extra: set "
        'DEVBOX_EXTRAS=cov or extras = ["cov"]'
    ]


def test_own_modules_stdlib_and_passing_or_lint_tools_get_none(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, PROJECT, {"src/pkg/__init__.py": "", "helpers.py": ""})
    out = "".join(
        f"E   ModuleNotFoundError: No module named '{m}'\n"
        for m in ("pkg", "pkg.sub", "helpers", "tomllib", "_cffi_backend")
    )
    assert hints(failed(out), facts) == []
    missing = sample("collect-freezegun-yaml.txt")
    passed = tool_result("pytest", Status.PASSED, kind="test", output=missing)
    lint = tool_result("ruff", Status.FAILED, kind="lint", output=missing)
    assert hints(passed, facts) == hints(lint, facts) == []


def test_at_most_three_lines_and_each_printable_and_bounded(tmp_path: Path) -> None:
    extra = '"t\\u001b[31m\\u0007' + "x" * 400 + '" = ["freezegun"]\n'
    facts = facts_of(tmp_path, PROJECT + "[project.optional-dependencies]\n" + extra)
    out = "".join(f"No module named 'mod{i}'\n" for i in range(10))
    assert len(hints(failed(out), facts)) == MAX_HINTS
    hostile = "No module named '" + "a" * 150 + "'\nE   No module named 'freezegun'\n"
    lines = hints(failed(hostile), facts)
    assert len(lines) == 2
    assert all(line.isprintable() and len(line) <= 300 for line in lines)
    assert "a" * 100 not in lines[0] and "\x1b" not in lines[1]


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.txt")))
def test_every_sample_gets_a_hint(tmp_path: Path, name: str) -> None:
    assert hints(failed(sample(name)), facts_of(tmp_path, PROJECT))


def test_attach_keeps_hints_in_the_json_report(tmp_path: Path) -> None:
    facts = facts_of(tmp_path, PROJECT)
    result = RunResult(
        (failed(sample("unrecognized-cov-n.txt")), tool_result("ruff")),
    )
    data = json.loads(json.dumps(attach(result, facts, Installed()).to_json()))
    pytest_json, ruff_json = data["tools"]
    assert [h.split(" (")[0] for h in pytest_json["hints"]] == [
        "devbox: pytest-cov",
        "devbox: pytest-xdist",
    ]
    assert "hints" not in ruff_json


def test_an_async_test_without_a_plugin_names_the_declared_async_plugin(tmp_path: Path) -> None:
    out = failed(sample("async-no-plugin.txt"))
    bare = facts_of(tmp_path / "bare", PROJECT)
    assert hints(out, bare) == [
        "devbox: pytest-asyncio (async def functions are not natively supported) is declared "
        'nowhere in the project: set DEVBOX_PACKAGES=pytest-asyncio or packages = ["pytest-asyncio"]'
    ]
    setup_py = make_project(
        tmp_path / "trio",
        None,
        {
            "setup.py": "from setuptools import setup\nsetup(extras_require={'testing': ['pytest-trio']})\n"
        },
    )
    assert hints(out, inspect_project(setup_py, {})) == [
        "devbox: pytest-trio is in the setup.py extras_require testing extra: set "
        'DEVBOX_EXTRAS=testing or extras = ["testing"]'
    ]
