"""Streamed exports (service.exports): the timeline read in chunks from a worker thread gives the
same bytes as the record read whole, for every format, `warroom show` and the F6 report."""

from __future__ import annotations

import asyncio
import io
import json
import threading

import pytest

from warroom.domain.postmortem import markdown_pieces, to_markdown
from warroom.domain.report import csv_pieces, joined, json_pieces, plain_summary, summary_lines, to_csv, to_json_dict
from warroom.domain.text import inert_json
from warroom.service import exports

SCRIPT = ["note one", "-20m /decision back-dated before the declaration's notes", "note \x1b]52;c;x\x07 two",
          "/rootcause pool too small", "-3m note in between", "/correct 2 the decision was made at 14:40",
          "/pin 4", "/lesson alert earlier", "/status mitigating", "@14:50 /impact", "last note"]


@pytest.fixture
async def incident(service):
    incident = await service.declare("Checkout slow", "SEV-2", author="alice", commander="alice")
    for text in SCRIPT + [f"-{index % 4}m note {index}" for index in range(12)]:
        await service.execute(incident.id, text, "bob")
    return incident.id


async def _streamed(service, incident_id, render) -> str:
    record = await exports.streamed_record(service, incident_id)
    sink = io.BytesIO()
    await exports.write_pieces(lambda: render(record), sink)
    return sink.getvalue().decode("utf-8")


@pytest.mark.parametrize("chunk", [1, 4, 10_000])
async def test_streamed_exports_equal_the_whole_record(service, incident, monkeypatch, chunk):
    monkeypatch.setattr(exports, "CHUNK", chunk)  # many chunks, a chunk boundary in every place
    whole = await service.record(incident)
    dumped = inert_json(json.dumps(to_json_dict(whole), indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
    assert await _streamed(service, incident, json_pieces) == dumped
    assert await _streamed(service, incident, csv_pieces) == to_csv(whole)
    assert await _streamed(service, incident, markdown_pieces) == to_markdown(whole)
    now = service.now()
    assert await _streamed(service, incident, lambda r: joined(summary_lines(r, now))) == plain_summary(whole, now)
    assert "corrects #2" in to_markdown(whole) and "[pinned]" in plain_summary(whole, now)


async def test_an_empty_timeline_streams_as_an_empty_list(service):
    incident = await service.declare("Quiet", "SEV-3", author="alice")
    record = await exports.streamed_record(service, incident.id)
    assert len(record.entries) == 1  # the declaration
    text = await _streamed(service, incident.id, json_pieces)
    assert json.loads(text)["entries"][0]["number"] == 1


async def test_the_stream_is_read_in_a_worker_thread_only(service, incident):
    record = await exports.streamed_record(service, incident)
    with pytest.raises(RuntimeError, match="worker thread"):
        list(record.entries)  # on the event loop it would wait on itself
    threads = set()

    def render(r):
        threads.add(threading.get_ident())
        return csv_pieces(r)

    await exports.write_pieces(lambda: render(record), io.BytesIO())
    assert threads and threading.get_ident() not in threads


async def test_the_snapshot_ends_where_the_stream_began(service, incident):
    record = await exports.streamed_record(service, incident)
    await service.execute(incident, "written after the export started", "bob")
    entries = await asyncio.to_thread(list, record.entries)
    assert len(entries) == len(record.entries) and "written after" not in entries[-1].text


def test_cli_show_and_export_stream_what_the_record_holds(run_cli, tmp_path):
    incident_id = run_cli("declare", "Disk full", "--severity", "SEV-3").stdout.strip()
    for index in range(5):
        assert run_cli("log", incident_id, f"note {index}").returncode == 0
    shown = run_cli("show", incident_id)
    assert shown.returncode == 0 and "Timeline (6 entries):" in shown.stdout and shown.stdout.endswith("\n")
    exported = json.loads(run_cli("export", incident_id).stdout)
    assert [e["text"] for e in exported["entries"]][1:] == [f"note {i}" for i in range(5)]
    assert run_cli("export", incident_id, "-f", "markdown", "-o", "r.md").returncode == 0
    assert "## Appendix: full timeline" in (tmp_path / "r.md").read_text(encoding="utf-8")


async def test_the_report_key_writes_the_report_from_a_worker_thread(tmp_path, monkeypatch):
    from test_ui_procedures import SIZE, make_app, notices, seeded
    from test_ui_support import wait_for, war_room_ready

    from warroom.ui.screens import war_room_procedures  # noqa: F401 (imports markdown_pieces when F6 runs)
    import warroom.domain.postmortem as postmortem

    # seeded() types a line a minute from 20 minutes before NOW: 16 lines stay in the past (a later
    # one would be ahead of the clock, which the war room records as an entry of its own)
    path, incident_id = await seeded(tmp_path, "/rootcause pool too small", *[f"note {i}" for i in range(15)])
    monkeypatch.setattr(exports, "CHUNK", 7)
    threads = []
    real = postmortem.markdown_pieces

    def recorded(record):
        threads.append(threading.get_ident())
        return real(record)

    monkeypatch.setattr(postmortem, "markdown_pieces", recorded)
    app = make_app(tmp_path, path, incident_id)
    report = tmp_path / "updates" / f"{incident_id}-report.md"
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f6")
        await wait_for(pilot, lambda: any("Report written" in n for n in notices(app)))
        rendered_in = list(threads)
        record = await app.service.record(incident_id)
        assert f"Writing the report ({len(record.entries)} entries)…" in notices(app)  # the start is shown
        whole = to_markdown(record)
    assert rendered_in and threading.get_ident() not in rendered_in  # rendered off the event loop
    assert report.read_text(encoding="utf-8") == whole  # the same report as one read whole
    assert not report.with_name(report.name + ".partial").exists()


async def test_the_report_key_shows_how_far_the_report_is(tmp_path, monkeypatch):
    from test_ui_procedures import SIZE, make_app, notices, seeded
    from test_ui_support import screen_text, wait_for, war_room_ready

    from warroom.ui.screens import war_room_procedures  # noqa: F401 (imports markdown_pieces when F6 runs)

    path, incident_id = await seeded(tmp_path, *[f"note {i}" for i in range(15)])
    monkeypatch.setattr(exports, "CHUNK", 7)
    halfway = threading.Event()  # (the stream counts a chunk as it starts handing it out)
    real = exports.EntryStream.stored_chunks

    def paused(stream, *args):  # the timeline stops half way until the test has seen the progress
        for rows in real(stream, *args):
            yield rows
            if stream.kinds is None and stream.read == 14:  # two chunks of 7 of the whole timeline written
                halfway.wait(60)

    monkeypatch.setattr(exports.EntryStream, "stored_chunks", paused)
    app = make_app(tmp_path, path, incident_id)
    async with app.run_test(size=SIZE) as pilot:
        await war_room_ready(pilot)
        from warroom.ui.widgets.entry_bar import EntryBar

        bar = app.screen.query_one(EntryBar).region
        await pilot.press("f6")
        try:
            # 17 entries: the declaration, the commander's seat and the 15 notes
            await wait_for(pilot, lambda: "Report: timeline 14 of 17 entries (82%)" in screen_text(app))
            assert app.screen.query_one(EntryBar).region == bar  # on the bar's border: nothing moved
        finally:
            halfway.set()
        await wait_for(pilot, lambda: any("Report written" in n for n in notices(app)))
        await wait_for(pilot, lambda: "Report: " not in screen_text(app))  # gone once written


async def test_pages_read_from_the_end_equal_pages_read_from_the_start(service, incident):
    from warroom.store import queries as q

    total = await service.entry_count(incident)
    for offset in range(0, total + 2):
        for limit in (1, 3, 7):
            forward = await q.entries_page(service.db.reader, incident, offset, limit)
            assert await q.entries_page(service.db.reader, incident, offset, limit, from_end=True) == forward
    assert [e.number for e in await service.entries_page(incident, total - 3, 10)] == \
        [e.number for e in (await service.entries(incident))[-3:]]  # back-dated entries keep their place
