"""The war-room screen: header, timeline, countdown, roles, health and the entry bar.

It follows the record through a `LiveIncident` (warroom.service.live): every half second, and at
once after each commit through this app's service, it reads the change log and reloads only the
parts that changed; the entries a local write returns join the timeline without being read again.
The procedures (updates, checklists, actions, resolution, escalation, report) are a composed
`WarRoomProcedures`; the Health pane runs the incident's `ProbeMonitor` and shows it.
"""

from __future__ import annotations

import asyncio
import logging

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from warroom.domain import commands as cmd
from warroom.domain.duties import DutyRecord, derive_duties
from warroom.domain.errors import SummaryRequired, WarroomError
from warroom.domain.models import Entry, EntryKind, Incident, StatusUpdate
from warroom.domain.text import size_words, visible
from warroom.ui.messages import (
    AssignRequested, EntryChosen, EntryCommitted, EntryRejected, EntrySubmitted, RecordChanged,
)
from warroom.ui.drafts import EntryDrafts
from warroom.ui.screens.dialogs import AskText
from warroom.ui.screens.help import HelpScreen
from warroom.ui.screens.war_room_procedures import WarRoomProcedures
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.entry_bar import EntryBar
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.health import HealthPane
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline

log = logging.getLogger("warroom.ui")
POLL_SECONDS = 0.1  # another process's commit is on screen within about this (one statement when none came)
READ_ONLY_HIDDEN = {"compose_update", "export_report"}  # procedures that only write
DUTY_KINDS = (EntryKind.SEVERITY, EntryKind.DUTY)  # entries that change what is owed
DETAIL_ROWS, DETAIL_ROWS_SHORT = 2, 1  # text rows under the heading in the detail pane (see warroom.tcss)


class _Source:
    """Feeds the timeline from the service, one page at a time."""

    def __init__(self, service, incident_id: str):
        self.service, self.incident_id = service, incident_id

    async def count(self, query: str) -> int:
        return await self.service.entry_count(self.incident_id, query)

    async def page(self, offset: int, limit: int, query: str) -> list[Entry]:
        return await self.service.entries_page(self.incident_id, offset, limit, query)


class WarRoomScreen(Screen):
    """One incident, live."""

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", tooltip="Every key and entry-bar command"),
        Binding("escape", "focus('#entry-input')", "Entry bar", show=False),
        Binding("ctrl+f", "filter", "Filter", tooltip="Filter the timeline by text, kind or author"),
        Binding("f2,u", "procedure('compose_update')", "Update", tooltip="Compose and post a stakeholder update"),
        Binding("f3", "procedure('checklists')", "Checklists", tooltip="Checklists and playbooks from the policy"),
        Binding("f4", "procedure('actions')", "Actions", tooltip="Action items: owner, due, done"),
        Binding("f6", "procedure('export_report')", "Report", tooltip="Write the post-incident report (Markdown)"),
        Binding("f5", "procedure('escalation')", "Escalation", show=False,
                tooltip="Who the policy says to tell at this severity, by when, and the escalation paths"),
        Binding("ctrl+t", "focus('#timeline')", "Timeline", show=False),
        Binding("ctrl+r", "focus('#roles')", "Roles", show=False),
    ]

    def __init__(self, incident: Incident, **kwargs) -> None:
        super().__init__(**kwargs)
        self.incident = incident
        self.updates: list[StatusUpdate] = []
        self.duty_record: DutyRecord | None = None  # what the countdown's duties derive from
        self.commander: str | None = None
        self.procedures = WarRoomProcedures(self)
        self.live = None
        self._following = self._follow_again = self._loaded = False
        self._stop_listening = None
        self._entry_lock = asyncio.Lock()  # entries commit one at a time, in the order typed
        self.drafts = EntryDrafts(self)  # unsent text survives any exit

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
                yield Static("", id="detail")
            with Vertical(id="side"):
                yield CountdownPane(id="countdown")
                roles = RolesPane(clock, id="roles")
                roles.border_title = "Roles"
                yield roles
                health = HealthPane(id="health")
                health.border_title = "Health"
                yield health
        yield EntryBar(self.policy, id="entry-bar")
        yield Footer()

    async def on_mount(self) -> None:
        if self.service.read_only:
            self.query_one(EntryBar).make_read_only(f"Read-only session: {self.app.user} can look, not write")
            self.query_one(Timeline).focus()
        else:
            self.query_one(EntryBar).input.focus()
            self.drafts.open()
        self.query_one(HealthPane).show([])
        self.live = self.service.live(self.incident.id)
        self._stop_listening = self.service.on_commit(self.follow_record)
        self.follow_record()
        self.query_one(HealthPane).watch_incident(self.incident.id)
        self.set_interval(POLL_SECONDS, self.follow_record)
        self.set_interval(1.0, self.tick)

    def on_unmount(self) -> None:
        """Keep the draft, then stop following the record (the Health pane stops the probes)."""
        try:
            self.drafts.close()
        finally:
            if self._stop_listening is not None:
                self._stop_listening()

    @property
    def monitor(self):
        """The incident's probes as this screen sees them (the Health pane runs the monitor)."""
        return self.query_one(HealthPane).monitor

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        self.set_class(self.size.height < 30, "-short")

    # ---- keeping up with the record ------------------------------------------------------------

    @work(group="record")
    async def follow_record(self) -> None:
        """Read what changed since the last look (a commit here, in another terminal or `warroom log`)
        and post it; one look at a time, and a call during a look asks for one more."""
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
        except Exception as error:  # say the file is locked or gone: try again at the next tick
            log.warning("war room refresh failed: %s", error)
        finally:
            self._following = False

    async def on_record_changed(self, message: RecordChanged) -> None:
        delta = message.delta
        if delta.incident is not None:
            self.incident = delta.incident
        if delta.roster is not None:
            self.commander = next((seat.person for seat in delta.roster if seat.is_commander), None)
            self.query_one(RolesPane).show(delta.roster)
        if delta.updates is not None:
            self.updates = delta.updates
        if delta.incident is not None or delta.roster is not None:
            self.query_one(IncidentHeader).show(self.incident, self.policy, self.commander)
        if (delta.everything or delta.incident is not None or delta.updates is not None
                or any(entry.kind in DUTY_KINDS for entry in delta.appended)):
            self.refresh_duties()
        timeline = self.query_one(Timeline)
        if delta.everything:
            timeline.reset(delta.total)
        else:
            timeline.append(delta.appended, delta.total)
            timeline.restate(delta.restated)
        stack = self.app.screen_stack
        for screen in stack[stack.index(self) + 1:] if self in stack else []:  # dialogs over it follow too
            screen.post_message(RecordChanged(delta))

    @work(group="duties", exclusive=True)
    async def refresh_duties(self) -> None:
        """Re-read what the duties derive from (severity steps, updates, marks; incremental)."""
        self.duty_record = await self.service.duty_record(self.incident)
        self.tick()

    def tick(self) -> None:
        panes = self.query(CountdownPane)  # none once the screen is being taken down (a refresh may end then)
        if self.duty_record is not None and panes:
            panes.first().show(derive_duties(self.policy, self.duty_record), self.service.now(),
                               short=self.has_class("-short"))

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

    # ---- the entry bar -------------------------------------------------------------------------

    def on_entry_submitted(self, message: EntrySubmitted) -> None:
        self.drafts.sent(message.text)
        self.write_entry(message.text)

    @work(group="write")
    async def write_entry(self, text: str) -> None:
        """Parse and apply what was typed, in typed order. The rules are the service's: `/help`
        writes nothing, resolving without a summary asks for one (as `warroom log` refuses it)."""
        try:
            async with self._entry_lock:  # the next entry is parsed against this one's result
                command = await self.service.parse(self.incident.id, text)
                if isinstance(command, cmd.ShowHelp):
                    self.post_message(EntryCommitted(text, []))
                    self.app.call_later(self.action_help)
                    return
                entries = await self.service.apply(self.incident.id, command, self.app.user)
                await self.committed(text, entries)
        except SummaryRequired:
            self.procedures.resolve_with_summary(text)
            return
        except WarroomError as error:
            self.post_message(EntryRejected(str(error), text))
        except Exception as error:  # keep the text: nothing typed is ever lost
            self.post_message(EntryRejected(f"not saved: {type(error).__name__}: {error}", text))
        else:
            self.procedures.after_commit(entries)

    def on_entry_rejected(self, message: EntryRejected) -> None:
        self.query_one(EntryBar).rejected(message.error, message.text)
        self.drafts.settled(message.text)

    def on_entry_committed(self, message: EntryCommitted) -> None:
        self.drafts.settled(message.text)
        self.query_one(Timeline).follow()  # what the scribe just wrote is what they want to see

    # ---- timeline actions ----------------------------------------------------------------------

    @staticmethod
    def entry_heading(entry: Entry) -> Text:
        when = entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        recorded = "" if entry.recorded_at == entry.occurred_at else f" (logged {entry.recorded_at:%H:%M:%S} UTC)"
        text = Text(f"#{entry.number} {when}{recorded} · {entry.kind.glyph} {entry.kind.label} · ")
        text.append(visible(entry.author), style="bold")
        text.append(f"{' · pinned' if entry.pinned else ''}")
        return text

    def on_entry_chosen(self, message: EntryChosen) -> None:
        """The selected entry under the timeline, its lines as typed or pasted, as many as the pane
        holds (cut before rendering: an entry may hold a 1 MB paste); Enter on the timeline shows all."""
        entry = message.entry
        detail = self.query_one("#detail", Static)
        if entry is None:
            detail.update("", layout=False)  # the pane's height is fixed (warroom.tcss): no layout
            return
        rows = DETAIL_ROWS_SHORT if self.has_class("-short") else DETAIL_ROWS
        width = max(20, detail.content_region.width or 80)
        lines = entry.text.split("\n", rows)  # at most rows + 1 pieces
        text = self.entry_heading(entry)
        if sum(max(1, -(-len(line) // width)) for line in lines) <= rows:  # fits, wrapped
            for line in lines:
                text.append("\n" + visible(line))
        else:
            more = f"… {size_words(entry.text)} in all · Enter on the timeline: every line"
            if rows == 1 or len(more) > width:
                more = f"… {size_words(entry.text)} · Enter: all"
            shown = [visible(line[:width])[: width - 1] for line in lines[: max(1, rows - 1)]]
            if rows == 1:  # the first line and the hint share the only row
                shown[0] = shown[0][: max(0, width - len(more) - 1)] + " "
            text.append("\n" + "\n".join(shown))
            text.append(("" if rows == 1 else "\n") + more, style="italic")
        detail.update(text, layout=False)

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

            self.app.push_screen(EntryViewScreen(entry, self.entry_heading(entry)))
        elif message.action == "pin":
            self.apply_command(cmd.PinEntry(number=entry.number, pinned=not entry.pinned),
                               f"{'Unpinned' if entry.pinned else 'Pinned'} #{entry.number}")
        elif message.action == "copy":
            self.app.copy_to_clipboard(f"#{entry.number} {entry.occurred_at:%Y-%m-%d %H:%M:%S} UTC "
                                       f"{entry.author}: {entry.text}")
            self.notify(f"Copied #{entry.number} to the clipboard (OSC 52)")
        elif message.action == "correct":
            self.correct_entry(entry)

    @work(group="dialog")
    async def correct_entry(self, entry: Entry) -> None:
        text = await self.app.push_screen_wait(
            AskText(f"Correct #{entry.number} (the original stays; a correction entry points at it)",
                    value=entry.text))
        if text and text.strip() and text != entry.text:
            self.apply_command(cmd.CorrectEntry(number=entry.number, text=text.strip()),
                               f"Correction of #{entry.number} logged")

    @work(group="write")
    async def apply_command(self, command: cmd.Command, done: str) -> None:
        try:
            entries = await self.service.apply(self.incident.id, command, self.app.user)
            await self.committed(None, entries)
        except WarroomError as error:
            self.notify(visible(str(error)), severity="error", markup=False)
            return
        self.notify(done, markup=False)

    @on(AssignRequested)
    @work(group="dialog")
    async def assign(self, message: AssignRequested) -> None:
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
        self.app.push_screen(HelpScreen())

    @work(group="dialog")
    async def action_filter(self) -> None:
        timeline = self.query_one(Timeline)
        query = await self.app.push_screen_wait(
            AskText("Filter the timeline", value=timeline.query, placeholder="text, author or kind (empty: all)"))
        if query is not None:
            timeline.query = query.strip()
            timeline.focus()

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
