"""Tests for devbox.init: the proposed [tool.devbox] table and how it is written (no engine)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import snapshot
from devbox import config, tools
from devbox.commands.init import InitResult, init, propose
from devbox.config import Source
from devbox.config.project import tomllib
from devbox.errors import ConfigError
from helpers import copy_fixture, load_config, load_project, make_project

# --- helpers ----------------------------------------------------------------------------------


def table(text: str) -> dict[str, Any]:
    devbox: dict[str, Any] = tomllib.loads(text)["tool"]["devbox"]
    return devbox


def proposed(root: Path) -> dict[str, Any]:
    return table(propose(root))


def comments(text: str) -> str:
    """The comment lines of a proposal, joined with spaces (wrapping undone)."""
    return " ".join(
        line.strip()[1:].strip() for line in text.splitlines() if line.strip().startswith("#")
    )


def assert_every_key_is_explained(text: str) -> None:
    lines = text.splitlines()
    key_lines = [i for i, line in enumerate(lines) if line and line[0].isalpha()]
    assert key_lines, text
    for i in key_lines:
        assert lines[i - 1].startswith("# "), f"no comment above {lines[i]!r} in:\n{text}"


def init_error(root: Path, **kw: bool) -> str:
    with pytest.raises(ConfigError) as info:
        init(root, **kw)
    assert info.value.exit_code == 2
    return info.value.message


# --- the three fixture projects -----------------------------------------------------------------

FIXTURE_CASES = {
    "init_src": {
        # the file ends with a newline: one more makes the blank line before the table
        "separator": "\n",
        "keys": ["python", "installer", "extras", "lint", "test", "tools"],
        "pinned": ["ruff", "mypy"],
        "python": ("3.13",),
        "extras": ("test",),
        "groups": (),
        "packages": (),
        "lint": ("ruff", "mypy"),
        "test": ("pytest",),
        "comments": [
            "Layout: src/",
            'requires-python ">=3.10" allows 3.10, 3.11, 3.12, 3.13',
            "No uv.lock",
            "What `devbox test` installs when this table names none: [project.optional-dependencies] test.",
            "[tool.ruff] -> ruff; [tool.mypy] -> mypy",
            "a tests/ directory -> pytest",
        ],
    },
    "init_flat": {
        "separator": "\n",
        "keys": ["python", "installer", "packages", "lint", "test", "tools"],
        "pinned": ["flake8"],
        "python": ("3.11",),
        "extras": (),
        "groups": (),
        "packages": ("pytest", "six"),
        "lint": ("flake8",),
        "test": ("pytest",),
        "comments": [
            "Layout: flat",
            'requires-python ">=3.9,<3.12" allows 3.10, 3.11 of',
            "installs when this table names none: tox.ini [testenv] deps pytest, six.",
            "setup.cfg [flake8] -> flake8",
            "a tests/ directory -> pytest",
        ],
    },
    "init_groups": {
        # no newline at the end of this file: two make the blank line
        "separator": "\n\n",
        "keys": ["python", "installer", "groups", "lint", "test", "tools"],
        "pinned": ["ruff"],
        "python": ("3.13",),
        "extras": (),
        "groups": ("dev",),
        "packages": (),
        "lint": ("ruff",),
        "test": ("pytest",),
        "comments": [
            "Layout: flat",
            "uv.lock is present",
            "installs when this table names none: [dependency-groups] dev.",
            "Installed from uv.lock.",
            "No linter configured here: ruff, devbox's default",
            "a tests/ directory -> pytest",
        ],
    },
}


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_init_appends_the_table_after_the_untouched_file(name: str, tmp_path: Path) -> None:
    case: dict[str, Any] = FIXTURE_CASES[name]
    root = copy_fixture(name, tmp_path, fresh=False)
    path = root / "pyproject.toml"
    old = path.read_bytes()

    result = init(root)

    assert result == InitResult(text=result.text, path=path, written=True, replaced=False)
    new = path.read_bytes()
    assert new.startswith(old)
    assert new[len(old) :] == (case["separator"] + result.text).encode()
    assert result.text.startswith("[tool.devbox]\n")
    assert list(table(result.text)) == case["keys"]
    # The proposal depends on the project, not on a [tool.devbox] being there already.
    assert propose(root) == result.text


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_the_written_table_loads_with_the_expected_values(name: str, tmp_path: Path) -> None:
    case: dict[str, Any] = FIXTURE_CASES[name]
    root = copy_fixture(name, tmp_path, fresh=False)
    init(root)

    cfg = load_config(root)

    for key in ("python", "extras", "groups", "packages", "lint", "test"):
        assert getattr(cfg, key) == case[key], key
    assert cfg.installer == "uv"
    assert cfg.requirements == ()
    # the linters the project does not declare itself, pinned to devbox's tested versions
    assert {n: o.packages for n, o in cfg.tools.items()} == {
        n: tools.BUILTIN[n].packages for n in case["pinned"]
    }
    assert all("==" in p for n in case["pinned"] for p in tools.BUILTIN[n].packages)
    for key in case["keys"]:
        assert cfg.sources[key] is Source.PYPROJECT, key


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_every_value_comes_with_a_comment_saying_why(name: str, tmp_path: Path) -> None:
    text = propose(copy_fixture(name, tmp_path, fresh=False))

    assert_every_key_is_explained(text)
    said = comments(text)
    for fragment in FIXTURE_CASES[name]["comments"]:
        assert fragment in said, f"{fragment!r} not in the comments:\n{text}"
    assert max(len(line) for line in text.splitlines()) <= 100


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_an_existing_table_is_refused_without_force(name: str, tmp_path: Path) -> None:
    root = copy_fixture(name, tmp_path, fresh=False)
    init(root)
    path = root / "pyproject.toml"
    before = path.read_bytes()

    for dry_run in (False, True):
        message = init_error(root, dry_run=dry_run)
        assert str(path) in message
        assert "[tool.devbox] already exists" in message
        assert "--force" in message
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_force_replaces_an_edited_table_and_nothing_else(name: str, tmp_path: Path) -> None:
    root = copy_fixture(name, tmp_path, fresh=False)
    path = root / "pyproject.toml"
    first = init(root)
    after_first = path.read_bytes()
    # The user edits the table and adds a sub-table.
    path.write_bytes(
        after_first.replace(b'test = ["pytest"]\n', b'test = ["pytest", "my-checks"]\n')
        + b'\n[tool.devbox.tools.my-checks]\ncommand = ["python", "-m", "checks"]\n'
    )
    assert path.read_bytes() != after_first

    result = init(root, force=True)

    assert result.written and result.replaced
    assert result.text == first.text
    assert path.read_bytes() == after_first
    assert load_config(root).test == ("pytest",)


@pytest.mark.parametrize("name", FIXTURE_CASES)
def test_dry_run_writes_nothing(name: str, tmp_path: Path) -> None:
    root = copy_fixture(name, tmp_path, fresh=False)
    before = snapshot(root)

    result = init(root, dry_run=True)

    assert snapshot(root) == before
    assert result == InitResult(
        text=propose(root), path=root / "pyproject.toml", written=False, replaced=False
    )
    init(root)
    assert snapshot(root) != before
    before = snapshot(root)
    forced = init(root, force=True, dry_run=True)
    assert (forced.written, forced.replaced) == (False, True)
    assert snapshot(root) == before


# --- where the table goes -----------------------------------------------------------------------


def test_a_missing_pyproject_is_created_holding_just_the_table(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", files={"hello.py": "X = 1\n", "tests/test_hello.py": ""})

    dry = init(root, dry_run=True)
    assert not (root / "pyproject.toml").exists()
    result = init(root)

    assert result.written and not result.replaced
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == result.text == dry.text
    cfg = load_config(root)
    assert cfg.python == (config.FALLBACK_PYTHON,)
    assert (cfg.lint, cfg.test) == (("ruff",), ("pytest",))
    assert "No requires-python in [project]" in comments(result.text)


@pytest.mark.parametrize(
    ("old", "separator"),
    [
        pytest.param("", "", id="empty-file"),
        pytest.param('[project]\nname = "e"', "\n\n", id="no-final-newline"),
        pytest.param('[project]\nname = "e"\n', "\n", id="final-newline"),
        pytest.param('[project]\nname = "e"\n\n', "", id="blank-line-already"),
    ],
)
def test_appending_leaves_one_blank_line_before_the_table(
    tmp_path: Path, old: str, separator: str
) -> None:
    root = make_project(tmp_path / "p", files={"pyproject.toml": old})

    result = init(root)

    assert (root / "pyproject.toml").read_text(encoding="utf-8") == old + separator + result.text


MIDDLE = """\
# top comment
[project]
name = "mid"
version = "1"

[tool.devbox]  # the old table
python = "3.11"
lint = [
    "ruff",  # a line of an array, not a comment line
# [tool.fake] in a comment inside the array
]
# a comment that ends the devbox table

# Ruff: this comment belongs to [tool.ruff]
[tool.ruff]
line-length = 90
quote = \"\"\"
[tool.devbox.tools.fake]
\"\"\"

[tool.devbox.tools.pytest]
command = ["python", "-m", "pytest", "-x"]

[tool.mypy]
strict = true
"""


def test_force_replaces_the_table_and_its_sub_tables_in_place(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", files={"pyproject.toml": MIDDLE})

    result = init(root, force=True)

    assert result.replaced
    expected = (
        '# top comment\n[project]\nname = "mid"\nversion = "1"\n\n'
        + result.text
        + "\n# Ruff: this comment belongs to [tool.ruff]\n[tool.ruff]\nline-length = 90\n"
        + 'quote = """\n[tool.devbox.tools.fake]\n"""\n'
        + "\n[tool.mypy]\nstrict = true\n"
    )
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == expected
    cfg = load_config(root)
    assert cfg.lint == ("ruff", "mypy")
    assert set(cfg.tools) == {"ruff", "mypy"}  # the pins, not the old [tool.devbox.tools.fake]


@pytest.mark.parametrize(
    ("old", "before", "after"),
    [
        pytest.param('[tool."devbox"]\npython = "3.11"\n', "", "", id="quoted-key"),
        pytest.param('[ tool . devbox ]\npython = "3.11"\n', "", "", id="spaced-header"),
        pytest.param(
            '[tool.devbox.tools."my.tool"]\ncommand = ["x"]\n[tool.devbox]\nlint = ["my.tool"]\n',
            "",
            "",
            id="sub-table-first",
        ),
        pytest.param(
            '[project]\nname = "z"\n\n[tool.devbox]\npython = "3.11"',
            '[project]\nname = "z"\n\n',
            "",
            id="at-eof-without-newline",
        ),
        pytest.param(
            '[tool.devbox]\npython = "3.11"\n# Ruff settings\n[tool.ruff]\nline-length = 90\n',
            "",
            "# Ruff settings\n[tool.ruff]\nline-length = 90\n",
            id="comment-attached-to-the-next-header",
        ),
        pytest.param(
            '[tool.devbox]\nexclude = [\n  ["a"],\n  { b = "]" },\n]\n\n[tool.y]\nb = 1\n',
            "",
            "\n[tool.y]\nb = 1\n",
            id="nested-array",
        ),
    ],
)
def test_force_finds_the_table_however_it_is_spelled(
    tmp_path: Path, old: str, before: str, after: str
) -> None:
    root = make_project(tmp_path / "p", files={"pyproject.toml": old})

    result = init(root, force=True)

    new = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert new == before + result.text + after
    assert table(new) == table(result.text)


def test_crlf_files_keep_their_line_endings(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    old = b'[project]\r\nname = "crlf"\r\n\r\n[tool.devbox]\r\npython = "3.11"\r\n\r\n[tool.x]\r\na = 1\r\n'
    (root / "pyproject.toml").write_bytes(old)

    result = init(root, force=True)

    new = (root / "pyproject.toml").read_bytes()
    block = result.text.replace("\n", "\r\n").encode()
    assert new == b'[project]\r\nname = "crlf"\r\n\r\n' + block + b"\r\n[tool.x]\r\na = 1\r\n"
    assert new.count(b"\n") == new.count(b"\r\n")


def test_dotted_keys_cannot_be_replaced(tmp_path: Path) -> None:
    old = '[tool]\ndevbox.python = "3.11"\n'
    root = make_project(tmp_path / "p", files={"pyproject.toml": old})

    assert "--force" in init_error(root)
    message = init_error(root, force=True)

    assert str(root / "pyproject.toml") in message
    assert "dotted keys or an inline table" in message
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == old


def test_a_table_that_cannot_be_appended_is_refused(tmp_path: Path) -> None:
    # An inline [tool] table cannot be extended by a [tool.devbox] header.
    old = "tool = { ruff = { line-length = 90 } }\n"
    root = make_project(tmp_path / "p", files={"pyproject.toml": old})

    message = init_error(root)

    assert str(root / "pyproject.toml") in message
    assert "Nothing was written" in message
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == old


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    old = "[project\nname = 1\n"
    root = make_project(tmp_path / "p", files={"pyproject.toml": old})

    assert "invalid TOML" in init_error(root)
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == old


# --- what the proposal detects ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "lint", "said"),
    [
        pytest.param({}, ["ruff"], "No linter configured here", id="nothing"),
        pytest.param({"pyproject.toml": "[tool.black]\n"}, ["black"], "[tool.black]", id="black"),
        pytest.param({"pyproject.toml": "[tool.isort]\n"}, ["isort"], "[tool.isort]", id="isort"),
        pytest.param(
            {"pyproject.toml": '[tool.pylint.messages_control]\ndisable = ["C"]\n'},
            ["pylint"],
            "[tool.pylint] -> pylint",
            id="pylint",
        ),
        pytest.param(
            {"pyproject.toml": '[tool.ruff.format]\nquote-style = "single"\n'},
            ["ruff", "ruff-format"],
            "[tool.ruff.format] -> ruff-format",
            id="ruff-format",
        ),
        pytest.param({".flake8": "[flake8]\n"}, ["flake8"], ".flake8 -> flake8", id="dot-flake8"),
        pytest.param(
            {"tox.ini": "[flake8]\nmax-line-length = 99\n"},
            ["flake8"],
            "tox.ini [flake8]",
            id="tox-flake8",
        ),
        pytest.param({"mypy.ini": "[mypy]\n"}, ["mypy"], "mypy.ini -> mypy", id="mypy-ini"),
        pytest.param(
            {"pyproject.toml": "[tool.isort]\n[tool.black]\n[tool.mypy]\n[tool.ruff]\n"},
            ["ruff", "mypy", "black", "isort"],
            "[tool.ruff] -> ruff; [tool.mypy] -> mypy; [tool.black] -> black; [tool.isort] -> isort",
            id="several-in-builtin-order",
        ),
    ],
)
def test_linters_come_from_their_configuration(
    tmp_path: Path, files: dict[str, str], lint: list[str], said: str
) -> None:
    root = make_project(tmp_path / "p", files=files)

    text = propose(root)

    assert table(text)["lint"] == lint
    assert said in comments(text)


@pytest.mark.parametrize(
    ("files", "said"),
    [
        pytest.param(
            {"pyproject.toml": "[tool.pytest.ini_options]\n"},
            "[tool.pytest.ini_options] -> pytest",
            id="pyproject",
        ),
        pytest.param({"pytest.ini": "[pytest]\n"}, "pytest.ini -> pytest", id="pytest-ini"),
        pytest.param({"tox.ini": "[pytest]\n"}, "tox.ini [pytest] -> pytest", id="tox-ini"),
        pytest.param({"tests/": ""}, "a tests/ directory -> pytest", id="tests-dir"),
        pytest.param({}, "No pytest configuration or tests/ directory found", id="nothing"),
    ],
)
def test_pytest_and_why(tmp_path: Path, files: dict[str, str], said: str) -> None:
    root = make_project(tmp_path / "p", files=files)

    text = propose(root)

    assert table(text)["test"] == ["pytest"]
    assert said in comments(text)


@pytest.mark.parametrize(
    ("requires_python", "python", "said"),
    [
        pytest.param(None, "3.12", "No requires-python in [project]: 3.12", id="none"),
        pytest.param(">=3.10", "3.13", "allows 3.10, 3.11, 3.12, 3.13 of", id="open"),
        pytest.param(">=3.8,<3.12", "3.11", "allows 3.10, 3.11 of", id="capped"),
        pytest.param("~=3.10.2", "3.10", "allows 3.10 of", id="compatible"),
        pytest.param("<3.9", "3.12", "allows none of 3.10, 3.11, 3.12, 3.13", id="too-old"),
    ],
)
def test_python_is_the_newest_that_requires_python_allows(
    tmp_path: Path, requires_python: str | None, python: str, said: str
) -> None:
    spec = f'requires-python = "{requires_python}"\n' if requires_python else ""
    root = make_project(tmp_path / "p", files={"pyproject.toml": f'[project]\nname = "v"\n{spec}'})

    text = propose(root)

    assert table(text)["python"] == python
    _, facts = load_project(root)
    assert python == config.default_python(facts)
    assert said in comments(text)


def test_init_proposes_what_a_run_without_the_table_installs(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        files={
            "pyproject.toml": """\
                [project]
                name = "names"
                version = "1"

                [project.optional-dependencies]
                Test = ["pytest"]
                docs = ["sphinx"]
                testing = ["hypothesis"]
                dev = ["coverage"]
                cli = ["click"]

                [dependency-groups]
                lint = ["ruff"]
                tests = ["pytest-xdist"]
                Dev = [{ include-group = "tests" }]
            """,
        },
    )
    unconfigured = load_config(root)
    text = propose(root)
    init(root)

    cfg = load_config(root)

    # one candidate, as the run picks it: a "tests" group before the extras, dev names last
    assert cfg.groups == unconfigured.groups == ("tests",)
    assert cfg.extras == unconfigured.extras == ()
    said = comments(text)
    assert "names none: [dependency-groups] tests." in said
    assert (
        "Not used: [project.optional-dependencies] Test, [project.optional-dependencies] "
        "testing, [dependency-groups] Dev, [project.optional-dependencies] dev." in said
    )


def test_a_requirement_file_named_for_tests_is_proposed(tmp_path: Path) -> None:
    names = [
        "requirements.txt",
        "requirements-test.txt",
        "requirements_dev.txt",
        "requirements-docs.txt",
        "requirements/base.txt",
    ]
    root = make_project(tmp_path / "p", files={name: "six\n" for name in names})
    (root / "pyproject.toml").write_text('[project]\nname = "r"\nversion = "1"\n')
    unconfigured = load_config(root)
    init(root)

    cfg = load_config(root)

    assert cfg.requirements == unconfigured.requirements == ("requirements-test.txt",)
    said = comments((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "Not used: requirements_dev.txt." in said


def test_no_test_dependencies_is_said(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", files={"requirements.txt": "six\n"})

    text = propose(root)

    assert "requirements" not in table(text)
    assert "No test dependencies declared" in comments(text)


TOX_INI = """\
    [tox]
    env_list = py311

    [testenv]
    extras = docs
    deps =
        pytest>=7  # the runner
        # a comment line
        -r requirements-test.txt
        -e .
        .
        {[base]deps}
        py311: tomli
        py39: importlib-metadata
        hypothesis[numpy]>=6 ; python_version < "3.14"
        Coverage[toml]
    commands =
        python -c "import sys; sys.exit(1)"
        pytest {posargs} {env:PYTEST_ADDOPTS}

    [testenv:lint]
    deps = ruff
"""


def test_tox_deps_are_what_init_proposes_and_nothing_is_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_project(
        tmp_path / "p",
        files={
            "tox.ini": TOX_INI,
            "requirements-test.txt": "six\n",
            "pyproject.toml": """\
                [project]
                name = "toxed"
                version = "1"
                requires-python = ">=3.11,<3.12"
                [project.optional-dependencies]
                test = ["coverage>=7"]
                docs = ["sphinx"]
            """,
        },
    )

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"devbox init ran something: {args}")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(os, "system", forbidden)
    text = propose(root)
    monkeypatch.undo()
    unconfigured = load_config(root)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text(encoding="utf-8") + "\n" + text, encoding="utf-8"
    )

    cfg = load_config(root)

    # the py311 env of env_list: its factor-conditional line applies, py39's does not
    assert (
        cfg.packages
        == unconfigured.packages
        == (
            "pytest>=7",
            "tomli",
            'hypothesis[numpy]>=6 ; python_version < "3.14"',
            "Coverage[toml]",
        )
    )
    assert cfg.extras == unconfigured.extras == ("docs",)
    assert cfg.requirements == unconfigured.requirements == ("requirements-test.txt",)
    said = comments(text)
    assert "tox.ini [testenv] extras docs" in said
    assert "Not used: [project.optional-dependencies] test." in said
    assert "not carried over: py39: importlib-metadata, -e ., ., {[base]deps}" in said


def test_a_broken_tox_ini_is_skipped_with_a_note(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", files={"tox.ini": "deps = pytest\n[testenv\n"})

    text = propose(root)

    assert "packages" not in table(text)
    assert "tox.ini could not be read" in comments(text)


def test_uv_lock_is_noticed(tmp_path: Path) -> None:
    root = copy_fixture("init_src", tmp_path, fresh=False)
    assert "No uv.lock" in comments(propose(root))

    (root / "uv.lock").write_text("version = 1\n", encoding="utf-8")

    assert "uv.lock is present" in comments(propose(root))


def test_mypy_files_setting_gets_a_plain_mypy_command(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p", files={"pyproject.toml": '[tool.mypy]\nfiles = ["src"]\nstrict = true\n'}
    )
    init(root)

    cfg = load_config(root)

    assert cfg.lint == ("mypy",)
    assert cfg.tools["mypy"].command == ("mypy",)
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.devbox.tools.mypy]\n# [tool.mypy] sets files" in text
    assert_every_key_is_explained(text[text.index("[tool.devbox]") :])


def test_odd_project_text_is_kept_out_of_comment_syntax(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        files={
            "pyproject.toml": '[project]\nname = "odd"\nrequires-python = ">=3.11\\n# \\u0007"\n'
        },
    )
    init(root)

    cfg = load_config(root)

    assert cfg.python == ("3.13",)
    assert "\x07" not in (root / "pyproject.toml").read_text(encoding="utf-8")


def test_a_project_with_extensions_gets_a_compiler_proposed(tmp_path: Path) -> None:
    setup_py = (
        "from setuptools import Extension, setup\nsetup(ext_modules=[Extension('p._c', ['c.c'])])\n"
    )
    root = make_project(tmp_path / "p", files={"setup.py": setup_py})
    init(root)
    assert load_config(root).system_packages == ("gcc", "libc6-dev", "python3-dev")
    assert "builds native extensions" in comments(
        (root / "pyproject.toml").read_text(encoding="utf-8")
    )
    plain = make_project(tmp_path / "q", files={})
    init(plain)
    assert load_config(plain).system_packages == ()
