# Shared by scripts/test.sh and scripts/demo.sh: an engine, and a venv with devbox in it.
# Sourced, not run.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${DEVBOX_DEV_VENV:-$REPO/.venv}

ensure_engine() {
  bash "$REPO/scripts/provision-engine.sh" all
}

ensure_venv() {
  local py=${PYTHON:-python3}
  if [[ ! -x $VENV/bin/python ]]; then
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
      || { echo "devbox needs Python >= 3.10 to develop on (set PYTHON=...)" >&2; exit 1; }
    "$py" -m venv "$VENV"
  fi
  # Reinstall only when the project's metadata changed since the last install.
  local stamp=$VENV/.devbox-installed
  if [[ ! -f $stamp || $REPO/pyproject.toml -nt $stamp ]]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO[test]"
    touch "$stamp"
  fi
}
