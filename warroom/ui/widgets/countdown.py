"""The countdown to the next stakeholder update, in big digits and in words."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static

from warroom.domain.cadence import Countdown, CountdownState


class CountdownPane(Vertical):
    """Warns in the last five minutes; once overdue it counts up and says so."""

    DEFAULT_CSS = """
    CountdownPane { height: auto; }
    CountdownPane Digits { width: auto; color: $success; }
    CountdownPane Static { color: $text-muted; }
    CountdownPane.-due-soon Digits { color: $warning; }
    CountdownPane.-due-soon #countdown-words { color: $warning; text-style: bold; }
    CountdownPane.-overdue Digits { color: $error; }
    CountdownPane.-overdue #countdown-words { color: $error; text-style: bold reverse; }
    CountdownPane.-none Digits { color: $text-disabled; }
    """

    def compose(self) -> ComposeResult:
        yield Digits("--:--", id="countdown-digits")
        yield Static("", id="countdown-words")
        yield Static("", id="countdown-reason")

    def show(self, countdown: Countdown) -> None:
        state = countdown.state
        self.set_class(state is CountdownState.DUE_SOON, "-due-soon")
        self.set_class(state is CountdownState.OVERDUE, "-overdue")
        self.set_class(state is CountdownState.NONE, "-none")
        self.query_one("#countdown-digits", Digits).update(countdown.digits)
        icon = {"overdue": "⚠ ", "due soon": "⏰ ", "on track": "✓ ", "none": "– "}[state.value]
        self.query_one("#countdown-words", Static).update(icon + countdown.words)
        due = f"due {countdown.due_at:%H:%M} UTC · " if countdown.due_at else ""
        self.query_one("#countdown-reason", Static).update(due + countdown.reason)
