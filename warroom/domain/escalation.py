"""The escalation picture: the incident's severity, the duties it owes now and the paths up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warroom.domain.duties import Duty, open_duties
from warroom.domain.duty_record import DutyRecord
from warroom.domain.policy import EscalationPath, Policy


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """The incident at `severity` since `since`, what it owes (open duties, most urgent first)
    and the policy's escalation chains."""

    severity: str
    label: str
    since: datetime
    duties: tuple[Duty, ...]
    paths: tuple[EscalationPath, ...]


def escalation_notice(policy: Policy, record: DutyRecord, duties: list[Duty]) -> EscalationNotice:
    """The notice for the incident as `record` has it, from its derived `duties`."""
    level = policy.find_severity(record.severity)
    since = record.steps[-1].at
    return EscalationNotice(record.severity, level.label if level else "", since, tuple(open_duties(duties)),
                            tuple(policy.escalation))
