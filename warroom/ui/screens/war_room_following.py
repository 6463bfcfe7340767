"""Keeping a war room current with the record: a commit heard here, on the server or (on a file)
from the version watch's thread sets off one look at the change log at a time (`follow_record`);
what changed is shown pane by pane (`_show_record`), entries this screen wrote without reading them
back (`committed`), and the header says when the server is away or this computer's clock is
behind the record (warroom.ui.clock_watch).

`WarRoomFollowing` is mixed into WarRoomScreen, which holds its state (`live`, `_following`, ...);
the message handlers (`on_record_changed`) stay on the screen.
"""

from __future__ import annotations

import logging

from textual import work

from warroom.domain.clock import clock_note
from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry, EntryKind
from warroom.service.live import ACTIONS
from warroom.ui.messages import EntryCommitted, RecordChanged
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline

log = logging.getLogger("warroom.ui")
RETRY_SECONDS = 1.0  # on a server, a look that failed is tried again this soon
DUTY_KINDS = (EntryKind.SEVERITY, EntryKind.DUTY)  # entries that change what is owed


class WarRoomFollowing:
    """The war-room screen's side that follows the record and shows what changed."""

    def _commit_heard(self) -> None:
        """A commit here, or (on a server) anywhere: look at what changed, on this screen's turn."""
        self.call_later(self.follow_record)

    def _version_moved(self) -> None:
        """Someone committed to the file (said from the version watch's thread): look, on this
        screen's turn. Nothing runs on the event loop while nobody commits."""
        try:
            self._loop.call_soon_threadsafe(self._commit_heard)
        except RuntimeError:  # the loop is closed: nothing left to show
            pass

    def _connection_changed(self, state: str) -> None:
        self.call_later(self.show_connection, state)

    def show_connection(self, state: str) -> None:
        """The database server went away ("reconnecting") or came back ("connected"): say so in the
        header. When back, the change log is read from scratch (see LiveIncident)."""
        away = state != "connected"
        self.query_one(IncidentHeader).show_connection(
            "reconnecting to the database server… (nothing can be saved until it is back)" if away else None)
        if away:
            self.notify("The database server is away: reconnecting. Unsent text stays in the entry bar.",
                        severity="warning", markup=False)
        else:
            self.notify("The database server is back: the war room is current again.", markup=False)
            self.follow_record()

    @work(group="record")
    async def follow_record(self) -> None:
        """Read what changed since the last look (a commit here, in another terminal or `warroom log`)
        and post it; one look at a time, and a call during a look asks for one more."""
        await self._follow()

    async def _follow(self) -> None:
        """follow_record's look: when nothing about this incident was committed it costs one PRAGMA
        (the store's data_version, answered on the loop in microseconds) and no message."""
        if self._following:
            self._follow_again = True
            return
        self._following = self._follow_again = True
        try:
            while self._follow_again:
                self._follow_again = False
                delta = await (self.live.poll() if self._loaded else self.live.load())
                self._loaded = True
                if delta is not None:
                    self.post_message(RecordChanged(delta))
        except Exception as error:  # say the file is locked or gone: look again soon (all of it)
            log.warning("war room refresh failed: %s", error)
            self.set_timer(RETRY_SECONDS, self.follow_record)  # nothing else may move: no tick looks
        finally:
            self._following = False

    def _show_record(self, delta, pages: dict | None = None) -> None:
        """Show what changed; `pages`: the timeline's tail, read with a first look (which read the
        duties and the action items too)."""
        self.clock_watch.note(delta.appended)
        if delta.incident is not None:
            self.incident = delta.incident
        if delta.roster is not None:
            self.commander = next((seat.person for seat in delta.roster if seat.is_commander), None)
            self.query_one(RolesPane).show(delta.roster)
        if delta.updates is not None:
            self.updates = delta.updates
        if delta.incident is not None or delta.roster is not None:
            self.query_one(IncidentHeader).show(self.incident, self.policy, self.commander)
        if pages is None and (delta.everything or delta.incident is not None or delta.updates is not None
                              or any(entry.kind in DUTY_KINDS for entry in delta.appended)):
            self.attention.reload_duties()
        if pages is None and (ACTIONS in delta or delta.incident is not None):
            self.attention.reload_actions()
        timeline = self.query_one(Timeline)
        if delta.everything:
            timeline.reset(delta.total, pages)
        else:
            timeline.append(delta.appended, delta.total)
            timeline.restate(delta.restated)
        self._record_shown = True
        stack = self.app.screen_stack
        for screen in stack[stack.index(self) + 1:] if self in stack else []:  # dialogs over it follow too
            screen.post_message(RecordChanged(delta))

    def check_clock(self) -> None:
        """The header says when this computer's clock is behind the record or jumped back; the
        timeline is told once (warroom.ui.clock_watch)."""
        headers = self.query(IncidentHeader)  # none once the screen is being taken down
        if not headers:
            return
        now = self.service.now()
        warning, behind = self.clock_watch.look(now)
        headers.first().warn_clock(warning)
        if behind is not None and not self.clock_watch.logged and not self.service.read_only:
            self.clock_watch.logged = True
            self.log_clock(clock_note(now, self.clock_watch.newest_recorded, behind), behind)

    @work(group="write")
    async def log_clock(self, note: str, behind) -> None:
        try:
            entry = await self.service.record_system(
                self.incident.id, f"Clock warning from {self.app.user}'s screen: {note}",
                {"clock_behind_seconds": round(behind.total_seconds())})
        except WarroomError as error:
            log.warning("clock warning not logged: %s", error)
            return
        await self.committed(None, [entry])

    async def committed(self, text: str | None, entries: list[Entry]) -> None:
        """Entries this screen just committed: shown without reading them back. Call it right after
        the write returns (before anything else awaits), so the look at the change log that the
        commit set off finds them already shown."""
        try:
            delta = await self.live.written(entries)
        except Exception as error:  # they are saved all the same: the next look shows them
            log.warning("written entries not shown at once: %s", error)
            delta = None
        if text is not None:
            self.post_message(EntryCommitted(text, entries))
        if delta is not None:
            self.post_message(RecordChanged(delta))
