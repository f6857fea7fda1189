"""Declarations in the project's Python files, read from their syntax tree and never run.

setup.py's ``extras_require`` and ``tests_require`` and a noxfile's test session
(``session.install(...)`` calls) are Python code, not data. devbox never executes the
project's code on the host, so these are read with :mod:`ast`: string, list, tuple, set and
dict literals, ``+`` of those, ``dict(key=...)``, and names bound to such values earlier in the
file (``TESTS = ["pytest"]`` ... ``extras_require={"test": TESTS}``, ``extras["test"] = ...``).
Anything else (a value computed by a function, read from a file) is unknown: it is left out,
and what was left out is said. A file that does not parse is not used, with a note.

Why no build backend hook: asking setuptools for the metadata means running setup.py, which
devbox does only inside the container; the literal reading covers the extras real projects
declare (see docs/parity.md), and the rest can be named in ``[tool.devbox] packages``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "NoxSession",
    "SetupPy",
    "module_strings",
    "nox_test_session",
    "read_setup_py",
]

#: file size above which a Python file is not parsed (a generated setup.py, say)
MAX_BYTES = 1_000_000


class _Unknown:
    """A value that is not a literal (computed when the file runs)."""


UNKNOWN = _Unknown()


def _parse(path: Path, notes: list[str]) -> ast.Module | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        return ast.parse(path.read_bytes(), filename=path.name)
    except (OSError, SyntaxError, ValueError) as exc:
        notes.append(f"{path.name} could not be parsed ({type(exc).__name__}): it was not used.")
        return None


class _Names:
    """Literal values bound to names, in the order the file binds them."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def value(self, node: ast.AST | None) -> object:
        if node is None:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else UNKNOWN
        if isinstance(node, ast.Name):
            return self.values.get(node.id, UNKNOWN)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items: list[object] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    inner = self.value(elt.value)
                    if not isinstance(inner, list):
                        return UNKNOWN
                    items += inner
                else:
                    items.append(self.value(elt))
            return items
        if isinstance(node, ast.Dict):
            out: dict[str, object] = {}
            for key, val in zip(node.keys, node.values, strict=True):
                if key is None:  # {**other}
                    inner = self.value(val)
                    if not isinstance(inner, dict):
                        return UNKNOWN
                    out.update(inner)
                    continue
                k = self.value(key)
                if not isinstance(k, str):
                    return UNKNOWN
                out[k] = self.value(val)
            return out
        if isinstance(node, ast.Subscript):
            container, index = self.value(node.value), self.value(node.slice)
            if isinstance(container, dict) and isinstance(index, str):
                return container.get(index, UNKNOWN)
            return UNKNOWN
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(left, list) and isinstance(right, list):
                return left + right
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            return UNKNOWN
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "dict" and len(node.args) <= 1:
                base = self.value(node.args[0]) if node.args else {}
                if not isinstance(base, dict):
                    return UNKNOWN
                out = dict(base)
                for kw in node.keywords:
                    if kw.arg is None:
                        return UNKNOWN
                    out[kw.arg] = self.value(kw.value)
                return out
            if node.func.id in ("list", "tuple", "sorted", "set") and len(node.args) == 1:
                inner = self.value(node.args[0])
                return list(inner) if isinstance(inner, list) else UNKNOWN
        return UNKNOWN

    def bind(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            value = self.value(stmt.value)
            for target in stmt.targets:
                self._store(target, value)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self._store(stmt.target, self.value(stmt.value))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            if isinstance(stmt.target, ast.Name):
                old, new = self.values.get(stmt.target.id, UNKNOWN), self.value(stmt.value)
                if isinstance(old, list) and isinstance(new, list):
                    self.values[stmt.target.id] = old + new
                else:
                    self.values[stmt.target.id] = UNKNOWN
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._mutate(stmt.value)

    def _store(self, target: ast.expr, value: object) -> None:
        if isinstance(target, ast.Name):
            self.values[target.id] = value
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            base = self.values.get(target.value.id)
            key = self.value(target.slice)
            if isinstance(base, dict) and isinstance(key, str):
                base[key] = value

    def _mutate(self, call: ast.Call) -> None:
        """``X.append(...)``, ``X.extend(...)``, ``X.update(...)`` on a known list or dict."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return
        base = self.values.get(func.value.id)
        args = [self.value(a) for a in call.args]
        if isinstance(base, list) and func.attr == "append" and len(args) == 1:
            base.append(args[0])
        elif isinstance(base, list) and func.attr == "extend" and len(args) == 1:
            if isinstance(args[0], list):
                base.extend(args[0])
            else:
                self.values[func.value.id] = UNKNOWN
        elif (
            isinstance(base, dict)
            and func.attr == "update"
            and len(args) == 1
            and isinstance(args[0], dict)
        ):
            base.update(args[0])


def _statements(body: Iterable[ast.stmt]) -> Iterable[ast.stmt]:
    """Every statement in source order, including those in if/try/with/def bodies."""
    for stmt in body:
        yield stmt
        for attr in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, attr, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(stmt, "handlers", ()):
            yield from _statements(handler.body)


def _calls(node: ast.AST) -> Iterable[ast.Call]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            yield sub


def _strings(value: object) -> tuple[list[str], bool]:
    """The strings of a list (or of a multi-line string, as setuptools reads one), and
    whether everything in it was a literal string."""
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()], True
    if not isinstance(value, list):
        return [], False
    out = [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return out, len(out) == len([v for v in value if not (isinstance(v, str) and not v.strip())])


def module_strings(path: Path, name: str) -> list[str]:
    """The strings a module-level name is bound to as a literal (a string, or a list of
    them), e.g. conftest.py's ``pytest_plugins``; [] when it is not, or not literal."""
    tree = _parse(path, [])
    if tree is None:
        return []
    names = _Names()
    for stmt in tree.body:
        names.bind(stmt)
    value = names.values.get(name)
    if isinstance(value, str):
        return [value]
    strings, _ = _strings(value)
    return strings if isinstance(value, list) else []


# --- setup.py ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupPy:
    """What setup.py's ``setup(...)`` call declares as literals."""

    #: extra → requirement strings (only extras whose every entry is a literal)
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``tests_require`` (deprecated by setuptools, still declared by older projects)
    tests_require: tuple[str, ...] = ()
    #: what could not be read as literals ("extras_require", "extras_require['docs']")
    unknown: tuple[str, ...] = ()


def _is_setup_call(call: ast.Call) -> bool:
    func = call.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    return name == "setup"


def read_setup_py(root: Path, notes: list[str] | None = None) -> SetupPy:
    """setup.py's extras and tests_require, read as literals (:class:`SetupPy`; empty when
    there is no setup.py, or no ``setup(...)`` call with those keywords).

    One run asks several times (the choice, the plan, the hints): the file is parsed once
    per version of it (its inode, size, mtime and ctime)."""
    path = root / "setup.py"
    try:
        st = path.stat()
    except OSError:
        return SetupPy()
    found, note = _setup_py(str(path), (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    if note and notes is not None:
        notes.append(note)
    return found


@functools.lru_cache(maxsize=32)
def _setup_py(path: str, version: tuple[int, ...]) -> tuple[SetupPy, str | None]:
    said: list[str] = []
    tree = _parse(Path(path), said)
    if tree is None:
        return SetupPy(), (said[0] if said else None)
    return _setup_literals(tree), None


def _setup_literals(tree: ast.Module) -> SetupPy:
    names = _Names()
    kwargs: dict[str, object] = {}
    for stmt in _statements(tree.body):
        for call in _calls(stmt) if not isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) else ():
            if _is_setup_call(call):
                for kw in call.keywords:
                    if kw.arg in ("extras_require", "tests_require"):
                        kwargs[kw.arg] = names.value(kw.value)
                    elif kw.arg is None:  # setup(**kwargs)
                        spread = names.value(kw.value)
                        if isinstance(spread, dict):
                            for key in ("extras_require", "tests_require"):
                                if key in spread:
                                    kwargs[key] = spread[key]
        names.bind(stmt)
    extras: dict[str, tuple[str, ...]] = {}
    unknown: list[str] = []
    raw = kwargs.get("extras_require")
    if isinstance(raw, dict):
        for key, value in raw.items():
            reqs, complete = _strings(value)
            if complete:
                extras[key] = tuple(reqs)
            else:
                unknown.append(f"extras_require[{key!r}]")
    elif "extras_require" in kwargs:
        unknown.append("extras_require")
    tests, complete = _strings(kwargs.get("tests_require", []))
    if not complete:
        unknown.append("tests_require")
        tests = []
    return SetupPy(extras, tuple(tests), tuple(unknown))


# --- noxfile.py -------------------------------------------------------------------------------

#: session names that say "the tests" (preferred, in this order)
NOX_TEST_NAMES = ("tests", "test", "pytest", "unit", "unittests", "unit_tests")

_VALUED_OPTIONS = frozenset(
    {"-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f", "--find-links"}
)


@dataclass(frozen=True)
class NoxSession:
    """One noxfile session's ``session.install(...)`` arguments, sorted by kind."""

    name: str
    packages: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    #: extras of the project itself (``.[test]``, ``-e .[test]``)
    self_extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    #: arguments devbox does not carry over (options, paths, values it could not read)
    skipped: tuple[str, ...] = ()


def _decorated_session(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The session's name when ``fn`` is decorated with nox.session / session (else None)."""
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = (
            target.attr
            if isinstance(target, ast.Attribute)
            else target.id
            if isinstance(target, ast.Name)
            else ""
        )
        if name != "session":
            continue
        if isinstance(dec, ast.Call):
            for kw in dec.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    return str(kw.value.value)
        return fn.name
    return None


def _runs_pytest(fn: ast.AST, param: str) -> bool:
    for call in _calls(fn):
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "run"
            and isinstance(func.value, ast.Name)
            and func.value.id == param
        ):
            continue
        words = [a.value for a in call.args if isinstance(a, ast.Constant)]
        if "pytest" in words or "py.test" in words:
            return True
    return False


def _install_args(fn: ast.AST, param: str, names: _Names) -> list[object]:
    args: list[object] = []
    for call in _calls(fn):
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "install"
            and isinstance(func.value, ast.Name)
            and func.value.id == param
        ):
            for arg in call.args:
                if isinstance(arg, ast.Starred):
                    inner = names.value(arg.value)
                    args += inner if isinstance(inner, list) else [UNKNOWN]
                else:
                    args.append(names.value(arg))
    return args


def _sort_install_args(name: str, args: list[object]) -> NoxSession:
    packages: list[str] = []
    files: list[str] = []
    self_extras: list[str] = []
    groups: list[str] = []
    skipped: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        i += 1
        if not isinstance(arg, str):
            skipped.append("(a value computed when the noxfile runs)")
            continue
        if arg in ("-r", "--requirement") and isinstance(nxt, str):
            files.append(nxt)
            i += 1
        elif arg.startswith("--requirement="):
            files.append(arg.partition("=")[2])
        elif arg == "--group" and isinstance(nxt, str):
            groups.append(nxt)
            i += 1
        elif arg == "-e" and isinstance(nxt, str):
            i += 1
            _self(nxt, self_extras, skipped)
        elif arg in _VALUED_OPTIONS:
            skipped.append(f"{arg} {nxt}" if isinstance(nxt, str) else arg)
            i += 1
        elif arg.startswith("-"):
            skipped.append(arg)
        elif arg.startswith("."):
            _self(arg, self_extras, skipped)
        else:
            packages.append(arg)
    return NoxSession(
        name, tuple(packages), tuple(files), tuple(self_extras), tuple(groups), tuple(skipped)
    )


def _self(spec: str, extras: list[str], skipped: list[str]) -> None:
    """``.`` / ``.[a,b]``: the project itself (installed anyway), with extras."""
    path, _, rest = spec.partition("[")
    if path.rstrip("/") != "." or (rest and not rest.endswith("]")):
        skipped.append(spec)
        return
    extras += [e.strip() for e in rest.rstrip("]").split(",") if e.strip()]


def nox_test_session(root: Path, notes: list[str] | None = None) -> NoxSession | None:
    """The noxfile's test session (named for tests, else the one session that runs pytest),
    with what it installs; None when there is no noxfile or no such session."""
    tree = _parse(root / "noxfile.py", notes if notes is not None else [])
    if tree is None:
        return None
    names = _Names()
    sessions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            session = _decorated_session(stmt)
            if session is not None:
                sessions.append((session, stmt))
        else:
            for inner in _statements([stmt]):
                names.bind(inner)
    by_name = {n: fn for n, fn in sessions}
    chosen = next(((n, by_name[n]) for n in NOX_TEST_NAMES if n in by_name), None)
    if chosen is None:
        running = [
            (n, fn) for n, fn in sessions if fn.args.args and _runs_pytest(fn, fn.args.args[0].arg)
        ]
        if len(running) != 1:
            return None
        chosen = running[0]
    name, fn = chosen
    if not fn.args.args:
        return None
    param = fn.args.args[0].arg
    local = _Names()
    local.values = {k: (list(v) if isinstance(v, list) else v) for k, v in names.values.items()}
    for stmt in _statements(fn.body):
        local.bind(stmt)
    return _sort_install_args(name, _install_args(fn, param, local))
