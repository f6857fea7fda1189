"""A project that builds native code with no system-packages set: the host plans the system
step with NATIVE_AUTO, and the install step installs only what the image lacks."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devbox._container import install
from devbox.build.contract import NATIVE_AUTO
from devbox.build.dockerfile import render
from helpers import copy_fixture, make_project, plan_for

SYSTEM_STEP = "python3 /devbox/devbox_install.py system"


def cext(tmp_path: Path, line: str | None) -> Path:
    """The cext fixture with its system-packages line replaced by ``line`` (None: removed)."""
    project = copy_fixture("cext", tmp_path, fresh=False)
    pyproject = project / "pyproject.toml"
    text = re.sub(r"(?m)^system-packages.*\n", "" if line is None else line + "\n",
                  pyproject.read_text())  # fmt: skip
    pyproject.write_text(text)
    return Path(project)


def test_native_code_without_system_packages_installs_what_the_image_lacks(
    tmp_path: Path,
) -> None:
    plan = plan_for(cext(tmp_path, None), "test", virtualenvs=[])
    assert plan.system_packages == (NATIVE_AUTO,)
    assert plan.native_note is not None and "system-packages not set" in plan.native_note
    rendered = render(plan)
    assert SYSTEM_STEP in rendered.dockerfile
    assert rendered.context["install/system-packages.txt"] == NATIVE_AUTO + "\n"


@pytest.mark.parametrize(
    ("line", "env"),
    [
        ("system-packages = []", {}),
        (None, {"DEVBOX_SYSTEM_PACKAGES": ""}),
        ("system-packages = []", {"DEVBOX_SYSTEM_PACKAGES": ""}),
    ],
)
def test_system_packages_set_empty_turns_it_off(
    tmp_path: Path, line: str | None, env: dict[str, str]
) -> None:
    plan = plan_for(cext(tmp_path, line), "test", env=env, virtualenvs=[])
    assert plan.system_packages == () and plan.native_note is None
    assert SYSTEM_STEP not in render(plan).dockerfile


@pytest.mark.parametrize(
    ("line", "env", "expected"),
    [
        ('system-packages = ["gcc"]', {}, ("gcc",)),
        (None, {"DEVBOX_SYSTEM_PACKAGES": "jq"}, ("jq",)),
        ('system-packages = ["gcc"]', {"DEVBOX_SYSTEM_PACKAGES": "clang"}, ("clang",)),
    ],
)
def test_configured_system_packages_are_used_as_given(
    tmp_path: Path, line: str | None, env: dict[str, str], expected: tuple[str, ...]
) -> None:
    plan = plan_for(cext(tmp_path, line), "test", env=env, virtualenvs=[])
    assert plan.system_packages == expected and plan.native_note is None


def test_a_project_without_native_code_gets_no_system_step(tmp_path: Path) -> None:
    root = make_project(tmp_path, '[project]\nname = "p"\nversion = "1"\n')
    plan = plan_for(root, "test", virtualenvs=[])
    assert plan.system_packages == () and plan.native_note is None
    assert SYSTEM_STEP not in render(plan).dockerfile


# -- the install step ------------------------------------------------------------------------


@pytest.fixture
def image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, object]:
    """A stand-in image: what is on PATH, where Python's headers are, whether apt-get is
    there; the commands the step would run are recorded, not run."""
    state: dict[str, object] = {
        "path": set(),
        "include": str(tmp_path / "usr/include/python3.11"),
        "apt": True,
        "ran": [],
    }
    real_exists = os.path.exists

    def exists(path: str) -> bool:
        if path == "/usr/bin/apt-get":
            return bool(state["apt"])
        if path.startswith("/etc/apt"):
            return False
        return bool(real_exists(path))

    def which(name: str) -> str | None:
        return "/usr/bin/" + name if name in state["path"] else None  # type: ignore[operator]

    import shutil
    import sysconfig

    monkeypatch.setattr(os.path, "exists", exists)
    monkeypatch.setattr(shutil, "which", which)
    monkeypatch.setattr(sysconfig, "get_paths", lambda: {"include": state["include"]})
    monkeypatch.setattr(install, "run", lambda cmd, **kw: state["ran"].append(cmd))  # type: ignore[attr-defined]
    monkeypatch.setattr(install, "APT_KEEP", str(tmp_path / "apt-keep"))
    spec = tmp_path / "system-packages.txt"
    spec.write_text(NATIVE_AUTO + "\n")
    monkeypatch.setattr(install, "SYSTEM_PACKAGES", str(spec))
    return state


def headers(state: dict[str, object]) -> None:
    include = Path(str(state["include"]))
    include.mkdir(parents=True)
    (include / "Python.h").write_text("")


def test_a_bare_debian_image_gets_a_compiler_and_the_headers(
    image: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    # Debian's python3: headers under /usr/include; stand in for it with a tmp path
    image["include"] = "/usr/include/python3.11-devbox-test-absent"
    install.system()
    assert image["ran"][-2][-3:] == ["gcc", "libc6-dev", "python3-dev"]  # type: ignore[index]
    # then ccache, on its own: the install of the compiler stands without it
    assert image["ran"][-1][-1:] == ["ccache"]  # type: ignore[index]
    out = capsys.readouterr().out
    assert "native code: installing gcc, libc6-dev, python3-dev (system-packages not set)" in out


def test_a_slim_image_gets_only_the_compiler(
    image: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    headers(image)  # python:X-slim: /usr/local/include/python3.X/Python.h is there
    install.system()
    assert image["ran"][-2][-2:] == ["gcc", "libc6-dev"]  # type: ignore[index]
    assert "installing gcc, libc6-dev (system-packages not set)" in capsys.readouterr().out


@pytest.mark.parametrize("compiler", ["cc", "gcc"])
def test_an_image_with_a_compiler_and_headers_gets_nothing(
    image: dict[str, object], capsys: pytest.CaptureFixture[str], compiler: str
) -> None:
    headers(image)
    image["path"] = {compiler}
    install.system()
    assert image["ran"] == []
    assert "has a compiler and Python's headers" in capsys.readouterr().out


def test_without_apt_get_auto_mode_notes_and_goes_on(
    image: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    headers(image)
    image["apt"] = False
    install.system()  # no SystemExit: the build then fails in the tool step, with the hint
    assert image["ran"] == []
    out = capsys.readouterr().out
    assert "not installing gcc, libc6-dev: the image has no apt-get" in out
    assert len(out.strip().splitlines()) == 1


def test_without_apt_get_configured_packages_still_stop_the_install(
    image: dict[str, object], tmp_path: Path
) -> None:
    (tmp_path / "system-packages.txt").write_text("gcc\n")
    image["apt"] = False
    with pytest.raises(SystemExit):
        install.system()


def test_auto_mode_goes_on_when_apt_get_fails(
    image: dict[str, object], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --offline with nothing in apt's cache mounts: unasked packages must not fail the install
    headers(image)

    def failing(cmd: list[str], **kw: object) -> None:
        raise SystemExit(100)

    monkeypatch.setattr(install, "run", failing)  # type: ignore[attr-defined]
    install.system()
    assert "native code: could not install gcc, libc6-dev" in capsys.readouterr().out


def test_configured_packages_still_fail_when_apt_get_fails(
    image: dict[str, object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "system-packages.txt").write_text("gcc\n")

    def failing(cmd: list[str], **kw: object) -> None:
        raise SystemExit(100)

    monkeypatch.setattr(install, "run", failing)  # type: ignore[attr-defined]
    with pytest.raises(SystemExit):
        install.system()
