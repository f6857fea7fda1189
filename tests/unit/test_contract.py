"""The contract between the host and the step scripts (devbox.build.contract).

The scripts in devbox._container run inside user images and cannot import devbox, so each
keeps its own copies of the contract's values. These tests fail when one side changes alone:
a copy that differs, a script that spells a contract value inline (or under another name), a
spec key written but not read (or read but not written), a mount or a result path the
Dockerfile and the scripts disagree on, a status file or marker the host cannot read back.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devbox._container import install, run, stepsecrets
from devbox.build import contract
from devbox.build.dockerfile import render, tool_spec
from devbox.build.plan import Lock
from devbox.build.secrets import Secrets
from devbox.results import model, progress
from helpers import plan_for

SCRIPTS = {"install": install, "run": run, "stepsecrets": stepsecrets}
GOLDEN = Path(__file__).parents[2] / "dockerfiles"
CONFIGS = sorted(p.name for p in GOLDEN.iterdir() if (p / "pyproject.toml").is_file())

#: every shared constant: the contract module's public upper-case names
CONTRACT = {
    name: value
    for name, value in vars(contract).items()
    if name.isupper() and isinstance(value, str | tuple)
}
#: the values a script must not spell inline (spec keys are read as spec["key"]: see below)
VALUES = {name: value for name, value in CONTRACT.items() if isinstance(value, str)}

#: what each script must keep a copy of (so a copy cannot vanish into an inline literal)
COPIES = {
    "install": {
        "VENV", "UV_VENV", "WORKDIR", "ENV_STATUS", "INSTALL_DIR", "INSTALL_SPEC",
        "REQUIREMENTS", "LOCK_DIR", "SYSTEM_PACKAGES", "NATIVE_AUTO", "STATUS_FILE", "INSTALL_LOG",
        "FIELD_OK", "FIELD_PACKAGES", "FIELD_EXIT_CODE", "INSTALL_SPEC_KEYS", "LOCK_KEYS",
        "AFFECTED_LOG",
    },
    "run": {
        "WORKDIR", "TREE", "MIRROR_DIR", "MIRROR_STATE", "CACHE", "VENV", "UV", "ENV_STATUS",
        "OUT", "TOOL_SPEC", "STATUS_FILE",
        "OUTPUT_FILE", "JUNIT_FILE", "FIELD_OK", "FIELD_EXIT_CODE", "FIELD_DURATION_S",
        "FIELD_ENVIRONMENT_ERROR", "FIELD_TIMED_OUT", "FIELD_WARNINGS", "MARKER", "ENV_MARKER",
        "TIMEOUT_MARKER", "TOOL_SPEC_KEYS", "COLOUR_VAR", "COLOUR_VALUE", "FINDINGS_FILE",
        "MACHINE_KEYS", "FIELD_CHANGES", "AT_DIR", "AT_TREE", "AT_STATE", "AT_FILE", "AT_ENTER",
        "AT_HISTORY", "AT_MISSING_MARKER", "FIELD_AFFECTED", "AFFECTED_LOG", "EXPLAIN_FILE",
    },
    "stepsecrets": {"CA_SECRET", "INDEX_SECRET", "ENV_SECRET", "INDEX_SECRET_KEYS"},
}  # fmt: skip

#: the JSON documents each script reads: the variable names it holds them in → its constant
#: naming the keys it may read from them
READS = {
    "install": {"spec": "INSTALL_SPEC_KEYS", "lock": "LOCK_KEYS"},
    "run": {"spec": "TOOL_SPEC_KEYS", "machine": "MACHINE_KEYS"},
    "stepsecrets": {"index": "INDEX_SECRET_KEYS"},
}


def tree(name: str) -> ast.Module:
    source = SCRIPTS[name].__file__
    assert source is not None
    return ast.parse(Path(source).read_text(encoding="utf-8"))


def module_constants(module: ast.Module) -> dict[str, object]:
    """The script's module-level ``NAME = literal`` definitions."""
    found: dict[str, object] = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                with contextlib.suppress(ValueError):  # not if computed: SECRET_ENV = ...
                    found[target.id] = ast.literal_eval(node.value)
    return found


def _pattern(value: str) -> re.Pattern[str]:
    if re.fullmatch(r"\w+", value):
        # plain words ("ok", "output"): only as a whole string, not inside message text
        return re.compile(r"\A" + re.escape(value) + r"\Z")
    # paths, file names, ids, markers: also inside a longer string ("/src/x", "%s %d")
    return re.compile(r"(?<![\w.-])" + re.escape(value) + r"(?![\w.-])")


PATTERNS = {name: _pattern(value) for name, value in VALUES.items()}


def contract_names_in(text: str) -> list[str]:
    return [name for name, pattern in PATTERNS.items() if pattern.search(text)]


def strings_outside_definitions(module: ast.Module) -> Iterator[tuple[int, str]]:
    """Every string constant of the script except its module-level definitions and docstrings."""
    skip: set[int] = set()
    for statement in module.body:
        if isinstance(statement, ast.Assign):
            skip.update(id(n) for n in ast.walk(statement.value))
    for parent in ast.walk(module):
        body = getattr(parent, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring describes, it is not used
    for node in ast.walk(module):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def keys_read(module: ast.Module, variable: str) -> set[str]:
    """The string keys a script reads from ``variable``: ``variable["k"]``, ``variable.get("k")``."""
    keys: set[str] = set()
    for node in ast.walk(module):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if node.value.id == variable:
                key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == variable
            and node.args
        ):
            key = node.args[0]
        if key is not None:
            assert isinstance(key, ast.Constant) and isinstance(key.value, str), (
                f"{variable}[...] with a computed key, line {key.lineno}: use a literal key"
            )
            keys.add(key.value)
    return keys


# --- the copies ---------------------------------------------------------------------------


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_copy_in_a_script_equals_the_contract(script: str) -> None:
    module = SCRIPTS[script]
    defined = module_constants(tree(script))
    missing = COPIES[script] - set(defined)
    assert not missing, f"{script}.py lost its copies of {sorted(missing)}"
    for name in sorted(set(defined) & set(CONTRACT)):
        assert getattr(module, name) == defined[name]  # the module as imported is the file
        assert defined[name] == CONTRACT[name], (
            f"{script}.{name} = {defined[name]!r} but contract.{name} = {CONTRACT[name]!r}: "
            "change both sides"
        )


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_script_defines_contract_values_under_the_contracts_names(script: str) -> None:
    for name, value in module_constants(tree(script)).items():
        if isinstance(value, str) and name not in CONTRACT:
            assert not contract_names_in(value), (
                f"{script}.{name} = {value!r} holds contract.{contract_names_in(value)}: "
                "use the contract's name, so that the copy is checked"
            )


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_script_spells_no_contract_value_inline(script: str) -> None:
    for line, text in strings_outside_definitions(tree(script)):
        names = contract_names_in(text)
        assert not names, f"{script}.py:{line}: {text!r} spells contract.{names}: use the copy"


# --- the specs and the secret files -------------------------------------------------------


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_a_script_reads_exactly_the_keys_it_declares(script: str) -> None:
    module = tree(script)
    for variable, constant in READS[script].items():
        declared = set(getattr(SCRIPTS[script], constant))
        assert keys_read(module, variable) == declared, (
            f"{script}.py reads {variable}[...] keys {sorted(keys_read(module, variable))}, "
            f"but {constant} says {sorted(declared)}"
        )


@pytest.mark.parametrize("name", CONFIGS)
def test_tool_spec_writes_exactly_the_keys_run_reads(name: str) -> None:
    plan = plan_for(GOLDEN / name, virtualenvs=[])
    assert plan.tools
    for tool in plan.tools:
        assert set(tool_spec(plan, tool)) == set(contract.TOOL_SPEC_KEYS)
        machine = tool_spec(plan, tool)["machine"]
        if machine is not None:
            assert isinstance(machine, dict)
            assert set(machine) == set(contract.MACHINE_KEYS)


@pytest.mark.parametrize("name", CONFIGS)
def test_install_spec_writes_the_keys_install_reads_and_the_cache_keys(name: str) -> None:
    plan = plan_for(GOLDEN / name, virtualenvs=[])
    read, cache_only = set(contract.INSTALL_SPEC_KEYS), set(contract.INSTALL_SPEC_CACHE_KEYS)
    assert not read & cache_only
    assert set(plan.install_spec()) == read | cache_only
    locked = dataclasses.replace(plan, lock=Lock(extras=("x",), groups=("dev",)))
    assert set(locked.install_spec()["lock"]) == set(contract.LOCK_KEYS)
    # and what render() ships is that spec
    assert json.loads(render(plan).context["install/install.json"]) == json.loads(
        json.dumps(plan.install_spec())
    )


def test_the_index_secret_holds_the_keys_the_scripts_read() -> None:
    secrets = Secrets(index_url="https://a.example/simple", extra_index_urls=("https://b/",))
    files = secrets.files()
    assert set(json.loads(files[contract.INDEX_ID])) == set(contract.INDEX_SECRET_KEYS)
    assert set(Secrets(env={"A": "1"}).files()) == {contract.ENV_ID}


def test_the_host_masks_with_the_steps_rule() -> None:
    """One rule, not a copy: devbox masks its logs and reports with the very list and mask
    string the steps use (tests/unit/test_masking.py checks that both masks agree)."""
    from devbox.build import secrets as build_secrets

    assert build_secrets.sensitive is stepsecrets.sensitive
    assert build_secrets.MASK is stepsecrets.MASK


# --- the Dockerfile puts things where the scripts look ------------------------------------


def test_the_dockerfile_mounts_and_exports_what_the_scripts_use() -> None:
    plan = dataclasses.replace(
        plan_for(GOLDEN / "defaults", virtualenvs=[]),
        system_packages=("gcc",),
        project_install="editable",
    )
    out = render(plan)
    text = out.dockerfile
    targets = set(re.findall(r"target=([^,\s]+)", text))
    for name in ("WORKDIR", "CACHE", "TOOL_SPEC", "INSTALL_DIR", "SYSTEM_PACKAGES"):
        assert VALUES[name] in targets, f"nothing is mounted at contract.{name}"
    for sid, path in (
        (contract.CA_ID, contract.CA_SECRET),
        (contract.INDEX_ID, contract.INDEX_SECRET),
        (contract.ENV_ID, contract.ENV_SECRET),
    ):
        assert f"--mount=type=secret,id={sid},target={path}\n" in text.replace(" \\", "")
    # the scripts import the secrets module by name; it is mounted (and shipped) next to them
    assert f"target=/devbox/{contract.SECRETS_MODULE_NAME}.py" in text
    assert f"install/{contract.SECRETS_MODULE_NAME}.py" in out.context
    for script in (install, run):
        imported = {
            node.module for node in ast.walk(tree(script.__name__.rsplit(".", 1)[1]))
            if isinstance(node, ast.ImportFrom) and node.module and "secrets" in node.module
        }  # fmt: skip
        assert contract.SECRETS_MODULE_NAME in imported
    # the install step's inputs: devbox's context install/ is mounted at INSTALL_DIR
    for path in (contract.INSTALL_SPEC, contract.REQUIREMENTS):
        assert path.startswith(contract.INSTALL_DIR + "/")
        assert "install/" + path[len(contract.INSTALL_DIR) + 1 :] in out.context
    assert contract.LOCK_DIR.startswith(contract.INSTALL_DIR + "/")
    assert f"{contract.VENV}/bin/python" in text and f"VIRTUAL_ENV={contract.VENV}" in text
    # the results: the install record and the tool outcomes are exported from there
    assert f" {contract.ENV_STATUS}/ /environments/" in text
    for run_ in plan.tools:  # each tool's outcome only from its own directory of its stage
        where = f"{run_.name}/{run_.python}/"
        assert f"COPY --from={run_.stage} {contract.OUT}/{where} /{where}" in text


# --- what the scripts write, the host reads -----------------------------------------------


@pytest.fixture
def step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The step scripts' paths pointed into tmp_path, laid out as devbox's export is."""
    exported = tmp_path / "exported"
    env_status = exported / "environments" / "3.12"
    (tmp_path / "src").mkdir()
    for name, value in (
        ("WORKDIR", tmp_path / "src"),
        ("CACHE", tmp_path / "cache"),
        ("OUT", exported),
        ("TOOL_SPEC", tmp_path / "tool.json"),
        ("ENV_STATUS", env_status),
    ):
        monkeypatch.setattr(run, name, str(value))
    monkeypatch.setattr(install, "ENV_STATUS", str(env_status))
    monkeypatch.setattr(sys, "argv", ["run.py", "3.12"])
    plan = plan_for(GOLDEN / "defaults", virtualenvs=[])
    tool = dataclasses.replace(plan.tools[0], python="3.12", junit=False)
    spec = tool_spec(dataclasses.replace(plan, project_install="metadata"), tool)
    return {"exported": exported, "tool": tool, "spec": spec, "tool_json": tmp_path / "tool.json"}


def run_tool(
    step: dict[str, Any],
    code: str,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Run run.py's main() on a tool that runs ``code``; the live view's verdict on its log."""
    spec = dict(step["spec"], command=[sys.executable, "-c", code])
    step["tool_json"].write_text(json.dumps(spec))
    # The step leaves the tool's pipe to its own exit; here the test process lives on.
    started: list[subprocess.Popen[bytes]] = []

    def popen(*args: Any, **kw: Any) -> subprocess.Popen[bytes]:
        started.append(real_popen(*args, **kw))
        return started[-1]

    real_popen = subprocess.Popen
    try:
        with monkeypatch.context() as patch:
            patch.setattr(subprocess, "Popen", popen)
            assert run.main() == 0
    finally:
        for proc in started:
            if proc.stdout is not None:
                proc.stdout.close()
    return progress._outcome(capsysbinary.readouterr().out)


def written_status(directory: Path) -> dict[str, Any]:
    """A STATUS_FILE as a step wrote it: the fields the host reads are all there."""
    status = json.loads((directory / contract.STATUS_FILE).read_text(encoding="utf-8"))
    assert isinstance(status, dict)
    if contract.FIELD_OK in status:  # the install step's
        assert isinstance(status[contract.FIELD_OK], bool)
        assert isinstance(status[contract.FIELD_EXIT_CODE], int)
    else:  # a tool step's
        assert isinstance(status[contract.FIELD_EXIT_CODE], int)
        assert isinstance(status[contract.FIELD_DURATION_S], float)
    return status


@pytest.mark.parametrize("exit_code", [0, 3])
def test_a_tool_steps_outcome_reads_back(
    step: dict[str, Any],
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    exit_code: int,
) -> None:
    code = f"import sys; print('devbox-exit-code: 0'); sys.exit({exit_code})"
    live = run_tool(step, code, capsysbinary, monkeypatch)
    result = model.read_result(step["exported"], step["tool"], cached=False)
    tool_dir = step["exported"] / step["tool"].name / "3.12"
    assert contract.FIELD_ENVIRONMENT_ERROR not in written_status(tool_dir)
    assert result.exit_code == exit_code
    assert result.duration_s > 0
    assert "devbox-exit-code: 0" in result.output  # the tool's own line, not the marker
    assert result.status is (model.Status.PASSED if exit_code == 0 else model.Status.FAILED)
    assert live == result.status.value  # the live view agrees with the exported result


@pytest.mark.parametrize("ok", [True, False])
def test_an_install_steps_outcome_reads_back(
    step: dict[str, Any],
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    ok: bool,
) -> None:
    def fake_install(python: str) -> None:
        install.say("installing for " + python)
        if not ok:
            raise install.Failed(2)

    monkeypatch.setattr(install, "install", fake_install)
    install.deps("3.12")
    env = model.read_environment(step["exported"], "3.12", "python:3.12", cached=False)
    assert written_status(step["exported"] / "environments" / "3.12")[contract.FIELD_OK] is ok
    assert env.ok is ok
    assert ok or "installing for 3.12" in env.log
    # a tool step after a failed install reports an environment error, and runs nothing
    live = run_tool(step, "print('ran')", capsysbinary, monkeypatch)
    result = model.read_result(step["exported"], step["tool"], cached=False)
    status = written_status(step["exported"] / step["tool"].name / "3.12")
    assert status.get(contract.FIELD_ENVIRONMENT_ERROR, False) is not ok
    assert result.status is (model.Status.PASSED if ok else model.Status.ERROR)
    assert live == result.status.value
