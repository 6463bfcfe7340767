"""A plain note written from plain values: what `warroom log ID TEXT` does for text that is a
note, with the same pieces IncidentService uses for one (domain.entry_text reads the text as the
grammar does, store.appending finds the incident and appends the entry with the same SQL and hash)
and without the models, the commands or the policies, none of which a note needs."""

from __future__ import annotations

from datetime import datetime

from warroom.domain.clock import to_stored
from warroom.domain.entry_text import entry_body, note_of
from warroom.domain.kinds import EntryKind
from warroom.store.appending import append_entry, incident_policy


def plain_note(text: str, now: datetime) -> tuple[str, datetime | None] | None:
    """(the note's text, the moment it is back-dated to or None) when `text` is a plain note, as
    domain.grammar.parse reads it; None for a /command. Raises ParseError as parse does."""
    body, occurred_at = entry_body(text, now)
    note = note_of(body)
    return None if note is None else (note, occurred_at)


async def add_note(db, incident_id: str, note: str, occurred_at: datetime | None, author: str, now: datetime) -> int:
    """Append the note to the incident's timeline in one write transaction (at `occurred_at`, else
    `now`; recorded `now`) and return its number. NotFoundError when there is no such incident,
    ReadOnlyError in a read-only session, as IncidentService.apply says them."""
    await incident_policy(db.reader, incident_id)  # the incident is there (its policy: a note needs none)
    async with db.transaction() as conn:
        _, number, _ = await append_entry(conn, incident_id=incident_id, occurred_at=to_stored(occurred_at or now),
                                          recorded_at=to_stored(now), author=author, kind=EntryKind.NOTE.value,
                                          text=note)
    return number
