"""The report's timeline lines (domain.postmortem): one line per stored row (domain.stored), for
the key timeline and the full-timeline appendix, a part of plain rows at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from warroom.domain.duties import text_without_owed_note
from warroom.domain.models import Entry, EntryKind
from warroom.domain.stored import (
    AUTHOR, CORRECTS, DATA, KIND, NUMBER, OCCURRED, PINNED, TEXT, StoredRow, row_data, row_kind, stamp_of,
)  # fmt: skip
from warroom.domain.text import all_plain, markdown_inline

_LABELS = {kind.value: kind.label for kind in EntryKind}
_ROLE = EntryKind.ROLE.value
_FEW = 8  # lines of a part that is not all plain written a line at a time
TIMELINE_COLUMNS = (NUMBER, OCCURRED, KIND, AUTHOR, TEXT, CORRECTS, PINNED)
"""The columns of a stored row Timeline.line reads (the key timeline also reads DATA)."""


class Timeline:
    """Entry numbers and the corrections that point at each entry (of `entries`: the corrections
    and the entries they point at among them), by the id and by the number of the entry corrected
    (a row needs no id: one column fewer to read on each of 100,000)."""

    def __init__(self, entries: list[Entry]):
        self.numbers = {e.id: e.number for e in entries}
        self.corrections: dict[int, list[Entry]] = {}
        for entry in entries:
            if entry.corrects is not None:
                self.corrections.setdefault(entry.corrects, []).append(entry)
        self.corrected = {e.number: self.corrections[e.id] for e in entries if e.id in self.corrections}

    def line(self, row: StoredRow, text: str | None = None) -> str:
        """A timeline line for the entry stored as `row` (with `text` instead of its own when given)."""
        note = ""
        if row[CORRECTS] or row[PINNED] or row[NUMBER] in self.corrected:
            notes = [f"corrects #{self.numbers.get(row[CORRECTS], '?')}"] if row[CORRECTS] else []
            notes += [f"corrected by #{c.number}" for c in self.corrected.get(row[NUMBER], [])]
            if row[PINNED]:
                notes.append("pinned")
            note = f" ({', '.join(notes)})" if notes else ""
        day, time = stamp_of(row[OCCURRED])
        label = _LABELS.get(row[KIND]) or row_kind(row).label  # (an unknown kind raises)
        return (f"- `#{row[NUMBER]}` {day} {time} UTC, {label}, "
                f"{markdown_inline(row[AUTHOR])}{note}: {markdown_inline(row[TEXT] if text is None else text)}")

    def pieces(self, rows: list[StoredRow], texts: list[str] | None = None) -> Iterator[str]:
        """line() of each of some rows (a part of a chunk; with `texts[i]` instead of row i's own
        text): rows of plain text (domain.text.all_plain) as one piece, their lines joined by
        newlines and written here without a call per line (plain_lines); others a line at a time
        (a part that is not all plain is halved until each half is, or is a few lines: one line
        of Markdown's specials, "->", does not make its neighbours' lines a call each)."""
        if texts is None:
            texts = [row[TEXT] for row in rows]
        lines = self.plain_lines(rows, texts)
        if lines is not None:
            yield "\n".join(lines)
        elif len(rows) <= _FEW:
            yield from map(self.line, rows, texts)
        else:
            half = len(rows) // 2
            yield from self.pieces(rows[:half], texts[:half])
            yield from self.pieces(rows[half:], texts[half:])

    def plain_lines(self, rows: list[StoredRow], texts: list[str] | None = None) -> list[str] | None:
        """line() of each of some rows (with `texts[i]` instead of row i's own text), made here
        without a call per line, when their text is all plain (domain.text.all_plain); else None."""
        if texts is None:
            texts = [row[TEXT] for row in rows]
        if not all_plain(texts + [row[AUTHOR] for row in rows], markdown=True):
            return None
        lines: list[str] = []
        append, labels, corrected, fromisoformat = lines.append, _LABELS, self.corrected, datetime.fromisoformat
        for row, text in zip(rows, texts):
            occurred, label = row[OCCURRED], labels.get(row[KIND])
            # a note to add, an unknown kind, a time not in stamp_of's fixed-width form: line()
            if (label is None or row[CORRECTS] or row[PINNED] or row[NUMBER] in corrected or len(occurred) != 27
                    or occurred[4:20:3] != "--T::." or occurred[26] != "Z"):
                append(self.line(row, text))
                continue
            fromisoformat(occurred)  # a time, or ValueError as stamp_of raises
            append(f"- `#{row[NUMBER]}` {occurred[:10]} {occurred[11:19]} UTC, {label}, {row[AUTHOR]}: {text}")
        return lines

    def latest_text(self, entry: Entry) -> str:
        """The entry's text as last corrected."""
        found = self.corrections.get(entry.id)
        return found[-1].text if found else entry.text


def key_text(row: StoredRow) -> str | None:
    """The text the key timeline shows for a key entry's row (a severity change without the list
    of what it owed: the duties appendix has it), or None: a role change that is not one (it
    shows none)."""
    data = row_data(row) if row[DATA] else None
    if row[PINNED] or row[KIND] != _ROLE or "role" in (data or {}):  # (a key entry's kind is known)
        return text_without_owed_note(row[TEXT], data) if data else row[TEXT]
    return None
