"""Escalation: the incident's severity, what it owes now (whom to tell, which updates, by when)
and the policy's paths up."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.binding import Binding

from warroom.domain.clock import format_moment
from warroom.domain.duties import DutyState
from warroom.domain.escalation import EscalationNotice
from warroom.domain.text import visible
from warroom.ui.screens.dialogs import TextPanel


def escalation_text(notice: EscalationNotice, now: datetime) -> Text:
    """A heading, one line per open duty (glyph, what, when, state), one line per path."""
    since = format_moment(notice.since, now, seconds=False)
    text = Text(f"Now {notice.severity} {notice.label}".rstrip() + f" since {since}\n", style="bold")
    text.append("Owed\n", style="bold")
    for duty in notice.duties:
        state = duty.state(now)
        status = "" if state is DutyState.OPEN else f" ({duty.status_words(now)})"
        text.append(f"  {state.glyph} {visible(duty.what)}: {duty.due_words(now)}{status}\n")
    if not notice.duties:
        text.append("  • nothing owed now\n")
    for path in notice.paths:
        text.append(f"{visible(path.name)} path\n", style="bold")
        text.append("  " + " → ".join(visible(step) for step in path.steps) + "\n")
    return text


class EscalationScreen(TextPanel):
    """The full picture; the toast that announces a severity change stays one line."""

    BINDINGS = [Binding("f5", "dismiss", "Close")]

    def __init__(self, notice: EscalationNotice, now: datetime) -> None:
        super().__init__(escalation_text(notice, now), "Enter or Esc closes · F5 opens this again",
                         body_id="escalation-text", warning=True)
        self.notice = notice
