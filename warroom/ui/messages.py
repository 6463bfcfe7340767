"""Typed messages the war-room widgets and workers exchange. Workers post these; nobody pokes widgets."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from warroom.domain.models import Entry
from warroom.service.live import RecordDelta


@dataclass
class EntrySubmitted(Message):
    """The scribe pressed Enter in the entry bar. `painting`: the app's painting, held since the
    key (warroom.ui.paint_hold), for the one who writes the entry to release once it is shown."""

    text: str
    painting: object = None


@dataclass
class EntryRejected(Message):
    """What the scribe typed could not be applied; the bar gets the text back for fixing."""

    error: str
    text: str = ""


@dataclass
class EntryCommitted(Message):
    """The entry bar's text was written (its transaction committed)."""

    text: str
    entries: list[Entry]


@dataclass
class RecordChanged(Message):
    """Parts of the incident changed (here or in another process): what changed, reloaded.

    The war room posts it to itself and forwards a copy to the dialogs open over it, so a
    checklist or action list shows a tick made in another terminal. It does not bubble."""

    bubble = False
    delta: RecordDelta


@dataclass
class EntryChosen(Message):
    """The timeline's cursor moved to an entry."""

    entry: Entry | None


@dataclass
class AssignRequested(Message):
    """Someone asked to seat a person in a role (from the roles pane)."""

    role_id: str
    role_name: str
