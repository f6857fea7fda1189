"""The registry: every built-in tool brings all its pieces, and they agree with each other.

For each tool in :data:`devbox.tools.BUILTIN`: sample outputs under
``tests/data/outputs/NAME/`` (``passed*.txt`` for a passing run), a parser that reads a
finding in every failing sample, VS Code problem matchers that point at the lines the parser
read (same file, same line), and clues for ``devbox init``.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import pytest

from devbox.results.findings import Finding, clean_path, lines, read_lines
from devbox.tools import BUILTIN, Tool
from devbox.tools import spec as tool_spec

OUTPUTS = Path(__file__).parents[1] / "data" / "outputs"
NAMES = list(BUILTIN)

#: Lines a tool's parser reads that no matcher of it does: what VS Code has never shown.
#: Adding matchers for them would change the tasks.json devbox writes.
UNMATCHED = {
    # black's syntax errors
    "black": re.compile(r"^error: cannot (?:parse|format)\b"),
    # pytest locations without an exception name: --tb=short ("path:5: in helper"), a frame
    # inside the project when the error was raised outside it ("path:20: "), --tb=line with a
    # bare assert ("path:7: assert 2 == 1"), a syntax error while collecting ('E File "path"')
    "pytest": re.compile(r'^[^\s:][^:]*:\d+: (?!(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?::|$))|^E\s+File "'),
}


def samples(name: str) -> list[Path]:
    return sorted((OUTPUTS / name).glob("*.txt"))


def failing_samples(name: str) -> list[Path]:
    return [p for p in samples(name) if not p.name.startswith("passed")]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def finding_lines(tool: Tool, text: str) -> dict[int, Finding]:
    """Which line each finding was read from."""
    text_lines = lines(text)
    at: dict[int, Finding] = {}
    if tool.line_formats:
        for i in range(len(text_lines)):
            found = (f(text_lines, i) for f in tool.line_formats)
            finding = next((f for f in found if f is not None), None)
            if finding is not None:
                at[i] = finding
        return at
    # Read as a whole (pytest): the lines naming the findings' locations.
    for finding in tool.parse(text):
        for i, line in enumerate(text_lines):
            if line.startswith(f"{finding.path}:{finding.line}:") or re.match(
                rf'^E\s+File "{re.escape(finding.path)}", line {finding.line}\b', line
            ):
                at[i] = finding
    return at


def patterns(matcher: dict[str, Any]) -> list[dict[str, Any]]:
    pattern = matcher["pattern"]
    return pattern if isinstance(pattern, list) else [pattern]


def matched(matcher: dict[str, Any], text_lines: list[str]) -> dict[int, tuple[str, str | None]]:
    """What VS Code reads with one matcher: (file, line) by each line of a match."""
    regexes = [(re.compile(p["regexp"], re.ASCII), p) for p in patterns(matcher)]
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(len(text_lines) - len(regexes) + 1):
        groups: dict[str, str | None] = {}
        for k, (regex, pattern) in enumerate(regexes):
            m = regex.match(text_lines[start + k])
            if m is None:
                break
            groups.update(
                {key: m.group(pattern[key]) for key in ("file", "line") if key in pattern}
            )
        else:
            for k in range(len(regexes)):
                found[start + k] = (groups["file"] or "", groups.get("line"))
    return found


# --- the pieces are there ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_tool_has_every_piece(name: str) -> None:
    tool = BUILTIN[name]
    assert tool.name == name
    assert tool.command and tool.packages
    assert callable(tool.parse)
    assert tool.matchers, "no VS Code problem matcher"
    assert tool.detect, "no clue for devbox init"
    assert failing_samples(name), f"no sample output in {OUTPUTS / name}"


# --- the parser -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_parser_reads_every_failing_sample_and_nothing_in_passing_ones(name: str) -> None:
    tool = BUILTIN[name]
    for path in samples(name):
        found = tool.parse(read(path))
        if path.name.startswith("passed"):
            assert found == [], path
        else:
            assert found, f"{path}: no finding"
            assert all(f.path and f.line >= 1 for f in found), path


@pytest.mark.parametrize("name", [n for n in NAMES if BUILTIN[n].line_formats])
def test_a_line_tool_parses_with_its_declared_line_formats(name: str) -> None:
    # The formats are also what a tool devbox does not know is tried with.
    tool = BUILTIN[name]
    for path in samples(name):
        assert tool.parse(read(path)) == read_lines(lines(read(path)), tool.line_formats), path


# --- the matchers -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_matcher_regexps_compile_in_python(name: str) -> None:
    for matcher in BUILTIN[name].matchers:
        for pattern in patterns(matcher):
            re.compile(pattern["regexp"], re.ASCII)
        assert matcher["fileLocation"] == tool_spec.FILE_LOCATION


@pytest.mark.parametrize("name", NAMES)
def test_the_matchers_read_the_lines_the_parser_turned_into_findings(name: str) -> None:
    tool = BUILTIN[name]
    unmatched = UNMATCHED.get(name)
    for path in failing_samples(name):
        text_lines = lines(read(path))
        by_line: dict[int, tuple[str, str | None]] = {}
        for matcher in tool.matchers:
            by_line.update(matched(matcher, text_lines))
        for i, finding in finding_lines(tool, read(path)).items():
            if i not in by_line:
                assert unmatched is not None and unmatched.match(text_lines[i]), (
                    f"{path.name}: no matcher of {name} reads {text_lines[i]!r}"
                )
                continue
            file, line = by_line[i]
            assert clean_path(file) == finding.path, (path.name, text_lines[i])
            assert line is None or max(int(line), 1) == finding.line, (path.name, text_lines[i])


@pytest.mark.parametrize("name", NAMES)
def test_every_matcher_reads_some_finding_of_its_tool(name: str) -> None:
    tool = BUILTIN[name]
    for matcher in tool.matchers:
        used = False
        for path in failing_samples(name):
            text_lines = lines(read(path))
            used |= bool(matched(matcher, text_lines).keys() & finding_lines(tool, read(path)))
        assert used, f"{matcher['owner']} reads no finding in {name}'s samples"


# --- the clues for devbox init ----------------------------------------------------------------


def _make(root: Path, clue: object) -> dict[str, Any]:
    """Make ``clue`` true in the project at ``root``; returns its pyproject [tool] table."""
    if isinstance(clue, tool_spec.Table | tool_spec.TableKey):
        keys = (*clue.table, clue.key) if isinstance(clue, tool_spec.TableKey) else clue.keys
        table: dict[str, Any] = {}
        node = table
        for key in keys:
            node = node.setdefault(key, {})
        return table
    if isinstance(clue, tool_spec.TablePrefix):
        return {clue.prefix: {}}
    if isinstance(clue, tool_spec.File):
        (root / clue.name).write_text("")
    elif isinstance(clue, tool_spec.Dir):
        (root / clue.name).mkdir()
    elif isinstance(clue, tool_spec.IniSection):
        (root / clue.file).write_text(f"[{clue.section}]\n")
    elif isinstance(clue, tool_spec.TomlTable):
        (root / clue.file).write_text(f"[{clue.key}]\n")
    else:
        raise AssertionError(f"a clue this test cannot make: {clue!r}")
    return {}


def _project(root: Path, tool: dict[str, Any]) -> tool_spec.Project:
    ini: dict[str, configparser.ConfigParser | None] = {}
    for name in tool_spec.INI_FILES:
        parser = None
        if (root / name).is_file():
            parser = configparser.ConfigParser()
            parser.read(root / name)
        ini[name] = parser
    return tool_spec.Project(root, tool, ini)


@pytest.mark.parametrize("name", NAMES)
def test_each_clue_is_found_where_it_is_and_nowhere_else(name: str, tmp_path: Path) -> None:
    clues = BUILTIN[name].detect
    assert len({c.where for c in clues}) == len(clues), "two clues with one description"
    for i, clue in enumerate(clues):
        if isinstance(clue, tool_spec.IniSection):
            assert clue.file in tool_spec.INI_FILES, "init does not read that file"
        root = tmp_path / str(i)
        root.mkdir()
        assert not clue.found(_project(root, {})), clue
        assert clue.found(_project(root, _make(root, clue))), clue
