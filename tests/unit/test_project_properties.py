"""Property-based: hostile strings among the project's own requirements (``[project]``
dependencies, optional-dependencies, dependency-groups).

Each generated string, put in one of those places, is either rejected with a ConfigError that
names the place (``[project.optional-dependencies] test``), or it is a PEP 508 requirement and
reaches the rendered install inputs as exactly one line of requirements.txt, itself: no new
line, no option (``--index-url``, ``-r``, ``-e``), nothing else changed. The number of cases
is printed at the end of the session (pytest -s).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from devbox.build.dockerfile import render
from devbox.build.plan import make_plan
from devbox.config.project import requirement_problem
from devbox.errors import ConfigError
from helpers import load_project, make_project

CASES: Counter[str] = Counter()

SETTINGS = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: where the string goes → the key a rejection must name
PLACES = {
    "dependencies": "[project] dependencies",
    "extra": "[project.optional-dependencies] test",
    "group": "[dependency-groups] dev",
}

#: installer options and includes: never a line of their own
OPTIONS = [
    "--index-url=", "--index-url ", "--extra-index-url=", "--trusted-host ", "-r ", "-c ",
    "-e ", "--requirement=", "--no-index", "-i ",
]  # fmt: skip

#: pieces of requirements and of what must never become one: options, includes, URLs,
#: separators of lines and of pip's own syntax (comments, continuations, ${VARIABLES})
PIECES = [
    "attrs", "x", "Req_2.a", ">=1", "==2.0", "<3", ",", "[socks]", "[", "]", " ", "\t", ";",
    " ; ", "python_version < '3.11'", "os_name == '", "'", '"', " @ ", "@",
    "https://evil.example/x.whl", "file:///etc/passwd", "http://127.0.0.1:9/simple", "./dir",
    "#sha256=ab", " #", "#", "\\", "${HOME}",
    *OPTIONS, "-", "--", "../outside.txt", "/home/u/.ssh/id_rsa",
    "\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\x7f",
]  # fmt: skip

#: valid requirements of several shapes, which the mutations below break in small ways
SEEDS = [
    "attrs",
    "requests[socks]>=2,<3",
    "tomli>=2; python_version < '3.11'",
    "x @ https://host.example/x-1.0-py3-none-any.whl#sha256=ab",
    "x @ file:///srv/wheels/x-1.0.tar.gz",
    "Django >= 4.2 ; os_name == 'posix'",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid seed with a few pieces inserted or characters replaced."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(PIECES))
        text = text[:at] + piece + text[at + draw(st.integers(0, 1)) :]
    return text


#: PEP 508 by construction, with hostile text where PEP 508 allows any: in marker strings
BUILT = st.builds(
    lambda name, rest, text: f"{name}{rest}; os_name == '{text}'" if text is not None
    else f"{name}{rest}",
    st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,10}[A-Za-z0-9]", fullmatch=True),
    st.sampled_from(["", ">=1", "[a,b]==2.*", " @ https://h.example/x.whl", " (<3)"]),
    st.none() | st.lists(st.sampled_from(PIECES), max_size=4).map("".join).map(
        lambda t: t.replace("'", "")
    ),
)  # fmt: skip

HOSTILE = st.one_of(
    BUILT,
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join),
    mutated(),
    st.sampled_from(SEEDS),
    st.text(max_size=30),
    st.builds(lambda opt, arg: opt + arg, st.sampled_from(OPTIONS), st.text(max_size=20)),
)


def pyproject_with(place: str, value: str) -> dict[str, Any]:
    """A project whose dependencies, extra ``test`` and group ``dev`` (which includes group
    ``base``) are all installed; ``value`` goes into ``place``."""
    project: dict[str, Any] = {
        "name": "devbox-fuzz-project",
        "version": "1",
        "dependencies": ["six"],
        "optional-dependencies": {"test": ["iniconfig"]},
    }
    groups: dict[str, Any] = {"base": ["toml"], "dev": [{"include-group": "base"}, "tomli"]}
    if place == "dependencies":
        project["dependencies"].append(value)
    elif place == "extra":
        project["optional-dependencies"]["test"].append(value)
    else:
        groups["dev"].append(value)
    return {
        "project": project,
        "dependency-groups": groups,
        "tool": {"devbox": {"extras": ["test"], "groups": ["dev"], "lint": [], "test": ["pytest"]}},
    }


def requirement_lines(root: Path, pyproject: dict[str, Any]) -> list[str]:
    """The lines of requirements.txt as rendered for the build (devbox's own context)."""
    cfg, facts = load_project(root, pyproject)
    out = render(make_plan(cfg, facts, "check", virtualenvs=[]))
    text = out.context["install/requirements.txt"]
    lines = text.splitlines()  # every line break Python knows, not only "\n"
    assert text == "".join(line + "\n" for line in lines)
    return lines


@pytest.mark.parametrize("place", list(PLACES))
@SETTINGS
@given(value=HOSTILE)
def test_a_project_requirement_is_one_line_or_rejected_naming_its_key(
    tmp_path: Path, place: str, value: str
) -> None:
    root = make_project(tmp_path / "proj")
    baseline = requirement_lines(root, pyproject_with(place, "six"))
    try:
        lines = requirement_lines(root, pyproject_with(place, value))
    except ConfigError as exc:
        assert exc.message.startswith(f"{root / 'pyproject.toml'}: {PLACES[place]}: {value!r} ")
        assert "is not a PEP 508 requirement" in exc.message
        assert requirement_problem(value) is not None
        CASES["rejected"] += 1
        return
    # Accepted: a PEP 508 requirement, and in the file only as itself, on one line.
    assert requirement_problem(value) is None
    Requirement(value)
    assert value in lines
    assert [line for line in lines if line != value] == [line for line in baseline if line != value]
    assert not value.lstrip().startswith("-")
    CASES["accepted"] += 1


def test_zz_report_case_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this file: how many generated requirements were checked."""
    total = CASES["accepted"] + CASES["rejected"]
    with capsys.disabled():
        print(
            f"\nproject requirement cases: {total} ({CASES['accepted']} accepted as one line, "
            f"{CASES['rejected']} rejected naming the key)"
        )
    assert total >= 1000
    assert CASES["accepted"] > 300 and CASES["rejected"] > 300
