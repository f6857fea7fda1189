"""Parse buildx's ``--progress=rawjson`` stream into per-tool states.

The stream is a sequence of JSON ``SolveStatus`` objects (buildx 0.13 pretty-prints each over
many lines, so objects are decoded incrementally, not per line): ``vertexes`` (digest, name, started, completed,
cached, error), ``statuses`` and ``logs`` (vertex, stream, base64 ``data``).  Vertex updates
are merged by digest.  Non-JSON lines (buildx's final ``ERROR: ...``) are kept as text.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

from devbox.build.contract import DURATION_MARKER, ENV_MARKER, MARKER, TIMEOUT_MARKER
from devbox.build.plan import ENV_STAGE_PREFIX, is_env_stage
from devbox.results.findings import ESCAPES

#: "[tool-ruff 1/1] RUN ..." / "[test-base 3/4] RUN ..." / "[internal] load ..."
_STAGE_RE = re.compile(r"^\[([A-Za-z0-9_.-]+)(?: \d+/\d+)?\]")
#: run.py's last line: "MARKER N" (the tool's exit code), "ENV_MARKER" or "TIMEOUT_MARKER"
_OUTCOME_RE = re.compile(
    rb"^(?:%s (-?\d+)|(%s)|(%s))$"
    % (
        re.escape(MARKER.encode()),
        re.escape(ENV_MARKER.encode()),
        re.escape(TIMEOUT_MARKER.encode()),
    ),
    re.MULTILINE,
)
#: run.py's line before the marker: the tool's duration as measured in the container
_DURATION_RE = re.compile(
    rb"^%s (\d+(?:\.\d+)?)$" % re.escape(DURATION_MARKER.encode()), re.MULTILINE
)
#: keep at most this much log text per vertex (full tool output lives in exported files)
LOG_LIMIT = 256 * 1024

#: the install script's subcommands (devbox_install.py system|bootstrap|deps) as the live
#: view names them
INSTALL_STEPS = {"system": "system packages", "bootstrap": "bootstrap", "deps": "dependencies"}
_INSTALL_STEP_RE = re.compile(r"devbox_install\.py (system|bootstrap|deps)\b")
#: the live view shows at most this much of the installer's last line
DETAIL_WIDTH = 60
#: control characters left once escape sequences are gone (tab, newline and CR are split on)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: the same but ESC, in text whose colours stay
_CONTROLS_BUT_ESC = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]")
#: uv lists each package it installed or removed (" + name==1.0"), pip draws progress bars
#: ("━━━━╸ 1.2/10.6 MB"): not the lines to show
_UV_PACKAGE_LINE = re.compile(r"^\s*[-+~] \S+|^[\u2500-\u259f]")
#: pip's "Successfully installed a-1 b-2" / "Installing collected packages: a, b"
_PIP_INSTALLED = re.compile(r"^Successfully installed (.+)$")
_PIP_COLLECTED = re.compile(r"^Installing collected packages: (.+)$")
_INSTALL_SAY = "devbox-install: "


def sanitize(text: str, width: int = DETAIL_WIDTH) -> str:
    """One line fit for the live view: no escape sequences or control characters, spaces
    collapsed, at most ``width`` characters (cut with an ellipsis)."""
    text = _CONTROLS.sub("", ESCAPES.sub("", text))
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def last_install_line(logs: bytes, width: int = DETAIL_WIDTH) -> str:
    """The installer's last line worth showing, from an install step's log: uv's and pip's
    package counts ("Installed 12 packages in 30ms"; pip's list of names is counted), the
    last line of anything else; not devbox's echo of the command, nor uv's per-package list."""
    text = logs[-16384:].decode("utf-8", "replace")
    for raw in reversed(re.split(r"[\r\n]", text)):
        line = _CONTROLS.sub("", ESCAPES.sub("", raw)).strip()
        if line.startswith(_INSTALL_SAY):
            line = line[len(_INSTALL_SAY) :]
            if line.startswith("$ "):
                continue  # the command devbox runs: long, and the step already says it
        if not line or _UV_PACKAGE_LINE.match(line):
            continue
        m = _PIP_INSTALLED.match(line)
        if m:
            line = f"Successfully installed {_count(m.group(1).split())}"
        m = _PIP_COLLECTED.match(line)
        if m:
            line = f"Installing {_count(m.group(1).split(','))}"
        return sanitize(line, width)
    return ""


def _count(names: list[str]) -> str:
    n = len([name for name in names if name.strip()])
    return f"{n} package" if n == 1 else f"{n} packages"


def _duration(logs: bytes) -> float | None:
    """The in-container duration run.py printed (the one status.json and the summary have)."""
    last = None
    for m in _DURATION_RE.finditer(logs):
        last = m
    return float(last.group(1)) if last else None


def _timestamp(text: str) -> datetime.datetime:
    # "2026-11-29T00:45:23.056908924Z": Python parses at most microseconds.
    m = re.match(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if m is None:
        raise ValueError(f"not a timestamp: {text!r}")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(f"{m.group(1)}.{frac}{zone}")


#: escape sequences other than colours (SGR, "ESC [ ... m"): cursor moves, titles, links
_NOT_COLOUR = re.compile(r"(?!\x1b\[[0-9;]*m)(?:" + ESCAPES.pattern + ")")


def colours_only(text: str) -> str:
    """``text`` without the escape sequences that are not colours: what a tool printed may
    keep its colours on the user's terminal, never drive it."""
    return _NOT_COLOUR.sub("", text)


def _is_run(v: Vertex) -> bool:
    """Whether the vertex is a RUN step ("[stage 1/1] RUN ...")."""
    return " RUN " in f" {v.name.split('] ', 1)[-1]}"


def _outcome(logs: bytes) -> str:
    """The last marker line run.py printed decides (a tool may print marker-like text)."""
    last = None
    for m in _OUTCOME_RE.finditer(logs):
        last = m
    if last is None:
        return "failed"
    if last.group(2) is not None:
        return "error"
    if last.group(3) is not None:
        return "timeout"
    return "passed" if int(last.group(1)) == 0 else "failed"


@dataclass
class Vertex:
    digest: str
    name: str = ""
    started: bool = False
    completed: bool = False
    cached: bool = False
    error: str = ""
    logs: bytearray = field(default_factory=bytearray)
    #: BuildKit's own timestamps (RFC 3339, nanoseconds): the first start, the last completion
    started_at: str = ""
    completed_at: str = ""

    @property
    def duration_s(self) -> float | None:
        """Wall time of the step as BuildKit measured it."""
        if not (self.started_at and self.completed_at):
            return None
        return (_timestamp(self.completed_at) - _timestamp(self.started_at)).total_seconds()

    @property
    def stage(self) -> str | None:
        m = _STAGE_RE.match(self.name)
        return m.group(1) if m else None


@dataclass
class ToolProgress:
    """What the live view shows for one tool.

    Times are the host's monotonic clock, when devbox saw each change; ``duration_s`` is the
    tool's own duration as run.py measured it in the container (the summary's), once known.
    """

    state: str = "queued"  # queued, installing, running, passed, failed, cached, error, timeout
    started_at: float | None = None
    ended_at: float | None = None
    #: while installing: since when, the step of the tool's environment (INSTALL_STEPS'
    #: words) and the installer's last line (sanitized)
    installing_since: float | None = None
    step: str = ""
    detail: str = ""
    duration_s: float | None = None

    @property
    def finished(self) -> bool:
        return self.state not in ("queued", "installing", "running")

    def elapsed(self, now: float) -> float | None:
        """Seconds to show: the in-container duration once finished (host times when the
        step printed none), the time so far while running or installing, else None."""
        if self.finished and self.duration_s is not None:
            return self.duration_s
        if self.state == "installing" and self.installing_since is not None:
            return now - self.installing_since
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else now
        return end - self.started_at


class BuildProgress:
    """Accumulates the stream; ``tool(name)`` gives each tool's current state."""

    def __init__(self, tool_stages: dict[str, str], *, stream: bool = False) -> None:
        #: stage name → tool name
        self.tool_stages = tool_stages
        self.vertexes: dict[str, Vertex] = {}
        self.order: list[str] = []
        self.text_lines: list[str] = []
        self.tools = {name: ToolProgress() for name in tool_stages.values()}
        self._buf = ""
        self._decoder = json.JSONDecoder()
        self.context_bytes = 0
        #: with ``stream``: each tool's output not yet taken (take_output), and the blank
        #: lines held back (the step's own lines follow one)
        self.stream = stream
        self._pending: dict[str, bytearray] = {}
        self._blanks: dict[str, int] = {}

    def feed(self, line: str, now: float) -> bool:
        """Take one stderr line; True when some tool's state changed."""
        if not self._buf and not line.lstrip().startswith("{"):
            if line.strip():
                self.text_lines.append(line.strip())
            return False
        self._buf += line
        changed = False
        while self._buf.strip():
            text = self._buf.lstrip()
            try:
                status, end = self._decoder.raw_decode(text)
            except json.JSONDecodeError:
                if len(self._buf) > 64 * 1024 * 1024:  # not JSON after all: give up on it
                    self.text_lines.append(self._buf.strip()[:1000])
                    self._buf = ""
                return changed
            self._buf = text[end:]
            if isinstance(status, dict):
                for v in status.get("vertexes") or []:
                    self._vertex(v)
                for entry in status.get("logs") or []:
                    self._log(entry)
                for st in status.get("statuses") or []:
                    if st.get("id") == "transferring context:":
                        # bytes of the project sent this run (BuildKit sends only changes)
                        self.context_bytes = max(self.context_bytes, int(st.get("current") or 0))
                changed = self._update(now) or changed
        self._buf = ""
        return changed

    def _vertex(self, data: dict[str, Any]) -> None:
        digest = str(data.get("digest", ""))
        v = self.vertexes.get(digest)
        if v is None:
            v = self.vertexes[digest] = Vertex(digest)
            self.order.append(digest)
        v.name = data.get("name") or v.name
        v.started = v.started or bool(data.get("started"))
        v.completed = v.completed or bool(data.get("completed"))
        v.cached = v.cached or bool(data.get("cached"))
        v.error = data.get("error") or v.error
        v.started_at = v.started_at or str(data.get("started") or "")
        v.completed_at = str(data.get("completed") or v.completed_at)

    def _log(self, entry: dict[str, Any]) -> None:
        v = self.vertexes.get(str(entry.get("vertex", "")))
        if v is None:
            return
        try:
            chunk = base64.b64decode(entry.get("data") or "")
        except (binascii.Error, ValueError):
            return
        v.logs += chunk
        if len(v.logs) > LOG_LIMIT:
            del v.logs[: len(v.logs) - LOG_LIMIT]
        if self.stream and v.stage in self.tool_stages and _is_run(v):
            self._pending.setdefault(self.tool_stages[str(v.stage)], bytearray()).extend(chunk)

    def take_output(self) -> list[tuple[str, str]]:
        """With ``stream``: the tool output lines that arrived since the last call, as
        (tool key, line) in arrival order per tool; a tool that has finished gives its last
        line without a newline too. devbox's own marker lines are left out (and the blank
        line before them), and so are the escape sequences that are not colours."""
        taken: list[tuple[str, str]] = []
        for key, pending in self._pending.items():
            done = self.tools[key].finished
            *lines, rest = bytes(pending).split(b"\n")
            if done and rest:
                lines.append(rest)
                rest = b""
            pending[:] = rest
            for raw in lines:
                if _OUTCOME_RE.fullmatch(raw) or _DURATION_RE.fullmatch(raw):
                    self._blanks[key] = 0
                    continue
                text = colours_only(raw.decode("utf-8", "replace")).rstrip("\r")
                text = _CONTROLS_BUT_ESC.sub("", text.rsplit("\r", 1)[-1])
                if not text.strip():
                    self._blanks[key] = self._blanks.get(key, 0) + 1
                    continue
                taken += [(key, "")] * self._blanks.pop(key, 0)
                taken.append((key, text))
        return taken

    def stage_vertexes(self, stage: str) -> list[Vertex]:
        return [self.vertexes[d] for d in self.order if self.vertexes[d].stage == stage]

    def installing(self) -> dict[str, Vertex]:
        """The environment steps running now, by Python version ("" when a stage's version
        cannot be told); the last started of each."""
        busy: dict[str, Vertex] = {}
        for d in self.order:
            v = self.vertexes[d]
            if v.started and not v.completed and not v.error and is_env_stage(v.stage):
                busy[str(v.stage)[len(ENV_STAGE_PREFIX) :]] = v
        return busy

    def _update(self, now: float) -> bool:
        changed = False
        busy = self.installing()
        for stage, name in self.tool_stages.items():
            t = self.tools[name]
            before = (t.state, t.step, t.detail)
            # Listed is not started: while any environment installs, the tools not running
            # are "installing"; the step and the last line are those of the tool's own
            # version's environment (its key is "name@python").
            installing = bool(busy)
            own = name.rpartition("@")[2] if "@" in name else next(iter(busy), "")
            env = busy.get(own)
            if env is not None and not t.finished and t.state != "running":
                m = _INSTALL_STEP_RE.search(env.name)
                t.step = INSTALL_STEPS[m.group(1)] if m else ""
                t.detail = last_install_line(bytes(env.logs)) if m else ""
            else:
                t.step = t.detail = ""
            run_steps = [v for v in self.stage_vertexes(stage) if _is_run(v)]
            if run_steps:
                v = run_steps[-1]
                if v.started and t.started_at is None:
                    t.started_at = now
                if v.error:
                    t.state = "error"
                elif v.completed and v.cached:
                    t.state = "cached"
                elif v.completed:
                    t.state = _outcome(bytes(v.logs))
                    t.duration_s = _duration(bytes(v.logs))
                elif v.started:
                    t.state = "running"
                elif installing and t.state == "queued":
                    # BuildKit announces every step up front: listed is not started.
                    t.state = "installing"
                if v.completed and t.ended_at is None:
                    t.ended_at = now
            elif installing and t.state == "queued":
                t.state = "installing"
            if t.state == "installing" and t.installing_since is None:
                t.installing_since = now
            if t.state != "installing":
                t.step = t.detail = ""
            changed = changed or before != (t.state, t.step, t.detail)
        return changed

    def stage_cached(self, stage: str) -> bool:
        """Whether every RUN step of ``stage`` was replayed from the cache (nothing reinstalled)."""
        runs = [
            v for v in self.stage_vertexes(stage) if v.name.split("] ", 1)[-1].startswith("RUN ")
        ]
        return bool(runs) and all(v.cached for v in runs)

    def failed_vertex(self) -> Vertex | None:
        """The first vertex that reported an error (cancellations of others follow it)."""
        errored = [self.vertexes[d] for d in self.order if self.vertexes[d].error]
        real = [v for v in errored if "context canceled" not in v.error]
        chosen = real or errored
        return chosen[0] if chosen else None


def timestamp_s(text: str) -> float:
    """A BuildKit timestamp as seconds since the epoch."""
    return _timestamp(text).timestamp()
