"""The streamed Markdown report reads the timeline once: its key timeline and its full-timeline
appendix come from the same chunks, the appendix set aside in a private temporary file (the
record's spool) and copied in its place; the same bytes as the report of the whole record."""

from __future__ import annotations

import asyncio
import io
import os
import stat
from dataclasses import replace

import msgspec
import pytest

from tests.test_stored_rows import write_hostile_record
from warroom.domain.policy import ReportSection
from warroom.domain.postmortem import markdown_pieces, to_markdown
from warroom.domain.report import KEY_KINDS
from warroom.domain.stored import DATA, ID, STORED_COLUMNS, stored_row
from warroom.service import exports
from warroom.store import record_reads


@pytest.fixture
def reads(monkeypatch):
    """Each chunk of the timeline read: (the kinds it was limited to, how many rows it gave, whether
    it is the first of a read from the start)."""
    seen: list[tuple[object, int, bool]] = []
    real = record_reads.entry_rows_after

    async def counted(*args, **kwargs):
        rows = await real(*args, **kwargs)
        kinds = args[5] if len(args) > 5 else kwargs.get("kinds_or_pinned")
        seen.append((kinds, len(rows), args[3] is None))
        return rows

    monkeypatch.setattr(record_reads, "entry_rows_after", counted)
    monkeypatch.setattr(exports, "CHUNK", 4)  # many chunks: a boundary between any two entries
    return seen


async def _streamed(service, incident_id, sections=None) -> tuple[str, str]:
    """(the report streamed as the CLI writes it, the report of the whole record), with the policy's
    sections replaced by `sections` when given."""
    whole = await service.record(incident_id)
    streamed = await exports.streamed_record(service, incident_id)
    if sections is not None:
        policy = msgspec.structs.replace(whole.policy, postmortem=list(sections))
        whole, streamed = replace(whole, policy=policy), replace(streamed, policy=policy)
    sink = io.BytesIO()
    await exports.write_pieces(lambda: markdown_pieces(streamed), sink)
    return sink.getvalue().decode("utf-8"), to_markdown(whole)


async def test_the_report_reads_the_timeline_once(service, reads):
    incident_id = await write_hostile_record(service)
    count = len((await service.record(incident_id)).entries)
    reads.clear()
    report, whole = await _streamed(service, incident_id)
    assert report == whole and "(pinned)" in report and "corrects #" in report
    assert [kinds for kinds, _, _ in reads] == [None] * len(reads)  # no read of the key entries apart
    assert sum(rows for _, rows, _ in reads) == count and len(reads) > 3  # each entry read once, in chunks


TIMELINE, SUMMARY = ReportSection(title="Timeline", fill="timeline"), ReportSection(title="Summary", fill="summary")


@pytest.mark.parametrize("sections, key_reads", [
    ((SUMMARY,), 0),  # no key timeline: the appendix reads the timeline, as it comes
    ((TIMELINE, SUMMARY, ReportSection(title="Again", fill="timeline")), 1),  # the second reads the key entries
])
async def test_a_report_without_a_key_timeline_or_with_two_is_the_same_document(service, reads, sections, key_reads):
    incident_id = await write_hostile_record(service)
    count = len((await service.record(incident_id)).entries)
    reads.clear()
    report, whole = await _streamed(service, incident_id, sections)
    assert report == whole and report.count("## Appendix: full timeline") == 1
    assert sum(rows for kinds, rows, _ in reads if kinds is None) == count  # the whole timeline once
    assert sum(first for kinds, _, first in reads if kinds is not None) == key_reads


async def test_an_empty_set_aside_appendix_says_so(service):
    incident = await service.declare("Quiet", "SEV-3", author="alice")
    streamed = await exports.streamed_record(service, incident.id)
    empty = replace(streamed, entries=[], key_entries=[])  # (a record of no entry still renders)
    report = "".join(await asyncio.to_thread(lambda: list(markdown_pieces(empty))))
    assert report == to_markdown(replace(empty, spool=None)) and "- _Empty._" in report  # read twice, without a spool


@pytest.mark.parametrize("tmpfile", [True, False])
def test_the_spool_is_private_and_has_no_name(tmp_path, monkeypatch, tmpfile):
    import tempfile

    folder = tmp_path / "temporary"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    if not tmpfile:  # a system without O_TMPFILE: tempfile's way
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
        monkeypatch.setattr(tempfile, "_O_TMPFILE_WORKS", False, raising=False)  # it makes a name, unlinked at once
    spool = exports.spool()
    try:
        assert stat.S_IMODE(os.fstat(spool.fileno()).st_mode) == 0o600
        assert os.listdir(folder) == []  # nothing there to find, nothing left behind
        spool.write("- é \u202e ␛\r\n\n" * 3)
        spool.seek(0)
        assert spool.read(5) + spool.read() == "- é \u202e ␛\r\n\n" * 3  # UTF-8 as written, no newline turned
    finally:
        spool.close()
    assert os.listdir(folder) == []


async def test_the_spool_is_closed_when_the_report_ends_or_is_given_up(service):
    incident_id = await write_hostile_record(service)
    streamed = await exports.streamed_record(service, incident_id)
    opened = []

    def spool():
        opened.append(exports.spool())
        return opened[-1]

    record = replace(streamed, spool=spool)

    def read_all():
        return "".join(markdown_pieces(record))

    def give_up():
        pieces = markdown_pieces(record)
        for _ in range(40):  # into the key timeline: the spool is open
            next(pieces)
        assert not opened[-1].closed
        pieces.close()

    assert await asyncio.to_thread(read_all) == to_markdown(await service.record(incident_id))
    await asyncio.to_thread(give_up)
    assert len(opened) == 2 and all(spool.closed for spool in opened)


async def test_data_is_read_only_of_the_kinds_asked_and_pinned_entries(service):
    incident_id = await write_hostile_record(service)
    entries = list((await service.record(incident_id)).entries)
    rows = await record_reads.entry_rows_after(service.db.reader, incident_id, entries[-1].number, None, 10_000,
                                               columns=(ID, DATA), data_of=KEY_KINDS)
    assert len(rows[0]) == STORED_COLUMNS.index("id") + 1  # a row ends with the last column asked for
    keys = {e.id for e in entries if e.pinned or e.kind in KEY_KINDS}
    assert keys and len(keys) < len(entries)
    assert [(row[ID], row[DATA]) for row in rows] == \
        [(e.id, stored_row(e)[DATA] if e.id in keys else None) for e in entries]
    assert any(row[DATA] for row in rows)


# The entry point's main() as the `warroom` program runs it; what the command imported, on stderr.
WATCHED_MAIN = r'''
import json, sys
sys.argv = ["warroom", *sys.argv[1:]]
from warroom.cli_start import main
try:
    main()
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
'''


@pytest.mark.parametrize("command", [["show"], ["export", "--format", "markdown", "-o", "report.md"]])
def test_show_and_the_report_do_not_import_what_they_do_not_use(tmp_path, command):
    """Not the drill files' module (the reports ask only domain.drill_mark), not csv (the CSV
    export's), and for the report's spool not tempfile where the system makes nameless files."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from db_files import warroom_file

    path = tmp_path / "w.db"
    incident_id = warroom_file(path)
    (tmp_path / "config").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_CONFIG_DIR=str(tmp_path / "config"), WARROOM_USER="tester", TMPDIR=str(tmp_path),
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", WATCHED_MAIN, "--db", str(path), command[0], incident_id, *command[1:]],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert seen["code"] in (0, None), done.stderr
    modules = set(seen["modules"])
    assert "warroom.domain.report" in modules and not modules & {"warroom.domain.drill", "csv"}
    if command[0] == "export":
        assert "Incident post-mortem" in (tmp_path / "report.md").read_text(encoding="utf-8")
        if hasattr(os, "O_TMPFILE"):
            assert "tempfile" not in modules


@pytest.mark.parametrize("chunk", [1, 3, 2000])
async def test_key_lines_taken_from_the_appendix_are_the_key_timeline_s(service, monkeypatch, chunk):
    """Plain text (lines made a part at a time): a key entry's line is its appendix line, but
    for a severity change, shown without the list of what it owed; pins and corrections noted."""
    monkeypatch.setattr(exports, "CHUNK", chunk)
    incident = await service.declare("Checkout slow", "SEV-3", author="alice", commander="alice")
    for text in ["note one", "/decision roll back", "/sev SEV-1 spreading", "/status mitigating", "note two",
                 "/correct 3 we rolled back web only", "/pin 5", "/assign scribe bob", "-5m note before"]:
        await service.execute(incident.id, text, "bob")
    report, whole = await _streamed(service, incident.id)
    assert report == whole and "(corrected by #" in report
    # the same entries in plain words ("->" and "|" are Markdown's): the parts are written at once
    record = await service.record(incident.id)
    plain = []
    for e in record.entries:
        text = e.text.replace("->", "to").replace(" | Owed:", "; owed:")
        if e.kind.value == "severity":
            text, data = "Severity SEV-3 to SEV-1 (Critical): spreading; owed: updates", {**e.data, "text_length": 45}
        plain.append(replace(e, text=text, data=data if e.kind.value == "severity" else e.data))
    record = replace(record, entries=plain)
    once = to_markdown(replace(record, spool=io.StringIO))
    assert once == to_markdown(record)  # the one read over a record of entries, and the two
    key_section = once.split("## Timeline", 1)[1].split("### Milestones", 1)[0]
    assert "SEV-1 (Critical): spreading (" not in key_section and "Critical): spreading\n" in key_section
    assert "owed: updates" in once.split("## Appendix: full timeline", 1)[1] and "(pinned)" in key_section


def test_one_line_of_markdown_s_specials_leaves_its_neighbours_written_at_once(monkeypatch):
    from tests.test_stored_rows import _plain_rows
    from warroom.domain import timeline_lines
    from warroom.domain.stored import PINNED, TEXT

    rows = [row[:PINNED] + (0,) + row[PINNED + 1:] for row in _plain_rows(256)]  # no notes: each line made at once
    rows[100] = rows[100][:TEXT] + ("Status Investigating -> Mitigating",) + rows[100][TEXT + 1:]
    timeline = timeline_lines.Timeline([])
    whole = "\n".join(map(timeline.line, rows))
    calls = []
    real = timeline_lines.Timeline.line
    monkeypatch.setattr(timeline_lines.Timeline, "line", lambda self, *args: calls.append(args) or real(self, *args))
    assert "\n".join(timeline.pieces(rows)) == whole and "-\\>" in whole
    assert 0 < len(calls) <= timeline_lines._FEW  # the line's few neighbours, not the part's 256
