"""Reopening: a resolved (or closed) incident set back to an open status is open again everywhere
(`warroom list`, the picker, the update countdown), says so on the timeline, and can be resolved
again later. The timeline stays append-only: the first resolution keeps its entry."""

from __future__ import annotations

from warroom.domain.models import EntryKind, Milestone


async def resolved_incident(service, clock):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice", commander="alice")
    clock.advance(minutes=30)
    await service.execute(incident.id, "/resolve rolled back the deploy", "alice")
    resolved = await service.incident(incident.id)
    assert not resolved.is_open and resolved.status == "resolved"
    return resolved


async def test_setting_an_open_status_reopens_a_resolved_incident(service, clock):
    incident = await resolved_incident(service, clock)
    resolved_at = incident.milestones[Milestone.RESOLVED]
    before = [(e.number, e.text) for e in await service.entries(incident.id)]
    assert await service.incidents() == []
    kinds = {d.key: d.kind.value for d in await service.duties(incident)}
    assert kinds["final:internal"] == "final update" and "update:internal" not in kinds  # resolved: finals owed

    clock.advance(minutes=10)
    [entry] = await service.execute(incident.id, "/status investigating errors are back", "bob")

    assert entry.kind is EntryKind.STATUS
    assert entry.text == ("Reopened: status Resolved -> Investigating: errors are back"
                          f" | cleared resolved milestone (was {resolved_at:%Y-%m-%d %H:%M:%S} UTC)")
    assert entry.data["reopened"] is True and entry.data["from"] == "resolved"
    reopened = await service.incident(incident.id)
    assert reopened.is_open and reopened.status == "investigating"
    assert Milestone.RESOLVED not in reopened.milestones
    assert [i.id for i in await service.incidents()] == [incident.id]  # `warroom list` and the picker
    keys = {d.key: d for d in await service.duties(reopened)}
    assert "final:internal" not in keys and keys["update:internal"].due_at is not None  # updates again
    # append-only: the first resolution is still in the timeline, word for word
    after = [(e.number, e.text) for e in await service.entries(incident.id)]
    assert after[:len(before)] == before and after[len(before):] == [(entry.number, entry.text)]
    assert any(text.startswith("Resolved: rolled back the deploy") for _, text in after)


async def test_a_reopened_incident_can_be_resolved_again(service, clock):
    incident = await resolved_incident(service, clock)
    clock.advance(minutes=5)
    await service.execute(incident.id, "/status identified", "bob")
    clock.advance(minutes=20)
    written = await service.resolve(incident.id, "scaled the pool up", "alice")
    assert [e.kind for e in written] == [EntryKind.MILESTONE, EntryKind.STATUS]
    again = await service.incident(incident.id)
    assert not again.is_open and again.status == "resolved"
    assert again.milestones[Milestone.RESOLVED] == clock.now
    assert await service.incidents() == []
    milestone_texts = [e.text for e in await service.entries(incident.id) if e.kind is EntryKind.MILESTONE]
    assert milestone_texts == ["Resolved: rolled back the deploy", "Resolved: scaled the pool up"]


async def test_status_resolved_after_reopening_sets_the_milestone_again(service, clock):
    incident = await resolved_incident(service, clock)
    await service.execute(incident.id, "/status monitoring", "bob")
    clock.advance(minutes=1)
    written = await service.execute(incident.id, "/status resolved fixed it", "bob")
    assert [e.kind for e in written] == [EntryKind.STATUS, EntryKind.MILESTONE]
    assert (await service.incident(incident.id)).milestones[Milestone.RESOLVED] == clock.now


async def test_reopening_a_closed_incident_clears_resolved_and_closed(service, clock):
    incident = await resolved_incident(service, clock)
    clock.advance(hours=1)
    await service.execute(incident.id, "/close", "alice")
    stones = (await service.incident(incident.id)).milestones
    [entry] = await service.execute(incident.id, "/status investigating", "bob")
    assert entry.text.startswith("Reopened: status Resolved -> Investigating | cleared resolved milestone (was ")
    assert f"closed milestone (was {stones[Milestone.CLOSED]:%Y-%m-%d %H:%M:%S} UTC)" in entry.text
    assert set(entry.data["cleared"]) == {"resolved", "closed"}
    assert (await service.incident(incident.id)).is_open


async def test_closed_without_resolving_reopens_with_the_same_status(service, clock):
    incident = await service.declare("Checkout errors", "SEV-2", author="alice")
    clock.advance(minutes=5)
    await service.execute(incident.id, "/close", "alice")
    [entry] = await service.execute(incident.id, "/status investigating", "bob")
    assert entry.text.startswith("Reopened: status stays Investigating | cleared closed milestone (was ")
    assert (await service.incident(incident.id)).is_open


async def test_warroom_list_shows_the_reopened_incident(service, clock, run_cli):
    incident = await resolved_incident(service, clock)
    assert incident.id not in run_cli("list").stdout
    await service.execute(incident.id, "/status investigating", "bob")
    listed = run_cli("list")
    assert listed.returncode == 0 and incident.id in listed.stdout and "Investigating" in listed.stdout
