"""Host files against the real engine: what the project's own files name must stay inside it.

A cloned repository decides what its pyproject.toml, requirement files and uv.lock say; none of
it may hand a file from outside the project (``~/.ssh/id_rsa``) to the build, where its own
code runs. Each project here puts a marker in a file beside it (outside the project) and
names that file through ``../`` or a symlink: devbox must stop with a configuration error
(exit 2) before any build, and the marker must appear nowhere. What the user sets in the
environment may still point outside.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture, make_project

pytestmark = pytest.mark.engine

HOST_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def marker() -> str:
    """A distribution name no index has, unique per test: it shows where the file went."""
    return f"devbox-leak-{uuid.uuid4().hex[:12]}"


def project(tmp_path: Path, devbox_table: str, files: dict[str, str] | None = None) -> Path:
    """A small project under ``tmp_path`` (fresh content: no cached step can replay), with a
    tool ``peek`` that prints the CA secret and fails (so its output is shown)."""
    return make_project(
        tmp_path / "proj",
        '[project]\nname = "hostfiles"\nversion = "1"\n[tool.devbox]\npython = "3.11"\n'
        'lint = ["peek"]\ntest = []\ninstaller = "pip"\n'
        + devbox_table
        + "[tool.devbox.tools.peek]\n"
        'command = ["sh", "-c", "cat /run/secrets/devbox-ca 2>/dev/null | head -n 1; exit 1"]\n',
        {"run-id.txt": uuid.uuid4().hex + "\n", **(files or {})},
    )


def assert_rejected(run: Any, secret: str, *words: str) -> None:
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert secret not in out, out
    for word in words:
        assert word in run.stderr, run.stderr


def test_an_include_outside_the_project_is_a_config_error(devbox: Any, tmp_path: Path) -> None:
    secret = marker()
    (tmp_path / "outside.txt").write_text(secret + "\n")
    root = project(
        tmp_path,
        'requirements = ["requirements.txt"]\n',
        {"requirements.txt": "# tests\n-r ../outside.txt\n"},
    )
    run = devbox("lint", cwd=root)
    assert_rejected(run, secret, "requirements.txt line 2", "'-r ../outside.txt'", "outside")


def test_a_requirement_file_symlinked_outside_is_a_config_error(
    devbox: Any, tmp_path: Path
) -> None:
    secret = marker()
    (tmp_path / "outside.txt").write_text(secret + "\n")
    root = project(tmp_path, 'requirements = ["requirements.txt"]\n')
    (root / "requirements.txt").symlink_to(tmp_path / "outside.txt")
    run = devbox("lint", cwd=root)
    assert_rejected(run, secret, "'requirements'", "outside")


def test_an_include_through_a_symlinked_directory_is_a_config_error(
    devbox: Any, tmp_path: Path
) -> None:
    secret = marker()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "base.txt").write_text(secret + "\n")
    root = project(
        tmp_path,
        'requirements = ["requirements.txt"]\n',
        {"requirements.txt": "-r shared/base.txt\n"},
    )
    (root / "shared").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    run = devbox("lint", cwd=root)
    assert_rejected(run, secret, "requirements.txt line 1", "outside")


def _bundle_with(secret: str, path: Path) -> None:
    """A working CA bundle (the host's) whose first line is the marker."""
    if not HOST_BUNDLE.is_file():
        pytest.skip("no host CA bundle")
    path.write_text(f"# {secret}\n" + HOST_BUNDLE.read_text())


@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_a_ca_bundle_outside_the_project_is_a_config_error(
    devbox: Any, tmp_path: Path, how: str
) -> None:
    secret = marker()
    _bundle_with(secret, tmp_path / "x.pem")
    if how == "dotdot":
        root = project(tmp_path, 'ca-bundle = "../x.pem"\n')
    else:
        root = project(tmp_path, 'ca-bundle = "certs/corp.pem"\n', {"certs/": ""})
        (root / "certs" / "corp.pem").symlink_to(tmp_path / "x.pem")
    run = devbox("lint", cwd=root)
    assert_rejected(run, secret, "'ca-bundle'", "outside", "DEVBOX_CA_BUNDLE")


def test_a_uv_lock_symlinked_outside_is_a_config_error(devbox: Any, tmp_path: Path) -> None:
    secret = marker()
    root = copy_fixture("uvlock", tmp_path)
    outside = tmp_path / "outside.lock"
    outside.write_text(f"{secret}\n" + (root / "uv.lock").read_text())  # not TOML: uv quotes it
    (root / "uv.lock").unlink()
    (root / "uv.lock").symlink_to(outside)
    run = devbox("test", cwd=root)
    assert_rejected(run, secret, "uv.lock", "outside")


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("[project]\ndependencies = [{req}]", "[project] dependencies"),
        (
            "[project.optional-dependencies]\nextra = [{req}]",
            "[project.optional-dependencies] extra",
        ),
        ("[dependency-groups]\ndev = [{req}]", "[dependency-groups] dev"),
    ],
)
def test_an_index_option_among_project_dependencies_is_a_config_error(
    devbox: Any, tmp_path: Path, table: str, key: str
) -> None:
    # Written raw into requirements.txt, this line made every install use a dead index.
    req = json.dumps("--index-url=http://127.0.0.1:9/simple")
    root = make_project(
        tmp_path / "proj",
        '[project]\nname = "hostfiles"\nversion = "1"\n'
        + ("dependencies = [" + req + "]\n" if key.startswith("[project] ") else "")
        + ("" if key.startswith("[project] ") else table.format(req=req) + "\n")
        + '[tool.devbox]\npython = "3.11"\nlint = []\ntest = ["pytest"]\n'
        + ('extras = ["extra"]\n' if "optional" in key else "")
        + ('groups = ["dev"]\n' if "groups" in key else ""),
        {"run-id.txt": uuid.uuid4().hex + "\n", "tests/test_a.py": "def test_a():\n    pass\n"},
    )
    run = devbox("test", cwd=root)
    assert run.returncode == 2, run.stdout + run.stderr
    assert key in run.stderr and "is not a PEP 508 requirement" in run.stderr, run.stderr
    assert "--index-url=http://127.0.0.1:9/simple" in run.stderr


def test_settings_from_the_environment_may_still_point_outside(devbox: Any, tmp_path: Path) -> None:
    secret = marker()
    _bundle_with(secret, tmp_path / "x.pem")
    (tmp_path / "outside.txt").write_text("iniconfig\n")
    root = project(
        tmp_path,
        '[tool.devbox.tools.imports]\ncommand = ["python", "-c", "import iniconfig"]\n',
    )
    (root / "reqs.txt").symlink_to(tmp_path / "outside.txt")
    env = {
        "DEVBOX_CA_BUNDLE": str(tmp_path / "x.pem"),
        "DEVBOX_REQUIREMENTS": "reqs.txt",
        "DEVBOX_LINT": "peek,imports",
    }
    run = devbox("lint", cwd=root, env=env)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert run.tool("imports")["exit_code"] == 0, out  # the outside requirement file installed
    assert run.tool("peek")["exit_code"] == 1 and f"# {secret}" in out  # the bundle reached it
