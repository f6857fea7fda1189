"""Teams and scale, without an engine: builders, cache specs, secrets, base images, offline.

The engine tests for the same features (a real registry and a second engine) are in
tests/engine/test_teams_engine.py.
"""

from __future__ import annotations

import itertools
import json
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dockerfile as buildkit_parser
import pytest
from rich.console import Console

from devbox import config, engine
from devbox.build import bases as bases_mod
from devbox.build import secrets as credentials
from devbox.build import session
from devbox.build.bases import BASE_IMAGE_ID_LABEL, BASE_IMAGE_LABEL
from devbox.build.dockerfile import DIGEST_LABEL, base_arg, deps_digest, render
from devbox.build.plan import make_plan, redact_url
from devbox.commands import base as base_command
from devbox.errors import BuildFailed, ConfigError
from helpers import (
    MINIMAL_PROJECT,
    devbox_pyproject,
    load_config,
    make_project,
    plan_for,
)

# --- builders: a docker context or a buildx builder instance ------------------------------


class FakeDocker:
    """Answers for `docker …` commands, by their leading words; records what was run."""

    def __init__(self, answers: dict[str, tuple[int, str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[list[str], dict[str, str] | None]] = []

    def __call__(
        self, argv: list[str], *, timeout: float = 60, env: Any = None, **kw: Any
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append((list(argv), None if env is None else dict(env)))
        joined = " ".join(argv)
        for prefix, (rc, out) in self.answers.items():
            if joined.startswith(prefix):
                return subprocess.CompletedProcess(
                    argv, rc, out, "" if rc == 0 else "no such thing"
                )
        return subprocess.CompletedProcess(argv, 1, "", "not found")


@pytest.fixture
def fake_docker(monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    fake = FakeDocker({})
    monkeypatch.setattr(engine.process, "run_command", fake)
    return fake


def test_a_docker_context_is_addressed_with_docker_context(fake_docker: FakeDocker) -> None:
    fake_docker.answers["docker context inspect remote"] = (0, "[{}]")
    builder = engine.resolve_builder("remote", {"DOCKER_HOST": "tcp://elsewhere:2375"})
    assert builder == engine.Builder("remote", context="remote")
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"), context=Path("/proj"), devbox_context=Path("/c/ctx"),
        output=Path("/c/out"), build_args={}, builder=builder,
    )  # fmt: skip
    # buildx refuses `--builder CONTEXT` ("use `docker --context=NAME buildx`")
    assert argv[:5] == ["docker", "--context", "remote", "buildx", "build"]
    assert "--builder" not in argv
    # DOCKER_HOST would win over the context: dropped, and DOCKER_CONTEXT set for the rest
    env = builder.env({"DOCKER_HOST": "tcp://elsewhere:2375", "HOME": "/root"})
    assert env == {"DOCKER_CONTEXT": "remote", "HOME": "/root"}


def test_a_buildx_builder_instance_is_addressed_with_builder(fake_docker: FakeDocker) -> None:
    fake_docker.answers["docker buildx inspect kube"] = (0, "Name: kube\nDriver: kubernetes\n")
    builder = engine.resolve_builder("kube", {})
    assert builder == engine.Builder("kube", instance="kube")
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"), context=Path("/proj"), devbox_context=Path("/c/ctx"),
        output=Path("/c/out"), build_args={}, builder=builder,
    )  # fmt: skip
    assert argv[:5] == ["docker", "buildx", "build", "--builder", "kube"]
    assert builder.env({"DOCKER_HOST": "x"}) == {"DOCKER_HOST": "x"}
    assert builder.driver({}) == "kubernetes"


def test_an_unknown_builder_is_a_config_error(fake_docker: FakeDocker) -> None:
    with pytest.raises(
        ConfigError, match=r"builder 'nope': no docker context and no buildx builder"
    ):
        engine.resolve_builder("nope", {})


def test_no_builder_costs_no_command(fake_docker: FakeDocker) -> None:
    assert engine.resolve_builder(None, {}) is engine.DEFAULT_BUILDER
    assert fake_docker.calls == []


def test_the_docker_driver_exports_only_inline_cache(fake_docker: FakeDocker) -> None:
    fake_docker.answers["docker buildx inspect"] = (0, "Name: default\nDriver: docker\n")
    engine.check_cache_export(engine.DEFAULT_BUILDER, ["type=inline"], {})
    assert fake_docker.calls == []  # inline needs no check
    with pytest.raises(ConfigError) as err:
        engine.check_cache_export(engine.DEFAULT_BUILDER, ["type=registry,ref=r/c"], {})
    assert "cache-to 'type=registry,ref=r/c'" in err.value.message
    assert "docker driver, which can export only inline cache" in err.value.message
    assert "--driver docker-container" in err.value.message
    fake_docker.answers["docker buildx inspect"] = (0, "Driver: docker-container\n")
    engine.check_cache_export(engine.DEFAULT_BUILDER, ["type=local,dest=/c"], {})


def test_build_argv_labels_push_cache_and_secret_files() -> None:
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"), context=Path("/proj"), devbox_context=Path("/c/ctx"),
        output=None, build_args={}, target="test-base-3.12", tag="reg:5000/d:3.12", push=True,
        labels={DIGEST_LABEL: "sha256:ab"}, cache_from=["type=registry,ref=r/c"],
        cache_to=["type=inline"], secrets={"devbox-index": Path("/run/x/devbox-index.secret")},
    )  # fmt: skip
    pairs = list(itertools.pairwise(argv))
    assert ("--push", "--tag") in pairs and ("--tag", "reg:5000/d:3.12") in pairs
    assert "--load" not in argv
    assert ("--label", f"{DIGEST_LABEL}=sha256:ab") in pairs
    assert ("--cache-from", "type=registry,ref=r/c") in pairs
    assert ("--cache-to", "type=inline") in pairs
    assert ("--secret", "id=devbox-index,src=/run/x/devbox-index.secret") in pairs


# --- configuration -------------------------------------------------------------------------


def load(
    tmp_path: Path, table: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> config.Config:
    return load_config(tmp_path, devbox_pyproject(table), env=env, facts=False)


def test_index_urls_default_to_the_installers_variables(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        env={
            "PIP_INDEX_URL": "https://u:p@pkgs.example/simple",
            "UV_INDEX": "corp=https://corp.example/simple other=https://o.example/simple",
        },
    )
    assert cfg.index_url == "https://u:p@pkgs.example/simple"
    assert cfg.extra_index_url == ("https://corp.example/simple", "https://o.example/simple")
    # the config key wins over the installer's variable
    cfg = load(
        tmp_path,
        {"index-url": "https://mine.example/simple"},
        {"PIP_INDEX_URL": "https://x/simple"},
    )
    assert cfg.index_url == "https://mine.example/simple"


def test_an_unset_credential_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(
            tmp_path,
            {"index-url": "https://${CORP_USER}:${CORP_TOKEN}@pkgs.example/simple"},
            {"CORP_USER": "ci"},
        )
    assert "key 'index-url'" in err.value.message
    assert "uses ${CORP_TOKEN}, but CORP_TOKEN is not set" in err.value.message


def test_network_from_the_environment(tmp_path: Path) -> None:
    assert load(tmp_path, env={"DEVBOX_NETWORK": "off"}).network is False
    assert load(tmp_path, env={"DEVBOX_NETWORK": "yes"}).network is True
    with pytest.raises(ConfigError, match=r"DEVBOX_NETWORK.*true or false"):
        load(tmp_path, env={"DEVBOX_NETWORK": "maybe"})


# --- secrets -------------------------------------------------------------------------------


def test_secrets_files_values_and_mask(tmp_path: Path) -> None:
    cfg = load(
        tmp_path,
        {
            "secret-env": ["API_TOKEN", "ABSENT"],
            "extra-index-url": ["https://bot:t0ken-xyz@pkgs.example/simple"],
        },
        {"API_TOKEN": "tok-123456"},
    )
    secrets = credentials.from_config(cfg, {"API_TOKEN": "tok-123456"})
    assert secrets.missing == ("ABSENT",)
    assert "tok-123456" not in repr(secrets) and "t0ken" not in repr(secrets)
    paths = secrets.write(tmp_path)
    assert set(paths) == {"devbox-index", "devbox-env"}
    for path in paths.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(paths["devbox-env"].read_text()) == {"API_TOKEN": "tok-123456"}
    assert json.loads(paths["devbox-index"].read_text())["extra_index_urls"] == [
        "https://bot:t0ken-xyz@pkgs.example/simple"
    ]
    text = "GET https://bot:t0ken-xyz@pkgs.example/simple with tok-123456; password t0ken-xyz"
    assert credentials.mask(text, secrets.values()) == "GET *** with ***; password ***"
    assert credentials.Secrets().files() == {}


def test_urls_are_redacted_in_the_install_spec(tmp_path: Path) -> None:
    assert redact_url("https://u:p@h.example:8443/simple") == "https://***@h.example:8443/simple"
    assert redact_url("https://h.example/simple") == "https://h.example/simple"
    table = {"index-url": "https://u:s3cret@h.example/simple"}
    plan = plan_for(tmp_path, "test", pyproject=devbox_pyproject(table), virtualenvs=[])
    out = render(plan)
    assert all("s3cret" not in text for text in (out.dockerfile, *out.context.values()))
    assert json.loads(out.context["install/install.json"])["indexes"] == [
        "https://***@h.example/simple"
    ]


def test_the_step_scripts_mask_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from devbox._container import install, run, stepsecrets

    env_secret, index_secret = tmp_path / "env", tmp_path / "index"
    env_secret.write_text(json.dumps({"TOKEN": "tok-987654"}))
    index_secret.write_text(json.dumps({"index_url": "https://me:pw-55555@idx.example/simple"}))
    monkeypatch.setattr(stepsecrets, "ENV_SECRET", str(env_secret))
    monkeypatch.setattr(stepsecrets, "INDEX_SECRET", str(index_secret))
    line = b"token tok-987654 from https://me:pw-55555@idx.example/simple (pw-55555)\n"
    assert stepsecrets.mask(line, stepsecrets.secret_values()) == b"token *** from *** (***)\n"
    # both step scripts use this one module (in the image it is mounted next to them)
    for script in (install, run):
        assert script.mask is stepsecrets.mask and script.secret_values is stepsecrets.secret_values
    env = install.installer_env()
    assert env["TOKEN"] == "tok-987654"
    assert (
        env["UV_DEFAULT_INDEX"] == env["PIP_INDEX_URL"] == "https://me:pw-55555@idx.example/simple"
    )


# --- the Dockerfile: network, offline, pre-built bases ---------------------------------------


def table_plan(
    tmp_path: Path,
    table: dict[str, Any],
    command: str = "check",
    offline: bool = False,
    deps: tuple[str, ...] = (),
) -> Any:
    project = {**MINIMAL_PROJECT, "dependencies": list(deps)}
    pyproject = devbox_pyproject(table, project=project)
    return plan_for(tmp_path, command, pyproject=pyproject, virtualenvs=[], offline=offline)


def runs_of(plan: Any) -> list[Any]:
    return [c for c in buildkit_parser.parse_string(render(plan).dockerfile) if c.cmd == "RUN"]


def test_network_false_cuts_only_the_tool_steps(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, {"network": False})
    runs = runs_of(plan)
    installs, tools = runs[:2], runs[2:]
    assert all("--network=none" in r.flags for r in tools) and tools
    assert not any("--network=none" in r.flags for r in installs)
    assert "--network=none" not in "".join(str(r.flags) for r in runs_of(table_plan(tmp_path, {})))


def test_offline_cuts_every_step_and_tells_the_installer(tmp_path: Path) -> None:
    runs = runs_of(table_plan(tmp_path, {}, offline=True))
    assert all("--network=none" in r.flags for r in runs)
    assert runs[0].value[0].endswith("bootstrap uv --offline")
    assert runs[1].value[0].endswith("deps 3.12 --offline")


def test_the_deps_digest_follows_the_dependencies_not_the_credentials(tmp_path: Path) -> None:
    def digest(
        table: dict[str, Any], deps: tuple[str, ...] = ("attrs",), command: str = "check"
    ) -> str:
        plan = table_plan(tmp_path, table, command, deps=deps)
        return deps_digest(plan, render(plan), plan.environments[0], image_id=FROM_ID)

    base = digest({})
    assert base.startswith("sha256:") and base == digest({})
    assert digest({}, deps=("attrs", "idna")) != base
    assert digest({"packages": ["six"]}) != base
    assert digest({"base-image": "other/python:{python}"}) != base
    assert digest({"installer": "pip"}) != base
    assert digest({"network": False}) == base  # how tools run is not part of the image
    one = digest({"index-url": "https://u:one@h.example/simple"})
    assert one != base  # another index is another dependency set ...
    assert one == digest({"index-url": "https://u:two@h.example/simple"})  # ... its password is not


def test_a_base_ref_replaces_the_dependency_stage_through_its_build_arg(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, {"python": ["3.11", "3.13"]})
    commands = buildkit_parser.parse_string(render(plan).dockerfile)
    assert [base_arg(e) for e in plan.environments] == [
        "build_base_image_3_11",
        "build_base_image_3_13",
    ]
    assert [c.value[0] for c in commands[:2]] == [
        "build_base_image_3_11=test-base-3.11",
        "build_base_image_3_13=test-base-3.13",
    ]
    tool_froms = [
        c.value[0] for c in commands if c.cmd == "FROM" and c.value[2].startswith("tool-")
    ]
    assert set(tool_froms) == {"deps-3.11", "deps-3.13"}


# --- using a pre-built base: the label decides -----------------------------------------------


#: the base image of project_with_deps (the default base-image) and its ID in the fake engine
FROM = "python:3.12-slim"
FROM_ID = "sha256:" + "f" * 64


@pytest.fixture
def project_with_deps(tmp_path: Path) -> Path:
    return make_project(
        tmp_path,
        '[project]\nname = "p"\nversion = "1"\ndependencies = ["attrs"]\n'
        '[tool.devbox]\npython = "3.12"\nbase-ref = "reg:5000/deps:{python}"\n',
    )


def bases_for(
    project: Path,
    labels: dict[str, str] | None,
    *,
    strict: bool = False,
    offline: bool = False,
    fake: FakeDocker,
) -> tuple[dict[str, str], str]:
    opts = session.Options(project_dir=project, command="test", cli={}, offline=offline)
    cfg, facts = session.load_config(opts, {})
    plan = make_plan(cfg, facts, "test", virtualenvs=[], offline=offline)
    # the base image (FROM) as the engine resolves it; answered before the labels below
    fake.answers.setdefault(f"docker image inspect --format {{{{.Id}}}} {FROM}", (0, FROM_ID))
    if labels is not None:
        fake.answers["docker image inspect"] = (0, json.dumps(labels))
    console = Console(record=True, width=300)
    bases = bases_mod.resolve_bases(cfg, facts, plan, engine.Docker({}), console, strict=strict)
    return bases, console.export_text()


def current_digest(project: Path) -> str:
    opts = session.Options(project_dir=project, command="test", cli={})
    cfg, facts = session.load_config(opts, {})
    return bases_mod.deps_digests(cfg, facts, image_ids={"3.12": FROM_ID})["3.12"]


def test_a_base_with_the_projects_digest_is_used(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    digest = current_digest(project_with_deps)
    bases, said = bases_for(project_with_deps, {DIGEST_LABEL: digest}, fake=fake_docker)
    assert bases == {"3.12": "reg:5000/deps:3.12"} and said == ""
    assert not any("pull" in argv for argv, _ in fake_docker.calls)  # it was local


def test_a_stale_base_warns_and_installs_or_fails_when_strict(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    bases, said = bases_for(
        project_with_deps, {DIGEST_LABEL: "sha256:" + "0" * 64}, fake=fake_docker
    )
    assert bases == {}
    assert "warning: the base image reg:5000/deps:3.12 was built for other dependencies" in said
    assert "from base-ref in [tool.devbox]" in said and "--strict-base" in said
    with pytest.raises(BuildFailed) as err:
        bases_for(
            project_with_deps, {DIGEST_LABEL: "sha256:" + "0" * 64}, strict=True, fake=fake_docker
        )
    assert err.value.exit_code == 3
    assert (
        "--strict-base: the base image reg:5000/deps:3.12 was built for other dependencies"
        in err.value.message
    )
    assert "devbox base build --tag reg:5000/deps:{python} --push" in err.value.message


def test_a_missing_base_is_pulled_and_offline_is_not(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    bases, said = bases_for(project_with_deps, None, fake=fake_docker)
    assert bases == {} and "could not be pulled" in said
    assert any(argv[:2] == ["docker", "pull"] for argv, _ in fake_docker.calls)
    fake_docker.calls.clear()
    bases, said = bases_for(project_with_deps, None, offline=True, fake=fake_docker)
    assert bases == {} and "--offline pulls nothing" in said
    assert not any(argv[:2] == ["docker", "pull"] for argv, _ in fake_docker.calls)


def test_an_image_without_the_label_is_not_used(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    bases, said = bases_for(
        project_with_deps, {"org.opencontainers.image.title": "x"}, fake=fake_docker
    )
    assert bases == {} and f"has no {DIGEST_LABEL} label" in said


# --- the base image's identity: another image behind the same tag ----------------------------

OTHER_ID = "sha256:" + "e" * 64
FROM_INSPECT = f"docker image inspect --format {{{{.Id}}}} {FROM}"


def test_the_deps_digest_covers_the_base_images_id(tmp_path: Path) -> None:
    plan = table_plan(tmp_path, {})
    rendered, e = render(plan), plan.environments[0]
    one = deps_digest(plan, rendered, e, image_id=FROM_ID)
    assert one == deps_digest(plan, rendered, e, image_id=FROM_ID)
    assert one != deps_digest(plan, rendered, e, image_id=OTHER_ID)


def built_labels(project: Path, image_id: str = FROM_ID) -> dict[str, str]:
    """The labels `devbox base build` puts on a base built from ``image_id``."""
    opts = session.Options(project_dir=project, command="test", cli={})
    cfg, facts = session.load_config(opts, {})
    digest = bases_mod.deps_digests(cfg, facts, image_ids={"3.12": image_id})["3.12"]
    return {DIGEST_LABEL: digest, BASE_IMAGE_LABEL: FROM, BASE_IMAGE_ID_LABEL: image_id}


def test_a_base_built_from_another_image_behind_the_same_tag_is_stale(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    labels = built_labels(project_with_deps)
    fake_docker.answers[FROM_INSPECT] = (0, OTHER_ID + "\n")  # the tag moved since
    bases, said = bases_for(project_with_deps, labels, fake=fake_docker)
    assert bases == {}
    assert f"warning: the base image reg:5000/deps:3.12 was built from another {FROM}" in said
    assert f"(image {FROM_ID}; the engine's {FROM} is {OTHER_ID} now)" in said
    with pytest.raises(BuildFailed) as err:
        bases_for(project_with_deps, labels, strict=True, fake=fake_docker)
    assert err.value.exit_code == 3
    assert f"--strict-base: the base image reg:5000/deps:3.12 was built from another {FROM}" in (
        err.value.message
    )
    assert "devbox base build --tag reg:5000/deps:{python} --push" in err.value.message
    # built from the image the tag names now: used
    bases, said = bases_for(
        project_with_deps, built_labels(project_with_deps, OTHER_ID), fake=fake_docker
    )
    assert bases == {"3.12": "reg:5000/deps:3.12"} and said == ""


def test_a_base_from_before_the_identity_labels_is_stale_too(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    """A base whose digest covered only the reference (no base-image-id label)."""
    bases, said = bases_for(project_with_deps, {DIGEST_LABEL: "sha256:" + "1" * 64},
                            fake=fake_docker)  # fmt: skip
    assert bases == {} and "was built for other dependencies" in said


def test_a_base_image_that_cannot_be_inspected_is_pulled_then_the_base_is_not_trusted(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    labels = built_labels(project_with_deps)
    fake_docker.answers[FROM_INSPECT] = (1, "")
    bases, said = bases_for(project_with_deps, labels, fake=fake_docker)
    assert bases == {}
    assert f"the base image reg:5000/deps:3.12 cannot be checked against its base-image {FROM}" in (
        said
    )
    assert "could not be pulled" in said and f"docker pull {FROM}" in said
    assert ["docker", "pull", "-q", FROM] in [argv for argv, _ in fake_docker.calls]
    fake_docker.calls.clear()
    with pytest.raises(BuildFailed, match="cannot be checked") as err:
        bases_for(project_with_deps, labels, strict=True, offline=True, fake=fake_docker)
    assert err.value.exit_code == 3 and "--offline pulls nothing" in err.value.message
    assert not any(argv[:2] == ["docker", "pull"] for argv, _ in fake_docker.calls)


def test_image_id_reads_the_engines_answer(fake_docker: FakeDocker) -> None:
    fake_docker.answers["docker image inspect --format {{.Id}} good"] = (0, FROM_ID + "\n")
    fake_docker.answers["docker image inspect --format {{.Id}} odd"] = (0, "<no value>\n")
    docker_ = engine.Docker({})
    assert docker_.image_id("good") == FROM_ID
    assert docker_.image_id("odd") is None
    assert docker_.image_id("missing") is None


def test_base_build_refuses_a_base_image_it_cannot_identify(
    project_with_deps: Path, fake_docker: FakeDocker
) -> None:
    opts = session.Options(project_dir=project_with_deps, command="check", cli={})
    cfg, facts = session.load_config(opts, {})
    plan = make_plan(cfg, facts, "check", virtualenvs=[])
    job = SimpleNamespace(plan=plan, docker=engine.Docker({}))
    fake_docker.answers[FROM_INSPECT] = (0, FROM_ID)
    assert base_command._base_image_ids(job) == {"3.12": FROM_ID}  # type: ignore[arg-type]
    fake_docker.answers[FROM_INSPECT] = (1, "")
    with pytest.raises(BuildFailed, match=f"the base image {FROM} .* cannot be identified"):
        base_command._base_image_ids(job)  # type: ignore[arg-type]


def test_secret_values_never_reach_the_buildx_command_line(tmp_path: Path) -> None:
    secrets = credentials.Secrets(
        index_url="https://bot:pw-4242@pkgs.example/simple", env={"API_TOKEN": "tok-777"}
    )
    argv = engine.build_argv(
        dockerfile=Path("/c/Dockerfile"), context=Path("/proj"), devbox_context=Path("/c/ctx"),
        output=Path("/c/out"), build_args={}, secrets=secrets.write(tmp_path),
    )  # fmt: skip
    joined = " ".join(argv)
    assert "pw-4242" not in joined and "tok-777" not in joined
    assert f"id=devbox-index,src={tmp_path / 'devbox-index.secret'}" in argv
    assert f"id=devbox-env,src={tmp_path / 'devbox-env.secret'}" in argv
