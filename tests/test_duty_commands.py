"""Issue 10 points 5, 8 and 11 through the service (the entry bar and `warroom log` share it):
`/notified PARTY` ticks a notify duty, `/done N` and `/undone N` work action items by their F4
number, `/hypothesis TEXT` is an entry of its own kind; escalations on declare and on /sev."""

from __future__ import annotations

from datetime import timedelta

import pytest

from warroom.domain import commands as cmd
from warroom.domain.duties import DutyKind, DutyState
from warroom.domain.errors import NotFoundError, ParseError, RuleError
from warroom.domain.grammar import parse
from warroom.domain.models import EntryKind
from warroom.domain.standing import Phase, find_markable, first_owed, numbered_actions, shown_status


def test_the_grammar_knows_the_new_commands(policies, clock):
    policy = policies.default
    assert parse("/notified exec by phone", policy, clock()) == cmd.MarkDuty(party="exec by phone")
    assert parse("/done 2", policy, clock()) == cmd.SetActionDone(number=2, done=True)
    assert parse("/undone #3", policy, clock()) == cmd.SetActionDone(number=3, done=False)
    assert parse("/hypothesis pool exhaustion", policy, clock()) == cmd.AddEntry(
        kind=EntryKind.HYPOTHESIS, text="pool exhaustion")
    for wrong in ("/done", "/done two", "/done 0", "/done 2 3", "/notified"):
        with pytest.raises(ParseError, match="usage"):
            parse(wrong, policy, clock())


async def test_notified_matches_the_party_by_id_label_or_prefix_and_goes_through_the_writer(service, clock):
    incident = await service.declare("EU checkout down", "SEV-1", author="alice")
    keys = {d.key: d for d in await service.duties(incident) if d.kind is DutyKind.NOTIFY}
    assert set(keys) == {"notify:executives", "notify:customers"}
    clock.advance(minutes=3)
    [entry] = await service.execute(incident.id, "-1m /notified exec by phone, VP on the bridge", "carol")
    assert entry.kind is EntryKind.DUTY and entry.data == {"duty": "notify:executives", "done": True}
    assert entry.text.startswith("Done: notify Executives (engineering manager, VP Engineering) (SEV-1, due ")
    assert entry.text.endswith(": by phone, VP on the bridge")
    assert entry.occurred_at == clock() - timedelta(minutes=1)  # back-dated
    done = {d.key: d for d in await service.duties(incident)}
    assert done["notify:executives"].done_at == entry.occurred_at
    [again] = await service.execute(incident.id, '/notified "affected customers: a proactive email"', "carol")
    assert again.data["duty"] == "notify:customers"
    with pytest.raises(RuleError, match="already done"):
        await service.execute(incident.id, "/notified executives", "carol")
    with pytest.raises(ParseError, match="no party to notify matches 'legal'"):
        await service.execute(incident.id, "/notified legal", "carol")


def test_a_prefix_that_fits_two_parties_asks_for_more(policies, clock):
    from warroom.domain.duties import derive_duties
    from warroom.domain.duty_record import declared_record

    policy = policies.get("p-levels-001")
    duties = derive_duties(policy, declared_record("P1", clock()))  # team lead and on-call engineer, 15 min
    assert find_markable(duties, "team")[0].key == "notify:team-lead"
    assert find_markable(duties, "on-call engineer paged")[1] == "paged"
    with pytest.raises(ParseError, match="no party to notify"):
        find_markable(duties, "internal")  # updates are done by posting them, not by /notified


async def test_a_p0_owes_every_stakeholder_at_once_and_the_countdown_says_so_first(service, clock):
    incident = await service.declare("Everything is down", "P0", author="alice", policy_id="p-levels-001")
    first = first_owed(await service.duties(incident))
    assert (first.key, first.due_at) == ("notify:stakeholders", clock())
    clock.advance(seconds=10)
    assert first.state(clock()) is DutyState.OVERDUE  # not "next update in 29:50"
    await service.execute(incident.id, "/notified stakeholders", "alice")
    assert first_owed(await service.duties(incident)).key == "update:internal"


async def test_a_downgrade_lists_nothing_new_to_notify(service, clock):
    incident = await service.declare("Search slow", "P1", author="alice", policy_id="p-levels-001")
    declared = (await service.entries(incident.id))[0]
    assert [d["key"] for d in declared.data["started"]] == [
        "notify:team-lead", "notify:oncall", "update:internal", "update:executive", "update:public"]
    clock.advance(minutes=5)
    [entry] = await service.execute(incident.id, "/sev P2 contained", "alice")
    assert "started" not in entry.data and "Owed" not in entry.text  # P2's on-call within 1h is not new


async def test_done_and_undone_take_the_number_f4_shows(service, clock):
    incident = await service.declare("Checkout 502s", "SEV-2", author="alice")
    for line in ("/action pull pool metrics @erin", "/action add a saturation alert group:long-term"):
        await service.execute(incident.id, line, "alice")
    [entry] = await service.execute(incident.id, "/done 2", "bob")
    assert (entry.kind, entry.text, entry.data["action_number"]) == (
        EntryKind.ACTION, "Action done: add a saturation alert", 2)
    assert [a.done for a in await service.actions(incident.id)] == [False, True]
    with pytest.raises(RuleError, match="already done"):
        await service.execute(incident.id, "/done 2", "bob")
    await service.execute(incident.id, "/undone 2", "bob")
    assert [a.done for a in await service.actions(incident.id)] == [False, False]
    with pytest.raises(NotFoundError, match="numbered 1 to 2"):
        await service.execute(incident.id, "/done 3", "bob")
    numbered = numbered_actions(service.policy_for(incident), await service.actions(incident.id), incident)
    assert [(a.number, a.phase, a.when_words) for a in numbered] == [
        (1, Phase.NOW, "now"), (2, Phase.AFTER, "follow-up · Long-term")]


async def test_groups_worked_during_the_incident_are_now_and_late_ungrouped_items_follow_up(service, clock):
    incident = await service.declare("API down", "P1", author="alice", policy_id="p-levels-001")
    await service.execute(incident.id, "/action roll back group:immediate", "alice")
    await service.execute(incident.id, "/action add canaries group:short-term", "alice")
    await service.resolve(incident.id, "rolled back", "alice")
    await service.execute(incident.id, "/action write the timeline", "alice")
    incident = await service.incident(incident.id)
    numbered = numbered_actions(service.policy_for(incident), await service.actions(incident.id), incident)
    assert [a.phase for a in numbered] == [Phase.NOW, Phase.AFTER, Phase.AFTER]
    from warroom.domain.postmortem import to_markdown

    report = to_markdown(await service.record(incident.id))
    now = report.split("### Now: during the incident\n")[1].split("### Follow-ups")[0]
    assert "- [ ] roll back (**no owner**) _(Immediate)_" in now and "canaries" not in now
    later = report.split("### Follow-ups: after the incident\n")[1].split("\n## ")[0]
    assert "#### Short-term" in later and "add canaries" in later and "#### Immediate" not in later
    assert "#### Not grouped yet\n\n- [ ] write the timeline" in later  # added after the resolution


async def test_close_shows_closed(service, clock):
    incident = await service.declare("API down", "SEV-3", author="alice")
    await service.resolve(incident.id, "rolled back", "alice")
    assert shown_status(service.policy_for(incident), await service.incident(incident.id)) == "Resolved"
    await service.execute(incident.id, "/close", "alice")
    assert shown_status(service.policy_for(incident), await service.incident(incident.id)) == "Closed"


def test_list_shows_what_each_incident_owes_first_and_closed_incidents_as_closed(run_cli):
    def ok(*args: str) -> str:
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    urgent = ok("declare", "Everything is down", "--severity", "P0", "--policy", "p-levels-001").strip()
    done = ok("declare", "Old one", "--severity", "SEV-3").strip()
    ok("log", done, "/resolve rolled back")
    ok("log", done, "/close")
    listed = ok("list", "--all").splitlines()
    [line] = [row for row in listed if row.startswith(urgent)]
    assert "⚠ notify All stakeholders OVERDUE by" in line  # owed at once: overdue as soon as it is listed
    [line] = [row for row in listed if row.startswith(done)]
    assert " Closed " in line
    assert "- **Status:** Closed" in ok("export", done, "--format", "markdown")


async def test_the_handoff_summary_is_one_a_person_can_take_over_from(service, clock):
    from warroom.store.probe_states import put_state

    incident = await service.declare("Checkout 502s", "SEV-1", author="alice", commander="alice")
    declared = clock()
    clock.advance(minutes=2)
    for line in ("/rootcause the pool was too small", "/decision fail over to the secondary | EU only",
                 "/decision keep the old gateway config", "/update public Investigating - EU checkout fails",
                 "/hypothesis card processor latency in Frankfurt\nsaw it in the traces", "/action page the vendor @dan"):
        await service.execute(incident.id, line, "alice")
    async with service.db.transaction() as conn:
        await put_state(conn, incident.id, "payments-api", config={}, interval=10, attached=True, state="down",
                        health="down", since=declared + timedelta(minutes=1), first_failure_at=None,
                        consecutive_failures=3, consecutive_successes=0)
    clock.advance(minutes=4)  # the internal update (first within 5 minutes) is late now
    _, summary = await service.execute(incident.id, "/handoff ic gina", "alice")
    parts = summary.text.split(" | ")
    assert parts[0] == "Handoff of Incident Commander to gina."
    assert parts[2] == "Hypothesis: card processor latency in Frankfurt saw it in the traces (#7, hypothesis, alice)"
    assert parts[3] == ("Updates: Internal: none yet, OVERDUE since 15:05 UTC; "
                        "Status page: last 15:02 UTC, none due")  # SEV-1: the status page's first notice only
    assert parts[4] == ("Recent decisions: #4 fail over to the secondary / EU only; "
                        "#5 keep the old gateway config")  # one line, and no ' | ' of its own
    assert parts[5] == "Probes: payments-api DOWN since 15:01 UTC"
    assert parts[6].startswith("Owed: notify Executives (engineering manager, VP Engineering) in 09:00; "
                               "notify Affected customers: a proactive email no deadline")
    assert parts[7] == "Actions in flight: page the vendor (dan)"
