"""Every export format, written anywhere (a file, a pipe, a terminal), is safe to `cat`, and every
field of the record is covered: title, services, impact, who declared, authors, roles, entries,
updates, actions (issue 9, 4)."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import NAMES, TEXTS, unsafe_in

from warroom.domain.postmortem import to_markdown
from warroom.domain.report import to_csv, to_json_dict

FORMATS = ("json", "csv", "markdown")


async def hostile_record(service, clock) -> str:
    """An incident whose every free-text field holds each hostile text of the corpus."""
    everything = " ".join(NAMES.values())
    incident = await service.declare(TEXTS["osc 52 clipboard"] + " title", "SEV-2", author=NAMES["bidi"],
                                     commander=NAMES["zero width"], services=(NAMES["ansi csi"], NAMES["c1 controls"]),
                                     impact=everything)
    for name, text in TEXTS.items():
        clock.advance(seconds=10)
        await service.execute(incident.id, text, NAMES.get(name, "plain"))
    for line in (f"/action {NAMES['osc 8 link']} @{NAMES['zero width'].split()[0]}", f"/rootcause {everything}",
                 f"/lesson {NAMES['formula']}", f"/update internal {TEXTS['markdown']}",
                 f"/assign comms {NAMES['osc title'].split()[0]}", f"/correct 3 {NAMES['dcs']}"):
        clock.advance(seconds=10)
        await service.execute(incident.id, line, NAMES["c0"])
    return incident.id


def rendered(fmt: str, record) -> str:
    if fmt == "json":
        from warroom.domain.text import inert_json

        return inert_json(json.dumps(to_json_dict(record), indent=2, sort_keys=True, ensure_ascii=False))
    return to_csv(record) if fmt == "csv" else to_markdown(record)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_every_format_holds_no_raw_unsafe_character(service, clock, fmt):
    incident_id = await hostile_record(service, clock)
    text = rendered(fmt, await service.record(incident_id))
    assert unsafe_in(text, allow_crlf=fmt == "csv") == []
    assert "\u241b" in text or "\\u001b" in text  # the escapes are shown, not dropped


async def test_csv_cells_are_the_record_made_visible_and_never_a_formula(service, clock):
    from warroom.domain.text import csv_cell

    incident_id = await hostile_record(service, clock)
    record = await service.record(incident_id)
    rows = list(csv.DictReader(io.StringIO(to_csv(record), newline="")))
    assert len(rows) == len(record.entries)
    for row, entry in zip(rows, record.entries):
        assert row["text"] == csv_cell(entry.text) and row["author"] == csv_cell(entry.author)
        assert not any(cell.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row.values())
    by_text = {row["text"] for row in rows}
    assert "'=HYPERLINK(\"http://evil.example\",\"open\")" in by_text
    assert "al<U+200B>ice bo<U+200C>b <U+200D><U+2060><U+2063><U+FEFF>" in {row["author"] for row in rows}


@pytest.mark.parametrize("cell, shown", [
    ("=1+1", "'=1+1"), ("  =1+1", "'  =1+1"), ("\uff1dcmd", "'\uff1dcmd"), ("-2", "'-2"),
    ("\t@x", "'\t@x"), ("ok = fine", "ok = fine"), ("a\r\nb", "a\nb"), ("\x1b]52;c;x\x07", "\u241b]52;c;x\u2407"),
])
def test_csv_cell(cell, shown):
    from warroom.domain.text import csv_cell

    assert csv_cell(cell) == shown


def read_terminal(leader: int) -> bytes:
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            return shown
        if not chunk:
            return shown
        shown += chunk


def export_everywhere(cli_env, tmp_path: Path, incident_id: str, fmt: str) -> dict[str, str]:
    """The same export written to a file (-o), a pipe and a terminal (a pty)."""
    base = [sys.executable, "-m", "warroom", "export", incident_id, "-f", fmt]
    out_file = tmp_path / f"export.{fmt}"
    written = subprocess.run(base + ["-o", str(out_file)], env=cli_env, cwd=tmp_path, capture_output=True, timeout=60)
    assert written.returncode == 0, written.stderr
    piped = subprocess.run(base, env=cli_env, cwd=tmp_path, capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(base, env=cli_env, cwd=tmp_path, stdout=follower, stderr=subprocess.PIPE)
        os.close(follower)
        screen = read_terminal(leader)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        os.close(leader)
    return {"file": out_file.read_bytes().decode("utf-8"), "pipe": piped.stdout.decode("utf-8"),
            "terminal": screen.decode("utf-8").replace("\r\n", "\n")}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_exports_are_safe_to_cat_from_a_file_a_pipe_and_a_terminal(service, clock, cli_env, tmp_path, fmt):
    import asyncio

    incident_id = await hostile_record(service, clock)
    outputs = await asyncio.to_thread(export_everywhere, cli_env, tmp_path, incident_id, fmt)
    for where, text in outputs.items():
        assert unsafe_in(text, allow_crlf=fmt == "csv") == [], where
    assert len(outputs["file"].splitlines()) == len(outputs["pipe"].splitlines())  # one export, wherever it goes
    if fmt == "json":
        exported = json.loads(outputs["file"])
        record = await service.record(incident_id)
        assert [e["text"] for e in exported["entries"]] == [e.text for e in record.entries]  # exact data
        assert exported["incident"]["created_by"] == NAMES["bidi"]
