"""devbox: run a Python project's linters and tests in containers, through Docker BuildKit."""

__version__ = "0.1.0"
