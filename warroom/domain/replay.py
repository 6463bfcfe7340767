"""An incident as it stood at a moment of its past, derived from its record: what a replay shows.

The incident row holds only the present (severity, status, milestones); the timeline holds how it
got there. `incident_as_of` rewinds the row with the severity, status and milestone entries that
had happened by then; `roles_as_of` does the same for the role history. `replay_points` are the
moments a replay can jump to, `replay_start` reads `--from`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
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


class Rewind:
    """An incident's changing fields through time, from its entries of MARK_KINDS (all of them,
    later ones too: a later change says what came before it). Built once; `at(moment)` is a binary
    search for the severity and status, and a walk over the few milestone entries."""

    def __init__(self, incident: Incident, marks: Iterable[Entry]):
        self.incident = incident
        ordered = _ordered(e for e in marks if e.kind in MARK_KINDS)
        self._severity = self._changes(ordered, EntryKind.SEVERITY, incident.severity)
        self._status = self._changes(ordered, EntryKind.STATUS, incident.status)
        self._stones: list[tuple[datetime, Milestone | None, tuple[str, ...]]] = []  # (when, set, cleared)
        logged: set[Milestone] = set()
        for entry in ordered:
            data = entry.data or {}
            if entry.kind is EntryKind.MILESTONE and data.get("milestone") in Milestone._value2member_map_:
                logged.add(Milestone(data["milestone"]))
                self._stones.append((entry.occurred_at, Milestone(data["milestone"]), ()))
            elif entry.kind is EntryKind.STATUS and isinstance(data.get("cleared"), dict):
                self._stones.append((entry.occurred_at, None, tuple(data["cleared"])))
        # Milestones set without an entry (older files) count from their time.
        self._unlogged = {m: at for m, at in incident.milestones.items() if m not in logged}

    @staticmethod
    def _changes(ordered: list[Entry], kind: EntryKind, now_value: str) -> tuple[list[datetime], list[str], str]:
        """(times, values, the value before the first change) of one field's changes."""
        changes = [e for e in ordered if e.kind is kind and isinstance((e.data or {}).get("to"), str)]
        before = ((changes[0].data or {}).get("from") or now_value) if changes else now_value
        return [e.occurred_at for e in changes], [e.data["to"] for e in changes], before

    @staticmethod
    def _value(changes: tuple[list[datetime], list[str], str], moment: datetime) -> str:
        times, values, before = changes
        index = bisect_right(times, moment)
        return values[index - 1] if index else before

    def at(self, moment: datetime) -> Incident:
        """The incident as it stood at `moment`."""
        stones: dict[Milestone, datetime] = {}
        for when, milestone, cleared in self._stones:
            if when > moment:
                break
            if milestone is not None:
                stones[milestone] = when
            for name in cleared:
                if name in Milestone._value2member_map_:
                    stones.pop(Milestone(name), None)
        for milestone, when in self._unlogged.items():
            if when <= moment:
                stones[milestone] = when
        return replace(self.incident, severity=self._value(self._severity, moment),
                       status=self._value(self._status, moment),
                       milestones={m: stones[m] for m in Milestone if m in stones})


def incident_as_of(incident: Incident, marks: Iterable[Entry], moment: datetime) -> Incident:
    """`incident` as it stood at `moment` (see Rewind, which keeps the work for many moments)."""
    return Rewind(incident, marks).at(moment)


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
