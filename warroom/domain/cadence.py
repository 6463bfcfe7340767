"""When the next stakeholder update is due, from the policy's cadence for the current severity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from warroom.domain.clock import format_clock
from warroom.domain.models import Incident, StatusUpdate
from warroom.domain.policy import Policy

WARNING_WINDOW = timedelta(minutes=5)


class CountdownState(StrEnum):
    NONE = "none"  # no cadence for this severity, or the incident is over
    ON_TRACK = "on track"
    DUE_SOON = "due soon"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Countdown:
    state: CountdownState
    due_at: datetime | None
    remaining: timedelta | None
    reason: str

    @property
    def digits(self) -> str:
        if self.remaining is None:
            return "--:--"
        if self.state is CountdownState.OVERDUE:
            return "+" + format_clock(self.remaining)
        return format_clock(self.remaining)

    @property
    def words(self) -> str:
        if self.state is CountdownState.NONE:
            return self.reason
        if self.state is CountdownState.OVERDUE:
            return f"update OVERDUE by {self.digits[1:]}"
        if self.state is CountdownState.DUE_SOON:
            return f"update due soon, in {self.digits}"
        return f"next update in {self.digits}"


def next_update_due(
    incident: Incident, policy: Policy, last_update: StatusUpdate | None
) -> tuple[datetime | None, str]:
    """Due time of the next update and why: the cadence from the last update (or the first-update
    deadline from the declaration), brought forward to any earlier promise made in that update."""
    level = policy.find_severity(incident.severity)
    if not incident.is_open:
        return None, "incident resolved: no further updates due"
    if level is None or level.update_cadence is None:
        return None, f"{incident.severity} has no update cadence"
    if last_update is None:
        deadline = level.first_update_deadline or level.update_cadence
        return incident.created_at + deadline, f"first {incident.severity} update"
    due = last_update.posted_at + level.update_cadence
    if last_update.next_update_at is not None and last_update.next_update_at < due:
        return last_update.next_update_at, "promised in the last update"
    return due, f"{incident.severity} cadence {level.update_every}"


def countdown(
    incident: Incident, policy: Policy, last_update: StatusUpdate | None, now: datetime
) -> Countdown:
    due, reason = next_update_due(incident, policy, last_update)
    if due is None:
        return Countdown(CountdownState.NONE, None, None, reason)
    remaining = due - now
    if remaining < timedelta(0):
        return Countdown(CountdownState.OVERDUE, due, -remaining, reason)
    if remaining <= WARNING_WINDOW:
        return Countdown(CountdownState.DUE_SOON, due, remaining, reason)
    return Countdown(CountdownState.ON_TRACK, due, remaining, reason)
