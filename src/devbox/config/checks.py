"""Validator combinators for ``[tool.devbox]`` values.

Each combinator builds a :class:`Check`: called on a value it returns the normalized value or
raises ``ValueError("what was expected")``, and :meth:`Check.schema` states the same rule as a
JSON-Schema (draft-07) fragment.  A key's schema is derived from its check, so the shipped schema
cannot drift from what the loader accepts.

Regular expressions are written once, as bodies that must match the whole string.  They are
written so that Python's ``re`` (the loader, and python-jsonschema) and ECMA-262 (what JSON
Schema specifies) read them the same way: no ``\\s`` (the two dialects disagree on a few
characters; :data:`WHITESPACE` spells out Python's set) and, in the schema, an end anchor that
does not match before a final newline (Python's ``$`` does, ECMA's does not).
"""

from __future__ import annotations

import difflib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

T_co = TypeVar("T_co", covariant=True)
B = TypeVar("B")

#: What ``str.isspace``, ``str.strip`` and Python's ``\s`` treat as whitespace, as the inside of
#: a character class; spelled out because ECMA-262's ``\s`` is a slightly different set.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

#: one line, no leading or trailing whitespace, no NUL (what ``s == s.strip()`` and no
#: line break or NUL in ``s`` mean)
SINGLE_LINE = rf"[^{WHITESPACE}\x00]|[^{WHITESPACE}\x00][^\n\r\x00]*[^{WHITESPACE}\x00]"


def describe(value: object) -> str:
    """A value as error messages show it: its repr and its TOML kind."""
    kinds = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return f"{value!r} ({kinds.get(type(value), type(value).__name__)})"


def suggest(name: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a close match exists, else an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def group(body: str) -> str:
    """``body`` wrapped in ``(?:...)`` when it has a top-level ``|`` (so it can be embedded)."""
    depth, in_class, escaped = 0, False, False
    for c in body:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return f"(?:{body})"
    return body


def anchored(body: str) -> str:
    """``body`` as a JSON-Schema pattern matching whole strings only, in both regex dialects.

    ``(?!\\n)`` keeps Python's ``$`` from matching before a final newline; for ECMA-262 it is a
    no-op, as its ``$`` is the end of input.
    """
    return f"^{group(body)}$(?!\\n)"


class Check(ABC, Generic[T_co]):
    """A value's rule: validates and normalizes (``__call__``) and describes itself (``schema``)."""

    @abstractmethod
    def __call__(self, value: object) -> T_co:
        """The normalized value; ``ValueError(what was expected)`` when it is not legal."""

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """The JSON-Schema fragment accepting exactly the values ``__call__`` accepts."""


class String(Check[str]):
    """A string fully matching every rule, in order: ``(body, what was expected)`` pairs.

    ``max_length`` is checked with the first rule and reported with its message.
    ``not_a_string`` is the message for a value that is not a string (default: the first rule's).
    """

    def __init__(
        self,
        *rules: tuple[str, str],
        max_length: int | None = None,
        not_a_string: str | None = None,
        normalize: Callable[[str], str] | None = None,
    ) -> None:
        if not rules:
            raise TypeError("String needs at least one rule")
        self.rules = rules
        self._compiled = [(re.compile(f"(?:{body})"), expected) for body, expected in rules]
        self.max_length = max_length
        self.not_a_string = not_a_string or rules[0][1]
        self.normalize = normalize

    def __call__(self, value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(self.not_a_string)
        return self.item(value)

    def item(self, value: str) -> str:
        """Check a value already known to be a string (as an item of a list or table)."""
        for i, (regex, expected) in enumerate(self._compiled):
            too_long = i == 0 and self.max_length is not None and len(value) > self.max_length
            if too_long or not regex.fullmatch(value):
                raise ValueError(expected)
        return self.normalize(value) if self.normalize else value

    def matches(self, value: str) -> bool:
        try:
            self.item(value)
        except ValueError:
            return False
        return True

    def schema(self) -> dict[str, Any]:
        patterns = [anchored(body) for body, _ in self.rules]
        result: dict[str, Any] = {"type": "string"}
        if len(patterns) == 1:
            result["pattern"] = patterns[0]
        else:
            result["allOf"] = [{"pattern": p} for p in patterns]
        if self.max_length is not None:
            result["maxLength"] = self.max_length
        return result


class Choice(Check[str]):
    """One of a few fixed strings."""

    def __init__(self, *choices: str, expected: str) -> None:
        self.choices = choices
        self.expected = expected

    def __call__(self, value: object) -> str:
        if value not in self.choices:
            raise ValueError(self.expected)
        return str(value)

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


class Bool(Check[bool]):
    def __call__(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Seconds(Check[float]):
    """A duration in seconds: a number (integer or float, not a boolean) above 0 and at most
    ``maximum``; normalized to a float."""

    def __init__(self, maximum: float, *, expected: str) -> None:
        self.maximum = maximum
        self.expected = expected

    def __call__(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(self.expected)
        # NaN fails both comparisons: refused too
        if not (0 < value <= self.maximum):
            raise ValueError(self.expected)
        return float(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "number", "exclusiveMinimum": 0, "maximum": self.maximum}


class StringList(Check[tuple[str, ...]]):
    """An array of strings, each checked by ``item``; a tuple, duplicates dropped if ``unique``.

    Messages: ``not_a_list`` (default "an array of strings (WHAT)") when the value is not an
    array of strings, then the first bad item's, then ``too_few`` when under ``min_items``.
    """

    def __init__(
        self,
        item: String,
        what: str = "",
        *,
        unique: bool = True,
        min_items: int = 0,
        not_a_list: str | None = None,
        too_few: str = "",
    ) -> None:
        # The schema's minItems counts duplicates, the loader counts distinct items: the two
        # agree only for 0 and 1.
        if unique and min_items > 1:
            raise ValueError("min_items above 1 cannot be stated in the schema of a unique list")
        self.item = item
        self.not_a_list = not_a_list or f"an array of strings ({what})"
        self.unique = unique
        self.min_items = min_items
        self.too_few = too_few

    def __call__(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(self.not_a_list)
        items = [self.item.item(v) for v in value]
        result = tuple(dict.fromkeys(items)) if self.unique else tuple(items)
        if len(result) < self.min_items:
            raise ValueError(self.too_few)
        return result

    def schema(self) -> dict[str, Any]:
        # duplicates are allowed: the loader drops them
        result: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            result["minItems"] = self.min_items
        return result


class OneOrList(Check[tuple[str, ...]]):
    """A list of strings, or one string of comma-separated items (spaces around them ignored).

    The string form's pattern is derived from the item's single rule, which must not match
    text containing a comma or starting or ending with a space.
    """

    def __init__(self, items: StringList, *, expected: str) -> None:
        if len(items.item.rules) != 1 or items.item.max_length is not None:
            raise ValueError("the string form can be derived from one item rule only")
        self.items = items
        self.expected = expected

    def __call__(self, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [v.strip(" ") for v in value.split(",") if v.strip(" ")]
        if not isinstance(value, list):
            raise ValueError(self.expected)
        return self.items(value)

    def schema(self) -> dict[str, Any]:
        item = group(self.items.item.rules[0][0])
        # Blank parts (only spaces) are dropped; items are separated by at least one comma.
        some = f"[ ,]*{item}(?: *,[ ,]*{item})*[ ,]*"
        body = some if self.items.min_items else f"[ ,]*(?:{some})?"
        return {"oneOf": [{"type": "string", "pattern": anchored(body)}, self.items.schema()]}


class StringTable(Check[Mapping[str, str]]):
    """A table whose names match ``key`` and whose values are strings matching ``value``."""

    def __init__(self, key: String, value: String, *, not_a_table: str, bad_entry: str) -> None:
        self.key = key
        self.value = value
        self.not_a_table = not_a_table
        self.bad_entry = bad_entry

    def __call__(self, value: object) -> Mapping[str, str]:
        if not isinstance(value, dict):
            raise ValueError(self.not_a_table)
        for k, v in value.items():
            if not self.key.matches(k) or not isinstance(v, str) or not self.value.matches(v):
                raise ValueError(f"{self.bad_entry}; {k!r} = {describe(v)} is not")
        return dict(value)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "propertyNames": self.key.schema(),
            "additionalProperties": self.value.schema(),
        }


class ToolTable(Check[Mapping[str, B]]):
    """``[tool.devbox.tools]``: a table of tool tables, each built with ``build(**fields)``.

    Names are checked by ``name``; each table may hold the keys of ``fields`` (checked in that
    order); a tool not in ``builtin`` must give ``required``.
    """

    def __init__(
        self,
        name: String,
        fields: Mapping[str, Check[Any]],
        *,
        builtin: Collection[str],
        required: str,
        build: Callable[..., B],
    ) -> None:
        self.name = name
        self.fields = fields
        self.builtin = builtin
        self.required = required
        self.build = build

    def __call__(self, value: object) -> Mapping[str, B]:
        if not isinstance(value, dict):
            raise ValueError("a table of tool tables, such as [tool.devbox.tools.pytest]")
        return {name: self._tool(name, body) for name, body in value.items()}

    def _tool(self, name: str, body: object) -> B:
        try:
            self.name.item(name)
        except ValueError as exc:
            raise ValueError(f"{exc}; {name!r} is not") from None
        if not isinstance(body, dict):
            raise ValueError(f"a table for tool {name!r}, got {describe(body)}")
        unknown = [k for k in body if k not in self.fields]
        if unknown:
            raise ValueError(
                f"tool {name!r}: unknown key {unknown[0]!r}{suggest(unknown[0], self.fields)}"
            )
        values: dict[str, Any] = {}
        for key, check in self.fields.items():
            if key in body:
                try:
                    values[key] = check(body[key])
                except ValueError as exc:
                    raise ValueError(
                        f"tool {name!r}, key {key!r}: {exc}; got {describe(body[key])}"
                    ) from None
        if name not in self.builtin and self.required not in values:
            raise ValueError(f"tool {name!r} is not built in, so it needs a {self.required!r}")
        return self.build(**{k.replace("-", "_"): v for k, v in values.items()})

    def schema(self) -> dict[str, Any]:
        body = {
            "type": "object",
            "additionalProperties": False,
            "properties": {key: check.schema() for key, check in self.fields.items()},
        }
        return {
            "type": "object",
            "propertyNames": self.name.schema(),
            "additionalProperties": body,
            "allOf": [
                {
                    "$comment": f"a tool that is not built in needs a {self.required!r}",
                    "properties": {name: {} for name in self.builtin},
                    "additionalProperties": {"required": [self.required]},
                }
            ],
        }
