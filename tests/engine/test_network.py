"""Corporate networks against the real engine: this machine reaches the package index only
through a TLS-intercepting proxy, so an image that lacks the proxy's CA cannot install —
unless the CA bundle is passed, as a secret that leaves no trace in the image."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from helpers import copy_fixture

pytestmark = pytest.mark.engine

HOST_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT")


@pytest.fixture
def image_without_proxy_ca() -> Any:
    """The test base image with its CA store rebuilt from Debian's own roots only."""
    if not HOST_BUNDLE.is_file():
        pytest.skip("no host CA bundle")
    tag = f"localhost/devbox-test/noca-{uuid.uuid4().hex[:8]}"
    dockerfile = (
        "FROM localhost/devbox-test/python:3.11\n"
        # a unique layer: no earlier run's cached install step can match this image
        f"RUN update-ca-certificates --fresh >/dev/null && echo {uuid.uuid4().hex} > /etc/devbox-test-id\n"
    )
    subprocess.run(["docker", "buildx", "build", "--load", "-t", f"{tag}:3.11", "-"],
                   input=dockerfile, text=True, check=True, capture_output=True)  # fmt: skip
    yield tag
    subprocess.run(["docker", "image", "rm", "-f", f"{tag}:3.11"], capture_output=True)


def proxy_ca_lines(image: str) -> list[bytes]:
    """Lines of the host bundle that the image's own store lacks: the proxy's CA."""
    inside = subprocess.run(["docker", "run", "--rm", image, "cat", "/etc/ssl/certs/ca-certificates.crt"],
                            capture_output=True, check=True).stdout  # fmt: skip
    theirs = set(inside.splitlines())
    return [
        line
        for line in HOST_BUNDLE.read_bytes().splitlines()
        if len(line) > 40 and line not in theirs
    ]


def layers_added(image: str, base: str) -> list[bytes]:
    """The layer tarballs of ``image`` (from `docker save`) that are not its base image's.

    The base itself may hold the CA (the test images have the host bundle baked in); the
    question is whether devbox's steps wrote it into a layer of their own.
    """
    inspect = ["docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", base]
    n_base = len(
        json.loads(subprocess.run(inspect, capture_output=True, check=True, text=True).stdout)
    )
    saved = subprocess.run(["docker", "save", image], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        layers = manifest[0]["Layers"]
        return [tar.extractfile(name).read() for name in layers[n_base:]]  # type: ignore[union-attr]


def test_ca_bundle_makes_installs_work_and_leaves_no_trace(
    devbox: Any, tmp_path: Path, image_without_proxy_ca: str
) -> None:
    project = copy_fixture("clean", tmp_path, fresh=False)
    base = {"DEVBOX_BASE_IMAGE": image_without_proxy_ca + ":{python}"}
    # No bundle anywhere (devbox would find SSL_CERT_FILE & co. on its own): installs fail.
    without = devbox("test", cwd=project, env={**base, **{var: "" for var in CA_VARS}})
    assert without.returncode == 3, without.stdout + without.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in without.stderr or "certificate" in without.stderr.lower()

    with_ca = {**base, "DEVBOX_CA_BUNDLE": str(HOST_BUNDLE)}
    run = devbox("test", cwd=project, env=with_ca)
    assert run.returncode == 0, run.stdout + run.stderr

    # The dependency image, loaded by `devbox shell`: no trace of the secret's contents.
    shell = devbox(
        "shell",
        "--",
        "sh",
        "-c",
        "test ! -e /run/secrets/devbox-ca",
        cwd=project,
        env=with_ca,
        report=False,
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    tag = next(
        line.split("preparing ", 1)[1].split(" ")[0]
        for line in shell.stderr.splitlines()
        if "preparing " in line
    )
    secret_lines = proxy_ca_lines(f"{image_without_proxy_ca}:3.11")
    assert secret_lines, "the host bundle adds no CA to the image's own: nothing to check"
    history = subprocess.run(
        ["docker", "history", "--no-trunc", tag], capture_output=True, check=True
    ).stdout
    added = layers_added(tag, f"{image_without_proxy_ca}:3.11")
    assert added, "devbox added no layer?"
    for line in secret_lines:
        assert line not in history
        assert not any(line in layer for layer in added)
    assert b"/run/secrets/devbox-ca" not in history  # not even a mention beyond the RUN flags
    assert line not in (without.stdout + without.stderr + run.stdout + run.stderr).encode()
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
