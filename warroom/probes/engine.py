"""ProbeEngine: one asyncio task per probe on a fixed-rate schedule, a concurrency cap, batched
results to a sink, state transitions to a callback, and a watchdog that marks silent probes STALE.

Fixed rate: check k of a probe is due at ``anchor + k * interval`` (one interval after the previous
one was due, however long it ran). A probe that falls behind runs the latest due slot at once and
skips the older ones instead of bursting. The engine knows nothing about the screen: the owner
passes ``on_results(list[ProbeResult])`` and ``on_transition(Transition)`` coroutines.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable

from warroom.domain.clock import Clock, system_clock
from warroom.probes.config import ProbeSpec, with_interval
from warroom.probes.result import ProbeResult
from warroom.probes.schedule import CheckRunner, ProbeStatus, ScheduledRun, next_slot
from warroom.probes.states import ProbeTracker, TrackerSnapshot, Transition

__all__ = ["CheckRunner", "ProbeEngine", "ProbeStatus", "ScheduledRun", "next_slot"]

log = logging.getLogger("warroom.probes")
RUNTIME_JITTER = 1.0  # seconds: how far apart probes added to a running engine start
ResultSink = Callable[[list[ProbeResult]], Awaitable[object]]
TransitionSink = Callable[[Transition], Awaitable[object]]


@dataclass(eq=False)
class _Entry:
    spec: ProbeSpec
    tracker: ProbeTracker
    effective: ProbeSpec
    anchor: float = 0.0
    slot: int = 0
    epoch: int = 0
    paused: bool = False
    last_seen: float = 0.0
    task: asyncio.Task | None = None
    waker: asyncio.Future | None = None
    recent: deque = field(default_factory=lambda: deque(maxlen=60))


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class ProbeEngine:
    """Runs probes until stopped. Use ``async with ProbeEngine(specs, ...) as engine:``."""

    def __init__(self, specs: Iterable[ProbeSpec] = (), *, on_results: ResultSink | None = None,
                 on_transition: TransitionSink | None = None, checker: CheckRunner | None = None,
                 concurrency: int = 64, jitter: bool = True, jitter_max: float = 5.0, seed: int | None = None,
                 flush_every: float = 1.0, batch_max: int = 500, stale_after: float = 2.0,
                 keep_runs: int = 200_000, clock: Clock = system_clock):
        self.clock = clock  # wall time for results and transitions; scheduling uses the loop's clock
        self._checker = checker  # None: our own Checker, made at the first use (it imports the HTTP clients)
        self._owns_checker = checker is None
        self.on_results, self.on_transition = on_results, on_transition
        self.concurrency, self.jitter, self.jitter_max = concurrency, jitter, jitter_max
        self.flush_every, self.batch_max, self.stale_after = flush_every, batch_max, stale_after
        self.runs: deque[ScheduledRun] = deque(maxlen=keep_runs)
        self.stats = {"checks": 0, "skipped_slots": 0, "sink_errors": 0, "dropped_results": 0}
        self._rng = random.Random(seed)
        self._entries: dict[str, _Entry] = {}
        self._sem = asyncio.Semaphore(concurrency)
        self._pending: list[ProbeResult] = []
        self._transitions: asyncio.Queue[Transition] = asyncio.Queue()
        self._flush_soon = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._service: list[asyncio.Task] = []
        self._fast: float | None = None
        self._fast_until: float | None = None
        self._fast_handle: asyncio.TimerHandle | None = None
        self._running = False
        for spec in specs:
            self.add(spec)

    @property
    def checker(self) -> CheckRunner:
        if self._checker is None:
            from warroom.probes.checks import Checker

            self._checker = Checker(max_connections=max(2 * self.concurrency, self.concurrency + 32), clock=self.clock)
        return self._checker

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> "ProbeEngine":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._running

    async def start(self) -> None:
        """Start every probe (first checks spread over min(interval, jitter_max))."""
        if self._running:
            return
        prepare = getattr(self.checker, "prepare", None)
        if prepare is not None:
            prepare(self.specs())
        self._running = True
        for entry in self._entries.values():
            self._schedule(entry, spread=True)
            entry.task = asyncio.create_task(self._run(entry), name=f"probe {entry.spec.name}")
        self._service = [asyncio.create_task(coro) for coro in (self._watchdog(), self._flusher(), self._dispatch())]

    async def stop(self) -> None:
        """Cancel the probes, then hand over the last results and transitions."""
        if not self._running:
            return
        self._running = False
        if self._fast_handle:
            self._fast_handle.cancel()
        tasks = [entry.task for entry in self._entries.values() if entry.task] + self._service[:1]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for entry in self._entries.values():
            entry.task = None
        await self._flush()
        try:  # the dispatcher hands over what is queued
            await asyncio.wait_for(self._transitions.join(), 10.0)
        except TimeoutError:
            log.warning("probe transition callback still busy at stop; %d dropped", self._transitions.qsize())
        for task in self._service[1:]:
            task.cancel()
        await asyncio.gather(*self._service[1:], return_exceptions=True)
        self._service = []
        if self._owns_checker and self._checker is not None:
            await self._checker.aclose()  # type: ignore[attr-defined]
            self._checker = None

    # -- probes ----------------------------------------------------------------------------
    def add(self, spec: ProbeSpec) -> None:
        """Add a probe, or update one with the same name (its state is kept)."""
        entry = self._entries.get(spec.name)
        if entry is not None:
            if entry.spec.to_dict() == spec.to_dict():
                return
            entry.spec = entry.tracker.spec = spec
            entry.effective = self._effective(spec)
            if self._running:
                self._schedule(entry, spread=True)
            return
        entry = _Entry(spec=spec, tracker=ProbeTracker(spec), effective=self._effective(spec))
        self._entries[spec.name] = entry
        if self._running:  # added while running (/probe add, a reload): first check within a second
            self._schedule(entry, spread=True, spread_max=RUNTIME_JITTER)
            entry.task = asyncio.create_task(self._run(entry), name=f"probe {spec.name}")

    def remove(self, name: str) -> bool:
        entry = self._entries.pop(name, None)
        if entry is None:
            return False
        if entry.task:
            entry.task.cancel()
        return True

    def replace_all(self, specs: Iterable[ProbeSpec]) -> None:
        """Apply a reloaded configuration: unknown probes removed, changed ones updated."""
        specs = list(specs)
        for name in set(self._entries) - {spec.name for spec in specs}:
            self.remove(name)
        for spec in specs:
            self.add(spec)

    def pause(self, name: str) -> None:
        entry = self._entries[name]
        entry.paused = True
        self._poke(entry)

    def resume(self, name: str) -> None:
        """Resume a paused probe; it is checked at once, then every interval from now."""
        entry = self._entries[name]
        if entry.paused:
            entry.paused = False
            if self._running:
                self._schedule(entry, spread=False)

    def specs(self) -> list[ProbeSpec]:
        return [entry.spec for entry in self._entries.values()]

    def restore(self, name: str, snapshot: TrackerSnapshot, recent: Iterable[float | None] = ()) -> None:
        """Resume a probe's state (and its recent latencies) from what was stored, e.g. by the
        previous lease holder, before it is checked again."""
        entry = self._entries[name]
        entry.tracker.restore(snapshot)
        entry.recent.extend(recent)

    def snapshot(self, name: str) -> TrackerSnapshot:
        return self._entries[name].tracker.snapshot()

    # -- commands --------------------------------------------------------------------------
    async def check_all_now(self) -> list[ProbeResult]:
        """Check every unpaused probe at once (outside the schedule, which is unchanged)."""

        async def one(entry: _Entry) -> ProbeResult:
            async with self._sem:
                result = await self.checker.check(entry.effective)
            if self._entries.get(entry.spec.name) is entry:
                self._deliver(entry, result)
            return result

        return list(await asyncio.gather(*(one(e) for e in list(self._entries.values()) if not e.paused)))

    def fast_mode(self, interval: float = 5.0, duration: float = 300.0) -> None:
        """Check every probe at most `interval` apart for `duration` seconds, then go back."""
        loop = asyncio.get_running_loop()
        self._fast, self._fast_until = interval, loop.time() + duration
        if self._fast_handle:
            self._fast_handle.cancel()
        self._fast_handle = loop.call_later(duration, self.end_fast_mode)
        self._reschedule_all()

    def end_fast_mode(self) -> None:
        if self._fast_handle:
            self._fast_handle.cancel()
        self._fast = self._fast_until = self._fast_handle = None
        self._reschedule_all()

    def fast_mode_remaining(self) -> float | None:
        if self._fast_until is None:
            return None
        return max(0.0, self._fast_until - asyncio.get_running_loop().time())

    def statuses(self) -> list[ProbeStatus]:
        """Snapshots, worst state first, then by group and name."""
        now = asyncio.get_running_loop().time() if self._running else None
        found = []
        for entry in self._entries.values():
            tracker = entry.tracker
            due = entry.anchor + entry.slot * self._interval(entry.spec)
            found.append(ProbeStatus(
                spec=entry.spec, state=tracker.state, since=tracker.since, paused=entry.paused,
                interval=self._interval(entry.spec), last_result=tracker.last_result,
                consecutive_failures=tracker.consecutive_failures, first_failure_at=tracker.first_failure_at,
                next_due_in=max(0.0, due - now) if now is not None and not entry.paused else None,
                recent_latencies=tuple(entry.recent), history=tuple(tracker.history),
                consecutive_successes=tracker.consecutive_successes,
            ))
        return sorted(found, key=lambda s: (s.state.rank, s.spec.group, s.spec.name))

    def lateness_ms(self) -> list[float]:
        """Scheduling lateness (actual start - due) of the recorded checks, in milliseconds."""
        return [run.lateness * 1000 for run in self.runs]

    # -- scheduling ------------------------------------------------------------------------
    def _interval(self, spec: ProbeSpec) -> float:
        return min(spec.interval, self._fast) if self._fast else spec.interval

    def _effective(self, spec: ProbeSpec) -> ProbeSpec:
        interval = self._interval(spec)
        return spec if interval == spec.interval else with_interval(spec, interval)

    def _schedule(self, entry: _Entry, *, spread: bool, spread_max: float | None = None) -> None:
        now = asyncio.get_running_loop().time()
        interval = self._interval(entry.spec)
        widest = min(interval, self.jitter_max, spread_max if spread_max is not None else interval)
        offset = self._rng.uniform(0, widest) if spread and self.jitter else 0.0
        entry.anchor, entry.slot, entry.epoch = now + offset, 0, entry.epoch + 1
        entry.last_seen = max(entry.last_seen, now + offset)
        self._poke(entry)

    def _reschedule_all(self) -> None:
        for entry in self._entries.values():
            entry.effective = self._effective(entry.spec)
            if self._running and not entry.paused:
                self._schedule(entry, spread=True)

    def _poke(self, entry: _Entry) -> None:
        if entry.waker is not None:
            _wake(entry.waker)

    async def _sleep(self, entry: _Entry, until: float | None) -> None:
        loop = asyncio.get_running_loop()
        entry.waker = future = loop.create_future()
        handle = loop.call_at(until, _wake, future) if until is not None else None
        try:
            await future
        finally:
            entry.waker = None
            if handle:
                handle.cancel()

    async def _run(self, entry: _Entry) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if entry.paused:
                await self._sleep(entry, None)
                continue
            interval = self._interval(entry.spec)
            due = entry.anchor + entry.slot * interval
            if due - loop.time() > 0.0005:
                await self._sleep(entry, due)
                continue
            epoch, spec = entry.epoch, entry.effective
            async with self._sem:
                started = loop.time()
                self.runs.append(ScheduledRun(spec.name, entry.slot, due, started))
                self.stats["checks"] += 1
                result = await self.checker.check(spec)
            self._deliver(entry, result)
            if entry.epoch == epoch:
                entry.slot, skipped = next_slot(entry.anchor, interval, entry.slot, loop.time())
                self.stats["skipped_slots"] += skipped

    def _deliver(self, entry: _Entry, result: ProbeResult) -> None:
        if self._running:
            entry.last_seen = asyncio.get_running_loop().time()
        entry.recent.append(result.latency_ms if result.ok else None)
        self._pending.append(result)
        if len(self._pending) >= self.batch_max:
            self._flush_soon.set()
        transition = entry.tracker.observe(result)
        if transition is not None:
            self._transitions.put_nowait(transition)

    # -- service tasks ---------------------------------------------------------------------
    async def _watchdog(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            intervals = [self._interval(e.spec) for e in self._entries.values()] or [1.0]
            await asyncio.sleep(min(1.0, max(0.02, min(intervals) / 4)))
            now = loop.time()
            for entry in list(self._entries.values()):
                if entry.paused:
                    continue
                spec, interval = entry.effective, self._interval(entry.spec)
                limit = max(self.stale_after * interval, interval + (spec.retries + 1) * spec.timeout)
                silent = now - entry.last_seen
                if silent > limit:
                    transition = entry.tracker.mark_stale(self.clock(), silent)
                    if transition is not None:
                        self._transitions.put_nowait(transition)

    async def _flusher(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._flush_soon.wait(), self.flush_every)
            except TimeoutError:
                pass
            self._flush_soon.clear()
            await self._flush()

    async def _flush(self) -> None:
        async with self._flush_lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            if self.on_results is not None:
                await self._sink(batch)

    async def _sink(self, batch: list[ProbeResult]) -> None:
        try:
            await self.on_results(batch)  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats["sink_errors"] += 1
            log.exception("probe result sink failed; %d results kept for the next flush", len(batch))
            keep = max(0, 10 * self.batch_max - len(self._pending))
            self.stats["dropped_results"] += max(0, len(batch) - keep)
            self._pending = batch[len(batch) - keep:] + self._pending if keep else self._pending

    async def _dispatch(self) -> None:
        while True:
            transition = await self._transitions.get()
            try:
                await self._hand_over(transition)
            finally:
                self._transitions.task_done()

    async def _hand_over(self, transition: Transition) -> None:
        if self.on_transition is None:
            return
        try:
            await self.on_transition(transition)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("probe transition callback failed for %s", transition.probe)
