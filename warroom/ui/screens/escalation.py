"""Escalation: who the policy says must be told at the incident's severity, by when, and the paths up."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from warroom.domain.escalation import EscalationNotice
from warroom.domain.text import visible
from warroom.ui.screens.dialogs import TextPanel


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


class EscalationScreen(TextPanel):
    """The full escalation notice; the toast that announces it stays one line."""

    BINDINGS = [Binding("f5", "dismiss", "Close")]

    def __init__(self, notice: EscalationNotice) -> None:
        super().__init__(escalation_text(notice), "Enter or Esc closes · F5 opens this again",
                         body_id="escalation-text", warning=True)
        self.notice = notice
