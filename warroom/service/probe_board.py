"""What every screen on an incident shows of its probes: the stored truth (warroom.store.probe_states),
turned into views, and the pieces a new lease holder resumes from.

No screen shows what its own checks saw: the holder stores state, figures and history, and every
screen, the holder's included, shows these rows. So two screens never disagree for longer than
it takes to read them (about a second), and a screen opened after an outage shows its real uptime.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from warroom.probes.config import ProbeConfigError, ProbeSpec, spec_from_dict
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState, TrackerSnapshot, Transition
from warroom.store.probe_states import ProbeSettings, StoredProbeState
from warroom.store.probes import Uptime


@dataclass(frozen=True)
class ProbeView:
    """One probe as the Health pane and the detail view show it (the same on every screen)."""

    name: str
    group: str
    spec: ProbeSpec
    state: ProbeState
    since: datetime | None
    paused: bool
    interval: float  # the interval now (shorter in fast mode)
    last_result: ProbeResult | None
    consecutive_failures: int
    first_failure_at: datetime | None
    recent_latencies: tuple[float | None, ...]  # None marks a failed check (a gap in the sparkline)
    uptime: Uptime  # over the monitor's window, counted by the holder from stored results
    attached: bool


class SpecCache:
    """The probe specs of stored configs, validated once per config (a board is read each time
    results are stored: the configs rarely change)."""

    def __init__(self) -> None:
        self._specs: dict[tuple[str, str], ProbeSpec | None] = {}

    def spec(self, probe: str, config: dict, source: str) -> ProbeSpec | None:
        key = (probe, json.dumps(config, sort_keys=True, default=str))
        if key not in self._specs:
            if len(self._specs) > 1000:  # configs edited over a long incident: start again
                self._specs.clear()
            try:
                self._specs[key] = spec_from_dict(config, source)
            except ProbeConfigError:
                self._specs[key] = None
        return self._specs[key]


def view_of(row: StoredProbeState, source: str, specs: SpecCache | None = None) -> ProbeView | None:
    """The view of one stored row; None for a row no holder has described yet (only a pause)."""
    if not row.config:
        return None
    spec = (specs or SpecCache()).spec(row.probe, row.config, source)
    if spec is None:
        return None
    return ProbeView(
        name=row.probe, group=spec.group, spec=spec, state=ProbeState(row.state), since=row.since,
        paused=row.paused, interval=row.interval,
        last_result=ProbeResult.from_dict(row.last_result) if row.last_result else None,
        consecutive_failures=row.consecutive_failures, first_failure_at=row.first_failure_at,
        recent_latencies=tuple(row.recent), uptime=Uptime(row.uptime_checks, row.uptime_ok), attached=row.attached,
    )


def board_of(rows: Iterable[StoredProbeState], source: str, specs: SpecCache | None = None) -> list[ProbeView]:
    """Every described probe, worst state first, then by group and name."""
    views = [view for view in (view_of(row, source, specs) for row in rows) if view is not None]
    return sorted(views, key=lambda v: (v.state.rank, v.group, v.name))


def fast_remaining(settings: ProbeSettings, now: datetime) -> float | None:
    """Seconds of fast mode left (None: off), from the stored setting every screen shares."""
    if settings.fast_until is None or settings.fast_until <= now:
        return None
    return (settings.fast_until - now).total_seconds()


def snapshot_of(row: StoredProbeState) -> TrackerSnapshot:
    return TrackerSnapshot(ProbeState(row.state), ProbeState(row.health), row.since, row.consecutive_failures,
                           row.consecutive_successes, row.first_failure_at)


def snapshot_from_transition(data: dict[str, Any]) -> TrackerSnapshot:
    """Where a probe stood after its last logged transition (entry data), for files without a state row."""
    transition = Transition.from_dict(data)
    health = ProbeState.UNKNOWN if transition.new is ProbeState.STALE else transition.new
    return TrackerSnapshot(transition.new, health, transition.at, transition.consecutive_failures,
                           transition.consecutive_successes, transition.first_failure_at)


class UptimeWindow:
    """Healthy / all checks per probe over the last `span` (the holder's; seeded from stored
    results when it takes over, so a new holder counts the checks made before it)."""

    def __init__(self, span: timedelta, cap: int = 4000):
        self.span, self.cap = span, cap
        self._seen: dict[str, deque[tuple[datetime, bool]]] = {}

    def add(self, outcomes: Iterable[tuple[str, datetime, bool]]) -> None:
        for probe, checked_at, ok in outcomes:
            self._seen.setdefault(probe, deque(maxlen=self.cap)).append((checked_at, ok))

    def get(self, probe: str, now: datetime) -> Uptime:
        seen = self._seen.get(probe)
        if not seen:
            return Uptime(0, 0)
        while seen and seen[0][0] < now - self.span:
            seen.popleft()
        return Uptime(len(seen), sum(ok for _, ok in seen))

    def forget(self, keep: set[str]) -> None:
        for name in set(self._seen) - keep:
            del self._seen[name]

    def clear(self) -> None:
        self._seen.clear()
