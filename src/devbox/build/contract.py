"""What the host and the step scripts in :mod:`devbox._container` agree on.

The step scripts run inside the user's image, on any Python >= 3.8, and cannot import devbox:
each keeps its own copy of the constants it needs, and tests/unit/test_contract.py checks
that every copy equals the value here.
"""

from __future__ import annotations

#: Where the project's source is bind-mounted in every tool step.
WORKDIR = "/src"
#: A per-project, per-tool, per-Python BuildKit cache mount: tool caches go here, never into
#: the source tree (a read-only or discarded tree would lose them anyway).
CACHE = "/devbox/cache"
#: the dependency environment (a venv) of a version's dependency stage
VENV = "/opt/devbox/venv"
#: where the install step records its outcome (status.json, install.log)
ENV_STATUS = "/opt/devbox/env"
#: where a tool step writes its outcome: OUT/NAME/PYTHON/{status.json, output.txt, ...}
OUT = "/devbox/out"
