"""Probe states and the pure state machine that moves between them (no I/O, no clock of its own).

    UNKNOWN --ok--> UP / DEGRADED          UNKNOWN --fail--> PENDING (or DOWN when threshold is 1)
    UP/DEGRADED --fail--> PENDING --(failure_threshold failures in a row)--> DOWN
    PENDING --ok--> UP / DEGRADED           DOWN --(success_threshold successes in a row)--> UP / DEGRADED
    any --(no result for 2 intervals, told by the engine's watchdog)--> STALE --next result--> computed state

DEGRADED: healthy but slower than `degraded_over`, or healthy only on a retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from warroom.domain.clock import from_stored, to_stored
from warroom.probes.config import ProbeSpec
from warroom.probes.result import ProbeResult


class ProbeState(StrEnum):
    """Each state has a glyph and a word, so colour is never needed to tell them apart."""

    UP = "up"
    DEGRADED = "degraded"
    PENDING = "pending"
    DOWN = "down"
    STALE = "stale"
    UNKNOWN = "unknown"

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def word(self) -> str:
        return self.value.upper()

    @property
    def label(self) -> str:
        """Glyph and word: '▼ DOWN'."""
        return f"{self.glyph} {self.word}"

    @property
    def rank(self) -> int:
        """Sort key, worst first: DOWN, STALE, PENDING, DEGRADED, UNKNOWN, UP."""
        return _RANK[self]

    @property
    def healthy(self) -> bool:
        return self in (ProbeState.UP, ProbeState.DEGRADED)


_GLYPHS = {
    ProbeState.UP: "▲",
    ProbeState.DEGRADED: "◐",
    ProbeState.PENDING: "…",
    ProbeState.DOWN: "▼",
    ProbeState.STALE: "⌛",
    ProbeState.UNKNOWN: "?",
}
_RANK = {
    ProbeState.DOWN: 0, ProbeState.STALE: 1, ProbeState.PENDING: 2,
    ProbeState.DEGRADED: 3, ProbeState.UNKNOWN: 4, ProbeState.UP: 5,
}


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of state, with what the timeline entry needs to say why."""

    probe: str
    group: str
    old: ProbeState
    new: ProbeState
    at: datetime
    reason: str  # failing condition, error, slowness or staleness in words ("" when plainly healthy)
    status_code: int | None = None
    error: str | None = None
    failed_condition: str | None = None
    latency_ms: float | None = None
    consecutive_failures: int = 0
    first_failure_at: datetime | None = None  # offered as the `detected` time when going DOWN
    consecutive_successes: int = 0

    def describe(self) -> str:
        """One plain line for the timeline: 'api ▼ DOWN (was … PENDING): status == 200 failed: got 503;
        3 checks in a row failed since 14:02:07 UTC; 812 ms'."""
        text = f"{self.probe} {self.new.label} (was {self.old.label})" + (f": {self.reason}" if self.reason else "")
        extra = []
        if self.new in (ProbeState.DOWN, ProbeState.PENDING) and self.consecutive_failures:
            since = f" since {self.first_failure_at:%H:%M:%S} UTC" if self.first_failure_at else ""
            noun = "check" if self.consecutive_failures == 1 else "checks in a row"
            extra.append(f"{self.consecutive_failures} {noun} failed{since}")
        elif self.new.healthy and self.first_failure_at is not None:
            extra.append(f"failing since {self.first_failure_at:%H:%M:%S} UTC, "
                         f"recovered after {self.consecutive_successes} good check(s)")
        if self.latency_ms is not None and self.new is not ProbeState.STALE:
            extra.append(f"{self.latency_ms:.0f} ms")
        return "; ".join([text, *extra])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data for the timeline entry's `data` column."""
        return {
            "probe": self.probe, "group": self.group, "old": self.old.value, "new": self.new.value,
            "at": to_stored(self.at), "reason": self.reason, "status_code": self.status_code,
            "error": self.error, "failed_condition": self.failed_condition, "latency_ms": self.latency_ms,
            "consecutive_failures": self.consecutive_failures,
            "first_failure_at": to_stored(self.first_failure_at) if self.first_failure_at else None,
            "consecutive_successes": self.consecutive_successes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transition":
        """The transition `to_dict` wrote into a probe entry."""
        return cls(
            probe=data["probe"], group=data.get("group", ""), old=ProbeState(data["old"]), new=ProbeState(data["new"]),
            at=from_stored(data["at"]), reason=data.get("reason", ""), status_code=data.get("status_code"),
            error=data.get("error"), failed_condition=data.get("failed_condition"),
            latency_ms=data.get("latency_ms"), consecutive_failures=data.get("consecutive_failures", 0),
            first_failure_at=from_stored(data["first_failure_at"]) if data.get("first_failure_at") else None,
            consecutive_successes=data.get("consecutive_successes", 0),
        )


def _healthy_state(spec: ProbeSpec, result: ProbeResult) -> tuple[ProbeState, str]:
    if result.retried:
        return ProbeState.DEGRADED, result.error or f"healthy only on attempt {result.attempts}"
    if spec.degraded_over is not None and result.latency_ms is not None and result.latency_ms > spec.degraded_over:
        return ProbeState.DEGRADED, f"slow: {result.latency_ms:.0f} ms > {spec.degraded_over:.0f} ms"
    return ProbeState.UP, ""


@dataclass(frozen=True, slots=True)
class TrackerSnapshot:
    """Where a probe's state machine stands: what a new lease holder resumes from (so an outage
    still going on is not reported again, and keeps its start time)."""

    state: ProbeState = ProbeState.UNKNOWN
    health: ProbeState = ProbeState.UNKNOWN
    since: datetime | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    first_failure_at: datetime | None = None


@dataclass
class ProbeTracker:
    """State of one probe. Feed it results with `observe`; the watchdog calls `mark_stale`."""

    spec: ProbeSpec
    state: ProbeState = ProbeState.UNKNOWN
    health: ProbeState = ProbeState.UNKNOWN  # the state ignoring staleness
    since: datetime | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    first_failure_at: datetime | None = None
    last_result: ProbeResult | None = None
    history: list[Transition] = field(default_factory=list)
    history_limit: int = 50

    def observe(self, result: ProbeResult, *, one_shot: bool = False) -> Transition | None:
        """Apply one result; returns the transition when the state changed.

        `one_shot` (for `warroom check`) treats a single failure as DOWN: there is no history.
        """
        spec, reason = self.spec, ""
        self.last_result = result
        failing_since = self.first_failure_at
        if result.ok:
            self.consecutive_successes += 1
            failures_before = self.consecutive_failures
            self.consecutive_failures = 0
            recovering = self.health is ProbeState.DOWN and self.consecutive_successes < spec.success_threshold
            if recovering:
                new = ProbeState.DOWN
                self.consecutive_failures = failures_before
            else:
                new, reason = _healthy_state(spec, result)
                self.first_failure_at = None
        else:
            self.consecutive_successes = 0
            self.consecutive_failures += 1
            if self.first_failure_at is None:
                self.first_failure_at = result.checked_at
            down = one_shot or self.health is ProbeState.DOWN or self.consecutive_failures >= spec.failure_threshold
            new = ProbeState.DOWN if down else ProbeState.PENDING
            reason = result.reason()
        self.health = new
        return self._move(new, result.checked_at, reason, result, self.first_failure_at or failing_since)

    def restore(self, snapshot: TrackerSnapshot) -> None:
        """Continue from a stored snapshot instead of UNKNOWN."""
        self.state, self.health, self.since = snapshot.state, snapshot.health, snapshot.since
        self.consecutive_failures = snapshot.consecutive_failures
        self.consecutive_successes = snapshot.consecutive_successes
        self.first_failure_at = snapshot.first_failure_at

    def snapshot(self) -> TrackerSnapshot:
        return TrackerSnapshot(self.state, self.health, self.since, self.consecutive_failures,
                               self.consecutive_successes, self.first_failure_at)

    def mark_stale(self, now: datetime, silent_for: float) -> Transition | None:
        """No result for too long (the engine decides how long)."""
        if self.state is ProbeState.STALE:
            return None
        return self._move(ProbeState.STALE, now, f"no result for {silent_for:.0f}s", None, self.first_failure_at)

    def _move(self, new: ProbeState, at: datetime, reason: str, result: ProbeResult | None,
              first_failure_at: datetime | None) -> Transition | None:
        if new is self.state:
            return None
        transition = Transition(
            probe=self.spec.name, group=self.spec.group, old=self.state, new=new, at=at, reason=reason,
            status_code=result.status_code if result else None, error=result.error if result else None,
            failed_condition=result.failed_condition if result else None,
            latency_ms=result.latency_ms if result else None,
            consecutive_failures=self.consecutive_failures, first_failure_at=first_failure_at,
            consecutive_successes=self.consecutive_successes,
        )
        self.state, self.since = new, at
        self.history.append(transition)
        del self.history[: -self.history_limit]
        return transition
