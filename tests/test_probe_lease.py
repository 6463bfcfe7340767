"""Two war-room screens on one incident: only the probe-lease holder writes results and probe
entries; the other keeps checking, and takes over when the lease is released or runs out."""

from __future__ import annotations

import dataclasses

import pytest
from probe_servers import until

from warroom.domain.models import EntryKind
from warroom.service.monitor import ProbeMonitor
from warroom.probes.checks import Checker
from warroom.probes.states import ProbeState
from warroom.service import IncidentService
from warroom.store.leases import ProbeLease


class TaggedChecker:
    """A real checker whose results carry the screen's name (in the excerpt) to tell writers apart."""

    def __init__(self, tag: str):
        self.tag, self.inner = tag, Checker()

    def prepare(self, specs) -> None:
        self.inner.prepare(specs)

    async def check(self, spec, timeout=None):
        return dataclasses.replace(await self.inner.check(spec, timeout), excerpt=self.tag)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def two_screens(db_path, policies, clock):
    """Two IncidentService instances (two processes' worth of connections) on one file."""
    services = [await IncidentService.open(db_path, policies, clock) for _ in range(2)]
    try:
        yield services
    finally:
        for service in services:
            await service.close()


def state_of(monitor: ProbeMonitor, name: str = "payments") -> ProbeState | None:
    view = monitor.view(name)
    return view.status.state if view else None


async def probe_entries(service, incident_id: str) -> list:
    return [e for e in await service.entries(incident_id) if e.kind is EntryKind.PROBE]


async def stored_tags(service, incident_id: str) -> list[str]:
    async with service.db.reader.execute(
        "SELECT excerpt FROM probe_results WHERE incident_id = ? ORDER BY id", (incident_id,)
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


def monitor_for(service, incident_id: str, path, tag: str, **options) -> ProbeMonitor:
    """A fast monitor (100 ms probes, 50 ms flushes and renewals) whose watchdog never fires: on a
    busy machine a starved loop would record STALE entries these tests do not expect."""
    return ProbeMonitor(service, incident_id, probes_path=path, checker=TaggedChecker(tag), jitter=False,
                        flush_every=0.05, lease_renew_every=0.05, stale_after=1e6, **options)


async def test_a_lease_is_held_by_one_holder_until_released_or_expired(service, clock):
    incident = await service.declare("x", "SEV-2", author="a")
    first = ProbeLease(service.db, incident.id, duration=15, clock=clock)
    second = ProbeLease(service.db, incident.id, duration=15, clock=clock)
    assert await first.acquire() and not await second.acquire()
    clock.advance(seconds=10)
    assert await first.acquire()  # renewed: 15 s from now
    clock.advance(seconds=10)
    assert not await second.acquire()
    assert await second.current_holder() == first.holder
    clock.advance(seconds=6)  # the holder stopped renewing: expired
    assert await first.current_holder() is None
    assert await second.acquire() and not await first.acquire()
    await first.release()  # not its lease any more: nothing happens
    assert await first.current_holder() == second.holder
    await second.release()
    assert await first.current_holder() is None and await first.acquire()


async def test_two_screens_write_one_down_entry_and_one_set_of_results(two_screens, target, tmp_path):
    screen_1, screen_2 = two_screens
    incident = await screen_1.declare("Checkout errors", "SEV-2", author="alice")
    target.flap_pattern = [500]
    path = tmp_path / "probes.toml"
    path.write_text(f'[[probe]]\nname = "payments"\ntype = "http"\ntarget = "{target.url("/flap")}"\n'
                    'interval = "100ms"\nfailure_threshold = 1\n')
    first = monitor_for(screen_1, incident.id, path, "screen 1")
    second = monitor_for(screen_2, incident.id, path, "screen 2")
    await first.start()
    await second.start()
    try:
        async def both_see_down():
            return state_of(first) is ProbeState.DOWN and state_of(second) is ProbeState.DOWN
        await until(both_see_down)

        async def results_stored():
            return len(await stored_tags(screen_1, incident.id)) >= 3
        await until(results_stored)
        assert first.writing and not second.writing
        assert second.views()[0].uptime.checks >= 1  # the second screen's Health pane is live
        assert set(await stored_tags(screen_2, incident.id)) == {"screen 1"}
        entries = await probe_entries(screen_2, incident.id)
        assert [e.text.split(" (")[0] for e in entries] == ["payments ▼ DOWN"]

        assert "payments" in second._unwritten  # seen, not written: taking over must not repeat it
        await first.stop()  # the first screen quits: its lease is released, the second takes over

        async def taken_over():
            return second.writing
        await until(taken_over)
        target.flap_pattern = [200]

        async def up_logged():
            return any("UP" in e.text for e in await probe_entries(screen_1, incident.id))
        await until(up_logged)
    finally:
        await first.stop()
        await second.stop()
        for monitor in (first, second):
            await monitor.engine.checker.aclose()
    texts = [e.text.split(" (")[0] for e in await probe_entries(screen_1, incident.id)]
    assert texts == ["payments ▼ DOWN", "payments ▲ UP"]
    tags = await stored_tags(screen_1, incident.id)
    assert tags[0] == "screen 1" and tags[-1] == "screen 2"
    assert tags == sorted(tags)  # screen 1's rows, then screen 2's: never both at once
    assert await ProbeLease(screen_1.db, incident.id).current_holder() is None  # released on stop


async def test_when_the_holder_dies_the_other_takes_over_after_expiry_and_logs_what_it_missed(
        two_screens, target, tmp_path, clock):
    screen_1, screen_2 = two_screens
    incident = await screen_1.declare("Checkout errors", "SEV-2", author="alice")
    target.flap_pattern = [200]
    path = tmp_path / "probes.toml"
    path.write_text(f'[[probe]]\nname = "payments"\ntype = "http"\ntarget = "{target.url("/flap")}"\n'
                    'interval = "100ms"\nfailure_threshold = 1\n')
    first = monitor_for(screen_1, incident.id, path, "screen 1", lease_seconds=1.0)
    second = monitor_for(screen_2, incident.id, path, "screen 2", lease_seconds=1.0)
    await first.start()
    await second.start()
    try:
        assert first.writing and not second.writing
        # The first screen crashes: it stops checking and renewing, and never releases its lease.
        for task in (first._lease_task, first._maintenance):
            task.cancel()
        await first.engine.stop()
        target.flap_pattern = [500]

        async def second_sees_down():
            return state_of(second) is ProbeState.DOWN
        await until(second_sees_down)
        assert not second.writing  # the dead screen's lease has not run out yet
        assert await probe_entries(screen_2, incident.id) == []
        clock.advance(seconds=2)  # now it has

        async def taken_over():
            return second.writing
        await until(taken_over)

        async def down_logged():
            return bool(await probe_entries(screen_2, incident.id))
        await until(down_logged)

        async def results_from_the_second():
            return "screen 2" in await stored_tags(screen_1, incident.id)
        await until(results_from_the_second)
    finally:
        first.writing = False  # crashed: nothing to release
        await first.stop()
        await second.stop()
        for monitor in (first, second):
            await monitor.engine.checker.aclose()
    [down] = await probe_entries(screen_1, incident.id)
    assert down.text.startswith("payments ▼ DOWN") and down.author == "probe"


async def test_a_probe_entry_that_failed_to_save_is_written_on_the_next_renewal(service, target, tmp_path):
    """Nothing is lost: a DOWN entry whose transaction failed (say the file stayed locked) is kept and
    written by the next lease renewal, once, instead of vanishing from the timeline."""
    from warroom.domain.errors import DatabaseError

    incident = await service.declare("Checkout errors", "SEV-2", author="alice")
    target.flap_pattern = [500]
    path = tmp_path / "probes.toml"
    path.write_text(f'[[probe]]\nname = "payments"\ntype = "http"\ntarget = "{target.url("/flap")}"\n'
                    'interval = "100ms"\nfailure_threshold = 1\n')
    real_record_system, failures = service.record_system, []

    async def locked_once(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise DatabaseError("the database stayed locked by another writer")
        return await real_record_system(*args, **kwargs)

    service.record_system = locked_once
    monitor = monitor_for(service, incident.id, path, "screen")
    real_acquire, claims = monitor.lease.acquire, []

    async def counted_acquire():
        claims.append(True)
        return await real_acquire()

    monitor.lease.acquire = counted_acquire
    await monitor.start()
    try:
        async def down_logged():
            return bool(await probe_entries(service, incident.id))
        await until(down_logged)
        written_by = len(claims)
        await until(lambda: len(claims) >= written_by + 3)  # a few more renewals: still written once
    finally:
        await monitor.stop()
        await monitor.engine.checker.aclose()
    assert failures
    [down] = await probe_entries(service, incident.id)
    assert down.text.startswith("payments ▼ DOWN")
