"""Read-only sessions (`--read-only`, a stakeholder's browser tab): they can look, and nothing they
do changes the database, whichever way in they try (service, CLI, screen keys)."""

from __future__ import annotations

import hashlib

import pytest
from test_ui_support import make_app, screen_text, small_database, wait_for, war_room_ready

from warroom.domain import commands as cmd
from warroom.domain.errors import DatabaseError, ReadOnlyError
from warroom.service import IncidentService
from warroom.ui.messages import EntrySubmitted
from warroom.ui.widgets.entry_bar import EntryBar, EntryInput
from warroom.ui.widgets.timeline import Timeline


def fingerprint(path) -> str:
    """The database's committed content (the WAL is checkpointed first by a plain connection)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return hashlib.sha256(dump.encode()).hexdigest()


async def test_a_read_only_service_reads_but_every_write_is_refused(tmp_path, policies):
    path, incident_id = await small_database(tmp_path)
    before = fingerprint(path)
    service = await IncidentService.open(path, policies, read_only=True)
    try:
        assert service.read_only
        assert [e.text for e in await service.entries(incident_id)][-1] == "note 3"
        with pytest.raises(ReadOnlyError, match="read-only"):
            await service.execute(incident_id, "sneaky note", "carol")
        with pytest.raises(ReadOnlyError):
            await service.apply(incident_id, cmd.PinEntry(number=1, pinned=True), "carol")
        with pytest.raises(ReadOnlyError):
            await service.declare("another", "SEV-1", author="carol")
        with pytest.raises(ReadOnlyError):
            await service.set_action_done(incident_id, 1, True, "carol")
        with pytest.raises(ReadOnlyError):
            service.require_writable()
        with pytest.raises(Exception, match="readonly|read-only|query_only|attempt to write"):
            await service.db.conn.execute("INSERT INTO entries (incident_id) VALUES ('x')")  # below the service too
    finally:
        await service.close()
    assert fingerprint(path) == before


async def test_read_only_never_creates_a_database(tmp_path, policies):
    with pytest.raises(DatabaseError, match="cannot create"):
        await IncidentService.open(tmp_path / "missing.db", policies, read_only=True)
    assert not (tmp_path / "missing.db").exists()


def test_cli_read_only_refuses_log_and_still_shows(run_cli):
    incident_id = run_cli("declare", "Checkout down", "-s", "SEV-1").stdout.strip()
    refused = run_cli("--read-only", "log", incident_id, "not allowed")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "warroom: error: this session is read-only: nothing was saved"
    shown = run_cli("--read-only", "show", incident_id)
    assert shown.returncode == 0 and "Checkout down" in shown.stdout
    assert "not allowed" not in run_cli("show", incident_id).stdout


async def test_the_read_only_war_room_disables_the_entry_bar_and_saves_nothing(tmp_path):
    path, incident_id = await small_database(tmp_path)
    before = fingerprint(path)
    app = make_app(path, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryBar)
        assert bar.input.disabled and "Read-only" in bar.input.placeholder
        assert app.screen.focused is app.screen.query_one(Timeline)
        assert "read-only" in app.sub_title
        app.screen.post_message(EntrySubmitted("typed anyway"))  # as if the bar had sent it: refused below
        await wait_for(pilot, lambda: "read-only" in str(bar.query_one("#entry-error").render()))
        app.screen.query_one(Timeline).focus()
        await pilot.press("p")  # pin the selected entry: a write
        await wait_for(pilot, lambda: any("read-only" in n.message for n in app._notifications))
        assert app.screen.check_action("procedure", ("compose_update",)) is False  # F2 and F6 are left out
        assert app.screen.check_action("procedure", ("export_report",)) is False
        assert "f2 Update" not in screen_text(app) and "f6 Report" not in screen_text(app)
        app.screen.procedures.export_report()
        await wait_for(pilot, lambda: sum("read-only" in n.message for n in app._notifications) >= 2)
    assert fingerprint(path) == before
    assert not (tmp_path / "updates").exists()


async def test_a_writable_war_room_keeps_its_keys(tmp_path):
    path, _ = await small_database(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert not app.screen.query_one(EntryInput).disabled
        assert app.screen.check_action("procedure", ("compose_update",)) is True
