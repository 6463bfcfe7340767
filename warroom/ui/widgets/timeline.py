"""The timeline: a line-API ScrollView that reads pages of entries from the store on demand.

Only the visible pages are held in memory and each rendered line is cached as a Strip (how a line
is drawn: warroom.ui.widgets.timeline_drawing), so an incident with 100,000 entries scrolls as fast
as one with ten (see bench/bench_timeline.py).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual import messages
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry
from warroom.ui.messages import EntryChosen
from warroom.ui.widgets.timeline_drawing import TimelineDrawing

log = logging.getLogger("warroom.ui.timeline")

PAGE_SIZE = 200
MAX_PAGES = 40


class TimelineSource(Protocol):
    async def count(self, query: str) -> int: ...
    async def page(self, offset: int, limit: int, query: str) -> list[Entry]: ...


@dataclass
class _PageLoaded(Message):
    generation: int
    page: int
    entries: list[Entry] | None  # None: the read failed (it is asked again when next shown)


class Timeline(TimelineDrawing, ScrollView, can_focus=True):
    """Every entry of the incident, one line each, oldest first; follows the tail."""

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last / follow", show=False),
        Binding("p", "pin", "Pin", tooltip="Pin or unpin the selected entry"),
        Binding("c", "correct", "Correct", tooltip="Write a correction of the selected entry"),
        Binding("y", "copy", "Copy", tooltip="Copy the selected entry to the clipboard"),
        Binding("slash", "filter", "Filter", tooltip="Filter by text, kind or author"),
        Binding("enter,v", "view", "View", show=False),  # in the help; the footer is full at 120 columns
        Binding("d", "detected", "Detected", show=False,
                tooltip="On a probe DOWN entry: its first failure as the detected milestone, in the bar"),
    ]

    COMPONENT_CLASSES = {
        "timeline--time", "timeline--number", "timeline--author", "timeline--text", "timeline--cursor",
        "timeline--pinned", "timeline--loading", "timeline--kind-plain", "timeline--kind-decision",
        "timeline--kind-change", "timeline--kind-alert", "timeline--kind-quiet", "timeline--kind-good",
    }

    DEFAULT_CSS = """
    Timeline { height: 1fr; }
    Timeline > .timeline--time { color: $text-muted; }
    Timeline > .timeline--number { color: $text-muted; }
    Timeline > .timeline--author { color: $secondary; text-style: bold; }
    Timeline > .timeline--text { color: $foreground; }
    Timeline > .timeline--cursor { background: $boost; text-style: bold; }
    Timeline:focus > .timeline--cursor { background: $primary 35%; }
    Timeline > .timeline--pinned { color: $accent; text-style: bold; }
    Timeline > .timeline--loading { color: $text-disabled; }
    Timeline > .timeline--kind-plain { color: $foreground; }
    Timeline > .timeline--kind-decision { color: $accent; text-style: bold; }
    Timeline > .timeline--kind-change { color: $primary; text-style: bold; }
    Timeline > .timeline--kind-alert { color: $error; text-style: bold; }
    Timeline > .timeline--kind-quiet { color: $text-muted; }
    Timeline > .timeline--kind-good { color: $success; text-style: bold; }
    """

    cursor: reactive[int] = reactive(-1, always_update=True)
    query: reactive[str] = reactive("", init=False)

    class Action(Message):
        """The user asked for something the screen must do with an entry (pin, correct, copy, filter, view)."""

        def __init__(self, action: str, entry: Entry | None) -> None:
            super().__init__()
            self.action = action
            self.entry = entry

    def __init__(self, source: TimelineSource, clock: Callable[[], datetime], **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.clock = clock
        self.total = 0
        self.following = True
        self.unseen = 0
        self._generation = 0
        self._pages: OrderedDict[int, list[Entry]] = OrderedDict()
        self._pending: set[int] = set()
        self._strips: OrderedDict[tuple, Strip] = OrderedDict()

    # ---- data --------------------------------------------------------------------------------

    async def reload(self) -> None:
        """Count again and drop cached pages (a new filter, or new entries in a filtered view)."""
        self._drop_pages()
        try:
            total = await self.source.count(self.query)
        except WarroomError as error:  # the database server is away: read again when it is back
            log.warning("timeline not counted: %s", error)
            return
        self._resized(total)

    def reset(self, total: int, pages: dict[int, list[Entry]] | None = None) -> None:
        """The incident has `total` entries and any of them may have changed: drop cached pages
        (and take `pages`, just read, instead: {page number: its entries})."""
        if self.query:
            self.run_worker(self.reload(), group="timeline-reload", exclusive=True)
            return
        self._drop_pages()
        self._pages.update(pages or {})
        self._resized(total)

    def append(self, entries: list[Entry], total: int) -> None:
        """Entries committed after the ones held (`total`: the incident's count with them). When they
        sort after the last one held they join its page without reading the store; a back-dated one
        lands inside the timeline, so the pages are dropped and the visible ones read again."""
        if not entries:
            return
        if self.query:  # which of them match the filter is the store's to say
            self.run_worker(self.reload(), group="timeline-reload", exclusive=True)
            return
        entries = sorted(entries, key=_order)
        if self._tail_takes(entries):
            for row, entry in enumerate(entries, start=self.total):
                self._pages.setdefault(row // PAGE_SIZE, []).append(entry)
        else:
            self._drop_pages()
        self._resized(max(total, self.total + len(entries)))

    def restate(self, entries: list[Entry]) -> None:
        """Entries whose state changed (a pin, here or elsewhere): replace the copies held."""
        fresh = {entry.id: entry for entry in entries}
        changed = False
        for page in self._pages.values():
            for index, held in enumerate(page):
                if held.id in fresh:
                    page[index], changed = fresh[held.id], True
        if changed:
            self.refresh()
            self._announce()

    def _tail_takes(self, entries: list[Entry]) -> bool:
        """True when the held pages end at the last entry and `entries` all sort after it."""
        if self.total == 0:
            return not self._pages and not self._pending
        last_page, last_index = divmod(self.total - 1, PAGE_SIZE)
        tail = self._pages.get(last_page)
        if tail is None or len(tail) != last_index + 1 or last_page in self._pending:
            return False
        return _order(entries[0]) > _order(tail[-1])

    def _drop_pages(self) -> None:
        self._generation += 1
        self._pages.clear()
        self._pending.clear()

    def _resized(self, total: int) -> None:
        grown = total - self.total
        scrolled_before = self.total > self.size.height
        self.total = total
        size = Size(self.size.width, total)
        if scrolled_before and total > self.size.height:
            # The scrollbar stays: only it changes, so no layout of the whole screen (virtual_size is
            # a layout reactive) for each entry appended. (Its width may be the one from before the
            # first layout, when the first look set it: the timeline never scrolls sideways.)
            self.set_reactive(Timeline.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size
        if self.following:
            self.unseen = 0
            self.cursor = total - 1
            self._request_tail()
            self._follow_tail()  # now too: before the first layout the end is clamped to the tail when laid out,
            self.call_after_refresh(self._follow_tail)  # so the first frame draws the tail, not the top
        elif grown > 0:
            self.unseen += grown
        self._update_subtitle()
        self.refresh()
        self._repaint_now()

    def _repaint_now(self) -> None:
        """Tell the screen at once that this needs drawing. Textual's refresh() tells it only when
        this widget's own message queue next runs dry, often after the screen has drawn its next
        frame: the entry just written came one frame (16-25 ms) after the emptied entry bar. An
        extra word once drawn costs nothing: the screen finds no region left to draw."""
        if self.is_mounted:
            self.screen.post_message(messages.Update(self))

    def _request_tail(self) -> None:
        """Read the pages of the rows the tail shows now, newest first, before they are drawn (a
        frame of "loading…" less when the war room opens or reloads)."""
        for page in tail_pages(self.total, self.size.height or self.app.size.height):  # before a layout: the terminal's
            if page not in self._pages:
                self._request(page)

    @property
    def tail_shown(self) -> bool:
        """Every row of the tail in view has its entry (nothing of it reads "loading…")."""
        return all(page in self._pages for page in tail_pages(self.total, self.size.height or self.app.size.height))

    def follow(self) -> None:
        """Follow the tail again from the next reload (after the scribe wrote something)."""
        self.following = True
        self.unseen = 0

    def _follow_tail(self) -> None:
        if self.following:
            self.scroll_to(y=max(0, self.total - self.size.height), animate=False, force=True)

    def watch_show_vertical_scrollbar(self, show: bool) -> None:
        """A scrollbar that appears after the scroll (on the first load) must start at the right place."""
        if show:
            self.vertical_scrollbar.position = self.scroll_y
        self.call_after_refresh(self._follow_tail)

    def on_resize(self) -> None:
        self._strips.clear()
        self.call_after_refresh(self._follow_tail)

    def entry_at(self, row: int) -> Entry | None:
        page, index = divmod(row, PAGE_SIZE)
        entries = self._pages.get(page)
        if entries is None:
            self._request(page)
            return None
        self._pages.move_to_end(page)
        return entries[index] if index < len(entries) else None

    @property
    def selected(self) -> Entry | None:
        return self.entry_at(self.cursor) if 0 <= self.cursor < self.total else None

    def _request(self, page: int) -> None:
        if page in self._pending:
            return
        self._pending.add(page)
        self.run_worker(self._load(page, self._generation), group="timeline-pages")

    async def _load(self, page: int, generation: int) -> None:
        try:
            entries = await self.source.page(page * PAGE_SIZE, PAGE_SIZE, self.query)
        except WarroomError as error:  # the database server is away: the page is read when it is back
            log.warning("timeline page %d not read: %s", page, error)
            entries = None
        self.post_message(_PageLoaded(generation, page, entries))

    def on__page_loaded(self, message: _PageLoaded) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self._pending.discard(message.page)
        if message.entries is None:
            return
        self._pages[message.page] = message.entries
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.refresh()
        self._announce()

    # ---- cursor and keys ---------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        if self.total == 0:
            return
        clamped = max(0, min(new, self.total - 1))
        if clamped != new:
            self.cursor = clamped
            return
        # Scrolled at once, not after the next frame (Textual's default): an appended entry that
        # the cursor follows is in the frame that shows it, not one frame later.
        top, height = self.scroll_offset.y, self.size.height
        if new < top:
            self.scroll_to(y=new, animate=False, force=True, immediate=True)
        elif height and new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, force=True, immediate=True)
        self.following = new >= self.total - 1
        if self.following:
            self.unseen = 0
        self._update_subtitle()
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        self.post_message(EntryChosen(self.selected))

    def watch_query(self) -> None:
        self.following = True
        self.total = 0
        self.run_worker(self.reload(), group="timeline-reload", exclusive=True)

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        self.cursor = self.scroll_offset.y + event.y

    def action_cursor(self, delta: int) -> None:
        self.cursor = (self.cursor if self.cursor >= 0 else self.total - 1) + delta

    def action_page(self, direction: int) -> None:
        self.cursor = self.cursor + direction * max(1, self.size.height - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self.total - 1

    def action_pin(self) -> None:
        self.post_message(self.Action("pin", self.selected))

    def action_correct(self) -> None:
        self.post_message(self.Action("correct", self.selected))

    def action_copy(self) -> None:
        self.post_message(self.Action("copy", self.selected))

    def action_filter(self) -> None:
        self.post_message(self.Action("filter", self.selected))

    def action_view(self) -> None:
        self.post_message(self.Action("view", self.selected))

    def action_detected(self) -> None:
        self.post_message(self.Action("detected", self.selected))


def tail_pages(total: int, rows: int) -> list[int]:
    """The pages holding the last `rows` of `total` rows, newest first."""
    return list(range((total - 1) // PAGE_SIZE, max(0, total - rows) // PAGE_SIZE - 1, -1)) if total else []


def _order(entry: Entry) -> tuple:
    """Timeline order: when it happened, then its number (as the store sorts)."""
    return (entry.occurred_at, entry.number)
