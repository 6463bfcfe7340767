"""What the war room's first frame reads, read by the indexes: the newest recording time by a skip
through the kind index (the same answer as MAX over every entry), the duty entries by kind (in time
order, as before), each without reading every entry of the incident."""

from __future__ import annotations

from warroom.domain.models import EntryKind
from warroom.store import queries as q


async def _plan(service, sql: str, params: tuple) -> str:
    if service.db.pushes_changes:  # a server plans its own way
        return ""
    rows = await service.db.reader.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
    return " | ".join(row[-1] for row in rows)


async def test_the_newest_recording_time_is_the_maximum_over_every_kind(service, clock):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    for text, minutes in (("note one", 5), ("/decision roll back", 3), ("/status monitoring", -30),
                          ("note two", -20), ("/action page the DBA", 1)):
        clock.advance(minutes=minutes)  # this computer's clock moves back and forth between entries
        await service.execute(incident.id, text, "bob")
    reader = service.db.reader
    rows = await reader.execute_fetchall("SELECT recorded_at FROM entries WHERE incident_id = ?", (incident.id,))
    newest = max(row[0] for row in rows)
    assert (await q.newest_recorded_at(reader, incident.id)).isoformat().startswith(newest[:19])
    assert await q.newest_recorded_at(reader, "INC-20991231-001") is None
    plan = await _plan(service, q._NEWEST_RECORDED, (incident.id,) * 3)
    scans = [step for step in plan.split(" | ") if step.startswith("SCAN") and step != "SCAN kinds"]
    assert scans == [] and "entries_by_kind" in (plan or "entries_by_kind")  # lookups, no walk through the entries


async def test_entries_of_some_kinds_come_in_time_order_through_the_kind_index(service, clock, monkeypatch):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    await service.execute(incident.id, "note one", "bob")
    clock.advance(minutes=2)
    await service.execute(incident.id, "/sev SEV-1 spreading", "bob")
    await service.execute(incident.id, "-10m /sev SEV-2 it was not", "bob")  # back-dated: earlier in time
    asked, real_all = [], q._all
    monkeypatch.setattr(q, "_all", lambda conn, sql, params: asked.append((sql, tuple(params))) or
                        real_all(conn, sql, params))
    found = await q.all_entries(service.db.reader, incident.id, (EntryKind.SEVERITY,))
    assert [e.text for e in found] == [e.text for e in sorted(found, key=lambda e: (e.occurred_at, e.number))]
    assert len(found) == 2 and found[0].text.endswith("it was not") and found[0].number > found[1].number
    plan = await _plan(service, *asked[0])
    assert not plan or "entries_by_kind" in plan  # not every entry of the incident, by the time index
