"""A clock that plays time at a chosen speed: the one clock of a drill (real time, or compressed
with `--speed N`) and of a replay (moving through a past incident, pausable, able to jump).

It is called like `system_clock` and injected like any clock (IncidentService(clock=...)). Time
moves by a monotonic ticker (seconds), `time.monotonic` unless a test passes its own, so a test
moves it by hand and never waits.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Callable

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)  # the steps of faster/slower
MAX_SPEED = 10_000.0


def parse_speed(text: str | float) -> float:
    """'10x', '10', '0.5x', 60 -> the factor; ValueError for anything else (0, negative, too fast)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        cleaned = str(text).strip().lower().removesuffix("x").removeprefix("×").strip()
        try:
            value = float(cleaned)
        except ValueError:
            raise ValueError(f"{text!r} is not a speed (use forms like 10x, 60, 0.5x)") from None
    if not 0 < value <= MAX_SPEED or value != value:
        raise ValueError(f"{text!r}: the speed must be above 0 and at most {MAX_SPEED:g}x")
    return value


def speed_words(speed: float) -> str:
    """'×60', '×0.5'."""
    return f"×{speed:g}"


class PlaybackClock:
    """`start` plus the ticker's seconds since then times `speed`; pausable, never past `end`."""

    def __init__(self, start: datetime, speed: float = 1.0, *, end: datetime | None = None,
                 paused: bool = False, ticker: Callable[[], float] = time.monotonic):
        if start.tzinfo is None:
            raise ValueError("a playback clock starts at an aware time")
        self.ticker, self.end = ticker, end
        self._speed = parse_speed(speed)
        self._base = min(start, end) if end is not None else start  # the moment at the anchor
        self._anchor = ticker()
        self._paused = paused

    def __call__(self) -> datetime:
        if self._paused:
            return self._base
        moment = self._base + timedelta(seconds=(self.ticker() - self._anchor) * self._speed)
        return moment if self.end is None or moment < self.end else self.end

    def _settle(self) -> None:
        """Make the current moment the anchor (before the speed or the running state changes)."""
        self._base, self._anchor = self(), self.ticker()

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._settle()
        self._speed = parse_speed(value)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def at_end(self) -> bool:
        return self.end is not None and self() >= self.end

    def pause(self) -> None:
        self._settle()
        self._paused = True

    def resume(self) -> None:
        self._settle()
        self._paused = False

    def toggle(self) -> bool:
        """Pause or resume; True when it is paused now."""
        self.resume() if self._paused else self.pause()
        return self._paused

    def jump(self, moment: datetime) -> datetime:
        """Go to `moment` (not past the end); the clock keeps running (or stays paused) from there."""
        if self.end is not None:
            moment = min(moment, self.end)
        self._base, self._anchor = moment, self.ticker()
        return moment

    def faster(self) -> float:
        """The next speed up the steps (SPEEDS); returns it."""
        self.speed = next((step for step in SPEEDS if step > self._speed), self._speed)
        return self._speed

    def slower(self) -> float:
        """The next speed down the steps; returns it."""
        self.speed = next((step for step in reversed(SPEEDS) if step < self._speed), self._speed)
        return self._speed
