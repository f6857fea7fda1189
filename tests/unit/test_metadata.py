"""The project under test in the image (issue 13): its full core metadata, made on the host from
``[project]`` with pyproject-metadata and written verbatim by the installer, and no wheel of
the project's own name left beside its source."""

from __future__ import annotations

import email.parser
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES
from devbox._container import install
from devbox.build.dockerfile import render
from devbox.build.plan import core_metadata
from helpers import load_project, make_project, plan_for

PROJECT = """\
[project]
name = "Meta.Pkg"
version = "2.0.1"
description = "One line."
readme = "README.md"
requires-python = ">=3.9"
license = { text = "BSD-3-Clause" }
dependencies = ["attrs>=22", "tomli; python_version < '3.11'"]
urls = { Source = "https://example.org/src" }

[project.optional-dependencies]
Fast_Mode = ["ujson"]

[project.entry-points."meta.plugins"]
one = "meta:One"
"""


def headers(text: str) -> Any:
    return email.parser.Parser().parsestr(text)


def spec_of(root: Path, **env: str) -> dict[str, Any]:
    return plan_for(root, "test", env=env, virtualenvs=[]).install_spec()


def test_the_core_metadata_comes_from_the_project_table(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", PROJECT, {"README.md": "# Meta\n"})
    spec = spec_of(root)
    assert spec["metadata_note"] is None
    meta = headers(spec["metadata"])
    assert (meta["Name"], meta["Version"]) == ("Meta.Pkg", "2.0.1")
    assert meta["Summary"] == "One line."
    assert meta["Requires-Python"] == ">=3.9"
    assert meta["License"] == "BSD-3-Clause"
    assert meta.get_all("Project-URL") == ["Source, https://example.org/src"]
    assert meta.get_all("Provides-Extra") == ["fast-mode"]
    assert meta.get_all("Requires-Dist") == [
        "attrs>=22",
        'tomli; python_version < "3.11"',
        'ujson; extra == "fast-mode"',
    ]
    # entry points are entry_points.txt's, as today
    assert spec["entry_points"] == {"meta.plugins": {"one": "meta:One"}}


def test_the_fixture_the_engine_test_reads_has_its_metadata() -> None:
    meta = headers(spec_of(FIXTURES / "fullmeta")["metadata"])
    assert meta["Summary"] == "A project whose tests read its own metadata."
    assert meta["Author-Email"] == "Ada Lovelace <ada@example.org>"


def test_the_readme_is_left_out_so_editing_it_reinstalls_nothing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", PROJECT, {"README.md": "# Meta\n"})
    before = render(plan_for(root, "test", virtualenvs=[])).context["install/install.json"]
    (root / "README.md").write_text("# Meta, rewritten\n\nLong text.\n")
    after = render(plan_for(root, "test", virtualenvs=[])).context["install/install.json"]
    assert after == before
    meta = headers(json.loads(after)["metadata"])
    assert meta["Description-Content-Type"] is None and meta.get_payload() == ""


def test_a_dynamic_version_is_the_version_devbox_knows(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        '[project]\nname = "dyn"\ndynamic = ["version"]\ndescription = "d"\n',
        {"PKG-INFO": "Metadata-Version: 2.1\nName: dyn\nVersion: 3.1.4\n"},
    )
    spec = spec_of(root)
    assert spec["project_install"] == "metadata"
    meta = headers(spec["metadata"])
    assert (meta["Version"], meta["Summary"]) == ("3.1.4", "d")
    assert spec["metadata_note"] is None


@pytest.mark.parametrize(
    "bad",
    [
        'license = { file = "MISSING-LICENSE" }',  # a file that is not there
        'description = "d"\ndynamic = ["description"]',  # static and dynamic at once
        "urls = { Source = 5 }",  # not a string
    ],
)
def test_a_table_pyproject_metadata_rejects_falls_back_to_name_and_version(
    tmp_path: Path, bad: str
) -> None:
    root = make_project(tmp_path / "p", f'[project]\nname = "bad"\nversion = "1.0"\n{bad}\n')
    _, facts = load_project(root)
    text, note = core_metadata(facts)
    assert text == "Metadata-Version: 2.1\nName: bad\nVersion: 1.0\n"
    assert note is not None and "\n" not in note
    assert note.startswith("the project's METADATA has only Name and Version")


def test_an_editable_project_gets_no_metadata_from_devbox(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", '[project]\nname = "e"\ndynamic = ["version"]\n')
    spec = spec_of(root)
    assert spec["project_install"] == "editable"
    assert (spec["metadata"], spec["metadata_note"]) == (None, None)


# --- the installer's side -----------------------------------------------------------------


def test_the_installer_writes_the_metadata_verbatim_and_says_the_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Metadata-Version: 2.1\nName: Meta.Pkg\nVersion: 2.0.1\nSummary: Ünïcode\n\n"
    spec = {
        "name": "Meta.Pkg",
        "version": "2.0.1",
        "metadata": text,
        "metadata_note": "a note",
        "entry_points": {"meta.plugins": {"one": "meta:One"}},
    }
    install.write_metadata(spec, str(tmp_path))
    dist = tmp_path / "Meta.Pkg-2.0.1.dist-info"
    assert (dist / "METADATA").read_text(encoding="utf-8") == text
    assert (dist / "entry_points.txt").read_text() == "[meta.plugins]\none = meta:One\n\n"
    assert capsys.readouterr().out == "devbox-install: a note\n"


@pytest.mark.parametrize(
    ("installer", "command"),
    [
        ("uv", [install.UV_VENV + "/bin/uv", "pip", "uninstall", "--python"]),
        ("pip", [install.VENV + "/bin/python", "-m", "pip", "uninstall", "--yes"]),
    ],
)
def test_a_wheel_of_the_projects_own_name_is_uninstalled(
    monkeypatch: pytest.MonkeyPatch, installer: str, command: list[str]
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(install, "installed_names", lambda: ["pytest", "Meta_Pkg", "attrs"])
    monkeypatch.setattr(install, "run", lambda cmd, **kw: ran.append(cmd))
    install.remove_project_wheel("meta.pkg", installer)
    assert len(ran) == 1
    assert ran[0][: len(command)] == command and ran[0][-1] == "Meta_Pkg"


def test_nothing_is_uninstalled_when_no_dependency_pulled_the_project_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(install, "installed_names", lambda: ["pytest", "meta-pkg-extra"])
    monkeypatch.setattr(install, "run", lambda cmd, **kw: ran.append(cmd))
    install.remove_project_wheel("meta.pkg", "uv")
    assert ran == []
