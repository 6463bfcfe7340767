"""What the incident owes next: the duty due first in big digits and words, the others below it,
one line each. Every state has a glyph and a word as well as a colour."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static

from warroom.domain.clock import UTC
from warroom.domain.duties import Duty, DutyState, open_duties
from warroom.domain.standing import duty_brief
from warroom.domain.text import visible

NOTHING_OWED = "– nothing owed now"
RESOLVED_NOTHING_OWED = "✓ no more updates due"  # the header says Resolved or Closed

MAX_OTHERS = 6
MAX_OTHERS_SHORT = 2  # at 24 rows the roles and health panes need the room


def other_line(duty: Duty, now: datetime) -> str:
    """One of the other duties, when first so a narrow pane cuts the what, not the when:
    '◷ 14:30 Internal update', '◷ Nov 24 09:00 Book the post-mortem', '⚠ +03:10 Status page update',
    '○ no deadline: notify Affected customers' (times UTC, as the pane's title says)."""
    state = duty.state(now)
    if state is DutyState.OVERDUE:
        when = duty.digits(now)
    elif duty.due_at is None:
        when = "no deadline:"
    else:
        due = duty.due_at.astimezone(UTC)
        when = f"{due:%H:%M}" if due.date() == now.astimezone(UTC).date() else f"{due:%b %d %H:%M}"
    return f"{state.glyph} {when} {visible(duty.what)}"


class CountdownPane(Vertical):
    """Warns in the last five minutes of the duty due first; once overdue it counts up and says so."""

    DEFAULT_CSS = """
    CountdownPane { height: auto; }
    CountdownPane Digits { width: auto; color: $success; }
    CountdownPane Static { color: $text-muted; }
    CountdownPane #countdown-words { color: $text; }
    CountdownPane.-due-soon Digits { color: $warning; }
    CountdownPane.-due-soon #countdown-words { color: $warning; text-style: bold; }
    CountdownPane.-overdue Digits { color: $error; }
    CountdownPane.-overdue #countdown-words { color: $error; text-style: bold reverse; }
    CountdownPane.-none Digits { color: $text-disabled; }
    CountdownPane #countdown-reason, CountdownPane #countdown-others { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._texts: dict[str, str] = {}  # what each line shows

    def on_mount(self) -> None:
        self.border_title = "Due next (UTC)"

    def compose(self) -> ComposeResult:
        yield Digits("--:--", id="countdown-digits")
        yield Static("", id="countdown-words")
        yield Static("", id="countdown-reason")
        yield Static("", id="countdown-others")

    def show(self, duties: list[Duty], now: datetime, short: bool = False, resolved: bool = False) -> None:
        """Show the open `duties` at `now`; `short` keeps the list to a couple of lines; `resolved`:
        the incident is over (once nothing more is owed, the pane says so, in one line)."""
        owed = open_duties(duties)
        first = owed[0] if owed else None
        state = first.state(now) if first else None
        self.set_class(state is DutyState.DUE_SOON, "-due-soon")
        self.set_class(state is DutyState.OVERDUE, "-overdue")
        self.set_class(state in (None, DutyState.OPEN), "-none")
        digits = self.query_one("#countdown-digits", Digits)
        if digits.value != (value := first.digits(now) if first else "--:--"):
            digits.update(value)
        if first is None:
            self._put("#countdown-words", RESOLVED_NOTHING_OWED if resolved else NOTHING_OWED)
            self._put("#countdown-reason", "")
            self._put("#countdown-others", "")
            self.query_one("#countdown-others", Static).display = False
            return
        self._put("#countdown-words", duty_brief(first, now))
        self._put("#countdown-reason", f"{first.due_words(now)} · {visible(first.reason(now))}")
        rest = owed[1:]
        limit = MAX_OTHERS_SHORT if short else MAX_OTHERS
        shown = rest if len(rest) <= limit else rest[:limit - 1]
        lines = [other_line(duty, now) for duty in shown]
        if len(rest) > len(shown):
            lines.append(f"+{len(rest) - len(shown)} more (F5)")
        self.query_one("#countdown-others", Static).display = bool(lines)
        self._put("#countdown-others", "\n".join(lines))

    def _put(self, selector: str, text: str) -> None:
        """Show `text` (as plain text) in one of the lines; a new layout only when its length
        changes (each second only the figures change, and a layout of the whole screen is not free)."""
        before = self._texts.get(selector)
        if text == before:
            return
        self._texts[selector] = text
        self.query_one(selector, Static).update(Text(text), layout=before is None or len(before) != len(text))
