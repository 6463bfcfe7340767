"""The lines of `warroom show` and of the report's timelines are formatted from stored rows
(domain.stored): a streamed export hands the formatters its rows as read, a record of entries
gives them each entry's row. Their lines must be those of the Entry formatters they replaced,
byte for byte: this file keeps those (`reference_*`, as they were) and compares them on a record
of hostile text (markup, ANSI/OSC, C1, bidi, zero-width, NUL), multi-line entries, every entry
kind, several days and a `now` in several zones; the rows read from the record are each entry's
row; and the command line's way (the record opened without an event loop) writes what the whole
record renders."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import NOW
from tests.hostile_corpus import NAMES, TEXTS
from warroom.domain.models import EntryKind
from warroom.domain.postmortem import markdown_pieces, to_markdown
from warroom.domain.report import joined, plain_summary, summary_line, summary_lines
from warroom.domain.stored import ID, KIND, OCCURRED, STORED_COLUMNS, entry_from_row, stamp_of, stored_row
from warroom.domain.text import markdown_inline, visible
from warroom.domain.timeline_lines import Timeline
from warroom.domain.clock import from_stored
from warroom.service import exports
from warroom.store import queries as q


def reference_summary_line(e, today, audiences) -> str:
    """domain.report.summary_lines' timeline line as it was, from an Entry."""
    stamp = e.occurred_at.isoformat(" ", "seconds")
    stamp = stamp[:19] if e.occurred_at.date() != today else stamp[11:19]
    pin = " [pinned]" if e.pinned else ""
    audience = (e.data or {}).get("audience") if e.kind is EntryKind.UPDATE else None
    to = f"[to {visible(audiences.get(audience, audience))}] " if audience else ""
    return (f"  #{e.number:<4} {stamp} UTC  {e.kind.glyph} {e.kind.label:<10} {visible(e.author):<10} "
            f"{to}{visible(e.text)}{pin}")


def reference_markdown_line(numbers, corrections, entry, text=None) -> str:
    """domain.timeline_lines.Timeline.line as it was, from an Entry."""
    notes = []
    if entry.corrects:
        notes.append(f"corrects #{numbers.get(entry.corrects, '?')}")
    notes += [f"corrected by #{c.number}" for c in corrections.get(entry.id, [])]
    if entry.pinned:
        notes.append("pinned")
    note = f" ({', '.join(notes)})" if notes else ""
    when = entry.occurred_at.isoformat(" ", "seconds")[:19] + " UTC"
    return (f"- `#{entry.number}` {when}, {entry.kind.label}, "
            f"{markdown_inline(entry.author)}{note}: {markdown_inline(entry.text if text is None else text)}")


def reference_without_owed_note(entry) -> str:
    length = (entry.data or {}).get("text_length")
    return entry.text[:length] if isinstance(length, int) and (entry.data or {}).get("started") else entry.text


ZONES = [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
LATE = NOW.replace(hour=20)  # in +05:30 already the next day


async def write_hostile_record(service) -> str:
    """An incident with every kind of entry, hostile text and names, several lines, three days."""
    incident = await service.declare("Checkout \x1b[31mslow\x1b[0m", "SEV-2", author="alice", commander="alice")
    texts = list(TEXTS.values()) + ["first line\nsecond line\r\nthird\tline", "plain"]
    names = list(NAMES.values()) + ["bob"]
    async with service.db.transaction() as conn:
        for index, kind in enumerate(EntryKind):
            for day in (2, 1, 0):
                moment = NOW - timedelta(days=day, minutes=index, seconds=index * 7, microseconds=index)
                await q.insert_entry(conn, incident_id=incident.id, occurred_at=moment, recorded_at=NOW,
                                     author=names[(index + day) % len(names)], kind=kind,
                                     text=texts[(index * 3 + day) % len(texts)],
                                     data={"audience": "internal"} if kind is EntryKind.UPDATE and day else None)
    for typed in ("/sev SEV-1 \x1b]52;c;eA==\x07 worse", "/update executive [b]all\u202e calm[/b]",
                  "/update internal \x00 nul", '/assign "tech lead" bob\u200b', "/handoff ic carol",
                  "/correct 3 the \u009b31m figure was 13%", "/pin 5", "/decision roll back\n# not a heading",
                  "-2d /rootcause pool | too `small`", "/status mitigating"):
        await service.execute(incident.id, typed, "dan")
    return incident.id


@pytest.fixture
async def hostile(service):
    return await write_hostile_record(service)


async def test_every_line_is_the_line_of_the_formatter_it_replaced(service, hostile):
    record = await service.record(hostile)
    entries = list(record.entries)
    assert {e.kind for e in entries} == set(EntryKind) and len({e.occurred_at.date() for e in entries}) == 3
    audiences = {a.id: a.label for a in record.policy.audience}
    for zone in ZONES:
        for now in (NOW.astimezone(zone), LATE.astimezone(zone)):
            today = now.date()
            assert [summary_line(stored_row(e), today.isoformat(), audiences) for e in entries] == \
                [reference_summary_line(e, today, audiences) for e in entries]
    timeline = Timeline(entries)  # every entry quoted: the corrections are noted both ways
    assert any(e.corrects for e in entries) and any(e.pinned for e in entries)
    for e in entries:
        assert timeline.line(stored_row(e)) == reference_markdown_line(timeline.numbers, timeline.corrections, e)
        assert timeline.line(stored_row(e), reference_without_owed_note(e)) == \
            reference_markdown_line(timeline.numbers, timeline.corrections, e, reference_without_owed_note(e))


async def test_the_rows_read_are_the_rows_of_the_entries(service, hostile):
    """What a streamed export formats is what a record of entries gives the same formatters."""
    entries = list((await service.record(hostile)).entries)
    streamed = await exports.streamed_record(service, hostile)
    rows = await asyncio.to_thread(lambda: [tuple(row[:12]) for row in streamed.entries.stored_rows()])
    assert rows == [stored_row(e) for e in entries]
    assert [entry_from_row(row) for row in rows] == entries
    keys = await asyncio.to_thread(lambda: [row[ID] for row in streamed.key_entries.stored_rows()])
    assert keys == [e.id for e in entries if e.pinned or e.kind.value in
                    ("milestone", "decision", "severity", "status", "rootcause", "role")]


@pytest.mark.sqlite_only
def test_the_command_lines_way_writes_what_the_whole_record_renders(db_path, policies, clock):
    """`warroom show` and `export` open the record blocking (no event loop): the same bytes."""
    from warroom.service.incidents import IncidentService
    from warroom.store.blocking import run_to_end

    async def setup():
        service = await IncidentService.open(db_path, policies, clock)
        try:
            return await write_hostile_record(service)
        finally:
            await service.close()

    incident_id = asyncio.run(setup())
    for now in (NOW, LATE):
        clock.now = now

        async def both(render, notable=True):
            service = await IncidentService.open(db_path, policies, clock, blocking=True)
            try:
                assert service.db.blocking
                whole = await service.record(incident_id)
                streamed = await exports.streamed_record(service, incident_id, notable=notable)
                sink = io.BytesIO()
                await exports.write_pieces(lambda: render(streamed), sink, blocking=True)
                return sink.getvalue().decode("utf-8"), "".join(render(whole))
            finally:
                await service.close()

        shown, whole = run_to_end(both(lambda r: joined(summary_lines(r, clock.now)), notable=False))
        assert shown == whole == plain_summary(run_to_end(_whole_record(db_path, policies, clock, incident_id)),
                                               clock.now)
        report, whole_report = run_to_end(both(markdown_pieces))
        assert report == whole_report and "corrects #3" in report and "(pinned)" in report


async def _whole_record(db_path, policies, clock, incident_id):
    from warroom.service.incidents import IncidentService

    service = await IncidentService.open(db_path, policies, clock, blocking=True)
    try:
        return await service.record(incident_id)
    finally:
        await service.close()


@pytest.mark.parametrize("stored", [
    "2026-11-22T19:00:00.123456Z", "0999-01-02T03:04:05.000000Z",  # the fixed-width form to_stored writes
    "2026-W47-1T19:00:00.000000Z", "2026-11-22T19:00:00,000000Z", "2026-11-22T190000.00000000Z",
    "2026-11-22T19:00.000000000Z", "2026-11-22T19:00:00.5Z",  # other forms a reader of the text could meet
])
def test_the_time_cut_from_the_text_is_the_time_read_from_it(stored):
    shown = from_stored(stored).isoformat(" ", "seconds")
    assert stamp_of(stored) == (shown[:10], shown[11:19])


@pytest.mark.parametrize("stored", ["2026-13-22T19:00:00.000000Z", "2026-11-22T19:00:00.00000xZ",
                                    "\x1b[31m6-11-22T19:00:00.000000Z", "yesterday"])
def test_a_stored_time_that_is_no_time_is_refused_as_reading_it_refuses_it(stored):
    with pytest.raises(ValueError):
        from_stored(stored)
    with pytest.raises(ValueError):
        stamp_of(stored)


def test_the_markdown_of_entries_and_of_their_rows_is_the_same_document(tmp_path, policies, clock):
    from warroom.service.incidents import IncidentService

    async def check():
        service = await IncidentService.open(tmp_path / "w.db", policies, clock)
        try:
            incident_id = await write_hostile_record(service)
            record = await service.record(incident_id)
            streamed = await exports.streamed_record(service, incident_id)
            sink = io.BytesIO()
            await exports.write_pieces(lambda: markdown_pieces(streamed), sink)
            return sink.getvalue().decode("utf-8"), to_markdown(record)
        finally:
            await service.close()

    streamed, whole = asyncio.run(check())
    assert streamed == whole and "\x1b" not in whole and "\u202e" not in whole


def test_unknown_kinds_in_a_row_are_refused_as_an_entry_refuses_them():
    row = _plain_rows(1)[0]
    row = row[:KIND] + ("nonsense",) + row[KIND + 1:]  # a row that is good but for its kind
    with pytest.raises(ValueError):
        entry_from_row(row)
    with pytest.raises(ValueError):
        summary_line(row, "2026-11-22", {})
    with pytest.raises(ValueError):
        Timeline([]).line(row)


def test_a_row_keeps_what_the_entry_holds():
    moment = datetime(2026, 11, 22, 19, 0, 0, 120, tzinfo=timezone.utc)
    stored = dict(id=7, incident_id="INC-1", number=3, occurred_at="2026-11-22T19:00:00.000120Z",
                  recorded_at="2026-11-22T19:00:01.000000Z", author="bob", kind="update", text="x",
                  data='{"audience": "internal", "update": 1}', corrects=None, pinned=1, hash="ab" * 32)
    row = tuple(stored[name] for name in STORED_COLUMNS)
    entry = entry_from_row(row)
    assert entry.occurred_at == moment and entry.pinned is True and entry.data == {"audience": "internal", "update": 1}
    assert stored_row(entry) == row


def _plain_rows(count: int, start: int = 1) -> list[tuple]:
    """Rows of plain text (the case the part formatters write without a call per line), over days."""
    kinds = ("note", "decision", "status", "action", "probe", "system", "milestone")
    return [tuple(dict(id=start + n, incident_id="INC-1", number=start + n,
                       occurred_at=f"2026-11-{21 + n % 3:02d}T{n % 24:02d}:{n % 60:02d}:{n % 59:02d}.{n:06d}Z",
                       recorded_at="2026-11-23T15:00:00.000000Z", author=("alice", "bob", "a-very-long-name")[n % 3],
                       kind=kinds[n % len(kinds)], text=f"entry {n}: p99 {200 + n} ms on web-{n % 40}, ratio {n % 7}.{n % 10}%",
                       data=None, corrects=None, pinned=int(n % 11 == 0), hash=None)[name] for name in STORED_COLUMNS)
            for n in range(count)]


def _mixed_parts(entries) -> list[list[tuple]]:
    """Parts of plain rows, of hostile ones, and of both (a hostile row amid plain ones), and odd times."""
    hostile = [stored_row(e) for e in entries]
    plain = _plain_rows(300)
    odd = [row[:OCCURRED] + ("2026-11-22T19:00:00.5Z",) + row[OCCURRED + 1:] for row in _plain_rows(3, 900)]
    return [plain[:256], hostile, plain[:100] + hostile[:5] + plain[100:200], odd, plain[256:] + odd, [plain[0]]]


async def test_a_part_written_at_once_is_the_lines_of_its_rows(service, hostile):
    """`show` and the report write a part of plain rows as one piece, checked at once: the lines
    of the per-row formatters, joined by newlines, for plain, hostile and mixed parts, every kind,
    pinned and corrected entries, odd times, several days and a `now` in several zones."""
    from warroom.domain.timeline_lines import TIMELINE_COLUMNS
    from warroom.domain.report import SUMMARY_COLUMNS, summary_pieces

    record = await service.record(hostile)
    entries = list(record.entries)
    audiences = {a.id: a.label for a in record.policy.audience}
    parts = _mixed_parts(entries)
    for zone in ZONES:
        for now in (NOW.astimezone(zone), LATE.astimezone(zone)):
            today = now.date().isoformat()
            for rows in parts:
                whole = "\n".join(summary_line(row, today, audiences) for row in rows)
                assert "\n".join(summary_pieces(rows, today, audiences)) == whole
                narrow = [tuple(v if i in SUMMARY_COLUMNS else None for i, v in enumerate(row)) for row in rows]
                assert "\n".join(summary_pieces(narrow, today, audiences)) == whole
    for timeline in (Timeline(entries), Timeline([])):  # with corrections noted, and none
        for rows in parts:
            whole = "\n".join(timeline.line(row) for row in rows)
            assert "\n".join(timeline.pieces(rows)) == whole
            narrow = [tuple(v if i in TIMELINE_COLUMNS else None for i, v in enumerate(row)) for row in rows]
            assert "\n".join(timeline.pieces(narrow)) == whole
            texts = [f"said {row[0]}" for row in rows]
            assert "\n".join(timeline.pieces(rows, texts)) == "\n".join(map(timeline.line, rows, texts))
    plain = _plain_rows(256)
    assert len(list(summary_pieces(plain, "2026-11-23", {}))) == 1 and len(list(Timeline([]).pieces(plain))) == 1
    assert len(list(summary_pieces(parts[2], "2026-11-23", {}))) == len(parts[2])  # hostile: a line at a time


def test_a_part_refuses_what_its_lines_refuse():
    from warroom.domain.report import summary_pieces

    for bad in ("2026-13-22T19:00:00.000000Z", "2026-11-22T19:00:00.00000xZ"):
        rows = _plain_rows(3)
        rows[1] = rows[1][:OCCURRED] + (bad,) + rows[1][OCCURRED + 1:]
        with pytest.raises(ValueError):
            list(summary_pieces(rows, "2026-11-22", {}))
        with pytest.raises(ValueError):
            list(Timeline([]).pieces(rows))
    rows = _plain_rows(3)
    rows[2] = rows[2][:KIND] + ("nonsense",) + rows[2][KIND + 1:]
    with pytest.raises(ValueError):
        list(summary_pieces(rows, "2026-11-22", {}))
    with pytest.raises(ValueError):
        list(Timeline([]).pieces(rows))


@pytest.mark.parametrize("markdown", [False, True])
def test_texts_are_plain_together_when_each_is_given_back_as_it_is(markdown):
    from warroom.domain.text import all_plain

    shown = markdown_inline if markdown else visible
    corpus = [*TEXTS.values(), *NAMES.values(), "plain", "", "a_b", "x & y", "tab\there", "é",
              *map(chr, range(0x100)), "\u2028", "\u202e", "\ufeff"]  # every ASCII character: the table is complete
    for text in corpus:
        assert all_plain(["plain", text, "words"], markdown=markdown) == (shown(text) == text and text.isascii()), text
    assert all_plain(["a", "b"] * 1000, markdown=markdown)
    assert not all_plain(["x" * 100, "y" * 100], markdown=markdown, limit=150)  # too much to copy: one by one


async def test_a_stream_reads_tuples_of_the_columns_asked_for_and_holds_one_chunk(service, hostile, monkeypatch):
    """The stream's rows are plain tuples (not a Row object each), only the columns a formatter
    reads are filled, and a chunk is let go when the next is asked for."""
    from warroom.domain.report import SUMMARY_COLUMNS

    monkeypatch.setattr(exports, "CHUNK", 7)
    entries = list((await service.record(hostile)).entries)
    streamed = await exports.streamed_record(service, hostile)

    def read():
        chunks, seen = [], []
        for rows in streamed.entries.stored_chunks(SUMMARY_COLUMNS):
            if chunks:
                assert chunks[-1] == []  # the previous one, emptied
            chunks.append(rows)
            seen += [tuple(row) for row in rows]
            assert all(type(row) is tuple or not isinstance(row, sqlite3.Row) for row in rows)
        return seen

    import sqlite3

    rows = await asyncio.to_thread(read)
    assert rows == [tuple(v if i in (*SUMMARY_COLUMNS,) else None for i, v in enumerate(stored_row(e)))[:max(SUMMARY_COLUMNS) + 1]
                    for e in entries]  # each ends with the last column asked for
