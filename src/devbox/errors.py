"""Every fatal outcome is one class here, carrying its exit code.

Only :mod:`devbox.cli.app.app` turns these into output and an exit code.
"""

from __future__ import annotations


class DevboxError(Exception):
    """Base class: a message for the user and the process exit code."""

    exit_code = 1

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        #: extra text shown below the message (an installer's own error, for example)
        self.detail = detail


class ConfigError(DevboxError):
    """The project's configuration or the command line is invalid (exit 2)."""

    exit_code = 2


class UsageError(ConfigError):
    """A command-line value is invalid (exit 2)."""


class EnvironmentError_(DevboxError):
    """The environment could not be built: engine, buildx, base image, dependencies (exit 3)."""

    exit_code = 3


class EngineUnavailable(EnvironmentError_):
    """No usable Docker Engine or buildx plugin."""


class BuildFailed(EnvironmentError_):
    """The dependency stage (or the base image) failed to build."""


class Interrupted(DevboxError):
    """The user pressed Ctrl-C (exit 130)."""

    exit_code = 130


# Exit codes that are not exceptions.
EXIT_OK = 0
EXIT_TOOLS_FAILED = 1
EXIT_ENVIRONMENT = 3
#: a bug in devbox itself (a crash log is written, see cli._write_crash_log)
EXIT_INTERNAL = 70
