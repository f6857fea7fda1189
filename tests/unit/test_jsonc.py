"""devbox.edit.jsonc: JSON with comments read with offsets, and edited in place."""

from __future__ import annotations

import pytest

from devbox.edit import jsonc
from devbox.errors import ConfigError


def test_a_document_with_comments_and_trailing_commas_is_read_with_offsets() -> None:
    text = '// head\n{\n  "a": [1, /* one */ "two",],\n  "b": null, // tail\n}\n'
    root = jsonc.parse(text, "f.json")
    assert root is not None and root.kind == "object"
    assert root.keys == ["a", "b"]
    array = root.children[0]
    assert array.kind == "array"
    assert [text[c.start : c.end] for c in array.children] == ["1", '"two"']
    assert array.children[1].value == "two"
    assert array.commas[-1] is not None  # the trailing comma is kept track of
    assert [text[k] for k in root.key_starts] == ['"', '"']


def test_only_comments_is_no_document() -> None:
    assert jsonc.parse("// nothing\n/* here */\n", "f.json") is None


def test_the_last_of_repeated_members_is_the_one_found() -> None:
    root = jsonc.parse('{"k": 1, "k": 2}', "f.json")
    assert root is not None and root.member_index("k") == 1 and root.member_index("x") is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{\n  "a": 1\n  "b": 2\n}', "line 3, column 3"),
        ("{\n /* open", "line 2, column 2"),
        ("[1, 2", "line 1, column 6"),
        ("[01]", "line 1, column 2"),
    ],
)
def test_an_unreadable_document_names_the_file_and_the_place(text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=rf"^f\.json: cannot read it .*\({where}\)"):
        jsonc.parse(text, "f.json")


def test_an_element_alone_on_its_line_is_removed_with_the_line() -> None:
    text = "[\n  1,\n  2\n]"
    root = jsonc.parse(text, "f.json")
    assert root is not None
    edit = jsonc.removal(text, root.children[0], root.commas[0])
    assert jsonc.apply(text, [edit]) == "[\n  2\n]"


def test_appending_keeps_a_comment_after_the_last_element() -> None:
    text = "[\n  1 // one\n]"
    root = jsonc.parse(text, "f.json")
    assert root is not None
    edits = jsonc.append(text, root, ["2"], "  ", "", trailing_comma=False, nl="\n")
    assert jsonc.apply(text, edits) == "[\n  1, // one\n  2\n]"


def test_appending_to_a_one_line_container_moves_its_closing_bracket() -> None:
    text = "{}"
    root = jsonc.parse(text, "f.json")
    assert root is not None
    edits = jsonc.append(text, root, ['"a": 1'], "    ", "", trailing_comma=False, nl="\r\n")
    assert jsonc.apply(text, edits) == '{\r\n    "a": 1\r\n}'


def test_indentation_is_only_blanks_before_a_position() -> None:
    text = '  "a"\nx "b"'
    assert jsonc.indent_at(text, 2) == "  "
    assert jsonc.indent_at(text, text.index('"b"')) is None


def test_render_indents_continuation_lines() -> None:
    assert jsonc.render({"a": 1}, "  ", "  ", "\n") == '{\n    "a": 1\n  }'
