"""--timeline (devbox.report.timeline, devbox.results.collect.stages), pure code: the stages
read from BuildKit's progress stream as it prints it, the HTML page and the Chrome trace.
tests/engine/test_timeline_engine.py writes one from a real run."""

from __future__ import annotations

import json
from pathlib import Path

from devbox.report import timeline
from devbox.results.collect import stages
from devbox.results.model import RunResult, Stage
from devbox.results.progress import BuildProgress
from helpers import FIXTURES, TimelineBars, plan_for


def vertex(digest: str, name: str, start: str, end: str, cached: bool = False) -> str:
    return json.dumps(
        {
            "vertexes": [
                {
                    "digest": digest,
                    "name": name,
                    "started": f"2026-12-02T10:00:{start}Z",
                    "completed": f"2026-12-02T10:00:{end}Z",
                    "cached": cached,
                }
            ]
        }
    )


def test_stages_come_from_buildkits_own_times() -> None:
    plan = plan_for(FIXTURES / "clean", "test", virtualenvs=[])
    (env,), (tool,) = plan.environments, plan.tools
    progress = BuildProgress({tool.stage: tool.name})
    lines = [
        vertex("sha256:a", "[internal] load build context", "01.000000000", "01.500000000"),
        vertex(
            "sha256:b", f"[{env.stage} 2/4] RUN python3 x", "01.500000000", "02.000000000", True
        ),
        vertex("sha256:c", f"[{tool.stage} 1/1] RUN /opt/devbox/venv/bin/python", "02.0", "05.25"),
        vertex("sha256:d", "exporting to client directory", "05.250000000", "05.300000000"),
    ]
    for line in lines:
        progress.feed(line + "\n", 0.0)
    got = stages(plan, progress)
    assert got == (
        Stage("send the project", "context", 0.0, 0.5, False),
        Stage(f"environment {env.python}", "environment", 0.5, 1.0, True),
        Stage(f"pytest [{tool.python}]", "tool", 1.0, 4.25, False),
        Stage("export the results", "export", 4.25, 4.3, False),
    )


STAGES = (
    Stage("send the project", "context", 0.0, 0.5, False),
    Stage("<ruff> [3.11]", "tool", 0.5, 2.0, True),
)


def test_the_page_has_a_bar_per_stage_and_escapes_names(tmp_path: Path) -> None:
    path = tmp_path / "timeline.html"
    timeline.write(path, RunResult((), stages=STAGES))
    text = path.read_text()
    parser = TimelineBars()
    parser.feed(text)
    assert len(parser.bars) == 2
    assert parser.bars[1]["class"] == "bar cached" and parser.bars[1]["data-kind"] == "tool"
    assert "&lt;ruff&gt;" in text and "<ruff>" not in text
    assert "<script" not in text and "http" not in text.replace("http-equiv", "")


def test_a_json_path_gets_a_chrome_trace(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    timeline.write(path, RunResult((), stages=STAGES))
    events = json.loads(path.read_text())["traceEvents"]
    assert [(e["name"], e["ph"], e["ts"], e["dur"], e["args"]["cached"]) for e in events] == [
        ("send the project", "X", 0, 500000, False),
        ("<ruff> [3.11]", "X", 500000, 1500000, True),
    ]


def test_the_github_job_summary_shows_the_timeline() -> None:
    from devbox.report import github

    lines = github.timeline_table(RunResult((), stages=STAGES))
    assert lines[0] == "### Timeline"
    rows = [line for line in lines if line.startswith("| ") and "stage" not in line]
    assert len(rows) == 2
    assert "█" in rows[0] and "░" in rows[1] and rows[1].endswith("| cached |")
    assert rows[1].startswith("| &lt;ruff&gt; \\[3.11\\] |")  # escaped as Markdown text
