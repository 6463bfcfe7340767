"""Where an incident stands, as a header, a list or a picker says it: its status (Closed once
closed), its age (which stops at resolution), what it owes first, and its action items (numbered
as F4 shows them, overdue or not, worked now or followed up after the incident)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Iterable

from warroom.domain.duties import Duty, DutyKind, open_duties
from warroom.domain.errors import ParseError
from warroom.domain.models import ActionItem, Incident, Milestone
from warroom.domain.policy import Policy
from warroom.domain.text import visible

CLOSED_LABEL = "Closed"


def shown_status(policy: Policy, incident: Incident) -> str:
    """The status as people read it: the policy's label, or 'Closed' once `/close` was logged."""
    if Milestone.CLOSED in incident.milestones:
        return CLOSED_LABEL
    status = policy.find_status(incident.status)
    return status.label if status else incident.status


def ended_at(incident: Incident) -> datetime | None:
    """When the incident stopped running: resolved (or closed without a resolution), else None."""
    stones = incident.milestones
    return stones.get(Milestone.RESOLVED) or stones.get(Milestone.CLOSED)


def elapsed(incident: Incident, now: datetime) -> timedelta:
    """From the declaration to now, or to the resolution once resolved (the clock stops)."""
    end = ended_at(incident) if not incident.is_open else None
    return max((end or now) - incident.created_at, timedelta(0))  # a replay starts before the declaration


def duty_brief(duty: Duty, now: datetime) -> str:
    """'⚠ Status page update OVERDUE by 03:06', '◷ notify Executives in 12:00'."""
    return f"{duty.state(now).glyph} {visible(duty.what)} {duty.status_words(now)}"


def first_owed(duties: Iterable[Duty]) -> Duty | None:
    """The open duty due first (the most overdue), whatever its kind; None when nothing is owed."""
    owed = open_duties(duties)
    return owed[0] if owed else None


MARKABLE = (DutyKind.NOTIFY, DutyKind.REVIEW)  # done by saying so; updates are done by posting them
_MAX_PARTY_WORDS = 6


def find_markable(duties: Iterable[Duty], typed: str) -> tuple[Duty, str]:
    """The notify or review duty `typed` names, and the rest of it (a note): `/notified exec`,
    `/notified "engineering manager" by phone`, `/notified executives`. Its key, id or label
    (the longest run of leading words that is one), else a prefix of its id, label or a word of
    the label (3 letters at least). Open duties first. ParseError when it names none or several."""
    markable = [d for d in duties if d.kind in MARKABLE]
    words = typed.split()
    if not words:
        raise ParseError("name the party, e.g. /notified exec")
    if typed[:1] in "\"'" and (end := typed.find(typed[0], 1)) > 0:
        runs = [(typed[1:end].strip(), typed[end + 1:].strip())]
    else:
        runs = [(" ".join(words[:n]), " ".join(words[n:])) for n in range(min(len(words), _MAX_PARTY_WORDS), 0, -1)]
    for phrase, rest in runs:
        wanted = phrase.casefold()
        found = [d for d in markable if wanted in (d.key.casefold(), d.target.casefold(), d.label.casefold())]
        if found:
            return _one(found, phrase), rest
    wanted, rest = runs[-1][0].casefold(), runs[-1][1]
    found = [d for d in markable if len(wanted) >= 3 and (
        d.target.casefold().startswith(wanted)
        or any(word.startswith(wanted) for word in d.label.casefold().replace("(", " ").split()))]
    if not found:
        owed = ", ".join(f"{d.target} ({visible(d.label)})" for d in markable if d.is_open)
        raise ParseError(f"no party to notify matches {visible(runs[-1][0])!r}; "
                         + (f"open: {owed}" if owed else "nothing is owed to anyone now"))
    return _one(found, runs[-1][0]), rest


def _one(found: list[Duty], phrase: str) -> Duty:
    opened = [d for d in found if d.is_open] or found
    if len(opened) > 1:
        raise ParseError(f"{visible(phrase)!r} could be {', '.join(d.target for d in opened)}: type more of it")
    return opened[0]


# ---- action items ------------------------------------------------------------------------------


class Phase(StrEnum):
    """When an action item is worked: during the incident, or after it."""

    NOW = "now"
    AFTER = "follow-up"


@dataclass(frozen=True, slots=True)
class NumberedAction:
    """An action item with the number people type (`/done 2`) and when it is worked."""

    number: int
    item: ActionItem
    phase: Phase
    group_label: str = ""  # the policy's action group, when the item has one

    def is_overdue(self, now: datetime) -> bool:
        return action_overdue(self.item, now)

    def state_words(self, now: datetime) -> str:
        """'☑ done', '⚠ OVERDUE', '☐ open' (a glyph and a word: never colour alone)."""
        if self.item.done:
            return "☑ done"
        return "⚠ OVERDUE" if self.is_overdue(now) else "☐ open"

    @property
    def when_words(self) -> str:
        """'now', 'now · Immediate', 'follow-up · Long-term'."""
        return f"{self.phase.value} · {self.group_label}" if self.group_label else self.phase.value


def action_overdue(item: ActionItem, now: datetime) -> bool:
    """Open with a due date that has passed."""
    return not item.done and item.due is not None and item.due < now


def action_phase(policy: Policy, item: ActionItem, resolved_at: datetime | None) -> Phase:
    """Worked now when its group is one the policy works during the incident (`during = true`),
    or when it has no group and was added before the resolution; a follow-up otherwise."""
    group = policy.find_action_group(item.group) if item.group else None
    if group is not None:
        return Phase.NOW if group.during else Phase.AFTER
    return Phase.NOW if resolved_at is None or item.created_at < resolved_at else Phase.AFTER


def numbered_actions(policy: Policy, actions: Iterable[ActionItem], incident: Incident) -> list[NumberedAction]:
    """The incident's action items numbered 1, 2... in the order they were added (the number
    `/done N` takes), each with its phase."""
    resolved = ended_at(incident)
    found = []
    for number, item in enumerate(sorted(actions, key=lambda a: a.id), start=1):
        group = policy.find_action_group(item.group) if item.group else None
        found.append(NumberedAction(number, item, action_phase(policy, item, resolved), group.label if group else ""))
    return found


def by_phase(actions: Iterable[NumberedAction]) -> tuple[list[NumberedAction], list[NumberedAction]]:
    """(worked now, follow-ups), each in number order."""
    listed = list(actions)
    return [a for a in listed if a.phase is Phase.NOW], [a for a in listed if a.phase is Phase.AFTER]
