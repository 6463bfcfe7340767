"""Checklists and playbooks from the policy; ticking an item records a checklist entry.

Items the record already proves (the policy says which: domain.checklists) show as ticked by the
record, with what proves it; a playbook is previewed (its signs and steps) before it is attached,
and an attached playbook's steps are ticked like checklist items."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from warroom.domain.checklists import PLAYBOOK_STEPS
from warroom.domain.clock import format_moment
from warroom.domain.errors import WarroomError
from warroom.domain.policy import Policy
from warroom.domain.text import visible
from warroom.service.live import CHECKLIST, ENTRIES, INCIDENT, ROLES, UPDATES
from warroom.ui.messages import RecordChanged


class ProceduresScreen(ModalScreen[None]):
    """Space or Enter ticks a checklist item (again: unticks); Enter on a playbook attaches it.
    Every item says ☑ or ☐ in words and glyphs, with who ticked it and when, or what in the record
    proves it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("space", "toggle_item", "Tick / untick", show=False),
        Binding("c", "show_tab('tab-checklists', 'checklist-items')", "Checklists", show=False),
        Binding("p", "show_tab('tab-playbooks', 'playbook-list')", "Playbooks", show=False),
    ]
    DEFAULT_CSS = """
    ProceduresScreen { align: center middle; }
    ProceduresScreen > Vertical { width: 110; max-width: 98%; height: 92%; border: thick $primary;
        background: $surface; }
    ProceduresScreen TabbedContent, ProceduresScreen ContentSwitcher, ProceduresScreen TabPane { height: 1fr; }
    ProceduresScreen #checklist-items { height: 1fr; }
    ProceduresScreen #playbook-list { height: auto; max-height: 10; }
    ProceduresScreen #playbook-steps { padding: 0 1; }
    ProceduresScreen .hint { color: $text-muted; }
    """

    def __init__(self, incident_id: str, policy: Policy) -> None:
        super().__init__()
        self.incident_id, self.policy = incident_id, policy
        self._loading = True
        self._ticked: dict[tuple[str, int], bool] = {}
        self._proofs: dict = {}  # (checklist id, index) -> domain.checklists.Proof
        self._attached: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            with TabbedContent():
                with TabPane("Checklists", id="tab-checklists"):
                    yield OptionList(id="checklist-items")
                with TabPane("Playbooks", id="tab-playbooks"):
                    yield OptionList(id="playbook-list")
                    yield Static("", id="playbook-steps")
            yield Label(Text("c checklists · p playbooks · Space/Enter: tick, attach · Esc closes"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#checklist-items", OptionList).focus()
        self.load_state()

    def on_record_changed(self, message: RecordChanged) -> None:
        delta = message.delta  # a tick or a playbook, or what proves an item, here or elsewhere
        if any(part in delta for part in (CHECKLIST, INCIDENT, ROLES, UPDATES, ENTRIES)):
            self.load_state()

    @work(exclusive=True)
    async def load_state(self) -> None:
        service, incident_id = self.app.service, self.incident_id
        self._ticked = await service.checklist_state(incident_id)
        self._proofs = await service.checklist_proofs(incident_id)
        last_tick = await service.checklist_tick_entries(incident_id)
        self._attached = await service.attached_playbooks(incident_id)
        now = service.now()
        self._loading = True
        items = self.query_one("#checklist-items", OptionList)
        highlighted = items.highlighted
        items.clear_options()
        titles = {p.id: p for p in self.policy.playbook}
        groups = [(c.id, c.title + (f" ({c.phase})" if c.phase else ""), c.items) for c in self.policy.checklist]
        groups += [(PLAYBOOK_STEPS + pid, f"Playbook: {titles[pid].title} (attached)", titles[pid].steps)
                   for pid in self._attached if pid in titles]
        for checklist_id, heading, lines in groups:
            items.add_option(Option(Text(heading, style="bold"), disabled=True))
            for index, item in enumerate(lines):
                key = (checklist_id, index)
                ticked, proof = self._ticked.get(key, False), self._proofs.get(key)
                mark = "  ☑ done    " if ticked else "  ☑ record  " if proof else "  ☐         "
                line = Text(mark + item)
                entry = last_tick.get(key)
                if entry is not None and (ticked or proof is None):
                    line.append(f"  ({'ticked' if ticked else 'unticked'} by {visible(entry.author)} "
                                f"{entry.occurred_at:%H:%M} UTC)", style="italic")
                elif proof is not None:
                    number = f", #{proof.number}" if proof.number else ""
                    line.append(f"  (by the record: {visible(proof.what)}, {format_moment(proof.at, now, seconds=False)}"
                                f"{number})", style="italic")
                items.add_option(Option(line, id=f"{checklist_id}\t{index}"))
        if not groups:
            items.add_option(Option(Text("This policy has no checklists."), disabled=True))
        if highlighted is not None and highlighted < items.option_count:
            items.highlighted = highlighted
        elif items.option_count > 1:
            items.highlighted = 1
        playbooks = self.query_one("#playbook-list", OptionList)
        highlighted = playbooks.highlighted
        playbooks.clear_options()
        for playbook in self.policy.playbook:
            mark = "✔ attached  " if playbook.id in self._attached else "○ preview   "
            playbooks.add_option(Option(Text(mark + playbook.title), id=playbook.id))
        if highlighted is not None and playbooks.option_count:
            playbooks.highlighted = highlighted
            self._preview(playbooks.get_option_at_index(highlighted).id)
        self._loading = False

    def action_show_tab(self, tab_id: str, widget_id: str) -> None:
        self.query_one(TabbedContent).active = tab_id
        self.call_after_refresh(self.query_one(f"#{widget_id}", OptionList).focus)

    def action_toggle_item(self) -> None:
        items = self.query_one("#checklist-items", OptionList)
        if items.has_focus and items.highlighted is not None:
            self._toggle(items.get_option_at_index(items.highlighted))

    @on(OptionList.OptionSelected, "#checklist-items")
    def item_selected(self, event: OptionList.OptionSelected) -> None:
        self._toggle(event.option)

    def _toggle(self, option: Option) -> None:
        if self._loading or option.disabled or not option.id:
            return
        checklist_id, _, index = option.id.partition("\t")
        key = (checklist_id, int(index))
        proof = self._proofs.get(key)
        if proof is not None and not self._ticked.get(key, False):
            self.notify(f"Ticked by the record ({visible(proof.what)}): nothing to tick by hand", markup=False)
            return
        done = not self._ticked.get(key, False)
        self._ticked[(checklist_id, int(index))] = done  # a second key press before the reload flips back
        self.tick(checklist_id, int(index), done)

    @work(group="tick")
    async def tick(self, checklist_id: str, index: int, done: bool) -> None:
        try:
            await self.app.service.tick_checklist(self.incident_id, checklist_id, index, done, self.app.user)
        except WarroomError as error:  # someone else ticked it meanwhile: show what is stored
            self.notify(str(error), severity="warning", markup=False)
            self.load_state()
        else:
            self.notify(f"{'Ticked' if done else 'Unticked'}, logged on the timeline", markup=False)

    @on(OptionList.OptionHighlighted, "#playbook-list")
    def show_steps(self, event: OptionList.OptionHighlighted) -> None:
        self._preview(event.option.id)

    def _preview(self, playbook_id: str | None) -> None:
        """The highlighted playbook's signs and steps, before (or after) it is attached."""
        playbook = next((p for p in self.policy.playbook if p.id == playbook_id), None)
        if playbook is None:
            return
        attached = playbook.id in self._attached
        text = Text(playbook.title + (" · attached: tick its steps under c (checklists)" if attached
                                      else " · preview: Enter attaches it to the incident") + "\n", style="bold")
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
            await self.app.service.attach_playbook(self.incident_id, playbook_id, self.app.user)
        except WarroomError as error:
            self.notify(str(error), severity="warning", markup=False)
        else:
            self.notify("Playbook attached, logged on the timeline", markup=False)
