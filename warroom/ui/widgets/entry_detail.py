"""The detail pane under the timeline: the selected entry's heading and its first lines, as many
as the pane holds (cut before rendering: an entry may hold a 1 MB paste); Enter on the timeline
shows all of it (warroom.ui.screens.entry_view)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from warroom.domain.models import Entry
from warroom.domain.text import size_words, visible


def entry_heading(entry: Entry) -> Text:
    """`#12 2026-11-23 14:02:07 UTC · ◆ decision · alice`, with when it was logged if later, and pinned."""
    when = entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    recorded = "" if entry.recorded_at == entry.occurred_at else f" (logged {entry.recorded_at:%H:%M:%S} UTC)"
    text = Text(f"#{entry.number} {when}{recorded} · {entry.kind.glyph} {entry.kind.label} · ")
    text.append(visible(entry.author), style="bold")
    text.append(f"{' · pinned' if entry.pinned else ''}")
    return text


class EntryDetail(Static):
    """The selected entry, in `rows` rows of text under its heading."""

    _showing: tuple[Entry | None, int] | None = None  # what show() was last given
    _cut_to = 0  # the width it was cut to

    def _size_updated(self, size, virtual_size, container_size, layout: bool = True) -> bool:
        """Textual's, then the entry cut again for the new width at once: during the layout, so
        the frame drawn right after it is cut for it (the war room shows one before its layout)."""
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        if self._showing is not None and self.content_region.width and self.content_region.width != self._cut_to:
            self.show(*self._showing)
        return changed

    def show(self, entry: Entry | None, rows: int) -> None:
        self._showing, self._cut_to = (entry, rows), self.content_region.width
        if entry is None:
            self.update("", layout=False)  # the pane's height is fixed (warroom.tcss): no layout
            return
        width = max(20, self.content_region.width or 80)
        lines = entry.text.split("\n", rows)  # at most rows + 1 pieces
        text = entry_heading(entry)
        if sum(max(1, -(-len(line) // width)) for line in lines) <= rows:  # fits, wrapped
            for line in lines:
                text.append("\n" + visible(line))
        else:
            more = f"… {size_words(entry.text)} in all · Enter on the timeline: every line"
            if rows == 1 or len(more) > width:
                more = f"… {size_words(entry.text)} · Enter: all"
            shown = [visible(line[:width])[: width - 1] for line in lines[: max(1, rows - 1)]]
            if rows == 1:  # the first line and the hint share the only row
                shown[0] = shown[0][: max(0, width - len(more) - 1)] + " "
            text.append("\n" + "\n".join(shown))
            text.append(("" if rows == 1 else "\n") + more, style="italic")
        self.update(text, layout=False)
