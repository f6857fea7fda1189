"""devbox.edit.pyproject: a [tool.devbox] table spliced into pyproject.toml, nothing else changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from devbox.edit.pyproject import check_result, insert_table, splice
from devbox.errors import ConfigError

PATH = Path("pyproject.toml")
TABLE = '[tool.devbox]\npython = "3.12"\n'


def test_a_missing_file_is_the_table_alone() -> None:
    assert insert_table(None, TABLE, force=False, path=PATH) == (TABLE, False)


@pytest.mark.parametrize(
    ("old", "sep"),
    [("x = 1\n", "\n"), ("x = 1\n\n", ""), ("x = 1", "\n\n"), ("", "")],
)
def test_the_table_is_appended_after_one_blank_line(old: str, sep: str) -> None:
    assert insert_table(old, TABLE, force=False, path=PATH) == (old + sep + TABLE, False)


def test_crlf_files_get_crlf_lines() -> None:
    new, _ = insert_table("x = 1\r\n", TABLE, force=False, path=PATH)
    assert new == "x = 1\r\n\r\n" + TABLE.replace("\n", "\r\n")


def test_an_existing_table_is_left_alone_without_force() -> None:
    with pytest.raises(ConfigError, match=r"already exists.*--force"):
        insert_table(TABLE, TABLE, force=False, path=PATH)


def test_force_replaces_the_table_and_its_sub_tables_only() -> None:
    old = (
        "# top\n[project]\nname = 'x'\n\n"
        '[tool.devbox]\npython = "3.11"\n# about devbox\n\n'
        "# about other\n[tool.other]\ns = '''\n[tool.devbox]\n'''\n\n"
        '[tool.devbox.tools.t]\ncommand = ["t"]\n'
    )
    new, replaced = insert_table(old, TABLE, force=True, path=PATH)
    assert replaced
    assert new == (
        "# top\n[project]\nname = 'x'\n\n"
        + TABLE
        + "\n# about other\n[tool.other]\ns = '''\n[tool.devbox]\n'''\n"
    )


def test_a_table_written_as_dotted_keys_cannot_be_replaced() -> None:
    with pytest.raises(ConfigError, match="dotted keys or an inline table"):
        splice('tool.devbox.python = "3.11"\n', TABLE, True, PATH)


def test_a_result_that_changes_other_data_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"only \[tool\.devbox\] changed"):
        check_result("x = 1\n", "x = 2\n" + TABLE, TABLE, PATH)
    check_result("x = 1\n", "x = 1\n" + TABLE, TABLE, PATH)
