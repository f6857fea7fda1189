"""Masking secrets in every form a tool prints them, in every output devbox writes."""

from __future__ import annotations

import base64
import html
import json
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from devbox._container import stepsecrets
from devbox.build import secrets as build_secrets
from devbox.report import json_report, junit
from devbox.results.collect import save_logs
from devbox.results.model import Environment, RunResult, Status
from devbox.results.progress import BuildProgress
from helpers import tool_result

SECRET = "Tok'en\"\\c0re<&>\tend-é"
CORE = "c0re"


def _element(tag: str, text: str) -> ET.Element:
    element = ET.Element(tag)
    element.text = text
    return element


def printed_forms(value: str) -> dict[str, str]:
    """How tools and serializers write ``value``."""
    return {
        "plain": value,
        "repr": repr(value),
        "repr in a list": repr([value]),
        "unicode_escape": value.encode("unicode_escape").decode(),
        "bytes repr": repr(value.encode()),
        "json": json.dumps(value),
        "json, not ASCII": json.dumps(value, ensure_ascii=False),
        "json of json": json.dumps(json.dumps(value))[1:-1],
        "shell-quoted": shlex.quote(value),
        "html.escape": html.escape(value),
        "xml text": ET.tostring(_element("x", value), encoding="unicode"),
        "xml text of repr": ET.tostring(_element("x", repr(value)), encoding="unicode"),
        "xml attribute": ET.tostring(ET.Element("x", {"a": value}), encoding="unicode"),
        "xml attribute of repr": ET.tostring(ET.Element("x", {"a": repr(value)}), "unicode"),
    }


def masks(value: str) -> list[str]:
    return build_secrets.Secrets(env={"TOKEN": value}).values()


@pytest.mark.parametrize("form", sorted(printed_forms(SECRET)))
def test_every_printed_form_of_a_value_is_masked(form: str) -> None:
    text = f"before {printed_forms(SECRET)[form]} after"
    masked = build_secrets.mask(text, masks(SECRET))
    assert CORE not in masked and "***" in masked
    assert masked.startswith("before ") and masked.endswith(" after")


def test_each_line_of_a_multi_line_value_is_masked_alone() -> None:
    value = "-----BEGIN KEY-----\nline-aaaa1111\n  line-bbbb2222  \nxy\n\n-----END KEY-----\n"
    values = masks(value)
    assert {"line-aaaa1111", "line-bbbb2222", "-----BEGIN KEY-----"} <= set(values)
    # short lines (under MIN_LINE_CHARS, whitespace aside) are not masked: they are everywhere
    assert stepsecrets.MIN_LINE_CHARS == 4
    assert "xy" not in values and "" not in values and "  " not in values
    printed = "first line-aaaa1111 then 'line-bbbb2222' and xy"
    assert build_secrets.mask(printed, values) == "first *** then '***' and xy"
    # the whole value, escaped on one line (repr, JSON), is masked whole
    assert build_secrets.mask(json.dumps(value), values) == '"***"'


def test_longest_first_so_escaped_forms_are_masked_whole() -> None:
    values = masks(SECRET)
    assert values == sorted(values, key=len, reverse=True)
    assert build_secrets.mask(repr(SECRET), values) in ("'***'", '"***"')


def test_index_url_credentials_are_masked_in_their_forms() -> None:
    secrets = build_secrets.Secrets(extra_index_urls=("https://bot:p%40ss-w0rd@pkgs.example/s",))
    values = secrets.values()
    for text in ("p%40ss-w0rd", "p@ss-w0rd", "https://bot:p%40ss-w0rd@pkgs.example/s"):
        assert build_secrets.mask(f"x {text} y", values) == "x *** y"


def test_short_values_are_not_masked() -> None:
    assert masks("ab") == []


# --- the host's mask and the steps' twin agree ---------------------------------------------


def test_the_host_and_the_steps_mask_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps (stepsecrets.mask over secret_values(), on bytes) and devbox (secrets.mask
    over Secrets.values(), on text) use one rule, the same MASK and the same list."""
    env = {"TOKEN": SECRET, "KEY": "k-line-1111\nk-line-2222\n"}
    index = {"index_url": "https://me:pw-55555@idx.example/simple"}
    secret = build_secrets.Secrets(index_url=index["index_url"], env=env)
    env_file, index_file = tmp_path / "env", tmp_path / "index"
    env_file.write_text(json.dumps(env))
    index_file.write_text(json.dumps(index))
    monkeypatch.setattr(stepsecrets, "ENV_SECRET", str(env_file))
    monkeypatch.setattr(stepsecrets, "INDEX_SECRET", str(index_file))
    in_step = stepsecrets.secret_values()
    assert in_step == [v.encode() for v in secret.values()]
    assert build_secrets.MASK == stepsecrets.MASK
    for value in (*env.values(), index["index_url"]):
        for form in printed_forms(value).values():
            text = f"<{form}>\n"
            assert stepsecrets.mask(text.encode(), in_step).decode() == build_secrets.mask(
                text, secret.values()
            )


# --- each output ---------------------------------------------------------------------------


def _pretty_logs(data: bytes) -> list[str]:
    """A rawjson ``logs`` object as buildx 0.13 prints it: one field a line."""
    status = {
        "logs": [{"vertex": "sha256:1", "stream": 1, "data": base64.b64encode(data).decode()}]
    }
    return json.dumps(status, indent=2).splitlines(keepends=True)


def test_the_progress_record_masks_base64_step_output() -> None:
    values = masks(SECRET)
    vertex = json.dumps({"vertexes": [{"digest": "sha256:1", "name": f"[x] RUN {SECRET}"}]})
    output = f"token {SECRET}\nrepr {SECRET!r}\n".encode()
    lines = [vertex + "\n", *_pretty_logs(output)]
    # and the compact form: an object a line
    compact = json.dumps(
        {"logs": [{"vertex": "sha256:1", "data": base64.b64encode(output).decode()}]}
    )
    lines.append(compact + "\n")
    masked = [build_secrets.mask_progress(line, values) for line in lines]
    progress = BuildProgress({})
    for line in masked:
        progress.feed(line, 0.0)
    logs = bytes(progress.vertexes["sha256:1"].logs)
    assert logs == b"token ***\nrepr '***'\n" * 2
    assert CORE not in "".join(masked) and progress.vertexes["sha256:1"].name == "[x] RUN ***"
    # without secrets, lines are passed as they are
    assert build_secrets.mask_progress(lines[1], []) is lines[1]


def _result_with(output: str, junit_xml: str | None) -> RunResult:
    tool = tool_result("pytest", Status.FAILED, output=output, junit_xml=junit_xml)
    env = Environment("3.12", "img", cached=False, ok=False, error=f"no: {SECRET!r}", log=output)
    return RunResult((tool,), environments=(env,))


def test_junit_xml_and_json_report_are_masked(tmp_path: Path) -> None:
    values = masks(SECRET)
    case = ET.Element("testcase", {"name": "test_x"})
    failure = ET.SubElement(case, "failure", {"message": f"assert {SECRET!r} == 'x'"})
    failure.text = f"AssertionError: {SECRET}"
    ET.SubElement(case, "system-out").text = json.dumps(SECRET)
    suite = ET.Element("testsuite", {"name": "pytest"})
    suite.append(case)
    pytest_xml = ET.tostring(suite, encoding="unicode")
    assert CORE in pytest_xml
    result = _result_with(f"printed {SECRET}\n", pytest_xml)
    # unmasked in the result (as a report writer may be handed one): the writers mask
    junit.write(tmp_path / "junit.xml", result, values)
    json_report.write(tmp_path / "report.json", result, values)
    for name in ("junit.xml", "report.json"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert CORE not in text and "***" in text, name
    ET.parse(tmp_path / "junit.xml")  # still well-formed
    json.loads((tmp_path / "report.json").read_text())
    # and save_logs masks pytest's XML in the result itself
    kept = save_logs(result, tmp_path / "logs", values)
    assert kept.tools[0].junit_xml is not None and CORE not in kept.tools[0].junit_xml
    assert CORE not in kept.tools[0].output and CORE not in kept.environments[0].log
    ET.fromstring(kept.tools[0].junit_xml)
