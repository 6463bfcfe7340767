"""What the engine's parts share: the checker protocol, a scheduled run, the fixed-rate slot
arithmetic and the per-probe snapshot the Health pane shows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from warroom.probes.config import ProbeSpec
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState, Transition


class CheckRunner(Protocol):
    async def check(self, spec: ProbeSpec, timeout: float | None = None) -> ProbeResult: ...


class ScheduledRun(NamedTuple):
    """One scheduled check: when it was due and when it actually started (loop clock, seconds)."""

    probe: str
    slot: int
    due: float
    started: float

    @property
    def lateness(self) -> float:
        return self.started - self.due


def next_slot(anchor: float, interval: float, slot: int, now: float) -> tuple[int, int]:
    """(slot to run next, slots skipped): slot+1, or the latest slot already due if later."""
    behind = math.floor((now - anchor) / interval)
    following = slot + 1
    return (behind, behind - following) if behind > following else (following, 0)


@dataclass(frozen=True)
class ProbeStatus:
    """What the Health pane shows for one probe (a snapshot)."""

    spec: ProbeSpec
    state: ProbeState
    since: datetime | None
    paused: bool
    interval: float
    last_result: ProbeResult | None
    consecutive_failures: int
    first_failure_at: datetime | None
    next_due_in: float | None
    recent_latencies: tuple[float | None, ...]  # None marks a failed check (a gap in the sparkline)
    history: tuple[Transition, ...]
    consecutive_successes: int = 0

    @property
    def name(self) -> str:
        return self.spec.name
