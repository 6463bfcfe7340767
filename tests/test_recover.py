"""A damaged database (issue 9, 7): every command says so in one line with the way out, exit 2,
the file untouched; `warroom recover` copies everything readable into a new file."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from db_files import folder_state, warroom_file, wreck_a_page_of
from test_cli import assert_ok, assert_user_error, run_parallel

NOTES = 400


def entries_of(path: Path) -> dict[int, str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return dict(conn.execute("SELECT number, text FROM entries"))
    finally:
        conn.close()


@pytest.fixture
def damaged(tmp_path) -> tuple[Path, str, dict[int, str]]:
    """A warroom file of NOTES + 1 entries with one leaf page of the entries table wrecked, alone in
    its folder; the incident id and every entry as written before the damage."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "warroom.db"
    incident_id = warroom_file(path, notes=NOTES)
    written = entries_of(path)
    wreck_a_page_of(path, "entries", which=3)
    return path, incident_id, written


def test_every_command_on_a_damaged_file_says_so_in_one_line_and_changes_nothing(damaged, cli_env, tmp_path):
    path, incident_id, _ = damaged
    before = folder_state(path.parent)
    commands = [["list"], ["list", "--all", "--json"], ["show", incident_id], ["export", incident_id],
                ["export", incident_id, "-f", "csv"], ["log", incident_id, "after the damage"],
                ["declare", "another", "--severity", "SEV-3"], ["open", incident_id], ["check", "--incident", incident_id]]
    results = run_parallel([["--db", str(path), *argv] for argv in commands], cli_env, tmp_path)
    for result in results:
        line = assert_user_error(result, f"{path} is damaged", "nothing was changed", f"warroom recover {path}")
        assert "malformed" in line or "page" in line.lower(), line
    assert folder_state(path.parent) == before


def test_recover_copies_every_readable_entry_into_a_new_file_and_leaves_the_original(damaged, run_cli, cli_env):
    path, incident_id, written = damaged
    before = folder_state(path.parent)
    target = path.parent / "saved.db"
    result = run_cli("recover", str(path), "-o", str(target))
    out = assert_ok(result)
    assert f"Recovered into {target}" in out and "entries:" in out and "unreadable rowids" in out
    assert f"{path} was not changed" in out
    state = folder_state(path.parent)
    assert {name: state[name] for name in before} == before  # the damaged file, byte for byte
    assert sorted(state) == ["saved.db", "warroom.db"]  # no -wal, -shm or .partial left
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    recovered = entries_of(target)
    assert recovered.items() <= written.items()  # nothing invented, nothing altered
    lost = len(written) - len(recovered)
    assert 0 < lost < 40, lost  # one page's worth of notes, not the rest of the table
    assert 1 in recovered and max(written) in recovered  # the rows after the bad page were found again
    # The copy is a sound warroom database: it opens, migrates if need be, and takes new entries.
    shown = assert_ok(run_cli("--db", str(target), "show", incident_id))
    assert f"Timeline ({len(recovered)} entries)" in shown
    assert assert_ok(run_cli("--db", str(target), "log", incident_id, "recovered and going on")).strip().isdigit()


def test_recover_without_a_name_writes_beside_the_file_and_never_overwrites(damaged, run_cli):
    path, _, _ = damaged
    first = assert_ok(run_cli("recover", str(path)))
    assert f"Recovered into {path.parent / 'warroom.recovered.db'}" in first
    second = assert_ok(run_cli("recover", str(path)))
    assert f"Recovered into {path.parent / 'warroom.recovered-2.db'}" in second
    taken = path.parent / "taken.db"
    taken.write_text("mine")
    assert_user_error(run_cli("recover", str(path), "-o", str(taken)), f"{taken} already exists")
    assert taken.read_text() == "mine"


def test_recover_of_a_sound_file_copies_everything(tmp_path, run_cli):
    path = tmp_path / "sound.db"
    warroom_file(path, notes=50)
    out = assert_ok(run_cli("recover", str(path), "-o", str(tmp_path / "copy.db")))
    assert "everything was readable" in out
    assert entries_of(tmp_path / "copy.db") == entries_of(path)


def test_recover_refuses_another_programs_file(tmp_path, run_cli):
    path = tmp_path / "songs.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.commit()
    conn.close()
    assert_user_error(run_cli("recover", str(path)), "is not a warroom database")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "config") == ["songs.db"]


@pytest.mark.sqlite_only  # a damaged page is a file's problem
def test_a_read_that_meets_damage_after_opening_is_one_line_with_the_way_out(monkeypatch, capsys, cli_env):
    """Damage the open-time check cannot see (it appears later, or in a way quick_check misses)."""
    from warroom.cli import main
    from warroom.service import IncidentService

    for key, value in cli_env.items():
        monkeypatch.setenv(key, value)

    async def broken_read(self, *args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(IncidentService, "incidents", broken_read)
    with pytest.raises(SystemExit) as stop:
        main(["list"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is damaged (database disk image is malformed)" in err
    assert "warroom recover" in err


def test_recover_gets_the_front_of_a_truncated_file_back(tmp_path, run_cli):
    path = tmp_path / "cut.db"
    incident_id = warroom_file(path, notes=NOTES)
    written = entries_of(path)
    with path.open("r+b") as handle:  # the last blocks of the file lost, as a full disk or a bad copy does
        handle.truncate(path.stat().st_size * 6 // 10 // 4096 * 4096)
    before = path.read_bytes()
    out = assert_ok(run_cli("recover", str(path), "-o", str(tmp_path / "front.db")))
    assert "entries:" in out and " on" in out  # the rows past the cut are gone, and it says so
    recovered = entries_of(tmp_path / "front.db")
    assert recovered.items() <= written.items() and len(recovered) > NOTES // 4
    assert path.read_bytes() == before
    assert incident_id in assert_ok(run_cli("--db", str(tmp_path / "front.db"), "list"))


def test_the_report_names_exactly_the_rows_that_were_lost(tmp_path):
    """Three wrecked pages: the copy holds every other row unaltered, and the unreadable ranges
    in the report are exactly the rowids missing from it."""
    from warroom.store.salvage import salvage

    path = tmp_path / "three-holes.db"
    warroom_file(path, notes=NOTES * 3)
    written = entries_of(path)
    for which in (2, 12, 25):
        wreck_a_page_of(path, "entries", which)
    report = salvage(path, tmp_path / "copy.db")
    [entries] = [table for table in report.tables if table.name == "entries"]
    recovered = entries_of(tmp_path / "copy.db")
    assert recovered.items() <= written.items() and entries.copied == len(recovered)
    reported = {rowid for low, high in entries.unreadable for rowid in range(low, high + 1)}
    assert len(entries.unreadable) == 3 and reported == set(written) - set(recovered)  # numbers == rowids here


async def test_a_salvaged_timeline_counts_its_entries_not_its_newest_number(damaged, run_cli):
    """The entries on the damaged page are gone, so numbers have a gap: the war room's timeline has
    as many rows as entries, and a page near its end (read from the newest entry back where numbers
    have no gap) holds the right entries."""
    from test_ui_support import POLICIES

    from warroom.service import IncidentService

    path, incident_id, _ = damaged
    target = path.parent / "saved.db"
    assert_ok(run_cli("recover", str(path), "-o", str(target)))
    recovered = entries_of(target)
    assert len(recovered) < max(recovered)  # a gap
    service = await IncidentService.open(target, POLICIES)
    try:
        delta = await service.live(incident_id).load()
        assert delta.total == len(recovered)
        everything = await service.entries(incident_id)
        for offset in (delta.total - 10, delta.total // 2 + 3, 0):
            page = await service.entries_page(incident_id, offset, 10)
            assert [e.number for e in page] == [e.number for e in everything[offset:offset + 10]]
    finally:
        await service.close()
