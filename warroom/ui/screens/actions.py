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
from warroom.domain.standing import NumberedAction, by_phase, numbered_actions
from warroom.domain.text import visible
from warroom.service.live import ACTIONS
from warroom.ui.messages import RecordChanged
from warroom.ui.screens.dialogs import TextPanel


def action_cells(action: NumberedAction, now) -> list[Text]:
    """Number, state (glyph and word), owner, due, group: the row of an action but its text."""
    item = action.item
    return [Text(str(action.number)), Text(action.state_words(now)), Text(visible(item.owner) if item.owner else "(none)"),
            Text(f"{item.due:%Y-%m-%d %H:%M}" if item.due else "-"), Text(visible(action.group_label) or "-")]


class ActionsScreen(ModalScreen[None]):
    """The incident's action items in two lists: worked now (during the incident) and the
    follow-ups (after it, in the policy's groups), each numbered as `/done N` takes them, overdue
    ones marked with a glyph and a word. Toggling done writes through the service (the timeline
    shows it through the change log). Follows changes made elsewhere while open."""

    BINDINGS = [
        Binding("space,enter,x", "toggle", "Done / not done"),
        Binding("escape", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    ActionsScreen { align: center middle; }
    ActionsScreen > Vertical { width: 110; max-width: 98%; height: 90%; border: thick $primary;
        background: $surface; padding: 0 1; }
    ActionsScreen DataTable { height: auto; max-height: 45%; }
    ActionsScreen .phase { text-style: bold; margin: 1 0 0 0; }
    """

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.items: dict[str, NumberedAction] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("Action items · Space: done / not · Tab: the other list · Esc · /done N, /undone N"))
            yield Label(Text("Now: during the incident"), classes="phase")
            yield self._table("actions-now")
            yield Label(Text("Follow-ups: after the incident"), classes="phase")
            yield self._table("actions-later")

    @staticmethod
    def _table(table_id: str) -> DataTable:
        table = DataTable(cursor_type="row", id=table_id)
        table.add_columns("#", "State", "Owner", "Due (UTC)", "Group", "Action")
        return table

    def on_mount(self) -> None:
        self.load()
        self.set_interval(5.0, self.load)  # due dates pass: an item goes overdue without any change

    def on_record_changed(self, message: RecordChanged) -> None:
        if ACTIONS in message.delta or message.delta.incident is not None:
            self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        service = self.app.service
        incident = await service.incident(self.incident_id)
        numbered = numbered_actions(service.policy_for(incident), await service.actions(self.incident_id), incident)
        self.items = {str(a.item.id): a for a in numbered}
        now = service.now()
        focused = self.focused if isinstance(self.focused, DataTable) else None
        phases = [[(action, action_cells(action, now)) for action in items] for items in by_phase(numbered)]
        for table, rows in zip(self.query(DataTable), phases):
            row = table.cursor_row
            table.clear()
            used = sum(max([len(str(c.label))] + [cells[i].cell_len for _, cells in rows]) + 2
                       for i, c in enumerate(list(table.columns.values())[:-1]))
            room = max(12, min(110, self.app.size.width * 98 // 100) - 4 - used - 3)  # border, padding, scrollbar
            for action, cells in rows:
                shown = Text(visible(action.item.text))
                shown.truncate(room, overflow="ellipsis")
                table.add_row(*cells, shown, key=str(action.item.id))
            if not rows:
                table.add_row(Text(""), Text("-"), Text(""), Text(""), Text(""), Text("none"), key="")
            table.move_cursor(row=min(row, table.row_count - 1))
        if focused is None:
            now_table, later = self.query(DataTable)
            (now_table if now_table.row_count and self.items else later).focus()

    def action_toggle(self) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else None
        if table is None or not table.row_count:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        action = self.items.get(key or "")
        if action is not None:
            self.toggle(action.item.id, not action.item.done)

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
