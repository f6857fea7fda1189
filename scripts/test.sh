#!/usr/bin/env bash
# The whole test suite, from a fresh clone: provisions an engine when none runs
# (scripts/provision-engine.sh), makes .venv, then ruff, mypy (strict), the distributions
# (tests/check_dist.py: sdist and wheel build, pass twine check, the wheel installs and runs in a
# fresh venv; about 15 s) and pytest.
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
echo "== sdist and wheel (build, twine check, install in a fresh venv)"
"$VENV/bin/python" tests/check_dist.py
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
