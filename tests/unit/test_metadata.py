"""The project under test in the image (issue 13): no wheel of the project's own name left
beside its source."""

from __future__ import annotations

import pytest

from devbox._container import install


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
