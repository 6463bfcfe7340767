"""An incident as it stood at a moment of its past, derived from its record: what a replay shows.

The incident row holds only the present (severity, status, milestones); the timeline holds how it
got there. `incident_as_of` rewinds the row with the severity, status and milestone entries that
had happened by then; `roles_as_of` does the same for the role history. `replay_points` are the
moments a replay can jump to, `replay_start` reads `--from`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable

from warroom.domain.clock import UTC, parse_duration
from warroom.domain.models import Entry, EntryKind, Incident, Milestone, RoleAssignment, StatusUpdate

MARK_KINDS = (EntryKind.SEVERITY, EntryKind.STATUS, EntryKind.MILESTONE)
"""The entry kinds the incident row's changing fields are rewound with."""

_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
_STAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?[Zz]?")


def _ordered(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.occurred_at, e.number))


def _changes(marks: list[Entry], kind: EntryKind) -> list[Entry]:
    return [e for e in marks if e.kind is kind and isinstance((e.data or {}).get("to"), str)]


def _as_of(changes: list[Entry], moment: datetime, now_value: str) -> str:
    """The value at `moment`: the last change by then, else what the first later change came from."""
    done = [e for e in changes if e.occurred_at <= moment]
    if done:
        return done[-1].data["to"]
    if changes:
        return (changes[0].data or {}).get("from") or now_value
    return now_value


def incident_as_of(incident: Incident, marks: Iterable[Entry], moment: datetime) -> Incident:
    """`incident` as it stood at `moment`: severity, status and milestones from the entries of
    MARK_KINDS (all of them, later ones too: a later change says what came before it)."""
    ordered = _ordered(e for e in marks if e.kind in MARK_KINDS)
    severity = _as_of(_changes(ordered, EntryKind.SEVERITY), moment, incident.severity)
    status = _as_of(_changes(ordered, EntryKind.STATUS), moment, incident.status)
    stones: dict[Milestone, datetime] = {}
    logged: set[Milestone] = set()
    for entry in ordered:
        data = entry.data or {}
        if entry.kind is EntryKind.MILESTONE and data.get("milestone") in Milestone._value2member_map_:
            logged.add(Milestone(data["milestone"]))
            if entry.occurred_at <= moment:
                stones[Milestone(data["milestone"])] = entry.occurred_at
        elif entry.kind is EntryKind.STATUS and entry.occurred_at <= moment and isinstance(data.get("cleared"), dict):
            for name in data["cleared"]:
                if name in Milestone._value2member_map_:
                    stones.pop(Milestone(name), None)
    for milestone, at in incident.milestones.items():  # set without an entry (older files): by its time
        if milestone not in logged and at <= moment:
            stones[milestone] = at
    return replace(incident, severity=severity, status=status,
                   milestones={m: stones[m] for m in Milestone if m in stones})


def roles_as_of(history: Iterable[RoleAssignment], moment: datetime) -> list[RoleAssignment]:
    """The role terms begun by `moment`, those ended after it shown as still running."""
    return [term if term.ended_at is None or term.ended_at <= moment else replace(term, ended_at=None)
            for term in history if term.started_at <= moment]


def updates_as_of(updates: Iterable[StatusUpdate], moment: datetime) -> list[StatusUpdate]:
    return [update for update in updates if update.posted_at <= moment]


@dataclass(frozen=True, slots=True)
class ReplayPoint:
    """A moment a replay can jump to: the declaration, a milestone, a severity or status change."""

    at: datetime
    label: str


def replay_points(incident: Incident, marks: Iterable[Entry]) -> list[ReplayPoint]:
    """Every milestone-like moment of the incident, in time order."""
    points = [ReplayPoint(incident.created_at, f"declared {incident.id}")]
    for entry in _ordered(marks):
        data = entry.data or {}
        if entry.kind is EntryKind.MILESTONE and data.get("milestone") in Milestone._value2member_map_:
            points.append(ReplayPoint(entry.occurred_at, Milestone(data["milestone"]).label))
        elif entry.kind is EntryKind.SEVERITY and data.get("to"):
            points.append(ReplayPoint(entry.occurred_at, f"severity {data.get('from') or '?'} -> {data['to']}"))
        elif entry.kind is EntryKind.STATUS and data.get("to"):
            points.append(ReplayPoint(entry.occurred_at, f"status {data['to']}"))
    return sorted(points, key=lambda point: point.at)


def replay_start(text: str, first: datetime, points: Iterable[ReplayPoint] = ()) -> datetime:
    """Where `--from` starts a replay: '+10m' after the first moment, '14:02' or '14:02:30' (UTC, on
    the first moment's day), '2026-11-23T14:02' (UTC), or the name of a point ('acknowledged',
    'mitigated'). ValueError says which forms work."""
    text = text.strip()
    if text.startswith("+"):
        return first + parse_duration(text[1:])
    stamp = _STAMP.fullmatch(text)
    if stamp:
        year, month, day, hour, minute, second = (int(part or 0) for part in stamp.groups())
        return _checked(lambda: datetime(year, month, day, hour, minute, second, tzinfo=UTC), text)
    clock = _CLOCK.fullmatch(text)
    if clock:
        hour, minute, second = (int(part or 0) for part in clock.groups())
        day = first.astimezone(UTC)
        return _checked(lambda: day.replace(hour=hour, minute=minute, second=second, microsecond=0), text)
    wanted = text.casefold().replace("_", " ")
    for point in points:
        if point.label.casefold() == wanted or point.label.casefold().startswith(wanted + " "):
            return point.at
    raise ValueError(f"{text!r} is not a moment: use +10m (after the start), 14:02 (UTC), "
                     "2026-11-23T14:02 (UTC) or a milestone (detected, acknowledged, mitigated, resolved)")


def _checked(make, text: str) -> datetime:
    try:
        return make()
    except ValueError:
        raise ValueError(f"{text!r} is not a real date and time") from None


def replay_span(incident: Incident, span: tuple[datetime, datetime] | None) -> tuple[datetime, datetime]:
    """(first, last) moment of a replay: from the earlier of the declaration and the first entry
    to the later of the declaration and the last entry."""
    if span is None:
        return incident.created_at, incident.created_at
    return min(span[0], incident.created_at), max(span[1], incident.created_at)


def span_words(span: timedelta) -> str:
    """'12:05' (minutes and seconds), '1:02:03' past an hour; never negative."""
    total = max(0, int(span / timedelta(seconds=1)))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def offset_words(moment: datetime, first: datetime) -> str:
    """'+12:05': how long after the first moment."""
    return "+" + span_words(moment - first)
