"""The numbers across incidents: how fast incidents were detected, acknowledged, mitigated and
resolved per severity against the policy's targets, how punctual the updates were, which actions
are still open, which services were hit most, and the shapes of time to resolve and weekly load.

Intervals come from domain.metrics (one definition for a single report and for these numbers).
Median and p90 interpolate between the closest ranks (the "inclusive" method: p90 of 1..10 is 9.1).
An incident counts under its current severity; an update is on time when it was posted by the
due time of the duty it answered (domain.duties.owed_when_posted: its audience's cadence at the
severity in force then, from the previous update to that audience; the first from the declaration
or the last raise).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable

from warroom.domain.duties import owed_when_posted
from warroom.domain.duty_record import DutyRecord, SeverityStep
from warroom.domain.metrics import compute_metrics
from warroom.domain.models import ActionItem, Incident, Milestone, StatusUpdate
from warroom.domain.policy import Policy

METRICS = ("time_to_detect", "time_to_acknowledge", "time_to_mitigate", "time_to_resolve")
METRIC_NAMES = {"time_to_detect": "MTTD", "time_to_acknowledge": "MTTA", "time_to_mitigate": "MTTM",
                "time_to_resolve": "MTTR"}
RESOLVE_BINS: tuple[tuple[str, timedelta], ...] = (
    ("< 15m", timedelta(minutes=15)), ("15-30m", timedelta(minutes=30)), ("30m-1h", timedelta(hours=1)),
    ("1-2h", timedelta(hours=2)), ("2-4h", timedelta(hours=4)), ("4-8h", timedelta(hours=8)),
    ("8-24h", timedelta(days=1)), ("1-3d", timedelta(days=3)), ("> 3d", timedelta.max),
)
TOP_SERVICES = 5


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the numbers need of one incident: the incident, its posted updates in order, and its
    severity changes (when, to which severity) in time order."""

    incident: Incident
    updates: tuple[StatusUpdate, ...] = ()
    severity_changes: tuple[tuple[datetime, str, str], ...] = ()  # (at, from, to)


@dataclass(frozen=True, slots=True)
class Spread:
    """One interval over a group of incidents: how many had it, median and p90, the policy's target
    and how many were within it (None: no target)."""

    count: int
    median: timedelta | None
    p90: timedelta | None
    target: timedelta | None = None
    within: int | None = None


@dataclass(frozen=True, slots=True)
class SeverityStats:
    policy_id: str
    severity: str
    label: str
    incidents: int
    metrics: dict[str, Spread]
    updates_on_time: int
    updates: int


@dataclass(frozen=True, slots=True)
class OpenAction:
    incident_id: str
    incident_title: str
    action: ActionItem
    overdue: bool


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime | None
    until: datetime
    policy_id: str | None
    incidents: int
    still_open: int
    severities: list[SeverityStats]
    updates_on_time: int
    updates: int
    open_actions: list[OpenAction]
    services: list[tuple[str, int]]
    resolve_histogram: list[tuple[str, int]]
    weekly: list[tuple[date, int]]
    resolved: int = field(default=0)


def quantile(values: list[timedelta], fraction: float) -> timedelta | None:
    """Linear interpolation between the closest ranks (inclusive): quantile(1..10, 0.9) == 9.1."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: list[timedelta], target: timedelta | None) -> Spread:
    return Spread(
        count=len(values),
        median=statistics.median(values) if values else None,
        p90=quantile(values, 0.9),
        target=target,
        within=sum(1 for value in values if value <= target) if target is not None else None,
    )


def severity_at(facts: IncidentFacts, moment: datetime) -> str:
    """The incident's severity at `moment`, from its severity changes (current severity if none)."""
    changes = facts.severity_changes
    if not changes:
        return facts.incident.severity
    current = changes[0][1]  # what it was before the first change
    for at, _, to in changes:
        if at > moment:
            break
        current = to
    return current


def punctuality(facts: IncidentFacts, policy: Policy | None) -> tuple[int, int]:
    """(updates posted on time, updates that had a due time) for one incident."""
    if policy is None:
        return 0, 0
    incident = facts.incident
    ended = incident.milestones.get(Milestone.RESOLVED) or incident.milestones.get(Milestone.CLOSED)
    steps = [SeverityStep(incident.created_at, severity_at(facts, incident.created_at - timedelta(microseconds=1)))]
    steps += [SeverityStep(max(at, steps[-1].at), to) for at, _, to in facts.severity_changes]
    record = DutyRecord(incident.severity, tuple(steps), tuple(facts.updates), ended)
    on_time = counted = 0
    for update in facts.updates:
        if ended is not None and update.posted_at > ended:
            break
        owed = owed_when_posted(policy, record, update)
        if owed is not None and owed.due_at is not None:
            counted += 1
            on_time += update.posted_at <= owed.due_at
    return on_time, counted


def compute_stats(facts: list[IncidentFacts], open_actions: list[ActionItem], policy_of: Callable[[str], Policy | None],
                  now: datetime, since: datetime | None = None, policy_id: str | None = None) -> Stats:
    """Every figure of `warroom stats` from the incidents declared in the window."""
    groups: dict[tuple[str, str], list[IncidentFacts]] = {}
    for one in facts:
        groups.setdefault((one.incident.policy_id, one.incident.severity), []).append(one)
    rows = [_severity_row(key, members, policy_of(key[0]), now) for key, members in groups.items()]
    rows.sort(key=lambda row: (row.policy_id, _severity_rank(policy_of(row.policy_id), row.severity), row.severity))
    titles = {one.incident.id: one.incident for one in facts}
    past = [a for a in open_actions if a.incident_id in titles and not titles[a.incident_id].is_open and not a.done]
    past.sort(key=lambda a: (a.due is None, a.due or now, a.incident_id, a.id))
    services = Counter(service for one in facts for service in dict.fromkeys(one.incident.services))
    resolved = [compute_metrics(one.incident, now).time_to_resolve for one in facts]
    resolved = [span for span in resolved if span is not None]
    return Stats(
        since=since, until=now, policy_id=policy_id, incidents=len(facts),
        still_open=sum(1 for one in facts if one.incident.is_open), severities=rows,
        updates_on_time=sum(row.updates_on_time for row in rows), updates=sum(row.updates for row in rows),
        open_actions=[OpenAction(a.incident_id, titles[a.incident_id].title, a, a.due is not None and a.due < now)
                      for a in past],
        services=sorted(services.items(), key=lambda item: (-item[1], item[0]))[:TOP_SERVICES],
        resolve_histogram=_histogram(resolved), weekly=_weekly(facts, since, now), resolved=len(resolved),
    )


def _severity_rank(policy: Policy | None, severity: str) -> int:
    ids = [level.id for level in policy.severity] if policy else []
    return ids.index(severity) if severity in ids else len(ids)


def _severity_row(key: tuple[str, str], members: list[IncidentFacts], policy: Policy | None,
                  now: datetime) -> SeverityStats:
    policy_id, severity = key
    level = policy.find_severity(severity) if policy else None
    targets = {"time_to_acknowledge": level.response_target if level else None,
               "time_to_resolve": level.resolution_target if level else None}
    measured = [compute_metrics(one.incident, now) for one in members]
    metrics = {name: spread([getattr(m, name) for m in measured if getattr(m, name) is not None], targets.get(name))
               for name in METRICS}
    timely = [punctuality(one, policy) for one in members]
    return SeverityStats(policy_id, severity, level.label if level else "", len(members), metrics,
                         sum(t[0] for t in timely), sum(t[1] for t in timely))


def _histogram(spans: list[timedelta]) -> list[tuple[str, int]]:
    counts = Counter(next(label for label, upper in RESOLVE_BINS if span < upper) for span in spans)
    return [(label, counts.get(label, 0)) for label, _ in RESOLVE_BINS]


def _weekly(facts: list[IncidentFacts], since: datetime | None, now: datetime) -> list[tuple[date, int]]:
    """Incidents declared per ISO week (Monday first), every week of the window, empty ones too."""
    def monday(moment: datetime) -> date:
        day = moment.date()
        return day - timedelta(days=day.weekday())

    counts = Counter(monday(one.incident.created_at) for one in facts)
    if not counts and since is None:
        return []
    first = monday(since) if since else min(counts)
    weeks, week = [], first
    while week <= monday(now):
        weeks.append((week, counts.get(week, 0)))
        week += timedelta(days=7)
    return weeks
