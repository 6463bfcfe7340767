"""Following an incident as it changes, cheaply: the change log (schema V4) read through a cursor.

`ChangeCursor` asks the database's data version first (on a SQLite file `PRAGMA data_version`, one
statement that changes only when another connection committed; on a PostgreSQL server a counter
its LISTEN moves, no round trip) and reads the change log only when it moved. When the connection
to a server came back after a loss (`generation`), it reloads everything: what happened while it
was away is not in any notification. `LiveIncident` is one screen's view of an incident built on
it: a poll reloads only the parts that changed and returns them as a `RecordDelta`; entries a
local write returns are taken as they are, without reading them again.

When to poll: on a file, on a timer and after each local commit; on a server (`pushes_changes`)
only when told, since every commit anywhere calls the service's commit listeners.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from warroom.domain.models import Entry, Incident, StatusUpdate
from warroom.store import changes as log
from warroom.store import queries as q
from warroom.store.changes import (  # the parts a delta names, for the UI (which never imports the store)
    ACTIONS, CHECKLIST, ENTRIES, ENTRY, INCIDENT, PARTS, PROBE_STATE, PROBES, ROLES, UPDATES,
)

__all__ = ["ACTIONS", "CHECKLIST", "ENTRIES", "ENTRY", "INCIDENT", "PARTS", "PROBES", "PROBE_STATE", "ROLES",
           "UPDATES", "ChangeCursor", "LiveIncident", "RecordDelta"]

POLL_LIMIT = 500  # more changes than this since the last poll: reload everything instead


class ChangeCursor:
    """One reader's place in the change log of a database."""

    def __init__(self, db):
        self.db = db
        self.position: int | None = None
        self.moved = False  # the last poll saw a commit (of anything: probe results too)
        self._version: int | None = None
        self._generation = 0

    async def start(self) -> None:
        """Start from now: take the position before reading anything, so no later commit is missed."""
        generation = self.db.generation
        version = await self.db.data_version()
        position = await log.last_change_id(self.db.reader)
        self._generation, self._version, self.position = generation, version, position

    def invalidate(self) -> None:
        """A look failed part-way (the server went again, say): the next poll reads everything."""
        self._generation = -1

    async def poll(self, incident_id: str) -> list[log.Change] | None:
        """The incident's changes since the last poll ([] when only other data moved, such as probe
        results or another incident), or None when the reader fell behind the bounded log."""
        if self.db.generation != self._generation:  # back after a lost connection: look at everything
            self.moved = True
            await self.start()
            return None
        version = await self.db.data_version()
        self.moved = version != self._version
        if not self.moved:
            return []
        rows = await log.changes_since(self.db.reader, self.position, POLL_LIMIT)
        self._version = version
        if rows and (rows[0].id != self.position + 1 or len(rows) == POLL_LIMIT):
            await self.start()
            return None
        if rows:
            self.position = rows[-1].id
        return [row for row in rows if row.incident_id == incident_id]


@dataclass(frozen=True)
class RecordDelta:
    """What changed in an incident since the last look. `incident`, `roster` and `updates` are set
    only when they changed; `appended` are new entries (number order) and `restated` entries whose
    pin changed. `everything`: reload every view (first load, or the reader fell behind)."""

    parts: frozenset[str]
    incident: Incident | None = None
    roster: list | None = None
    updates: list[StatusUpdate] | None = None
    appended: list[Entry] = field(default_factory=list)
    restated: list[Entry] = field(default_factory=list)
    everything: bool = False
    total: int = 0  # entries in the incident after this delta

    def __contains__(self, part: str) -> bool:
        return self.everything or part in self.parts


class LiveIncident:
    """One incident as a screen shows it, kept current by `poll()` and `written()`."""

    def __init__(self, service, incident_id: str):
        self.service, self.incident_id = service, incident_id
        self.cursor = ChangeCursor(service.db)
        self.incident: Incident | None = None
        self.last_number = 0  # every entry numbered up to here has been handed out
        self.missing = 0  # numbers below it without an entry (a salvaged file): the total is the difference
        self._lock = asyncio.Lock()  # a poll and a local write never hand out the same entry twice

    async def load(self) -> RecordDelta:
        """Everything (the first look)."""
        async with self._lock:
            try:
                return await self._load_all()
            except BaseException:
                self.cursor.invalidate()
                raise

    async def _load_all(self) -> RecordDelta:
        await self.cursor.start()
        service = self.service
        self.incident = await service.incident(self.incident_id)
        self.last_number = await q.last_entry_number(service.db.reader, self.incident_id)
        self.missing = await service.missing_numbers(self.incident_id)
        return RecordDelta(frozenset(log.PARTS), incident=self.incident, roster=await service.roster(self.incident),
                           updates=await service.updates(self.incident_id), everything=True,
                           total=self.last_number - self.missing)

    async def poll(self) -> RecordDelta | None:
        """What another connection (or this service) committed since the last look; None if nothing
        about this incident. Costs one statement when nothing was committed anywhere."""
        async with self._lock:
            try:
                found = await self.cursor.poll(self.incident_id)
                if found is None:
                    return await self._load_all()
                if not found:
                    return None
                return await self._reload(found)
            except BaseException:  # half a look shows half the change: the next one reads everything
                self.cursor.invalidate()
                raise

    async def _reload(self, found: list[log.Change]) -> RecordDelta:
        service, parts = self.service, frozenset(change.part for change in found)
        incident = roster = updates = None
        if log.INCIDENT in parts:
            incident = self.incident = await service.incident(self.incident_id)
        if log.ROLES in parts:
            roster = await service.roster(self.incident)
        if log.UPDATES in parts:
            updates = await service.updates(self.incident_id)
        appended = []
        newest = max((c.number for c in found if c.part == log.ENTRIES and c.number), default=0)
        if newest > self.last_number:
            appended = await q.entries_after(service.db.reader, self.incident_id, self.last_number)
            self.last_number = max([self.last_number] + [entry.number for entry in appended])
        pinned = {c.number for c in found if c.part == log.ENTRY and c.number} - {e.number for e in appended}
        restated = await q.entries_numbered(service.db.reader, self.incident_id, pinned) if pinned else []
        return RecordDelta(parts, incident=incident, roster=roster, updates=updates, appended=appended,
                           restated=restated, total=self.last_number - self.missing)

    async def written(self, entries: list[Entry]) -> RecordDelta:
        """The entries a local write returned, as a delta: new ones appended without reading them
        again (unless an entry from elsewhere came in between), existing ones (a pin) restated."""
        async with self._lock:
            new = sorted((e for e in entries if e.number > self.last_number), key=lambda e: e.number)
            restated = [e for e in entries if e.number <= self.last_number]
            if new and [e.number for e in new] != list(range(self.last_number + 1, self.last_number + 1 + len(new))):
                new = await q.entries_after(self.service.db.reader, self.incident_id, self.last_number)
            if new:
                self.last_number = max(e.number for e in new)
            parts = frozenset(([log.ENTRIES] if new else []) + ([log.ENTRY] if restated else []))
            return RecordDelta(parts, appended=new, restated=restated, total=self.last_number - self.missing)
