"""Property-based: arbitrary strings in every key that reaches the Dockerfile or a shell.

Each generated configuration is either rejected with a ConfigError that names the key, or
rendered into a Dockerfile that BuildKit's own parser reads as exactly the instructions devbox
intends: no value can add an instruction, a mount, a flag or a shell command. The number of
cases run is printed at the end of the session (pytest -s) and recorded in the closing note.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import dockerfile as buildkit_parser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devbox.build.dockerfile import render
from devbox.build.plan import make_plan
from devbox.errors import ConfigError
from helpers import load_project, make_project

CASES: Counter[str] = Counter()

# Strings built to break things: line breaks, quotes, $, backslashes, #, heredoc markers,
# flags, unicode, and very long values.
_PIECES = [
    *"\n\r\"'$\\#`; &|<>{}[]=,-:@/. \t\u2028\u00e9\U0001f600",
    "<<EOF",
    "RUN ",
    "--mount=",
    "\nFROM x",
    "a",
    "3.1",
]
NASTY = st.one_of(
    st.text(min_size=0, max_size=40),
    st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
    st.text(min_size=200, max_size=2000),
    st.sampled_from(["python:{python}-slim", "3.12", "ruff", "requirements.txt", "x\nRUN id", "a --mount=type=bind,target=/", "$(id)", "${HOME}"]),
)  # fmt: skip

KEYS_AS_STRINGS = [
    "python",
    "base-image",
    "installer",
    "base-ref",
    "builder",
    "index-url",
    "pretend-version",
]
KEYS_AS_LISTS = [
    "python-candidates",
    "extras",
    "groups",
    "requirements",
    "packages",
    "lint",
    "test",
    "exclude",
    "extra-index-url",
    "secret-env",
    "cache-from",
    "cache-to",
    "system-packages",
]


def project(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    root = make_project(tmp_path / "proj", files={"requirements.txt": "attrs\n"})
    pyproject = {
        "project": {"name": "p", "version": "1", "optional-dependencies": {"test": ["x"]}},
        "dependency-groups": {"dev": ["y"]},
    }
    return root, pyproject


def check(table: dict[str, Any], root: Path, pyproject: dict[str, Any], key: str) -> None:
    data = {**pyproject, "tool": {"devbox": table}}
    try:
        cfg, facts = load_project(root, data)
    except ConfigError as exc:
        assert repr(key) in exc.message or key in exc.message, (key, exc.message)
        CASES["rejected"] += 1
        return
    plan = make_plan(cfg, facts, "check", virtualenvs=[])
    out = render(plan)
    commands = buildkit_parser.parse_string(out.dockerfile)
    envs, tools = plan.environments, plan.tools
    # exactly the intended instructions, in order
    expected = ["ARG"] * len(envs)
    system = ["RUN"] if plan.system_packages else []
    for _ in envs:
        expected += ["FROM", "ENV", "WORKDIR", *system, "RUN", "ARG", "RUN", "FROM"]
    for _ in tools:
        expected += ["FROM", "ARG", "RUN"]
    expected += ["FROM"] + ["COPY"] * len(envs)
    expected += ["FROM"] + ["COPY"] * (len(envs) + len(tools))
    assert [c.cmd for c in commands] == expected
    assert [c.value[0] for c in commands if c.cmd == "FROM"] == [
        *(
            f
            for e in envs
            for f in (e.image, f"${{build_base_image_{e.python.replace('.', '_')}}}")
        ),
        *(f"deps-{t.python}" for t in tools),
        "scratch",
        "scratch",
    ]
    secrets = {
        f"--mount=type=secret,id={s},target=/run/secrets/{s}"
        for s in ("devbox-ca", "devbox-index", "devbox-env")
    }
    for c in commands:
        if c.cmd == "RUN":
            assert all(
                f.startswith(("--mount=type=bind,", "--mount=type=cache,"))
                or f in secrets
                or (f == "--network=none" and not plan.tool_network)
                for f in c.flags
            )
            assert c.value[0].startswith(
                ("python3 /devbox/", "/opt/devbox/venv/bin/python /devbox/run.py ")
            )
            assert len(c.value) == 1 and not c.heredocs
    # configured strings travel as data: they come back out of the JSON intact
    assert out.context["install/system-packages.txt"].splitlines() == list(plan.system_packages)
    for t in tools:
        spec = json.loads(out.context[f"tools/{t.name}.json"])
        assert spec["command"] == list(t.command)
    CASES["rendered"] += 1


@pytest.mark.parametrize("key", KEYS_AS_STRINGS)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=NASTY)
def test_any_string_value(tmp_path: Path, key: str, value: str) -> None:
    root, pyproject = project(tmp_path)
    check({key: value}, root, pyproject, key)


@pytest.mark.parametrize("key", KEYS_AS_LISTS)
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(NASTY, max_size=4))
def test_any_list_of_strings(tmp_path: Path, key: str, values: list[str]) -> None:
    root, pyproject = project(tmp_path)
    check({key: values}, root, pyproject, key)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=NASTY,
    command=st.lists(NASTY, min_size=1, max_size=4),
    env=st.dictionaries(NASTY, NASTY, max_size=3),
    packages=st.lists(NASTY, max_size=3),
)
def test_any_tool_definition(
    tmp_path: Path, name: str, command: list[str], env: dict[str, str], packages: list[str]
) -> None:
    root, pyproject = project(tmp_path)
    table = {
        "tools": {name: {"command": command, "env": env, "packages": packages}},
        "lint": [name],
        "test": [],
    }
    check(table, root, pyproject, "tools")


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.from_regex(r"\A[a-z0-9][a-z0-9_.-]{0,20}\Z"),
    command=st.lists(NASTY.filter(lambda v: v != "" and "\0" not in v), min_size=1, max_size=4),
    env=st.dictionaries(
        st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z"),
        NASTY.filter(lambda v: "\0" not in v),
        max_size=3,
    ),
    packages=st.lists(
        NASTY.filter(
            lambda v: v.strip() == v and v and not v.startswith("-") and not set(v) & set("\n\r\0")
        ),
        max_size=3,
    ),
    python=st.lists(
        st.sampled_from(["3.10", "3.11", "3.12", "3.13"]), min_size=1, max_size=3, unique=True
    ),
)
def test_accepted_tool_values_never_reach_the_dockerfile(
    tmp_path: Path,
    name: str,
    command: list[str],
    env: dict[str, str],
    packages: list[str],
    python: list[str],
) -> None:
    """Valid names, hostile contents: every one of these must render and parse as intended."""
    root, pyproject = project(tmp_path)
    table = {"python": python, "tools": {name: {"command": command, "env": env, "packages": packages, "per-python": True}},
             "lint": [name], "test": ["pytest"]}  # fmt: skip
    before = CASES["rendered"]
    check(table, root, pyproject, "tools")
    assert CASES["rendered"] == before + 1, "a valid tool definition was rejected"


def test_zz_report_case_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this file: how many generated configurations were checked."""
    total = CASES["rendered"] + CASES["rejected"]
    with capsys.disabled():
        print(
            f"\nproperty cases: {total} ({CASES['rendered']} rendered and parsed, {CASES['rejected']} rejected naming the key)"
        )
    assert total >= 1900
    assert CASES["rendered"] > 400 and CASES["rejected"] > 400
