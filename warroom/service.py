"""The one way into the incident record for the CLI and the UI: parse, validate, write, read.

Each public write is a single transaction. Nothing here imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable

from warroom.domain import commands as cmd
from warroom.domain.cadence import Countdown, countdown
from warroom.domain.clock import Clock, format_duration, system_clock, to_stored
from warroom.domain.errors import ParseError, RuleError
from warroom.domain.escalation import escalation_notice
from warroom.domain.grammar import parse
from warroom.domain.metrics import milestone_order_problem
from warroom.domain.models import (
    ActionItem, Entry, EntryKind, Incident, Milestone, RoleAssignment, StatusUpdate,
)
from warroom.domain.policy import Policy, PolicyBook
from warroom.domain.report import IncidentRecord
from warroom.service_updates import ProcedureMethods, write_update
from warroom.store import Database, open_database
from warroom.store import queries as q


@dataclass(frozen=True, slots=True)
class RoleSeat:
    """One role of the policy and who holds it now (person None: unfilled)."""

    role_id: str
    name: str
    required: bool
    person: str | None
    since: datetime | None
    is_commander: bool = False


class IncidentService(ProcedureMethods):
    """Reads and writes incidents through one database connection."""

    def __init__(self, db: Database, policies: PolicyBook, clock: Clock = system_clock):
        self.db = db
        self.policies = policies
        self.clock = clock

    @classmethod
    async def open(cls, path: Path | str, policies: PolicyBook, clock: Clock = system_clock) -> "IncidentService":
        return cls(await open_database(path), policies, clock)

    async def close(self) -> None:
        await self.db.close()

    def now(self) -> datetime:
        return self.clock()

    # ---- reading -----------------------------------------------------------------------------

    async def incident(self, incident_id: str) -> Incident:
        return await q.get_incident(self.db.reader, incident_id)

    async def incidents(self, include_closed: bool = False) -> list[Incident]:
        found = await q.list_incidents(self.db.reader)
        return found if include_closed else [i for i in found if i.is_open]

    def policy_for(self, incident: Incident) -> Policy:
        return self.policies.get(incident.policy_id)

    async def entries(self, incident_id: str, kinds: Iterable[EntryKind] | None = None) -> list[Entry]:
        return await q.all_entries(self.db.reader, incident_id, kinds)

    async def entries_page(self, incident_id: str, offset: int, limit: int, query: str = "") -> list[Entry]:
        return await q.entries_page(self.db.reader, incident_id, offset, limit, query)

    async def entry_count(self, incident_id: str, query: str = "") -> int:
        return await q.count_entries(self.db.reader, incident_id, query)

    async def last_entry_id(self, incident_id: str) -> int:
        return await q.last_entry_id(self.db.reader, incident_id)

    async def data_version(self) -> int:
        return await self.db.data_version()

    async def role_history(self, incident_id: str) -> list[RoleAssignment]:
        return await q.role_history(self.db.reader, incident_id)

    async def roster(self, incident: Incident) -> list[RoleSeat]:
        """Every role of the incident's policy with its current holder."""
        current = {a.role_id: a for a in await self.role_history(incident.id) if a.ended_at is None}
        policy = self.policy_for(incident)
        commander_id = commander_role(policy).id
        seats = []
        for role in policy.role:
            held = current.get(role.id)
            seats.append(RoleSeat(role.id, role.name, role.required,
                                  held.person if held else None, held.started_at if held else None,
                                  is_commander=role.id == commander_id))
        return seats

    async def updates(self, incident_id: str) -> list[StatusUpdate]:
        return await q.list_updates(self.db.reader, incident_id)

    async def actions(self, incident_id: str) -> list[ActionItem]:
        return await q.list_actions(self.db.reader, incident_id)

    async def record(self, incident_id: str, kinds: Iterable[EntryKind] | None = None) -> IncidentRecord:
        """Everything about one incident, for exports, reports and `warroom show`; with `kinds`, only
        the entries of those kinds (an update draft needs a few kinds, not every note)."""
        incident = await self.incident(incident_id)
        return IncidentRecord(
            incident=incident,
            policy=self.policy_for(incident),
            entries=await self.entries(incident_id, kinds),
            roles=await self.role_history(incident_id),
            updates=await self.updates(incident_id),
            actions=await self.actions(incident_id),
            exported_at=self.now(),
            checklist_ticks=await self.checklist_state(incident_id),
            playbooks=tuple(await self.attached_playbooks(incident_id)),
        )

    async def countdown(self, incident: Incident, now: datetime | None = None) -> Countdown:
        updates = await self.updates(incident.id)
        return countdown(incident, self.policy_for(incident), updates[-1] if updates else None, now or self.now())

    # ---- writing -----------------------------------------------------------------------------

    async def declare(
        self, title: str, severity: str, *, author: str, policy_id: str | None = None,
        commander: str | None = None, services: tuple[str, ...] = (), impact: str = "",
    ) -> Incident:
        """Open a new incident, record the declaration and seat the commander if named."""
        title = title.strip()
        if not title:
            raise ParseError("an incident needs a title")
        policy = self.policies.get(policy_id) if policy_id else self.policies.default
        level = policy.find_severity(severity)
        if level is None:
            raise ParseError(f"unknown severity {severity!r}; valid: {policy.severity_names()}")
        now = self.now()
        status = policy.first_status
        async with self.db.transaction() as conn:
            incident_id = await q.insert_incident(
                conn, title=title, policy_id=policy.id, severity=level.id, status=status.id,
                created_by=author, created_at=now, services=services, impact=impact,
            )
            await q.insert_entry(
                conn, incident_id=incident_id, occurred_at=now, recorded_at=now, author=author,
                kind=EntryKind.SYSTEM, text=f"Declared {level.id} ({level.label}): {title}",
                data={"severity": level.id, "status": status.id, "policy": policy.id, "services": list(services)},
            )
            if commander:
                await _assign(conn, incident_id, commander_role(policy), commander, now, now, author)
        return await self.incident(incident_id)

    async def execute(self, incident_id: str, text: str, author: str) -> list[Entry]:
        """Parse what a person typed and apply it. Returns the entries it wrote."""
        incident = await self.incident(incident_id)
        command = parse(text, self.policy_for(incident), self.now())
        return await self.apply(incident_id, command, author)

    async def apply(self, incident_id: str, command: cmd.Command, author: str) -> list[Entry]:
        now = self.now()
        at = command.occurred_at or now
        async with self.db.transaction() as conn:
            # Read inside the write lock: another process may have changed the incident since.
            incident = await q.get_incident(conn, incident_id)
            writer = _Writer(conn, incident, self.policy_for(incident), author, now, at)
            return await writer.run(command)

    async def set_action_done(self, incident_id: str, action_id: int, done: bool, author: str) -> Entry:
        now = self.now()
        async with self.db.transaction() as conn:
            current = next((a for a in await q.list_actions(conn, incident_id) if a.id == action_id), None)
            if current is not None and current.done == done:
                raise RuleError(f"action {action_id} is already {'done' if done else 'open'}")
            item = await q.set_action_done(conn, incident_id, action_id, done)
            return await q.insert_entry(
                conn, incident_id=incident_id, occurred_at=now, recorded_at=now, author=author,
                kind=EntryKind.ACTION, text=f"Action {'done' if done else 'reopened'}: {item.text}",
                data={"action_id": action_id, "done": done},
            )

    async def record_system(self, incident_id: str, text: str, data: dict | None = None,
                            kind: EntryKind = EntryKind.SYSTEM, author: str = "warroom") -> Entry:
        """A machine-written entry (probe transitions, delivery failures)."""
        now = self.now()
        async with self.db.transaction() as conn:
            return await q.insert_entry(conn, incident_id=incident_id, occurred_at=now, recorded_at=now,
                                        author=author, kind=kind, text=text, data=data)


def commander_role(policy: Policy):
    """The policy's incident-commander role (or its first role when it has none by that name)."""
    return policy.find_role("ic") or policy.find_role("incident commander") or policy.role[0]


async def _assign(conn, incident_id: str, role, person: str, at: datetime, now: datetime, author: str) -> Entry:
    """Seat `person` in `role` from `at`, ending the previous holder's term, and log it."""
    previous = await q.current_holder(conn, incident_id, role.id)
    if previous == person:
        raise RuleError(f"{person} already holds {role.name}")
    await q.assign_role(conn, incident_id, role.id, person, at)
    return await q.insert_entry(
        conn, incident_id=incident_id, occurred_at=at, recorded_at=now,
        author=author, kind=EntryKind.ROLE,
        text=f"{role.name}: {previous or '(unfilled)'} -> {person}",
        data={"role": role.id, "from": previous, "to": person},
    )


class _Writer:
    """Applies one command inside one open transaction."""

    def __init__(self, conn, incident: Incident, policy: Policy, author: str, now: datetime, at: datetime):
        self.conn, self.incident, self.policy = conn, incident, policy
        self.author, self.now, self.at = author, now, at

    async def entry(self, kind: EntryKind, text: str, data: dict | None = None, corrects: int | None = None) -> Entry:
        return await q.insert_entry(
            self.conn, incident_id=self.incident.id, occurred_at=self.at, recorded_at=self.now,
            author=self.author, kind=kind, text=text, data=data, corrects=corrects,
        )

    async def run(self, command: cmd.Command) -> list[Entry]:
        handler = getattr(self, f"_{type(command).__name__}", None)
        if handler is None:
            raise RuleError(f"{type(command).__name__} is not supported here")
        return await handler(command)

    async def _AddEntry(self, c: cmd.AddEntry) -> list[Entry]:
        return [await self.entry(c.kind, c.text)]

    async def _SetSeverity(self, c: cmd.SetSeverity) -> list[Entry]:
        level = self.policy.find_severity(c.severity_id)
        if level is None:
            raise ParseError(f"unknown severity {c.severity_id!r}; valid: {self.policy.severity_names()}")
        old = self.incident.severity
        if old == level.id:
            raise RuleError(f"severity is already {old}")
        await q.update_incident(self.conn, self.incident.id, severity=level.id)
        text = f"Severity {old} -> {level.id} ({level.label})"
        if c.reason:
            text += f": {c.reason}"
        if level.notify:
            text += ". Escalate: " + escalation_notice(self.policy, level.id, self.at).describe_duties()
        data = {"from": old, "to": level.id, "reason": c.reason, "notify": list(level.notify),
                "update_every": level.update_every}
        return [await self.entry(EntryKind.SEVERITY, text, data)]

    async def _SetStatus(self, c: cmd.SetStatus) -> list[Entry]:
        status = self.policy.find_status(c.status_id)
        if status is None:
            raise ParseError(f"unknown status {c.status_id!r}; valid: {self.policy.status_names()}")
        if not status.resolved and not self.incident.is_open:
            return [await self._reopen(status, c.note)]  # also when /close left the status as it was
        if status.id == self.incident.status:
            raise RuleError(f"status is already {status.label}")
        written = [await self._status_change(status, c.note)]
        if status.resolved and Milestone.RESOLVED not in self.incident.milestones:
            written.append(await self._milestone(Milestone.RESOLVED, ""))
        return written

    async def _status_change(self, status, note: str) -> Entry:
        old = self.policy.find_status(self.incident.status)
        await q.update_incident(self.conn, self.incident.id, status=status.id)
        text = f"Status {old.label if old else self.incident.status} -> {status.label}"
        if note:
            text += f": {note}"
        return await self.entry(EntryKind.STATUS, text, {"from": self.incident.status, "to": status.id})

    async def _reopen(self, status, note: str) -> Entry:
        """A resolved or closed incident set back to an open status: open again, and resolvable again.

        The resolved/closed milestones leave the incident's current state (their entries stay in
        the timeline); the status entry says what was cleared."""
        stones = self.incident.milestones
        ended = {m: stones[m] for m in (Milestone.RESOLVED, Milestone.CLOSED) if m in stones}
        await q.clear_milestones(self.conn, self.incident.id, ended)
        old = self.policy.find_status(self.incident.status)
        old_label = old.label if old else self.incident.status
        change = f"{old_label} -> {status.label}" if old_label != status.label else f"stays {status.label}"
        text = f"Reopened: status {change}"
        if note:
            text += f": {note}"
        text += " | cleared " + ", ".join(f"{m.label} milestone (was {at:%Y-%m-%d %H:%M:%S} UTC)"
                                          for m, at in ended.items())
        await q.update_incident(self.conn, self.incident.id, status=status.id)
        data = {"from": self.incident.status, "to": status.id, "reopened": True,
                "cleared": {m.value: to_stored(at) for m, at in ended.items()}}
        return await self.entry(EntryKind.STATUS, text, data)

    async def _AssignRole(self, c: cmd.AssignRole) -> list[Entry]:
        role = self._role(c.role_id)
        return [await _assign(self.conn, self.incident.id, role, c.person, self.at, self.now, self.author)]

    async def _Handoff(self, c: cmd.Handoff) -> list[Entry]:
        role = self._role(c.role_id)
        assigned = await _assign(self.conn, self.incident.id, role, c.person, self.at, self.now, self.author)
        summary = await self._handoff_summary(role.name, c.person)
        return [assigned, await self.entry(EntryKind.ROLE, summary, {"handoff": role.id, "to": c.person})]

    async def _handoff_summary(self, role_name: str, person: str) -> str:
        incident = self.incident
        status = self.policy.find_status(incident.status)
        elapsed = format_duration(self.now - incident.created_at)
        actions = [a for a in await q.list_actions(self.conn, incident.id) if not a.done]
        holders = {a.role_id: a.person for a in await q.role_history(self.conn, incident.id) if a.ended_at is None}
        roster = [f"{r.name}: {holders.get(r.id, '(unfilled)')}" for r in self.policy.role]
        needs = [r.name for r in self.policy.role if r.required and r.id not in holders]
        lines = [
            f"Handoff of {role_name} to {person}.",
            f"Now: {incident.severity}, {status.label if status else incident.status}, {elapsed} since declared.",
            "Actions in flight: " + ("; ".join(f"{a.text} ({a.owner or 'no owner'})" for a in actions) or "none"),
            "Open needs: " + (", ".join(f"{n} unfilled" for n in needs) or "none"),
            "Roster: " + "; ".join(roster),
        ]
        return " | ".join(lines)

    async def _AddAction(self, c: cmd.AddAction) -> list[Entry]:
        parts = [c.text]
        if c.owner:
            parts.append(f"owner @{c.owner}")
        if c.due:
            parts.append(f"due {c.due:%Y-%m-%d %H:%M} UTC")
        entry = await self.entry(EntryKind.ACTION, " | ".join(parts),
                                 {"owner": c.owner, "due": c.due.isoformat() if c.due else None})
        await q.insert_action(self.conn, incident_id=self.incident.id, text=c.text, owner=c.owner, due=c.due,
                              created_at=self.now, entry_id=entry.id)
        return [entry]

    async def _SetMilestone(self, c: cmd.SetMilestone) -> list[Entry]:
        written = [await self._milestone(c.milestone, c.note)]
        if c.milestone is Milestone.RESOLVED:
            resolved = next(s for s in self.policy.status if s.resolved)
            if self.incident.status != resolved.id:
                written.append(await self._status_change(resolved, ""))
        return written

    async def _milestone(self, milestone: Milestone, note: str) -> Entry:
        problem = milestone_order_problem(self.incident.milestones, milestone, self.at)
        if problem:
            raise RuleError(f"refused: {problem}")
        previous = self.incident.milestones.get(milestone)
        await q.set_milestone(self.conn, self.incident.id, milestone, self.at)
        text = milestone.label.capitalize()
        if previous:
            text += f" (was {previous:%Y-%m-%d %H:%M:%S} UTC)"
        if note:
            text += f": {note}"
        return await self.entry(EntryKind.MILESTONE, text, {"milestone": milestone.value})

    async def _PinEntry(self, c: cmd.PinEntry) -> list[Entry]:
        target = await q.entry_by_number(self.conn, self.incident.id, c.number)
        await q.set_pinned(self.conn, target.id, c.pinned)
        return [await q.entry_by_number(self.conn, self.incident.id, c.number)]

    async def _CorrectEntry(self, c: cmd.CorrectEntry) -> list[Entry]:
        target = await q.entry_by_number(self.conn, self.incident.id, c.number)
        return [await self.entry(EntryKind.CORRECTION, c.text, {"corrects_number": target.number}, target.id)]

    async def _PostUpdate(self, c: cmd.PostUpdate) -> list[Entry]:
        posted = await write_update(self.conn, self.incident, self.policy, audience=c.audience, text=c.text,
                                    author=self.author, now=self.now, promise=None, posted_at=self.at)
        return [posted.entry]

    async def _AddProbe(self, c: cmd.AddProbe) -> list[Entry]:
        from warroom.probes.config import format_seconds, make_http_probe
        from warroom.store.probes import attach_probe

        spec = make_http_probe(c.name, c.url)
        added = await attach_probe(self.conn, self.incident.id, spec, self.now)
        conditions = ", ".join(spec.conditions) or "status < 400"
        text = (f"Probe {spec.name} {'added' if added else 'updated'}: {spec.method} {spec.target} "
                f"every {format_seconds(spec.interval)}; healthy when {conditions}")
        return [await self.entry(EntryKind.PROBE, text, {"probe": spec.redacted(), "added": added})]

    def _role(self, role_id: str):
        role = self.policy.find_role(role_id)
        if role is None:
            raise ParseError(f"unknown role {role_id!r}; valid: {self.policy.role_names()}")
        return role

