"""What the host and the step scripts in :mod:`devbox._container` agree on.

The step scripts run inside the user's image, on any Python >= 3.8, and cannot import devbox:
each keeps its own copy of the constants it needs (same name as here), and
tests/unit/test_contract.py checks that every copy equals the value here, that the spec keys
the host writes are the keys the scripts read, and that no script spells a contract value
inline.
"""

from __future__ import annotations

# --- paths inside the build steps ---------------------------------------------------------

#: Where a tool step's writable copy of the project is (and its working directory): a cache
#: mount per project, tool and Python, which the step makes equal to TREE before the tool
#: runs, copying only what changed (devbox._container.run's mirror()).
WORKDIR = "/src"
#: The project as sent (the build's local context), bind-mounted read-only in a tool step:
#: BuildKit sends and checksums it incrementally, and the step's cache key is its content.
TREE = "/devbox/tree"
#: Next to WORKDIR, a cache mount of its own: what the mirror knows of its copy (MIRROR_STATE).
MIRROR_DIR = "/devbox/mirror"
MIRROR_STATE = "state.json"
#: In MIRROR_DIR, what a tool's last failure had (``devbox shell --at``): AT_TREE, the tree as
#: that run had it (kept up to date as the mirror keeps WORKDIR, with AT_STATE), and AT_FILE,
#: JSON: {"spec": tool_spec(), "python": str, FIELD_EXIT_CODE: int, FIELD_TIMED_OUT: bool,
#: "failed_at": seconds since the epoch}. AT_FILE is written last: without it, no snapshot.
AT_DIR = MIRROR_DIR + "/at"
AT_TREE = AT_DIR + "/tree"
AT_STATE = AT_DIR + "/state.json"
AT_FILE = AT_DIR + "/at.json"
#: In the image ``devbox shell --at`` runs: the script that enters the failure's shell (the
#: tool's env, its command in the history, a banner; or the command given after --) ...
AT_ENTER = "/devbox/shell/enter.sh"
#: ... the shell's history (HISTFILE), its one line the tool's command ...
AT_HISTORY = "/devbox/shell/history"
#: ... and the line the step prints, failing, when the engine has no snapshot of a failure
AT_MISSING_MARKER = "devbox-at-missing"
#: A per-project, per-tool, per-Python BuildKit cache mount: tool caches go here, never into
#: the source tree (a read-only or discarded tree would lose them anyway).
CACHE = "/devbox/cache"
#: the dependency environment (a venv) of a version's dependency stage
VENV = "/opt/devbox/venv"
#: uv's own venv (uv is not installed into the project's environment)
UV_VENV = "/opt/devbox/uv"
UV = UV_VENV + "/bin/uv"
#: where the install step records its outcome (STATUS_FILE, INSTALL_LOG)
ENV_STATUS = "/opt/devbox/env"
#: where a tool step writes its outcome: OUT/NAME/PYTHON/{STATUS_FILE, OUTPUT_FILE, JUNIT_FILE}
OUT = "/devbox/out"

#: devbox's build context's ``install/`` directory, as the install step mounts it
INSTALL_DIR = "/devbox/install"
#: what the installer needs (Plan.install_spec(), JSON)
INSTALL_SPEC = INSTALL_DIR + "/install.json"
#: the project's requirements, one line each (the files they include are under INSTALL_DIR)
REQUIREMENTS = INSTALL_DIR + "/requirements.txt"
#: pyproject.toml and uv.lock, for `uv sync` (locked projects only)
LOCK_DIR = INSTALL_DIR + "/lock"
#: the system-packages, one a line, for the apt-get step
SYSTEM_PACKAGES = "/devbox/system-packages.txt"
#: a line of SYSTEM_PACKAGES: the project builds native code and no source sets
#: system-packages, so the step installs what the image lacks of a C compiler and Python's
#: headers (not a Debian package name: those have no ':' before a '=')
NATIVE_AUTO = "devbox:native-build"
#: one tool's spec (tool_spec() in build/dockerfile.py, JSON), in its tool step
TOOL_SPEC = "/devbox/tool.json"
#: the secrets module the scripts import; mounted next to them as SECRETS_MODULE_NAME + ".py"
SECRETS_MODULE_NAME = "devbox_secrets"

# --- build secrets: BuildKit mounts secret ID at SECRETS_DIR/ID (absent when not given) ---

SECRETS_DIR = "/run/secrets"
#: the CA bundle (ca-bundle), PEM
CA_ID = "devbox-ca"
#: the package indexes, JSON with INDEX_SECRET_KEYS (URLs may carry credentials)
INDEX_ID = "devbox-index"
#: secret-env, JSON: variable name → value
ENV_ID = "devbox-env"
CA_SECRET = SECRETS_DIR + "/" + CA_ID
INDEX_SECRET = SECRETS_DIR + "/" + INDEX_ID
ENV_SECRET = SECRETS_DIR + "/" + ENV_ID
INDEX_SECRET_KEYS = ("extra_index_urls", "index_url")

# --- what the steps leave behind ----------------------------------------------------------

#: in ENV_STATUS (install step) and OUT/NAME/PYTHON (tool step)
STATUS_FILE = "status.json"
#: the installer's output, masked, in ENV_STATUS
INSTALL_LOG = "install.log"
#: --affected: the output of adding pytest-testmon (devbox_install.py testmon), masked
AFFECTED_LOG = ENV_STATUS + "/affected.log"
#: a tool's output (stdout and stderr), masked, in OUT/NAME/PYTHON
OUTPUT_FILE = "output"
#: pytest's JUnit XML, in OUT/NAME/PYTHON (tools with junit only)
JUNIT_FILE = "junit.xml"
#: a tool's machine-readable findings (ruff's or mypy's JSON, pylint's json2), masked, in
#: OUT/NAME/PYTHON (tools whose tool_spec()["machine"] is not null; see devbox.tools.spec)
FINDINGS_FILE = "findings.json"
#: devbox explain: what a tool's next run would find changed in the tree (FIELD_CHANGES'
#: form, from the tool's copy's record, nothing copied), in OUT/NAME/PYTHON of its step
EXPLAIN_FILE = "explain.json"

#: STATUS_FILE fields the host reads: the install step's outcome (bool) and what it left
#: installed (FIELD_PACKAGES: normalised distribution name → version) ...
FIELD_OK = "ok"
FIELD_PACKAGES = "packages"
#: ... a tool's (int; -1 when it could not run) ...
FIELD_EXIT_CODE = "exit_code"
#: ... how long it ran (float, seconds) ...
FIELD_DURATION_S = "duration_s"
#: ... that, true, its version's install step had failed, so the tool did not run ...
FIELD_ENVIRONMENT_ERROR = "environment_error"
#: ... (bool) that the tool ran past its time limit (tool_spec()["timeout"]) and was killed ...
FIELD_TIMED_OUT = "timed_out"
#: ... (list of str) what the step warns about though the tool ran (an extension not built)
FIELD_WARNINGS = "warnings"
#: ... and what changed in the tree since the tool's last run (its copy's last sync), or null:
#: {"first": bool, "changed": [path, ...], "changed_count": int, "deleted": [...],
#: "deleted_count": int}, at most CHANGES_LISTED paths each
FIELD_CHANGES = "changes"
#: ... and, for a --affected run (tool_spec()["affected"]), which tests ran: {"selected":
#: bool (pytest-testmon chose them; false: the whole suite), "reason": str (why the whole
#: suite; "" when selected)}
FIELD_AFFECTED = "selection"

#: A tool step's last output line is MARKER, a space and the exit code, or ENV_MARKER or
#: TIMEOUT_MARKER alone: the live view knows the outcome from the log before anything is
#: exported.
MARKER = "devbox-exit-code:"
ENV_MARKER = "devbox-environment-error"
TIMEOUT_MARKER = "devbox-timeout"
#: ... and the line before it is DURATION_MARKER, a space and the seconds the tool took (the
#: status file's duration), so the live view shows the duration the summary shows.
DURATION_MARKER = "devbox-duration-s:"

# --- the JSON specs the host writes and the scripts read ----------------------------------

#: In the secret-env secret (devbox-env), this variable with COLOUR_VALUE says devbox prints
#: to a colour terminal: the tool step gives test tools their colour option. A secret, so it
#: changes no step's cache key; the value is distinctive, as every secret-env value is masked.
COLOUR_VAR = "DEVBOX_COLOUR_TERMINAL"
COLOUR_VALUE = "devbox-colour-terminal-on"

#: the keys of tool_spec() (build/dockerfile.py), all read by run.py; "timeout": seconds or null
TOOL_SPEC_KEYS = (
    "affected",
    "command",
    "env",
    "installer",
    "junit",
    "kind",
    "machine",
    "name",
    "native",
    "project_install",
    "timeout",
    "version",
)
#: the keys of tool_spec()["machine"], when it is not null (how the step gets a tool's
#: machine-readable findings: build/dockerfile.py machine_spec())
MACHINE_KEYS = ("args", "drop", "how", "min_major")
#: the keys of Plan.install_spec() (build/plan.py) that install.py reads
INSTALL_SPEC_KEYS = (
    "entry_points",
    "import_root",
    "installer",
    "lock",
    "metadata",
    "metadata_note",
    "name",
    "project_install",
    "refresh",
    "version",
)
#: install_spec() keys no script reads: there so that the dependency stage's cache key (the
#: mounted install.json's content) changes with them; "indexes" are the redacted index URLs.
INSTALL_SPEC_CACHE_KEYS = ("indexes",)
#: the keys of install_spec()["lock"], when it is not null
LOCK_KEYS = ("extras", "groups")
