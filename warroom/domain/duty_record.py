"""The part of an incident's record its duties derive from (warroom.domain.duties): the severity
steps from the declaration on, the updates posted, the resolution and the duties marked done, read
from its severity and duty entries, its updates and its milestones."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterable

from warroom.domain.models import Entry, EntryKind, Incident, Milestone, StatusUpdate

DUTY_ENTRY_KINDS = (EntryKind.SEVERITY, EntryKind.DUTY)
"""The entry kinds duties are derived from (with the updates and the incident's milestones)."""


@dataclass(frozen=True, slots=True)
class SeverityStep:
    """The incident at `severity` from `at` (the first step is the declaration)."""

    at: datetime
    severity: str


@dataclass(frozen=True, slots=True)
class DutyRecord:
    """The part of an incident's record duties are derived from."""

    severity: str  # the current severity
    steps: tuple[SeverityStep, ...]
    updates: tuple[StatusUpdate, ...]
    resolved_at: datetime | None
    marks: dict[str, datetime] = field(default_factory=dict)  # duty key -> when it was marked done

    @property
    def declared_at(self) -> datetime:
        return self.steps[0].at

    def with_severity(self, severity: str, at: datetime) -> "DutyRecord":
        """The record as it will be once the severity changes to `severity` at `at`."""
        step = SeverityStep(max(at, self.steps[-1].at), severity)
        return replace(self, severity=severity, steps=(*self.steps, step))


def declared_record(severity: str, at: datetime) -> DutyRecord:
    """The record of an incident declared at `severity` at `at`, before anything else happened."""
    return DutyRecord(severity, (SeverityStep(at, severity),), (), None)


def duty_mark(entry: Entry) -> tuple[str, bool] | None:
    """(duty key, done) when `entry` marks a duty done or not done, else None."""
    data = entry.data or {}
    if entry.kind is EntryKind.DUTY and isinstance(data.get("duty"), str) and isinstance(data.get("done"), bool):
        return data["duty"], data["done"]
    return None


def duty_record(incident: Incident, entries: Iterable[Entry], updates: Iterable[StatusUpdate]) -> DutyRecord:
    """The duty-relevant facts of an incident from its severity and duty entries and its updates
    (entries of other kinds are ignored)."""
    ordered = sorted(entries, key=lambda e: e.number)
    changes = [e for e in ordered if e.kind is EntryKind.SEVERITY and (e.data or {}).get("to")]
    declared = (changes[0].data or {}).get("from") or incident.severity if changes else incident.severity
    steps = [SeverityStep(incident.created_at, declared)]
    for entry in changes:
        steps.append(SeverityStep(max(entry.occurred_at, steps[-1].at), entry.data["to"]))
    marks: dict[str, datetime] = {}
    for entry in ordered:
        mark = duty_mark(entry)
        if mark is not None:
            key, done = mark
            if done:
                marks[key] = entry.occurred_at
            else:
                marks.pop(key, None)
    stones = incident.milestones
    resolved_at = stones.get(Milestone.RESOLVED) or stones.get(Milestone.CLOSED)
    return DutyRecord(incident.severity, tuple(steps), tuple(sorted(updates, key=lambda u: (u.posted_at, u.id))),
                      resolved_at, marks)
