"""The post-incident report: a golden file for the demo incident, and hostile text kept inert.

Regenerate the golden file after a deliberate change with WARROOM_REGENERATE_GOLDEN=1.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from warroom.service.demo import sample_data_dir, seed_demo
from warroom.domain.policy import PolicyBook
from warroom.domain.postmortem import to_markdown
from warroom.domain.report import to_csv, to_json_dict
from warroom.service import IncidentService

GOLDEN = Path(__file__).parent / "golden" / "demo_report.md"
DEMO_NOW = datetime(2026, 11, 23, 11, 15, tzinfo=timezone.utc)
HEADINGS = ["Summary", "Metrics", "Key timeline", "Root cause", "Resolution", "Lessons learned",
            "Action items", "Checklists and playbooks", "Updates posted", "Appendix: full timeline"]


@pytest.fixture
async def demo(tmp_path):
    service = await IncidentService.open(tmp_path / "demo.db", PolicyBook.load(None), lambda: DEMO_NOW)
    script = tomllib.loads((sample_data_dir() / "demo_incident.toml").read_text(encoding="utf-8"))
    incident_id = await seed_demo(service, DEMO_NOW, script)
    service.clock = lambda: DEMO_NOW
    yield service, incident_id
    await service.close()


def _headings(tokens, level: str) -> list[str]:
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == level]


async def test_demo_report_matches_golden_file(demo):
    service, incident_id = demo
    report = to_markdown(await service.record(incident_id))
    if os.environ.get("WARROOM_REGENERATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(report, encoding="utf-8")
    assert report == GOLDEN.read_text(encoding="utf-8")


async def test_demo_report_has_the_template_sections(demo):
    service, incident_id = demo
    tokens = MarkdownIt("commonmark").enable("table").parse(to_markdown(await service.record(incident_id)))
    assert _headings(tokens, "h2") == HEADINGS
    assert any(t.type == "table_open" for t in tokens)
    report = to_markdown(await service.record(incident_id))
    assert "Connection pool to the card processor is exhausted" in report.split("## Key timeline")[1].split("##")[0]
    assert "- [ ] Set a 2 s timeout and circuit breaker on card processor calls (@gina)" in report
    assert "Playbook attached: Service degradation" in report and "2 of 6 ticked" in report
    assert "TO BE WRITTEN" not in report  # the demo records root cause, mitigation and a lesson


HOSTILE = [
    "# Heading injection\n## another\n---",
    "[click](javascript:alert(1)) ![img](http://x/y.png) <http://auto.link>",
    "<script>alert(1)</script> <b>bold</b> &copy; &#x41;",
    "`code` **strong** _em_ ~~strike~~ | a | b |",
    "1. ordered\n- bullet\n> quote\n    indented code",
    "\x1b[31mred\x1b]8;;http://evil\x07link\x1b]8;;\x07 \u202eevil",
    "trailing backslash \\",
]


async def test_hostile_text_cannot_change_the_structure(tmp_path):
    service = await IncidentService.open(tmp_path / "h.db", PolicyBook.load(None), lambda: DEMO_NOW)
    try:
        incident = await service.declare("# title <b>x</b> [l](http://e)", "SEV-2", author="**mallory**",
                                         services=("a|b",), impact="| pipe | table |")
        for text in HOSTILE:
            await service.execute(incident.id, "//" + text, "`mallory`")
            await service.execute(incident.id, "/decision " + text, "alice")
            await service.execute(incident.id, "/action " + text.replace("@", "") + " @eve", "alice")
            await service.post_update(incident.id, "public", text, "carol")
        await service.execute(incident.id, "/rootcause " + HOSTILE[0], "alice")
        await service.execute(incident.id, "/pin 3", "alice")
        report = to_markdown(await service.record(incident.id))
    finally:
        await service.close()
    tokens = MarkdownIt("commonmark").enable("table").parse(report)
    assert _headings(tokens, "h1") == [_headings(tokens, "h1")[0]] and len(_headings(tokens, "h1")) == 1
    assert _headings(tokens, "h2") == HEADINGS
    assert all(h.startswith("Update ") for h in _headings(tokens, "h3") if h not in ("Roles held", "Milestones"))
    inline = [child for t in tokens if t.type == "inline" for child in t.children or []]
    kinds = {child.type for child in inline}
    assert not kinds & {"link_open", "image", "html_inline"}
    emphasised = {inline[i + 1].content for i, child in enumerate(inline) if child.type in ("strong_open", "em_open")}
    ours = {"Severity:", "Status:", "Date:", "Duration:", "Impact:", "Services:", "Declared:", "Policy:",
            "no owner", "TO BE WRITTEN."}
    assert all(text in ours or text.startswith(("No ", "Exported ")) for text in emphasised), emphasised
    assert {t.type for t in tokens}.isdisjoint({"html_block", "code_block", "fence", "hr"})
    assert [t.type for t in tokens].count("table_open") == 1
    code_spans = [child.content for child in inline if child.type == "code_inline"]
    assert all(span.startswith("#") or span.startswith("/") for span in code_spans), code_spans  # ours only
    assert "\x1b" not in report and "\u202e" not in report
    rendered = MarkdownIt("commonmark").render(report)
    assert "&lt;script&gt;" in rendered and "[click](javascript:alert(1))" in rendered


async def test_csv_and_json_exports(demo):
    service, incident_id = demo
    record = await service.record(incident_id)
    rows = list(csv.reader(io.StringIO(to_csv(record))))
    assert rows[0][:5] == ["number", "occurred_at", "recorded_at", "author", "kind"]
    assert len(rows) == len(record.entries) + 1
    data = json.loads(json.dumps(to_json_dict(record)))
    assert data["playbooks"] == ["performance-degradation"]
    assert {"checklist": "first-minutes", "item": 0, "done": True} in data["checklists"]
    assert len(data["updates"]) == 2 and len(data["actions"]) == 4


def test_export_command_writes_markdown(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from warroom.cli import cli

    monkeypatch.setenv("WARROOM_CONFIG_DIR", str(tmp_path / "config"))
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    declared = runner.invoke(cli, ["--db", db, "declare", "Disk full", "--severity", "SEV-3", "--as", "alice"])
    incident_id = declared.output.strip()
    runner.invoke(cli, ["--db", db, "log", incident_id, "/lesson alert on disk at 80%", "--as", "alice"])
    out = tmp_path / "report.md"
    result = runner.invoke(cli, ["--db", db, "export", incident_id, "--format", "markdown", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Incident post-mortem: {incident_id}: Disk full")
    assert "- alert on disk at 80% (alice," in text and "> **TO BE WRITTEN.**" in text
