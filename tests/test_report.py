"""Exports (domain/report.py): the JSON contract, CSV cells a spreadsheet cannot run, inert text.

The full post-mortem layout is covered by tests/test_report_golden.py; this file checks the
contracts of each format.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from markdown_it import MarkdownIt

from warroom.domain.postmortem import to_markdown
from warroom.domain.report import EXPORT_FORMAT_VERSION, plain_summary, to_csv, to_json_dict
from warroom.domain.text import markdown_inline, visible
from warroom.service import IncidentService

FORMULAS = ["=1+1", "+SUM(A1:A9)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://x\",\"y\")"]


async def busy_incident(service, clock) -> str:
    incident = await service.declare("Checkout 502s", "SEV-2", author="alice", commander="alice",
                                     services=("checkout",), impact="EU")
    for text in ("-10m /detected", "first note", "/decision roll back", "/action add canary @bob due:1d",
                 "/update internal rolling back", '/assign "tech lead" bob', "/pin 3"):
        clock.advance(seconds=30)
        await service.execute(incident.id, text, "alice")
    return incident.id


def dumped(record) -> str:
    return json.dumps(to_json_dict(record), indent=2, sort_keys=True, ensure_ascii=False)


async def test_json_has_a_format_version_and_every_part_of_the_record(service, clock):
    incident_id = await busy_incident(service, clock)
    data = json.loads(dumped(await service.record(incident_id)))
    assert data["format"] == "warroom-incident" and data["format_version"] == EXPORT_FORMAT_VERSION == 2
    assert {"incident", "metrics", "entries", "roles", "updates", "actions", "exported_at"} <= set(data)
    assert set(data["incident"]["milestones"]) == {
        "impact_started", "detected", "acknowledged", "mitigated", "resolved", "closed"}
    assert len(data["entries"]) == 8 and data["entries"][0]["text"] == "Detected"  # /pin adds no entry
    assert [e for e in data["entries"] if e["pinned"]][0]["number"] == 3
    assert data["actions"][0] | {"id": 0} == {"id": 0, "text": "add canary", "owner": "bob",
                                              "due": "2026-11-24T15:02:00.000000Z", "done": False,
                                              "created_at": "2026-11-23T15:02:00.000000Z", "group": None}
    assert data["updates"][0]["next_update_at"].startswith("2026-11-23T15:3")
    # the duties, open and done, most urgent first: who or what, due when (UTC, with the date), overdue or not
    duties = {d["key"]: d for d in data["duties"]}
    manager = duties["notify:manager"]
    assert (manager["due_at"], manager["open"], manager["overdue"], manager["origin"]) == (
        "2026-11-23T15:30:00.000000Z", True, False, "declared")
    assert duties["update:public"]["due_at"] == "2026-11-23T15:15:00.000000Z"  # first status-page notice
    assert duties["update:internal"]["origin"] == "promised in the last update"


async def test_json_is_stable_across_exports_and_reopening(service, clock, database, policies):
    incident_id = await busy_incident(service, clock)
    first = dumped(await service.record(incident_id))
    assert dumped(await service.record(incident_id)) == first
    reopened = await IncidentService.open(database, policies, clock)
    try:
        assert dumped(await reopened.record(incident_id)) == first
    finally:
        await reopened.close()
    # Keys sorted at every level and times in one fixed-width UTC form.
    data = json.loads(first)
    assert list(data) == sorted(data) and list(data["incident"]) == sorted(data["incident"])
    assert all(len(e["occurred_at"]) == 27 and e["occurred_at"].endswith("Z") for e in data["entries"])


@pytest.mark.parametrize("formula", FORMULAS)
async def test_csv_defuses_formula_cells_in_text_and_author(service, formula):
    incident = await service.declare("x", "SEV-3", author="a")
    await service.execute(incident.id, "//" + formula if formula.startswith("/") else formula, formula)
    rows = list(csv.reader(io.StringIO(to_csv(await service.record(incident.id)))))
    header, _, row = rows
    cells = dict(zip(header, row))
    text = formula.strip()  # the grammar strips surrounding whitespace from what was typed
    expected_text = "'" + text if text[:1] in "=+-@" else text
    assert cells["text"] == expected_text
    # A carriage return is shown as its stand-in, which no spreadsheet runs; the rest get a quote.
    assert cells["author"] == ("\u240d=1+1" if formula == "\r=1+1" else "'" + formula)
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)


async def test_csv_keeps_ordinary_text_and_links_corrections(service):
    incident = await service.declare("x", "SEV-3", author="a")
    await service.execute(incident.id, "rate is 5% (was 3%), \"quoted\", comma", "bob")
    await service.execute(incident.id, "/correct 2 rate is 6%", "bob")
    rows = list(csv.DictReader(io.StringIO(to_csv(await service.record(incident.id)))))
    assert rows[1]["text"] == "rate is 5% (was 3%), \"quoted\", comma"
    assert (rows[2]["kind"], rows[2]["corrects"]) == ("correction", "2")


async def test_csv_rows_survive_carriage_returns_and_newlines_inside_cells(service):
    incident = await service.declare("x", "SEV-3", author="a")
    await service.execute(incident.id, "one\rtwo\nthree\r\nfour", "carriage\rreturn")
    exported = to_csv(await service.record(incident.id))
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    assert len(rows) == 3 and exported.endswith("\r\n")
    # A lone CR would send a terminal's cursor back over the line: it is shown as ␍; CRLF is a line break.
    assert (rows[2][3], rows[2][5]) == ("carriage\u240dreturn", "one\u240dtwo\nthree\nfour")
    assert "\r" not in exported.replace("\r\n", "")


HOSTILE = [
    "**bold** _em_ ~~strike~~",
    "[click](javascript:alert(1)) ![img](http://x/y.png)",
    "<script>alert(1)</script> <img src=x onerror=alert(1)>",
    "`code` and ```fence```",
    "| a | b |",
    "line one\n# heading\n- item\n\n> quote",
    "\x1b[31mred\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ \u202edesrever",
    "back\\slash &amp; &lt;b&gt;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_inline_renders_as_the_literal_text(text):
    html = MarkdownIt("commonmark").enable("table").render(f"- item: {markdown_inline(text)}")
    tokens = MarkdownIt("commonmark").enable("table").parse(f"- item: {markdown_inline(text)}")
    assert [t.type for t in tokens] == ["bullet_list_open", "list_item_open", "paragraph_open", "inline",
                                        "paragraph_close", "list_item_close", "bullet_list_close"]
    assert {child.type for child in tokens[3].children} == {"text"}
    assert tokens[3].children[0].content == "item: " + visible(text)  # exactly what was typed, made visible
    assert "<script" not in html and "<a " not in html and "<img" not in html


async def test_markdown_report_and_show_keep_hostile_text_inert(service):
    incident = await service.declare("**x** \x1b[2J", "SEV-2", author="a")
    for text in HOSTILE:
        await service.execute(incident.id, "//" + text, "<b>mallory</b>")
    record = await service.record(incident.id)
    report = to_markdown(record)
    assert "\x1b" not in report and "\u202e" not in report
    html = MarkdownIt("commonmark").render(report)
    assert "<script" not in html and "<a href" not in html and "<b>mallory" not in html
    shown = plain_summary(record, service.now())
    assert "\x1b" not in shown and "\u202e" not in shown and "\u241b[2J" in shown
    assert all(line.isprintable() for line in shown.splitlines())


async def test_show_gives_milestones_with_zone_and_date_when_not_today(service, clock):
    incident = await service.declare("x", "SEV-2", author="a")
    await service.execute(incident.id, "@2026-11-22T23:50 /impact", "a")
    await service.execute(incident.id, "-30m /detected", "a")
    shown = plain_summary(await service.record(incident.id), clock.now)
    assert "  milestones: impact started 2026-11-22 23:50 UTC, detected 14:30 UTC" in shown.splitlines()
