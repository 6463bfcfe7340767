"""One entry in full: every line of a pasted block, however long, wrapped to the width.

`EntryText` is a line-API ScrollView: the text is split into lines once and only the rows on
screen are rendered, so a 1 MB entry opens as fast as a short one (a Static would lay it all out).
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Label, Static

from warroom.domain.models import Entry, EntryKind
from warroom.domain.text import visible

_PROBE_DETAILS = (("probe", "Probe"), ("group", "Group"), ("old", "Was"), ("new", "Now"), ("at", "At"),
                  ("reason", "Why"), ("failed_condition", "Failed condition"), ("status_code", "HTTP status"),
                  ("error", "Error"), ("latency_ms", "Latency (ms)"), ("consecutive_failures", "Failures in a row"),
                  ("first_failure_at", "First failure at"), ("consecutive_successes", "Good checks in a row"))


def full_text(entry: Entry) -> str:
    """What the view shows: the entry's text, then what its data holds that the text may not say
    (a probe entry's transition, in full; which entry a correction corrects)."""
    parts = [entry.text]
    data = entry.data or {}
    if entry.kind is EntryKind.CORRECTION and "corrects_number" in data:
        parts.append(f"(corrects #{data['corrects_number']})")
    transition = data.get("transition") if entry.kind is EntryKind.PROBE else None
    if isinstance(transition, dict):
        rows = [f"{label}: {transition[key]}" for key, label in _PROBE_DETAILS
                if transition.get(key) not in (None, "")]
        parts.append("Details\n" + "\n".join(rows))
    return "\n\n".join(parts)


def wrap_rows(line: str, width: int) -> list[str] | int:
    """The rows `line` takes at `width` cells: a count for one-cell text (sliced when drawn),
    the rows themselves otherwise (wide characters)."""
    if line.isascii():
        return max(1, -(-len(line) // width))
    return chop_cells(line, width) or [""]


class EntryText(ScrollView, can_focus=True):
    """Read-only text, wrapped, scrolled by keyboard."""

    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("home,g", "scroll_home", "Top", show=False),
        Binding("end,G", "scroll_end", "Bottom", show=False),
    ]
    DEFAULT_CSS = "EntryText { height: 1fr; }"

    def __init__(self, text: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines = visible(text, keep_newlines=True).split("\n")
        self._width = 0
        self._rows: list[list[str] | int] = []
        self._starts: list[int] = [0]

    def on_resize(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        if width != self._width:
            self._width = width
            self._rows = [wrap_rows(line, width) for line in self.lines]
            counts = [rows if isinstance(rows, int) else len(rows) for rows in self._rows]
            self._starts = [0, *accumulate(counts)]
            self.virtual_size = Size(width, self._starts[-1])
            self.refresh()

    @property
    def row_count(self) -> int:
        return self._starts[-1]

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self._width or self.size.width
        if not self._rows or row >= self.row_count:
            return Strip.blank(width, self.rich_style)
        index = bisect_right(self._starts, row) - 1
        part, rows = row - self._starts[index], self._rows[index]
        line = self.lines[index]
        chunk = line[part * width:(part + 1) * width] if isinstance(rows, int) else rows[part]
        return Strip([Segment(chunk, self.rich_style)], cell_len(chunk)).adjust_cell_length(width, self.rich_style)


class EntryViewScreen(ModalScreen[None]):
    """The whole of one entry, above a hint line; Escape closes."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    EntryViewScreen { align: center middle; }
    EntryViewScreen > Vertical { width: 100%; height: 100%; border: thick $primary; background: $surface; padding: 0 1; }
    EntryViewScreen #entry-view-head { height: auto; max-height: 3; text-style: bold; }
    EntryViewScreen .hint { color: $text-muted; }
    """

    def __init__(self, entry: Entry, head: Text) -> None:
        super().__init__()
        self.entry, self.head = entry, head

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.head, id="entry-view-head")
            shown = full_text(self.entry)
            yield EntryText(shown, id="entry-view-text")
            lines = shown.count("\n") + 1
            yield Label(Text(f"{lines} line{'s' if lines != 1 else ''} · ↑↓ PgUp PgDn Home End scroll · Esc closes"),
                        classes="hint")

    def on_mount(self) -> None:
        self.query_one(EntryText).focus()
