"""Several war-room screens on one incident, one probe truth: only the probe-lease holder checks
and writes results, states and entries; every screen shows what it stored (state, since, uptime);
pause and fast mode are stored, so they apply whichever screen asked; a new holder (after a quit,
a crash, or every screen closed) resumes each probe's state instead of reporting it again."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from probe_servers import until

from warroom.domain.models import EntryKind
from warroom.probes.checks import Checker
from warroom.probes.states import ProbeState
from warroom.service import IncidentService
from warroom.service.monitor import LEASE_RENEW_EVERY, LEASE_RETRY_EVERY, ProbeMonitor, takeover_bound
from warroom.store.leases import LEASE_SECONDS, ProbeLease

README_TAKEOVER_PROMISE = 20.0  # seconds, README "Health probes": a crashed holder is replaced within it


class TaggedChecker:
    """A real checker (on the test clock) whose results carry the screen's name in the excerpt, to
    tell writers apart; it counts the checks it made."""

    def __init__(self, tag: str, clock):
        self.tag, self.inner, self.checks = tag, Checker(clock=clock), 0

    def prepare(self, specs) -> None:
        self.inner.prepare(specs)

    async def check(self, spec, timeout=None):
        self.checks += 1
        return dataclasses.replace(await self.inner.check(spec, timeout), excerpt=self.tag)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def two_screens(database, policies, clock):
    """Two IncidentService instances (two processes' worth of connections) on one database."""
    services = [await IncidentService.open(database, policies, clock) for _ in range(2)]
    try:
        yield services
    finally:
        for service in services:
            await service.close()


def state_of(monitor: ProbeMonitor, name: str = "payments") -> ProbeState | None:
    view = monitor.view(name)
    return view.state if view else None


def shown(monitor: ProbeMonitor) -> list[tuple]:
    """What a Health pane shows of every probe."""
    return [(v.name, v.state, v.since, v.uptime, v.paused, v.interval,
             v.last_result.checked_at if v.last_result else None) for v in monitor.views()]


async def probe_entries(service, incident_id: str) -> list:
    return [e for e in await service.entries(incident_id) if e.kind is EntryKind.PROBE]


async def stored_tags(service, incident_id: str) -> list[str]:
    async with service.db.reader.execute(
        "SELECT excerpt FROM probe_results WHERE incident_id = ? ORDER BY id", (incident_id,)
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


def probe_file(tmp_path, url: str, interval: str = "100ms"):
    path = tmp_path / "probes.toml"
    path.write_text(f'[[probe]]\nname = "payments"\ntype = "http"\ntarget = "{url}"\n'
                    f'interval = "{interval}"\nfailure_threshold = 1\n')
    return path


def monitor_for(service, incident_id: str, path, tag: str, **options) -> ProbeMonitor:
    """A fast monitor (50 ms flushes, reloads and renewals) whose watchdog never fires: on a busy
    machine a starved loop would record STALE entries these tests do not expect."""
    options = {"jitter": False, "flush_every": 0.05, "reload_every": 0.05, "lease_renew_every": 0.05,
               "lease_retry_every": 0.05, "stale_after": 1e6, **options}
    return ProbeMonitor(service, incident_id, probes_path=path, checker=TaggedChecker(tag, service.clock), **options)


async def stop_all(*monitors: ProbeMonitor) -> None:
    for monitor in monitors:
        await monitor.stop()
        await monitor.engine.checker.aclose()


class LeaseTime:
    """How time passes for a lease: the test clock on a file; on a server its own clock, which a
    test cannot move, so leases there are short and the test waits for the server's time."""

    def __init__(self, service, clock):
        self.service, self.clock = service, clock
        self.on_server = service.db.session_locks
        self.unit = 0.4 if self.on_server else 1.0  # seconds per "second" of the test below

    async def advance(self, seconds: float) -> None:
        if not self.on_server:
            self.clock.advance(seconds=seconds)
            return
        target = await self.service.db.server_time() + timedelta(seconds=seconds * self.unit)

        async def passed():
            return await self.service.db.server_time() >= target
        await until(passed)


async def test_a_lease_is_held_by_one_holder_until_released_or_expired(service, clock):
    time = LeaseTime(service, clock)
    incident = await service.declare("x", "SEV-2", author="a")
    first = ProbeLease(service.db, incident.id, duration=15 * time.unit, clock=clock)
    second = ProbeLease(service.db, incident.id, duration=15 * time.unit, clock=clock)
    assert await first.acquire() and not await second.acquire()
    await time.advance(10)
    assert await first.acquire()  # renewed: 15 s from now
    await time.advance(10)
    assert not await second.acquire()
    assert await second.current_holder() == first.holder
    await time.advance(6)  # the holder stopped renewing: expired
    assert await first.current_holder() is None
    assert await second.acquire() and not await first.acquire()
    await first.release()  # not its lease any more: nothing happens
    assert await first.current_holder() == second.holder
    await second.release()
    assert await first.current_holder() is None and await first.acquire()


async def test_a_lease_goes_with_its_holders_connection_on_a_server(pg_url, policies, clock):
    """On a server the holder's session lock goes when its connection dies (a crash): the next
    look of another screen takes the lease, long before it would have run out. On a file the
    lease runs out instead (test_a_crashed_holder_is_replaced_within_the_readme_promise)."""
    holder_service, other_service = [await IncidentService.open(pg_url, policies, clock) for _ in range(2)]
    try:
        incident = await holder_service.declare("x", "SEV-2", author="a")
        holder = ProbeLease(holder_service.db, incident.id, duration=600)
        other = ProbeLease(other_service.db, incident.id, duration=600)
        assert await holder.acquire() and not await other.acquire()
        assert await other.current_holder() == holder.holder
        holder_service.db.writer.conn.terminate()  # as when its process is killed

        async def taken_over():
            return await other.current_holder() is None and await other.acquire()
        await until(taken_over, timeout=5)
        assert await other.current_holder() == other.holder
        assert not await holder.acquire()  # back with a new connection: the lease is the other's
    finally:
        await holder_service.close()
        await other_service.close()


async def test_two_screens_show_one_truth_and_only_the_holder_checks(two_screens, target, tmp_path):
    screen_1, screen_2 = two_screens
    incident = await screen_1.declare("Checkout errors", "SEV-2", author="alice")
    target.flap_pattern = [500]
    path = probe_file(tmp_path, target.url("/flap"))
    first = monitor_for(screen_1, incident.id, path, "screen 1")
    second = monitor_for(screen_2, incident.id, path, "screen 2")
    await first.start()
    await second.start()
    try:
        async def both_see_down_with_results():
            return all(state_of(m) is ProbeState.DOWN and m.view("payments").uptime.checks >= 3
                       for m in (first, second))
        await until(both_see_down_with_results)
        assert first.writing and not second.writing
        await first.refresh_board()
        await second.refresh_board()
        assert shown(first) == shown(second)  # same state, since, uptime, last check: read from one place
        assert second.engine.checker.checks == 0  # the other screen does not check at all
        assert set(await stored_tags(screen_2, incident.id)) == {"screen 1"}
        [down] = await probe_entries(screen_2, incident.id)
        assert down.text.startswith("payments ▼ DOWN (was ? UNKNOWN)")
        down_since = first.view("payments").since

        await first.stop()  # the first screen quits: its lease is released, the second takes over

        async def taken_over():
            return second.writing and "screen 2" in await stored_tags(screen_1, incident.id)
        await until(taken_over)
        assert state_of(second) is ProbeState.DOWN and second.view("payments").since == down_since
        assert [e.id for e in await probe_entries(screen_1, incident.id)] == [down.id]  # not reported again
        target.flap_pattern = [200]

        async def up_logged():
            return any("UP" in e.text for e in await probe_entries(screen_1, incident.id))
        await until(up_logged)
    finally:
        await stop_all(first, second)
    texts = [e.text.split(" (")[0] for e in await probe_entries(screen_1, incident.id)]
    assert texts == ["payments ▼ DOWN", "payments ▲ UP"]
    tags = await stored_tags(screen_1, incident.id)
    assert tags[0] == "screen 1" and tags[-1] == "screen 2"
    assert tags == sorted(tags)  # screen 1's rows, then screen 2's: never both at once
    assert await ProbeLease(screen_1.db, incident.id).current_holder() is None  # released on stop


async def test_fast_mode_and_pause_from_a_screen_without_the_lease_apply_to_all(two_screens, target, tmp_path):
    screen_1, screen_2 = two_screens
    incident = await screen_1.declare("Checkout errors", "SEV-2", author="alice")
    path = probe_file(tmp_path, target.url("/ok"), interval="1m")
    first = monitor_for(screen_1, incident.id, path, "screen 1")
    second = monitor_for(screen_2, incident.id, path, "screen 2")
    await first.start()
    await second.start()
    try:
        assert first.writing and not second.writing
        assert await second.toggle_fast() == second.fast_duration

        async def fast_everywhere():
            return (first.fast_remaining() is not None and second.fast_remaining() is not None
                    and all(status.interval == 5.0 for status in first.engine.statuses())
                    and all(view.interval == 5.0 for m in (first, second) for view in m.views()))
        await until(fast_everywhere)
        assert await second.toggle_pause("payments") is True

        async def paused_everywhere():
            return (all(status.paused for status in first.engine.statuses())
                    and first.view("payments").paused and second.view("payments").paused)
        await until(paused_everywhere)
        assert await first.toggle_fast() is None  # off from the holder: off for the other screen too

        async def fast_off_everywhere():
            await second.sync()
            return first.fast_remaining() is None and second.fast_remaining() is None
        await until(fast_off_everywhere)
    finally:
        await stop_all(first, second)


async def test_closing_every_screen_while_down_and_reopening_records_nothing_again(database, policies, clock,
                                                                                   target, tmp_path):
    target.flap_pattern = [500]
    path = probe_file(tmp_path, target.url("/flap"))
    service = await IncidentService.open(database, policies, clock)
    incident = await service.declare("Checkout errors", "SEV-2", author="alice")
    first = monitor_for(service, incident.id, path, "before")
    await first.start()

    async def down_with_checks():
        return state_of(first) is ProbeState.DOWN and first.view("payments").uptime.checks >= 5
    await until(down_with_checks)
    await stop_all(first)
    [down] = await probe_entries(service, incident.id)
    await service.close()
    outage_start = clock.now
    clock.advance(minutes=10)  # every screen closed for ten minutes; the outage goes on

    service = await IncidentService.open(database, policies, clock)
    again = monitor_for(service, incident.id, path, "after")
    await again.start()
    try:
        assert again.writing
        view = again.view("payments")  # the newly opened screen shows the outage and its real uptime
        assert view.state is ProbeState.DOWN and view.since == outage_start and view.uptime.checks >= 5
        assert view.uptime.ok == 0

        async def checked_again():
            return "after" in await stored_tags(service, incident.id)
        await until(checked_again)
        await again.refresh_board()
        assert again.view("payments").since == outage_start  # "DOWN since <original time>"
        assert [e.id for e in await probe_entries(service, incident.id)] == [down.id]  # no PENDING, no 2nd DOWN
        target.flap_pattern = [200]

        async def up_logged():
            return len(await probe_entries(service, incident.id)) == 2
        await until(up_logged)
    finally:
        await stop_all(again)
    up = (await probe_entries(service, incident.id))[-1]
    await service.close()
    assert up.text.startswith("payments ▲ UP (was ▼ DOWN)")
    assert f"failing since {outage_start:%H:%M:%S} UTC" in up.text  # the outage's real start


async def test_a_crashed_holder_is_replaced_within_the_readme_promise(two_screens, tmp_path, clock):
    """On the test clock, no waiting: the holder renews, then dies; the other screen looks for the
    lease every LEASE_RETRY_EVERY seconds and takes it when it runs out."""
    screen_1, screen_2 = two_screens
    incident = await screen_1.declare("Checkout errors", "SEV-2", author="alice")
    assert LEASE_SECONDS >= 2 * LEASE_RENEW_EVERY + 2  # a renewal may be late twice without losing the lease
    assert takeover_bound() == LEASE_SECONDS + LEASE_RETRY_EVERY <= README_TAKEOVER_PROMISE - 5
    if screen_1.db.session_locks:  # a server: the crash ends the holder's connection, and its lock
        holder, other = ProbeMonitor(screen_1, incident.id), ProbeMonitor(screen_2, incident.id)
        await holder.claim_lease()
        await other.claim_lease()
        assert holder.writing and not other.writing
        screen_1.db.writer.conn.terminate()

        async def taken_over():
            await other.claim_lease()
            return other.writing
        await until(taken_over, timeout=2 * LEASE_RETRY_EVERY)  # the next look or two, not LEASE_SECONDS
        await holder.engine.stop()
        await other.stop()
        return
    worst = 0.0
    for phase in (0.0, 0.25, 0.5, 0.999):  # where the other screen's look falls after the last renewal
        holder = ProbeMonitor(screen_1, incident.id)
        other = ProbeMonitor(screen_2, incident.id)
        await holder.claim_lease()
        assert holder.writing  # it renewed now, then crashed: no more renewals, no release
        crashed_at = clock.now
        clock.advance(seconds=phase)
        await other.claim_lease()
        while not other.writing:
            clock.advance(seconds=LEASE_RETRY_EVERY)
            await other.claim_lease()
        worst = max(worst, (clock.now - crashed_at).total_seconds())
        await holder.engine.stop()
        await other.stop()
    assert LEASE_SECONDS < worst <= takeover_bound() < README_TAKEOVER_PROMISE


async def test_a_probe_entry_that_failed_to_save_is_written_on_the_next_renewal(service, target, tmp_path):
    """Nothing is lost: a DOWN entry whose transaction failed (say the file stayed locked) is kept and
    written by the next lease renewal, once, instead of vanishing from the timeline."""
    from warroom.domain.errors import DatabaseError

    incident = await service.declare("Checkout errors", "SEV-2", author="alice")
    target.flap_pattern = [500]
    path = probe_file(tmp_path, target.url("/flap"))
    monitor = monitor_for(service, incident.id, path, "screen")
    real_write, failures, renewals = monitor._write_transition, [], [0]

    async def locked_once(transition):
        if not failures:
            failures.append(transition)
            raise DatabaseError("the database stayed locked by another writer")
        return await real_write(transition)

    real_claim = monitor.claim_lease

    async def counted_claim():
        renewals[0] += 1
        await real_claim()

    monitor._write_transition, monitor.claim_lease = locked_once, counted_claim
    await monitor.start()
    try:
        async def down_logged():
            return bool(await probe_entries(service, incident.id))
        await until(down_logged)
        logged_at = renewals[0]

        async def renewed_three_times_more():
            return renewals[0] >= logged_at + 3
        await until(renewed_three_times_more)  # a few more renewals after it: still written once
    finally:
        await stop_all(monitor)
    assert failures
    [down] = await probe_entries(service, incident.id)
    assert down.text.startswith("payments ▼ DOWN")
