"""The entry bar: plain text is a note, slash commands change the incident. Enter submits.

A paste of several lines (or a long one) is held whole as a block shown by a marker such as
`⟦paste 1: 12 lines, 3.4 kB⟧`: Enter logs it, with what is typed around it, as ONE entry. The
marker is edited as one piece (Backspace after it removes the whole paste), so a block is either
all in the entry or not at all; the Input itself stays short, so a 1 MB paste never slows typing.
The input's lower border says what the markers hold.
"""

from __future__ import annotations

import itertools
import re

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static

from warroom.domain.completion import complete
from warroom.domain.grammar import MAX_ENTRY_BYTES
from warroom.domain.policy import Policy
from warroom.domain.text import size_words, visible
from warroom.ui.messages import EntrySubmitted
from warroom.ui.paint_hold import PaintHold
from warroom.ui.widgets.inert_input import InertInput

HISTORY_LIMIT = 500
INLINE_PASTE_LIMIT = 1000  # a one-line paste up to this many characters goes in as if typed
WRITE_HOLD = 0.05  # seconds the screen waits for an entry to be written before it draws without it
_MARKER = re.compile(r"⟦paste (\d+)[^⟧]*⟧")


def normalize_newlines(text: str) -> str:
    """Terminals paste line ends as CR or CRLF (the driver is in raw mode): make them LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class CommandSuggester(Suggester):
    """Suggests command, role, severity and status names from the incident's policy."""

    def __init__(self, policy: Policy) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.policy = policy

    async def get_suggestion(self, value: str) -> str | None:
        """The first completion that continues what is typed (the Input shows only the rest)."""
        folded = value.casefold()
        for option in complete(value, self.policy):
            if len(option) > len(value) and option.casefold().startswith(folded):
                return value + option[len(value):]
        return None


class EntryInput(InertInput):
    """An Input with Up/Down history of what was submitted, Tab completion of /commands and
    pasted blocks held whole behind markers (`full_text` is what Enter sends)."""

    class NothingToComplete(Message):
        """Tab with text in the bar and nothing to complete: the focus stays (the bar says so)."""

        def __init__(self, input: "EntryInput") -> None:
            super().__init__()
            self.input = input

    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]  # Tab and Shift+Tab are taken in _on_key (completion), as Enter is

    def __init__(self, policy: Policy, **kwargs) -> None:
        # No select-all on focus: the next key would replace the unsent text (a draft put back,
        # or what was typed before a dialog took the focus).
        super().__init__(select_on_focus=False, **kwargs)
        # A steady cursor, shown while the bar has the focus: a blinking one draws a frame twice a
        # second for as long as the war room is open (two of an idle screen's three frames a
        # second, and their bytes over SSH), and makes every screenshot a coin toss.
        self.cursor_blink = False
        self.policy = policy
        self.history: list[str] = []
        self._position = 0
        self._draft = ""
        self._cycle: tuple[str, list[str], str] | None = None  # (what was typed, its completions, the one put in)
        self.pastes: dict[int, str] = {}  # paste number -> the text its marker stands for
        self._paste_numbers = itertools.count(1)
        self.progress = ""  # a long job's progress, on the lower border (see show_progress)

    # ---- pasted blocks -----------------------------------------------------------------------

    @property
    def full_text(self) -> str:
        """The value with every paste marker replaced by the text it stands for."""
        if not self.pastes:
            return self.value
        return _MARKER.sub(lambda m: self.pastes.get(int(m.group(1)), m.group()), self.value)

    def _markers(self):
        return [m for m in _MARKER.finditer(self.value) if int(m.group(1)) in self.pastes]

    def replace(self, text: str, start: int, end: int) -> None:
        """Every edit goes through here: a marker is replaced or deleted as a whole, never in part,
        and nothing is inserted inside one."""
        start, end = sorted((start, end))
        for marker in self._markers():
            if start == end and marker.start() < start < marker.end():
                start = end = marker.end()
            elif start < marker.end() and end > marker.start():
                start, end = min(start, marker.start()), max(end, marker.end())
        super().replace(text, start, end)
        present = {int(m.group(1)) for m in _MARKER.finditer(self.value)}
        if any(number not in present for number in self.pastes):
            self.pastes = {number: held for number, held in self.pastes.items() if number in present}
            self._show_pastes()

    def _show_pastes(self) -> None:
        """What the markers hold, on the input's lower border (a repaint, not a new layout: the
        bar does not grow, so a key typed right after a big paste is not held up), then a long
        job's progress if one runs (`show_progress`)."""
        said = [self.progress] if self.progress else []
        if self.pastes:
            held = "\n".join(self.pastes.values())
            over = len(held.encode("utf-8", "surrogatepass")) > MAX_ENTRY_BYTES
            said.insert(0, f"pasted {size_words(held)}" + (
                f" · over the {MAX_ENTRY_BYTES // 2**20} MiB an entry holds: kept as a draft" if over
                else " · Enter logs it all as ONE entry") + " · Backspace after ⟦⟧ removes a paste")
        self.border_subtitle = " | ".join(said)

    def show_progress(self, message: str | None) -> None:
        """A long job's progress (F6's report) on the input's lower border, beside what a paste
        holds: redrawn in place, nothing moves; None takes it away."""
        self.progress = visible(message) if message else ""
        self._show_pastes()

    def insert_block(self, text: str) -> None:
        """Insert text at the cursor (over the selection): short single lines as they are, anything
        longer or with several lines as a marker that holds it whole."""
        text = normalize_newlines(text).rstrip("\n")  # a copied block usually ends with a line end
        if not text:
            return
        if "\n" not in text and len(text) <= INLINE_PASTE_LIMIT:
            self.replace(text, *self.selection)
            return
        number = next(self._paste_numbers)
        self.pastes[number] = text
        marker = f"⟦paste {number}: {size_words(text)}⟧"
        self.replace(marker, *self.selection)
        self._show_pastes()

    def set_text(self, text: str) -> None:
        """Replace the whole content (history, a text put back, a draft) and put the cursor at the end."""
        self.pastes = {}
        self._show_pastes()
        self.value = ""
        self.insert_block(text)
        self.cursor_position = len(self.value)

    def _on_paste(self, event: events.Paste) -> None:
        """Textual's Input keeps only the first line of a paste; here every line is kept."""
        event.stop()
        event.prevent_default()
        self.insert_block(event.text)

    async def _on_key(self, event: events.Key) -> None:
        """Enter and Tab are taken here, in key order: as bindings they would run only after keys
        typed behind them were inserted (a fast scribe's next entry glued onto this one; `/update e`
        Tab `xecutive` completing `/update executive` only after the rest was typed)."""
        if event.key in ("tab", "shift+tab"):
            event.stop()
            event.prevent_default()
            self.action_complete(1 if event.key == "tab" else -1)
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            # Nothing is drawn until the entry is written and shown (WRITE_HOLD at most): the bar
            # emptied and the new entry come in one frame, not the entry one frame wait later.
            painting = PaintHold(self.app, WRITE_HOLD)
            text = self.full_text
            self.set_text("")
            submitted = self.Submitted(self, text)
            submitted.painting = painting  # handed on with EntrySubmitted (see EntryBar)
            self.post_message(submitted)
            return
        action = self._own_action(event.key)
        if action is not None:
            event.stop()
            event.prevent_default()
            await self.run_action(action)
            return
        await super()._on_key(event)

    def _own_action(self, key: str) -> str | None:
        """The action this bar binds `key` to (the Input's editing keys, the history's arrows), to
        run here and now, in key order: as a binding it ran only after the keys behind it were
        handled, so a burst of keys (SSH after a stall, or what was typed while warroom started)
        came out wrong: `abc` Backspace `d` gave `abcd`."""
        for binding in self._bindings.key_to_bindings.get(key, ()):  # (a letter has none)
            name = binding.action.partition("(")[0]
            if self.check_action(name, ()) is not False:
                return binding.action
        return None

    def action_complete(self, step: int = 1) -> None:
        """Complete the command, role, severity, status or audience name; Tab again cycles (Shift+Tab
        backwards); a completion that was the only one goes on to the next word (`/sev` Tab Tab:
        `/sev `, then `/sev SEV-1 `). Focus leaves the bar only when it is empty: while it holds
        text, a Tab that has nothing to complete says so and stays, so the next letters are never
        taken as shortcuts. The cycle goes on only while the bar holds what Tab put there."""
        if self._cycle and self.value == self._cycle[2] and len(self._cycle[1]) > 1:
            typed, options, _ = self._cycle
            choice = options[(options.index(self.value) + step) % len(options)]
        else:
            typed, options = self.value, complete(self.value, self.policy) if self.value.lstrip() else []
            if not options:
                self._cycle = None
                if self.value.strip() or self.pastes:
                    self.post_message(self.NothingToComplete(self))
                elif step > 0:
                    self.screen.focus_next()
                else:
                    self.screen.focus_previous()
                return
            choice = options[0] if step > 0 else options[-1]
        self._cycle = (typed, options, choice)
        self.value = choice
        self.cursor_position = len(choice)

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-HISTORY_LIMIT]
        self._position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.full_text
        self._position = max(0, min(len(self.history), self._position + step))
        self.set_text(self._draft if self._position == len(self.history) else self.history[self._position])


class EntryBar(Vertical):
    """The input, a line for errors and a line for notices; the text stays until it is committed."""

    DEFAULT_CSS = """
    EntryBar { height: auto; }
    EntryBar #entry-error { color: $error; text-style: bold; height: auto; display: none; padding: 0 1; }
    EntryBar.-error #entry-error { display: block; }
    EntryBar.-error EntryInput { border: tall $error; }
    EntryBar #entry-notice { color: $text-warning; height: auto; max-height: 3; display: none; padding: 0 1; }
    EntryBar.-notice #entry-notice { display: block; }
    """

    def __init__(self, policy: Policy, **kwargs) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self._kept: str | None = None  # a rejected text put back in the bar (editing it clears the error)
        self._failed: str | None = None  # the last rejected text
        self._last_submitted = ""
        self._tab_notice = False  # the notice says Tab had nothing to complete (goes at the next edit)

    def compose(self) -> ComposeResult:
        yield EntryInput(self.policy, placeholder="Type a note, or /help for commands (Enter to log)",
                         id="entry-input", suggester=CommandSuggester(self.policy))
        yield Static("", id="entry-error")
        yield Static("", id="entry-notice")

    @property
    def input(self) -> EntryInput:
        return self.query_one(EntryInput)

    def make_read_only(self, note: str) -> None:
        """A read-only session: the bar says so and takes no typing (the service refuses writes too)."""
        self.input.placeholder = note
        self.input.disabled = True

    @property
    def text(self) -> str:
        """What Enter would send now (pasted blocks included)."""
        return self.input.full_text

    def set_text(self, text: str) -> None:
        self.input.set_text(text)

    def restore(self, text: str, notice: str) -> None:
        """Put `text` (a draft) in the bar with `notice` saying where it came from."""
        self.input.set_text(text)
        self.show_notice(notice)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The input emptied itself on Enter, so the scribe can type the next entry while this one
        commits; a rejected text comes back (see `rejected`)."""
        event.stop()
        text = event.value
        painting = getattr(event, "painting", None)  # held since Enter (EntryInput._on_key)
        self.clear_notice()
        if text.strip():
            self.input.remember(text)
            self._last_submitted = text
            self.post_message(EntrySubmitted(text, painting))
        elif painting is not None:
            painting.release()  # nothing to write: the emptied bar is drawn now

    def on_entry_input_nothing_to_complete(self, event: EntryInput.NothingToComplete) -> None:
        event.stop()
        self.show_notice("Tab: nothing to complete; the text stays (Tab changes pane from an empty bar)")
        self._tab_notice = True

    def on_input_changed(self, event: Input.Changed) -> None:
        """An error goes once its text is being fixed: edited after it came back or was recalled."""
        if self._tab_notice:
            self._tab_notice = False
            self.clear_notice()
        if self._failed is None and self._kept is None:
            return
        text = self.input.full_text
        if self._failed is not None and text == self._failed:
            self._kept = self._failed
        elif self._kept is not None and text != self._kept:
            self.clear_error()

    def show_error(self, message: str) -> None:
        self.query_one("#entry-error", Static).update(Text("✗ " + visible(message)))
        self.add_class("-error")

    def clear_error(self) -> None:
        self.remove_class("-error")
        self._kept = self._failed = None

    def show_notice(self, message: str) -> None:
        """A line under the input (starts with ℹ: colour is not the only sign) until the next Enter."""
        self.query_one("#entry-notice", Static).update(Text("ℹ " + visible(message)))
        self.add_class("-notice")

    def clear_notice(self) -> None:
        self.remove_class("-notice")

    def show_progress(self, message: str | None) -> None:
        """A long job's progress, on the input's lower border (EntryInput.show_progress)."""
        self.input.show_progress(message)

    def rejected(self, error: str, text: str) -> None:
        """`text` was not saved: put it back for fixing, unless the scribe has already typed or sent
        something after it (then it waits in the history: Up recalls it). Nothing typed is lost."""
        self._failed = text or None
        if text and text == self._last_submitted and not self.text.strip():
            self._kept = text
            self.set_text(text)
        elif text:
            shown = text if len(text) <= 200 else f"{text[:200]}… ({size_words(text)})"
            error = f"{error} (not saved: {shown!r}; Up recalls it)"
        self.show_error(error)
        if not text:
            self._kept = self.text  # nothing came back: any edit clears the error
