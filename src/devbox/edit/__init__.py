"""Byte-preserving edits of files the user asked devbox to write.

Each editor changes only what devbox owns in a file and keeps every other byte (comments,
layout, line endings, what others wrote): :mod:`devbox.edit.jsonc` reads JSON with comments
and edits it in place, :mod:`devbox.edit.vscode` merges devbox's tasks into
``.vscode/tasks.json``, and :mod:`devbox.edit.pyproject` splices a ``[tool.devbox]`` table
into pyproject.toml and checks that nothing else changed.
"""
