"""Test dependencies declared in Python files (setup.py, noxfile.py), in tox's test
environment, and the pytest plugins a pytest configuration needs: read, never run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devbox import config
from devbox.config.project import inspect_project, read_pyproject
from devbox.config.pysource import nox_test_session, read_setup_py
from devbox.config.pytestcfg import needed_plugins, plugin_for_option, read_pytest_config
from devbox.config.testdeps import (
    Found,
    expand_braces,
    find_test_dependencies,
    read_tox,
    tox_deps,
)
from devbox.errors import ConfigError
from helpers import make_project

BASE = '[project]\nname = "p"\nversion = "1"\n'
NEVER_RUN = "import sys\nsys.exit('this file must never run')\n"


def found_in(root: Path, python: str | None = "3.11") -> Found:
    return find_test_dependencies(inspect_project(root, read_pyproject(root)), python=python)


def setup_py(root: Path, body: str) -> Path:
    (root / "setup.py").write_text(NEVER_RUN + textwrap.dedent(body), encoding="utf-8")
    return root


# --- setup.py -----------------------------------------------------------------------------------


def test_setup_py_extras_as_literals_and_names(tmp_path: Path) -> None:
    root = setup_py(
        make_project(tmp_path),
        """
        from setuptools import setup
        TESTS = ["pytest>=7", "freezegun"]
        TESTS += ["six"]
        extras = {"docs": ["sphinx"], "test": TESTS}
        extras["all"] = extras["docs"] + TESTS
        extras["speed"] = compute()
        setup(name="p", extras_require=extras, tests_require=["mock"])
        """,
    )
    got = read_setup_py(root)
    assert got.extras == {
        "docs": ("sphinx",),
        "test": ("pytest>=7", "freezegun", "six"),
        "all": ("sphinx", "pytest>=7", "freezegun", "six"),
    }
    assert got.tests_require == ("mock",)
    assert got.unknown == ("extras_require['speed']",)


def test_setup_py_extras_in_dict_calls_strings_and_a_main_function(tmp_path: Path) -> None:
    root = setup_py(
        make_project(tmp_path),
        """
        import setuptools
        def main():
            base = ["attrs"]
            setuptools.setup(
                extras_require=dict(testing=base + ["hypothesis"], docs="sphinx\\nfuro\\n"),
            )
        if __name__ == "__main__":
            main()
        """,
    )
    assert read_setup_py(root).extras == {
        "testing": ("attrs", "hypothesis"),
        "docs": ("sphinx", "furo"),
    }


def test_setup_py_extras_computed_at_run_time_are_unknown(tmp_path: Path) -> None:
    root = setup_py(
        make_project(tmp_path),
        "import setuptools\nsetuptools.setup(extras_require=read_extras('x.txt'))\n",
    )
    got = read_setup_py(root)
    assert got.extras == {} and got.unknown == ("extras_require",)


def test_a_setup_py_that_does_not_parse_is_a_note(tmp_path: Path) -> None:
    root = make_project(tmp_path, files={"setup.py": "setup(extras_require={\n"})
    notes: list[str] = []
    assert read_setup_py(root, notes).extras == {}
    assert notes == ["setup.py could not be parsed (SyntaxError): it was not used."]


def test_a_setup_py_extra_is_found_installed_and_accepted_by_extras(tmp_path: Path) -> None:
    from devbox.build.plan import make_plan

    root = setup_py(
        make_project(tmp_path, files={"setup.cfg": "[metadata]\nname = p\nversion = 1\n"}),
        """
        from setuptools import setup
        setup(extras_require={"tests": ["six>=1"], "fast": ["toml"]})
        """,
    )
    found = found_in(root)
    assert found.extras == ("tests",)
    assert found.line == "devbox: test dependencies: setup.py extras_require tests (found)"
    data = read_pyproject(root)
    facts = inspect_project(root, data)
    cfg = config.load(
        data, path=root / "pyproject.toml", env={"DEVBOX_EXTRAS": "fast"}, facts=facts
    )
    assert cfg.extras == ("fast",)
    plan = make_plan(cfg, facts, "test")
    assert "toml" in plan.requirements
    with pytest.raises(ConfigError, match=r"or setup\.py extras_require"):
        config.load(data, path=root / "pyproject.toml", env={"DEVBOX_EXTRAS": "slow"}, facts=facts)


def test_setup_py_extras_do_not_count_beside_static_ones_in_pyproject(tmp_path: Path) -> None:
    root = setup_py(
        make_project(tmp_path, BASE),
        "from setuptools import setup\nsetup(extras_require={'test': ['six']})\n",
    )
    assert not found_in(root)


def test_setup_py_tests_require_is_the_last_resort(tmp_path: Path) -> None:
    root = setup_py(
        make_project(tmp_path), "import setuptools\nsetuptools.setup(tests_require=['six'])\n"
    )
    found = found_in(root)
    assert found.packages == ("six",)
    assert found.line == "devbox: test dependencies: setup.py tests_require (found)"


def test_an_invalid_requirement_in_a_setup_py_extra_names_the_file(tmp_path: Path) -> None:
    root = setup_py(
        make_project(tmp_path),
        "import setuptools\nsetuptools.setup(extras_require={'test': ['-e .']})\n",
    )
    data = read_pyproject(root)
    facts = inspect_project(root, data)
    cfg = config.load(data, path=root / "pyproject.toml", env={}, facts=facts)
    from devbox.build.plan import make_plan

    with pytest.raises(ConfigError, match=r"setup\.py: extras_require test: '-e \.'"):
        make_plan(cfg, facts, "test")


# --- noxfile.py ---------------------------------------------------------------------------------


NOXFILE = """\
import nox

DEPS = ["pytest", "freezegun"]

@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check")

@nox.session(python=["3.11", "3.12"])
def tests(session):
    session.install("-r", "requirements/test.txt", "-c", "constraints.txt")
    session.install("-e", ".[testing]")
    session.install(*DEPS, "--pre")
    session.install(computed())
    session.run("pytest", *session.posargs)
"""


def test_the_nox_test_session_is_read_not_run(tmp_path: Path) -> None:
    root = make_project(tmp_path, files={"noxfile.py": NEVER_RUN + NOXFILE})
    session = nox_test_session(root)
    assert session is not None and session.name == "tests"
    assert session.files == ("requirements/test.txt",)
    assert session.self_extras == ("testing",)
    assert session.packages == ("pytest", "freezegun")
    assert session.skipped == (
        "-c constraints.txt",
        "--pre",
        "(a value computed when the noxfile runs)",
    )


def test_the_one_session_that_runs_pytest_when_none_is_named_for_tests(tmp_path: Path) -> None:
    noxfile = """\
import nox

@nox.session(name="check")
def run_checks(s):
    s.install("pytest-mock", ".")
    s.run("python", "-m", "pytest")
"""
    root = make_project(tmp_path, files={"noxfile.py": noxfile})
    session = nox_test_session(root)
    assert session is not None and session.name == "check" and session.packages == ("pytest-mock",)


def test_nox_deps_are_chosen_after_tox(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE + '[project.optional-dependencies]\ntesting = ["six"]\ndev = ["x"]\n',
        {"noxfile.py": NOXFILE, "requirements/test.txt": "toml\n"},
    )
    found = found_in(root)
    assert found.extras == ("testing",)
    assert found.requirements == ("requirements/test.txt",)
    assert found.packages == ("pytest", "freezegun")
    assert found.from_env == "noxfile.py session 'tests'"
    assert found.line == (
        "devbox: test dependencies: noxfile.py session 'tests' extras testing, noxfile.py "
        "session 'tests' installs -r requirements/test.txt, noxfile.py session 'tests' installs "
        "pytest, freezegun (found; what noxfile.py session 'tests' installs; not used: "
        "[project.optional-dependencies] dev)"
    )
    (root / "tox.ini").write_text("[testenv]\ndeps = six\n", encoding="utf-8")
    assert found_in(root).from_tox


# --- tox ----------------------------------------------------------------------------------------


def test_brace_expansion() -> None:
    assert expand_braces("py{310,311}-{a,b}") == ["py310-a", "py310-b", "py311-a", "py311-b"]
    assert expand_braces("lint") == ["lint"]


TOX = """\
[tox]
envlist = lint, py{310,311}-cov, docs

[base]
deps = attrs

[testenv]
deps =
    {[base]deps}
    py310: tomli
    cov: pytest-cov
    !cov: pytest-randomly
    py310,py311: six
    py311-cov: toml
    py312-cov: nothing-for-3.12
"""


@pytest.mark.parametrize(
    ("python", "packages", "left"),
    [
        (
            "3.11",
            ["attrs", "pytest-cov", "six", "toml"],
            ["py310: tomli", "!cov: pytest-randomly", "py312-cov: nothing-for-3.12"],
        ),
        (
            "3.10",
            ["attrs", "tomli", "pytest-cov", "six"],
            ["!cov: pytest-randomly", "py311-cov: toml", "py312-cov: nothing-for-3.12"],
        ),
        # no env of env_list for 3.13: [testenv] as py313
        (
            "3.13",
            ["attrs", "pytest-randomly"],
            [
                "py310: tomli",
                "cov: pytest-cov",
                "py310,py311: six",
                "py311-cov: toml",
                "py312-cov: nothing-for-3.12",
            ],
        ),
    ],
)
def test_tox_factor_conditional_deps_follow_the_env_for_the_python(
    tmp_path: Path, python: str, packages: list[str], left: list[str]
) -> None:
    root = make_project(tmp_path, BASE, {"tox.ini": TOX})
    deps = tox_deps(read_tox(root, {}, []), python)
    assert deps.packages == packages
    assert deps.conditional == left


def test_a_named_test_env_inherits_and_overrides_testenv(tmp_path: Path) -> None:
    ini = """\
[testenv]
extras = fast
deps = six

[testenv:tests]
deps =
    {[testenv]deps}
    toml
"""
    root = make_project(
        tmp_path, BASE + '[project.optional-dependencies]\nfast = ["x"]\n', {"tox.ini": ini}
    )
    deps = tox_deps(read_tox(root, {}, []), "3.11")
    assert deps.where == "tox.ini [testenv:tests]"
    assert deps.packages == ["six", "toml"] and deps.extras == ["fast"]


def test_legacy_tox_ini_in_pyproject(tmp_path: Path) -> None:
    text = BASE + '[tool.tox]\nlegacy_tox_ini = """\n[testenv]\ndeps = six\n"""\n'
    root = make_project(tmp_path, text)
    found = found_in(root)
    assert found.packages == ("six",) and found.from_tox


# --- pytest plugins -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "plugin"),
    [
        ("--cov=src", "pytest-cov"),
        ("--cov-report=term", "pytest-cov"),
        ("-n", "pytest-xdist"),
        ("-n4", "pytest-xdist"),
        ("-nauto", "pytest-xdist"),
        ("--timeout=30", "pytest-timeout"),
        ("--asyncio-mode=auto", "pytest-asyncio"),
        ("--benchmark-skip", "pytest-benchmark"),
        ("--doctest-modules", None),
        ("--strict-markers", None),
        ("-ra", None),
    ],
)
def test_plugin_for_option(option: str, plugin: str | None) -> None:
    assert plugin_for_option(option) == plugin


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"pytest.ini": "[pytest]\naddopts = --cov\n"}, "pytest.ini"),
        ({"tox.ini": "[pytest]\naddopts = --cov\n"}, "tox.ini [pytest]"),
        ({"setup.cfg": "[tool:pytest]\naddopts = --cov\n"}, "setup.cfg [tool:pytest]"),
    ],
)
def test_pytest_configuration_is_read_where_pytest_reads_it(
    tmp_path: Path, files: dict[str, str], where: str
) -> None:
    root = make_project(tmp_path, BASE, files)
    cfg = read_pytest_config(root, {})
    assert cfg is not None and cfg.where == where and cfg.addopts == ("--cov",)


def test_pytest_ini_wins_even_without_addopts(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE,
        {"pytest.ini": "[pytest]\n", "setup.cfg": "[tool:pytest]\naddopts = --cov\n"},
    )
    assert needed_plugins(root, {}) == []


def test_needed_plugins_from_addopts_ini_keys_and_required_plugins(tmp_path: Path) -> None:
    pyproject = (
        BASE
        + "[tool.pytest.ini_options]\n"
        + 'addopts = "-p xdist -p no:cacheprovider --cov=p --cov-report=term -n 2 --doctest-modules"\n'
        + 'asyncio_mode = "auto"\ntimeout = 60\nrequired_plugins = "pytest-mock>=3"\n'
    )
    root = make_project(tmp_path, pyproject)
    got = [(n.requirement, n.why) for n in needed_plugins(root, read_pyproject(root))]
    assert got == [
        ("pytest-mock>=3", "pyproject.toml required_plugins"),
        ("pytest-xdist", "pyproject.toml addopts -p xdist"),
        ("pytest-cov", "pyproject.toml addopts --cov"),
        ("pytest-asyncio", "pyproject.toml asyncio_mode"),
        ("pytest-timeout", "pyproject.toml timeout"),
    ]


def test_plugins_a_root_conftest_loads(tmp_path: Path) -> None:
    conftest = (
        "import sys\nsys.exit('never run')\n"
        'pytest_plugins = ["pytest_asyncio", "tests.helpers", "pytester"]\n'
    )
    root = make_project(tmp_path, BASE, {"conftest.py": conftest, "tests/helpers.py": ""})
    got = [(n.requirement, n.why) for n in needed_plugins(root, {})]
    assert got == [("pytest-asyncio", "conftest.py pytest_plugins pytest_asyncio")]
    (root / "conftest.py").write_text('pytest_plugins = "pytest_mock"\n')
    assert [n.requirement for n in needed_plugins(root, {})] == ["pytest-mock"]


def test_a_plugin_the_declarations_lack_is_added_and_said(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE + '[project.optional-dependencies]\ntest = ["pytest-cov>=4"]\n',
        {"setup.cfg": "[tool:pytest]\naddopts = --cov=p --timeout=30\n"},
    )
    found = found_in(root)
    assert found.extras == ("test",) and found.packages == ("pytest-timeout",)
    assert found.line == (
        "devbox: test dependencies: [project.optional-dependencies] test, pytest-timeout "
        "(setup.cfg addopts --timeout) (found)"
    )


def test_a_plugin_named_in_an_included_requirement_file_is_not_added(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE,
        {
            "requirements-test.txt": "-r requirements/base.txt\npytest\n",
            "requirements/base.txt": "pytest-cov  # coverage\n",
            "pytest.ini": "[pytest]\naddopts = --cov\n",
        },
    )
    found = found_in(root)
    assert found.requirements == ("requirements-test.txt",) and found.packages == ()


def test_plugins_alone_are_found(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE, {"pytest.ini": "[pytest]\nasyncio_mode = auto\n"})
    found = found_in(root)
    assert found.packages == ("pytest-asyncio",)
    assert (
        found.line == "devbox: test dependencies: pytest-asyncio (pytest.ini asyncio_mode) (found)"
    )


# --- what real projects do (benchmarks/parity.py found each) ------------------------------------


def test_tox_path_substitutions(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE,
        {
            "tox.ini": "[testenv]\ndeps =\n    -rrequirements{/}ci.txt\n    -r{toxinidir}/req-test.txt\n",
            "requirements/ci.txt": "six\n",
            "req-test.txt": "toml\n",
        },
    )
    found = found_in(root)
    assert found.requirements == ("requirements/ci.txt", "req-test.txt")


@pytest.mark.parametrize(
    ("rel", "line", "extras"),
    [
        ("requirements.txt", "-e .", ()),
        ("requirements.txt", "--editable=.", ()),
        ("requirements.txt", ".[test,docs]", ("test", "docs")),
        ("requirements.txt", "-e .[test]", ("test",)),
        ("requirements/ci.txt", "-e ..", ()),
        ("test-requirements.txt", "referencing @ file:.", ()),
        ("test-requirements.txt", "pkg[x] @ file://./", ()),
        ("requirements.txt", "-e ./", ()),
    ],
)
def test_lines_that_install_the_project_itself(
    rel: str, line: str, extras: tuple[str, ...]
) -> None:
    from devbox.build.plan import self_line

    assert self_line(line, rel) == extras


@pytest.mark.parametrize(
    ("rel", "line"),
    [
        ("requirements.txt", "-e ./vendor/lib"),
        ("requirements.txt", "six"),
        ("requirements/ci.txt", "-e ."),  # requirements/ itself, not the project
        ("requirements.txt", "-r other.txt"),
        ("requirements.txt", "lib @ https://example.invalid/lib.whl"),
    ],
)
def test_other_lines_are_not_the_project(rel: str, line: str) -> None:
    from devbox.build.plan import self_line

    assert self_line(line, rel) is None


def test_a_requirement_file_that_installs_the_project_is_copied_without_that_line(
    tmp_path: Path,
) -> None:
    from devbox.build.plan import SELF_NOTE, make_plan

    root = make_project(
        tmp_path,
        BASE + '[project.optional-dependencies]\ntest = ["toml"]\n',
        {
            "requirements/ci.txt": "-r base.txt\n-e ..[test]  # the project\n",
            "requirements/base.txt": "six\n",
        },
    )
    data = read_pyproject(root)
    facts = inspect_project(root, data)
    cfg = config.load(
        data,
        path=root / "pyproject.toml",
        env={"DEVBOX_REQUIREMENTS": "requirements/ci.txt"},
        facts=facts,
    )
    plan = make_plan(cfg, facts, "test", virtualenvs=[])
    assert plan.requirement_files["requirements/ci.txt"] == f"-r base.txt\n{SELF_NOTE}-e ..[test]\n"
    assert "toml" in plan.requirements  # the extra the line asked for


def test_an_all_extra_is_the_last_resort(tmp_path: Path) -> None:
    root = make_project(
        tmp_path, BASE + '[project.optional-dependencies]\nall = ["hypothesis"]\ncli = ["x"]\n'
    )
    assert found_in(root).extras == ("all",)
    root2 = make_project(
        tmp_path / "2", BASE + '[project.optional-dependencies]\nall = ["x"]\ndev = ["six"]\n'
    )
    found = found_in(root2)
    assert found.extras == ("dev",) and found.passed_over == (
        "[project.optional-dependencies] all",
    )
