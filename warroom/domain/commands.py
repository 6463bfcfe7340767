"""Typed commands produced by the entry-bar grammar and applied by the service layer.

Every command may carry `occurred_at` (back-dating with `-5m ...` or `@14:02 ...`); None means now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from warroom.domain.models import EntryKind, Milestone


@dataclass(frozen=True, slots=True)
class Command:
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddEntry(Command):
    """A note, decision, root cause or lesson: text that goes on the timeline as it is."""

    kind: EntryKind = EntryKind.NOTE
    text: str = ""


@dataclass(frozen=True, slots=True)
class SetSeverity(Command):
    severity_id: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetStatus(Command):
    status_id: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class AssignRole(Command):
    role_id: str = ""
    person: str = ""


@dataclass(frozen=True, slots=True)
class Handoff(Command):
    """Hand a role to someone and write a handoff summary entry."""

    role_id: str = ""
    person: str = ""


@dataclass(frozen=True, slots=True)
class AddAction(Command):
    text: str = ""
    owner: str | None = None
    due: datetime | None = None
    group: str | None = None  # an action group id of the policy


@dataclass(frozen=True, slots=True)
class SetMilestone(Command):
    milestone: Milestone = Milestone.DETECTED
    note: str = ""


@dataclass(frozen=True, slots=True)
class PinEntry(Command):
    number: int = 0
    pinned: bool = True


@dataclass(frozen=True, slots=True)
class CorrectEntry(Command):
    number: int = 0
    text: str = ""


@dataclass(frozen=True, slots=True)
class PostUpdate(Command):
    text: str = ""
    audience: str = "internal"


@dataclass(frozen=True, slots=True)
class AddProbe(Command):
    name: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class PageOnCall(Command):
    """`/page NAME|SERVICE reason`: page the pagers named so (or covering that service) by hand."""

    target: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MarkDuty(Command):
    """`/notified PARTY [note]`: a party the policy says to notify (or a review it asks for) was
    told; PARTY is the duty's id, label or a prefix of either, resolved against what is owed."""

    party: str = ""


@dataclass(frozen=True, slots=True)
class SetActionDone(Command):
    """`/done N`, `/undone N`: action item N (numbered as F4 shows them) done, or open again."""

    number: int = 0
    done: bool = True


@dataclass(frozen=True, slots=True)
class SetFact(Command):
    """`/set impact|users|title TEXT`, `/title TEXT`: one of the incident's facts (models.FACTS), kept
    current; the timeline keeps each earlier value in a fact entry."""

    fact: str = "impact"
    text: str = ""


@dataclass(frozen=True, slots=True)
class ChangeServices(Command):
    """`/service add NAME...` or `/service remove NAME...`: the services the incident affects."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShowHelp(Command):
    """`/help`: writes nothing; the screen opens its help, `warroom log` prints the commands."""


AnyCommand = (AddEntry | SetSeverity | SetStatus | AssignRole | Handoff | AddAction | SetMilestone | PinEntry
              | CorrectEntry | PostUpdate | AddProbe | PageOnCall | MarkDuty | SetActionDone | SetFact
              | ChangeServices | ShowHelp)
