"""Getting the commander's attention: which duties just became due soon or overdue, and the
words that keep an overdue duty in view until it is done.

`DutyWatch` compares the duties of one look with the previous look (the war room looks every
second); a duty that moved into `due soon` or `overdue` since is an `Alarm`: a toast, and a bell
when the user wants one. The first look only sets the baseline: what was already overdue when the
screen opened is shown in the header, not rung.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Literal

from warroom.domain.duties import WARNING_WINDOW, Duty, DutyState, open_duties
from warroom.domain.text import visible

PRESSING = (DutyState.DUE_SOON, DutyState.OVERDUE)
BellSetting = Literal["due-soon", "overdue", "off"]
"""From which state on a terminal bell rings (config.toml `[attention] bell`)."""


@dataclass(frozen=True, slots=True)
class Alarm:
    """A duty that has just become due soon or overdue."""

    duty: Duty
    state: DutyState

    def words(self, now: datetime) -> str:
        """'OVERDUE: Internal update (was due 14:15 UTC)', 'Due soon: notify Executives, in 04:00'."""
        what = visible(self.duty.what)
        if self.state is DutyState.OVERDUE:
            return f"OVERDUE: {what} ({self.duty.due_words(now).replace('due', 'was due', 1)})"
        return f"Due soon: {what}, in {self.duty.digits(now)} ({self.duty.due_words(now)})"

    def rings(self, setting: BellSetting) -> bool:
        """Whether this alarm rings the bell under `setting`."""
        if setting == "off":
            return False
        return self.state is DutyState.OVERDUE or setting == "due-soon"


class DutyWatch:
    """Remembers each duty's state between looks and reports the ones that became pressing."""

    def __init__(self) -> None:
        self._states: dict[str, DutyState] | None = None

    def look(self, duties: Iterable[Duty], now: datetime) -> list[Alarm]:
        """The alarms of this look, overdue first. A duty born due soon (owed at once, `0m`) gives
        no due-soon alarm: its severity change or declaration already said so."""
        states = {duty.key: (duty, duty.state(now)) for duty in duties}
        before, self._states = self._states, {key: state for key, (_, state) in states.items()}
        if before is None:
            return []
        alarms = []
        for key, (duty, state) in states.items():
            if state not in PRESSING or before.get(key) == state:
                continue
            if before.get(key) is DutyState.OVERDUE:  # overdue, then due soon: a later deadline came in
                continue
            if state is DutyState.DUE_SOON and _born_pressing(duty):
                continue
            alarms.append(Alarm(duty, state))
        return sorted(alarms, key=lambda alarm: (alarm.state is not DutyState.OVERDUE, alarm.duty.due_at))


def _born_pressing(duty: Duty) -> bool:
    return duty.due_at is not None and duty.due_at - duty.origin_at <= WARNING_WINDOW


@dataclass(frozen=True, slots=True)
class Pressing:
    """What the header keeps in view: the overdue duties and those due soon (open ones only)."""

    overdue: tuple[Duty, ...]
    due_soon: tuple[Duty, ...]

    def __bool__(self) -> bool:
        return bool(self.overdue or self.due_soon)

    def words(self, now: datetime) -> str:
        """'⚠ OVERDUE Internal update +03:10', '⚠ 2 OVERDUE: Internal update +03:10 …',
        '⏰ DUE SOON notify Executives 04:00', '' when nothing presses."""
        if self.overdue:
            first, count = self.overdue[0], len(self.overdue)
            head = "⚠ OVERDUE" if count == 1 else f"⚠ {count} OVERDUE:"
            return f"{head} {visible(first.what)} {first.digits(now)}" + (" …" if count > 1 else "")
        if self.due_soon:
            first, count = self.due_soon[0], len(self.due_soon)
            head = "⏰ DUE SOON" if count == 1 else f"⏰ {count} DUE SOON:"
            return f"{head} {visible(first.what)} {first.digits(now)}" + (" …" if count > 1 else "")
        return ""


def pressing(duties: Iterable[Duty], now: datetime) -> Pressing:
    """The open duties overdue and due soon at `now`, most urgent first."""
    owed = open_duties(duties)
    return Pressing(tuple(d for d in owed if d.state(now) is DutyState.OVERDUE),
                    tuple(d for d in owed if d.state(now) is DutyState.DUE_SOON))
