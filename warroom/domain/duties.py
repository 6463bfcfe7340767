"""Every duty an incident's policy implies, derived from the record (the part of it they derive
from: warroom.domain.duty_record): no table of its own.

A duty is an update owed to an audience (its next one while the incident is open, its final one
once it is resolved), a party to notify, or a review to hold. Each knows what started its clock
(the declaration, a severity reached, the resolution, the last update to that audience or the
time that update promised), when it is due, and whether it is done:

- update to an audience, while open: until the audience has had an update since the declaration
  or the last raise of the severity, the audience's `first` deadline (else its `every`) from that
  moment, at the level reached then (a later downgrade does not forgive it); afterwards `every`
  at the current level from the last update to that audience. A promise made in that update
  ("Next update at 10:30") brings it forward.
- final update to an audience: the audience's `final` deadline from the resolution; done by any
  update to that audience posted since. Timed by the highest severity reached.
- `[[duty]]` tables, each owed at most once: `starts = "severity"` from the first time the
  incident reaches one of its levels as a new peak (the declaration counts; a downgrade starts
  nothing; a later raise to another of its levels can only bring the deadline forward);
  "declared" by the declared level; "resolved" by the highest level reached. Done when marked
  with a `duty` entry (`duty_mark`); an `if_unresolved` duty lapses if the incident was resolved
  before it fell due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Iterable

from warroom.domain.clock import UTC, format_clock, format_moment
from warroom.domain.duty_record import DutyRecord, SeverityStep
from warroom.domain.models import Incident, StatusUpdate
from warroom.domain.policy import Audience, Owed, Policy, PolicyDuty

WARNING_WINDOW = timedelta(minutes=5)


class DutyKind(StrEnum):
    UPDATE = "update"  # the next update to an audience
    FINAL = "final update"  # the update that says it is resolved
    NOTIFY = "notify"  # tell a party
    REVIEW = "review"  # a post-incident review step


class Origin(StrEnum):
    """What started a duty's clock."""

    DECLARED = "declared"
    SEVERITY = "severity reached"
    RESOLVED = "resolved"
    LAST_UPDATE = "last update"
    PROMISE = "promised in the last update"


_ORIGIN_WORDS = {Origin.DECLARED: "since declared", Origin.SEVERITY: "since raised", Origin.RESOLVED: "since resolved",
                 Origin.LAST_UPDATE: "since the last update", Origin.PROMISE: "promised"}


class DutyState(StrEnum):
    DONE = "done"
    OVERDUE = "overdue"
    DUE_SOON = "due soon"
    ON_TRACK = "on track"
    OPEN = "open"  # owed, with no deadline

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]


_GLYPHS = {DutyState.DONE: "✓", DutyState.OVERDUE: "⚠", DutyState.DUE_SOON: "⏰", DutyState.ON_TRACK: "◷",
           DutyState.OPEN: "○"}


@dataclass(frozen=True, slots=True)
class Duty:
    """One thing the policy says must happen, and by when (due_at None: no deadline)."""

    key: str  # stable: "update:internal", "final:public", "notify:executives", "review:postmortem"
    kind: DutyKind
    target: str  # the audience id, or the policy's [[duty]] id
    label: str  # the audience's or the duty's label
    severity: str  # the level whose rule sets it
    origin: Origin
    origin_at: datetime
    due_at: datetime | None
    done_at: datetime | None = None
    if_unresolved: bool = False

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    def state(self, now: datetime) -> DutyState:
        if self.done_at is not None:
            return DutyState.DONE
        if self.due_at is None:
            return DutyState.OPEN
        if now > self.due_at:
            return DutyState.OVERDUE
        if self.due_at - now <= WARNING_WINDOW:
            return DutyState.DUE_SOON
        return DutyState.ON_TRACK

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left until due (negative once overdue); None without a deadline."""
        return None if self.due_at is None else self.due_at - now

    @property
    def what(self) -> str:
        """'Internal update', 'Status page final update', 'notify Executives', 'Book the post-mortem'."""
        if self.kind is DutyKind.UPDATE:
            return f"{self.label} update"
        if self.kind is DutyKind.FINAL:
            return f"{self.label} final update"
        if self.kind is DutyKind.NOTIFY:
            return f"notify {self.label}"
        return self.label

    def digits(self, now: datetime) -> str:
        """'12:30' left, '+03:10' overdue, '--:--' without a deadline."""
        left = self.remaining(now)
        if left is None or self.done_at is not None:
            return "--:--"
        return ("+" if left < timedelta(0) else "") + format_clock(left)

    def due_words(self, now: datetime) -> str:
        """'due 14:15 UTC', 'due 2026-11-24 14:15 UTC', 'no deadline', 'done 14:12 UTC'."""
        if self.done_at is not None:
            return f"done {format_moment(self.done_at, now, seconds=False)}"
        if self.due_at is None:
            return "no deadline"
        return f"due {format_moment(self.due_at, now, seconds=False)}"

    def status_words(self, now: datetime) -> str:
        """'OVERDUE by 03:10', 'due soon, in 04:00', 'in 12:30', 'no deadline', 'done'."""
        state = self.state(now)
        if state is DutyState.OVERDUE:
            return f"OVERDUE by {self.digits(now)[1:]}"
        if state is DutyState.DUE_SOON:
            return f"due soon, in {self.digits(now)}"
        if state is DutyState.ON_TRACK:
            return f"in {self.digits(now)}"
        return "no deadline" if state is DutyState.OPEN else "done"

    def reason(self, now: datetime) -> str:
        """The level whose rule sets it and what started the clock: 'SEV-2 · promised 14:00 UTC',
        'SEV-1 · since raised 2026-11-23 23:55 UTC, if still unresolved'."""
        when = format_moment(self.origin_at, now, seconds=False)
        condition = ", if still unresolved" if self.if_unresolved else ""
        return f"{self.severity} · {_ORIGIN_WORDS[self.origin]} {when}{condition}"



def peak_severity(policy: Policy, record: DutyRecord) -> str:
    """The most severe level the incident has reached."""
    return min((step.severity for step in record.steps), key=policy.rank)


def _last_update(record: DutyRecord, audience: str) -> StatusUpdate | None:
    return next((u for u in reversed(record.updates) if u.audience == audience), None)


def _last_raise(policy: Policy, record: DutyRecord) -> SeverityStep:
    """The declaration or the latest step that raised the severity, whichever is later."""
    start = record.steps[0]
    for before, step in zip(record.steps, record.steps[1:]):
        if policy.rank(step.severity) < policy.rank(before.severity):
            start = step
    return start


def _first_owed(audience: Audience, severity: str, start: datetime) -> tuple[datetime | None, str] | None:
    """(due, level) of the first update owed at `severity` from `start`: its `first`, else its `every`."""
    first = audience.first_owed(severity)
    if first is not None:
        return _after(start, first), severity
    every = audience.cadence(severity)
    return (start + every, severity) if every is not None else None


def _next_update(policy: Policy, record: DutyRecord, audience: Audience) -> Duty | None:
    """The next update owed to `audience`. Until it has had one since the declaration or the last
    raise, the first update is timed by the level of that moment (a downgrade since does not
    forgive it); after that, by the current level's cadence from the last update."""
    start = _last_raise(policy, record)
    start_origin = Origin.DECLARED if start is record.steps[0] else Origin.SEVERITY
    last = _last_update(record, audience.id)
    candidates: list[tuple[datetime | None, Origin, datetime, str]] = []
    if last is None or last.posted_at < start.at:
        first = _first_owed(audience, start.severity, start.at) or _first_owed(audience, record.severity, start.at)
        if first is not None:
            candidates.append((first[0], start_origin, start.at, first[1]))
    elif (every := audience.cadence(record.severity)) is not None:
        candidates.append((last.posted_at + every, Origin.LAST_UPDATE, last.posted_at, record.severity))
    if last is not None and last.next_update_at is not None:
        candidates.append((last.next_update_at, Origin.PROMISE, last.posted_at, record.severity))
    if not candidates:
        return None
    timed = [c for c in candidates if c[0] is not None]
    due, origin, origin_at, severity = min(timed, key=lambda c: c[0]) if timed else candidates[0]
    return Duty(f"update:{audience.id}", DutyKind.UPDATE, audience.id, audience.label, severity, origin,
                origin_at, due)


def _final_update(policy: Policy, record: DutyRecord, audience: Audience, resolved_at: datetime) -> Duty | None:
    peak = peak_severity(policy, record)
    owed = audience.final_owed(peak)
    if owed is None:
        return None
    done = next((u.posted_at for u in record.updates if u.audience == audience.id and u.posted_at >= resolved_at),
                None)
    return Duty(f"final:{audience.id}", DutyKind.FINAL, audience.id, audience.label, peak, Origin.RESOLVED,
                resolved_at, _after(resolved_at, owed), done)


def _after(moment: datetime, owed: Owed) -> datetime | None:
    return None if owed.within is None else moment + owed.within


def _policy_duties(policy: Policy, record: DutyRecord, rule: PolicyDuty) -> list[Duty]:
    """The one duty a [[duty]] table owes (or none). `starts = "severity"`: from the first time the
    incident reaches one of the rule's levels as a new peak; a later raise to another of them
    can only bring the deadline forward."""
    kind = DutyKind.NOTIFY if rule.kind == "notify" else DutyKind.REVIEW
    starts: list[tuple[str, Origin, datetime]] = []  # (severity, origin, at), in time order
    if rule.starts == "severity":
        best = None
        for index, step in enumerate(record.steps):
            rank = policy.rank(step.severity)
            if best is None or rank < best:
                best = rank
                starts.append((step.severity, Origin.DECLARED if index == 0 else Origin.SEVERITY, step.at))
    elif rule.starts == "declared":
        starts.append((record.steps[0].severity, Origin.DECLARED, record.steps[0].at))
    elif record.resolved_at is not None:
        starts.append((peak_severity(policy, record), Origin.RESOLVED, record.resolved_at))
    chosen: tuple[str, Origin, datetime, datetime | None] | None = None
    for severity, origin, at in starts:
        owed = rule.owed(severity)
        if owed is None:
            continue
        due = _after(at, owed)
        if chosen is None or (due is not None and (chosen[3] is None or due < chosen[3])):
            chosen = (severity, origin, at, due)
    if chosen is None:
        return []
    severity, origin, at, due = chosen
    if rule.if_unresolved and record.resolved_at is not None and (due is None or record.resolved_at <= due):
        return []  # resolved before it fell due: it lapsed
    key = f"{kind.name.lower()}:{rule.id}"
    return [Duty(key, kind, rule.id, rule.label, severity, origin, at, due, record.marks.get(key), rule.if_unresolved)]


def derive_duties(policy: Policy, record: DutyRecord) -> list[Duty]:
    """Every duty the policy implies for this record, done ones included, in the policy's order:
    audiences (next or final update), then the [[duty]] tables."""
    found: list[Duty] = []
    for audience in policy.audience:
        if record.resolved_at is None:
            duty = _next_update(policy, record, audience)
        else:
            duty = _final_update(policy, record, audience, record.resolved_at)
        if duty is not None:
            found.append(duty)
    for rule in policy.duty:
        found += _policy_duties(policy, record, rule)
    return found


def owed_when_posted(policy: Policy, record: DutyRecord, update: StatusUpdate) -> Duty | None:
    """The duty `update` answered: the next (or final) update its audience was owed just before it
    was posted, derived from the record as it stood then. None when nothing was owed."""
    moment = update.posted_at
    steps = tuple(step for step in record.steps if step.at <= moment) or record.steps[:1]
    earlier = tuple(u for u in record.updates if (u.posted_at, u.id) < (moment, update.id))
    resolved = record.resolved_at if record.resolved_at is not None and record.resolved_at <= moment else None
    then = DutyRecord(steps[-1].severity, steps, earlier, resolved)
    audience = policy.find_audience(update.audience)
    if audience is None:
        return None
    if resolved is None:
        return _next_update(policy, then, audience)
    final = _final_update(policy, then, audience, resolved)
    return final if final is not None and final.done_at is None else None


def by_urgency(duties: Iterable[Duty]) -> list[Duty]:
    """Open duties first, soonest (most overdue) due first, those without a deadline after them;
    done ones last, in the order they were done."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(duties, key=lambda d: (not d.is_open, d.due_at or far, d.done_at or far))


def open_duties(duties: Iterable[Duty]) -> list[Duty]:
    """The open duties, most urgent first."""
    return [d for d in by_urgency(duties) if d.is_open]


def started_at(duties: Iterable[Duty], moment: datetime) -> list[Duty]:
    """The open duties whose clock a declaration or severity change at `moment` started."""
    return [d for d in open_duties(duties)
            if d.origin_at == moment and d.origin in (Origin.DECLARED, Origin.SEVERITY)]


def update_promise(policy: Policy, incident: Incident, audience: str, at: datetime) -> datetime | None:
    """When the update after one posted to `audience` at `at` is owed: `at` plus the audience's
    cadence at the current severity, on the minute (never later than the cadence allows). None
    when the incident is over or the audience has no cadence at this severity."""
    found = policy.find_audience(audience)
    if not incident.is_open or found is None:
        return None
    every = found.cadence(incident.severity)
    if every is None:
        return None
    return (at + every).astimezone(UTC).replace(second=0, microsecond=0)


def describe(duties: Iterable[Duty], now: datetime) -> str:
    """'notify Executives by 14:15 UTC; Internal update by 14:05 UTC; notify Customers (no deadline)'."""
    parts = []
    for duty in duties:
        when = f" by {format_moment(duty.due_at, now, seconds=False)}" if duty.due_at else " (no deadline)"
        parts.append(duty.what + when)
    return "; ".join(parts)


OWED_SEPARATOR = " | Owed: "


def owed_note(text: str, started: list[Duty], at: datetime) -> tuple[str, dict]:
    """The declaration's or severity change's entry text with what it started appended
    (' | Owed: notify Executives by 14:15 UTC; ...'), and the entry data that lists it:
    `started` (key, what, due_at per duty) and `text_length`, the length of the text before the
    list, so a report can quote the change without it."""
    if not started:
        return text, {}
    data = {"started": [{"key": d.key, "what": d.what, "due_at": d.due_at.isoformat() if d.due_at else None}
                        for d in started], "text_length": len(text)}
    return text + OWED_SEPARATOR + describe(started, at), data


def text_without_owed_note(text: str, data: dict | None) -> str:
    """`text` (of an entry with `data`) without the owed list `owed_note` appended to it."""
    length = (data or {}).get("text_length")
    return text[:length] if isinstance(length, int) and (data or {}).get("started") else text
