"""An Input that never sends what it holds to the terminal as it is."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Input

from warroom.domain.text import in_place


class InertInput(Input):
    """Shows control, bidi and zero-width characters in its value (pasted or prefilled) as one
    visible character each (text.in_place), so they cannot move the cursor, restyle or hide text;
    the value itself is kept exactly as it is."""

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
