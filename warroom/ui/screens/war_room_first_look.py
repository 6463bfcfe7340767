"""The war room's first look: everything its first frame shows, read before the screen is put up.

Read on a screen that is drawn, each read waited behind the frames being drawn meanwhile (a
statement takes 0.2 ms, the event loop came back to it 20-70 ms later), and each part arrived in
a frame of its own. Read before, they are queued at once on the reader, and the first frame is
drawn once, complete: the record (incident, roles, updates, the newest times), the tail of the
timeline, the duties and action items, the other open incidents, the probes' stored states.

`WarRoomApp.open_incident` awaits `WarRoomScreen.prepare()` (which reads a `FirstLook`) before it
pushes the screen; `WarRoomScreen.on_mount` shows it. A screen without one (a replay) reads
everything after it is mounted, as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from warroom.domain.duty_record import DutyRecord
from warroom.domain.models import ActionItem, Entry
from warroom.service.live import LiveIncident, RecordDelta
from warroom.ui.widgets.health import probe_monitor
from warroom.ui.widgets.timeline import PAGE_SIZE, tail_pages


@dataclass
class FirstLook:
    """What the first frame shows, read (see the module docstring)."""

    live: LiveIncident  # loaded: the screen follows the record from here
    delta: RecordDelta  # everything, as a first poll returns it
    newest: tuple[datetime | None, datetime | None]  # (newest recording time, latest moment)
    pages: dict[int, list[Entry]]  # the timeline's pages of the tail in view
    duty_record: DutyRecord
    actions: list[ActionItem]
    others: tuple  # (the other open incidents, the first duty of each)
    monitor: object  # a warroom.service.monitor.ProbeMonitor showing the stored states

    @classmethod
    async def read(cls, screen, rows: int) -> "FirstLook":
        """Read it for `screen` (not mounted yet); `rows`: at most this many timeline rows in view."""
        service, incident = screen.service, screen.incident
        live = service.live(incident.id)
        delta = await live.load()  # first: the change log's place is taken before anything is read
        incident = delta.incident
        monitor = probe_monitor(screen.app, incident.id)

        async def page(number: int) -> tuple[int, list[Entry]]:
            return number, await service.entries_page(incident.id, number * PAGE_SIZE, PAGE_SIZE)

        newest, duty_record, actions, others, _, *pages = await asyncio.gather(
            service.newest_times(incident.id), service.duty_record(incident), service.actions(incident.id),
            screen.attention.read_others(), monitor.show_stored(),
            *(page(number) for number in tail_pages(delta.total, rows)))
        return cls(live, delta, newest, dict(pages), duty_record, actions, others, monitor)
