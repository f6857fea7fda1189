#!/usr/bin/env bash
# The whole test suite, from a fresh clone: provisions an engine when none runs
# (scripts/provision-engine.sh), makes .venv, then ruff, mypy (strict) and pytest.
# Extra arguments go to pytest:  scripts/test.sh -k config -x
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
cd "$REPO"
ensure_engine
ensure_venv
echo "== ruff"
"$VENV/bin/ruff" check src tests benchmarks
"$VENV/bin/ruff" format --check src tests benchmarks
echo "== mypy (strict, src/)"
"$VENV/bin/mypy"
echo "== pytest"
set +e
"$VENV/bin/python" -m pytest "$@"
rc=$?
set -e
if [[ $rc == 5 ]]; then
  echo "test.sh: pytest collected no tests: the test setup is broken" >&2
  exit 1
fi
exit $rc
