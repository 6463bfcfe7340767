"""The war-room screen: header, timeline, countdown, roles, health and the entry bar.

It follows the record through a `LiveIncident` (warroom.service.live): at once after each commit
through this app's service, on a file within POLL_SECONDS of another connection's (a thread
watches the file's version), on a PostgreSQL server at once after anyone's commit (LISTEN), it
reads the change log and reloads only the parts that changed; the
entries a local write returns join the timeline without being read again. When the server goes
away the header says "reconnecting"; when it is back, everything is read again.
The procedures (updates, checklists, actions, resolution, escalation, report) are a composed
`WarRoomProcedures`; the Health pane runs the incident's `ProbeMonitor` and shows it. Following the
record is mixed in from `WarRoomFollowing` (war_room_following), the writes of the entry bar and the
timeline's keys from `WarRoomWrites` (war_room_writes); the message handlers stay here.
"""

from __future__ import annotations

import asyncio
import logging

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input

from warroom.domain import commands as cmd
from warroom.domain.clock import format_moment
from warroom.domain.models import Entry, Incident, StatusUpdate
from warroom.ui.messages import (
    AssignRequested, EntryChosen, EntryCommitted, EntryRejected, EntrySubmitted, RecordChanged,
)
from warroom.ui.clock_watch import ClockWatch
from warroom.ui.drafts import EntryDrafts
from warroom.ui.paint_hold import draw_pending
from warroom.ui.screens.war_room_attention import WarRoomAttention
from warroom.ui.screens.war_room_first_look import FirstLook
from warroom.ui.screens.war_room_following import WarRoomFollowing
from warroom.ui.screens.war_room_procedures import WarRoomProcedures
from warroom.ui.screens.war_room_writes import WarRoomWrites
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.entry_bar import EntryBar
from warroom.ui.widgets.entry_detail import EntryDetail, entry_heading
from warroom.ui.widgets.footer import KeysFooter
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.health import HealthPane
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline

log = logging.getLogger("warroom.ui")
POLL_SECONDS = 0.05  # another process's commit is looked for this often (a thread's PRAGMA; see version_watch)
READ_ONLY_HIDDEN = {"compose_update", "export_report"}  # procedures that only write
DETAIL_ROWS, DETAIL_ROWS_SHORT = 2, 1  # text rows under the heading in the detail pane (see warroom.tcss)
FIRST_FRAME_EVERY = 0.01  # seconds between looks at whether the first frame has everything in it
FIRST_FRAME_WAIT = 2.0  # the probes start checking after the first full frame, or after this at most


class _Source:
    """Feeds the timeline from the service, one page at a time."""

    def __init__(self, service, incident_id: str):
        self.service, self.incident_id = service, incident_id

    async def count(self, query: str) -> int:
        return await self.service.entry_count(self.incident_id, query)

    async def page(self, offset: int, limit: int, query: str) -> list[Entry]:
        return await self.service.entries_page(self.incident_id, offset, limit, query)


class WarRoomScreen(WarRoomFollowing, WarRoomWrites, Screen):
    """One incident, live. `prepare()` reads what its first frame shows before it is put up."""

    LOOK_FIRST = True  # prepare() reads a FirstLook (a replay reads after it is mounted)

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", tooltip="Every key and entry-bar command"),
        Binding("escape", "focus('#entry-input')", "Entry bar", show=False),
        Binding("ctrl+f", "filter", "Filter", show=False, tooltip="Filter the timeline by text, kind or author"),
        Binding("f2,u", "procedure('compose_update')", "Update", tooltip="Compose and post a stakeholder update"),
        Binding("f3", "procedure('checklists')", "Checklists", tooltip="Checklists and playbooks from the policy"),
        Binding("f4", "procedure('actions')", "Actions", tooltip="Action items: owner, due, done"),
        Binding("f5", "procedure('escalation')", "Duties",
                tooltip="Every duty owed (updates, notices, reviews), by when, and the escalation paths"),
        Binding("f6", "procedure('export_report')", "Report", tooltip="Write the post-incident report (Markdown)"),
        Binding("ctrl+o", "switch_incident", "Incidents", show=False,
                tooltip="The other open incidents, with what each owes first: switch to one"),
        Binding("ctrl+n", "declare_incident", "Declare", show=False, tooltip="Declare a new incident"),
        Binding("ctrl+t", "focus('#timeline')", "Timeline", show=False),
        Binding("ctrl+r", "focus('#roles')", "Roles", show=False),
    ]

    def __init__(self, incident: Incident, **kwargs) -> None:
        super().__init__(**kwargs)
        self.incident = incident
        self.updates: list[StatusUpdate] = []
        self.commander: str | None = None
        self.procedures = WarRoomProcedures(self)
        self.attention = WarRoomAttention(self)  # duties, late actions, other incidents: countdown, header
        self.live = None
        self._following = self._follow_again = self._loaded = False
        self._stop_listening = self._stop_watching = self._stop_polling = None
        self._entry_lock = asyncio.Lock()  # entries commit one at a time, in the order typed
        self.drafts = EntryDrafts(self)  # unsent text survives any exit
        self.clock_watch = ClockWatch()  # a clock behind the record, or entries landing out of sight
        self.first_frame = asyncio.Event()  # set once drawn in full: record, timeline tail, duties, probes
        self._record_shown = False  # the first look at the record is on the screen
        self._first_look: FirstLook | None = None  # read by prepare(), shown by on_mount

    @property
    def service(self):
        return self.app.service

    @property
    def policy(self):
        return self.service.policy_for(self.incident)

    def compose(self) -> ComposeResult:
        clock = self.service.now
        yield IncidentHeader(clock, id="header")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                timeline = Timeline(_Source(self.service, self.incident.id), clock, id="timeline")
                timeline.border_title = "Timeline (times UTC)"
                yield timeline
                yield EntryDetail("", id="detail")
            with Vertical(id="side"):
                yield CountdownPane(id="countdown")
                roles = RolesPane(clock, id="roles")
                roles.border_title = "Roles"
                yield roles
                health = HealthPane(id="health")
                health.border_title = "Health"
                yield health
        yield EntryBar(self.policy, id="entry-bar")
        yield KeysFooter()

    async def prepare(self) -> None:
        """Read everything the first frame shows (see war_room_first_look), before being pushed;
        if that fails, the screen reads after it is mounted."""
        if not self.LOOK_FIRST:
            return
        try:
            self._first_look = await FirstLook.read(self, self.app.size.height)
        except Exception as error:  # say the file is busy: the screen's own looks try again
            log.warning("first look at %s failed: %s", self.incident.id, error)

    async def on_mount(self) -> None:
        if self.service.read_only:
            self.query_one(EntryBar).make_read_only(f"Read-only session: {self.app.user} can look, not write")
            self.query_one(Timeline).focus()
        else:
            self.query_one(EntryBar).input.focus()
            self.drafts.open()
        self._fit(self.app.size)
        look, self._first_look = self._first_look, None
        health = self.query_one(HealthPane)
        self.live = look.live if look else self.service.live(self.incident.id)
        self._stop_listening = self.service.on_commit(self._commit_heard)
        self._stop_watching = self.service.on_connection(self._connection_changed)
        if look is None:
            health.show([])
            self.follow_record()
            health.watch_incident(self.incident.id)
        else:  # all of the first frame at once
            self._loaded = True
            self.clock_watch.start(*look.newest, look.delta.total)
            self._show_record(look.delta, look.pages)
            self.check_clock()  # in the first frame: it came with the first tick, a second later
            self.on_entry_chosen(EntryChosen(self.query_one(Timeline).selected))  # the detail pane too
            health.show_board(look.monitor)
            health.watch_incident(self.incident.id, look.monitor)
        if not self.service.pushes_changes:  # a file: a thread watches it; a server says when
            self._loop = asyncio.get_running_loop()
            self._stop_polling = self.service.watch_commits(self._version_moved, POLL_SECONDS)
        self.attention.start(look)
        self._first_frame_look = self.set_interval(FIRST_FRAME_EVERY, self._look_at_first_frame)
        self.set_timer(FIRST_FRAME_WAIT, self._first_frame_drawn)  # whatever is still missing then
        if self.service.connection_state != "connected":
            self._connection_changed(self.service.connection_state)
        warning = self.service.clock_warning()
        if warning:
            self.notify(warning, severity="warning", timeout=15, markup=False)

    def _look_at_first_frame(self) -> None:
        """Once everything the first frame shows is in (the record, the tail of the timeline, the
        duties and actions, the probes' stored states), `first_frame` is set after it is drawn:
        the work that can wait (the probe lease, the HTTP clients' import) waits for it."""
        if not (self._record_shown and self.attention.settled and self.query_one(Timeline).tail_shown
                and self.query_one(HealthPane).board_shown):
            return
        self._first_frame_look.stop()
        self.call_after_refresh(self._first_frame_drawn)

    def _first_frame_drawn(self) -> None:
        self._first_frame_look.stop()
        self.first_frame.set()
        self.app.drawn()

    def on_unmount(self) -> None:
        """Keep the draft, then stop following the record (the Health pane stops the probes)."""
        try:
            self.drafts.close()
        finally:
            for stop in (self._stop_listening, self._stop_watching, self._stop_polling):
                if stop is not None:
                    stop()
            self.procedures.close()

    @property
    def monitor(self):
        """The incident's probes as this screen sees them (the Health pane runs the monitor)."""
        return self.query_one(HealthPane).monitor

    def on_resize(self) -> None:
        self._fit(self.size)

    def _fit(self, size) -> None:
        """The layout for a terminal of `size` (on_mount does it with the app's, so the first frame
        is laid out for it, not again once the screen learns its size)."""
        self.set_class(size.width < 100, "-narrow")
        self.set_class(size.height < 30, "-short")
        self.query_one(IncidentHeader).show_facts(size.width >= 100 and size.height >= 30)

    # ---- keeping up with the record (WarRoomFollowing) -----------------------------------------

    async def on_record_changed(self, message: RecordChanged) -> None:
        delta = message.delta
        if delta.everything:
            self.clock_watch.start(*await self.service.newest_times(self.incident.id), delta.total)
        self._show_record(delta)
        # Drawn at once, not at Textual's next frame slot (warroom.ui.paint_hold): someone else's
        # entry as soon as it is read (one look at a time, on a file at most one per POLL_SECONDS,
        # so no more frames than looks); nothing while an Enter holds the painting (its release draws).
        self.call_later(draw_pending, self.app)

    def tick(self) -> None:
        """Every second (the attention's one timer; a replay's clock moving too): the duties at this
        second, the header's clock, the time since each probe's check, and a warning when this
        computer's clock is behind the record. One timer for all, so they are drawn in one frame."""
        self.check_clock()
        self.attention.tick()
        for header in self.query(IncidentHeader):  # none once the screen is being taken down
            header.tick()
        for health in self.query(HealthPane):
            health.refresh_rows()

    # ---- the entry bar (its writes: WarRoomWrites) ---------------------------------------------

    def on_entry_submitted(self, message: EntrySubmitted) -> None:
        self.drafts.sent(message.text)
        self.write_entry(message.text, message.painting)

    def on_entry_rejected(self, message: EntryRejected) -> None:
        self.query_one(EntryBar).rejected(message.error, message.text)
        self.drafts.settled(message.text)

    def on_entry_committed(self, message: EntryCommitted) -> None:
        self.drafts.settled(message.text)
        for entry in self.clock_watch.landed_earlier(message.entries):  # the timeline follows its end
            when = format_moment(entry.occurred_at, self.service.now())
            self.notify(f"#{entry.number} went in at {when}, earlier in the timeline (not at its end)",
                        markup=False, timeout=8)
        self.query_one(Timeline).follow()  # what the scribe just wrote is what they want to see

    # ---- timeline actions ----------------------------------------------------------------------

    def on_entry_chosen(self, message: EntryChosen) -> None:
        rows = DETAIL_ROWS_SHORT if self.has_class("-short") else DETAIL_ROWS
        self.query_one(EntryDetail).show(message.entry, rows)

    def on_timeline_action(self, message: Timeline.Action) -> None:
        entry = message.entry
        if message.action == "filter":
            self.action_filter()
            return
        if entry is None:
            self.notify("Select an entry first", severity="warning")
            return
        if message.action == "view":
            from warroom.ui.screens.entry_view import EntryViewScreen

            self.app.push_screen(EntryViewScreen(entry, entry_heading(entry)))
        elif message.action == "pin":
            self.apply_command(cmd.PinEntry(number=entry.number, pinned=not entry.pinned),
                               f"{'Unpinned' if entry.pinned else 'Pinned'} #{entry.number}")
        elif message.action == "copy":
            self.app.copy_to_clipboard(f"#{entry.number} {entry.occurred_at:%Y-%m-%d %H:%M:%S} UTC "
                                       f"{entry.author}: {entry.text}")
            self.notify(f"Copied #{entry.number} to the clipboard (OSC 52)")
        elif message.action == "correct":
            self.correct_entry(entry)
        elif message.action == "detected":
            self.offer_detected(entry)

    @on(AssignRequested)
    @work(group="dialog")
    async def assign(self, message: AssignRequested) -> None:
        from warroom.ui.screens.dialogs import AskText

        person = await self.app.push_screen_wait(AskText(f"Who takes {message.role_name}?", placeholder="name"))
        if person and person.strip():
            self.apply_command(cmd.AssignRole(role_id=message.role_id, person=person.strip().lstrip("@")),
                               f"{message.role_name}: {person.strip()}")

    # ---- key actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """In a read-only session the keys that only write are left out (of the footer too: a dimmed
        key would say so by colour alone)."""
        if (action == "procedure" and parameters and parameters[0] in READ_ONLY_HIDDEN
                and self.service is not None and self.service.read_only):
            return False
        return True

    def action_procedure(self, name: str) -> None:
        """F2-F6: one of the procedures (see WarRoomProcedures)."""
        getattr(self.procedures, name)()

    def action_help(self) -> None:
        from warroom.ui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_switch_incident(self) -> None:
        self.app.choose_incident(self.incident.id)

    def action_declare_incident(self) -> None:
        self.app.choose_incident(self.incident.id, declare=True)

    @work(group="dialog")
    async def action_filter(self) -> None:
        from warroom.ui.screens.dialogs import AskText

        timeline = self.query_one(Timeline)
        query = await self.app.push_screen_wait(
            AskText("Filter the timeline", value=timeline.query, placeholder="text, author or kind (empty: all)"))
        if query is not None:
            timeline.query = query.strip()
            timeline.focus()

    def escape_returned(self) -> None:
        """A dialog over this screen was closed with Escape: back to the entry bar, as Escape does here."""
        bar = self.query_one(EntryBar).input
        if not bar.disabled:
            self.set_focus(bar)

    def prefill(self, text: str) -> None:
        """Put a command in the entry bar for the user to finish (used by the palette)."""
        bar = self.query_one(EntryBar)
        bar.set_text(text)
        bar.input.focus()

    def unsent_text(self) -> str:
        return self.drafts.unsent().strip()

    def on_paste(self, event: events.Paste) -> None:
        """A paste while another pane has the focus goes to the entry bar, not nowhere."""
        event.stop()
        bar = self.query_one(EntryBar).input
        bar.focus()
        bar.insert_block(event.text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "entry-input":
            self.drafts.bar_changed()

    def palette_commands(self):
        """(name, callback, help) for the command palette (see warroom.ui.palette)."""
        from warroom.ui.palette import war_room_commands

        return war_room_commands(self)
