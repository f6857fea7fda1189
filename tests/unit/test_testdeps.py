"""The static detector of test dependencies (devbox.config.testdeps) and its hook in load()."""

from __future__ import annotations

from pathlib import Path

import pytest

from devbox import config
from devbox.config.project import inspect_project, read_pyproject
from devbox.config.testdeps import Found, find_test_dependencies
from devbox.errors import ConfigError
from helpers import make_project

BASE = '[project]\nname = "p"\nversion = "1"\n'


def found_in(root: Path) -> Found:
    return find_test_dependencies(inspect_project(root, read_pyproject(root)))


def loaded(root: Path, env: dict[str, str] | None = None) -> config.Config:
    data = read_pyproject(root)
    return config.load(
        data, path=root / "pyproject.toml", env=env or {}, facts=inspect_project(root, data)
    )


def test_a_dependency_group(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE + '[dependency-groups]\ntests = ["six"]\ndocs = ["x"]\n')
    found = found_in(root)
    assert found.groups == ("tests",) and not found.extras and not found.requirements
    assert found.line == "devbox: test dependencies: [dependency-groups] tests (found)"


def test_an_optional_dependency_extra(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE + '[project.optional-dependencies]\ntest = ["six"]\n')
    found = found_in(root)
    assert found.extras == ("test",)
    assert found.line == ("devbox: test dependencies: [project.optional-dependencies] test (found)")


def test_a_setup_cfg_extra_read_as_data(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        files={
            "setup.py": "raise SystemExit('never run')\n",
            "setup.cfg": "[metadata]\nname = p\n[options.extras_require]\n"
            "testing =\n    six\n    toml>=0.10  # a comment\n",
        },
    )
    facts = inspect_project(root, read_pyproject(root))
    found = find_test_dependencies(facts)
    assert found.extras == ("testing",)
    assert "setup.cfg [options.extras_require] testing" in found.line
    from devbox.config.testdeps import outside_extra

    assert outside_extra(facts, "Testing") == ("six", "toml>=0.10")
    assert outside_extra(facts, "old") is None


def test_setup_cfg_extras_do_not_count_beside_static_ones_in_pyproject(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE, {"setup.cfg": "[options.extras_require]\ntesting = six\n"})
    assert not found_in(root)


def test_a_requirement_file(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE, {"requirements-dev.txt": "six\n", "requirements.txt": ""})
    found = found_in(root)
    assert found.requirements == ("requirements-dev.txt",)
    assert found.line == "devbox: test dependencies: requirements-dev.txt (found)"


def test_tox_testenv_deps(tmp_path: Path) -> None:
    root = make_project(
        tmp_path, BASE, {"tox.ini": "[testenv]\ndeps =\n    six\n    py311: toml\n"}
    )
    found = found_in(root)
    assert found.packages == ("six",) and found.from_tox
    assert found.line == (
        "devbox: test dependencies: tox.ini [testenv] deps six "
        "(found; what tox.ini [testenv] installs)"
    )


def test_tests_names_win_over_dev_names_and_groups_over_extras(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE + '[project.optional-dependencies]\ntest = ["six"]\ndev = ["x"]\n'
        '[dependency-groups]\ndev = ["y"]\ntesting = ["six"]\n',
        {"requirements-test.txt": "six\n"},
    )
    found = found_in(root)
    assert found.groups == ("testing",) and not found.extras and not found.requirements
    assert found.passed_over == (
        "[project.optional-dependencies] test",
        "requirements-test.txt",
        "[dependency-groups] dev",
        "[project.optional-dependencies] dev",
    )
    assert "not used: [project.optional-dependencies] test, requirements-test.txt" in found.line


def test_tox_decides_between_conflicting_candidates(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE + '[project.optional-dependencies]\ntest = ["six==1.0"]\ndev = ["six==2.0"]\n',
        {
            "tox.ini": "[testenv]\nextras = dev\ndeps = -r requirements/ci.txt\n",
            "requirements/ci.txt": "toml\n",
        },
    )
    found = found_in(root)
    assert found.extras == ("dev",) and found.requirements == ("requirements/ci.txt",)
    assert found.passed_over == ("[project.optional-dependencies] test",)
    assert found.line == (
        "devbox: test dependencies: tox.ini [testenv] extras dev, tox.ini [testenv] deps -r "
        "requirements/ci.txt (found; what tox.ini [testenv] installs; not used: "
        "[project.optional-dependencies] test)"
    )


def test_tox_dependency_groups_and_self_extras(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        BASE + '[project.optional-dependencies]\nfast = ["six"]\n[dependency-groups]\nci = ["x"]\n',
        {"tox.ini": "[testenv]\ndependency_groups = ci\ndeps = .[fast]\n"},
    )
    found = found_in(root)
    assert found.groups == ("ci",) and found.extras == ("fast",)


def test_nothing_found(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE + '[project.optional-dependencies]\ndocs = ["x"]\n')
    assert not found_in(root)


def test_a_requirement_file_leading_out_of_the_project_is_not_used(tmp_path: Path) -> None:
    outside = make_project(tmp_path / "elsewhere", files={"secret.txt": "six\n"})
    root = make_project(tmp_path / "p", BASE)
    (root / "requirements-test.txt").symlink_to(outside / "secret.txt")
    assert not found_in(root)


# --- the hook in config.load ------------------------------------------------------------------


def test_load_uses_what_was_found_when_nothing_is_named(tmp_path: Path) -> None:
    root = make_project(tmp_path, BASE + '[dependency-groups]\ntests = ["six"]\n')
    cfg = loaded(root)
    assert cfg.groups == ("tests",)
    found = config.found_test_dependencies(
        cfg.sources, {}, inspect_project(root, read_pyproject(root))
    )
    assert found is not None and "[dependency-groups] tests" in found.line


@pytest.mark.parametrize(
    ("table", "env"),
    [
        ("[tool.devbox]\nextras = []\n", {}),
        ('[tool.devbox]\npackages = ["toml"]\n', {}),
        ("", {"DEVBOX_EXTRAS": ""}),
        ("", {"DEVBOX_GROUPS": ""}),
        ("", {"DEVBOX_REQUIREMENTS": "requirements-dev.txt"}),
    ],
)
def test_anything_named_turns_detection_off(
    tmp_path: Path, table: str, env: dict[str, str]
) -> None:
    root = make_project(
        tmp_path,
        BASE + '[dependency-groups]\ntests = ["six"]\n' + table,
        {"requirements-dev.txt": "six\n"},
    )
    cfg = loaded(root, env)
    assert cfg.groups == ()
    assert config.found_test_dependencies(cfg.sources, env, inspect_project(root, {})) is None


def test_extras_may_name_a_setup_cfg_extra(tmp_path: Path) -> None:
    root = make_project(
        tmp_path, files={"setup.cfg": "[options.extras_require]\ntesting = six\nfast = toml\n"}
    )
    assert loaded(root, {"DEVBOX_EXTRAS": "fast"}).extras == ("fast",)
    with pytest.raises(ConfigError, match="extra 'slow' is not in"):
        loaded(root, {"DEVBOX_EXTRAS": "slow"})


def test_the_plan_installs_a_setup_cfg_extra(tmp_path: Path) -> None:
    from devbox.build.plan import make_plan

    root = make_project(
        tmp_path,
        files={
            "setup.cfg": "[metadata]\nname = p\n[options.extras_require]\ntesting = six>=1\n",
            "setup.py": "import setuptools\nsetuptools.setup()\n",
        },
    )
    cfg = loaded(root)
    assert cfg.extras == ("testing",)
    plan = make_plan(cfg, inspect_project(root, {}), "test", virtualenvs=[])
    assert plan.project_install == "editable"
    assert "six>=1" in plan.requirements


def test_a_setup_cfg_extra_that_is_not_pep_508_fails_only_when_installed(tmp_path: Path) -> None:
    root = make_project(
        tmp_path,
        files={"setup.cfg": "[options.extras_require]\ntesting = six\ndocs = -e ./docs\n"},
    )
    assert loaded(root).extras == ("testing",)
    with pytest.raises(ConfigError, match=r"\[options.extras_require\] docs: '-e ./docs'"):
        from devbox.build.plan import make_plan

        make_plan(
            loaded(root, {"DEVBOX_EXTRAS": "docs"}),
            inspect_project(root, {}),
            "test",
            virtualenvs=[],
        )
