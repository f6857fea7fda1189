#!/usr/bin/env bash
# The main job, from a fresh clone: provisions an engine when none runs, installs devbox into
# .venv, then lints and tests the bundled example project (examples/demo) in containers.
# Arguments go to devbox check:  scripts/demo.sh -v
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
ensure_engine
ensure_venv
# No registry is reachable on our CI machines: use the local Python images the provisioning
# script made (on Docker Desktop it tags python:X-slim under the same names).
export DEVBOX_BASE_IMAGE=${DEVBOX_BASE_IMAGE:-localhost/devbox-test/python:{python}}
exec "$VENV/bin/devbox" -C "$REPO/examples/demo" check "$@"
