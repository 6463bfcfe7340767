"""The incident record, through the service layer, on each backend (SQLite and PostgreSQL): ids,
append-only timeline, milestones, roles, updates, action items, and one transaction per write."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest

from warroom.domain.errors import DatabaseError, NotFoundError, RuleError, WarroomError
from warroom.domain.models import EntryKind, Milestone
from warroom.service import IncidentService
from warroom.store import queries as q
from warroom.store import team_queries as team

UTC = timezone.utc
ID_PATTERN = re.compile(r"^INC-\d{8}-\d{3}$")


from db_access import driver_error, in_transaction, refused, rows, table_counts


# ---- incident ids --------------------------------------------------------------------------------


async def test_incident_ids_are_utc_day_and_per_day_sequence(service, clock):
    clock.now = datetime(2026, 11, 23, 23, 59, 58, tzinfo=UTC)
    first = await service.declare("one", "SEV-2", author="a")
    second = await service.declare("two", "sev1", author="a")
    clock.advance(seconds=3)  # past midnight UTC: the sequence starts again
    third = await service.declare("three", "SEV-3", author="a")
    assert [first.id, second.id, third.id] == ["INC-20261123-001", "INC-20261123-002", "INC-20261124-001"]
    assert second.severity == "SEV-1"  # aliases resolve to the policy's id


async def test_incident_day_is_the_utc_date_not_the_local_one(service, clock):
    clock.now = datetime(2026, 11, 23, 1, 30, tzinfo=timezone(timedelta(hours=5)))  # 20:30 UTC the day before
    incident = await service.declare("late", "SEV-2", author="a")
    assert incident.id == "INC-20261122-001"
    assert incident.created_at == datetime(2026, 11, 22, 20, 30, tzinfo=UTC)


async def test_two_connections_declaring_at_once_get_distinct_ids(database, policies, clock):
    services = [await IncidentService.open(database, policies, clock) for _ in range(2)]
    try:
        declared = await asyncio.gather(*(
            s.declare(f"race {n}-{k}", "SEV-2", author="a") for n in range(5) for k, s in enumerate(services)
        ))
    finally:
        for s in services:
            await s.close()
    ids = [incident.id for incident in declared]
    assert all(ID_PATTERN.match(i) for i in ids)
    assert sorted(ids) == [f"INC-20261123-{n:03d}" for n in range(1, 11)]


async def test_declare_validates_title_severity_and_policy(service):
    with pytest.raises(WarroomError, match="needs a title"):
        await service.declare("   ", "SEV-1", author="a")
    with pytest.raises(WarroomError, match=r"unknown severity 'SEV-9'; valid: SEV-1, SEV-2, SEV-3, SEV-4"):
        await service.declare("x", "SEV-9", author="a")
    with pytest.raises(WarroomError, match="unknown policy"):
        await service.declare("x", "SEV-1", author="a", policy_id="nope")
    assert await service.incidents(include_closed=True) == []


async def test_declare_records_services_impact_commander_and_first_entry(service, clock):
    incident = await service.declare("Checkout 502s", "SEV-2", author="bob", commander="alice",
                                     services=("checkout", "payments"), impact="EU customers")
    assert incident.services == ("checkout", "payments") and incident.impact == "EU customers"
    assert incident.status == "investigating" and incident.created_by == "bob"
    entries = await service.entries(incident.id)
    assert [(e.number, e.kind) for e in entries] == [(1, EntryKind.SYSTEM), (2, EntryKind.ROLE)]
    assert entries[1].text == "Incident Commander: (unfilled) -> alice"
    seats = {seat.role_id: seat.person for seat in await service.roster(incident)}
    assert seats["ic"] == "alice" and seats["tl"] is None


async def test_commander_goes_to_the_policys_commander_role(service):
    incident = await service.declare("x", "P1", author="a", policy_id="p-levels-001", commander="carol")
    seats = {seat.role_id: seat.person for seat in await service.roster(incident)}
    assert seats == {"oncall": "carol", "tl": None, "em": None, "cto": None}


# ---- the append-only timeline -----------------------------------------------------------------


async def test_sql_update_or_delete_of_entry_text_is_refused(service, database):
    incident = await service.declare("x", "SEV-2", author="a")
    await service.execute(incident.id, "the original words", "bob")
    for statement in (
        "UPDATE entries SET text = 'rewritten' WHERE number = 2",
        "UPDATE entries SET author = 'mallory' WHERE number = 2",
        "UPDATE entries SET occurred_at = '2000-01-01T00:00:00.000000Z' WHERE number = 2",
        "UPDATE entries SET hash = 'forged' WHERE number = 2",
        "DELETE FROM entries WHERE number = 2",
        "DELETE FROM entries",
    ):
        with pytest.raises(refused(), match="append-only"):
            await rows(database, statement)
    await rows(database, "UPDATE entries SET pinned = 1 WHERE number = 2")  # pinning is allowed
    [declared, typed] = await rows(database, "SELECT number, text, author, pinned FROM entries ORDER BY number")
    assert declared[0] == 1 and declared[1].startswith("Declared SEV-2 (High): x | Owed: ")
    assert typed == (2, "the original words", "bob", 1)


async def test_a_correction_is_a_new_entry_pointing_at_the_old_one(service):
    incident = await service.declare("x", "SEV-2", author="a")
    await service.execute(incident.id, "error rate 13%", "bob")
    [correction] = await service.execute(incident.id, "/correct 2 error rate 31%, not 13%", "bob")
    entries = await service.entries(incident.id)
    assert entries[1].text == "error rate 13%"
    assert correction.number == 3 and correction.kind is EntryKind.CORRECTION
    assert correction.corrects == entries[1].id and correction.data == {"corrects_number": 2}
    with pytest.raises(NotFoundError, match="no entry #9"):
        await service.execute(incident.id, "/correct 9 nothing there", "bob")


async def test_pin_and_unpin_change_only_the_flag(service):
    incident = await service.declare("x", "SEV-2", author="a")
    await service.execute(incident.id, "/pin 1", "a")
    assert (await service.entries(incident.id))[0].pinned
    await service.execute(incident.id, "/unpin 1", "a")
    assert not (await service.entries(incident.id))[0].pinned


# ---- milestones ------------------------------------------------------------------------------


async def test_milestones_can_be_back_dated_and_are_listed_in_time_order(service, clock):
    incident = await service.declare("x", "SEV-1", author="a")
    now = clock.now
    await service.execute(incident.id, "-20m /detected pager fired", "a")
    await service.execute(incident.id, "-30m /impact", "a")
    await service.execute(incident.id, "@14:50 /ack", "a")
    stones = (await service.incident(incident.id)).milestones
    assert stones == {
        Milestone.IMPACT_STARTED: now - timedelta(minutes=30),
        Milestone.DETECTED: now - timedelta(minutes=20),
        Milestone.ACKNOWLEDGED: now - timedelta(minutes=10),
    }
    timeline = [(e.text, e.occurred_at, e.recorded_at) for e in await service.entries(incident.id)]
    assert [text.split(" | Owed: ")[0] for text, _, _ in timeline] == [
        "Impact started", "Detected: pager fired", "Acknowledged", "Declared SEV-1 (Critical): x",
    ]
    assert all(recorded == now for _, _, recorded in timeline)  # recorded when typed


async def test_out_of_order_milestone_is_refused_with_a_clear_error(service):
    incident = await service.declare("x", "SEV-1", author="a")
    await service.execute(incident.id, "-10m /detected", "a")
    with pytest.raises(RuleError, match=r"refused: acknowledged at .* would come before detected"):
        await service.execute(incident.id, "-15m /ack", "a")
    await service.execute(incident.id, "-5m /mitigated", "a")
    with pytest.raises(RuleError, match=r"refused: impact started at .* would come after detected"):
        await service.execute(incident.id, "/impact", "a")
    assert set((await service.incident(incident.id)).milestones) == {Milestone.DETECTED, Milestone.MITIGATED}
    assert len(await service.entries(incident.id)) == 3


async def test_resolve_sets_the_milestone_and_the_resolved_status(service):
    incident = await service.declare("x", "SEV-2", author="a")
    written = await service.execute(incident.id, "/resolve fixed", "a")
    assert [e.kind for e in written] == [EntryKind.MILESTONE, EntryKind.STATUS]
    resolved = await service.incident(incident.id)
    assert resolved.status == "resolved" and not resolved.is_open
    assert await service.incidents() == [] and len(await service.incidents(include_closed=True)) == 1


async def test_milestone_order_is_checked_against_what_another_process_just_committed(database, policies, clock):
    """The incident is re-read inside the write lock, so a concurrent writer's milestone counts."""
    first = await IncidentService.open(database, policies, clock)
    second = await IncidentService.open(database, policies, clock)
    try:
        incident = await first.declare("x", "SEV-2", author="a")
        real_transaction = first.db.transaction

        def transaction_after_a_rival_write():
            async def rival_then_lock():
                await second.execute(incident.id, "-10m /mitigated", "b")
                return real_transaction()
            return _AwaitedContext(rival_then_lock())

        first.db.transaction = transaction_after_a_rival_write
        with pytest.raises(RuleError, match="would come after mitigated"):
            await first.execute(incident.id, "-5m /detected", "a")
    finally:
        await first.close()
        await second.close()


class _AwaitedContext:
    """An async context manager obtained by awaiting a coroutine first."""

    def __init__(self, coroutine):
        self._coroutine, self._inner = coroutine, None

    async def __aenter__(self):
        self._inner = await self._coroutine
        return await self._inner.__aenter__()

    async def __aexit__(self, *exc):
        return await self._inner.__aexit__(*exc)


# ---- roles ------------------------------------------------------------------------------------


async def test_role_handoff_closes_the_previous_holders_interval(service, clock):
    incident = await service.declare("x", "SEV-1", author="a", commander="alice")
    start = clock.now
    clock.advance(minutes=40)
    written = await service.execute(incident.id, "/handoff ic bob", "alice")
    clock.advance(minutes=5)
    await service.execute(incident.id, '/assign "tech lead" carol', "bob")
    history = [(r.role_id, r.person, r.started_at, r.ended_at) for r in await service.role_history(incident.id)]
    assert history == [
        ("ic", "alice", start, start + timedelta(minutes=40)),
        ("ic", "bob", start + timedelta(minutes=40), None),
        ("tl", "carol", start + timedelta(minutes=45), None),
    ]
    assert written[0].text == "Incident Commander: alice -> bob"
    assert written[1].text.startswith("Handoff of Incident Commander to bob.")
    assert "Roster: Incident Commander: bob; Tech Lead: (unfilled)" in written[1].text
    with pytest.raises(RuleError, match="bob already holds Incident Commander"):
        await service.execute(incident.id, "/assign ic bob", "bob")
    assert len([r for r in await service.role_history(incident.id) if r.role_id == "ic"]) == 2


async def test_unknown_role_lists_the_valid_ones(service):
    incident = await service.declare("x", "SEV-1", author="a")
    with pytest.raises(WarroomError, match="unknown role"):
        await service.execute(incident.id, "/assign janitor bob", "a")


# ---- status updates and action items ---------------------------------------------------------


async def test_status_update_records_audience_text_time_and_next_promise(service, clock):
    incident = await service.declare("x", "SEV-1", author="a")
    clock.advance(minutes=3)
    [entry] = await service.execute(incident.id, "/update internal Checkout is down; fix in progress", "cl")
    [update] = await service.updates(incident.id)
    assert (update.audience, update.text, update.author) == ("internal", "Checkout is down; fix in progress", "cl")
    assert update.posted_at == clock.now
    assert update.next_update_at == clock.now + timedelta(minutes=15)  # the internal SEV-1 cadence
    assert entry.kind is EntryKind.UPDATE and entry.data["audience"] == "internal"
    [executive] = await service.execute(incident.id, "/update executive Checkout is down", "cl")
    assert (await service.updates(incident.id))[1].next_update_at is None  # no executive cadence of its own


async def test_update_after_resolution_promises_nothing(service):
    incident = await service.declare("x", "SEV-1", author="a")
    await service.execute(incident.id, "/resolve fixed", "a")
    await service.execute(incident.id, "/update public All clear", "a")
    [update] = await service.updates(incident.id)
    assert update.next_update_at is None


async def test_action_items_record_owner_due_and_done_toggling(service, clock):
    incident = await service.declare("x", "SEV-2", author="a")
    [entry] = await service.execute(incident.id, "/action add a canary for EU @bob due:2h", "a")
    [item] = await service.actions(incident.id)
    assert (item.text, item.owner, item.due, item.done) == (
        "add a canary for EU", "bob", clock.now + timedelta(hours=2), False)
    assert entry.text == "add a canary for EU | owner @bob | due 2026-11-23 17:00 UTC"
    done = await service.set_action_done(incident.id, item.id, True, "bob")
    assert (await service.actions(incident.id))[0].done
    reopened = await service.set_action_done(incident.id, item.id, False, "a")
    assert not (await service.actions(incident.id))[0].done
    assert (done.text, done.data) == ("Action done: add a canary for EU", {"action_id": item.id, "done": True,
                                                                           "action_number": 1})
    assert (reopened.text, reopened.author) == ("Action reopened: add a canary for EU", "a")
    count = await service.entry_count(incident.id)
    with pytest.raises(NotFoundError):
        await service.set_action_done(incident.id, 999, True, "a")
    assert await service.entry_count(incident.id) == count


# ---- one transaction per write ---------------------------------------------------------------


async def test_failure_in_the_middle_of_an_action_leaves_nothing_behind(service, database, monkeypatch):
    incident = await service.declare("x", "SEV-2", author="a")
    before = await table_counts(database)

    async def disk_full(*args, **kwargs):
        raise driver_error(database, "database or disk is full")

    monkeypatch.setattr(team, "insert_action", disk_full)  # the entry is written first, then this fails
    with pytest.raises(DatabaseError, match="nothing was saved .*disk is full"):
        await service.execute(incident.id, "/action roll back @bob", "a")
    assert await table_counts(database) == before
    monkeypatch.undo()
    await service.execute(incident.id, "the connection still works", "a")  # no transaction left open
    assert (await table_counts(database))["entries"] == before["entries"] + 1


async def test_failure_while_seating_the_commander_undoes_the_declaration(service, database, monkeypatch):
    async def broken(*args, **kwargs):
        raise driver_error(database, "FOREIGN KEY constraint failed", integrity=True)

    monkeypatch.setattr(team, "assign_role", broken)
    with pytest.raises(DatabaseError, match="FOREIGN KEY"):
        await service.declare("x", "SEV-2", author="a", commander="alice")
    assert set((await table_counts(database)).values()) == {0}


async def test_refused_second_half_of_a_command_rolls_back_the_first(service, database):
    incident = await service.declare("x", "SEV-2", author="a")
    await service.execute(incident.id, "/mitigated", "a")
    before = await table_counts(database)
    # The status change is written first; the resolved milestone 10 minutes ago is then refused.
    with pytest.raises(RuleError, match="would come before mitigated"):
        await service.execute(incident.id, "-10m /status resolved fixed", "a")
    assert await table_counts(database) == before
    assert (await service.incident(incident.id)).status == "investigating"


async def test_unknown_incident_is_a_not_found_error(service):
    with pytest.raises(NotFoundError, match="no incident 'INC-20260101-001'"):
        await service.execute("INC-20260101-001", "hello", "a")


# ---- reads see only committed data -----------------------------------------------------------------


async def test_reads_never_see_a_write_that_has_not_committed(service):
    """The screen reads through the service; an entry still inside an open transaction (or one that
    rolls back) must not be visible to it."""
    incident = await service.declare("Reads", "SEV-3", author="alice")
    before = [e.text for e in await service.entries(incident.id)]
    seen_inside: list[str] = []

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with service.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO entries (incident_id, number, occurred_at, recorded_at, author, kind, text)"
                " VALUES (?, 999, '2026-11-23T00:00:00.000000Z', '2026-11-23T00:00:00.000000Z',"
                " 'mallory', 'note', 'uncommitted')",
                (incident.id,),
            )
            seen_inside = [e.text for e in await service.entries(incident.id)]
            raise Abort
    assert seen_inside == before
    assert [e.text for e in await service.entries(incident.id)] == before
    await service.execute(incident.id, "committed", "alice")
    assert [e.text for e in await service.entries(incident.id)][-1] == "committed"


async def test_a_write_cancelled_while_beginning_leaves_no_transaction_open(service):
    """Cancelling a write (a screen closing, a lease task stopped) while BEGIN IMMEDIATE runs in the
    connection's thread must not leave the transaction open: later writes would all fail with
    'cannot start a transaction within a transaction' and hold the write lock on the file."""
    incident = await service.declare("x", "SEV-3", author="a")

    async def write():
        async with service.db.transaction() as conn:
            await q.insert_entry(conn, incident_id=incident.id, occurred_at=service.now(),
                                 recorded_at=service.now(), author="a", kind=EntryKind.NOTE, text="lost")

    task = asyncio.create_task(write())
    await asyncio.sleep(0)  # the task is now waiting for BEGIN IMMEDIATE to come back from the thread
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)  # the task ends once its ROLLBACK has run
    assert not in_transaction(service.db)
    [entry] = await service.execute(incident.id, "after the cancel", "a")
    assert [e.text for e in await service.entries(incident.id)][-1] == "after the cancel" == entry.text


async def test_marking_an_action_done_twice_is_refused_and_writes_nothing(service):
    incident = await service.declare("x", "SEV-2", author="a")
    await service.execute(incident.id, "/action roll back the config @bob", "a")
    [item] = await service.actions(incident.id)
    await service.set_action_done(incident.id, item.id, True, "bob")
    count = await service.entry_count(incident.id)
    with pytest.raises(RuleError, match="already done"):
        await service.set_action_done(incident.id, item.id, True, "carol")
    assert await service.entry_count(incident.id) == count


async def test_entries_can_be_read_for_some_kinds_only(service):
    incident = await service.declare("Kinds", "SEV-3", author="alice")
    await service.execute(incident.id, "a note", "alice")
    await service.execute(incident.id, "/decision roll back", "alice")
    await service.execute(incident.id, "/status identified", "alice")
    everything = await service.entries(incident.id)
    chosen = await service.entries(incident.id, kinds=[EntryKind.DECISION, EntryKind.STATUS])
    assert [e.text for e in chosen] == [e.text for e in everything if e.kind in (EntryKind.DECISION, EntryKind.STATUS)]
    assert [e.kind for e in chosen] == [EntryKind.DECISION, EntryKind.STATUS]
    assert await service.entries(incident.id, kinds=[]) == []
    record = await service.record(incident.id, kinds=[EntryKind.DECISION])
    assert [e.text for e in record.entries] == ["roll back"]
