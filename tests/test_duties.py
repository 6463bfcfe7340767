"""Every duty each procedure implies, through a whole incident per procedure.

Each test drives one incident through the service on the frozen clock: declared late in the
evening so that deadlines fall on the next day, severity raised and lowered, updates posted to
different audiences at chosen times, resolved. After each step it compares the complete set of
open duties (key -> due time, with its date) with what the procedure says.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from conftest import FrozenClock

from warroom.domain.duties import DutyKind, DutyState
from warroom.domain.errors import NotFoundError, RuleError
from warroom.domain.policy import PolicyBook
from warroom.service import IncidentService

UTC = timezone.utc
NO_DEADLINE = None


def at(day: int, hour: int, minute: int) -> datetime:
    """A moment in November 2026 (day 23 or 24...), UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


class Drive:
    """One incident driven through the service, with the clock set before each step."""

    def __init__(self, service: IncidentService, clock: FrozenClock):
        self.service, self.clock = service, clock
        self.incident_id = ""

    async def declare(self, moment: datetime, severity: str, policy: str) -> None:
        self.clock.now = moment
        incident = await self.service.declare("Checkout failing", severity, author="alice", policy_id=policy)
        self.incident_id = incident.id

    async def type(self, moment: datetime, text: str) -> None:
        self.clock.now = moment
        await self.service.execute(self.incident_id, text, "alice")

    async def mark(self, moment: datetime, key: str) -> None:
        self.clock.now = moment
        await self.service.mark_duty(self.incident_id, key, True, "alice", "told them on the bridge")

    async def duties(self):
        return await self.service.duties(await self.service.incident(self.incident_id))

    async def owed(self) -> dict[str, datetime | None]:
        """Open duties: key -> due time (None: no deadline)."""
        return {d.key: d.due_at for d in await self.duties() if d.is_open}

    async def done(self) -> dict[str, datetime]:
        return {d.key: d.done_at for d in await self.duties() if not d.is_open}


@pytest.fixture
async def drive(tmp_path):
    clock = FrozenClock(at(23, 12, 0))
    service = await IncidentService.open(tmp_path / "duties.db", PolicyBook.load(None), clock)
    try:
        yield Drive(service, clock)
    finally:
        await service.close()


async def test_seed_000_executive_updates_every_15_minutes_whatever_the_channel_says(drive):
    """Seed 000: executive updates every 15/30 minutes/2 hours "until resolved"; the incident team
    alerted in the first 15 minutes; the on-call paged at once for Severity 1; users emailed once
    an outage passes 30 minutes; the post-mortem within 72 hours of the resolution."""
    await drive.declare(at(23, 23, 40), "Severity 2", "parsify-severity")
    assert await drive.owed() == {
        "update:executive": at(24, 0, 10),  # every 30 minutes at Severity 2
        "notify:team": at(23, 23, 55),
        "notify:users": at(24, 0, 10),  # if still unresolved
    }
    await drive.type(at(23, 23, 50), "/sev 1 every region")
    assert await drive.owed() == {
        "update:executive": at(24, 0, 5),  # a raise restarts the clock: 15 minutes at Severity 1
        "notify:oncall": at(23, 23, 50),  # paged at once
        "notify:team": at(23, 23, 55),  # the raise would give 00:05; the earlier deadline stands
        "notify:users": at(24, 0, 10),
    }
    # The bug this replaces: an internal update must not move the executives' deadline.
    await drive.type(at(23, 23, 52), "/update internal looking at the load balancer")
    assert (await drive.owed())["update:executive"] == at(24, 0, 5)
    await drive.type(at(23, 23, 58), "/update executive Severity 1: checkout down everywhere")
    await drive.mark(at(24, 0, 1), "notify:team")
    await drive.mark(at(24, 0, 2), "notify:oncall")
    assert await drive.owed() == {"update:executive": at(24, 0, 13), "notify:users": at(24, 0, 10)}
    assert await drive.done() == {"notify:team": at(24, 0, 1), "notify:oncall": at(24, 0, 2)}
    await drive.type(at(24, 0, 12), "/sev 3 contained")  # the promise of 00:13 still stands
    assert await drive.owed() == {"update:executive": at(24, 0, 13), "notify:users": at(24, 0, 10)}
    await drive.type(at(24, 0, 13), "/update executive contained")
    assert (await drive.owed())["update:executive"] == at(24, 2, 13)  # every 2 hours at Severity 3
    await drive.type(at(24, 0, 20), "/resolve rolled back")
    assert await drive.owed() == {
        "final:executive": at(24, 0, 35),  # one more period of the highest level reached (15 minutes)
        "notify:users": at(24, 0, 10),  # it ran past 30 minutes before the resolution: still owed
        "review:postmortem": at(27, 0, 20),  # 72 hours
    }
    await drive.type(at(24, 0, 30), "/update executive resolved")
    assert "final:executive" in await drive.done()


async def test_seed_001_every_channel_every_30_minutes_at_p0_hourly_at_p1(drive):
    """Seed 001: P0 every 30 minutes, P1 hourly, on the status page, #incidents and stakeholder
    email; P0 tells all stakeholders at once, P1 the on-call and team lead within its 15-minute
    response, P2 the on-call within the hour; the post-mortem within 48 hours."""
    await drive.declare(at(23, 23, 40), "P2", "p-levels-001")
    assert await drive.owed() == {"notify:oncall": at(24, 0, 40)}  # no update cadence at P2
    await drive.type(at(23, 23, 45), "/sev P1")
    assert await drive.owed() == {
        "update:internal": at(24, 0, 45), "update:executive": at(24, 0, 45), "update:public": at(24, 0, 45),
        "notify:team-lead": at(24, 0, 0), "notify:oncall": at(24, 0, 0),  # brought forward by the raise
    }
    await drive.type(at(23, 23, 50), "/sev P0")
    assert await drive.owed() == {
        "update:internal": at(24, 0, 20), "update:executive": at(24, 0, 20), "update:public": at(24, 0, 20),
        "notify:stakeholders": at(23, 23, 50), "notify:team-lead": at(24, 0, 0), "notify:oncall": at(24, 0, 0),
    }
    await drive.type(at(24, 0, 10), "/update internal P0: checkout down")
    await drive.type(at(24, 0, 15), "/update public We are investigating checkout failures.")
    await drive.type(at(24, 0, 25), "/sev P1 partly back")
    assert await drive.owed() == {
        "update:internal": at(24, 0, 40),  # promised at 00:10 (30 minutes at P0); P1's hour would be later
        "update:public": at(24, 0, 45),
        "update:executive": at(24, 0, 20),  # never updated since P0: the P0 deadline stands
        "notify:stakeholders": at(23, 23, 50), "notify:team-lead": at(24, 0, 0), "notify:oncall": at(24, 0, 0),
    }
    await drive.type(at(24, 0, 30), "/resolve rolled back")
    assert await drive.owed() == {
        "review:postmortem": at(26, 0, 30),
        "notify:stakeholders": at(23, 23, 50), "notify:team-lead": at(24, 0, 0), "notify:oncall": at(24, 0, 0),
    }


async def test_seed_002_internal_and_status_page_tables(drive):
    """Seed 002: internal Initial / During / Resolution (SEV-1 5m / 15m / immediate, SEV-2 15m /
    30m / 15m, SEV-3 30m / 4h / 1h); status page SEV-1 immediately, SEV-3 within the hour;
    executives within 15 minutes of a SEV-1; post-mortem booked within 24 hours, done in a week."""
    await drive.declare(at(23, 23, 50), "SEV-3", "sev-levels-002")
    assert await drive.owed() == {"update:internal": at(24, 0, 20), "update:public": at(24, 0, 50)}
    await drive.type(at(23, 23, 55), "/sev 1")
    assert await drive.owed() == {
        "update:internal": at(24, 0, 0), "update:public": at(23, 23, 55),
        "notify:executives": at(24, 0, 10), "notify:customers": NO_DEADLINE,
    }
    await drive.type(at(23, 23, 58), "/update internal SEV-1 declared")  # promises 00:13
    await drive.type(at(24, 0, 1), "/update public We are investigating")  # the first notice is all it owes
    await drive.type(at(24, 0, 5), "/sev 2")  # a downgrade: the manager's SEV-2 notice is not new
    assert await drive.owed() == {
        "update:internal": at(24, 0, 13), "notify:executives": at(24, 0, 10), "notify:customers": NO_DEADLINE,
    }
    await drive.mark(at(24, 0, 9), "notify:executives")
    await drive.type(at(24, 0, 13), "/update internal holding")
    assert (await drive.owed())["update:internal"] == at(24, 0, 43)  # every 30 minutes at SEV-2
    await drive.type(at(24, 0, 40), "/resolve failed over")
    assert await drive.owed() == {
        "final:internal": at(24, 0, 40),  # SEV-1 was reached: immediately; no status-page row
        "review:schedule-postmortem": at(25, 0, 40),
        "review:complete-postmortem": datetime(2026, 12, 1, 0, 40, tzinfo=UTC),
        "notify:customers": NO_DEADLINE,
    }
    await drive.type(at(24, 0, 52), "/update internal resolved: failed over to the replica")
    done = {d.key: d for d in await drive.duties()}["final:internal"]
    assert done.done_at == at(24, 0, 52) and done.done_at > done.due_at  # posted, 12 minutes late


async def test_seed_003_team_channel_status_page_and_management(drive):
    """Seed 003: the team alerted within the first 15 minutes, then every 30 minutes (P0), 2
    hours (P1), daily (P2); the status page every 30-60 minutes; management at once for a P0 and
    after 4 unresolved hours for a P1; immediate resolution notice; P0/P1 review within 48 hours."""
    await drive.declare(at(23, 23, 30), "P1", "p-levels-003")
    assert await drive.owed() == {
        "update:internal": at(23, 23, 45), "update:public": at(24, 0, 30),
        "notify:management-4h": at(24, 3, 30), "notify:affected-users": NO_DEADLINE,
    }
    await drive.type(at(23, 23, 40), "/update internal P1: logins failing")  # promises 01:40
    assert (await drive.owed())["update:internal"] == at(24, 1, 40)
    await drive.type(at(23, 23, 50), "/sev P0 breach suspected")
    assert await drive.owed() == {
        "update:internal": at(24, 0, 5), "update:public": at(24, 0, 50),
        "notify:management": at(23, 23, 50), "notify:management-4h": at(24, 3, 30),
        "notify:affected-users": NO_DEADLINE,
    }
    await drive.type(at(24, 0, 0), "/update public We are investigating login failures")  # promises 01:00
    await drive.type(at(24, 0, 2), "/update internal P0 now")  # promises 00:32
    await drive.type(at(24, 0, 20), "/sev P2 no breach after all")
    assert await drive.owed() == {
        "update:internal": at(24, 0, 32), "update:public": at(24, 1, 0),
        "notify:management": at(23, 23, 50), "notify:management-4h": at(24, 3, 30),
        "notify:affected-users": NO_DEADLINE,
    }
    await drive.type(at(24, 1, 0), "/resolve certificate renewed")
    assert await drive.owed() == {
        "final:internal": at(24, 1, 0), "final:public": at(24, 2, 0),
        "review:review": at(26, 1, 0),  # P0 reached: 48 hours, not P2's week
        "notify:management": at(23, 23, 50), "notify:affected-users": NO_DEADLINE,
    }  # resolved inside 4 hours: the P1 escalation to management lapsed


async def test_seed_004_channel_every_30_minutes_and_the_resolution_within_2_hours(drive):
    """Seed 004: the incident channel every 30 minutes; SEV-1/SEV-2 status-page notices (no
    deadline); stakeholders told of the resolution within 2 hours; wrap-up in 2 hours; PIR in 48."""
    await drive.declare(at(23, 23, 45), "SEV-2", "sev-levels-004")
    assert await drive.owed() == {"update:internal": at(24, 0, 15), "update:public": NO_DEADLINE}
    await drive.type(at(23, 23, 50), "/sev 1")
    assert await drive.owed() == {"update:internal": at(24, 0, 20), "update:public": NO_DEADLINE}
    await drive.type(at(23, 23, 55), "/update public Investigating - We are looking into failed payments.")
    await drive.type(at(24, 0, 0), "/update internal SEV-1, ETA unknown")
    assert await drive.owed() == {"update:internal": at(24, 0, 30)}
    await drive.type(at(24, 0, 10), "/sev 3")
    assert await drive.owed() == {"update:internal": at(24, 0, 30)}
    await drive.type(at(24, 0, 40), "/resolve rolled back")
    assert await drive.owed() == {
        "final:executive": at(24, 2, 40), "final:public": NO_DEADLINE,
        "review:wrap-up": at(24, 2, 40), "review:review": at(26, 0, 40),
    }
    await drive.type(at(24, 1, 0), "/update public Resolved - payments work again.")
    assert "final:public" in await drive.done()


async def test_the_default_policy_also_owes_the_status_page_a_final_update(drive):
    await drive.declare(at(23, 23, 50), "SEV-2", "default")
    await drive.type(at(24, 0, 10), "/resolve scaled up")
    owed = await drive.owed()
    assert (owed["final:internal"], owed["final:public"]) == (at(24, 0, 25), at(24, 0, 25))  # SEV-2: 15 minutes


async def test_states_and_words_of_a_duty(drive):
    await drive.declare(at(23, 23, 50), "SEV-2", "default")
    [internal] = [d for d in await drive.duties() if d.key == "update:internal"]
    assert internal.due_at == at(24, 0, 5) and internal.kind is DutyKind.UPDATE
    assert internal.state(at(23, 23, 55)) is DutyState.ON_TRACK
    assert internal.state(at(24, 0, 1)) is DutyState.DUE_SOON
    assert internal.state(at(24, 0, 7)) is DutyState.OVERDUE
    assert internal.status_words(at(24, 0, 7)) == "OVERDUE by 02:00" and internal.digits(at(24, 0, 7)) == "+02:00"
    # the date is shown when the deadline is not today
    assert internal.due_words(at(23, 23, 55)) == "due 2026-11-24 00:05 UTC"
    assert internal.due_words(at(24, 0, 1)) == "due 00:05 UTC"
    assert internal.reason(at(24, 0, 1)) == "SEV-2 · since declared 2026-11-23 23:50 UTC"


async def test_marking_duties(drive):
    await drive.declare(at(23, 23, 50), "SEV-1", "default")
    service, incident_id = drive.service, drive.incident_id
    with pytest.raises(NotFoundError, match="owes no duty 'notify:nobody'"):
        await service.mark_duty(incident_id, "notify:nobody", True, "alice")
    with pytest.raises(RuleError, match="done by posting it: /update internal"):
        await service.mark_duty(incident_id, "update:internal", True, "alice")
    with pytest.raises(RuleError, match="already open"):
        await service.mark_duty(incident_id, "notify:executives", False, "alice")
    drive.clock.now = at(24, 0, 1)
    entry = await service.mark_duty(incident_id, "notify:executives", True, "bob", "called the VP")
    assert entry.text == ("Done: notify Executives (engineering manager, VP Engineering) "
                          "(SEV-1, due 00:05 UTC): called the VP")
    assert entry.author == "bob" and entry.data == {"duty": "notify:executives", "done": True}
    with pytest.raises(RuleError, match="already done"):
        await service.mark_duty(incident_id, "notify:executives", True, "alice")
    await service.mark_duty(incident_id, "notify:executives", False, "alice")  # not after all
    assert "notify:executives" in await drive.owed()


async def test_declaring_at_a_severity_records_what_it_owes(drive):
    await drive.declare(at(23, 23, 50), "SEV-1", "default")
    [declared] = await drive.service.entries(drive.incident_id)
    base, _, owed = declared.text.partition(" | Owed: ")
    assert base == "Declared SEV-1 (Critical): Checkout failing"
    assert owed == ("Status page update by 23:50 UTC; Internal update by 23:55 UTC; "
                    "notify Executives (engineering manager, VP Engineering) by 2026-11-24 00:05 UTC; "
                    "notify Affected customers: a proactive email (no deadline)")
    assert [item["key"] for item in declared.data["started"]][:2] == ["update:public", "update:internal"]


async def test_duties_follow_what_another_process_writes(drive, tmp_path):
    """The service reads only the entries appended since it last looked: a severity change and a
    mark written by another connection still reach it, and nothing is counted twice."""
    await drive.declare(at(23, 23, 50), "SEV-3", "default")
    assert set(await drive.owed()) == {"update:internal", "update:public"}
    other = await IncidentService.open(tmp_path / "duties.db", PolicyBook.load(None), drive.clock)
    try:
        drive.clock.now = at(23, 23, 55)
        await other.execute(drive.incident_id, "/sev 1", "bob")
        await other.execute(drive.incident_id, "note in between", "bob")
        assert (await drive.owed())["notify:executives"] == at(24, 0, 10)
        drive.clock.now = at(23, 23, 57)
        await other.mark_duty(drive.incident_id, "notify:executives", True, "bob")
        await other.execute(drive.incident_id, "/sev 2", "bob")
    finally:
        await other.close()
    record = await drive.service.duty_record(await drive.service.incident(drive.incident_id))
    assert [step.severity for step in record.steps] == ["SEV-3", "SEV-1", "SEV-2"]
    assert record.marks == {"notify:executives": at(23, 23, 57)}
