"""How the timeline (warroom.ui.widgets.timeline) draws: the columns a width leaves room for, each
kind's short word and colour class, one entry's line as a cached Strip, and the border's subtitle.

`TimelineDrawing` is mixed into `Timeline`, which holds what it reads: the entries (`entry_at`),
`total`, `cursor`, `clock`, `query`, `following`, `unseen` and the strip cache `_strips`; the
component classes and their CSS stay on the widget."""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip

from warroom.domain.models import Entry, EntryKind
from warroom.domain.text import visible

SHORT_LABELS = {
    EntryKind.DECISION: "decide", EntryKind.SEVERITY: "sev", EntryKind.MILESTONE: "milest",
    EntryKind.CHECKLIST: "check", EntryKind.CORRECTION: "correc", EntryKind.ROOT_CAUSE: "cause",
    EntryKind.COMMAND: "cmd", EntryKind.HYPOTHESIS: "hypoth", EntryKind.WENT_WELL: "well",
    EntryKind.WENT_BADLY: "badly",
}
MAX_STRIPS = 4000


@dataclass(frozen=True, slots=True)
class _Columns:
    """How much room each column gets: the text keeps as much of the line as the width allows."""

    seconds: bool
    number: int  # width of the entry number after '#': always shown (/pin N and /correct N need it)
    short_labels: bool
    label: int  # width of the kind's word after its glyph (0: the glyph alone)
    author: int

    @classmethod
    def for_width(cls, width: int, total: int) -> "_Columns":
        digits = max(2, len(str(total))) + 1
        if width >= 100:
            return cls(seconds=True, number=digits, short_labels=False, label=10, author=12)
        if width >= 72:
            return cls(seconds=True, number=digits, short_labels=True, label=6, author=8)
        if width >= 56:
            return cls(seconds=False, number=digits, short_labels=True, label=6, author=7)
        return cls(seconds=False, number=digits, short_labels=True, label=0, author=6)


def _kind_class(kind: EntryKind) -> str:
    if kind in (EntryKind.DECISION, EntryKind.ROOT_CAUSE, EntryKind.LESSON):
        return "timeline--kind-decision"
    if kind in (EntryKind.STATUS, EntryKind.SEVERITY, EntryKind.ROLE, EntryKind.MILESTONE, EntryKind.UPDATE):
        return "timeline--kind-change"
    if kind in (EntryKind.PROBE, EntryKind.CORRECTION):
        return "timeline--kind-alert"
    if kind in (EntryKind.SYSTEM, EntryKind.CHECKLIST):
        return "timeline--kind-quiet"
    if kind is EntryKind.ACTION:
        return "timeline--kind-good"
    return "timeline--kind-plain"


class TimelineDrawing:
    """The line API's side of the timeline: render_line and what it draws with."""

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width  # not under the scrollbar: the … stays in sight
        if row >= self.total:
            return Strip.blank(width, self.rich_style)
        entry = self.entry_at(row)
        if entry is None:
            style = self.get_component_rich_style("timeline--loading")
            return Strip([Segment("  loading…".ljust(width), style)], width)
        today = self.clock().date()
        key = (entry.id, entry.pinned, row == self.cursor, self.has_focus, width, entry.occurred_at.date() == today,
               len(str(self.total)))
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_entry(entry, row == self.cursor, width, today)
            self._strips[key] = strip
            if len(self._strips) > MAX_STRIPS:
                self._strips.popitem(last=False)
        return strip

    def _render_entry(self, entry: Entry, selected: bool, width: int, today) -> Strip:
        style = self.get_component_rich_style
        layout = _Columns.for_width(width, self.total)
        is_today = entry.occurred_at.date() == today
        clock = "%H:%M:%S" if layout.seconds else "%H:%M"
        stamp = entry.occurred_at.strftime(clock if is_today else f"%Y-%m-%d {clock}")
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("»" if selected else " ")  # the selection is never shown by colour alone
        line.append(f"{stamp} ", style("timeline--time"))
        if layout.number:
            line.append(f"#{entry.number:<{layout.number}}", style("timeline--number"))
        line.append("★" if entry.pinned else " ", style("timeline--pinned"))
        label = SHORT_LABELS.get(entry.kind, entry.kind.label) if layout.short_labels else entry.kind.label
        kind = f"{entry.kind.glyph} {label:<{layout.label}} " if layout.label else f"{entry.kind.glyph} "
        line.append(kind, style(_kind_class(entry.kind)))
        line.append(f"{visible(entry.author)[:layout.author]:<{layout.author}} ", style("timeline--author"))
        text = visible(entry.text[: width * 2])  # never more than fits: an entry may hold a 1 MB paste
        if entry.kind is EntryKind.CORRECTION and entry.data:
            text = f"(corrects #{entry.data.get('corrects_number', '?')}) {text}"
        line.append(text, style("timeline--text"))
        line.truncate(width, overflow="ellipsis", pad=True)
        base = style("timeline--cursor") if selected else self.rich_style
        segments = list(line.render(self.app.console))
        segments = list(Segment.apply_style(segments, post_style=None, style=base)) if selected else segments
        return Strip(segments).adjust_cell_length(width, base).simplify()

    def notify_style_update(self) -> None:
        """The theme or CSS changed: cached lines hold the old colours."""
        super().notify_style_update()
        self._strips.clear()

    def _update_subtitle(self) -> None:
        parts = []
        if self.query:
            parts.append(f"filter: {visible(self.query)} ({self.total} {'match' if self.total == 1 else 'matches'})")
        if self.unseen and not self.following:
            parts.append(f"▼ {self.unseen} new, End to follow")
        elif self.following:
            parts.append("following")
        self.border_subtitle = " · ".join(parts)
