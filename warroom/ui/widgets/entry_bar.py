"""The entry bar: plain text is a note, slash commands change the incident. Enter submits."""

from __future__ import annotations

from rich.text import Text
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

    def compose(self) -> ComposeResult:
        yield EntryInput(self.policy, placeholder="Type a note, or /help for commands (Enter to log)",
                         id="entry-input", suggester=CommandSuggester(self.policy))
        yield Static("", id="entry-error")

    @property
    def input(self) -> EntryInput:
        return self.query_one(EntryInput)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if text.strip():
            self.post_message(EntrySubmitted(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.has_class("-error"):
            self.clear_error()

    def show_error(self, message: str) -> None:
        self.query_one("#entry-error", Static).update(Text("✗ " + visible(message)))
        self.add_class("-error")

    def clear_error(self) -> None:
        self.remove_class("-error")

    def committed(self, text: str) -> None:
        self.input.remember(text)
        self.input.value = ""
        self.clear_error()
