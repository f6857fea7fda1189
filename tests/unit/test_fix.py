"""devbox fix without an engine: which fixers run and in what order, the fix step's
Dockerfile and script, and the host's side: changes written atomically (or none), files
changed meanwhile, links and paths outside the tree refused, --diff."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import dockerfile as buildkit_parser
import pytest
from rich.console import Console

from devbox._container import fix as fix_script
from devbox._container import run as run_script
from devbox.build import contract
from devbox.build import dockerfile as df
from devbox.build.dockerfile import Fixer, render, render_fix
from devbox.commands import fix as fix_cmd
from devbox.commands.fix import Change, Changes, Refused, apply_changes, unified_diff
from devbox.errors import ConfigError
from devbox.results.model import Status, ToolResult
from devbox.tools import BUILTIN
from helpers import load_config, make_project, plan_for

PYPROJECT = """\
[project]
name = "demo"
version = "1.0"

[tool.devbox]
python = "3.11"
lint = ["black", "mypy", "ruff-format", "ruff", "mylint", "isort"]

[tool.devbox.tools.mylint]
command = ["mylint", "--check"]
fix-command = ["mylint", "--write"]
"""


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- which fixers, in which order --------------------------------------------------------


def test_the_built_in_fixing_forms() -> None:
    fixes = {name: tool.fix for name, tool in BUILTIN.items()}
    assert fixes == {
        "ruff": ("ruff", "check", "--fix", "--output-format=concise", "."),
        "ruff-format": ("ruff", "format", "."),
        "black": ("black", "."),
        "isort": ("isort", "."),
        "flake8": None,
        "pylint": None,
        "mypy": None,
        "pytest": None,
    }


def test_fixers_run_in_lint_order_with_the_formatters_last(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", PYPROJECT)
    cfg = load_config(root)
    plan = plan_for(root, "lint", virtualenvs=[])
    fixers = fix_cmd.select_fixers(cfg, plan)
    assert [(f.name, f.command) for f in fixers] == [
        ("ruff", BUILTIN["ruff"].fix),
        ("mylint", ("mylint", "--write")),
        ("isort", ("isort", ".")),
        ("black", ("black", ".")),
        ("ruff-format", ("ruff", "format", ".")),
    ]
    # each with its tool's environment (the cache variables point at the cache mount)
    ruff = next(f for f in fixers if f.name == "ruff")
    assert ruff.env["RUFF_CACHE_DIR"] == f"{contract.CACHE}/ruff"


def test_a_fix_command_replaces_a_built_in_ones(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        '[project]\nname = "d"\nversion = "1"\n[tool.devbox]\nlint = ["ruff"]\n'
        '[tool.devbox.tools.ruff]\nfix-command = ["ruff", "check", "--fix", "src"]\n',
    )
    fixers = fix_cmd.select_fixers(load_config(root), plan_for(root, "lint", virtualenvs=[]))
    assert [f.command for f in fixers] == [("ruff", "check", "--fix", "src")]


def test_fix_command_is_validated_naming_the_key(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        '[project]\nname = "d"\nversion = "1"\n[tool.devbox.tools.mylint]\n'
        'command = ["mylint"]\nfix-command = []\n',
    )
    with pytest.raises(ConfigError, match="'fix-command'"):
        load_config(root)


# --- the fix step's Dockerfile ------------------------------------------------------------


def _fix_render(tmp_path: Path) -> tuple[Any, Any, Any]:
    root = make_project(tmp_path / "p", PYPROJECT)
    cfg = load_config(root)
    plan = plan_for(root, "lint", virtualenvs=[])
    step = fix_cmd.fix_step("3.11")
    fixers = fix_cmd.select_fixers(cfg, plan)
    return plan, step, fixers


def test_the_fix_dockerfile_is_lints_environment_and_one_fix_step(tmp_path: Path) -> None:
    plan, step, fixers = _fix_render(tmp_path)
    lint = render(plan)
    out = render_fix(plan, step, fixers)
    commands = buildkit_parser.parse_string(out.dockerfile)
    assert [c.value[2] for c in commands if c.cmd == "FROM"] == [
        "test-base-3.11", "deps-3.11", "source", "tool-fix-3.11", "results",
    ]  # fmt: skip
    # the dependency stage is lint's, word for word, and so are its context files: the
    # install replays from lint's (and every command's) environment
    env_stage = lint.dockerfile.split("\n\n")[1]
    assert env_stage in out.dockerfile
    installs = {k: v for k, v in lint.context.items() if k.startswith("install/")}
    assert {k: v for k, v in out.context.items() if k.startswith("install/")} == installs
    runs = [c for c in commands if c.cmd == "RUN"]
    fix_run = runs[-1]
    mounts = [f for f in fix_run.flags if f.startswith("--mount=")]
    assert f"--mount=type=bind,from=source,target={contract.WORKDIR},rw" in mounts
    assert f"--mount=type=bind,from=source,target={df.BEFORE}" in mounts  # read-only
    assert fix_run.value == (f"{contract.VENV}/bin/python {df.FIX_SCRIPT} 3.11",)
    copies = [(c.flags, c.value) for c in commands if c.cmd == "COPY"][1:]
    assert copies == [
        (("--from=tool-fix-3.11",), (f"{contract.OUT}/fix/3.11/", "/fix/3.11/")),
        (("--from=deps-3.11",), (f"{contract.ENV_STATUS}/", "/environments/3.11/")),
    ]
    spec = json.loads(out.context["fix/fix.json"])
    assert set(spec) == set(df.FIX_SPEC_KEYS)
    assert [f["name"] for f in spec["fixers"]] == [f.name for f in fixers]
    assert all(set(f) == set(df.FIXER_KEYS) for f in spec["fixers"])
    assert out.context["run/devbox_fix.py"] == Path(fix_script.__file__).read_text()
    assert out.context["run/devbox_run.py"] == Path(run_script.__file__).read_text()


def test_the_fix_script_keeps_equal_copies_and_reads_the_declared_keys() -> None:
    module = ast.parse(Path(fix_script.__file__).read_text(encoding="utf-8"))
    defined = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in module.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper()
    }
    host = {**vars(contract), **vars(df)}
    for name, value in defined.items():
        assert name in host, f"fix.py defines {name}, which neither contract nor dockerfile has"
        assert value == host[name], f"fix.{name} = {value!r} but the host has {host[name]!r}"

    def keys(variable: str) -> set[str]:
        return {
            node.slice.value
            for node in ast.walk(module)
            if isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == variable
            and isinstance(node.slice, ast.Constant)
        }

    assert keys("spec") == set(df.FIX_SPEC_KEYS)
    assert keys("fixer") == set(df.FIXER_KEYS)


# --- the fix step's script, run here on a temporary tree ---------------------------------


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_fix_step_runs_fixers_in_sequence_and_records_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"a.py": "import os\n", "b.py": "x=1\n", "same.py": "ok\n", "gone.py": "bye\n"}
    src, before = tmp_path / "src", tmp_path / "before"
    for tree in (src, before):
        make_project(tree, None, files)
    out, spec = tmp_path / "out", tmp_path / "fix.json"
    first = "import pathlib; p = pathlib.Path('a.py'); p.write_text(p.read_text().upper())"
    # the second sees the first's output, rewrites same.py as it was, writes into OUT (which
    # does not leave the step), and creates and deletes files
    second = (
        "import pathlib, os; p = pathlib.Path('a.py'); assert p.read_text() == 'IMPORT OS\\n';"
        "p.write_text(p.read_text() + '# 2\\n'); pathlib.Path('b.py').write_text('x = 1\\n');"
        "pathlib.Path('same.py').write_text('ok\\n'); pathlib.Path('new.py').write_text('n\\n');"
        "os.unlink('gone.py'); pathlib.Path(os.environ['OUT'], 'fix', '3.11', 'status.json')"
        ".write_text('forged')"
    )
    spec.write_text(
        json.dumps(
            {
                "name": "fix",
                "fixers": [
                    {"name": "one", "command": _py(first), "env": {}, "timeout": None},
                    {
                        "name": "two",
                        "command": _py(second),
                        "env": {"OUT": str(out)},
                        "timeout": 60,
                    },
                ],
            }
        )
    )
    for module in (fix_script, run_script):
        monkeypatch.setattr(module, "WORKDIR", str(src))
    monkeypatch.setattr(fix_script, "BEFORE", str(before))
    monkeypatch.setattr(fix_script, "OUT", str(out))
    monkeypatch.setattr(fix_script, "CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fix_script, "FIX_SPEC", str(spec))
    monkeypatch.setattr(run_script, "ENV_STATUS", str(tmp_path / "no-env-record"))
    monkeypatch.setattr(sys, "argv", ["fix.py", "3.11"])
    assert fix_script.main() == 0
    assert capsys.readouterr().out.endswith(f"{contract.MARKER} 0\n")
    result = out / "fix" / "3.11"
    record = json.loads((result / "changes.json").read_text())
    assert record["changed"] == [
        {"path": "a.py", "before": sha(b"import os\n"), "after": sha(b"IMPORT OS\n# 2\n"),
         "tools": ["one", "two"], "file": "0"},
        {"path": "b.py", "before": sha(b"x=1\n"), "after": sha(b"x = 1\n"), "tools": ["two"],
         "file": "1"},
    ]  # fmt: skip
    assert (result / "files" / "0").read_bytes() == b"IMPORT OS\n# 2\n"
    assert (result / "files" / "1").read_bytes() == b"x = 1\n"
    assert record["created"] == [{"path": "new.py", "tools": ["two"]}]
    assert record["deleted"] == [{"path": "gone.py", "tools": ["two"]}]
    status = json.loads((result / "status.json").read_text())
    assert status[contract.FIELD_EXIT_CODE] == 0
    assert [f["name"] for f in status["fixers"]] == ["one", "two"]
    assert "devbox: one: " in (result / "output").read_text()
    assert (before / "a.py").read_text() == "import os\n"


# --- writing the changes on the host ------------------------------------------------------


def _tree(tmp_path: Path) -> Path:
    root = make_project(
        tmp_path / "proj", None, {"src/pkg/mod.py": "import os\n", "top.py": "x=1\n"}
    )
    (root / "top.py").chmod(0o754)
    return root


def _changes(root: Path) -> list[Change]:
    return [
        Change("src/pkg/mod.py", sha(b"import os\n"), b"", ("ruff",)),
        Change("top.py", sha(b"x=1\n"), b"x = 1\n", ("ruff-format",)),
    ]


def test_unchanged_files_are_replaced_atomically_keeping_their_mode(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    inode = (root / "top.py").stat().st_ino
    apply_changes(root, _changes(root))
    assert (root / "src/pkg/mod.py").read_bytes() == b""
    assert (root / "top.py").read_bytes() == b"x = 1\n"
    st = (root / "top.py").stat()
    assert stat.S_IMODE(st.st_mode) == 0o754
    assert st.st_ino != inode  # a new file renamed into place, not rewritten in place
    assert st.st_uid == os.getuid()  # written by devbox's own process: the invoking user
    assert sorted(p.name for p in root.rglob("*")) == ["mod.py", "pkg", "src", "top.py"]


def test_a_file_changed_meanwhile_stops_everything_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    root = _tree(tmp_path)
    (root / "top.py").write_text("x=2  # edited meanwhile\n")
    with pytest.raises(Refused) as exc:
        apply_changes(root, _changes(root))
    assert [(p.path, p.why) for p in exc.value.problems] == [
        ("top.py", "changed since the fixers saw it")
    ]
    assert (root / "src/pkg/mod.py").read_text() == "import os\n"  # not written either
    assert (root / "top.py").read_text() == "x=2  # edited meanwhile\n"
    assert sorted(p.name for p in root.rglob("*")) == ["mod.py", "pkg", "src", "top.py"]


def test_a_file_changed_while_devbox_writes_stops_it_before_any_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    real = fix_cmd._write_temp
    calls: list[str] = []

    def write_then_edit(target: Any) -> str:
        calls.append(target.name)
        if len(calls) == 2:  # the user saves mod.py once devbox has begun writing
            (root / "src/pkg/mod.py").write_text("import sys\n")
        return real(target)

    monkeypatch.setattr(fix_cmd, "_write_temp", write_then_edit)
    with pytest.raises(Refused) as exc:
        apply_changes(root, _changes(root))
    assert [p.path for p in exc.value.problems] == ["src/pkg/mod.py"]
    assert (root / "top.py").read_text() == "x=1\n"
    assert sorted(p.name for p in root.rglob("*")) == ["mod.py", "pkg", "src", "top.py"]


@pytest.mark.parametrize(
    "path", ["../outside.py", "/etc/passwd", "src/../top.py", "./top.py", "src//pkg/mod.py", ""]
)
def test_paths_outside_the_tree_are_refused(tmp_path: Path, path: str) -> None:
    root = _tree(tmp_path)
    (tmp_path / "outside.py").write_text("import os\n")
    with pytest.raises(Refused) as exc:
        apply_changes(root, [Change(path, sha(b"import os\n"), b"owned\n", ("evil",))])
    assert exc.value.problems[0].why == "not a path inside the project; refused"
    assert (tmp_path / "outside.py").read_text() == "import os\n"


def test_links_are_never_written_through(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    outside = tmp_path / "outside"
    make_project(outside, None, {"mod.py": "import os\n"})
    (root / "link.py").symlink_to(outside / "mod.py")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    changes = [
        Change("link.py", sha(b"import os\n"), b"owned\n", ("ruff",)),
        Change("linkdir/mod.py", sha(b"import os\n"), b"owned\n", ("ruff",)),
    ]
    with pytest.raises(Refused) as exc:
        apply_changes(root, changes)
    assert [(p.path, p.why) for p in exc.value.problems] == [
        ("link.py", "is a symbolic link; devbox fix writes through none"),
        ("linkdir/mod.py", "'linkdir' on the way is a symbolic link or not a directory; refused"),
    ]
    assert (outside / "mod.py").read_text() == "import os\n"
    assert (root / "link.py").is_symlink()


def test_a_deleted_file_is_not_created_again(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "top.py").unlink()
    with pytest.raises(Refused) as exc:
        apply_changes(root, _changes(root))
    assert exc.value.problems[0].why == "was deleted since the fixers saw it"
    assert not (root / "top.py").exists()


def test_diff_prints_a_patch_and_writes_nothing(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    changes = [*_changes(root), Change("src/pkg/mod.py", sha(b"import os\n"), b"x", ("a",))]
    text = unified_diff(root, changes[1:])
    assert text == (
        "--- a/top.py\n+++ b/top.py\n@@ -1 +1 @@\n-x=1\n+x = 1\n"
        "--- a/src/pkg/mod.py\n+++ b/src/pkg/mod.py\n@@ -1 +1 @@\n-import os\n+x\n"
        "\\ No newline at end of file\n"
    )
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    (root / "top.py").write_text("edited\n")
    with pytest.raises(Refused):
        unified_diff(root, changes)


# --- what the user sees -------------------------------------------------------------------


def _result(exit_code: int = 0, status: Status = Status.PASSED, output: str = "") -> ToolResult:
    return ToolResult("fix", "lint", "3.11", status, exit_code, 0.1, False, output)


def _present(tmp_path: Path, root: Path, changes: Changes | None, **kw: Any) -> tuple[int, str]:
    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None)
    result = kw.pop("result", _result())
    rc = fix_cmd.present(console, result, changes, root, root, **kw)
    return rc, buf.getvalue()


def test_each_fixed_file_is_listed_with_its_fixers(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    rc, text = _present(tmp_path, root, Changes(tuple(_changes(root))), diff=False)
    assert rc == 0
    assert text == "devbox: fixed src/pkg/mod.py (ruff)\ndevbox: fixed top.py (ruff-format)\n"
    rc, text = _present(tmp_path, root, Changes(()), diff=False)
    assert (rc, text) == (0, "devbox: nothing to fix\n")


def test_diff_exits_1_when_there_is_something_to_fix(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    rc, text = _present(tmp_path, root, Changes(tuple(_changes(root))), diff=True)
    assert rc == 1
    assert text.startswith("--- a/src/pkg/mod.py\n+++ b/src/pkg/mod.py\n")
    assert "devbox: fixed" not in text
    assert (root / "top.py").read_text() == "x=1\n"


def test_what_a_fixer_could_not_fix_is_shown_and_the_rest_written(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    output = "devbox: ruff: ruff check --fix\n/src/x.py:1:1: E999 bad\x1b]0;title\x07\n"
    result = _result(1, Status.FAILED, output)
    rc, text = _present(tmp_path, root, Changes(tuple(_changes(root))), diff=False, result=result)
    assert rc == 1
    # with host paths and without the escape sequences, as lint shows a failing tool
    assert "\nx.py:1:1: E999 bad\n" in text and "\x1b" not in text
    assert "devbox: fixed top.py (ruff-format)" in text
    assert (root / "top.py").read_text() == "x = 1\n"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (Changes((), created=(("new.py", ("ruff",)),)), "devbox: ruff created new.py"),
        (Changes((), deleted=(("top.py", ("x",)),)), "devbox: x deleted top.py"),
        (Changes((), replaced=(("top.py", ()),)), "devbox: a fixer replaced top.py"),
    ],
)
def test_fixers_that_create_or_delete_files_write_nothing(
    tmp_path: Path, changes: Changes, says: str
) -> None:
    root = _tree(tmp_path)
    both = Changes(tuple(_changes(root)), changes.created, changes.deleted, changes.replaced)
    rc, text = _present(tmp_path, root, both, diff=False)
    assert rc == 1
    assert says in text and "nothing was written" in text
    assert (root / "top.py").read_text() == "x=1\n"


def test_a_fixer_stopped_at_its_time_limit_writes_nothing(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    result = _result(-15, Status.TIMEOUT)
    rc, text = _present(tmp_path, root, Changes(tuple(_changes(root))), diff=False, result=result)
    assert rc == 1 and "nothing was written" in text
    assert (root / "top.py").read_text() == "x=1\n"


def test_a_stale_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "src/pkg/mod.py").write_text("import sys\n")
    rc, text = _present(tmp_path, root, Changes(tuple(_changes(root))), diff=False)
    assert rc == 1
    assert "devbox: src/pkg/mod.py: changed since the fixers saw it" in text
    assert "nothing was written" in text
    assert (root / "top.py").read_text() == "x=1\n"


def test_the_exported_changes_are_read_without_following_links(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = out / "fix" / "3.11"
    (result / "files").mkdir(parents=True)
    record = {
        "changed": [{"path": "a.py", "before": sha(b""), "after": "", "tools": ["t"], "file": "0"}],
        "created": [],
        "deleted": [],
        "replaced": [],
    }
    (result / "changes.json").write_text(json.dumps(record))
    (result / "files" / "0").write_bytes(b"new\n")
    step = fix_cmd.fix_step("3.11")
    read = fix_cmd.read_changes(out, step)
    assert read == Changes((Change("a.py", sha(b""), b"new\n", ("t",)),))
    (result / "files" / "0").unlink()
    (tmp_path / "secret").write_text("host file")
    (result / "files" / "0").symlink_to(tmp_path / "secret")
    assert fix_cmd.read_changes(out, step) is None


def test_no_lint_tool_with_a_fixing_form_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devbox.build.session import Options

    root = make_project(
        tmp_path / "p", '[project]\nname = "d"\nversion = "1"\n[tool.devbox]\nlint = ["mypy"]\n'
    )
    monkeypatch.setattr(fix_cmd, "prepare", lambda opts, env, console, **kw: _FakeJob(root, opts))
    with pytest.raises(ConfigError, match=r"none of the lint tools \(mypy\) has a fixing form"):
        fix_cmd.fix(Options(root, "lint", {}), {}, Console(file=io.StringIO()), diff=False)


class _FakeJob:
    def __init__(self, root: Path, opts: Any) -> None:
        self.cfg = load_config(root)
        self.plan = plan_for(root, "lint", virtualenvs=[])
        self.opts = opts


def test_fixers_are_given_their_timeout(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        '[project]\nname = "d"\nversion = "1"\n[tool.devbox]\nlint = ["ruff"]\ntimeout = 30\n',
    )
    fixers = fix_cmd.select_fixers(load_config(root), plan_for(root, "lint", virtualenvs=[]))
    assert fixers == [Fixer("ruff", BUILTIN["ruff"].fix or (), fixers[0].env, 30.0)]
