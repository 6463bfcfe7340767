"""The war-room screen: header, timeline, countdown, roles, health and the entry bar."""

from __future__ import annotations

import asyncio
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from warroom.domain import commands as cmd
from warroom.domain.duties import DutyRecord, derive_duties
from warroom.domain.errors import SummaryRequired, WarroomError
from warroom.domain.models import Entry, Incident
from warroom.domain.policy import update_cadences
from warroom.domain.text import visible
from warroom.ui.messages import (
    AssignRequested, EntryChosen, EntryCommitted, EntryRejected, EntrySubmitted, RecordChanged,
)
from warroom.ui.screens.dialogs import AskText
from warroom.ui.screens.help import HelpScreen
from warroom.ui.screens.war_room_procedures import ProceduresMixin
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.entry_bar import EntryBar
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.health import HealthPane
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline

POLL_SECONDS = 0.5
READ_ONLY_HIDDEN = {"compose", "export_report"}  # actions that only write


class _Source:
    """Feeds the timeline from the service, one page at a time."""

    def __init__(self, service, incident_id: str):
        self.service, self.incident_id = service, incident_id

    async def count(self, query: str) -> int:
        return await self.service.entry_count(self.incident_id, query)

    async def page(self, offset: int, limit: int, query: str) -> list[Entry]:
        return await self.service.entries_page(self.incident_id, offset, limit, query)


class WarRoomScreen(ProceduresMixin, Screen):
    """One incident, live."""

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", tooltip="Every key and entry-bar command"),
        Binding("escape", "to_entry_bar", "Entry bar", show=False),
        Binding("ctrl+f", "filter", "Filter", tooltip="Filter the timeline by text, kind or author"),
        Binding("f2,u", "compose", "Update", tooltip="Compose and post a stakeholder update"),
        Binding("f3", "procedures", "Checklists", tooltip="Checklists and playbooks from the policy"),
        Binding("f4", "actions", "Actions", tooltip="Action items: owner, due, done"),
        Binding("f6", "export_report", "Report", tooltip="Write the post-incident report (Markdown)"),
        Binding("f5", "escalation", "Escalation", show=False,
                tooltip="Who the policy says to tell at this severity, by when, and the escalation paths"),
        Binding("ctrl+t", "focus_timeline", "Timeline", show=False),
        Binding("ctrl+r", "focus_roles", "Roles", show=False),
    ]

    def __init__(self, incident: Incident, **kwargs) -> None:
        super().__init__(**kwargs)
        self.incident = incident
        self.duty_record: DutyRecord | None = None  # what the countdown's duties derive from
        self._data_version: int | None = None
        self._last_entry_id = 0
        self._entry_lock = asyncio.Lock()  # entries commit one at a time, in the order typed

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
        self.query_one(HealthPane).show([])
        self.refresh_record()
        self.start_probes()
        self.set_interval(POLL_SECONDS, self.poll_changes)
        self.set_interval(1.0, self.tick)

    # ---- probes (the Health pane drives the monitor; see warroom.service.monitor) -------------------------

    @work(group="probes", exclusive=True)
    async def start_probes(self) -> None:
        from warroom.service.monitor import ProbeMonitor, retention_setting

        problem = lambda text: self.notify(text, title="Probes", severity="error", timeout=12, markup=False)  # noqa: E731
        retention, wrong = retention_setting(self.app.config.probe_retention)
        if wrong:
            problem(wrong)
        self.monitor = ProbeMonitor(
            self.service, self.incident.id, probes_path=getattr(self.app, "probes_path", None),
            on_entry=lambda entry: self.refresh_record(), on_problem=problem, retention=retention,
        )
        await self.monitor.start()
        self.query_one(HealthPane).post_message(HealthPane.MonitorReady(self.monitor))

    def on_health_pane_details_requested(self, message: HealthPane.DetailsRequested) -> None:
        from warroom.ui.screens.probe_detail import ProbeDetailScreen

        if getattr(self, "monitor", None) is not None:
            self.app.push_screen(ProbeDetailScreen(self.monitor, message.name))

    async def on_unmount(self) -> None:
        if getattr(self, "monitor", None) is not None:
            await self.monitor.stop()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")
        self.set_class(self.size.height < 30, "-short")

    # ---- keeping up with the record ------------------------------------------------------------

    @work(group="record", exclusive=True)
    async def refresh_record(self) -> None:
        service = self.service
        incident = await service.incident(self.incident.id)
        roster = await service.roster(incident)
        self.duty_record = await service.duty_record(incident)
        last_id = await service.last_entry_id(incident.id)
        self._data_version = await service.data_version()
        self.post_message(RecordChanged(incident, roster, last_id))

    @work(group="poll", exclusive=True)
    async def poll_changes(self) -> None:
        """Another process (warroom log, a second screen) committed: reload within half a second."""
        version = await self.service.data_version()
        if self._data_version is not None and version != self._data_version:
            self.refresh_record()

    async def on_record_changed(self, message: RecordChanged) -> None:
        self.incident = message.incident
        commander = next((seat.person for seat in message.roster if seat.is_commander), None)
        self.query_one(IncidentHeader).show(message.incident, self.policy, commander)
        self.query_one(RolesPane).show(message.roster)
        self.tick()
        if message.last_entry_id != self._last_entry_id:
            self._last_entry_id = message.last_entry_id
            await self.query_one(Timeline).reload()

    def tick(self) -> None:
        if self.duty_record is not None:
            self.query_one(CountdownPane).show(derive_duties(self.policy, self.duty_record), self.service.now(),
                                               short=self.has_class("-short"))

    # ---- the entry bar -------------------------------------------------------------------------

    def on_entry_submitted(self, message: EntrySubmitted) -> None:
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
        except SummaryRequired:
            self.resolve_with_summary(text)
            return
        except WarroomError as error:
            self.post_message(EntryRejected(str(error), text))
        except Exception as error:  # keep the text: nothing typed is ever lost
            self.post_message(EntryRejected(f"not saved: {type(error).__name__}: {error}", text))
        else:
            self.post_message(EntryCommitted(text, entries))
            self.after_commit(entries)

    def on_entry_rejected(self, message: EntryRejected) -> None:
        self.query_one(EntryBar).rejected(message.error, message.text)

    def on_entry_committed(self, message: EntryCommitted) -> None:
        self.query_one(Timeline).follow()  # what the scribe just wrote is what they want to see
        self.refresh_record()

    # ---- timeline actions ----------------------------------------------------------------------

    def on_entry_chosen(self, message: EntryChosen) -> None:
        entry = message.entry
        detail = self.query_one("#detail", Static)
        if entry is None:
            detail.update("")
            return
        when = entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        recorded = "" if entry.recorded_at == entry.occurred_at else f" (logged {entry.recorded_at:%H:%M:%S} UTC)"
        text = Text(f"#{entry.number} {when}{recorded} · {entry.kind.glyph} {entry.kind.label} · ")
        text.append(visible(entry.author), style="bold")
        text.append(f"{' · pinned' if entry.pinned else ''}\n")
        text.append(visible(entry.text, keep_newlines=True))
        detail.update(text)

    def on_timeline_action(self, message: Timeline.Action) -> None:
        entry = message.entry
        if message.action == "filter":
            self.action_filter()
            return
        if entry is None:
            self.notify("Select an entry first", severity="warning")
            return
        if message.action == "pin":
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
            await self.service.apply(self.incident.id, command, self.app.user)
        except WarroomError as error:
            self.notify(visible(str(error)), severity="error", markup=False)
            return
        self.notify(done, markup=False)
        await self.query_one(Timeline).reload()
        self.refresh_record()

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
        if action in READ_ONLY_HIDDEN and self.service is not None and self.service.read_only:
            return False
        return True

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_to_entry_bar(self) -> None:
        self.query_one(EntryBar).input.focus()

    def action_focus_timeline(self) -> None:
        self.query_one(Timeline).focus()

    def action_focus_roles(self) -> None:
        self.query_one(RolesPane).focus()

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
        bar.input.value = text
        bar.input.cursor_position = len(text)
        bar.input.focus()

    def unsent_text(self) -> str:
        return self.query_one(EntryBar).input.value.strip()

    def now(self) -> datetime:
        return self.service.now()

    def palette_commands(self):
        """(name, callback, help) for the command palette."""
        from warroom.ui.palette import run_text

        timeline = self.query_one(Timeline)
        found = [
            ("Help: keys and commands", self.action_help, "Every key and entry-bar command"),
            ("Filter timeline", self.action_filter, "Show only entries matching text, author or kind"),
            ("Clear timeline filter", lambda: setattr(timeline, "query", ""), "Show every entry"),
            ("Jump to latest entry", timeline.action_last, "Select the newest entry and follow the tail"),
            ("Pin / unpin selected entry", timeline.action_pin, "Pinned entries lead the report's key timeline"),
            ("Correct selected entry", timeline.action_correct, "Log a correction that points at the entry"),
            ("Copy selected entry", timeline.action_copy, "Copy to the clipboard (OSC 52)"),
            ("Compose update…", self.action_compose, "Draft from the record, edit, post and deliver"),
            ("Quick update…", partial_prefill(self, "/update "), "Post a one-line update and reset the countdown"),
            ("Checklists and playbooks", self.action_procedures, "Tick checklist items, attach playbooks"),
            ("Action items", self.action_actions, "Owners, due dates, done"),
            ("Write post-incident report", self.action_export_report, "Markdown report into the updates folder"),
            ("Escalation: who to tell now", self.action_escalation, "Parties and deadlines for this severity (F5)"),
            ("Log decision…", partial_prefill(self, "/decision "), "Record a decision"),
            ("Add action item…", partial_prefill(self, "/action "), "A follow-up with @owner and due:DATE"),
        ]
        for level in self.policy.severity:
            found.append((f"Set severity {level.id} ({level.label})", run_text(self, f"/sev {level.id}"),
                          update_cadences(self.policy, level.id)))
        for status in self.policy.status:
            found.append((f"Set status {status.label}", run_text(self, f"/status {status.id}"), status.description))
        for role in self.policy.role:
            found.append((f"Assign {role.name}…", partial_prefill(self, f"/assign {role.id} "), role.duties))
        for name, command in (("Acknowledged", "/ack"), ("Detected", "/detected"), ("Mitigated", "/mitigated"),
                              ("Impact started", "/impact"), ("Closed", "/close")):
            found.append((f"Milestone: {name} now", run_text(self, command), "Back-date with -5m or @HH:MM in the entry bar"))
        found.append(("Resolve incident…", lambda: self.resolve_with_summary("/resolve"), "Asks for a resolution summary"))
        return found


def partial_prefill(screen: WarRoomScreen, text: str):
    return lambda: screen.prefill(text)
