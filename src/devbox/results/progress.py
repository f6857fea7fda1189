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

from devbox.build.contract import ENV_MARKER, MARKER, TIMEOUT_MARKER
from devbox.build.plan import is_env_stage

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
#: keep at most this much log text per vertex (full tool output lives in exported files)
LOG_LIMIT = 256 * 1024


def _timestamp(text: str) -> datetime.datetime:
    # "2026-11-29T00:45:23.056908924Z": Python parses at most microseconds.
    m = re.match(r"(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if m is None:
        raise ValueError(f"not a timestamp: {text!r}")
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat(f"{m.group(1)}.{frac}{zone}")


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
    """What the live view shows for one tool."""

    state: str = "queued"  # queued, installing, running, passed, failed, cached, error, timeout
    started_at: float | None = None
    ended_at: float | None = None


class BuildProgress:
    """Accumulates the stream; ``tool(name)`` gives each tool's current state."""

    def __init__(self, tool_stages: dict[str, str]) -> None:
        #: stage name → tool name
        self.tool_stages = tool_stages
        self.vertexes: dict[str, Vertex] = {}
        self.order: list[str] = []
        self.text_lines: list[str] = []
        self.tools = {name: ToolProgress() for name in tool_stages.values()}
        self._buf = ""
        self._decoder = json.JSONDecoder()
        self.context_bytes = 0

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

    def stage_vertexes(self, stage: str) -> list[Vertex]:
        return [self.vertexes[d] for d in self.order if self.vertexes[d].stage == stage]

    def _update(self, now: float) -> bool:
        changed = False
        installing = any(
            v.started and not v.completed and is_env_stage(v.stage) for v in self.vertexes.values()
        )
        for stage, name in self.tool_stages.items():
            t = self.tools[name]
            before = t.state
            run_steps = [
                v for v in self.stage_vertexes(stage) if " RUN " in f" {v.name.split('] ', 1)[-1]}"
            ]
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
                elif v.started:
                    t.state = "running"
                elif installing and t.state == "queued":
                    # BuildKit announces every step up front: listed is not started.
                    t.state = "installing"
                if v.completed and t.ended_at is None:
                    t.ended_at = now
            elif installing and t.state == "queued":
                t.state = "installing"
            changed = changed or before != t.state
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
