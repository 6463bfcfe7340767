"""Paging: a severity that pages sends a PagerDuty Events v2 trigger, /resolve resolves it,
/page pages by hand; each page is a timeline entry with its result. Fakes on loopback only."""

from __future__ import annotations

import pytest
from reach_fakes import HttpFake

from warroom.domain.errors import ParseError, RuleError
from warroom.domain.grammar import parse
from warroom.domain.models import DeliveryState, EntryKind
from warroom.service import IncidentService
from warroom.service.config import Config, JsonPager, PagerDutyPager
from warroom.service.reach import Reach
from db_access import everything_stored

FAST = {"attempts": 3, "backoff": (0.01, 0.02)}
ROUTING_KEY = "R0UTING-KEY-abcdef0123456789"


def pagerduty(fake: HttpFake, **extra) -> PagerDutyPager:
    return PagerDutyPager(name="PagerDuty on-call", routing_key_env="WR_PD_KEY", events_url=fake.url("/v2/enqueue"),
                          timeout=10, **extra)


@pytest.fixture
async def paging_service(database, policies, clock):
    """A service whose config has pagers (set per test), as the CLI and the UI open it."""
    opened = await IncidentService.open(database, policies, clock)
    try:
        yield opened
    finally:
        await opened.close()


def with_pagers(service: IncidentService, *pagers) -> Reach:
    service.config = Config(pager=list(pagers))
    return Reach(service, service.config, environ={"WR_PD_KEY": ROUTING_KEY, "WR_PAGE_URL": ""}, **FAST)


async def test_sev1_declare_sends_one_trigger_and_resolve_sends_resolve(paging_service, database):
    service = paging_service
    async with HttpFake() as fake:
        reach = with_pagers(service, pagerduty(fake))
        incident = await service.declare("API down", "SEV-1", author="alice", services=("api",))
        done = await reach.after_declare(incident)
        [event] = [r.body for r in fake.received]
        assert event["routing_key"] == ROUTING_KEY and event["event_action"] == "trigger"
        assert event["dedup_key"] == incident.id
        assert event["payload"]["summary"] == f"[SEV-1] {incident.id} API down: SEV-1 declared"
        assert (event["payload"]["severity"], event["payload"]["source"]) == ("critical", "warroom")
        assert event["payload"]["custom_details"]["page_by"] == ["on-call"]
        [page] = done.pages
        assert (page.state, page.action, page.attempts) == (DeliveryState.DELIVERED, "trigger", 1)
        entries = await service.entries(incident.id)
        assert entries[-1].text == "Paged PagerDuty on-call (SEV-1 declared): accepted: Event processed"
        resolved = await service.resolve(incident.id, "rolled back", "alice")
        done = await reach.follow_up(incident.id, resolved)
        assert [r.body for r in fake.received[1:]] == [
            {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": incident.id}]
        assert done.summary() == ["page resolve to PagerDuty on-call: sent"]
        assert (await service.entries(incident.id))[-1].text.startswith("Resolved the page on PagerDuty on-call")
        again = await service.execute(incident.id, "/close done", "alice")
        assert (await reach.follow_up(incident.id, again)).pages == []  # nothing left to resolve
    stored = everything_stored(database)
    assert ROUTING_KEY.encode() not in stored


async def test_lower_severity_does_not_page_until_escalated(paging_service):
    service = paging_service
    async with HttpFake() as fake:
        reach = with_pagers(service, pagerduty(fake))
        incident = await service.declare("Slow search", "SEV-3", author="alice")
        assert (await reach.after_declare(incident)).pages == []
        written = await service.execute(incident.id, "/sev 2 more users", "alice")
        assert (await reach.follow_up(incident.id, written)).pages == []
        written = await service.execute(incident.id, "/sev 1 checkout is down too", "alice")
        [page] = (await reach.follow_up(incident.id, written)).pages
        assert page.reason == "escalated SEV-2 -> SEV-1" and len(fake.received) == 1
        written = await service.execute(incident.id, "/sev 2 calmer", "alice")
        assert (await reach.follow_up(incident.id, written)).pages == []  # a downgrade pages nobody


async def test_pagers_cover_their_services(paging_service):
    service = paging_service
    async with HttpFake() as fake:
        reach = with_pagers(service, pagerduty(fake, services=["payments"]))
        other = await service.declare("API down", "SEV-1", author="alice", services=("api",))
        assert (await reach.after_declare(other)).pages == []
        mine = await service.declare("Payments down", "SEV-1", author="alice", services=("payments",))
        assert len((await reach.after_declare(mine)).pages) == 1


async def test_page_by_hand_by_name_or_service(paging_service):
    service = paging_service
    async with HttpFake() as fake, HttpFake() as generic:
        reach = with_pagers(service, pagerduty(fake), JsonPager(name="db-oncall", url_env="WR_DB_PAGE",
                                                                services=["postgres"]))
        reach.environ = {"WR_PD_KEY": ROUTING_KEY, "WR_DB_PAGE": generic.url("/page/SECRET-TOKEN")}
        incident = await service.declare("Replication lag", "SEV-3", author="alice")
        [request] = await service.execute(incident.id, "/page postgres replica 40 s behind", "bob")
        assert (request.kind, request.author, request.text) == (EntryKind.SYSTEM, "bob",
                                                                "Paging db-oncall: replica 40 s behind")
        [page] = (await reach.follow_up(incident.id, [request])).pages
        assert page.state is DeliveryState.DELIVERED and page.dedup_key == f"{incident.id}/{request.number}"
        [sent] = [r.body for r in generic.received]
        assert (sent["event"], sent["incident"], sent["title"], sent["severity"]) == (
            "trigger", incident.id, "Replication lag", "SEV-3")
        assert sent["reason"] == "paged by bob: replica 40 s behind"
        [request] = await service.execute(incident.id, '/page "PagerDuty on-call" need a DBA', "bob")
        assert len((await reach.follow_up(incident.id, [request])).pages) == 1 and len(fake.received) == 1
        with pytest.raises(RuleError, match="no pager named or covering 'nobody'; pagers: PagerDuty on-call, db-oncall"):
            await service.execute(incident.id, "/page nobody help", "bob")


async def test_page_without_pagers_or_reason_is_refused(service, policies, clock):
    incident = await service.declare("x", "SEV-3", author="alice")
    with pytest.raises(RuleError, match="no pagers are configured"):
        await service.execute(incident.id, "/page oncall help", "bob")
    with pytest.raises(ParseError, match="say why oncall is paged; usage: /page NAME|SERVICE REASON"):
        parse("/page oncall", policies.default, clock())


async def test_a_page_that_fails_says_so_and_to_page_by_hand(paging_service, policies):
    service = paging_service
    async with HttpFake() as fake:
        fake.down = True
        reach = with_pagers(service, pagerduty(fake))
        incident = await service.declare("Everything down", "Severity 1", author="alice", policy_id="parsify-severity")
        [page] = (await reach.after_declare(incident)).pages
    assert (page.state, page.attempts, page.error) == (DeliveryState.FAILED, 3, "HTTP 503")
    text = (await service.entries(incident.id))[-1].text
    assert text == ("Page to PagerDuty on-call FAILED after 3 attempt(s): HTTP 503. "
                    "Page by hand (the policy pages by: phone, sms)")
    assert ROUTING_KEY not in text
