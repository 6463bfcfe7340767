"""A timeline entry as the record stores it: a row of STORED_COLUMNS (times as fixed-width UTC
text, the kind's value, `data` as JSON text), whichever engine holds it, and the Entry it is.

The formatters of long outputs (`warroom show`, the report's timelines) take rows: a streamed
export hands them its rows as read, without making an Entry of each (the 100,000th costs what
the first does), and a record held as entries gives them `stored_row(entry)`, the same row. So
each line has one formatter, whichever way the record came.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import islice
from typing import Any, Collection, Iterable, Iterator, Sequence

from warroom.domain.clock import from_stored, to_stored
from warroom.domain.models import Entry, EntryKind

STORED_COLUMNS = ("number", "occurred_at", "kind", "author", "text", "pinned", "data", "corrects", "id",
                  "recorded_at", "incident_id", "hash")
NUMBER, OCCURRED, KIND, AUTHOR, TEXT, PINNED, DATA, CORRECTS, ID, RECORDED, INCIDENT, HASH = range(12)
"""Where each column is in a row: what the long outputs' formatters read first, so that a row read
for one of them (store.record_reads.entry_rows_after with `columns`) ends with its last column and
has few empty places, if any (each costs a little on each of 100,000 rows)."""

StoredRow = Sequence[Any]  # a tuple, a sqlite3.Row or an asyncpg Record, STORED_COLUMNS first

_KINDS = {kind.value: kind for kind in EntryKind}


def entry_from_row(row: StoredRow) -> Entry:
    """The entry in a row whose first columns are STORED_COLUMNS, in that order."""
    (number, occurred_at, kind, author, text, pinned, data, corrects, id_, recorded_at, incident_id,
     hash_) = row[:12]
    return Entry(id=id_, incident_id=incident_id, number=number, occurred_at=from_stored(occurred_at),
                 recorded_at=from_stored(recorded_at), author=author, kind=_KINDS.get(kind) or EntryKind(kind),
                 text=text, data=json.loads(data) if data else None, corrects=corrects, pinned=bool(pinned),
                 hash=hash_)


def stored_row(entry: Entry) -> tuple:
    """The row the record holds for `entry` (entry_from_row gives the entry back)."""
    return (entry.number, to_stored(entry.occurred_at), entry.kind.value, entry.author, entry.text, int(entry.pinned),
            json.dumps(entry.data, sort_keys=True) if entry.data is not None else None, entry.corrects, entry.id,
            to_stored(entry.recorded_at), entry.incident_id, entry.hash)


def stored_rows(entries: Iterable[Entry]) -> Iterator[StoredRow]:
    """The rows of a timeline: as read, from a stream that has them (`stored_rows()`), else each
    entry's."""
    rows = getattr(entries, "stored_rows", None)
    return rows() if rows is not None else map(stored_row, entries)


CHUNK = 2000
"""Rows in a list of `stored_chunks` from a record of entries (a stream gives its own chunks)."""


def stored_chunks(entries: Iterable[Entry], columns: Collection[int] | None = None,
                  data_of: Iterable[EntryKind] | None = None) -> Iterator[list[StoredRow]]:
    """The rows of a timeline, a non-empty list at a time: a stream's chunks as read (with
    `columns`, the indices of the columns the caller reads, only those filled: None in the
    others, and none after the last of them; with `data_of`, `data` only in the rows of those kinds and the pinned ones), else each
    entry's row (every column), CHUNK at a time. For formatters that check a part at once
    (domain.text.all_plain) and write it as one piece (`parts`)."""
    chunks = getattr(entries, "stored_chunks", None)
    if chunks is not None:
        return chunks(columns) if data_of is None else chunks(columns, data_of)
    rows = map(stored_row, entries)
    return iter(lambda: list(islice(rows, CHUNK)), [])


PART = 256
"""Lines a formatter writes as one piece (a few tens of kB: what it holds beside the chunk)."""


def parts(rows: list[StoredRow]) -> Iterator[list[StoredRow]]:
    """A chunk of rows in lists of at most PART (the chunk itself when it is no longer)."""
    if len(rows) <= PART:
        yield rows
        return
    for start in range(0, len(rows), PART):
        yield rows[start:start + PART]


def row_kind(row: StoredRow) -> EntryKind:
    """The row's kind (an unknown one raises ValueError, as reading it as an entry does)."""
    kind = row[KIND]
    return _KINDS.get(kind) or EntryKind(kind)


def row_data(row: StoredRow) -> dict | None:
    data = row[DATA]
    return json.loads(data) if data else None


def stamp_of(stored: str) -> tuple[str, str]:
    """("YYYY-MM-DD", "HH:MM:SS") of a stored time, in UTC: what `from_stored(stored).isoformat(" ",
    "seconds")` says, cut from the text itself when it has the fixed-width form to_stored writes.
    A value that is no time raises ValueError, as from_stored does."""
    if len(stored) == 27 and stored[4:20:3] == "--T::." and stored[26] == "Z":  # the separators at 4, 7... 19
        # YYYY-MM-DDTHH:MM:SS.ffffffZ if fromisoformat takes it: digits that make a time (a month
        # 13 is refused, as from_stored refuses it), not another form of the same length
        datetime.fromisoformat(stored)
        return stored[:10], stored[11:19]
    shown = from_stored(stored).isoformat(" ", "seconds")
    return shown[:10], shown[11:19]
