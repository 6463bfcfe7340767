"""Exports and reports that stream: memory that does not grow with the incident, and the UI's event
loop left free while they are written.

`streamed_record` is the record with its timeline as an `EntryStream`; `write_pieces` renders it
(domain.report.json_pieces / csv_pieces / summary_lines, domain.postmortem.markdown_pieces) into a
binary sink, a batch at a time. On a service with an event loop, the rendering runs in a worker
thread and the stream's chunks are fetched on the loop (where the connection lives); on a service
opened `blocking` (a command-line process, no event loop) both happen in the calling thread.
The formatters of long outputs take the stream's rows as read (domain.stored): no Entry is made
for a line.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import IO, BinaryIO, Callable, Collection, Iterable, Iterator

from warroom.domain.models import Entry, EntryKind
from warroom.domain.report import KEY_KINDS, NOTABLE_KINDS, IncidentRecord
from warroom.domain.stored import NUMBER, OCCURRED, StoredRow, entry_from_row
from warroom.store import record_reads

CHUNK = 2000  # entries per read: a few ms of the loop's time each, a MB or two held
WRITE_BATCH = 1 << 16  # characters gathered before one write


class EntryStream:
    """An incident's timeline numbered up to `newest`, in timeline order, read in chunks as it is
    iterated (again at each iteration): as entries, or as stored rows (`stored_rows()`, or a list
    at a time: `stored_chunks()`). Sized (`count` entries). On an event loop's service, iterate it
    in a worker thread, never on the loop."""

    def __init__(self, reader, incident_id: str, count: int, newest: int,
                 kinds_or_pinned: Iterable[EntryKind] | None = None, *, blocking: bool = False):
        """Made on the event loop that owns `reader` (or, `blocking`, on a reader used without
        one); with `kinds_or_pinned`, only the entries of those kinds and the pinned ones (then
        `len` is still the whole timeline's)."""
        self.reader, self.incident_id, self.count, self.kinds = reader, incident_id, count, kinds_or_pinned
        self.newest, self.blocking = newest, blocking
        if not blocking:
            import asyncio

            self.loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        self.read = 0  # entries read so far (progress)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Entry]:
        return map(entry_from_row, self.stored_rows())

    def stored_rows(self) -> Iterator[StoredRow]:
        """The rows of the entries (domain.stored.STORED_COLUMNS first), in timeline order."""
        for rows in self.stored_chunks():
            yield from rows

    def stored_chunks(self, columns: Collection[int] | None = None,
                      data_of: Iterable[EntryKind] | None = None) -> Iterator[list[StoredRow]]:
        """The rows in timeline order, a chunk (a list) at a time as read; with `columns` (indices
        in STORED_COLUMNS: what the caller reads), only those filled, None in the others' places;
        with `data_of`, `data` only in the rows of those kinds and the pinned ones. A chunk is
        emptied when the next one is asked for: one is held at a time."""
        if not self.blocking and threading.get_ident() == self._loop_thread:
            raise RuntimeError("an EntryStream is read from a worker thread")
        data_of = tuple(data_of) if data_of is not None else None
        pending = self._fetch(None, columns, data_of)
        while True:
            rows = pending()
            if len(rows) < CHUNK:
                self.read += len(rows)
                if rows:
                    yield rows
                return
            # On a loop the next chunk is read while this one is written; without one, when it is
            # wanted, after this one is let go (one chunk held at a time).
            pending = self._fetch((rows[-1][OCCURRED], rows[-1][NUMBER]), columns, data_of)
            self.read += len(rows)
            yield rows
            rows.clear()  # let go before the next is read, even by a caller's `for rows in ...`

    def _fetch(self, after: tuple[str, int] | None, columns: Collection[int] | None,
               data_of: tuple[EntryKind, ...] | None) -> Callable[[], list]:
        """A chunk being read (without an event loop: when called): call it for its rows."""
        def reading():
            return record_reads.entry_rows_after(self.reader, self.incident_id, self.newest, after, CHUNK, self.kinds,
                                                 columns, data_of)

        if self.blocking:
            from warroom.store.blocking import run_to_end

            return lambda: run_to_end(reading())
        import asyncio

        return asyncio.run_coroutine_threadsafe(reading(), self.loop).result


async def streamed_record(service, incident_id: str, *, notable: bool = True) -> IncidentRecord:
    """The incident's record with its timeline and its key entries as EntryStreams (its few
    notable entries read at once; not with `notable=False`, for what quotes none: `warroom show`):
    what it holds does not grow with the incident."""
    reader, blocking = service.db.reader, service.db.blocking
    count, newest = await record_reads.timeline_extent(reader, incident_id)  # the snapshot ends at `newest`
    quoted = await record_reads.notable_entries(reader, incident_id, newest, NOTABLE_KINDS) if notable else None
    record = await service.record(incident_id, entries=EntryStream(reader, incident_id, count, newest, blocking=blocking),
                                  notable=quoted,
                                  key_entries=EntryStream(reader, incident_id, count, newest, KEY_KINDS, blocking=blocking))
    return replace(record, spool=spool)  # the report reads the timeline once, its appendix set aside


def spool() -> IO[str]:
    """A private temporary file for text set aside while a report is written (domain.report's
    IncidentRecord.spool): UTF-8, no newline translation; mode 0600 in the system's temporary
    folder, with no name there (gone when closed, or when the process ends, however it ends)."""
    import os

    folder = os.environ.get("TMPDIR") or os.environ.get("TEMP") or os.environ.get("TMP") or "/tmp"
    try:  # Linux: a file that never had a name, without importing tempfile (10 ms for a command)
        return open(os.open(folder, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600), "w+", encoding="utf-8",
                    newline="")
    except (AttributeError, OSError):  # no O_TMPFILE here, or not on that file system
        import tempfile

        return tempfile.TemporaryFile("w+", encoding="utf-8", newline="")


def _write(pieces: Iterable[str], sink: BinaryIO) -> None:
    batch: list[str] = []
    size = 0
    for piece in pieces:
        if len(piece) >= WRITE_BATCH:  # a chunk's lines in one piece: written as it is, not copied into a batch
            if batch:
                sink.write("".join(batch).encode("utf-8"))
                batch, size = [], 0
            sink.write(piece.encode("utf-8"))
            continue
        batch.append(piece)
        size += len(piece)
        if size >= WRITE_BATCH:
            sink.write("".join(batch).encode("utf-8"))
            batch, size = [], 0
    sink.write("".join(batch).encode("utf-8"))
    sink.flush()


async def write_pieces(render: Callable[[], Iterable[str]], sink: BinaryIO, *, blocking: bool = False) -> None:
    """Write what `render()` yields (UTF-8) to `sink`: from a worker thread, or (`blocking`: a
    service opened without an event loop) here."""
    if blocking:
        return _write(render(), sink)
    import asyncio

    await asyncio.to_thread(lambda: _write(render(), sink))
