"""Who must be told when an incident reaches a severity, and by when, from the policy's words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.policy import EscalationPath, Policy

_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
          "week": timedelta(weeks=1)}
_WITHIN = re.compile(r"\bwithin (?:the |a |an )?(?:first )?(?:([0-9]+)[ -])?(minute|hour|day|week)s?\b", re.I)
_AT_ONCE = re.compile(r"\b(?:at once|immediately|right away)\b", re.I)


def deadline_in(duty: str) -> timedelta | None:
    """How long the policy's wording allows ('within 15 minutes', 'at once'), or None if it sets no limit."""
    if _AT_ONCE.search(duty):
        return timedelta(0)
    match = _WITHIN.search(duty)
    if match is None:
        return None
    return int(match.group(1) or 1) * _UNITS[match.group(2).lower()]


@dataclass(frozen=True, slots=True)
class EscalationDuty:
    """One party to tell; due_at None when the policy gives no deadline."""

    who: str
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """The escalation the policy asks for when the incident is at `severity` from `since`."""

    severity: str
    label: str
    since: datetime
    duties: tuple[EscalationDuty, ...]
    paths: tuple[EscalationPath, ...]

    def describe_duties(self) -> str:
        """'Executives within 15 minutes (by 10:45 UTC); Status page at once (by 10:30 UTC)'."""
        parts = []
        for duty in self.duties:
            parts.append(duty.who + (f" (by {duty.due_at:%H:%M} UTC)" if duty.due_at else ""))
        return "; ".join(parts) or "nobody named by the policy"

    def describe(self) -> str:
        """Duties, then the escalation chains, as lines for a notification."""
        lines = ["Tell: " + self.describe_duties()]
        lines += [f"{path.name} path: " + " -> ".join(path.steps) for path in self.paths]
        return "\n".join(lines)


def escalation_notice(policy: Policy, severity_id: str, since: datetime) -> EscalationNotice:
    """Who must be told about `severity_id` (reached at `since`) and by when; unknown ids name nobody."""
    level = policy.find_severity(severity_id)
    if level is None:
        return EscalationNotice(severity_id, "", since, (), tuple(policy.escalation))
    duties = []
    for duty in level.notify:
        limit = deadline_in(duty)
        duties.append(EscalationDuty(duty, since + limit if limit is not None else None))
    return EscalationNotice(level.id, level.label, since, tuple(duties), tuple(policy.escalation))
