"""Action items (owner, due date, done; toggling done is recorded) and the handoff summary."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry
from warroom.domain.text import visible
from warroom.service.live import ACTIONS
from warroom.ui.messages import RecordChanged
from warroom.ui.screens.dialogs import TextPanel


class ActionsScreen(ModalScreen[None]):
    """The incident's action items; toggling done writes through the service (and the timeline
    shows it through the change log). Follows changes made elsewhere while open."""

    BINDINGS = [
        Binding("space,enter,x", "toggle", "Done / not done"),
        Binding("escape", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    ActionsScreen { align: center middle; }
    ActionsScreen > Vertical { width: 110; max-width: 98%; height: 80%; border: thick $primary;
        background: $surface; padding: 0 1; }
    ActionsScreen DataTable { height: 1fr; }
    """

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Action items · Space toggles done · Esc closes · add: /action TEXT @owner due:DATE"))
            table = DataTable(cursor_type="row", id="actions")
            table.add_columns("Done", "Owner", "Due (UTC)", "Action")
            yield table

    def on_mount(self) -> None:
        self.load()

    def on_record_changed(self, message: RecordChanged) -> None:
        if ACTIONS in message.delta:
            self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for item in await self.app.service.actions(self.incident_id):
            table.add_row(
                Text("☑ done" if item.done else "☐ open"),
                Text(visible(item.owner) if item.owner else "(none)"),
                Text(f"{item.due:%Y-%m-%d %H:%M}" if item.due else "-"), Text(visible(item.text)),
                key=str(item.id),
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
            table.focus()

    def action_toggle(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        done = str(table.get_cell_at((table.cursor_row, 0))).startswith("☐")
        self.toggle(int(key), done)

    @work(group="toggle")
    async def toggle(self, action_id: int, done: bool) -> None:
        try:
            await self.app.service.set_action_done(self.incident_id, action_id, done, self.app.user)
        except WarroomError as error:
            self.notify(str(error), severity="error", markup=False)
            self.load()  # someone else changed it meanwhile: show what is stored
        else:
            self.notify(f"Action {'done' if done else 'reopened'}, logged on the timeline", markup=False)


class HandoffScreen(TextPanel):
    """The handoff summary just written, one part per line, for the incoming person."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(handoff_text(entry), f"Entry #{entry.number} on the timeline · Enter or Esc closes",
                         body_id="handoff-summary")
        self.entry = entry


def handoff_text(entry: Entry) -> Text:
    """'Heading | Label: value | ...' as a bold heading and one bold-labelled line a part."""
    parts = [visible(part.strip()) for part in entry.text.split(" | ")]
    text = Text(parts[0] + "\n", style="bold")
    for part in parts[1:]:
        label, sep, rest = part.partition(": ")
        if sep:
            text.append(label + ": ", style="bold")
        text.append((rest if sep else part) + "\n")
    return text
