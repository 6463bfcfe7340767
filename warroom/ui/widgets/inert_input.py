"""An Input that never sends what it holds to the terminal as it is, and that does not lay the
screen out again at each key."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

from warroom.domain.text import in_place


class InertInput(Input):
    """Shows control, bidi and zero-width characters in its value (pasted or prefilled) as one
    visible character each (text.in_place), so they cannot move the cursor, restyle or hide text;
    the value itself is kept exactly as it is.

    Textual's Input sets its virtual size (the width of its text) at every change of its value,
    and as Widget's that is a layout reactive: each key typed laid the whole screen out again (a
    few ms at 120x40, before the key could be drawn). Nothing's place depends on it (the input is
    3 rows high, as wide as its container, and its horizontal scrollbar is 0 wide), so here a
    change of it only repaints the input; scrolling along a long text reads it as before."""

    virtual_size = Reactive(Size(0, 0), layout=False)

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(in_place(self.value).replace("\t", " "), no_wrap=True, overflow="ignore", end="")
        if self.highlighter is not None:
            text = self.highlighter(text)
        return text

    def _position_to_cell(self, position: int) -> int:
        return cell_len(in_place(self.value[:position]).replace("\t", " "))
