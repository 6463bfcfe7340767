"""F5, the duties: the incident's severity, every duty the policy implies (whom to tell, which
updates, which reviews, by when, open ones first) and the escalation paths. Space ticks a party
as notified (or a review as held), or takes the tick back; updates are done by posting them.
It follows the record while open (a `/notified` typed in another terminal shows here)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from warroom.domain.clock import format_moment
from warroom.domain.duties import Duty, DutyKind, DutyState, by_urgency
from warroom.domain.errors import WarroomError
from warroom.domain.escalation import EscalationNotice
from warroom.domain.standing import MARKABLE
from warroom.domain.text import visible
from warroom.ui.messages import RecordChanged

HINT = "Space: notified / not · updates are done by posting them (F2) · Esc closes"


def heading_text(notice: EscalationNotice, now: datetime) -> Text:
    since = format_moment(notice.since, now, seconds=False)
    return Text(f"Now {notice.severity} {notice.label}".rstrip() + f" since {since}", style="bold")


def paths_text(notice: EscalationNotice) -> Text:
    """One bold line per path name, its steps below it joined by arrows."""
    text = Text()
    for path in notice.paths:
        text.append(f"{visible(path.name)} path\n", style="bold")
        text.append("  " + " → ".join(visible(step) for step in path.steps) + "\n")
    text.rstrip()
    return text


def state_words(duty: Duty, now: datetime) -> str:
    """'⚠ OVERDUE +03:10', '⏰ due soon 04:00', '◷ in 12:30', '○ open', '✓ done'."""
    state = duty.state(now)
    if state is DutyState.OVERDUE:
        return f"{state.glyph} OVERDUE {duty.digits(now)}"
    if state is DutyState.DUE_SOON:
        return f"{state.glyph} due soon {duty.digits(now)}"
    if state is DutyState.ON_TRACK:
        return f"{state.glyph} in {duty.digits(now)}"
    return f"{state.glyph} {'open' if state is DutyState.OPEN else 'done'}"


def when_words(duty: Duty, now: datetime) -> str:
    """'15:15', 'done 14:12', 'no deadline', with the date when not today (times UTC)."""
    return duty.due_words(now).removeprefix("due ").removesuffix(" UTC").replace(" UTC", "")


def _cut(text: str, width: int) -> Text:
    shown = Text(text)
    if shown.cell_len > width:
        shown.truncate(max(1, width), overflow="ellipsis")
    return shown


def duty_cells(duty: Duty, now: datetime, owed_width: int, why_width: int) -> tuple[Text, ...]:
    """State (glyph and word), when, what is owed, and why (when there is room): one table row."""
    cells = (Text(state_words(duty, now)), Text(when_words(duty, now)), _cut(visible(duty.what), owed_width))
    return cells + (_cut(visible(duty.reason(now)), why_width),) if why_width else cells


class EscalationScreen(ModalScreen[None]):
    """Every duty, most urgent first, tickable; the paths below."""

    BINDINGS = [
        Binding("space,x", "toggle", "Notified / not"),
        Binding("escape,f5", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    EscalationScreen { align: center middle; }
    EscalationScreen > Vertical { width: 120; max-width: 98%; height: auto; max-height: 95%;
        border: thick $warning; background: $surface; padding: 0 1; }
    EscalationScreen DataTable { height: auto; max-height: 12; }
    EscalationScreen VerticalScroll { height: auto; max-height: 8; }
    EscalationScreen .hint { color: $text-muted; }
    """

    def __init__(self, incident_id: str, notice: EscalationNotice | None = None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.notice = notice
        self.duties: list[Duty] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="escalation-heading")
            yield DataTable(cursor_type="row", id="duties")
            with VerticalScroll():
                yield Static("", id="escalation-text")
            yield Label(Text(HINT), classes="hint")

    def on_mount(self) -> None:
        self.load()
        self.set_interval(1.0, self.show_rows)

    def on_record_changed(self, message: RecordChanged) -> None:
        self.load()

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        service = self.app.service
        incident = await service.incident(self.incident_id)
        self.notice = await service.escalation_for(incident)
        self.duties = by_urgency(await service.duties(incident))
        self.show_rows()
        self.query_one("#escalation-text", Static).update(paths_text(self.notice))

    def widths(self) -> tuple[int, int]:
        """(owed, why) column widths that fit the panel: no sideways scrolling; no 'why' when narrow."""
        room = max(40, self.query_one(DataTable).size.width or self.app.size.width - 8) - 36  # state, when, gaps
        if room < 60:
            return room, 0
        longest = max((Text(visible(d.what)).cell_len for d in self.duties), default=20)
        owed = min(longest, room - 32)
        return owed, room - owed - 2

    def show_rows(self) -> None:
        if self.notice is None:
            return
        now = self.app.service.now()
        self.query_one("#escalation-heading", Label).update(heading_text(self.notice, now))
        table = self.query_one(DataTable)
        owed_width, why_width = self.widths()
        rows = [duty_cells(duty, now, owed_width, why_width) for duty in self.duties]
        keys = [duty.key for duty in self.duties]
        columns = 4 if why_width else 3
        if [row.value for row in table.rows] == keys and len(table.columns) == columns:  # states and times in place
            for index, cells in enumerate(rows):
                for column, cell in enumerate(cells):
                    table.update_cell_at((index, column), cell)
            return
        chosen = self.chosen_key()
        table.clear(columns=True)
        table.add_columns(*("State", "When (UTC)", "Owed", "Why")[:columns])
        for key, cells in zip(keys, rows):
            table.add_row(*cells, key=key)
        if not rows:
            table.add_row(Text("✓ none"), Text(""), Text("nothing owed now"), *[Text("")] * (columns - 3), key="")
        table.move_cursor(row=keys.index(chosen) if chosen in keys else 0)
        table.focus()

    def chosen_key(self) -> str | None:
        """The duty under the cursor (it keeps the cursor when a tick moves it down the list)."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def on_resize(self) -> None:
        self.query_one(DataTable).clear(columns=True)
        self.show_rows()

    def action_toggle(self) -> None:
        duty = next((d for d in self.duties if d.key == self.chosen_key()), None)
        if duty is None:
            return
        if duty.kind not in MARKABLE:
            verb = "the final update" if duty.kind is DutyKind.FINAL else "an update"
            self.notify(f"{visible(duty.what)} is done by posting {verb}: F2, or /update {duty.target} TEXT",
                        severity="warning", markup=False)
            return
        self.mark(duty, duty.is_open)

    @work(group="mark")
    async def mark(self, duty: Duty, done: bool) -> None:
        try:
            await self.app.service.mark_duty(self.incident_id, duty.key, done, self.app.user)
        except WarroomError as error:
            self.notify(str(error), severity="error", markup=False)
        else:
            self.notify(f"{'Done' if done else 'Not done after all'}: {visible(duty.what)}, logged on the timeline",
                        markup=False)
        self.load()  # the change log brings it too; this makes it show at once here
