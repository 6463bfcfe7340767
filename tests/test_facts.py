"""The incident's facts kept current (/set, /service, /title), the review material (/factor,
/went-well, /went-badly), checklist items the record proves, and what the updates, `warroom show`
and the report make of them (issue 10, points 3, 10 and 12)."""

from __future__ import annotations

import re

import pytest

from warroom.domain.checklists import PLAYBOOK_STEPS, record_ticks
from warroom.domain.errors import PolicyError, RuleError
from warroom.domain.models import EntryKind
from warroom.domain.policy import PolicyBook
from warroom.domain.postmortem import to_markdown
from warroom.domain.report import plain_summary, to_json_dict
from warroom.domain.updates import compose_update


async def declared(service, severity="SEV-2", policy_id=None):
    return await service.declare("Checkout 502s", severity, author="alice", commander="alice", policy_id=policy_id)


async def test_facts_are_set_from_the_entry_bar_and_each_change_is_an_entry(service, clock):
    incident = await declared(service)
    for text in ("/set impact EU checkouts fail", "/set users about 12% of EU customers",
                 "/service add checkout-api, payments", "/service add eu-edge", "/service remove payments",
                 "/set impact EU checkouts fail for a third of attempts", "/title Checkout 502s in the EU"):
        clock.advance(seconds=30)
        await service.execute(incident.id, text, "bob")
    now = await service.incident(incident.id)
    assert now.impact == "EU checkouts fail for a third of attempts"
    assert now.customer_impact == "about 12% of EU customers"
    assert now.services == ("checkout-api", "eu-edge")
    assert now.title == "Checkout 502s in the EU"
    facts = [e for e in await service.entries(incident.id) if e.kind is EntryKind.FACT]
    assert [e.text for e in facts] == [
        "Impact: EU checkouts fail",
        "Customer impact: about 12% of EU customers",
        "Services: checkout-api, payments (added checkout-api, payments)",
        "Services: checkout-api, payments, eu-edge (added eu-edge)",
        "Services: checkout-api, eu-edge (removed payments)",
        "Impact: EU checkouts fail for a third of attempts (was: EU checkouts fail)",
        "Title: Checkout 502s in the EU (was: Checkout 502s)",
    ]
    assert facts[-2].data == {"fact": "impact", "from": "EU checkouts fail",
                              "to": "EU checkouts fail for a third of attempts"}
    assert (await service.record(incident.id)).incident.customer_impact == "about 12% of EU customers"


@pytest.mark.parametrize(("typed", "says"), [
    ("/service remove nothing-here", "not listed: nothing-here"),
    ("/service add checkout", "already listed: checkout"),
    ("/set impact EU", "already 'EU'"),
])
async def test_facts_refuse_what_changes_nothing(service, clock, typed, says):
    incident = await declared(service)
    await service.execute(incident.id, "/set impact EU", "bob")
    await service.execute(incident.id, "/service add checkout", "bob")
    with pytest.raises(RuleError, match=re.escape(says)):
        await service.execute(incident.id, typed, "bob")


async def test_impact_stays_the_milestone(service, clock):
    incident = await declared(service)
    await service.execute(incident.id, "-5m /impact first 502s", "bob")
    now = await service.incident(incident.id)
    assert now.impact == "" and "impact_started" in {m.value for m in now.milestones}


async def test_updates_show_and_use_the_facts_instead_of_being_assessed(service, clock):
    incident = await declared(service)
    draft = compose_update(await service.record(incident.id), "internal", clock())
    assert "Impact: being assessed" in draft and "Affected services: being assessed" in draft
    for text in ("/set impact EU checkouts fail", "/set users 12% of EU customers", "/service add checkout-api"):
        await service.execute(incident.id, text, "bob")
    record = await service.record(incident.id)
    draft = compose_update(record, "internal", clock())
    assert "Impact: EU checkouts fail" in draft and "Who is affected: 12% of EU customers" in draft
    assert "Affected services: checkout-api" in draft and "being assessed" not in draft
    assert "- Impact: EU checkouts fail" in draft  # the change itself, said once
    public = compose_update(record, "public", clock())
    assert "checkout-api" in public


async def test_no_doubled_kind_prefix_in_an_update(service, clock):
    incident = await declared(service)
    await service.execute(incident.id, "/action add a canary @bob", "alice")
    [action] = await service.actions(incident.id)
    await service.set_action_done(incident.id, action.id, True, "bob")
    draft = compose_update(await service.record(incident.id), "internal", clock())
    assert "- Action: add a canary | owner @bob" in draft
    assert "- Action done: add a canary" in draft and "Action: Action" not in draft


async def test_show_and_json_carry_the_facts_and_mark_the_audience_of_an_update(service, clock):
    incident = await declared(service)
    await service.execute(incident.id, "/set users 12% of EU customers", "bob")
    await service.execute(incident.id, "/update executive EU checkout degraded", "bob")
    record = await service.record(incident.id)
    shown = plain_summary(record, clock())
    assert "who is affected: 12% of EU customers" in shown
    assert re.search(r"✉ update\s+bob\s+\[to Executive\] EU checkout degraded", shown), shown
    assert to_json_dict(record)["incident"]["customer_impact"] == "12% of EU customers"


# ---- checklists the record proves -------------------------------------------------------------------


async def test_checklist_items_tick_themselves_when_the_record_proves_them(service, clock):
    incident = await declared(service, "SEV-1", "sev-levels-002")
    proofs = await service.checklist_proofs(incident.id)
    assert set(proofs) == {("detection", 1), ("detection", 2), ("first-minutes", 2)}  # severity, log, severity
    for text in ("/ack", "/assign tl bob", "/set impact EU checkout down", "/set users all EU users",
                 "/update internal investigating"):
        clock.advance(minutes=1)
        await service.execute(incident.id, text, "alice")
    proofs = await service.checklist_proofs(incident.id)
    assert {("detection", 0), ("first-minutes", 0), ("first-minutes", 3), ("assessment", 0),
            ("assessment", 1), ("assessment", 4)} <= set(proofs)
    roles = proofs[("first-minutes", 3)]
    assert roles.what == "Incident Commander: alice, Technical Lead: bob" and roles.number is not None
    assert proofs[("detection", 0)].what == "acknowledged"
    assert ("resolution", 4) not in proofs  # the final message comes after the resolution
    clock.advance(minutes=1)
    await service.execute(incident.id, "/resolve rolled back", "alice")
    assert ("resolution", 4) not in await service.checklist_proofs(incident.id)
    clock.advance(minutes=1)
    await service.execute(incident.id, "/update internal resolved", "alice")
    final = (await service.checklist_proofs(incident.id))[("resolution", 4)]
    assert final.what == "Incident channel update posted" and final.at == clock()


@pytest.mark.parametrize(("bad", "says"), [
    ('{ 1 = "acknowledged", 2 = "roles:ic,nobody" }', "unknown role 'nobody'"),
    ('{ 9 = "acknowledged" }', "is not an item number (1 to 4)"),
    ('{ 1 = "vibes" }', "unknown proof 'vibes'"),
])
def test_a_proof_the_policy_cannot_keep_is_refused_with_its_field(tmp_path, bad, says):
    from importlib.resources import files

    text = files("warroom.policies").joinpath("sev-levels-002.toml").read_text(encoding="utf-8")
    changed = text.replace('id = "sev-levels-002"', 'id = "mine"').replace(
        'proofs = { 1 = "acknowledged", 2 = "severity", 3 = "declared" }', f"proofs = {bad}", 1)
    assert changed.count(bad) == 1
    (tmp_path / "mine.toml").write_text(changed, encoding="utf-8")
    with pytest.raises(PolicyError, match=re.escape(says)) as raised:
        PolicyBook.load(tmp_path)
    assert "checklist[0].proofs" in str(raised.value) and "mine.toml" in str(raised.value)


async def test_playbook_steps_are_ticked_once_attached(service, clock):
    incident = await declared(service, "SEV-1", "sev-levels-002")
    with pytest.raises(Exception, match="no attached playbook"):
        await service.tick_checklist(incident.id, PLAYBOOK_STEPS + "service-outage", 0, True, "bob")
    await service.attach_playbook(incident.id, "service-outage", "bob")
    entry = await service.tick_checklist(incident.id, PLAYBOOK_STEPS + "service-outage", 0, True, "bob")
    assert entry.text == "Ticked Playbook Complete outage: Work out whether all users or only some are hit"
    assert (await service.checklist_state(incident.id))[(PLAYBOOK_STEPS + "service-outage", 0)] is True


# ---- the report ------------------------------------------------------------------------------------


async def test_the_report_has_the_review_the_facts_and_every_unticked_item(service, clock):
    incident = await declared(service, "SEV-2", "sev-levels-002")
    for text in ("/sev 1 all of EU down", "/ack", "/set impact EU checkout down", "/set users all EU customers",
                 "/service add checkout-api", "/factor the gateway had no timeout under 30 s",
                 "/went-well failover took 4 minutes", "/went-badly the pager fired 10 minutes late",
                 "/sev 2 partly back", "/resolve failed over"):
        clock.advance(minutes=2)
        await service.execute(incident.id, text, "alice")
    report = to_markdown(await service.record(incident.id))
    assert "- **Severity:** SEV-2 (High); highest reached SEV-1 (Critical)" in report
    assert re.search(r"Severity history:\*\* SEV-2 at .*, SEV-1 at .*, SEV-2 at ", report)
    assert "- **Who is affected:** all EU customers" in report and "- **Services:** checkout-api" in report
    review = report[report.index("## Review"):report.index("## Duties")]
    for heading, text in (("### Contributing factors", "the gateway had no timeout under 30 s"),
                          ("### What went well", "failover took 4 minutes"),
                          ("### What went badly", "the pager fired 10 minutes late")):
        assert heading in review and text in review
    assert "| Time to resolve | 20m | under 1h 00m (SEV-1, highest reached) | met |" in report
    checklists = report[report.index("## Checklists and playbooks"):report.index("## Updates posted")]
    assert "  - [ ] Page the on-call engineer if that has not happened (**not ticked**)" in checklists
    assert "  - [x] Acknowledge the alert or page (ticked by the record: acknowledged" in checklists
    key = report[report.index("## Timeline"):report.index("### Milestones")]
    assert "Owed:" not in key and "notify" not in key  # no escalation boilerplate in the key timeline


async def test_an_empty_review_says_which_command_fills_it(service, clock):
    incident = await declared(service)
    report = to_markdown(await service.record(incident.id))
    assert "Nothing was recorded with `/factor` during the incident." in report
    assert "Nothing was recorded with `/went-badly` during the incident." in report
    assert record_ticks(await service.record(incident.id))  # the default policy proves some items at once


# ---- a clock behind the record (issue 9, item 13) --------------------------------------------------


async def test_a_milestone_refused_because_the_clock_is_behind_says_so(service, clock):
    incident = await declared(service)
    await service.execute(incident.id, "-5m /detected pager", "bob")
    clock.advance(hours=-2)  # this computer's clock jumps two hours back
    with pytest.raises(RuleError) as refused:
        await service.execute(incident.id, "/ack", "bob")
    message = str(refused.value)
    assert message.startswith("refused: ")
    assert "this computer's clock reads 13:00:00 UTC, 2h 00m behind the record's newest entry (15:00:00 UTC)" in message
    clock.advance(hours=2, minutes=1)
    await service.execute(incident.id, "/ack", "bob")  # with the clock right, no word of it
