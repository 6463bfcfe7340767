"""The engine: fixed-rate scheduling, jitter, bounded concurrency, pause/resume, fast mode, check
now, batched results, and a sink that fails without losing the engine.

Scheduling tests run on virtual time (tests/virtual_time.py): the loop's clock jumps from timer to
timer, so the counts and lateness below are exact on any machine, however busy. The one test with
real HTTP checks waits on what happened instead.
"""

from __future__ import annotations

import asyncio

import pytest
from conftest import NOW
from probe_servers import Target, until
from virtual_time import advance, virtual_time

from warroom.probes.config import spec_from_dict
from warroom.probes.engine import ProbeEngine, next_slot
from warroom.probes.result import ProbeResult


def spec(name: str = "p", interval: str = "100ms", **fields):
    return spec_from_dict({"name": name, "type": "tcp", "target": "127.0.0.1:1", "interval": interval, **fields})


class FakeChecker:
    """Takes `duration` seconds per check; counts how many run at once."""

    def __init__(self, duration: float = 0.0, ok: bool = True):
        self.duration, self.ok = duration, ok
        self.running = self.most = self.calls = self.returned = 0
        self.specs = []

    async def check(self, spec, timeout=None):
        self.running += 1
        self.calls += 1
        self.most = max(self.most, self.running)
        self.specs.append(spec)
        try:
            await asyncio.sleep(self.duration)
        finally:
            self.running -= 1
        self.returned += 1
        return ProbeResult(probe=spec.name, checked_at=NOW, ok=self.ok,
                           latency_ms=self.duration * 1000)


def test_next_slot_skips_missed_slots_instead_of_bursting():
    assert next_slot(anchor=0.0, interval=1.0, slot=3, now=3.2) == (4, 0)
    assert next_slot(anchor=0.0, interval=1.0, slot=3, now=7.5) == (7, 3)  # slots 4, 5 and 6 skipped


@virtual_time
async def test_fixed_rate_next_run_is_due_one_interval_after_the_previous_was_due():
    """A check taking 60% of the interval does not push the schedule back (fixed delay would)."""
    checker = FakeChecker(duration=0.06)
    engine = ProbeEngine([spec(interval="100ms")], checker=checker, jitter=False)
    await engine.start()
    await advance(1.05)
    await engine.stop()
    runs = list(engine.runs)
    # due at 0.0, 0.1, ... 1.0: eleven checks (fixed delay, 0.16 s apart, would manage seven)
    assert [run.slot for run in runs] == list(range(11))
    assert [run.due - runs[0].due for run in runs] == pytest.approx([0.1 * k for k in range(11)])
    assert engine.lateness_ms() == pytest.approx([0.0] * 11, abs=1e-6)  # each started when due
    assert engine.stats["skipped_slots"] == 0


@virtual_time
async def test_a_probe_that_falls_behind_skips_the_missed_slots_instead_of_bursting():
    checker = FakeChecker(duration=0.25)  # longer than the 100 ms interval
    engine = ProbeEngine([spec(interval="100ms")], checker=checker, jitter=False)
    await engine.start()
    await advance(0.9)
    await engine.stop()
    runs = list(engine.runs)
    # checks end at 0.25, 0.5 and 0.75; each time the latest slot already due runs at once
    assert [(run.slot, round(run.started, 6)) for run in runs] == [(0, 0.0), (2, 0.25), (5, 0.5), (7, 0.75)]
    assert engine.stats["skipped_slots"] == 4  # slots 1, 3, 4 and 6


@virtual_time
async def test_start_is_spread_by_jitter_within_the_interval():
    specs = [spec(f"p{i}", interval="1s") for i in range(20)]
    engine = ProbeEngine(specs, checker=FakeChecker(), seed=7, jitter_max=5.0)
    await engine.start()
    loop_now = asyncio.get_running_loop().time()
    offsets = sorted(entry.anchor - loop_now for entry in engine._entries.values())
    await engine.stop()
    assert len(set(round(o, 6) for o in offsets)) == 20
    assert 0.0 <= offsets[0] and offsets[-1] <= 1.0


@virtual_time
async def test_concurrency_is_bounded_and_connection_limits_sit_above_it():
    checker = FakeChecker(duration=0.05)
    engine = ProbeEngine([spec(f"p{i}") for i in range(12)], checker=checker, concurrency=3, jitter=False)
    await engine.start()
    await advance(0.3)
    await engine.stop()
    assert checker.most == 3
    own = ProbeEngine([], concurrency=50)
    assert own.checker.http.max_connections > 50
    await own.checker.aclose()


@virtual_time
async def test_pause_and_resume():
    checker = FakeChecker()
    engine = ProbeEngine([spec("a"), spec("b")], checker=checker, jitter=False)
    await engine.start()
    await advance(0.05)
    engine.pause("a")
    calls_a = sum(s.name == "a" for s in checker.specs)
    assert calls_a == 1
    await advance(0.35)
    assert sum(s.name == "a" for s in checker.specs) == calls_a  # nothing while paused
    assert sum(s.name == "b" for s in checker.specs) == 4  # b went on: 0.0, 0.1, 0.2, 0.3
    assert {s.name: s.paused for s in engine.statuses()} == {"a": True, "b": False}
    engine.resume("a")
    await advance(0.05)
    assert sum(s.name == "a" for s in checker.specs) == calls_a + 1  # checked at once on resume
    await engine.stop()


@virtual_time
async def test_fast_mode_shortens_every_interval_then_goes_back():
    checker = FakeChecker()
    engine = ProbeEngine([spec("slow", interval="10s")], checker=checker, jitter=False)
    await engine.start()
    await advance(0.05)
    assert checker.calls == 1
    engine.fast_mode(interval=0.1, duration=0.48)  # until t = 0.53
    assert engine.statuses()[0].interval == 0.1
    assert engine.fast_mode_remaining() == pytest.approx(0.48)
    await advance(0.45)  # t = 0.5: checked at 0.05, 0.15, 0.25, 0.35 and 0.45
    assert checker.calls == 6
    assert checker.specs[-1].timeout == pytest.approx(0.08)  # timeouts follow the short interval
    assert engine.fast_mode_remaining() == pytest.approx(0.03)
    await advance(0.2)
    assert engine.fast_mode_remaining() is None and engine.statuses()[0].interval == 10.0
    calls = checker.calls
    assert calls == 7  # once more as the normal schedule restarts
    await advance(9.0)
    assert checker.calls == calls  # then every 10 s again
    await engine.stop()


@virtual_time
async def test_check_all_now_runs_everything_unpaused_outside_the_schedule():
    checker = FakeChecker()
    engine = ProbeEngine([spec("a", "10s"), spec("b", "10s"), spec("c", "10s")], checker=checker, jitter=False)
    await engine.start()
    await advance(0.05)
    engine.pause("c")
    results = await engine.check_all_now()
    assert sorted(r.probe for r in results) == ["a", "b"]
    assert checker.calls == 5  # three scheduled at start, two now
    assert {s.name: s.last_result is not None for s in engine.statuses()} == {"a": True, "b": True, "c": True}
    await engine.stop()


@virtual_time
async def test_results_reach_the_sink_in_batches_and_a_failing_sink_loses_nothing_later():
    checker = FakeChecker()
    batches: list[list[ProbeResult]] = []
    failures = {"left": 1}

    async def sink(batch):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("disk full")
        batches.append(batch)

    engine = ProbeEngine([spec(f"p{i}", "100ms") for i in range(5)], on_results=sink, checker=checker,
                         jitter=False, flush_every=0.15)
    await engine.start()
    await advance(0.45)  # checks at 0.0, 0.1, 0.2, 0.3 and 0.4; flushes at 0.15 (fails), 0.3 and at stop
    await engine.stop()
    delivered = sum(len(batch) for batch in batches)
    assert engine.stats["sink_errors"] == 1
    assert delivered == checker.returned == 25  # the failed batch was kept and delivered with the next one
    assert max(len(batch) for batch in batches) > 1


@virtual_time
async def test_replace_all_adds_updates_and_removes_probes():
    checker = FakeChecker()
    engine = ProbeEngine([spec("a"), spec("b")], checker=checker, jitter=False)
    await engine.start()
    engine.replace_all([spec("b", interval="200ms"), spec("c")])
    assert sorted(s.name for s in engine.specs()) == ["b", "c"]
    assert next(s for s in engine.statuses() if s.name == "b").interval == 0.2
    await advance(0.05)
    await engine.stop()
    assert any(s.name == "c" for s in checker.specs)


async def test_real_http_checks_run_on_the_fixed_rate_grid():
    """Real HTTP checks against a loopback server: every check reaches it once, and each one is due
    on the grid anchor + slot * interval (a busy machine may skip a slot, never shift the grid)."""
    async with Target() as target:
        probe = spec_from_dict({"name": "ok", "type": "http", "target": target.url("/ok"), "interval": "100ms"})
        async with ProbeEngine([probe], jitter=False) as engine:
            await until(lambda: len(engine.runs) >= 5)
        runs = list(engine.runs)
        assert target.hits["ok"] == engine.stats["checks"] == len(runs)
    slots = [run.slot for run in runs]
    assert slots[0] == 0 and slots == sorted(set(slots))
    assert [run.due - runs[0].due for run in runs] == pytest.approx([0.1 * slot for slot in slots])
    assert engine.stats["skipped_slots"] == slots[-1] + 1 - len(slots)
