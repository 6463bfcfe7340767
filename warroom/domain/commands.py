"""Typed commands produced by the entry-bar grammar and applied by the service layer.

Every command may carry `occurred_at` (back-dating with `-5m ...` or `@14:02 ...`); None means now.
Commands are frozen msgspec Structs (fields, equality, hashing and `match` as dataclasses give
them; `replaced` for a changed copy): made in C, they cost a scripted `warroom log` about a
hundredth of the start-up that seventeen frozen dataclasses did.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

import msgspec

from warroom.domain.models import EntryKind, Milestone


class Command(msgspec.Struct, frozen=True):
    occurred_at: datetime | None = None


AnyCommandType = TypeVar("AnyCommandType", bound=Command)


def replaced(command: AnyCommandType, **changes) -> AnyCommandType:
    """A copy of `command` with `changes` (as dataclasses.replace copies a dataclass)."""
    return msgspec.structs.replace(command, **changes)


class AddEntry(Command, frozen=True):
    """A note, decision, root cause or lesson: text that goes on the timeline as it is."""

    kind: EntryKind = EntryKind.NOTE
    text: str = ""


class SetSeverity(Command, frozen=True):
    severity_id: str = ""
    reason: str = ""


class SetStatus(Command, frozen=True):
    status_id: str = ""
    note: str = ""


class AssignRole(Command, frozen=True):
    role_id: str = ""
    person: str = ""


class Handoff(Command, frozen=True):
    """Hand a role to someone and write a handoff summary entry."""

    role_id: str = ""
    person: str = ""


class AddAction(Command, frozen=True):
    text: str = ""
    owner: str | None = None
    due: datetime | None = None
    group: str | None = None  # an action group id of the policy


class SetMilestone(Command, frozen=True):
    milestone: Milestone = Milestone.DETECTED
    note: str = ""


class PinEntry(Command, frozen=True):
    number: int = 0
    pinned: bool = True


class CorrectEntry(Command, frozen=True):
    number: int = 0
    text: str = ""


class PostUpdate(Command, frozen=True):
    text: str = ""
    audience: str = "internal"


class AddProbe(Command, frozen=True):
    name: str = ""
    url: str = ""


class PageOnCall(Command, frozen=True):
    """`/page NAME|SERVICE reason`: page the pagers named so (or covering that service) by hand."""

    target: str = ""
    reason: str = ""


class MarkDuty(Command, frozen=True):
    """`/notified PARTY [note]`: a party the policy says to notify (or a review it asks for) was
    told; PARTY is the duty's id, label or a prefix of either, resolved against what is owed."""

    party: str = ""


class SetActionDone(Command, frozen=True):
    """`/done N`, `/undone N`: action item N (numbered as F4 shows them) done, or open again."""

    number: int = 0
    done: bool = True


class SetFact(Command, frozen=True):
    """`/set impact|users|title TEXT`, `/title TEXT`: one of the incident's facts (models.FACTS), kept
    current; the timeline keeps each earlier value in a fact entry."""

    fact: str = "impact"
    text: str = ""


class ChangeServices(Command, frozen=True):
    """`/service add NAME...` or `/service remove NAME...`: the services the incident affects."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


class ShowHelp(Command, frozen=True):
    """`/help`: writes nothing; the screen opens its help, `warroom log` prints the commands."""


AnyCommand = (AddEntry | SetSeverity | SetStatus | AssignRole | Handoff | AddAction | SetMilestone | PinEntry
              | CorrectEntry | PostUpdate | AddProbe | PageOnCall | MarkDuty | SetActionDone | SetFact
              | ChangeServices | ShowHelp)
