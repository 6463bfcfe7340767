"""Moving between backends (issue 11): `warroom copy SRC DST` from a SQLite file to PostgreSQL and
back gives an export identical to the original, copying again duplicates nothing and brings the
copy up to date, ids taken in the destination are replaced (references and the hash chain
follow), an incident written on both sides is refused; `warroom backup FILE` writes a consistent
SQLite snapshot of either backend and never touches an existing file."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from conftest import NOW, FrozenClock
from db_access import rows

from warroom.domain import report
from warroom.service import IncidentService
from warroom.service.demo import seed_demo_database
from warroom.service.moving import copy_incidents
from warroom.store.copying import NOT_COPIED, STATE_TABLES, CopyConflict
from warroom.store.schema import MIGRATIONS, sql_of


async def export(location, policies, incident_id: str) -> dict:
    service = await IncidentService.open(location, policies, FrozenClock())
    try:
        record = await service.record(incident_id)
        assert (await service.verify(incident_id)).problem is None
        return report.to_json_dict(record)
    finally:
        await service.close()


@pytest.fixture
async def demo(tmp_path):
    """The demo incident (every kind of row: entries, pins, roles, updates, actions, ticks, probes)."""
    path, incident_id = await seed_demo_database(str(tmp_path / "laptop.db"), NOW)
    return path, incident_id


async def test_sqlite_to_postgresql_to_sqlite_gives_an_identical_export(demo, pg_url, tmp_path, policies):
    laptop, incident_id = demo
    original = await export(laptop, policies, incident_id)
    assert len(original["entries"]) > 40 and original["actions"] and original["updates"] and original["checklists"]
    there = await copy_incidents(laptop, pg_url)
    assert there.outcomes == {incident_id: "copied"}
    assert await export(pg_url, policies, incident_id) == original
    back = tmp_path / "offline.db"
    assert (await copy_incidents(pg_url, back)).outcomes == {incident_id: "copied"}
    assert await export(back, policies, incident_id) == original
    # copying again duplicates nothing
    again = await copy_incidents(laptop, pg_url, [incident_id])
    assert again.outcomes == {incident_id: "unchanged"} and again.entries_added == 0
    assert await export(pg_url, policies, incident_id) == original


async def test_a_second_copy_brings_the_destination_up_to_date(service, clock, tmp_path, policies):
    """Work goes on at the source (either backend): the next copy appends the new entries and
    takes the pins, roles and actions as they are now; nothing twice."""
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    await service.execute(incident.id, "/action roll back @bob", "alice")
    source = service.db.url if service.db.kind == "postgresql" else service.db.path
    offline = tmp_path / "offline.db"
    await copy_incidents(source, offline)
    copied_first = len(await service.entries(incident.id))
    clock.advance(minutes=2)
    await service.execute(incident.id, "/pin 1", "alice")
    await service.execute(incident.id, "/assign ic carol", "alice")
    [note] = await service.execute(incident.id, "rolled back 4412", "bob")
    await service.execute(incident.id, f"/correct {note.number} rolled back 4411", "bob")
    total = len(await service.entries(incident.id))
    report_ = await copy_incidents(source, offline)
    assert report_.outcomes == {incident.id: "updated"} and report_.entries_added == total - copied_first > 0
    assert await export(offline, policies, incident.id) == await export(source, policies, incident.id)
    assert (await copy_incidents(source, offline)).outcomes == {incident.id: "unchanged"}
    assert await rows(offline, "SELECT COUNT(*), COUNT(DISTINCT number) FROM entries") == [(total, total)]


async def test_ids_taken_in_the_destination_are_replaced_and_the_chain_still_verifies(pg_url, tmp_path, policies):
    """The team's server has incidents of its own: the laptop's entry and action ids are taken
    there, so the copy gets new ones; a correction still points at the entry it corrects."""
    server = await IncidentService.open(pg_url, policies, FrozenClock())
    try:
        busy = await server.declare("Earlier outage", "SEV-3", author="dana")
        for number in range(5):
            await server.execute(busy.id, f"earlier note {number}", "dana")
        await server.execute(busy.id, "/action write the review @dana", "dana")
    finally:
        await server.close()
    laptop = tmp_path / "laptop.db"
    local = await IncidentService.open(laptop, policies, FrozenClock(NOW + timedelta(days=1)))  # another id
    try:
        incident = await local.declare("Payments failing", "SEV-1", author="alice", commander="alice")
        await local.execute(incident.id, "error rate 31%", "alice")
        await local.execute(incident.id, "/correct 3 error rate 13%", "alice")
        await local.execute(incident.id, "/action canary @bob", "alice")
    finally:
        await local.close()
    original = await export(laptop, policies, incident.id)
    await copy_incidents(laptop, pg_url)
    copied = await export(pg_url, policies, incident.id)  # verifies the chain
    assert [e["id"] for e in copied["entries"]] != [e["id"] for e in original["entries"]]
    numbers = {e["id"]: e["number"] for e in copied["entries"]}
    correction = next(e for e in copied["entries"] if e["kind"] == "correction")
    assert numbers[correction["corrects"]] == 3
    strip = lambda entries: [{k: v for k, v in e.items() if k not in ("id", "corrects", "hash")} for e in entries]  # noqa: E731
    assert strip(copied["entries"]) == strip(original["entries"])
    assert [a["text"] for a in copied["actions"]] == [a["text"] for a in original["actions"]]
    assert copied["actions"][0]["id"] != original["actions"][0]["id"]  # id 1 is the server's own action
    assert (await export(pg_url, policies, busy.id))["actions"][0]["text"].endswith("write the review")
    assert (await copy_incidents(laptop, pg_url)).outcomes == {incident.id: "unchanged"}


async def test_another_incident_of_the_same_id_is_never_overwritten(pg_url, tmp_path, policies):
    """Incident ids are numbered per database and day: the laptop's first incident of the day and
    the server's may share one. The copy refuses it rather than mixing two incidents."""
    server = await IncidentService.open(pg_url, policies, FrozenClock())
    try:
        theirs = await server.declare("Earlier outage", "SEV-3", author="dana")
    finally:
        await server.close()
    laptop = tmp_path / "laptop.db"
    local = await IncidentService.open(laptop, policies, FrozenClock())
    try:
        mine = await local.declare("Payments failing", "SEV-1", author="alice")
    finally:
        await local.close()
    assert mine.id == theirs.id
    with pytest.raises(CopyConflict, match=rf"{mine.id}: the destination holds another incident of that id .* dana"):
        await copy_incidents(laptop, pg_url)
    assert (await export(pg_url, policies, theirs.id))["incident"]["title"] == "Earlier outage"


@pytest.mark.sqlite_only  # run_cli's own database is not used: once is enough
async def test_an_incident_written_on_both_sides_is_refused_and_the_others_copied(pg_url, tmp_path, policies,
                                                                                  run_cli):
    laptop = tmp_path / "laptop.db"
    local = await IncidentService.open(laptop, policies, FrozenClock())
    try:
        split = await local.declare("Split brain", "SEV-2", author="alice")
        await copy_incidents(laptop, pg_url)
        await local.execute(split.id, "written on the laptop", "alice")
        other = await local.declare("Second one", "SEV-3", author="alice")
    finally:
        await local.close()
    server = await IncidentService.open(pg_url, policies, FrozenClock())
    try:
        await server.execute(split.id, "written on the server", "bob")
    finally:
        await server.close()
    with pytest.raises(CopyConflict, match=rf"{split.id}: both copies were written .* entry #2"):
        await copy_incidents(laptop, pg_url)
    before = await export(pg_url, policies, split.id)
    assert before["entries"][-1]["text"] == "written on the server"
    assert (await export(pg_url, policies, other.id))["incident"]["title"] == "Second one"
    done = run_cli("copy", str(laptop), pg_url)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"warroom: error: {split.id}: both copies were written")
    assert await export(pg_url, policies, split.id) == before


def test_copy_and_backup_from_the_command_line(run_cli, database, tmp_path):
    """On either backend: copy one incident out, back up everything; an existing FILE is refused."""
    first = run_cli("declare", "Checkout errors", "--severity", "SEV-2").stdout.strip()
    second = run_cli("declare", "Search slow", "--severity", "SEV-3").stdout.strip()
    assert run_cli("log", first, "rolled back 4412").returncode == 0
    copied = run_cli("copy", str(database), str(tmp_path / "one.db"), "--incident", first)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout == f"{first}: copied\n" and "1 incidents to" in copied.stderr
    assert [r[0] for r in sqlite3.connect(tmp_path / "one.db").execute("SELECT id FROM incidents")] == [first]
    again = run_cli("copy", str(database), str(tmp_path / "one.db"), "--incident", first)
    assert again.stdout == f"{first}: unchanged\n"

    made = run_cli("backup", str(tmp_path / "backup.db"))
    assert made.returncode == 0, made.stderr
    assert made.stdout.endswith(": 2 incidents\n")
    assert (tmp_path / "backup.db").stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".backup.db.partial*")) and not list(tmp_path.glob("backup.db-*"))
    exported = [json.loads(run_cli(*where, "export", first).stdout)
                for where in ((), ("--db", str(tmp_path / "backup.db")))]
    recorded = ("incident", "entries", "chain", "roles", "updates", "actions", "checklists", "playbooks")
    assert [{k: e[k] for k in recorded} for e in exported[:1]] == [{k: exported[1][k] for k in recorded}]
    assert exported[0]["entries"][-1]["text"] == "rolled back 4412"
    listed = run_cli("--db", str(tmp_path / "backup.db"), "list").stdout
    assert first in listed and second in listed

    (tmp_path / "notes.txt").write_text("mine")
    refused = run_cli("backup", str(tmp_path / "notes.txt"))
    assert refused.returncode == 2 and "exists: a backup is written to a new file" in refused.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"
    same = run_cli("copy", str(database), str(database))
    assert same.returncode == 2 and "both the source and the destination" in same.stderr


def test_every_table_of_an_incident_is_copied_or_left_out_on_purpose():
    """A new table that holds incident rows must be added to the copy (or to NOT_COPIED)."""
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        try:
            conn.executescript(sql_of(migration))
        except sqlite3.OperationalError:  # a Python step's table state: the SQL alone is enough here
            pass
    tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    with_incident = {name for name in tables
                     if "incident_id" in [col[1] for col in conn.execute(f"PRAGMA table_info({name})")]}
    assert with_incident == {table.name for table in STATE_TABLES} | {"entries"} | NOT_COPIED
