"""Response metrics from an incident's milestones.

Every interval is measured from when impact started; when that milestone was never set,
from detection, and failing that from the declaration. Acknowledge is measured from detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.models import Incident, Milestone


@dataclass(frozen=True, slots=True)
class IncidentMetrics:
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None
    duration: timedelta
    measured_from: str

    def as_seconds(self) -> dict[str, float | None | str]:
        def seconds(span: timedelta | None) -> float | None:
            return None if span is None else span.total_seconds()

        return {
            "time_to_detect_s": seconds(self.time_to_detect),
            "time_to_acknowledge_s": seconds(self.time_to_acknowledge),
            "time_to_mitigate_s": seconds(self.time_to_mitigate),
            "time_to_resolve_s": seconds(self.time_to_resolve),
            "duration_s": seconds(self.duration),
            "measured_from": self.measured_from,
        }


def incident_start(incident: Incident) -> tuple[datetime, str]:
    """The moment the incident's clock starts, and which milestone it is."""
    stones = incident.milestones
    if Milestone.IMPACT_STARTED in stones:
        return stones[Milestone.IMPACT_STARTED], "impact started"
    if Milestone.DETECTED in stones:
        return stones[Milestone.DETECTED], "detected"
    return incident.created_at, "declared"


def compute_metrics(incident: Incident, now: datetime) -> IncidentMetrics:
    stones = incident.milestones
    start, basis = incident_start(incident)

    def since(milestone: Milestone, origin: datetime) -> timedelta | None:
        return stones[milestone] - origin if milestone in stones else None

    detected = stones.get(Milestone.DETECTED)
    end = stones.get(Milestone.RESOLVED) or stones.get(Milestone.CLOSED) or now
    return IncidentMetrics(
        time_to_detect=since(Milestone.DETECTED, start) if Milestone.IMPACT_STARTED in stones else None,
        time_to_acknowledge=since(Milestone.ACKNOWLEDGED, detected or incident.created_at),
        time_to_mitigate=since(Milestone.MITIGATED, start),
        time_to_resolve=since(Milestone.RESOLVED, start),
        duration=end - start,
        measured_from=basis,
    )


def milestone_order_problem(
    milestones: dict[Milestone, datetime], milestone: Milestone, at: datetime
) -> str | None:
    """Why setting `milestone` at `at` would break time order, or None when it is fine."""
    order = list(Milestone)
    index = order.index(milestone)
    for earlier in order[:index]:
        if earlier in milestones and milestones[earlier] > at:
            return (
                f"{milestone.label} at {at:%Y-%m-%d %H:%M:%S} UTC would come before "
                f"{earlier.label} ({milestones[earlier]:%Y-%m-%d %H:%M:%S} UTC)"
            )
    for later in order[index + 1:]:
        if later in milestones and milestones[later] < at:
            return (
                f"{milestone.label} at {at:%Y-%m-%d %H:%M:%S} UTC would come after "
                f"{later.label} ({milestones[later]:%Y-%m-%d %H:%M:%S} UTC)"
            )
    return None
