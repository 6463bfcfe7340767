"""The entry bar: plain text is a note, slash commands change the incident. Enter submits."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Static

from warroom.domain.grammar import complete
from warroom.domain.policy import Policy
from warroom.domain.text import visible
from warroom.ui.messages import EntrySubmitted

HISTORY_LIMIT = 500


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


class EntryInput(Input):
    """An Input with Up/Down history of what was submitted and Tab completion of /commands."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def __init__(self, policy: Policy, **kwargs) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self.history: list[str] = []
        self._position = 0
        self._draft = ""
        self._cycle: tuple[str, list[str]] | None = None  # (what was typed, its completions)

    async def _on_key(self, event: events.Key) -> None:
        """Enter is taken here, in key order: as a binding it would run only after keys typed behind
        it were inserted, and a fast scribe's next entry would be glued onto this one."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text, self.value = self.value, ""
            self.post_message(self.Submitted(self, text))
            return
        await super()._on_key(event)

    def action_complete(self) -> None:
        """Complete the command, role, severity or status name; Tab again cycles; no completion: next pane."""
        if self._cycle and self.value in self._cycle[1]:
            typed, options = self._cycle
            choice = options[(options.index(self.value) + 1) % len(options)]
        else:
            typed, options = self.value, complete(self.value, self.policy) if self.value.lstrip() else []
            if not options:
                self._cycle = None
                self.screen.focus_next()
                return
            choice = options[0]
        self._cycle = (typed, options)
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
            self._draft = self.value
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self._draft if self._position == len(self.history) else self.history[self._position]
        self.cursor_position = len(self.value)


class EntryBar(Vertical):
    """The input plus a line for errors next to it; the text stays until it is committed."""

    DEFAULT_CSS = """
    EntryBar { height: auto; }
    EntryBar #entry-error { color: $error; text-style: bold; height: auto; display: none; padding: 0 1; }
    EntryBar.-error #entry-error { display: block; }
    EntryBar.-error EntryInput { border: tall $error; }
    """

    def __init__(self, policy: Policy, **kwargs) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self._kept: str | None = None  # a rejected text put back in the bar (editing it clears the error)
        self._failed: str | None = None  # the last rejected text
        self._last_submitted = ""

    def compose(self) -> ComposeResult:
        yield EntryInput(self.policy, placeholder="Type a note, or /help for commands (Enter to log)",
                         id="entry-input", suggester=CommandSuggester(self.policy))
        yield Static("", id="entry-error")

    @property
    def input(self) -> EntryInput:
        return self.query_one(EntryInput)

    def make_read_only(self, note: str) -> None:
        """A read-only session: the bar says so and takes no typing (the service refuses writes too)."""
        self.input.placeholder = note
        self.input.disabled = True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """The input emptied itself on Enter, so the scribe can type the next entry while this one
        commits; a rejected text comes back (see `rejected`)."""
        event.stop()
        text = event.value
        if text.strip():
            self.input.remember(text)
            self._last_submitted = text
            self.post_message(EntrySubmitted(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        """An error goes once its text is being fixed: edited after it came back or was recalled."""
        if self._failed is not None and event.value == self._failed:
            self._kept = self._failed
        elif self._kept is not None and event.value != self._kept:
            self.clear_error()

    def show_error(self, message: str) -> None:
        self.query_one("#entry-error", Static).update(Text("✗ " + visible(message)))
        self.add_class("-error")

    def clear_error(self) -> None:
        self.remove_class("-error")
        self._kept = self._failed = None

    def rejected(self, error: str, text: str) -> None:
        """`text` was not saved: put it back for fixing, unless the scribe has already typed or sent
        something after it (then it waits in the history: Up recalls it). Nothing typed is lost."""
        self._failed = text or None
        if text and text == self._last_submitted and not self.input.value.strip():
            self._kept = text
            self.input.value = text
            self.input.cursor_position = len(text)
        elif text:
            error = f"{error} (not saved: {text!r}; Up recalls it)"
        self.show_error(error)
        if not text:
            self._kept = self.input.value  # nothing came back: any edit clears the error
