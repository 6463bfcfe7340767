"""Time as the war room sees it: a clock behind the record, a clock that jumped back, and entries
that land earlier in the timeline than its end (issue 9, item 13).

Every entry is dated by the clock of the computer that wrote it. When this computer's clock is
behind the record's newest entry, what is written here lands before it (even before the
declaration) and milestones can be refused as out of order; the war room says so in the header,
once on the timeline, and with a toast for each entry that went in out of sight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from warroom.domain.clock import CLOCK_TOLERANCE, clock_behind, format_duration, format_moment
from warroom.domain.models import Entry


class ClockWatch:
    """One screen's view of the record's times (fed with every entry it shows) and of its clock."""

    def __init__(self) -> None:
        self.newest_recorded: datetime | None = None  # the record's newest entry, by its writer's clock
        self.newest_occurred: datetime | None = None  # the latest moment on the timeline
        self.last_number = 0  # the newest entry number seen (a pin returns an older entry: not new)
        self.logged = False  # the timeline was told once that this clock is behind
        self._last_now: datetime | None = None
        self._jump_floor: datetime | None = None  # the clock jumped back from here; trusted again past it

    def start(self, newest_recorded: datetime | None, latest_occurred: datetime | None, total: int) -> None:
        """What the record held when the screen (re)loaded it."""
        self.newest_recorded, self.newest_occurred, self.last_number = newest_recorded, latest_occurred, total

    def note(self, entries: list[Entry]) -> None:
        for entry in entries:
            self.last_number = max(self.last_number, entry.number)
            if self.newest_recorded is None or entry.recorded_at > self.newest_recorded:
                self.newest_recorded = entry.recorded_at
            if self.newest_occurred is None or entry.occurred_at > self.newest_occurred:
                self.newest_occurred = entry.occurred_at

    def look(self, now: datetime) -> tuple[str, timedelta | None]:
        """(the header's warning, "" when the clock can be trusted; how far it is behind the record)."""
        if self._last_now is not None and now < self._last_now - CLOCK_TOLERANCE:
            self._jump_floor = max(self._jump_floor or self._last_now, self._last_now)
        self._last_now = now
        if self._jump_floor is not None and now >= self._jump_floor:
            self._jump_floor = None
        behind = clock_behind(now, self.newest_recorded)
        if behind is not None:
            return (f"clock {format_duration(behind)} behind the record (newest entry "
                    f"{format_moment(self.newest_recorded, now, seconds=False)}); check NTP"), behind
        if self._jump_floor is not None:
            return f"clock jumped back {format_duration(self._jump_floor - now)}; check NTP", None
        return "", None

    def landed_earlier(self, entries: list[Entry]) -> list[Entry]:
        """Of entries just written, those that went in before the timeline's end (out of sight there)."""
        newest = self.newest_occurred
        return [entry for entry in entries
                if entry.number > self.last_number and newest is not None and entry.occurred_at < newest]
