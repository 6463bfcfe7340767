"""Keeping the entry bar's unsent text as a draft (warroom.service.drafts) while the screen is open:
DraftKeeper saves it; EntryDrafts, composed into the war-room screen, holds its draft slot and puts
back what a screen that has gone left unsent."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable

from warroom.service.drafts import Draft, DraftSlot
from warroom.ui.widgets.entry_bar import EntryBar

log = logging.getLogger("warroom.ui.drafts")
SAVE_DELAY = 0.2  # seconds from a change to its save: all a kill -9 can lose


class DraftKeeper:
    """Saves `read_text()` to the slot at most SAVE_DELAY after each change, in a worker thread so a
    slow disk never stalls typing; `save_now()` saves at once (on exit or hangup). The save runs
    beside the screen, not in its message queue (a write the disk kept 100-900 ms held every
    frame and key echo that long), and one at a time: a change meanwhile is saved right after."""

    def __init__(self, slot: DraftSlot | None, read_text: Callable[[], str],
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.slot = slot
        self.read_text = read_text
        self.on_problem = on_problem
        self._armed = False
        self._wanted = ""
        self._write_lock = threading.Lock()
        self._failed = False
        self._saving: asyncio.Task | None = None  # the save in flight
        self._again = False  # the text changed while it ran: save once more

    @classmethod
    def open(cls, store, incident_id: str, read_text: Callable[[], str],
             on_problem: Callable[[str], None]) -> tuple["DraftKeeper", list[Draft]]:
        """A keeper on a new slot of the incident, and the drafts screens that have gone left."""
        if store is None:
            return cls(None, read_text), []
        slot = store.slot(incident_id)
        try:
            slot.open()
            return cls(slot, read_text, on_problem), slot.leftovers()
        except OSError as error:
            on_problem(f"drafts cannot be kept in {slot.folder}: {error.strerror or error}")
            return cls(None, read_text), []

    def changed(self, owner) -> None:
        """The text changed: save it soon (`owner` is the widget whose timer runs the save)."""
        if self.slot is not None and not self._armed:
            self._armed = True
            owner.set_timer(SAVE_DELAY, self._save_soon)

    def _save_soon(self) -> None:
        self._armed = False
        if self._saving is not None and not self._saving.done():
            self._again = True
            return
        self._saving = asyncio.ensure_future(self._save_until_current())

    async def _save_until_current(self) -> None:
        self._again = True
        try:
            while self._again:
                self._again = False
                self._wanted = self.read_text()
                self._report(await asyncio.to_thread(self._write))
        except Exception as error:  # the screen is going: close() saves what is left
            log.warning("draft not saved: %s", error)

    def _write(self) -> OSError | None:
        """Write the latest wanted text (read under the lock, so an older text never wins); runs
        in a worker thread, so a failure is returned for the event loop to report."""
        with self._write_lock:
            if self.slot is None:
                return None
            try:
                self.slot.save(self._wanted)
            except OSError as error:
                return error
            return None

    def save_now(self) -> None:
        if self.slot is not None:
            self._wanted = self.read_text()
            self._report(self._write())

    def take_over(self, drafts: list[Draft]) -> None:
        """The leftovers are now in the bar: save it, then remove them (if saving fails they stay)."""
        if self.slot is not None and drafts:
            with self._write_lock:
                self._wanted = self.read_text()
                try:
                    self.slot.take_over(drafts, self._wanted)
                except OSError as error:
                    failure = error
                else:
                    failure = None
            self._report(failure)

    def _report(self, error: OSError | None) -> None:
        """Say once that drafts cannot be saved (and again after they could be for a while)."""
        if error is None:
            self._failed = False
            return
        if not self._failed and self.on_problem is not None:
            self.on_problem(f"the draft could not be saved: {error.strerror or error}")
        self._failed = True
        log.warning("draft not saved: %s", error)

    def close(self) -> None:
        """Save the last text and let go of the slot (a non-empty draft stays for the next open)."""
        self.save_now()
        with self._write_lock:
            if self.slot is not None:
                try:
                    self.slot.close()
                except OSError as error:
                    log.warning("draft slot not closed: %s", error)
                self.slot = None


class EntryDrafts:
    """The war-room screen's drafts, composed into it (`screen.drafts`): the keeper of its draft
    slot, and what was sent with Enter but is not committed or refused yet (kept in the draft too)."""

    def __init__(self, screen) -> None:
        self.screen = screen
        self.keeper = DraftKeeper(None, str)
        self.in_flight: list[str] = []
        self.bar_text = ""  # the entry bar's text when last seen

    @property
    def slot(self) -> DraftSlot | None:
        return self.keeper.slot

    def open(self) -> None:
        """Take a draft slot for this screen and put back what a screen that has gone left unsent."""
        screen = self.screen
        problem = lambda text: screen.notify(text, title="Drafts", severity="error", timeout=12, markup=False)  # noqa: E731
        self.keeper, leftovers = DraftKeeper.open(getattr(screen.app, "drafts", None), screen.incident.id,
                                                  self.unsent, problem)
        if not leftovers:
            return
        saved = leftovers[-1].saved_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        text = "\n".join(draft.text for draft in leftovers)
        screen.query_one(EntryBar).restore(
            text, f"Restored the draft that was not sent (saved {saved}): Enter logs it, Ctrl+U clears it.")
        self.keeper.take_over(leftovers)

    def unsent(self) -> str:
        """Everything not committed yet: entries in flight, then the bar (as last seen, once the
        bar has been removed on the way out)."""
        bars = self.screen.query(EntryBar)
        if bars:
            self.bar_text = bars.first().text
        return "\n".join(text for text in (*self.in_flight, self.bar_text) if text.strip())

    def bar_changed(self) -> None:
        self.bar_text = self.screen.query_one(EntryBar).text
        self.keeper.changed(self.screen)

    def sent(self, text: str) -> None:
        """`text` went with Enter: it stays in the draft until it is committed or refused."""
        self.in_flight.append(text)
        self.keeper.changed(self.screen)

    def settled(self, text: str) -> None:
        """`text` is committed, or refused and back in the bar: no longer in flight."""
        if text in self.in_flight:
            self.in_flight.remove(text)
            self.keeper.changed(self.screen)

    def save_now(self) -> None:
        self.keeper.save_now()

    def close(self) -> None:
        self.keeper.close()
