"""Checklists and playbooks from the policy; ticking an item records a checklist entry."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, SelectionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from warroom.domain.errors import WarroomError


class ProceduresScreen(ModalScreen[None]):
    """Space ticks a checklist item; Enter on a playbook attaches it to the incident."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]
    DEFAULT_CSS = """
    ProceduresScreen { align: center middle; }
    ProceduresScreen > Vertical { width: 110; max-width: 98%; height: 92%; border: thick $primary;
        background: $surface; }
    ProceduresScreen SelectionList { height: auto; max-height: 12; margin-bottom: 1; }
    ProceduresScreen .checklist-title { text-style: bold; color: $primary; }
    ProceduresScreen #playbook-list { height: auto; max-height: 10; }
    ProceduresScreen #playbook-steps { padding: 1; }
    """

    def __init__(self, war_room) -> None:
        super().__init__()
        self.war_room = war_room
        self._loading = True

    @property
    def policy(self):
        return self.war_room.policy

    def compose(self) -> ComposeResult:
        with Vertical():
            with TabbedContent():
                with TabPane("Checklists", id="tab-checklists"):
                    with VerticalScroll():
                        for checklist in self.policy.checklist:
                            phase = f" ({checklist.phase})" if checklist.phase else ""
                            yield Label(Text(checklist.title + phase), classes="checklist-title")
                            yield SelectionList[int](
                                *[Selection(Text(item), index) for index, item in enumerate(checklist.items)],
                                id=f"checklist-{checklist.id}")
                        if not self.policy.checklist:
                            yield Label(Text("This policy has no checklists."))
                with TabPane("Playbooks", id="tab-playbooks"):
                    yield OptionList(id="playbook-list")
                    yield Static("", id="playbook-steps")
            yield Label(Text("Space ticks an item · Enter attaches a playbook · Esc closes"))

    def on_mount(self) -> None:
        self.load_state()

    @work(exclusive=True)
    async def load_state(self) -> None:
        service, incident_id = self.app.service, self.war_room.incident.id
        ticked = await service.checklist_state(incident_id)
        attached = set(await service.attached_playbooks(incident_id))
        self._loading = True
        for checklist in self.policy.checklist:
            widget = self.query_one(f"#checklist-{checklist.id}", SelectionList)
            for index in range(len(checklist.items)):
                if ticked.get((checklist.id, index)):
                    widget.select(index)
                else:
                    widget.deselect(index)
        playbooks = self.query_one("#playbook-list", OptionList)
        highlighted = playbooks.highlighted
        playbooks.clear_options()
        for playbook in self.policy.playbook:
            mark = "✔ attached  " if playbook.id in attached else "○           "
            playbooks.add_option(Option(Text(mark + playbook.title), id=playbook.id))
        if highlighted is not None and playbooks.option_count:
            playbooks.highlighted = highlighted
        self.call_after_refresh(self._done_loading)

    def _done_loading(self) -> None:
        self._loading = False

    @on(SelectionList.SelectionToggled)
    def toggled(self, event: SelectionList.SelectionToggled) -> None:
        if self._loading:
            return
        checklist_id = event.selection_list.id.removeprefix("checklist-")
        index = event.selection.value
        done = index in event.selection_list.selected
        self.tick(checklist_id, index, done)

    @work(group="tick")
    async def tick(self, checklist_id: str, index: int, done: bool) -> None:
        try:
            await self.app.service.tick_checklist(self.war_room.incident.id, checklist_id, index, done,
                                                  self.app.user)
        except WarroomError as error:  # someone else ticked it meanwhile: show what is stored
            self.notify(str(error), severity="warning", markup=False)
            self.load_state()
            return
        self.notify(f"{'Ticked' if done else 'Unticked'}, logged on the timeline", markup=False)
        self.war_room.refresh_record()

    @on(OptionList.OptionHighlighted, "#playbook-list")
    def show_steps(self, event: OptionList.OptionHighlighted) -> None:
        playbook = next(p for p in self.policy.playbook if p.id == event.option.id)
        text = Text(playbook.title + "\n", style="bold")
        if playbook.signs:
            text.append("Signs: " + "; ".join(playbook.signs) + "\n")
        for number, step in enumerate(playbook.steps, start=1):
            text.append(f"{number}. {step}\n")
        self.query_one("#playbook-steps", Static).update(text)

    @on(OptionList.OptionSelected, "#playbook-list")
    def attach(self, event: OptionList.OptionSelected) -> None:
        self.attach_playbook(event.option.id)

    @work(group="tick")
    async def attach_playbook(self, playbook_id: str) -> None:
        try:
            await self.app.service.attach_playbook(self.war_room.incident.id, playbook_id, self.app.user)
        except WarroomError as error:
            self.notify(str(error), severity="warning", markup=False)
        else:
            self.notify("Playbook attached, logged on the timeline", markup=False)
        self.war_room.refresh_record()
        self.load_state()
