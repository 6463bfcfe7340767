"""The roles pane: every role of the policy, who holds it and for how long; unfilled roles stand out."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.domain.clock import format_duration
from warroom.domain.text import visible
from warroom.service import RoleSeat
from warroom.ui.messages import AssignRequested


class RolesPane(OptionList):
    """Select a role and press Enter (or `a`) to assign or hand it over."""

    BINDINGS = [Binding("a", "assign", "Assign", tooltip="Assign or hand over the selected role")]

    COMPONENT_CLASSES = {"roles--unfilled", "roles--person", "roles--muted"}
    DEFAULT_CSS = """
    RolesPane > .roles--unfilled { color: $warning; text-style: bold; }
    RolesPane > .roles--person { color: $foreground; text-style: bold; }
    RolesPane > .roles--muted { color: $text-muted; }
    """

    def __init__(self, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.seats: list[RoleSeat] = []

    def on_mount(self) -> None:
        self.set_interval(30, self._redraw)

    def on_focus(self) -> None:
        """Arriving by Tab or Ctrl+R selects the first role, so Enter and `a` act at once."""
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def show(self, seats: list[RoleSeat]) -> None:
        self.seats = seats
        self._redraw()

    def _redraw(self) -> None:
        now = self.clock()
        style = self.get_component_rich_style
        lines = []
        for seat in self.seats:
            line = Text(no_wrap=True, overflow="ellipsis")
            if seat.person:
                line.append("● ", style("roles--person"))
                line.append(f"{seat.name}: ")
                line.append(visible(seat.person), style("roles--person"))
                line.append(f" {format_duration(now - seat.since)}" if seat.since else "", style("roles--muted"))
            else:
                mark = "⚠ " if seat.required else "○ "
                line.append(mark + f"{seat.name}: ", style("roles--unfilled" if seat.required else "roles--muted"))
                line.append("unfilled" + (" (needed)" if seat.required else ""),
                            style("roles--unfilled" if seat.required else "roles--muted"))
            lines.append(line)
        ids = [seat.role_id for seat in self.seats]
        if ids == [option.id for option in self.options]:  # the same roles: redraw only what changed
            for index, line in enumerate(lines):
                if line != self.options[index].prompt:  # rich Text: same text and styles
                    self.replace_option_prompt_at_index(index, line)
            return
        highlighted = self.highlighted
        self.clear_options()
        self.add_options([Option(line, id=role_id) for line, role_id in zip(lines, ids)])
        if highlighted is not None and self.option_count:
            self.highlighted = min(highlighted, self.option_count - 1)

    def _request(self, index: int | None) -> None:
        if index is None or index >= len(self.seats):
            return
        seat = self.seats[index]
        self.post_message(AssignRequested(seat.role_id, seat.name))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._request(event.option_index)

    def action_assign(self) -> None:
        self._request(self.highlighted)
