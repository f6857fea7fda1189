"""buildx's CSV specs (--output, --secret) and the other paths of its command line, for any
project directory, cache directory and CA bundle name (issue 13).

buildx reads ``--output`` and ``--secret`` as one CSV record of ``key=value`` fields (Go's
encoding/csv in buildx 0.13, go-csvvalue later), ``--build-context NAME=PATH`` by splitting at
the first ``=``, and ``--file`` and the context path verbatim. Property: whatever the names
(commas, quotes, ``=``, spaces, line breaks, unicode), every spec reads back as exactly the
key=value pairs devbox means, both with Python's csv module and with a reader that follows
Go's stricter rules; a name buildx cannot be given (CR LF) is refused with a clear error.
The number of cases is printed at the end (pytest -s).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from devbox import engine, fsutil
from devbox.build import contract, session
from devbox.engine.buildx import csv_field, csv_spec
from devbox.errors import EnvironmentError_
from helpers import make_project

CASES: Counter[str] = Counter()


# --- readers: how buildx reads each argument back -------------------------------------------


def python_csv(spec: str) -> list[str]:
    """One record, read by Python's csv module (excel dialect, strict)."""
    rows = list(csv.reader(io.StringIO(spec, newline=""), strict=True))
    assert len(rows) == 1, f"{spec!r} is {len(rows)} records"
    return rows[0]


def go_csv(spec: str) -> list[str]:
    """One record as Go's encoding/csv ``Reader.Read`` returns it (default settings): a
    quote opens a field only at its start and ``""`` inside is one quote, a quote anywhere
    else is an error (bare quote), an unquoted line break ends the record, and ``\\r\\n`` is
    read as ``\\n`` everywhere, inside quotes too."""
    text = spec.replace("\r\n", "\n")
    fields: list[str] = []
    i = 0
    while True:
        if text.startswith('"', i):
            i += 1
            value = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise ValueError(f"extraneous or missing quote in {spec!r}")
                value.append(text[i:j])
                i = j + 1
                if text.startswith('"', i):
                    value.append('"')
                    i += 1
                    continue
                break
            fields.append("".join(value))
            if i == len(text):
                return fields
            if text[i] == "\n":
                raise ValueError(f"{spec!r} is more than one record")
            if text[i] != ",":
                raise ValueError(f'extraneous " in {spec!r}')
            i += 1
            continue
        end = len(text)
        for stop in (",", "\n"):
            k = text.find(stop, i)
            if k >= 0:
                end = min(end, k)
        field = text[i:end]
        if '"' in field:
            raise ValueError(f'bare " in non-quoted field of {spec!r}')
        fields.append(field)
        if end == len(text):
            return fields
        if text[end] == "\n":
            if text[end + 1 :]:
                raise ValueError(f"{spec!r} is more than one record")
            return fields
        i = end + 1


def pairs(fields: list[str]) -> list[tuple[str, str]]:
    """buildx's reading of each field: the key before the first ``=``, the rest the value."""
    out = []
    for field in fields:
        key, sep, value = field.partition("=")
        assert sep, f"field {field!r} has no '='"
        out.append((key, value))
    return out


def read_spec(spec: str) -> list[tuple[str, str]]:
    """The pairs of a CSV spec; both readers must agree."""
    by_python, by_go = pairs(python_csv(spec)), pairs(go_csv(spec))
    assert by_python == by_go, (spec, by_python, by_go)
    return by_python


def options(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


# --- the readers themselves -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ("type=local,dest=/a", ["type=local", "dest=/a"]),
        ('type=local,"dest=/a,b"', ["type=local", "dest=/a,b"]),
        ('"dest=/a ""q"" b"', ['dest=/a "q" b']),
        ('"dest=/a\nb",x=1', ["dest=/a\nb", "x=1"]),
        ('"dest=/a\r\nb"', ["dest=/a\nb"]),  # Go drops the CR even inside quotes
        ("dest=/a\n", ["dest=/a"]),
        ("a=1,,b=2", ["a=1", "", "b=2"]),
    ],
)
def test_go_reader(spec: str, fields: list[str]) -> None:
    assert go_csv(spec) == fields


@pytest.mark.parametrize("spec", ['dest=/a"b', '"dest=/a"b', '"dest=/a', "a=1\nb=2"])
def test_go_reader_refuses(spec: str) -> None:
    with pytest.raises(ValueError):
        go_csv(spec)


# --- the quoting --------------------------------------------------------------------------


def test_fields_are_quoted_only_when_they_need_it() -> None:
    assert csv_field("dest=/plain/path with spaces/é") == "dest=/plain/path with spaces/é"
    assert csv_field("dest=/a,b") == '"dest=/a,b"'
    assert csv_field('dest=/we,ird "name"') == '"dest=/we,ird ""name"""'
    assert csv_field("dest=/a\nb") == '"dest=/a\nb"'
    assert csv_spec(("type", "local"), ("dest", "/x,dest=out")) == 'type=local,"dest=/x,dest=out"'


def test_a_comma_and_dest_in_the_path_cannot_redirect_the_output() -> None:
    """The directory that once made buildx export the results into the project."""
    argv = engine.build_argv(
        dockerfile=Path("/c/a,dest=out/Dockerfile"), context=Path("/p/a,dest=out"),
        devbox_context=Path("/c/a,dest=out/context"), output=Path("/c/a,dest=out/out"),
        build_args={}, ca_bundle='/etc/c,"a".pem', secrets={"devbox-env": Path("/s/a,b")},
    )  # fmt: skip
    assert read_spec(options(argv, "--output")[0]) == [
        ("type", "local"),
        ("dest", "/c/a,dest=out/out"),
    ]
    assert [read_spec(s) for s in options(argv, "--secret")] == [
        [("id", contract.CA_ID), ("src", '/etc/c,"a".pem')],
        [("id", "devbox-env"), ("src", "/s/a,b")],
    ]
    # not CSV: split at the first "=", the rest verbatim (quotes would be part of the path)
    assert options(argv, "--build-context") == ["devbox=/c/a,dest=out/context"]
    assert options(argv, "--file") == ["/c/a,dest=out/Dockerfile"]
    assert argv[-1] == "/p/a,dest=out"


def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """buildx would read them from its own working directory, and ``git@host:x`` as a remote."""
    monkeypatch.chdir(tmp_path)
    argv = engine.build_argv(
        dockerfile=Path("Dockerfile"), context=Path("git@host:x"), devbox_context=Path("ctx"),
        output=Path("out"), build_args={}, ca_bundle="ca.pem",
    )  # fmt: skip
    assert read_spec(options(argv, "--output")[0])[1] == ("dest", str(tmp_path / "out"))
    assert read_spec(options(argv, "--secret")[0])[1] == ("src", str(tmp_path / "ca.pem"))
    assert options(argv, "--build-context") == [f"devbox={tmp_path / 'ctx'}"]
    assert options(argv, "--file") == [str(tmp_path / "Dockerfile")]
    assert argv[-1] == str(tmp_path / "git@host:x")


def test_a_crlf_in_a_spec_path_is_refused_clearly() -> None:
    with pytest.raises(EnvironmentError_, match="carriage return followed by a line break"):
        engine.build_argv(
            dockerfile=Path("/c/Dockerfile"), context=Path("/p"), devbox_context=Path("/c/ctx"),
            output=Path("/c/a\r\nb/out"), build_args={},
        )  # fmt: skip


def test_validated_cache_specs_pass_through_unchanged() -> None:
    """cache-from/cache-to come from the config, whose check admits no comma or space in a
    value: they reach buildx as written."""
    spec = "type=registry,ref=registry.example/team/cache:{python},mode=max"
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"), context=Path("/p"), devbox_context=Path("/c/ctx"),
        output=None, tag="t", build_args={}, cache_from=[spec], cache_to=["type=inline"],
    )  # fmt: skip
    assert options(argv, "--cache-from") == [spec]
    assert options(argv, "--cache-to") == ["type=inline"]
    assert read_spec(spec) == [
        ("type", "registry"),
        ("ref", "registry.example/team/cache:{python}"),
        ("mode", "max"),
    ]


# --- property: the real session's argv, for generated names ---------------------------------

_PIECES = [
    *",\"= \n\r\t'\\#;$`&|-.:@\u00e9\u2028\U0001f600\u4e2d",
    "dest=",
    "src=",
    ",dest=out",
    "type=local",
    '""',
    '","',
    "\r\n",
    "a",
]


def _usable(name: str) -> bool:
    return (
        "/" not in name
        and "\0" not in name
        and name not in ("", ".", "..")
        and len(name.encode()) <= 100
    )


NAMES = st.one_of(
    st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12).map("".join),
    st.text(min_size=1, max_size=30),
).filter(_usable)

PYPROJECT = """\
[project]
name = "weird"
version = "1.0"

[tool.devbox]
python = "3.11"
lint = ["ruff"]
test = ["pytest"]
"""


@contextlib.contextmanager
def session_argv(
    root: Path, cache: Path, ca: Path
) -> Iterator[tuple[list[str], session.RunDir, Path]]:
    """``devbox test``'s buildx argv as the session makes it, for the project at ``root``."""
    env = {
        "DEVBOX_CACHE_DIR": str(cache),
        "DEVBOX_CA_BUNDLE": str(ca),
        "DEVBOX_SECRET_ENV": "API_TOKEN",
        "API_TOKEN": "t0ken",
        "DEVBOX_INDEX_URL": "https://pkgs.example.com/simple",
        "PATH": os.environ.get("PATH", ""),
    }
    opts = session.Options(project_dir=root, command="test", cli={})
    job = session.prepare(opts, env, Console(file=io.StringIO()))
    with job.run_dir("run-") as run_dir:
        assert job.context is not None
        yield job.build_argv(run_dir, output=run_dir.out, build_args={}), run_dir, job.context


def check_argv(
    argv: list[str], run_dir: session.RunDir, ca: Path, context: Path, root: Path
) -> None:
    assert [read_spec(s) for s in options(argv, "--output")] == [
        [("type", "local"), ("dest", str(run_dir.out))]
    ]
    secrets: Mapping[str, Path] = {contract.CA_ID: ca, **run_dir.secrets}
    assert len(secrets) == 3
    assert sorted(read_spec(s) for s in options(argv, "--secret")) == sorted(
        [("id", sid), ("src", str(path))] for sid, path in secrets.items()
    )
    for path in secrets.values():
        assert path.is_file()
    assert options(argv, "--build-context") == [f"devbox={run_dir.context}"]
    assert options(argv, "--file") == [str(run_dir.dockerfile)]
    assert argv[-1] == str(context)
    assert context.resolve() == root.resolve()  # the link the tree is sent through


#: ca-bundle is checked by the config: one line (commas and quotes are fine)
CA_NAMES = NAMES.map(lambda name: name.replace("\n", "_").replace("\r", "_"))


@settings(max_examples=300, deadline=None)
@given(project=NAMES, cache=NAMES, ca=CA_NAMES)
def test_any_directory_names(project: str, cache: str, ca: str) -> None:
    with (
        # secret files under the (generated) cache directory, not on SHM
        mock.patch.object(fsutil, "_shm_dir", return_value=None),
        tempfile.TemporaryDirectory() as tmp,
    ):
        root = make_project(Path(tmp) / "p" / project, PYPROJECT, {"tests/test_a.py": ""})
        cache_dir = Path(tmp) / "c" / cache
        # (config strips the variable's value: the name is kept off its ends)
        ca_file = Path(tmp) / "ca" / f"ca-{ca}.pem"
        ca_file.parent.mkdir()
        ca_file.write_text("-----BEGIN CERTIFICATE-----\n")
        # only the cache dir and the CA path reach the specs: the work dir under the cache dir
        # holds the project's name with its unsafe characters replaced
        if "\r\n" in f"{cache_dir}{ca_file}":
            with (
                pytest.raises(EnvironmentError_, match="carriage return"),
                session_argv(root, cache_dir, ca_file),
            ):
                pass
            CASES["refused"] += 1
            return
        with session_argv(root, cache_dir, ca_file) as (argv, run_dir, context):
            check_argv(argv, run_dir, ca_file, context, root)
            work = run_dir.path.relative_to(cache_dir).parts[1]  # projects/NAME-KEY/...
            assert all(c.isalnum() or c in "._-" for c in work), work
        CASES["parsed"] += 1
        CASES["csv-special"] += any(c in project + cache + ca for c in ',"\n')


def test_zz_report_case_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this file: how many generated names were checked."""
    with capsys.disabled():
        print(
            f"\nbuildx spec cases: {CASES['parsed'] + CASES['refused']} ({CASES['parsed']} parsed "
            f"back exactly, {CASES['csv-special']} of them with a comma, quote or line break; "
            f"{CASES['refused']} CR LF names refused)"
        )
    assert CASES["parsed"] >= 200 and CASES["csv-special"] >= 80
