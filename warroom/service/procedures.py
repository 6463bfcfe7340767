"""IncidentService's procedure side: stakeholder updates, checklists, playbooks, resolution and
escalation. A mixin so service.py stays one readable file; nothing here imports textual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warroom.domain import commands as cmd
from warroom.domain.errors import NotFoundError, ParseError, RuleError
from warroom.domain.escalation import EscalationNotice, escalation_notice
from warroom.domain.models import Entry, EntryKind, Incident, Milestone
from warroom.domain.policy import Policy
from warroom.domain.updates import next_update_promise
from warroom.store import procedures as pq
from warroom.store import queries as q


@dataclass(frozen=True, slots=True)
class PostedUpdate:
    """A committed update: its timeline entry, its number among the incident's updates (1, 2...)
    and the time promised for the next one."""

    entry: Entry
    sequence: int
    next_update_at: datetime | None


def check_audience(policy: Policy, audience: str) -> None:
    known = [a.id for a in policy.audience] or ["internal"]
    if audience not in known:
        raise ParseError(f"unknown audience {audience!r}; valid: {', '.join(known)}")


async def write_update(
    conn, incident: Incident, policy: Policy, *, audience: str, text: str, author: str, now: datetime,
    promise: datetime | None, posted_at: datetime | None = None,
) -> PostedUpdate:
    """Record one posted update (entry + update row) inside an open transaction. A promise of None
    means the policy's cadence from `posted_at` (default now; earlier for a back-dated update)."""
    text = text.strip()
    if not text:
        raise ParseError("the update is empty")
    check_audience(policy, audience)
    posted_at = posted_at or now
    if promise is None:
        promise = next_update_promise(incident, policy, posted_at)
    elif promise <= now:
        raise RuleError(f"the next update must be promised for later than now ({now:%H:%M} UTC)")
    sequence = len(await q.list_updates(conn, incident.id)) + 1
    data = {"audience": audience, "update": sequence,
            "next_update_at": promise.isoformat() if promise else None}
    entry = await q.insert_entry(conn, incident_id=incident.id, occurred_at=posted_at, recorded_at=now,
                                 author=author, kind=EntryKind.UPDATE, text=text, data=data)
    await q.insert_update(conn, incident_id=incident.id, audience=audience, text=text, posted_at=posted_at,
                          author=author, next_update_at=promise, entry_id=entry.id)
    return PostedUpdate(entry, sequence, promise)


class ProcedureMethods:
    """Mixed into IncidentService (which provides db, now(), incident(), policy_of(), policy_for(), apply())."""

    async def post_update(self, incident_id: str, audience: str, text: str, author: str,
                          next_update_at: datetime | None = None) -> PostedUpdate:
        """Commit an update before anything is delivered; the countdown restarts from it."""
        policy = await self.policy_of(incident_id)
        async with self.db.transaction() as conn:
            incident = await q.get_incident(conn, incident_id)  # its severity now sets the cadence
            return await write_update(conn, incident, policy, audience=audience, text=text, author=author,
                                      now=self.now(), promise=next_update_at)

    async def checklist_state(self, incident_id: str) -> dict[tuple[str, int], bool]:
        return await pq.checklist_ticks(self.db.reader, incident_id)

    async def checklist_tick_entries(self, incident_id: str) -> dict[tuple[str, int], Entry]:
        """The entry that last ticked or unticked each checklist item: who and when."""
        return await pq.checklist_tick_entries(self.db.reader, incident_id)

    async def tick_checklist(self, incident_id: str, checklist_id: str, index: int, done: bool,
                             author: str) -> Entry:
        """Tick (or untick) item `index` of a policy checklist, with a checklist entry saying who and when."""
        checklist = next((c for c in (await self.policy_of(incident_id)).checklist if c.id == checklist_id), None)
        if checklist is None:
            raise NotFoundError(f"the policy has no checklist {checklist_id!r}")
        if not 0 <= index < len(checklist.items):
            raise NotFoundError(f"checklist {checklist.title!r} has no item {index + 1}")
        now = self.now()
        async with self.db.transaction() as conn:
            current = (await pq.checklist_ticks(conn, incident_id)).get((checklist_id, index), False)
            if current == done:
                raise RuleError(f"{checklist.items[index]!r} is already {'ticked' if done else 'open'}")
            entry = await q.insert_entry(
                conn, incident_id=incident_id, occurred_at=now, recorded_at=now, author=author,
                kind=EntryKind.CHECKLIST,
                text=f"{'Ticked' if done else 'Unticked'} {checklist.title}: {checklist.items[index]}",
                data={"checklist": checklist_id, "item": index, "done": done},
            )
            await pq.set_checklist_tick(conn, incident_id, checklist_id, index, done, entry.id)
            return entry

    async def attached_playbooks(self, incident_id: str) -> list[str]:
        return await pq.attached_playbooks(self.db.reader, incident_id)

    async def attach_playbook(self, incident_id: str, playbook_id: str, author: str) -> Entry:
        playbook = next((p for p in (await self.policy_of(incident_id)).playbook if p.id == playbook_id), None)
        if playbook is None:
            raise NotFoundError(f"the policy has no playbook {playbook_id!r}")
        now = self.now()
        async with self.db.transaction() as conn:
            if not await pq.attach_playbook(conn, incident_id, playbook_id):
                raise RuleError(f"playbook {playbook.title!r} is already attached")
            return await q.insert_entry(
                conn, incident_id=incident_id, occurred_at=now, recorded_at=now, author=author,
                kind=EntryKind.CHECKLIST, text=f"Attached playbook: {playbook.title} ({len(playbook.steps)} steps)",
                data={"playbook": playbook_id},
            )

    async def resolve(self, incident_id: str, summary: str, author: str) -> list[Entry]:
        """Mark the incident resolved now with a one-line resolution summary (status follows)."""
        summary = " ".join(summary.split())
        if not summary:
            raise ParseError("resolving needs a one-line resolution summary")
        incident = await self.incident(incident_id)
        if Milestone.RESOLVED in incident.milestones:
            raise RuleError(f"{incident_id} is already resolved "
                            f"({incident.milestones[Milestone.RESOLVED]:%Y-%m-%d %H:%M} UTC)")
        return await self.apply(incident_id, cmd.SetMilestone(milestone=Milestone.RESOLVED, note=summary), author)

    def escalation_for(self, incident: Incident, severity_id: str | None = None,
                       at: datetime | None = None) -> EscalationNotice:
        """Who the policy says must be told at `severity_id` (default: the incident's), by when."""
        return escalation_notice(self.policy_for(incident), severity_id or incident.severity, at or self.now())
