"""Escalation: who the policy says must be told at the incident's severity, by when, and the paths up."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from warroom.domain.escalation import EscalationNotice
from warroom.domain.text import visible


def escalation_text(notice: EscalationNotice) -> Text:
    """The notice as lines: a heading, one line a party to tell (with its deadline), one line a path."""
    text = Text(f"Now {notice.severity} {notice.label}".rstrip() + f" since {notice.since:%H:%M} UTC\n",
                style="bold")
    text.append("Tell\n", style="bold")
    for duty in notice.duties:
        due = f" (by {duty.due_at:%H:%M} UTC)" if duty.due_at else ""
        text.append(f"  • {visible(duty.who)}{due}\n")
    if not notice.duties:
        text.append("  • nobody named by the policy\n")
    for path in notice.paths:
        text.append(f"{visible(path.name)} path\n", style="bold")
        text.append("  " + " → ".join(visible(step) for step in path.steps) + "\n")
    return text


class EscalationScreen(ModalScreen[None]):
    """The full escalation notice; the toast that announces it stays one line."""

    BINDINGS = [Binding("escape,enter,f5", "dismiss", "Close")]
    DEFAULT_CSS = """
    EscalationScreen { align: center middle; }
    EscalationScreen > Vertical { width: 90; max-width: 98%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1; }
    EscalationScreen VerticalScroll { height: auto; max-height: 20; }
    EscalationScreen .hint { color: $text-muted; }
    """

    def __init__(self, notice: EscalationNotice) -> None:
        super().__init__()
        self.notice = notice

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(escalation_text(self.notice), id="escalation-text")
            yield Label(Text("Enter or Esc closes · F5 opens this again"), classes="hint")
