"""IncidentService's procedure side: stakeholder updates, checklists, playbooks, resolution and
escalation. A mixin so service.py stays one readable file; nothing here imports textual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable

from warroom.domain import commands as cmd
from warroom.domain.clock import format_moment
from warroom.domain.errors import NotFoundError, ParseError, RuleError
from warroom.domain.models import Entry, EntryKind, Incident, Milestone
from warroom.domain.policy import Checklist, Policy
from warroom.store import procedures as pq
from warroom.store import queries as q
from warroom.store import team_queries as team

if TYPE_CHECKING:  # duties, checklists and escalation are imported where used: a note needs none
    from warroom.domain.checklists import Proof
    from warroom.domain.duties import Duty
    from warroom.domain.duty_record import DutyRecord
    from warroom.domain.escalation import EscalationNotice


@dataclass(frozen=True, slots=True)
class PostedUpdate:
    """A committed update: its timeline entry, its number among the incident's updates (1, 2...)
    and the time promised for the next one."""

    entry: Entry
    sequence: int
    next_update_at: datetime | None


async def read_duty_record(conn, incident: Incident) -> DutyRecord:
    """The facts the incident's duties derive from, read on `conn` (inside a write, the writer's)."""
    from warroom.domain.duty_record import DUTY_ENTRY_KINDS, duty_record

    entries = await q.all_entries(conn, incident.id, DUTY_ENTRY_KINDS)
    return duty_record(incident, entries, await team.list_updates(conn, incident.id))


async def write_duty_mark(conn, incident: Incident, policy: Policy, key: str, done: bool, author: str,
                          now: datetime, note: str = "", at: datetime | None = None) -> Entry:
    """Inside an open write: a `duty` entry marking the duty `key` done (or not done after all),
    at `at` (back-dated) or now. Refused for an unknown key, for updates (posting one is what
    does them) and for no change."""
    from warroom.domain.duties import DutyKind, derive_duties

    duties = derive_duties(policy, await read_duty_record(conn, incident))
    duty = next((d for d in duties if d.key == key), None)
    if duty is None:
        raise NotFoundError(f"{incident.id} owes no duty {key!r}; owed: {', '.join(d.key for d in duties)}")
    if duty.kind in (DutyKind.UPDATE, DutyKind.FINAL):
        raise RuleError(f"{duty.what} is done by posting it: /update {duty.target} TEXT")
    if duty.is_open != done:
        raise RuleError(f"{duty.what} is already {'done' if done else 'open'}")
    due = f"due {format_moment(duty.due_at, now, seconds=False)}" if duty.due_at else "no deadline"
    text = f"{'Done' if done else 'Not done after all'}: {duty.what} ({duty.severity}, {due})"
    if note.strip():
        text += f": {note.strip()}"
    return await q.insert_entry(conn, incident_id=incident.id, occurred_at=at or now, recorded_at=now,
                                author=author, kind=EntryKind.DUTY, text=text, data={"duty": key, "done": done})


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
        from warroom.domain.duties import update_promise

        promise = update_promise(policy, incident, audience, posted_at)
    elif promise <= now:
        raise RuleError(f"the next update must be promised for later than now ({now:%H:%M} UTC)")
    sequence = len(await team.list_updates(conn, incident.id)) + 1
    data = {"audience": audience, "update": sequence,
            "next_update_at": promise.isoformat() if promise else None}
    entry = await q.insert_entry(conn, incident_id=incident.id, occurred_at=posted_at, recorded_at=now,
                                 author=author, kind=EntryKind.UPDATE, text=text, data=data)
    await team.insert_update(conn, incident_id=incident.id, audience=audience, text=text, posted_at=posted_at,
                          author=author, next_update_at=promise, entry_id=entry.id)
    return PostedUpdate(entry, sequence, promise)


class ProcedureMethods:
    """Mixed into IncidentService (which provides db, now(), incident(), policy_of(), policy_for(),
    apply(), and the duty-entry cache `_duty_entries` with its `_duty_lock`)."""

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

    async def checklist_proofs(self, incident_id: str) -> dict[tuple[str, int], Proof]:
        """The checklist items the record already proves (domain.checklists), with when and why."""
        from warroom.domain.checklists import PROOF_KINDS, record_ticks

        return record_ticks(await self.record(incident_id, kinds=PROOF_KINDS))

    async def tick_checklist(self, incident_id: str, checklist_id: str, index: int, done: bool,
                             author: str) -> Entry:
        """Tick (or untick) item `index` of a policy checklist, or step `index` of an attached playbook
        (`playbook:ID`), with a checklist entry saying who and when."""
        from warroom.domain.checklists import PLAYBOOK_STEPS

        policy = await self.policy_of(incident_id)
        checklist = next((c for c in policy.checklist if c.id == checklist_id), None)
        if checklist_id.startswith(PLAYBOOK_STEPS):
            playbook = next((p for p in policy.playbook if p.id == checklist_id.removeprefix(PLAYBOOK_STEPS)), None)
            if playbook is None or playbook.id not in await self.attached_playbooks(incident_id):
                raise NotFoundError(f"no attached playbook {checklist_id.removeprefix(PLAYBOOK_STEPS)!r}")
            checklist = Checklist(id=checklist_id, title=f"Playbook {playbook.title}", items=playbook.steps)
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

    # ---- duties (warroom.domain.duties) ---------------------------------------------------------

    async def duty_record(self, incident: Incident) -> DutyRecord:
        """The facts the incident's duties derive from: severity and duty entries, updates, milestones.

        The entries are kept per incident and only what was appended since the last call is read
        (entries never change once written), so a screen can ask every time the record changes."""
        from warroom.domain.duty_record import DUTY_ENTRY_KINDS, duty_record

        reader = self.db.reader
        async with self._duty_lock:
            seen, known = self._duty_entries.get(incident.id, (0, ()))
            upto = await q.max_entry_id(reader)
            if not seen:
                new = [e for e in await q.all_entries(reader, incident.id, DUTY_ENTRY_KINDS) if e.id <= upto]
            else:
                new = await q.entries_between(reader, incident.id, seen, upto, DUTY_ENTRY_KINDS)
            known = (*known, *new)
            self._duty_entries[incident.id] = (upto, known)
        return duty_record(incident, known, await team.list_updates(reader, incident.id))

    async def duties(self, incident: Incident) -> list[Duty]:
        """Every duty the incident's policy implies, done ones included (see domain.duties)."""
        from warroom.domain.duties import derive_duties

        return derive_duties(self.policy_for(incident), await self.duty_record(incident))

    async def first_duties(self, incidents: Iterable[Incident]) -> dict[str, Duty | None]:
        """Each incident's open duty due first, whatever its kind (None: nothing owed)."""
        from warroom.domain.standing import first_owed

        return {incident.id: first_owed(await self.duties(incident)) for incident in incidents}

    async def escalation_for(self, incident: Incident) -> EscalationNotice:
        """The severity, the open duties (whom to tell, which updates, by when) and the paths up."""
        from warroom.domain.duties import derive_duties
        from warroom.domain.escalation import escalation_notice

        record = await self.duty_record(incident)
        policy = self.policy_for(incident)
        return escalation_notice(policy, record, derive_duties(policy, record))

    async def mark_duty(self, incident_id: str, key: str, done: bool, author: str, note: str = "") -> Entry:
        """Record that a notify or review duty (by its key) was done, or was not after all. Updates
        are done by posting them, so they cannot be marked."""
        async with self.db.transaction() as conn:
            incident = await q.get_incident(conn, incident_id)
            return await write_duty_mark(conn, incident, self.policy_for(incident), key, done, author,
                                         self.now(), note)
