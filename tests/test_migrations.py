"""Opening database files: pragmas, permissions, schema upgrades, and files we must not touch."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat

import pytest

from warroom.domain.errors import DatabaseError
from warroom.store import open_database
from warroom.store.database import BUSY_TIMEOUT_MS
from warroom.store.identity import APPLICATION_ID
from warroom.store.schema import MIGRATIONS, SCHEMA_VERSION, V2, V3, V6, sql_of

# The version-1 schema as released, written out here on purpose: if schema.py's V1 is ever edited,
# files made by the old code must still open.
RELEASED_V1 = """
CREATE TABLE incidents (
    id TEXT PRIMARY KEY, day TEXT NOT NULL, day_seq INTEGER NOT NULL, title TEXT NOT NULL,
    policy TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '[]', impact TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, created_by TEXT NOT NULL, UNIQUE (day, day_seq)
);
CREATE TABLE milestones (
    incident_id TEXT NOT NULL REFERENCES incidents(id), name TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (incident_id, name)
);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id), number INTEGER NOT NULL,
    occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, author TEXT NOT NULL, kind TEXT NOT NULL,
    text TEXT NOT NULL, data TEXT, corrects INTEGER REFERENCES entries(id),
    pinned INTEGER NOT NULL DEFAULT 0, UNIQUE (incident_id, number)
);
CREATE INDEX entries_by_time ON entries (incident_id, occurred_at, number);
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
CREATE TRIGGER entries_no_rewrite BEFORE UPDATE ON entries
WHEN NEW.text IS NOT OLD.text OR NEW.kind IS NOT OLD.kind OR NEW.author IS NOT OLD.author
  OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.recorded_at IS NOT OLD.recorded_at
  OR NEW.data IS NOT OLD.data OR NEW.corrects IS NOT OLD.corrects
  OR NEW.incident_id IS NOT OLD.incident_id OR NEW.number IS NOT OLD.number
BEGIN SELECT RAISE(ABORT, 'timeline entries are append-only'); END;
CREATE TABLE role_assignments (
    id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id), role TEXT NOT NULL,
    person TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT
);
CREATE INDEX role_assignments_by_incident ON role_assignments (incident_id, role);
CREATE TABLE status_updates (
    id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id), audience TEXT NOT NULL,
    text TEXT NOT NULL, posted_at TEXT NOT NULL, author TEXT NOT NULL, next_update_at TEXT,
    entry_id INTEGER REFERENCES entries(id)
);
CREATE TABLE action_items (
    id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents(id), text TEXT NOT NULL,
    owner TEXT, due TEXT, done INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    entry_id INTEGER REFERENCES entries(id)
);
PRAGMA user_version = 1;
"""

T0 = "2026-11-20T09:00:00.000000Z"
T1 = "2026-11-20T09:05:00.000000Z"


def make_version_1_file(path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(RELEASED_V1)
    conn.executescript(f"""
        INSERT INTO incidents VALUES ('INC-20261120-001', '20261120', 1, 'Old outage', 'default', 'SEV-2',
            'identified', '["api"]', 'slow logins', '{T0}', 'alice');
        INSERT INTO milestones VALUES ('INC-20261120-001', 'detected', '{T0}');
        INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text, data)
            VALUES ('INC-20261120-001', 1, '{T0}', '{T0}', 'alice', 'system', 'Declared SEV-2 (High): Old outage',
                    '{{"severity": "SEV-2"}}');
        INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)
            VALUES ('INC-20261120-001', 2, '{T1}', '{T1}', 'bob', 'note', 'rolled back the deploy');
        INSERT INTO role_assignments (incident_id, role, person, started_at) VALUES ('INC-20261120-001', 'ic', 'alice', '{T0}');
        INSERT INTO status_updates (incident_id, audience, text, posted_at, author, next_update_at, entry_id)
            VALUES ('INC-20261120-001', 'internal', 'looking', '{T1}', 'alice', NULL, 2);
        INSERT INTO action_items (incident_id, text, owner, due, done, created_at, entry_id)
            VALUES ('INC-20261120-001', 'add alert', 'bob', NULL, 0, '{T1}', 2);
    """)
    conn.commit()
    conn.close()


def snapshot(path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


async def pragma(db, name: str):
    async with db.conn.execute(f"PRAGMA {name}") as cursor:
        return (await cursor.fetchone())[0]


async def test_new_file_is_private_and_has_the_durability_pragmas(tmp_path):
    path = tmp_path / "sub" / "dir" / "new.db"  # missing directories are created
    db = await open_database(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert await pragma(db, "journal_mode") == "wal"
        assert await pragma(db, "foreign_keys") == 1
        assert await pragma(db, "busy_timeout") == BUSY_TIMEOUT_MS
        assert await pragma(db, "synchronous") == 2  # FULL
        assert await pragma(db, "user_version") == SCHEMA_VERSION
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        await db.close()


async def test_foreign_keys_are_enforced(tmp_path):
    db = await open_database(tmp_path / "w.db")
    try:
        with pytest.raises(DatabaseError, match="FOREIGN KEY"):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO milestones (incident_id, name, at) VALUES ('INC-nope', 'detected', ?)", (T0,))
    finally:
        await db.close()


async def test_an_empty_file_becomes_a_database(tmp_path):
    path = tmp_path / "made-by-mktemp.db"
    path.touch()
    db = await open_database(path)
    try:
        assert await pragma(db, "user_version") == SCHEMA_VERSION
    finally:
        await db.close()


async def test_version_1_file_is_upgraded_and_keeps_its_data(tmp_path, policies, clock):
    from warroom.service import IncidentService

    path = tmp_path / "v1.db"
    make_version_1_file(path)
    service = await IncidentService.open(path, policies, clock)
    try:
        assert await pragma(service.db, "user_version") == SCHEMA_VERSION
        incident = await service.incident("INC-20261120-001")
        assert (incident.title, incident.status, incident.services) == ("Old outage", "identified", ("api",))
        assert [e.text for e in await service.entries(incident.id)] == [
            "Declared SEV-2 (High): Old outage", "rolled back the deploy"]
        assert [(r.role_id, r.person) for r in await service.role_history(incident.id)] == [("ic", "alice")]
        assert [u.text for u in await service.updates(incident.id)] == ["looking"]
        assert [a.text for a in await service.actions(incident.id)] == ["add alert"]
        # The upgraded file takes new writes, including version-2 tables, and keeps its triggers.
        [entry] = await service.execute(incident.id, "after the upgrade", "carol")
        assert entry.number == 3
        async with service.db.transaction() as conn:
            await conn.execute("INSERT INTO attached_playbooks VALUES (?, 'rollback')", (incident.id,))
        with pytest.raises(DatabaseError, match="append-only"):
            async with service.db.transaction() as conn:
                await conn.execute("DELETE FROM entries")
        again = await service.declare("New one", "SEV-3", author="a")
        assert again.id == "INC-20261123-001"
    finally:
        await service.close()


def make_version_2_file(path) -> None:
    """A version-1 file upgraded by the version-2 step, with probe data of its own."""
    make_version_1_file(path)
    conn = sqlite3.connect(path)
    conn.executescript(V2)
    conn.executescript(f"""
        INSERT INTO probes (incident_id, name, config, paused, created_at)
            VALUES ('INC-20261120-001', 'api', '{{"name": "api"}}', 1, '{T0}');
        INSERT INTO probe_results (probe, incident_id, checked_at, ok, latency_ms, status_code)
            VALUES ('api', 'INC-20261120-001', '{T0}', 0, 12.5, 503);
        INSERT INTO probe_results (probe, incident_id, checked_at, ok, latency_ms, status_code)
            VALUES ('api', 'INC-20261120-001', '{T1}', 1, 8.0, 200);
        PRAGMA user_version = 2;
    """)
    conn.commit()
    conn.close()


async def test_version_2_file_is_upgraded_keeps_its_probe_data_and_prunes_by_index(tmp_path, policies, clock):
    from datetime import datetime, timezone

    from warroom.service import IncidentService
    from warroom.store.leases import ProbeLease
    from warroom.store.probes import PRUNE_SQL, ProbeStore

    path = tmp_path / "v2.db"
    make_version_2_file(path)
    service = await IncidentService.open(path, policies, clock)
    try:
        assert await pragma(service.db, "user_version") == SCHEMA_VERSION
        incident = await service.incident("INC-20261120-001")
        assert len(await service.entries(incident.id)) == 2
        store = ProbeStore(service.db)
        recent = await store.recent("api", 10, incident.id)
        assert [(r.ok, r.status_code) for r in recent] == [(True, 200), (False, 503)]
        async with service.db.reader.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'probe_results'"
        ) as cursor:
            assert "probe_results_by_time" in {row[0] for row in await cursor.fetchall()}
        async with service.db.reader.execute(f"EXPLAIN QUERY PLAN {PRUNE_SQL}", (T0, 10)) as cursor:
            plan = [row[3] for row in await cursor.fetchall()]
        assert any("probe_results_by_time (checked_at<?)" in step for step in plan), plan
        assert not any(step.startswith("SCAN probe_results") for step in plan), plan  # no full scan
        assert await store.prune(datetime(2026, 11, 20, 9, 1, tzinfo=timezone.utc)) == 1
        assert [r.status_code for r in await store.recent("api", 10, incident.id)] == [200]
        assert await ProbeLease(service.db, incident.id).acquire()  # the lease table is there
    finally:
        await service.close()


def make_version_3_file(path) -> None:
    """A version-2 file upgraded by the version-3 step (probe leases), as released before version 5."""
    make_version_2_file(path)
    conn = sqlite3.connect(path)
    conn.executescript(V3)
    conn.executescript("PRAGMA user_version = 3;")
    conn.commit()
    conn.close()


async def test_version_3_file_gains_the_reach_tables_and_keeps_its_data(tmp_path, policies, clock):
    """Version 5: alerts, deliveries, status-page ids and pages; old data untouched, new rows work."""
    from warroom.domain.models import DeliveryState
    from warroom.service import IncidentService
    from warroom.store import reach

    path = tmp_path / "v3.db"
    make_version_3_file(path)
    service = await IncidentService.open(path, policies, clock)
    try:
        assert await pragma(service.db, "user_version") == SCHEMA_VERSION
        incident = await service.incident("INC-20261120-001")
        assert [e.text for e in await service.entries(incident.id)] == [
            "Declared SEV-2 (High): Old outage", "rolled back the deploy"]
        [update] = await service.updates(incident.id)
        now = clock()
        async with service.db.transaction() as conn:
            first = await reach.record_alert(conn, dedupe_key="k1", source="alertmanager", fingerprint="f1",
                                             status="firing", title="API down", received_at=now, outcome="new")
            again = await reach.record_alert(conn, dedupe_key="k1", source="alertmanager", fingerprint="f1",
                                             status="firing", title="API down", received_at=now, outcome="new")
            await reach.settle_alert(conn, first, outcome="appended", incident_id=incident.id, entry_id=None)
            delivery = await reach.add_delivery(conn, incident_id=incident.id, update_id=update.id, update_number=1,
                                                audience="internal", target="Slack", kind="slack", now=now)
            same = await reach.add_delivery(conn, incident_id=incident.id, update_id=update.id, update_number=1,
                                            audience="internal", target="Slack", kind="slack", now=now)
            await reach.finish_delivery(conn, delivery.id, ok=False, attempts=3, error="HTTP 503", detail="", now=now)
            await reach.remember_status_page_incident(conn, incident.id, "Status page", "sp-1")
            page = await reach.add_page(conn, incident_id=incident.id, pager="PagerDuty", action="trigger",
                                        dedup_key=incident.id, reason="SEV-1", now=now)
            await reach.finish_page(conn, page.id, ok=True, attempts=1, error="", now=now, entry_id=None)
        assert first is not None and again is None and same.id == delivery.id
        assert await reach.alert_incident(service.db.reader, "f1") == incident.id
        [stored] = await reach.list_deliveries(service.db.reader, incident.id)
        assert (stored.state, stored.attempts, stored.error) == (DeliveryState.FAILED, 3, "HTTP 503")
        assert await reach.status_page_incident(service.db.reader, incident.id, "Status page") == "sp-1"
        [paged] = await reach.list_pages(service.db.reader, incident.id)
        assert (paged.state, paged.attempts, paged.action) == (DeliveryState.DELIVERED, 1, "trigger")
        with pytest.raises(DatabaseError, match="FOREIGN KEY"):
            async with service.db.transaction() as conn:
                await reach.add_page(conn, incident_id="INC-nope", pager="p", action="trigger", dedup_key="k",
                                     reason="", now=now)
    finally:
        await service.close()


async def test_two_processes_opening_a_new_file_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "race.db"
    opened = await asyncio.gather(*(open_database(path) for _ in range(4)))
    try:
        assert {await pragma(db, "user_version") for db in opened} == {SCHEMA_VERSION}
    finally:
        for db in opened:
            await db.close()


@pytest.mark.parametrize("content", [
    b"incident notes, not a database\n",
    b"SQLite format 3\x00" + b"\xff" * 200,  # the right magic, then garbage
    bytes(range(256)) * 8,
])
async def test_a_file_that_is_not_a_database_is_refused_and_untouched(tmp_path, content):
    path = tmp_path / "precious.txt"
    path.write_bytes(content)
    before = snapshot(path)
    with pytest.raises(DatabaseError, match=r"(not a SQLite database|cannot be read as a database)"):
        await open_database(path)
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]


async def test_another_programs_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.execute("INSERT INTO songs VALUES ('la')")
    conn.commit()
    conn.close()
    before = snapshot(path)
    with pytest.raises(DatabaseError, match="another program"):
        await open_database(path)
    assert snapshot(path) == before


async def test_a_file_from_a_newer_warroom_is_refused_and_untouched(tmp_path):
    from warroom.store.identity import APPLICATION_ID

    path = tmp_path / "future.db"
    make_version_1_file(path)
    conn = sqlite3.connect(path)  # a newer warroom's file carries the application id
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = snapshot(path)
    with pytest.raises(DatabaseError, match=rf"newer warroom \(schema {SCHEMA_VERSION + 1}"):
        await open_database(path)
    assert snapshot(path) == before


async def test_a_directory_is_refused(tmp_path):
    with pytest.raises(DatabaseError, match="is a directory"):
        await open_database(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
async def test_an_unreadable_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "locked.db"
    make_version_1_file(path)
    path.chmod(0)
    try:
        with pytest.raises(DatabaseError, match="cannot read database"):
            await open_database(path)
    finally:
        path.chmod(0o600)


def make_file_before_the_chain(path) -> None:
    """A file made by every migration before V6 (the hash chain), with two incidents' timelines
    written without hashes (an incident's entries interleaved with the other's)."""
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[: MIGRATIONS.index(V6)]:
        conn.executescript(sql_of(migration))
    conn.executescript(f"""
        INSERT INTO incidents (id, day, day_seq, title, policy, severity, status, created_at, created_by)
            VALUES ('INC-20261120-001', '20261120', 1, 'One', 'default', 'SEV-2', 'investigating', '{T0}', 'a'),
                   ('INC-20261120-002', '20261120', 2, 'Two', 'default', 'SEV-3', 'investigating', '{T0}', 'b');
        INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text, data, pinned) VALUES
            ('INC-20261120-001', 1, '{T0}', '{T0}', 'a', 'system', 'Declared', '{{"severity": "SEV-2"}}', 0),
            ('INC-20261120-002', 1, '{T0}', '{T0}', 'b', 'system', 'Declared two', NULL, 0),
            ('INC-20261120-001', 2, '{T1}', '{T0}', 'a', 'note', 'back-dated, pinned', NULL, 1),
            ('INC-20261120-001', 3, '{T0}', '{T1}', 'c', 'note', 'caf\u00e9 \u202e', '{{"x": [1, 2.5]}}', 0);
        PRAGMA user_version = {MIGRATIONS.index(V6)};
    """)
    conn.commit()
    conn.close()


async def test_the_chain_migration_hashes_existing_timelines_and_protects_the_hashes(tmp_path, policies, clock):
    from warroom.domain.chain import ChainFields, chain
    from warroom.service import IncidentService

    path = tmp_path / "before-chain.db"
    make_file_before_the_chain(path)
    service = await IncidentService.open(path, policies, clock)
    try:
        assert await pragma(service.db, "user_version") == SCHEMA_VERSION
        one = await service.entries("INC-20261120-001")
        by_number = sorted(one, key=lambda e: e.number)
        # The stored hashes are the chain of the entries in number order (not time order), per incident.
        assert [e.hash for e in by_number] == chain(ChainFields.of(e) for e in by_number)
        assert len({e.hash for e in by_number}) == 3 and by_number[1].pinned
        for incident_id, count in (("INC-20261120-001", 3), ("INC-20261120-002", 1)):
            report = await service.verify(incident_id)
            assert report.intact and report.entries == count, report
        [added] = await service.execute("INC-20261120-001", "after the migration", "d")
        assert added.number == 4
        report = await service.verify("INC-20261120-001")
        assert report.intact and report.head == added.hash
        with pytest.raises(DatabaseError, match="append-only"):
            async with service.db.transaction() as conn:
                await conn.execute("UPDATE entries SET hash = 'forged' WHERE number = 2")
        async with service.db.transaction() as conn:  # pinning still works
            await conn.execute("UPDATE entries SET pinned = 0 WHERE number = 2")
        assert (await service.verify("INC-20261120-001")).intact
    finally:
        await service.close()


async def test_an_upgraded_version_1_file_verifies(tmp_path, policies, clock):
    from warroom.service import IncidentService

    path = tmp_path / "v1.db"
    make_version_1_file(path)
    service = await IncidentService.open(path, policies, clock)
    try:
        report = await service.verify("INC-20261120-001")
        assert report.intact and report.entries == 2
    finally:
        await service.close()

async def test_version_3_file_gets_the_change_log_and_keeps_its_pauses(tmp_path, policies, clock):
    from warroom.service import IncidentService

    path = tmp_path / "v3.db"
    make_version_3_file(path)
    service = await IncidentService.open(path, policies, clock)
    try:
        assert await pragma(service.db, "user_version") == SCHEMA_VERSION
        [probe] = await service.attached_probes("INC-20261120-001")
        assert probe.paused  # the pause moved into the incident's probe states
        live = service.live("INC-20261120-001")
        first = await live.load()
        assert first.everything and first.total == 2
        await service.execute("INC-20261120-001", "/pin 1", "alice")
        await service.execute("INC-20261120-001", "after the upgrade", "alice")
        delta = await live.poll()
        assert [(e.number, e.pinned) for e in delta.restated] == [(1, True)]
        assert [e.text for e in delta.appended] == ["after the upgrade"] and delta.total == 3
        assert await live.poll() is None  # nothing new: one PRAGMA, no reload
    finally:
        await service.close()


def make_version_7_file(path, entries: int, version: int = 7) -> None:
    """A file as warroom made it before the kind index (schema 7; or `version`), with a timeline."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        conn.executescript(sql_of(script))
    conn.execute("INSERT INTO incidents (id, day, day_seq, title, policy, severity, status, created_at, created_by)"
                 f" VALUES ('INC-20261120-001', '20261120', 1, 'Old', 'default', 'SEV-2', 'investigating', '{T0}', 'al')")
    kinds = ("note", "status", "decision", "action")
    conn.executemany(
        "INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
        " VALUES ('INC-20261120-001', ?, ?, ?, 'al', ?, 'x')",
        [(n, T0, T0 if n % 2 else T1, kinds[n % 4]) for n in range(1, entries + 1)])
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.commit()
    conn.close()


async def test_a_version_7_file_gains_the_kind_index_that_the_draft_reads_use(tmp_path):
    """An update draft counts the changes it repeats and reads the last few: by the kind index,
    not by walking the incident's whole timeline."""
    from warroom.domain.models import EntryKind
    from warroom.store.record_reads import last_entries_of

    path = tmp_path / "v7.db"
    make_version_7_file(path, 40)
    db = await open_database(path)
    try:
        assert await pragma(db, "user_version") == SCHEMA_VERSION
        statements: list[str] = []
        await db.reader.set_trace_callback(statements.append)
        shown, total = await last_entries_of(db.reader, "INC-20261120-001", [EntryKind.STATUS, EntryKind.DECISION],
                                             T0, 3)
        await db.reader.set_trace_callback(None)
        assert total == 10 and [e.number for e in shown] == [30, 34, 38]  # decisions: recorded after T0
        [count] = [sql for sql in statements if sql.startswith("SELECT COUNT(*)")]
        async with db.reader.execute(f"EXPLAIN QUERY PLAN {count}") as cursor:
            plan = " ".join(row[3] for row in await cursor.fetchall())
        assert "COVERING INDEX entries_by_kind" in plan, plan
    finally:
        await db.close()


async def test_a_version_8_file_gains_the_index_of_corrections_that_a_report_reads_by(tmp_path):
    """A report's notable entries (its kinds, the first entry, the corrections and what they
    correct) are sought by the kind index, the number and the index of corrections, not by walking
    the incident's whole timeline; the same entries as the one-statement filter gave."""
    from warroom.domain.models import EntryKind
    from warroom.store.queries import ENTRY_COLUMNS, entry_from_row
    from warroom.store.record_reads import notable_entries

    path = tmp_path / "v8.db"
    make_version_7_file(path, 60, version=8)
    conn = sqlite3.connect(path)  # two corrections (as an older warroom wrote them), one of another incident
    conn.execute("INSERT INTO incidents (id, day, day_seq, title, policy, severity, status, created_at, created_by)"
                 f" VALUES ('INC-20261120-002', '20261120', 2, 'Other', 'default', 'SEV-3', 'investigating', '{T0}', 'al')")
    for incident, number, corrects, moment in (("INC-20261120-001", 61, 7, T1), ("INC-20261120-001", 62, 50, T0),
                                                ("INC-20261120-002", 1, 9, T0)):
        conn.execute("INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text, corrects)"
                     " VALUES (?, ?, ?, ?, 'al', 'correction', 'fixed', ?)", (incident, number, moment, moment, corrects))
    conn.commit()
    conn.close()
    db = await open_database(path)
    try:
        assert await pragma(db, "user_version") == SCHEMA_VERSION
        kinds = [EntryKind.STATUS]
        statements: list[str] = []
        await db.reader.set_trace_callback(statements.append)
        found = await notable_entries(db.reader, "INC-20261120-001", 61, kinds)
        await db.reader.set_trace_callback(None)
        [read] = [sql for sql in statements if sql.startswith("SELECT")]
        async with db.reader.execute(f"EXPLAIN QUERY PLAN {read}") as cursor:
            plan = " ".join(row[3] for row in await cursor.fetchall())
        assert "entries_corrections" in plan and "entries_by_kind" in plan, plan
        assert "SCAN" not in plan and "entries_by_time" not in plan and "(incident_id=?)" not in plan, plan
        async with db.reader.execute(  # the filter it replaced, as it was
                f"SELECT {ENTRY_COLUMNS} FROM entries WHERE incident_id = ? AND number <= ? AND (kind IN (?)"
                " OR number = 1 OR corrects IS NOT NULL OR id IN (SELECT corrects FROM entries WHERE incident_id = ?"
                " AND corrects IS NOT NULL)) ORDER BY occurred_at, number",
                ("INC-20261120-001", 61, "status", "INC-20261120-001")) as cursor:
            expected = [entry_from_row(row) for row in await cursor.fetchall()]
        assert found == expected
        assert {e.number for e in found} >= {1, 7, 61} and 62 not in {e.number for e in found}  # 62: after the snapshot
    finally:
        await db.close()


def test_both_backends_have_one_version_number_per_schema():
    from warroom.store.pg_schema import PG_MIGRATIONS

    assert len(PG_MIGRATIONS) == len(MIGRATIONS) == SCHEMA_VERSION


async def test_postgresql_gets_the_same_tables_and_columns_as_sqlite(pg_url):
    """PostgreSQL's tables are derived from SQLite's text: the same tables, the same columns (its
    own bookkeeping and the stand-in for SQLite's implicit rowid aside), and the same indexes."""
    import asyncpg

    from warroom.store.identity import known_fingerprints

    conn = await asyncpg.connect(pg_url)
    try:
        columns = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns"
                                   " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")
        indexes = {row[0] for row in await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    finally:
        await conn.close()
    on_postgresql: dict[str, set[str]] = {}
    for table, column in columns:
        on_postgresql.setdefault(table, set()).add(column)
    on_postgresql.pop("warroom_schema")
    on_postgresql.pop("change_counter")
    on_postgresql["attached_playbooks"].discard("rowid")
    on_sqlite = {table: set(names) for table, names in known_fingerprints()[SCHEMA_VERSION]}
    assert on_postgresql == on_sqlite
    conn = sqlite3.connect(":memory:")
    for script in MIGRATIONS:
        conn.executescript(sql_of(script))
    sqlite_indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"
                                                     " AND name NOT LIKE 'sqlite_autoindex%'")}
    conn.close()
    assert sqlite_indexes <= indexes and {"entries_by_kind", "entries_corrections"} <= indexes
