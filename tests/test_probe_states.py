"""Probe states: every transition with its thresholds, DEGRADED, STALE, and what a transition says."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import NOW
from probe_servers import Target, until
from virtual_time import virtual_time

from warroom.probes.config import spec_from_dict
from warroom.probes.engine import ProbeEngine
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState, ProbeTracker

S = ProbeState


def spec(**fields):
    return spec_from_dict({"name": "api", "type": "http", "target": "http://127.0.0.1:1/", "interval": "1s",
                           **fields})


def result(ok: bool, n: int, latency: float = 10.0, **fields) -> ProbeResult:
    failed = None if ok else "status == 200 failed: got 503"
    return ProbeResult(probe="api", checked_at=NOW + timedelta(seconds=n), ok=ok, latency_ms=latency,
                       status_code=200 if ok else 503, failed_condition=failed, **fields)


def run(tracker: ProbeTracker, outcomes: str) -> list[ProbeState]:
    """Feed '+' (ok) and '-' (failed) results; returns the state after each."""
    states = []
    for n, mark in enumerate(outcomes):
        tracker.observe(result(mark == "+", n))
        states.append(tracker.state)
    return states


@pytest.mark.parametrize("failure_threshold, success_threshold, outcomes, expected", [
    (3, 2, "+", [S.UP]),
    (3, 2, "-", [S.PENDING]),
    (1, 2, "-", [S.DOWN]),
    (3, 2, "+--+", [S.UP, S.PENDING, S.PENDING, S.UP]),  # below the threshold: back up at once
    (3, 2, "+---", [S.UP, S.PENDING, S.PENDING, S.DOWN]),
    (3, 2, "---+-", [S.PENDING, S.PENDING, S.DOWN, S.DOWN, S.DOWN]),  # one success is not recovery
    (3, 2, "---++", [S.PENDING, S.PENDING, S.DOWN, S.DOWN, S.UP]),
    (2, 3, "--+++", [S.PENDING, S.DOWN, S.DOWN, S.DOWN, S.UP]),
    (2, 1, "--+", [S.PENDING, S.DOWN, S.UP]),
])
def test_thresholds(failure_threshold, success_threshold, outcomes, expected):
    tracker = ProbeTracker(spec(failure_threshold=failure_threshold, success_threshold=success_threshold))
    assert run(tracker, outcomes) == expected


def test_degraded_when_slow_or_only_healthy_on_a_retry():
    tracker = ProbeTracker(spec(degraded_over=200))
    tracker.observe(result(True, 0, latency=50))
    assert tracker.state is S.UP
    moved = tracker.observe(result(True, 1, latency=450))
    assert tracker.state is S.DEGRADED and moved.reason == "slow: 450 ms > 200 ms"
    tracker.observe(result(True, 2, latency=20))
    assert tracker.state is S.UP
    moved = tracker.observe(result(True, 3, attempts=2, error="healthy on attempt 2; attempt 1: timeout"))
    assert tracker.state is S.DEGRADED and "attempt 2" in moved.reason


def test_stale_and_back():
    tracker = ProbeTracker(spec())
    run(tracker, "+")
    moved = tracker.mark_stale(NOW + timedelta(seconds=5), 5.0)
    assert (moved.old, moved.new, moved.reason) == (S.UP, S.STALE, "no result for 5s")
    assert tracker.mark_stale(NOW + timedelta(seconds=6), 6.0) is None  # told once
    back = tracker.observe(result(True, 7))
    assert (back.old, back.new) == (S.STALE, S.UP)


def test_every_state_has_a_glyph_and_a_word_and_a_rank():
    assert len({state.glyph for state in S}) == len(S)
    assert [state.word for state in sorted(S, key=lambda s: s.rank)] == [
        "DOWN", "STALE", "PENDING", "DEGRADED", "UNKNOWN", "UP"]
    assert S.DOWN.label == "▼ DOWN"


def test_a_down_transition_says_why_how_many_and_since_when():
    tracker = ProbeTracker(spec(failure_threshold=3))
    moves = [tracker.observe(result(ok, n, latency=812)) for n, ok in enumerate([True, False, False, False])]
    down = moves[-1]
    assert (down.old, down.new, down.status_code, down.consecutive_failures) == (S.PENDING, S.DOWN, 503, 3)
    assert down.first_failure_at == NOW + timedelta(seconds=1)
    assert down.describe() == ("api ▼ DOWN (was … PENDING): status == 200 failed: got 503; "
                               "3 checks in a row failed since 15:00:01 UTC; 812 ms")
    assert down.to_dict()["failed_condition"] == "status == 200 failed: got 503"
    up = [tracker.observe(result(True, n)) for n in (4, 5)][-1]
    assert (up.new, up.consecutive_successes) == (S.UP, 2)
    assert "failing since 15:00:01 UTC" in up.describe()


async def test_transitions_through_the_engine_against_a_flapping_server():
    """Real checks: 200, then 503 x3 (PENDING, PENDING, DOWN), then 200 x2 (DOWN, UP)."""
    async with Target() as target:
        target.flap_pattern = [200, 503, 503, 503, 200]
        probe = spec_from_dict({"name": "flap", "type": "http", "target": target.url("/flap"),
                                "interval": "100ms", "conditions": ["status == 200"],
                                "failure_threshold": 3, "success_threshold": 2})
        moves = []

        async def on_transition(transition):
            moves.append((transition.old, transition.new, transition.consecutive_failures))

        async with ProbeEngine([probe], on_transition=on_transition, jitter=False) as engine:
            await until(lambda: len(moves) >= 4)
            assert engine.statuses()[0].state is S.UP, moves
    assert moves[:4] == [(S.UNKNOWN, S.UP, 0), (S.UP, S.PENDING, 1), (S.PENDING, S.DOWN, 3), (S.DOWN, S.UP, 0)]


class _HangingChecker:
    """A checker that never comes back (a stalled engine, from the watchdog's point of view)."""

    async def check(self, spec, timeout=None):
        await asyncio.Event().wait()


@virtual_time
async def test_a_probe_without_results_for_two_intervals_goes_stale():
    probe = replace(spec(interval="100ms"), timeout=0.05)
    moves = []
    went_stale = asyncio.Event()

    async def on_transition(transition):
        moves.append(transition)
        went_stale.set()

    engine = ProbeEngine([probe], on_transition=on_transition, checker=_HangingChecker(), jitter=False)
    loop = asyncio.get_running_loop()
    await engine.start()
    started = loop.time()
    try:
        await asyncio.wait_for(went_stale.wait(), 5.0)  # virtual seconds
        waited = loop.time() - started
    finally:
        await engine.stop()
    # silent for longer than max(2 intervals, interval + (retries + 1) x timeout) = 0.2 s, and seen
    # by a watchdog that looks every interval / 4
    assert 0.2 < waited <= 0.25
    assert (moves[0].old, moves[0].new) == (S.UNKNOWN, S.STALE)
    assert moves[0].reason.startswith("no result for ")
