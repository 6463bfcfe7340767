"""Exports and reports that stream: memory that does not grow with the incident, and the UI's event
loop left free while they are written.

`streamed_record` is the record with its timeline as an `EntryStream`; `write_pieces` renders it
(domain.report.json_pieces / csv_pieces / summary_lines, domain.postmortem.markdown_pieces) in a
worker thread into a binary sink, a batch at a time. The stream's chunks are fetched on the
service's event loop (where its connection lives) and turned into entries in the thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import BinaryIO, Callable, Iterable, Iterator

from warroom.domain.models import Entry, EntryKind
from warroom.domain.report import KEY_KINDS, NOTABLE_KINDS, IncidentRecord
from warroom.store import queries as q
from warroom.store import record_reads

CHUNK = 2000  # entries per read: a few ms of the loop's time each
WRITE_BATCH = 1 << 16  # characters gathered before one write


class EntryStream:
    """An incident's timeline numbered up to `newest`, in timeline order, read in chunks as it is
    iterated (again at each iteration). Sized (`count` entries); iterate it in a worker thread,
    never on the loop."""

    def __init__(self, reader, incident_id: str, count: int, newest: int,
                 kinds_or_pinned: Iterable[EntryKind] | None = None):
        """Made on the event loop that owns `reader`; with `kinds_or_pinned`, only the entries of
        those kinds and the pinned ones (then `len` is still the whole timeline's)."""
        self.reader, self.incident_id, self.count, self.kinds = reader, incident_id, count, kinds_or_pinned
        self.newest = newest
        self.loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        self.read = 0  # entries handed out so far (progress)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Entry]:
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError("an EntryStream is read from a worker thread")
        pending = self._fetch(None)
        while True:
            rows = pending.result()
            if len(rows) == CHUNK:  # the next chunk is read while this one is turned into entries
                pending = self._fetch((rows[-1]["occurred_at"], rows[-1]["number"]))
            for row in rows:
                self.read += 1
                yield q.entry_from_row(row)
            if len(rows) < CHUNK:
                return

    def _fetch(self, after: tuple[str, int] | None):
        return asyncio.run_coroutine_threadsafe(
            record_reads.entry_rows_after(self.reader, self.incident_id, self.newest, after, CHUNK, self.kinds),
            self.loop)


async def streamed_record(service, incident_id: str) -> IncidentRecord:
    """The incident's record with its timeline and its key entries as EntryStreams (its few
    notable entries read at once): what it holds does not grow with the incident."""
    reader = service.db.reader
    count, newest = await record_reads.timeline_extent(reader, incident_id)  # the snapshot ends at `newest`
    notable = await record_reads.notable_entries(reader, incident_id, newest, NOTABLE_KINDS)
    return await service.record(incident_id, entries=EntryStream(reader, incident_id, count, newest), notable=notable,
                                key_entries=EntryStream(reader, incident_id, count, newest, KEY_KINDS))


def _write(pieces: Iterable[str], sink: BinaryIO) -> None:
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= WRITE_BATCH:
            sink.write("".join(batch).encode("utf-8"))
            batch, size = [], 0
    sink.write("".join(batch).encode("utf-8"))
    sink.flush()


async def write_pieces(render: Callable[[], Iterable[str]], sink: BinaryIO) -> None:
    """Write what `render()` yields (UTF-8) to `sink` from a worker thread."""
    await asyncio.to_thread(lambda: _write(render(), sink))
