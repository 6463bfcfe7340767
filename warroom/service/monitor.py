"""ProbeMonitor: one incident's probes for one war-room screen, and one probe truth per incident.

It joins the probe file (``--probes``, the config's ``probes`` key or CONFIG_DIR/probes.toml) with
the probes attached to the incident (``/probe add``). Of the monitors open on an incident (one per
screen, in any terminal) only the holder of the incident's probe lease (warroom.store.leases)
checks: it stores the results in batches (pruned to the retention), each probe's state and
figures (warroom.store.probe_states), and a probe entry on the timeline for each change of state,
the state and its entry in one transaction. Every monitor, the holder's too, shows those rows
(`views()`): every screen shows the same state, uptime, history and "in this state since".
Pause, fast mode and a check asked for from a screen are stored too, so they apply to all.

The others do not check (one set of requests per incident, however many screens; see README).
They look for a free or expired lease every LEASE_RETRY_EVERY seconds: when the holder quits it
releases the lease, when it crashes the lease runs out after LEASE_SECONDS (on a PostgreSQL server
sooner: the holder's connection died with it, and its session lock with it; see store.leases). A new holder resumes
each probe from its stored state, so an outage still going on is not recorded again and keeps its
start time. No textual import: the screen passes plain callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import import_module
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry, EntryKind, Milestone
from warroom.probes.engine import CheckRunner, ProbeEngine
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState, Transition
from warroom.service.live import PROBE_STATE, PROBES, ChangeCursor
from warroom.service.probe_sources import RETENTION, ProbeSources
from warroom.service.probe_board import (
    ProbeView, SpecCache, UptimeWindow, board_of, fast_remaining, snapshot_from_transition, snapshot_of,
)
from warroom.store import probe_states as ps
from warroom.store import queries as q
from warroom.store.leases import LEASE_SECONDS, ProbeLease
from warroom.store.probes import ProbeStore, StoredResult, insert_results

log = logging.getLogger("warroom.service.monitor")
FAST_INTERVAL = 5.0
FAST_DURATION = 300.0
UPTIME_WINDOW = timedelta(hours=1)
LEASE_RENEW_EVERY = 4.0  # the holder renews this often: a lease of 12 s survives two late renewals
LEASE_RETRY_EVERY = 1.0  # the others look for a free or expired lease this often (a read)


def detected_offer(transition: Transition, milestones: dict) -> str:
    """The sentence a DOWN entry carries when the incident has no `detected` milestone yet."""
    if transition.new is not ProbeState.DOWN or Milestone.DETECTED in milestones:
        return ""
    first = transition.first_failure_at or transition.at
    return (f". No detected milestone yet: the first failure was at {first:%Y-%m-%d %H:%M:%S} UTC;"
            f" to record it, type: @{first:%Y-%m-%dT%H:%M:%S} /detected (or d on this entry)")


def takeover_bound(lease_seconds: float = LEASE_SECONDS, retry_every: float = LEASE_RETRY_EVERY) -> float:
    """The longest a crashed holder's probes go unchecked before another screen takes over (s)."""
    return lease_seconds + retry_every


class ProbeMonitor:
    """The probes of one incident, as one screen sees them. `start()`, then `stop()` (idempotent)."""

    def __init__(self, service, incident_id: str, *, probes_path: Path | None = None,
                 on_entry: Callable[[Entry], object] | None = None,
                 on_problem: Callable[[str], object] | None = None,
                 on_board: Callable[[], object] | None = None,
                 checker: CheckRunner | None = None, retention: timedelta = RETENTION,
                 uptime_window: timedelta = UPTIME_WINDOW, reload_every: float = 1.0,
                 prune_every: float = 600.0, fast_interval: float = FAST_INTERVAL,
                 fast_duration: float = FAST_DURATION, lease_seconds: float = LEASE_SECONDS,
                 lease_renew_every: float = LEASE_RENEW_EVERY, lease_retry_every: float = LEASE_RETRY_EVERY,
                 **engine_options):
        self.service, self.incident_id, self.db = service, incident_id, service.db
        self.clock = service.clock  # one clock: results, transitions, leases and pruning use the service's
        self.store = ProbeStore(service.db)
        self.sources = ProbeSources(self.store, incident_id, probes_path, on_problem)
        self.on_entry, self.on_board = on_entry, on_board
        self.retention, self.reload_every, self.prune_every = retention, reload_every, prune_every
        self.fast_interval, self.fast_duration = fast_interval, fast_duration
        self.uptimes = UptimeWindow(uptime_window)
        self._checker, self._engine_options = checker, engine_options
        self.engine = self._new_engine()
        self.board: list[ProbeView] = []
        self._specs = SpecCache()
        self.settings = ps.ProbeSettings()
        self.cursor = ChangeCursor(service.db)
        self._sync_lock = asyncio.Lock()
        self._published: dict[str, tuple] = {}
        self._fast_until: datetime | None = None  # the stored fast mode the engine runs
        self._checked_request: datetime | None = None  # the last requested check this holder ran
        self.lease = ProbeLease(service.db, incident_id, duration=lease_seconds, clock=self.clock)
        self.lease_renew_every, self.lease_retry_every = lease_renew_every, lease_retry_every
        self.writing = False  # True while this monitor holds the lease (and checks)
        self._tasks: list[asyncio.Task] = []
        self._unwritten: dict[str, Transition] = {}  # changes whose entry failed to save: retried

    def _new_engine(self) -> ProbeEngine:
        return ProbeEngine(on_results=self._store_results, on_transition=self._on_transition,
                           checker=self._checker, clock=self.clock, **self._engine_options)

    # -- lifecycle ---------------------------------------------------------------------------
    async def show_stored(self) -> None:
        """Load the probe file and the incident's probes and show the stored truth, checking nothing
        yet (a screen draws its first frame with it, then calls start())."""
        if self.cursor.position is None:
            self.sources.reload_file(initial=True)
            await self.cursor.start()
            await self.sync()

    async def start(self) -> None:
        """show_stored() if not done, then take the lease if free (and check) and keep it."""
        await self.show_stored()
        await self.claim_lease()
        self._tasks = [asyncio.create_task(self._maintain(), name="probe monitor"),
                       asyncio.create_task(self._keep_lease(), name="probe lease")]

    async def stop(self) -> None:
        """Stop checking, write the last results (if holding the lease), then release the lease."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.engine.stop()
        writing, self.writing = self.writing, False
        try:
            await (self.lease.release() if writing else self.lease.close())
        except Exception as error:  # e.g. the database is already closed: it runs out by itself
            log.warning("probe lease not released: %s", error)

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    # -- configuration -----------------------------------------------------------------------
    async def sync(self) -> None:
        """Apply the probe file, the incident's attached probes (an attached one wins a name) and the
        stored settings; the holder publishes what it runs. Then show the stored truth."""
        async with self._sync_lock:
            specs = await self.sources.specs()
            self.engine.replace_all(specs)
            self.uptimes.forget({spec.name for spec in specs})
            self.settings = await ps.probe_settings(self.db.reader, self.incident_id)
            rows = await self.service.probe_states(self.incident_id)
            if self.writing:
                self._apply_settings(rows)
                if await self._publish():
                    rows = await self.service.probe_states(self.incident_id)
            self._show(rows)

    def _apply_settings(self, rows: list[ps.StoredProbeState]) -> None:
        """The holder runs what is stored: pauses, fast mode, a check someone asked for."""
        settings, engine = self.settings, self.engine
        remaining = fast_remaining(settings, self.clock())
        if remaining is not None and (engine.fast_mode_remaining() is None or self._fast_until != settings.fast_until):
            engine.fast_mode(settings.fast_interval or self.fast_interval, remaining)
            self._fast_until = settings.fast_until
        elif remaining is None and engine.fast_mode_remaining() is not None:
            engine.end_fast_mode()
            self._fast_until = None
        paused = {row.probe: row.paused for row in rows}
        for status in engine.statuses():
            if paused.get(status.name, False) and not status.paused:
                engine.pause(status.name)
            elif status.paused and not paused.get(status.name, False):
                engine.resume(status.name)
        requested = settings.check_requested_at
        if requested is not None and (self._checked_request is None or requested > self._checked_request):
            self._checked_request = requested
            self._tasks.append(asyncio.create_task(self.engine.check_all_now(), name="requested check"))

    async def _publish(self) -> bool:
        """Store what the holder runs (config, interval now, attached) when it changed."""
        wanted = {status.name: (status.spec.redacted(), status.interval, status.name in self.sources.attached_names)
                  for status in self.engine.statuses()}
        if wanted == self._published:
            return False
        async with self.db.transaction() as conn:
            await ps.put_configs(conn, self.incident_id, [(name, *row) for name, row in wanted.items()])
        self._published = wanted
        return True

    async def _maintain(self) -> None:
        """Every reload_every seconds, and on a server at once when anyone commits, look at the probe
        file and the change log; prune now and then."""
        waited = self.prune_every  # prune soon after start, then every prune_every seconds
        woken = asyncio.Event()
        stop_listening = self.service.on_commit(woken.set) if self.service.pushes_changes else (lambda: None)
        try:
            await self._maintain_loop(woken, waited)
        finally:
            stop_listening()

    async def _maintain_loop(self, woken: asyncio.Event, waited: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            # asyncio.wait, not wait_for: on Python 3.11 wait_for swallows a cancel that comes as
            # the event is set (a server's commits set it often), and stop() would wait forever
            waiter = asyncio.ensure_future(woken.wait())
            try:
                await asyncio.wait({waiter}, timeout=self.reload_every)
            finally:
                waiter.cancel()
            woken.clear()
            waited += loop.time() - started
            try:
                file_changed = self.sources.reload_file()
                changes = await self.cursor.poll(self.incident_id)
                parts = None if changes is None else {change.part for change in changes}
                if file_changed or parts is None or parts & {PROBES, PROBE_STATE}:
                    await self.sync()  # also picks up probes attached meanwhile (/probe add, `warroom log`)
                elif self.cursor.moved and not parts and not self.writing:
                    # results were stored (they write no change row); the holder stores them itself,
                    # and read the board again as it did (`_store_results`)
                    await self.refresh_board()
                if waited >= self.prune_every and self.writing:
                    waited = 0.0
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception:  # the monitor must outlive a bad moment of the disk
                log.exception("probe monitor maintenance failed")

    # -- the lease -------------------------------------------------------------------------------
    async def claim_lease(self) -> None:
        """Renew the lease (holder) or take it if it is free or ran out (others; a read when it is
        held); a new holder resumes from the stored state and starts checking. A read-only session
        never holds it: it shows what the holder stores and checks nothing itself."""
        if self.service.read_only:
            return
        try:
            if not self.writing and await self.lease.current_holder() is not None:
                return
            holding = await self.lease.acquire()
        except WarroomError as error:  # a database that cannot be written cannot take results either
            log.warning("probe lease: %s", error)
            holding = False
        if holding and not self.writing:
            await self._take_over()
        elif not holding and self.writing:
            await self._stand_down()
        elif holding and self._unwritten:
            await self._retry_unwritten()

    async def _take_over(self) -> None:
        """Become the holder: resume every probe from the stored state, count the stored results of
        the uptime window, run the stored settings, then start checking."""
        self.writing = True
        await asyncio.to_thread(import_module, "warroom.probes.checks")  # the HTTP clients: the loop draws meanwhile
        reader, engine = self.db.reader, self.engine
        rows = {row.probe: row for row in await ps.probe_states(reader, self.incident_id)}
        names = [spec.name for spec in engine.specs()]
        unknown = [name for name in names if name not in rows or not rows[name].config]
        logged = await ps.last_transitions(reader, self.incident_id) if unknown else {}
        for name in names:
            if name not in unknown:
                engine.restore(name, snapshot_of(rows[name]), rows[name].recent)
            elif name in logged:  # a file from before stored states: the timeline says where it stood
                engine.restore(name, snapshot_from_transition(logged[name]))
        self.uptimes.clear()
        self.uptimes.add(await ps.recent_outcomes(reader, self.incident_id, self.clock() - self.uptimes.span))
        self.settings = await ps.probe_settings(reader, self.incident_id)
        self._checked_request = self.settings.check_requested_at  # older requests were answered
        self._published = {}
        self._apply_settings(list(rows.values()))
        await self._publish()
        await engine.start()
        await self.refresh_board()

    async def _stand_down(self) -> None:
        """Another monitor holds the lease now (ours ran out): stop checking, keep showing."""
        self.writing = False
        old, self.engine = self.engine, self._new_engine()
        self.engine.replace_all(old.specs())
        await old.stop()

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.lease_renew_every if self.writing else self.lease_retry_every)
            try:
                await self.claim_lease()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("probe lease renewal failed")

    async def _retry_unwritten(self) -> None:
        """Write each change whose entry failed to save, if the probe is still in that state."""
        missed, self._unwritten = self._unwritten, {}
        now_in = {status.name: status.state for status in self.engine.statuses()}
        for name, transition in missed.items():
            if now_in.get(name) is not transition.new:
                continue  # removed, or changed again since (that change was written as it happened)
            try:
                await self._write_transition(transition)
            except WarroomError as error:
                self._unwritten.setdefault(name, transition)  # try again at the next renewal
                log.warning("probe entry for %s not saved yet: %s", name, error)

    async def prune(self) -> int:
        """Delete stored results older than the retention."""
        return await self.store.prune(self.clock() - self.retention)

    # -- results and transitions (the holder's) ----------------------------------------------
    async def _store_results(self, batch: list[ProbeResult]) -> None:
        """One transaction: the results, and each probe's figures as the holder's engine has them.
        Not durable on its own (see Database.transaction): an entry's commit waits for no fsync of
        results, and a power cut takes back at most the last seconds of checks, never a change of
        state (`_write_transition`, durable) nor an entry."""
        if not self.writing:
            return
        self.uptimes.add((result.probe, result.checked_at, result.ok) for result in batch)
        now, names = self.clock(), {result.probe for result in batch}
        figures = []
        for status in self.engine.statuses():
            if status.name in names:
                uptime = self.uptimes.get(status.name, now)
                result = status.last_result
                figures.append(ps.ProbeFigures(
                    status.name, status.consecutive_failures, status.consecutive_successes, status.first_failure_at,
                    result.to_dict() if result else None, list(status.recent_latencies), uptime.checks, uptime.ok))
        async with self.db.transaction(durable=False) as conn:  # made again at the next check: no fsync of its own
            await insert_results(conn, batch, self.incident_id)
            await ps.put_figures(conn, self.incident_id, figures)
        await self.refresh_board()

    async def _on_transition(self, transition: Transition) -> Entry | None:
        if not self.writing:
            return None
        try:
            return await self._write_transition(transition)
        except WarroomError:  # not saved (say the file stayed locked): the next renewal writes it
            self._unwritten[transition.probe] = transition
            raise

    async def _write_transition(self, transition: Transition) -> Entry | None:
        """The probe's new state and its timeline entry, in one transaction (the first good check
        is not news: it changes the state only)."""
        status = next((s for s in self.engine.statuses() if s.name == transition.probe), None)
        if status is None:
            return None  # removed meanwhile
        spec, stale = status.spec, transition.new is ProbeState.STALE
        now, entry = self.clock(), None
        async with self.db.transaction() as conn:
            await ps.put_state(
                conn, self.incident_id, transition.probe, config=spec.redacted(),
                interval=self._published.get(spec.name, (None, spec.interval))[1],
                attached=spec.name in self.sources.attached_names, state=transition.new.value,
                health=None if stale else transition.new.value, since=transition.at,
                first_failure_at=transition.first_failure_at, consecutive_failures=transition.consecutive_failures,
                consecutive_successes=transition.consecutive_successes,
                last_result=status.last_result.to_dict() if status.last_result and not stale else None)
            if not (transition.old is ProbeState.UNKNOWN and transition.new.healthy):
                offer = ""
                if transition.new is ProbeState.DOWN:
                    offer = detected_offer(transition, (await q.get_incident(conn, self.incident_id)).milestones)
                entry = await q.insert_entry(
                    conn, incident_id=self.incident_id, occurred_at=now, recorded_at=now, author="probe",
                    kind=EntryKind.PROBE, text=transition.describe() + offer, data={"transition": transition.to_dict()})
        await self.refresh_board()
        if entry is not None and self.on_entry is not None:
            self.on_entry(entry)
        return entry

    # -- commands (stored, so whichever screen asks, the holder does it) ---------------------
    async def check_now(self) -> list[ProbeResult] | None:
        """Check every unpaused probe at once: here if holding the lease (returns the results), else
        ask the holder (returns None; its results show within a couple of seconds)."""
        if self.writing:
            return await self.engine.check_all_now()
        async with self.db.transaction() as conn:
            await ps.request_check(conn, self.incident_id, self.clock())
        return None

    async def toggle_fast(self) -> float | None:
        """Fast mode on for every screen (returns its duration) or off (returns None)."""
        now = self.clock()
        on = fast_remaining(self.settings, now) is None
        async with self.db.transaction() as conn:
            await ps.set_fast_mode(conn, self.incident_id, self.fast_interval if on else None,
                                   now + timedelta(seconds=self.fast_duration) if on else None)
        await self.sync()
        return self.fast_duration if on else None

    def fast_remaining(self) -> float | None:
        return fast_remaining(self.settings, self.clock())

    async def toggle_pause(self, name: str) -> bool:
        """Pause or resume a probe for every screen; returns True when it is now paused."""
        view = self.view(name)
        if view is None and name not in {spec.name for spec in self.engine.specs()}:
            raise WarroomError(f"no probe named {name!r}")
        paused = not (view.paused if view else False)
        async with self.db.transaction() as conn:
            await ps.set_paused(conn, self.incident_id, name, paused)
        await self.sync()
        return paused

    # -- reading (the stored truth) ----------------------------------------------------------
    async def refresh_board(self) -> None:
        """Read the stored state of every probe (one query; as of its clock in a replay)."""
        self._show(await self.service.probe_states(self.incident_id))

    def _show(self, rows: list[ps.StoredProbeState]) -> None:
        self.board = board_of(rows, f"incident {self.incident_id}", self._specs)
        if self.on_board is not None:
            self.on_board()

    def views(self) -> list[ProbeView]:
        """Every probe as stored by the lease holder, worst state first."""
        return self.board

    def defined(self) -> int:
        """How many probes the probe file and the incident define, on the board or not yet (none is
        there until the lease holder has described it)."""
        return len(self.engine.specs())

    def view(self, name: str) -> ProbeView | None:
        return next((view for view in self.board if view.name == name), None)

    async def recent_results(self, name: str, limit: int = 20) -> list[StoredResult]:
        return await self.store.recent(name, limit, self.incident_id)

    async def history(self, name: str, limit: int = 20) -> list[Transition]:
        """The probe's changes of state, newest first, from the timeline (the same on every screen)."""
        return [Transition.from_dict(data) for data in await ps.probe_history(self.db.reader, self.incident_id,
                                                                              name, limit)]
