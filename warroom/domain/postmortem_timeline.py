"""The report's two timelines (domain.postmortem): the key entries' lines and the full-timeline
appendix, written from stored rows a part at a time (domain.timeline_lines); with a spool, both
from one read of the whole timeline, the appendix set aside while the key lines are written."""

from __future__ import annotations

from typing import IO, Generator, Iterable, Iterator

from warroom.domain.report import KEY_KINDS, IncidentRecord, key_entries
from warroom.domain.stored import DATA, KIND, PART, PINNED, TEXT, StoredRow, parts, stored_chunks
from warroom.domain.timeline_lines import TIMELINE_COLUMNS, Timeline, key_text

_KEY_VALUES = frozenset(kind.value for kind in KEY_KINDS)
EMPTY_APPENDIX = "\n- _Empty._"
"""The appendix of an incident without entries."""


def key_lines(record: IncidentRecord, timeline: Timeline) -> Generator[str, None, bool]:
    """The key entries' lines (as many as the incident has: yielded as they are read); returns
    whether there was no key entry."""
    empty = True
    for rows in stored_chunks(key_entries(record), (*TIMELINE_COLUMNS, DATA)):  # as read: no Entry made
        shown, texts = [], []
        for row in rows:
            text = key_text(row)
            if text is not None:
                shown.append(row)
                texts.append(text)
        for start in range(0, len(shown), PART):
            yield from timeline.pieces(shown[start:start + PART], texts[start:start + PART])
            empty = False
        shown.clear()  # before the next chunk is read
        texts.clear()
    return empty


def key_lines_and_appendix(record: IncidentRecord, timeline: Timeline, aside: IO[str]) -> Generator[str, None, bool]:
    """The key timeline's lines from the whole timeline read once, the appendix's written to
    `aside` meanwhile (a key entry's line is its appendix line when its text is the same);
    returns whether there was no key entry."""
    empty, timeline_empty, key_values = True, True, _KEY_VALUES
    for rows in stored_chunks(record.entries, (*TIMELINE_COLUMNS, DATA), KEY_KINDS):
        timeline_empty = False
        for part in parts(rows):
            lines = timeline.plain_lines(part)
            if lines is None:  # not all plain: as pieces() writes them, for the appendix and the key entries
                aside.writelines("\n" + piece for piece in timeline.pieces(part))
                shown, texts = [], []
                for row in part:
                    if row[PINNED] or row[KIND] in key_values:
                        text = key_text(row)
                        if text is not None:
                            shown.append(row)
                            texts.append(text)
                if shown:
                    yield from timeline.pieces(shown, texts)
                    empty = False
                continue
            aside.write("\n" + "\n".join(lines))
            keyed = []
            for row, line in zip(part, lines):
                if not row[PINNED] and row[KIND] not in key_values:
                    continue  # not a key entry (what key_entries leaves out): in the appendix only
                text = key_text(row)
                if text is not None:
                    keyed.append(line if text == row[TEXT] else timeline.line(row, text))
            if keyed:  # (lines of plain text: the part's own, joined as one piece)
                yield "\n".join(keyed)
                empty = False
    if timeline_empty:
        aside.write(EMPTY_APPENDIX)
    return empty


def appendix(timeline: Timeline, chunks: Iterable[list[StoredRow]]) -> Iterator[str]:
    """The full timeline's lines for the appendix (chunks of its rows), each piece after a newline."""
    empty = True
    for rows in chunks:
        yield from appendix_of(timeline, rows)
        empty = False
    if empty:
        yield EMPTY_APPENDIX


def appendix_of(timeline: Timeline, rows: list[StoredRow]) -> Iterator[str]:
    """The appendix's lines of a chunk of the timeline's rows, each piece after a newline."""
    for part in parts(rows):
        for piece in timeline.pieces(part):
            yield "\n" + piece
