"""Applying one parsed command inside one open write transaction.

`CommandWriter.run` dispatches with an exhaustive `match` over the command types of
`warroom.domain.commands`; a new command type that is not handled here fails the type check and,
at run time, raises instead of being ignored. Every rule that must hold whoever typed the command
(entry bar, `warroom log`, the palette) lives here or in the domain, never in a caller.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Callable, assert_never

from warroom.domain import commands as cmd
from warroom.domain.clock import clock_behind, clock_note, to_stored
from warroom.domain.errors import NotFoundError, ParseError, RuleError, SummaryRequired
from warroom.domain.models import FACTS, ActionItem, Entry, EntryKind, Incident, Milestone
from warroom.domain.policy import Policy
from warroom.service.config import Config
from warroom.service.handoff import handoff_summary
from warroom.service.procedures import read_duty_record, write_duty_mark, write_update
from warroom.store import queries as q
from warroom.store import team_queries as team

RESOLUTION_PROMPT = "resolving needs a one-line resolution summary, e.g. /resolve rolled back the deploy"


def commander_role(policy: Policy):
    """The policy's incident-commander role (or its first role when it has none by that name)."""
    return policy.commander_role()


async def assign(conn, incident_id: str, role, person: str, at: datetime, now: datetime, author: str) -> Entry:
    """Seat `person` in `role` from `at`, ending the previous holder's term, and log it."""
    previous = await team.current_holder(conn, incident_id, role.id)
    if previous == person:
        raise RuleError(f"{person} already holds {role.name}")
    await team.assign_role(conn, incident_id, role.id, person, at)
    return await q.insert_entry(
        conn, incident_id=incident_id, occurred_at=at, recorded_at=now,
        author=author, kind=EntryKind.ROLE,
        text=f"{role.name}: {previous or '(unfilled)'} -> {person}",
        data={"role": role.id, "from": previous, "to": person},
    )


async def write_action_done(conn, incident_id: str, item: ActionItem, done: bool, author: str, now: datetime,
                            at: datetime | None = None, number: int | None = None) -> Entry:
    """Inside an open write: action `item` done (or open again), with the action entry saying so."""
    if item.done == done:
        raise RuleError(f"action {number or item.id} is already {'done' if done else 'open'}: {item.text}")
    await team.set_action_done(conn, incident_id, item.id, done)
    return await q.insert_entry(
        conn, incident_id=incident_id, occurred_at=at or now, recorded_at=now, author=author,
        kind=EntryKind.ACTION, text=f"Action {'done' if done else 'reopened'}: {item.text}",
        data={"action_id": item.id, "done": done, **({"action_number": number} if number else {})},
    )


class CommandWriter:
    """Applies one command inside one open transaction; returns the entries it wrote.

    The incident row is read (inside the write lock) only by the commands that depend on its
    state, and the policy (`policy`: the way to it) only by those that use it, so a plain note
    costs one number lookup and one insert, and reads no policy file."""

    def __init__(self, conn, incident_id: str, policy: Callable[[], Policy], author: str, now: datetime,
                 at: datetime, config: Config | None = None):
        self.conn, self.incident_id, self._policy_of = conn, incident_id, policy
        self.author, self.now, self.at = author, now, at
        self.config = config or Config()
        self._incident: Incident | None = None

    @cached_property
    def policy(self) -> Policy:
        """The incident's policy, read when a command first needs it (a plain note never does)."""
        return self._policy_of()

    async def current(self) -> Incident:
        """The incident as it was when this transaction began (read once, on first use)."""
        if self._incident is None:
            self._incident = await q.get_incident(self.conn, self.incident_id)
        return self._incident

    async def entry(self, kind: EntryKind, text: str, data: dict | None = None, corrects: int | None = None) -> Entry:
        return await q.insert_entry(
            self.conn, incident_id=self.incident_id, occurred_at=self.at, recorded_at=self.now,
            author=self.author, kind=kind, text=text, data=data, corrects=corrects,
        )

    async def run(self, command: cmd.AnyCommand) -> list[Entry]:
        match command:
            case cmd.AddEntry():
                return [await self.entry(command.kind, command.text)]
            case cmd.SetSeverity():
                return await self._set_severity(command)
            case cmd.SetStatus():
                return await self._set_status(command)
            case cmd.AssignRole():
                return [await assign(self.conn, self.incident_id, self._role(command.role_id), command.person,
                                     self.at, self.now, self.author)]
            case cmd.Handoff():
                return await self._handoff(command)
            case cmd.AddAction():
                return await self._add_action(command)
            case cmd.SetMilestone():
                return await self._set_milestone(command)
            case cmd.PinEntry():
                return await self._pin(command)
            case cmd.CorrectEntry():
                target = await q.entry_by_number(self.conn, self.incident_id, command.number)
                return [await self.entry(EntryKind.CORRECTION, command.text,
                                         {"corrects_number": target.number}, target.id)]
            case cmd.PostUpdate():
                posted = await write_update(self.conn, await self.current(), self.policy, audience=command.audience,
                                            text=command.text, author=self.author, now=self.now, promise=None,
                                            posted_at=self.at)
                return [posted.entry]
            case cmd.AddProbe():
                return await self._add_probe(command)
            case cmd.PageOnCall():
                return [await self._page_request(command)]
            case cmd.MarkDuty():
                return [await self._mark_duty(command)]
            case cmd.SetActionDone():
                return [await self._action_done(command)]
            case cmd.SetFact():
                return [await self._set_fact(command)]
            case cmd.ChangeServices():
                return [await self._change_services(command)]
            case cmd.ShowHelp():
                raise RuleError("/help writes nothing to the timeline")
            case _:
                assert_never(command)

    async def _set_severity(self, c: cmd.SetSeverity) -> list[Entry]:
        level = self.policy.find_severity(c.severity_id)
        if level is None:
            raise ParseError(f"unknown severity {c.severity_id!r}; valid: {self.policy.severity_names()}")
        old = (await self.current()).severity
        if old == level.id:
            raise RuleError(f"severity is already {old}")
        # What the change starts (whom to notify, which first updates), from the record as it will be.
        from warroom.domain.duties import derive_duties, owed_note, started_at

        record = (await read_duty_record(self.conn, await self.current())).with_severity(level.id, self.at)
        started = started_at(derive_duties(self.policy, record), self.at)
        await q.update_incident(self.conn, self.incident_id, severity=level.id)
        text = f"Severity {old} -> {level.id} ({level.label})"
        if c.reason:
            text += f": {c.reason}"
        text, owed = owed_note(text, started, self.at)
        return [await self.entry(EntryKind.SEVERITY, text, {"from": old, "to": level.id, "reason": c.reason, **owed})]

    async def _set_status(self, c: cmd.SetStatus) -> list[Entry]:
        status = self.policy.find_status(c.status_id)
        if status is None:
            raise ParseError(f"unknown status {c.status_id!r}; valid: {self.policy.status_names()}")
        incident = await self.current()
        if not status.resolved and not incident.is_open:
            return [await self._reopen(status, c.note)]  # also when /close left the status as it was
        if status.id == incident.status:
            raise RuleError(f"status is already {status.label}")
        resolves = status.resolved and Milestone.RESOLVED not in incident.milestones
        if resolves and not c.note.strip():
            raise SummaryRequired(RESOLUTION_PROMPT)
        written = [await self._status_change(status, c.note)]
        if resolves:
            written.append(await self._milestone(Milestone.RESOLVED, ""))
        return written

    async def _status_change(self, status, note: str) -> Entry:
        was = (await self.current()).status
        old = self.policy.find_status(was)
        await q.update_incident(self.conn, self.incident_id, status=status.id)
        text = f"Status {old.label if old else was} -> {status.label}"
        if note:
            text += f": {note}"
        return await self.entry(EntryKind.STATUS, text, {"from": was, "to": status.id})

    async def _reopen(self, status, note: str) -> Entry:
        """A resolved or closed incident set back to an open status: open again, and resolvable again.

        The resolved/closed milestones leave the incident's current state (their entries stay in
        the timeline); the status entry says what was cleared."""
        incident = await self.current()
        stones = incident.milestones
        ended = {m: stones[m] for m in (Milestone.RESOLVED, Milestone.CLOSED) if m in stones}
        await q.clear_milestones(self.conn, self.incident_id, ended)
        old = self.policy.find_status(incident.status)
        old_label = old.label if old else incident.status
        change = f"{old_label} -> {status.label}" if old_label != status.label else f"stays {status.label}"
        text = f"Reopened: status {change}"
        if note:
            text += f": {note}"
        text += " | cleared " + ", ".join(f"{m.label} milestone (was {at:%Y-%m-%d %H:%M:%S} UTC)"
                                          for m, at in ended.items())
        await q.update_incident(self.conn, self.incident_id, status=status.id)
        data = {"from": incident.status, "to": status.id, "reopened": True,
                "cleared": {m.value: to_stored(at) for m, at in ended.items()}}
        return await self.entry(EntryKind.STATUS, text, data)

    async def _handoff(self, c: cmd.Handoff) -> list[Entry]:
        role = self._role(c.role_id)
        assigned = await assign(self.conn, self.incident_id, role, c.person, self.at, self.now, self.author)
        summary = await handoff_summary(self.conn, await self.current(), self.policy, self.now, role.name, c.person)
        return [assigned, await self.entry(EntryKind.ROLE, summary, {"handoff": role.id, "to": c.person})]

    async def _add_action(self, c: cmd.AddAction) -> list[Entry]:
        parts = [c.text]
        if c.owner:
            parts.append(f"owner @{c.owner}")
        if c.due:
            parts.append(f"due {c.due:%Y-%m-%d %H:%M} UTC")
        group = self.policy.find_action_group(c.group) if c.group else None
        if c.group and group is None:
            raise ParseError(f"unknown action group {c.group!r}")
        if group:
            parts.append(f"group {group.label}")
        entry = await self.entry(EntryKind.ACTION, " | ".join(parts),
                                 {"owner": c.owner, "due": c.due.isoformat() if c.due else None,
                                  "group": group.id if group else None})
        await team.insert_action(self.conn, incident_id=self.incident_id, text=c.text, owner=c.owner, due=c.due,
                              created_at=self.now, entry_id=entry.id)
        return [entry]

    async def _set_milestone(self, c: cmd.SetMilestone) -> list[Entry]:
        if c.milestone is Milestone.RESOLVED and not c.note.strip():
            raise SummaryRequired(RESOLUTION_PROMPT)
        written = [await self._milestone(c.milestone, c.note)]
        if c.milestone is Milestone.RESOLVED:
            resolved = next(s for s in self.policy.status if s.resolved)
            if (await self.current()).status != resolved.id:
                written.append(await self._status_change(resolved, ""))
        return written

    async def _milestone(self, milestone: Milestone, note: str) -> Entry:
        stones = (await self.current()).milestones
        from warroom.domain.metrics import milestone_order_problem  # (a note needs no metrics)

        problem = milestone_order_problem(stones, milestone, self.at)
        if problem:
            newest = await q.newest_recorded_at(self.conn, self.incident_id)
            behind = clock_behind(self.now, newest)
            raise RuleError(f"refused: {problem}" + (f" ({clock_note(self.now, newest, behind)})" if behind else ""))
        previous = stones.get(milestone)
        await q.set_milestone(self.conn, self.incident_id, milestone, self.at)
        text = milestone.label.capitalize()
        if previous:
            text += f" (was {previous:%Y-%m-%d %H:%M:%S} UTC)"
        if note:
            text += f": {note}"
        return await self.entry(EntryKind.MILESTONE, text, {"milestone": milestone.value})

    async def _pin(self, c: cmd.PinEntry) -> list[Entry]:
        target = await q.entry_by_number(self.conn, self.incident_id, c.number)
        await q.set_pinned(self.conn, target.id, c.pinned)
        return [replace(target, pinned=c.pinned)]

    async def _add_probe(self, c: cmd.AddProbe) -> list[Entry]:
        from warroom.domain.secrets import literal_secrets
        from warroom.probes.config import format_seconds, make_http_probe
        from warroom.store.probes import attach_probe

        spec = make_http_probe(c.name, c.url)
        written_out = literal_secrets(spec.target)
        if written_out:  # the record keeps the probe: a secret in it would be stored in the clear
            raise ParseError(f"the probe URL holds {' and '.join(written_out)} written out; it would be stored "
                             "in the record. Put it in an environment variable and write ${VAR} instead, "
                             "e.g. https://user:${API_PASSWORD}@host/health?api_key=${API_KEY}")
        added = await attach_probe(self.conn, self.incident_id, spec.name, spec.redacted(), self.now)
        conditions = ", ".join(spec.conditions) or "status < 400"
        text = (f"Probe {spec.name} {'added' if added else 'updated'}: {spec.method} {spec.shown_target} "
                f"every {format_seconds(spec.interval)}; healthy when {conditions}")
        return [await self.entry(EntryKind.PROBE, text, {"probe": spec.redacted(), "added": added})]

    async def _page_request(self, c: cmd.PageOnCall) -> Entry:
        """The request, signed by whoever typed it; `Reach.follow_up` sends it and logs the result."""
        from warroom.service.paging import pagers_named

        pagers = pagers_named(self.config, c.target)
        if not pagers:
            known = ", ".join(p.name for p in self.config.pager)
            raise RuleError(f"no pager named or covering {c.target!r}; " + (
                f"pagers: {known}" if known else "no pagers are configured (see README: Paging)"))
        names = [pager.name for pager in pagers]
        return await self.entry(EntryKind.SYSTEM, f"Paging {', '.join(names)}: {c.reason}",
                                {"page_request": names, "reason": c.reason})

    async def _mark_duty(self, c: cmd.MarkDuty) -> Entry:
        """`/notified PARTY`: the duty it names, among those owed now, marked done."""
        from warroom.domain.duties import derive_duties
        from warroom.domain.standing import find_markable

        incident = await self.current()
        duties = derive_duties(self.policy, await read_duty_record(self.conn, incident))
        duty, note = find_markable(duties, c.party)
        return await write_duty_mark(self.conn, incident, self.policy, duty.key, True, self.author, self.now, note,
                                     at=self.at)

    async def _action_done(self, c: cmd.SetActionDone) -> Entry:
        items = await team.list_actions(self.conn, self.incident_id)
        if not 1 <= c.number <= len(items):
            known = f"actions are numbered 1 to {len(items)} (F4)" if items else "there are no action items yet"
            raise NotFoundError(f"no action item {c.number}: {known}")
        return await write_action_done(self.conn, self.incident_id, items[c.number - 1], c.done, self.author,
                                       self.now, self.at, number=c.number)
    async def _set_fact(self, c: cmd.SetFact) -> Entry:
        """The incident's impact, customer impact or title, current from now; the entry keeps the old value."""
        label = FACTS[c.fact]
        new = " ".join(c.text.split()) if c.fact == "title" else c.text.strip()
        if not new:
            raise ParseError(f"give the {label.lower()}")
        old = getattr(await self.current(), c.fact)
        if old == new:
            raise RuleError(f"the {label.lower()} is already {new!r}")
        await q.update_incident(self.conn, self.incident_id, **{c.fact: new})
        text = f"{label}: {new}" + (f" (was: {old})" if old else "")
        return await self.entry(EntryKind.FACT, text, {"fact": c.fact, "from": old, "to": new})

    async def _change_services(self, c: cmd.ChangeServices) -> Entry:
        """Add or remove affected services (names compared without regard to case)."""
        current = list((await self.current()).services)
        folded = {name.casefold(): name for name in current}
        added = [name for name in c.add if name.casefold() not in folded]
        removed = [folded[name.casefold()] for name in c.remove if name.casefold() in folded]
        if c.add and not added:
            raise RuleError(f"already listed: {', '.join(c.add)}; services: {', '.join(current)}")
        if c.remove and not removed:
            raise RuleError(f"not listed: {', '.join(c.remove)}; services: {', '.join(current) or 'none'}")
        services = [name for name in current if name not in removed] + added
        await q.update_incident(self.conn, self.incident_id, services=tuple(services))
        change = "; ".join(part for part in (f"added {', '.join(added)}" if added else "",
                                             f"removed {', '.join(removed)}" if removed else "") if part)
        text = f"Services: {', '.join(services) or 'none'} ({change})"
        return await self.entry(EntryKind.FACT, text, {"fact": "services", "from": current, "to": services,
                                                        "added": added, "removed": removed})

    def _role(self, role_id: str):
        role = self.policy.find_role(role_id)
        if role is None:
            raise ParseError(f"unknown role {role_id!r}; valid: {self.policy.role_names()}")
        return role
