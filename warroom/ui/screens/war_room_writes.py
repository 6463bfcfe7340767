"""What a war room writes from its panes: the entry bar's text (parsed and applied in typed order,
the Enter's painting held until the outcome is posted) and the timeline's commands on an entry
(pin, correct, the detected milestone from a probe DOWN entry, a role taken).

`WarRoomWrites` is mixed into WarRoomScreen; the message handlers that start these writes
(`on_entry_submitted`, `on_timeline_action`, `assign`) stay on the screen.
"""

from __future__ import annotations

from textual import work

from warroom.domain import commands as cmd
from warroom.domain.clock import format_moment, from_stored
from warroom.domain.errors import SummaryRequired, WarroomError
from warroom.domain.models import Entry, EntryKind
from warroom.domain.text import visible
from warroom.ui.messages import EntryCommitted, EntryRejected


class WarRoomWrites:
    """The war-room screen's writes: typed entries and the commands of the timeline's keys."""

    @work(group="write")
    async def write_entry(self, text: str, painting=None) -> None:
        """Parse and apply what was typed, in typed order. The rules are the service's: `/help`
        writes nothing, resolving without a summary asks for one (as `warroom log` refuses it).
        `painting` (held since Enter) is released once the outcome is posted: the frame after it
        shows the entry (or the error) with the emptied bar."""
        try:
            await self._write_entry(text)
        finally:
            if painting is not None:  # once the screen has taken in what the write posted
                self.call_after_refresh(painting.release)

    async def _write_entry(self, text: str) -> None:
        try:
            async with self._entry_lock:  # the next entry is parsed against this one's result
                command = await self.service.parse(self.incident.id, text)
                if isinstance(command, cmd.ShowHelp):
                    self.post_message(EntryCommitted(text, []))
                    self.app.call_later(self.action_help)
                    return
                entries = await self.service.apply(self.incident.id, command, self.app.user)
                await self.committed(text, entries)
                if isinstance(command, cmd.PinEntry):  # as `p` on the timeline says it
                    self.notify(f"{'Pinned ★' if command.pinned else 'Unpinned'} #{command.number}", markup=False)
        except SummaryRequired:
            self.procedures.resolve_with_summary(text)
            return
        except WarroomError as error:
            self.post_message(EntryRejected(str(error), text))
        except Exception as error:  # keep the text: nothing typed is ever lost
            self.post_message(EntryRejected(f"not saved: {type(error).__name__}: {error}", text))
        else:
            self.procedures.after_commit(entries)

    def offer_detected(self, entry: Entry) -> None:
        """`d` on a probe DOWN entry: its first failure as the detected milestone, ready in the bar."""
        transition = (entry.data or {}).get("transition") or {}
        if entry.kind is not EntryKind.PROBE or transition.get("new") != "down":
            self.notify("d takes the first failure of a probe DOWN entry as the detected milestone; "
                        f"#{entry.number} is not one", severity="warning", markup=False)
            return
        first = from_stored(transition.get("first_failure_at") or transition["at"])
        self.prefill(f"@{first:%Y-%m-%dT%H:%M:%S} /detected probe {transition.get('probe', '')} down (#{entry.number})")
        self.notify(f"Enter records the detected milestone at {format_moment(first, self.service.now())}",
                    markup=False)

    @work(group="dialog")
    async def correct_entry(self, entry: Entry) -> None:
        from warroom.ui.screens.dialogs import AskText

        text = await self.app.push_screen_wait(
            AskText(f"Correct #{entry.number} (the original stays; a correction entry points at it)",
                    value=entry.text))
        if text and text.strip() and text != entry.text:
            self.apply_command(cmd.CorrectEntry(number=entry.number, text=text.strip()),
                               f"Correction of #{entry.number} logged")

    @work(group="write")
    async def apply_command(self, command: cmd.Command, done: str) -> None:
        try:
            entries = await self.service.apply(self.incident.id, command, self.app.user)
            await self.committed(None, entries)
        except WarroomError as error:
            self.notify(visible(str(error)), severity="error", markup=False)
            return
        self.notify(done, markup=False)
