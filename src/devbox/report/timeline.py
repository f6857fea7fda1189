"""``--timeline PATH``: the run's stages in time (sending the project, each environment, each
tool, the export) with their start, end and whether they ran or came from the cache.

A path ending in ``.json`` gets the Chrome trace event format (``chrome://tracing``,
Perfetto); any other path a self-contained HTML page: one bar per stage, no script, no
external file. Names are the tools' and versions devbox validated, HTML-escaped anyway.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from devbox.fsutil import atomic_write
from devbox.results.model import RunResult, Stage

#: a bar's colour by stage kind (ran); cached stages are drawn pale and striped
_COLOURS = {"context": "#6c8ebf", "environment": "#d6a700", "tool": "#3c9a5f", "export": "#8e6cbf"}


def chrome_trace(stages: Sequence[Stage]) -> dict[str, object]:
    """The Chrome trace event format: one complete event ("X") per stage, in microseconds."""
    return {
        "displayTimeUnit": "ms",
        "traceEvents": [
            {
                "name": s.name,
                "cat": s.kind,
                "ph": "X",
                "ts": round(s.start_s * 1e6),
                "dur": round((s.end_s - s.start_s) * 1e6),
                "pid": 1,
                "tid": i + 1,
                "args": {"cached": s.cached},
            }
            for i, s in enumerate(stages)
        ],
    }


def page(stages: Sequence[Stage]) -> str:
    """The HTML page: a bar per stage, scaled to the run's length, and the same as a table."""
    total = max((s.end_s for s in stages), default=0.0) or 1.0
    bars, rows = [], []
    for s in stages:
        left = 100 * s.start_s / total
        width = max(100 * (s.end_s - s.start_s) / total, 0.3)
        state = "cached" if s.cached else "ran"
        colour = _COLOURS.get(s.kind, "#888888")
        name = html.escape(s.name)
        bars.append(
            f'<div class="row"><span class="label">{name}</span><span class="track">'
            f'<span class="bar {state}" data-kind="{html.escape(s.kind)}" '
            f'style="left:{left:.2f}%;width:{width:.2f}%;background-color:{colour}" '
            f'title="{name}: {s.start_s:.2f} to {s.end_s:.2f} s, {state}"></span></span></div>'
        )
        rows.append(
            f"<tr><td>{name}</td><td>{html.escape(s.kind)}</td><td>{s.start_s:.2f}</td>"
            f"<td>{s.end_s:.2f}</td><td>{s.end_s - s.start_s:.2f}</td><td>{state}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>devbox timeline</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; }}
.row {{ display: flex; align-items: center; height: 24px; }}
.label {{ width: 16em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }}
.track {{ position: relative; flex: 1; height: 16px; background: #f2f2f2; }}
.bar {{ position: absolute; top: 0; height: 16px; }}
.bar.cached {{ opacity: 0.35; background-image: repeating-linear-gradient(45deg, transparent 0 4px,
  rgba(255,255,255,.6) 4px 8px); }}
table {{ border-collapse: collapse; margin-top: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
</style></head><body>
<h1>devbox timeline</h1>
<p>{len(stages)} stages in {total:.2f} s; pale, striped bars came from the engine's cache.</p>
<div class="timeline">
{chr(10).join(bars)}
</div>
<table><tr><th>stage</th><th>kind</th><th>start (s)</th><th>end (s)</th><th>duration (s)</th>
<th>state</th></tr>
{chr(10).join(rows)}
</table>
</body></html>
"""


def write(path: Path, result: RunResult, masked: Sequence[str] = ()) -> None:
    """The timeline of ``result`` at ``path`` (``.json``: a Chrome trace, else HTML)."""
    if path.suffix.lower() == ".json":
        text = json.dumps(chrome_trace(result.stages), indent=1) + "\n"
    else:
        text = page(result.stages)
    atomic_write(path, text)
