"""Stakeholder updates, checklists, playbooks, resolution and escalation through the service layer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import FrozenClock

from warroom.domain.duties import DutyState
from warroom.domain.errors import NotFoundError, ParseError, RuleError
from warroom.domain.models import EntryKind, Milestone
from warroom.domain.policy import PolicyBook
from warroom.domain.updates import compose_update, next_update_promise, promise_from_clock
from warroom.service import IncidentService

T0 = datetime(2026, 11, 23, 10, 0, 7, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def service(tmp_path, clock):
    svc = await IncidentService.open(tmp_path / "w.db", PolicyBook.load(None), clock)
    yield svc
    await svc.close()


@pytest.fixture
async def incident(service):
    return await service.declare("Checkout 502s", "SEV-2", author="alice", commander="alice",
                                 services=("checkout",), impact="EU checkouts fail")


# ---- the promise and the countdown -----------------------------------------------------------


async def duty(service, incident_id: str, key: str):
    """The incident's duty with `key` as the service derives it now."""
    found = {d.key: d for d in await service.duties(await service.incident(incident_id))}
    return found[key]


async def test_promise_is_the_audiences_cadence_on_the_minute(service, incident):
    record = await service.record(incident.id)
    assert next_update_promise(record, "internal", T0) == datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc)
    assert next_update_promise(record, "public", T0) is None  # the status page has no cadence of its own


async def test_posting_resets_that_audiences_countdown_to_the_promise(service, incident, clock):
    clock.advance(minutes=14)
    assert (await duty(service, incident.id, "update:internal")).state(clock()) is DutyState.DUE_SOON  # first at 15m
    posted = await service.post_update(incident.id, "internal", "We are on it", "carol")
    assert posted.sequence == 1
    assert posted.next_update_at == datetime(2026, 11, 23, 10, 44, tzinfo=timezone.utc)
    internal = await duty(service, incident.id, "update:internal")
    assert internal.due_at == posted.next_update_at
    assert internal.state(clock()) is DutyState.ON_TRACK
    # the status page was not updated: its first-update deadline (15 minutes) stands and has passed
    public = await duty(service, incident.id, "update:public")
    assert public.due_at == T0 + timedelta(minutes=15) and public.state(clock()) is DutyState.DUE_SOON
    [update] = await service.updates(incident.id)
    assert (update.audience, update.text, update.author) == ("internal", "We are on it", "carol")
    assert posted.entry.kind is EntryKind.UPDATE
    assert posted.entry.data == {"audience": "internal", "update": 1, "next_update_at": "2026-11-23T10:44:00+00:00"}


async def test_an_earlier_promise_wins_over_the_cadence(service, incident, clock):
    promise = T0 + timedelta(minutes=10)
    posted = await service.post_update(incident.id, "executive", "Next in 10", "carol", promise)
    assert posted.next_update_at == promise
    assert (await duty(service, incident.id, "update:executive")).due_at == promise  # a promise is a duty


async def test_update_checks_audience_text_and_promise(service, incident):
    with pytest.raises(ParseError, match="unknown audience"):
        await service.post_update(incident.id, "press", "hello", "carol")
    with pytest.raises(ParseError, match="empty"):
        await service.post_update(incident.id, "internal", "   ", "carol")
    with pytest.raises(RuleError, match="later than now"):
        await service.post_update(incident.id, "internal", "hello", "carol", T0 - timedelta(minutes=1))
    assert await service.updates(incident.id) == []


async def test_entry_bar_update_uses_the_same_promise(service, incident):
    [entry] = await service.execute(incident.id, "/update public We are investigating", "carol")
    assert entry.data["audience"] == "public" and entry.data["update"] == 1
    [update] = await service.updates(incident.id)
    assert update.next_update_at is None  # no status-page cadence at SEV-2 in the default policy
    [entry] = await service.execute(incident.id, "/update internal Still on it", "carol")
    assert (await service.updates(incident.id))[1].next_update_at == T0.replace(second=0) + timedelta(minutes=30)


def test_promise_from_clock():
    assert promise_from_clock("10:30", T0) == datetime(2026, 11, 23, 10, 30, tzinfo=timezone.utc)
    assert promise_from_clock("09:00", T0) == datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    assert promise_from_clock(" 11:05 UTC", T0).hour == 11
    assert promise_from_clock("", T0) is None
    for bad in ("25:00", "ten", "10", "１０:３０"):
        with pytest.raises(ValueError):
            promise_from_clock(bad, T0)


# ---- drafts ----------------------------------------------------------------------------------


async def test_internal_draft_is_prefilled_from_the_record(service, incident, clock):
    clock.advance(minutes=3)
    await service.execute(incident.id, "/decision roll back the deploy", "alice")
    await service.execute(incident.id, "/action check pool metrics @erin due:2h", "dan")
    await service.execute(incident.id, "/status identified", "alice")
    clock.advance(minutes=2)
    record = await service.record(incident.id)
    draft = compose_update(record, "internal", clock())
    assert "SEV-2 (High)" in draft and "Status: Identified" in draft
    assert "Impact: EU checkouts fail" in draft and "Affected services: checkout" in draft
    assert "Duration: 5m (since declared)" in draft
    assert "- Decision: roll back the deploy" in draft
    assert "- Status Investigating -> Identified" in draft
    assert "- check pool metrics (@erin, due 12:03 UTC)" in draft
    assert draft.endswith("Next update at 10:35 UTC.")


async def test_draft_lists_only_changes_since_the_last_update_to_that_audience(service, incident, clock):
    await service.execute(incident.id, "/decision first call", "alice")
    clock.advance(minutes=1)
    await service.post_update(incident.id, "internal", "first", "carol")
    clock.advance(minutes=1)
    await service.execute(incident.id, "/decision second call", "alice")
    record = await service.record(incident.id)
    internal = compose_update(record, "internal", clock())
    assert "second call" in internal and "first call" not in internal
    assert "Since the last update (10:01 UTC)" in internal
    executive = compose_update(record, "executive", clock())
    assert "first call" in executive and "second call" in executive and "Next steps" not in executive


async def test_public_draft_follows_the_status_and_hides_internals(service, incident):
    await service.execute(incident.id, "/decision secret internal call <!channel>", "alice")
    record = await service.record(incident.id)
    public = compose_update(record, "public", T0)
    assert public.startswith("Investigating - We are investigating reports of problems with checkout.")
    # the default policy's status page owes a first notice, not a cadence: no time is promised
    assert "secret" not in public and public.endswith("Next update when there is news.")
    await service.resolve(incident.id, "rolled back", "alice")
    final = compose_update(await service.record(incident.id), "public", T0)
    assert final.startswith("Resolved - ") and final.endswith("This is the final update.")


async def test_status_page_text_comes_from_the_policy_wording(tmp_path, clock):
    """Seed 004: the SEV-2 status-page notice opens "Identified - ...", whatever the status; the
    final one opens "Resolved - ..."; the internal draft carries the seed's ETA line."""
    svc = await IncidentService.open(tmp_path / "w4.db", PolicyBook.load(None), clock)
    try:
        incident = await svc.declare("Logins failing", "SEV-2", author="alice", policy_id="sev-levels-004",
                                     services=("auth",), impact="Half of the logins fail.")
        record = await svc.record(incident.id)
        public = compose_update(record, "public", T0)
        assert public.startswith("Identified - We have found a problem with auth. Half of the logins fail. The team")
        assert record.incident.status == "investigating"  # the wording follows the severity, not the status
        assert "ETA: not estimated yet" in compose_update(record, "internal", T0)
        assert next_update_promise(record, "internal", T0) == T0.replace(second=0) + timedelta(minutes=30)
        await svc.execute(incident.id, "/sev 3", "alice")
        third = compose_update(await svc.record(incident.id), "public", T0)
        assert third.startswith("Investigating - We are investigating")  # no SEV-3 wording: by status
        await svc.resolve(incident.id, "restarted the pool", "alice")
        final = compose_update(await svc.record(incident.id), "public", T0)
        assert final.startswith("Resolved - The problem with auth is fixed") and "ETA" not in final
    finally:
        await svc.close()


async def test_draft_makes_control_characters_visible(service, incident):
    await service.execute(incident.id, "/decision evil \x1b]52;c;AAAA\x07 text", "alice")
    draft = compose_update(await service.record(incident.id), "internal", T0)
    assert "\x1b" not in draft and "\x07" not in draft and "␛]52;c;AAAA␇" in draft


# ---- checklists and playbooks ----------------------------------------------------------------


async def test_ticking_records_who_and_when(service, incident, clock):
    clock.advance(minutes=2)
    entry = await service.tick_checklist(incident.id, "first-minutes", 1, True, "alice")
    assert entry.kind is EntryKind.CHECKLIST and entry.author == "alice" and entry.occurred_at == clock()
    assert entry.text == "Ticked Commander: first five minutes: Set the severity"
    assert await service.checklist_state(incident.id) == {("first-minutes", 1): True}
    with pytest.raises(RuleError, match="already ticked"):
        await service.tick_checklist(incident.id, "first-minutes", 1, True, "alice")
    untick = await service.tick_checklist(incident.id, "first-minutes", 1, False, "bob")
    assert untick.text.startswith("Unticked") and untick.data == {"checklist": "first-minutes", "item": 1, "done": False}
    assert await service.checklist_state(incident.id) == {("first-minutes", 1): False}


async def test_the_last_tick_of_each_item_names_who_and_when(service, incident, clock):
    clock.advance(minutes=1)
    await service.tick_checklist(incident.id, "first-minutes", 0, True, "alice")
    clock.advance(minutes=1)
    await service.tick_checklist(incident.id, "first-minutes", 0, False, "bob")
    await service.tick_checklist(incident.id, "first-minutes", 2, True, "carol")
    last = await service.checklist_tick_entries(incident.id)
    assert set(last) == {("first-minutes", 0), ("first-minutes", 2)}
    assert (last[("first-minutes", 0)].author, last[("first-minutes", 0)].occurred_at) == ("bob", clock())
    assert last[("first-minutes", 0)].text.startswith("Unticked")
    assert last[("first-minutes", 2)].author == "carol"


async def test_ticking_unknown_items_is_refused(service, incident):
    with pytest.raises(NotFoundError):
        await service.tick_checklist(incident.id, "nope", 0, True, "alice")
    with pytest.raises(NotFoundError):
        await service.tick_checklist(incident.id, "first-minutes", 99, True, "alice")


async def test_attach_playbook_once(service, incident):
    entry = await service.attach_playbook(incident.id, "high-error-rate", "bob")
    assert entry.text.startswith("Attached playbook: High error rate")
    await service.attach_playbook(incident.id, "database-connection", "bob")
    assert await service.attached_playbooks(incident.id) == ["high-error-rate", "database-connection"]
    with pytest.raises(RuleError, match="already attached"):
        await service.attach_playbook(incident.id, "high-error-rate", "bob")
    with pytest.raises(NotFoundError):
        await service.attach_playbook(incident.id, "nope", "bob")
    record = await service.record(incident.id)
    assert record.playbooks == ("high-error-rate", "database-connection")


def test_default_policy_has_a_playbook_per_incident_type():
    ids = {p.id for p in PolicyBook.load(None).default.playbook}
    assert {"service-outage", "performance-degradation", "security-incident", "data-integrity",
            "database-connection", "high-error-rate"} <= ids


# ---- lifecycle: resolve, handoff, actions, escalation ----------------------------------------


async def test_resolve_needs_a_summary_and_sets_status(service, incident):
    with pytest.raises(ParseError):
        await service.resolve(incident.id, "  ", "alice")
    entries = await service.resolve(incident.id, "rolled back v2024.11.3", "alice")
    assert entries[0].text == "Resolved: rolled back v2024.11.3"
    resolved = await service.incident(incident.id)
    assert Milestone.RESOLVED in resolved.milestones and resolved.status == "resolved"
    with pytest.raises(RuleError, match="already resolved"):
        await service.resolve(incident.id, "again", "alice")


async def test_handoff_writes_the_picture(service, incident):
    await service.execute(incident.id, "/assign tl bob", "alice")
    await service.execute(incident.id, "/action pull metrics @erin", "alice")
    entries = await service.execute(incident.id, "/handoff ic gina", "alice")
    summary = entries[-1]
    assert summary.data == {"handoff": "ic", "to": "gina"}
    for part in ("Handoff of Incident Commander to gina", "SEV-2, Investigating", "pull metrics (erin)",
                 "Comms Lead unfilled", "Roster: Incident Commander: gina; Tech Lead: bob"):
        assert part in summary.text


async def test_action_done_is_recorded(service, incident):
    await service.execute(incident.id, "/action write the post-mortem @alice due:2026-11-25", "alice")
    [item] = await service.actions(incident.id)
    assert (item.owner, item.due.date().isoformat(), item.done) == ("alice", "2026-11-25", False)
    entry = await service.set_action_done(incident.id, item.id, True, "bob")
    assert entry.text == "Action done: write the post-mortem" and entry.author == "bob"
    assert (await service.actions(incident.id))[0].done


async def test_severity_change_names_who_to_tell_and_by_when(service, incident, clock):
    clock.advance(minutes=5)
    [severity] = await service.execute(incident.id, "/sev 1 whole EU down", "alice")
    base, _, owed = severity.text.partition(" | Owed: ")
    assert base == "Severity SEV-2 -> SEV-1 (Critical): whole EU down" == severity.text[:severity.data["text_length"]]
    assert "notify Executives (engineering manager, VP Engineering) by 10:20 UTC" in owed
    assert "Status page update by 10:05 UTC" in owed and "Internal update by 10:10 UTC" in owed
    assert "notify Affected customers: a proactive email (no deadline)" in owed
    assert {item["key"] for item in severity.data["started"]} == {
        "notify:executives", "notify:customers", "update:internal", "update:public"}
    notice = await service.escalation_for(await service.incident(incident.id))
    assert notice.severity == "SEV-1" and notice.since == clock()
    assert {d.key: d.due_at for d in notice.duties}["notify:executives"] == clock() + timedelta(minutes=15)
    assert notice.paths[0].steps[0] == "On-call engineer"
    # a raise restarts the first-update clock at the new level: 5 minutes from the raise
    assert (await duty(service, incident.id, "update:internal")).due_at == clock() + timedelta(minutes=5)


async def test_a_downgrade_starts_nothing_new(service, incident, clock):
    await service.execute(incident.id, "/sev 1", "alice")
    clock.advance(minutes=3)
    [entry] = await service.execute(incident.id, "/sev 3 contained", "alice")
    assert entry.text == "Severity SEV-1 -> SEV-3 (Medium): contained" and "started" not in entry.data
    keys = {d.key for d in await service.duties(await service.incident(incident.id))}
    assert "notify:manager" in keys and "notify:executives" in keys


async def test_back_dated_update_counts_from_when_it_was_posted(service, incident, clock):
    """`-10m /update ...` logs an update posted elsewhere 10 minutes ago: the entry, the update row and
    the countdown all start from then, not from when it was typed."""
    clock.advance(minutes=20)
    [entry] = await service.execute(incident.id, "-10m /update internal Posted on the bridge call", "carol")
    posted_at = T0 + timedelta(minutes=10)
    assert (entry.occurred_at, entry.recorded_at) == (posted_at, T0 + timedelta(minutes=20))
    [update] = await service.updates(incident.id)
    assert update.posted_at == posted_at
    assert update.next_update_at == datetime(2026, 11, 23, 10, 40, tzinfo=timezone.utc)
    assert (await duty(service, incident.id, "update:internal")).due_at == update.next_update_at


async def test_a_draft_record_of_the_last_changes_drafts_the_same_update(service, incident, clock):
    from warroom.domain.updates import MAX_CHANGES, compose_update

    script = ["a plain note", "/decision fail over", "/action page the vendor @bob", "/status identified",
              "/sev 1 spreading", "/rootcause pool exhausted", "another note", "/update internal first word"]
    script += [f"/decision step {n}" for n in range(MAX_CHANGES + 3)] + ["-30m /decision back-dated", "last note"]
    for text in script:
        clock.advance(minutes=1)
        await service.execute(incident.id, text, "alice")
    full = await service.record(incident.id)
    for audience in ("internal", "executive", "public"):
        drafted = await service.draft_record(incident.id, audience)
        assert len(drafted.entries) <= MAX_CHANGES < len(full.entries)
        assert compose_update(drafted, audience, clock()) == compose_update(full, audience, clock())
    assert "(4 earlier changes not repeated)" in compose_update(full, "internal", clock())
