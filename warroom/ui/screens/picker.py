"""The incident picker: open incidents with what each owes first, and a form to declare a new one
under any policy (its severity levels follow the policy chosen), with the commander, the impact and
the services when they are known. Shown at start when no incident or several are open, and from
inside the war room (ctrl+o switches, ctrl+n declares; Esc goes back)."""

from __future__ import annotations

import re
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Select

from warroom.domain.clock import format_duration
from warroom.domain.duties import Duty, DutyState
from warroom.domain.errors import WarroomError
from warroom.domain.policy import Policy
from warroom.domain.standing import elapsed, shown_status
from warroom.domain.text import visible
from warroom.ui.widgets.footer import KeysFooter
from warroom.ui.widgets.inert_input import InertInput

WIDE = 110  # columns from which the age, the commander and what is owed get columns of their own


def next_due_words(duty: Duty | None, now: datetime, wide: bool) -> str:
    """'⚠ OVERDUE +03:10 Status page update', '⏰ due soon 04:00', '◷ in 12:30', '✓ nothing owed'
    (narrow: without the what)."""
    if duty is None:
        return "✓ nothing owed"
    state = duty.state(now)
    if state is DutyState.OVERDUE:
        when = f"OVERDUE {duty.digits(now)}"
    elif state is DutyState.DUE_SOON:
        when = f"due soon {duty.digits(now)}"
    elif state is DutyState.ON_TRACK:
        when = f"in {duty.digits(now)}"
    else:
        when = "no deadline"
    return f"{state.glyph} {when}" + (f" {visible(duty.what)}" if wide else "")


def cut(text: str, width: int) -> Text:
    """`text` in at most `width` cells, cut with '…'."""
    shown = Text(text)
    if shown.cell_len > width:
        shown.truncate(max(1, width), overflow="ellipsis")
    return shown


class PickerScreen(Screen):
    """Open incidents (Enter opens one) and the declare form."""

    BINDINGS = [
        Binding("n", "new", "Declare new", tooltip="Jump to the declare form"),
        Binding("r", "reload", "Reload"),
        Binding("escape", "back", "Back", tooltip="Back to the war room"),
        Binding("f1", "app.help", "Help", show=False),
    ]

    def __init__(self, current: str | None = None, declare: bool = False) -> None:
        super().__init__()
        self.current = current  # the incident of the war room this was opened from
        self.declare_first = declare
        self.rows: list[tuple] = []  # (incident, commander, first duty), for redrawing at another width
        self.is_loaded = False

    def compose(self) -> ComposeResult:
        service = self.app.service
        policy = service.default_policy
        with Vertical(id="picker"):
            yield Label(Text("Open incidents: Enter opens one"), id="picker-title")
            yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
            yield Label(Text("Declare a new incident"), id="declare-title")
            with Vertical(id="declare"):
                yield InertInput(placeholder="Title, e.g. Checkout API returning 502s", id="declare-title-input")
                with Horizontal(id="declare-policy-row"):
                    yield Select([(Text(visible(p.name)), p.id) for p in service.policies],  # no markup
                                 value=policy.id, allow_blank=False, id="declare-policy",
                                 tooltip="The procedure this incident follows")
                    yield Select(self.severity_options(policy), value=self.default_severity(policy),
                                 allow_blank=False, id="declare-severity")
                with Horizontal(id="declare-row"):
                    yield InertInput(placeholder="Incident commander", value=self.app.user, id="declare-commander")
                    yield InertInput(placeholder="Impact (optional)", id="declare-impact")
                    yield InertInput(placeholder="Services (optional): api, db", id="declare-services")
                    yield Button("Declare", id="declare-button", variant="error")
                yield Label("", id="declare-error")
        yield KeysFooter()

    @staticmethod
    def severity_options(policy: Policy) -> list[tuple[Text, str]]:
        return [(Text(visible(f"{s.id} {s.label}")), s.id) for s in policy.severity]  # no markup

    @staticmethod
    def default_severity(policy: Policy) -> str:
        found = policy.find_severity(policy.policy.default_severity)
        return found.id if found else policy.severity[0].id

    def on_mount(self) -> None:
        self.action_reload()
        self.set_interval(1.0, self.show_rows)  # the countdowns move
        self.set_interval(5.0, self.action_reload)  # incidents declared or closed elsewhere

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Back only when there is a war room to go back to."""
        return self.current is not None if action == "back" else True

    def action_back(self) -> None:
        self.dismiss()

    @on(Select.Changed, "#declare-policy")
    def policy_chosen(self, event: Select.Changed) -> None:
        """The severities are the chosen policy's (its default one chosen)."""
        policy = self.app.service.policies.get(str(event.value))
        severity = self.query_one("#declare-severity", Select)
        severity.set_options(self.severity_options(policy))
        severity.value = self.default_severity(policy)

    @work(exclusive=True)
    async def action_reload(self) -> None:
        service = self.app.service
        incidents = await service.incidents()
        firsts = await service.first_duties(incidents)
        rows = []
        for incident in incidents:
            seats = await service.roster(incident)
            rows.append((incident, next((s.person for s in seats if s.is_commander), None), firsts[incident.id]))
        first_load = not self.is_loaded
        self.rows, self.is_loaded = rows, True
        self.show_rows()
        if not first_load:
            return
        if self.declare_first or not incidents:
            self.declare_first = False
            if not incidents:
                self.query_one("#picker-title", Label).update(Text("No open incidents. Declare one below."))
            self.query_one("#declare-title-input", Input).focus()
        else:
            self.query_one("#incidents", DataTable).focus()

    def on_resize(self) -> None:
        self.show_rows()

    def show_rows(self) -> None:
        """The incidents in columns that fit the width: no sideways scrolling, titles cut with '…'."""
        table = self.query_one("#incidents", DataTable)
        chosen = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value if table.row_count else None
        width = max(40, self.app.size.width - 5)  # less the picker's padding and a scrollbar
        wide = width >= WIDE
        now = self.app.service.now()
        columns = ["Incident", "Sev", "Status", "Next due"] + (["Age", "Commander"] if wide else [])
        owed_width = 44 if wide else 16
        lines = []
        for incident, commander, duty in self.rows:
            policy = self.app.service.policy_for(incident)
            cells = [Text(incident.id), Text(f"▲ {visible(incident.severity)}"),
                     cut(visible(shown_status(policy, incident)), 13), cut(next_due_words(duty, now, wide), owed_width)]
            if wide:
                cells += [Text(format_duration(elapsed(incident, now))),
                          cut(visible(commander) if commander else "⚠ none", 12)]
            lines.append((incident, cells))
        used = sum(max([len(name)] + [cells[i].cell_len for _, cells in lines]) + 2 for i, name in enumerate(columns))
        title_width = max(8, width - used - 2)  # what is left, less the title column's own padding
        table.clear(columns=True)
        table.add_columns(*columns, "Title")
        for incident, cells in lines:
            mark = "◉ " if incident.id == self.current else ""  # the war room this was opened from
            table.add_row(*cells, cut(mark + visible(incident.title), title_width), key=incident.id)
        keys = [incident.id for incident, _, _ in self.rows]
        if chosen in keys:
            table.move_cursor(row=keys.index(chosen))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_incident(str(event.row_key.value))

    def action_new(self) -> None:
        self.query_one("#declare-title-input", Input).focus()

    @on(Button.Pressed, "#declare-button")
    @on(Input.Submitted, "#declare-title-input")
    @on(Input.Submitted, "#declare-commander")
    @on(Input.Submitted, "#declare-impact")
    @on(Input.Submitted, "#declare-services")
    @work(exclusive=True, group="declare")
    async def declare(self) -> None:
        title = self.query_one("#declare-title-input", Input).value
        policy_id = str(self.query_one("#declare-policy", Select).value)
        severity = self.query_one("#declare-severity", Select).value
        commander = self.query_one("#declare-commander", Input).value.strip() or None
        impact = self.query_one("#declare-impact", Input).value.strip()
        services = tuple(dict.fromkeys(name for name in re.split(r"[\s,]+", self.query_one(
            "#declare-services", Input).value) if name))
        try:
            incident = await self.app.service.declare(title, str(severity), author=self.app.user, commander=commander,
                                                      policy_id=policy_id, impact=impact, services=services)
        except WarroomError as error:
            self.query_one("#declare-error", Label).update(Text("✗ " + visible(str(error))))
            return
        self.app.page_declared(incident)
        self.app.announce_declared(incident)
        self.app.open_incident(incident.id)
