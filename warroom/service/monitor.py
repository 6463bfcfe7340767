"""ProbeMonitor: runs one incident's probes for the war room and writes what they find.

It joins the probe file (``--probes``, the config's ``probes`` key or CONFIG_DIR/probes.toml)
with the probes attached to the incident (``/probe add``), runs them on a ProbeEngine, stores
results in batches (pruned to the retention), and turns every change of state into a timeline
entry of kind probe. It reloads the file when it changes, keeping the last good configuration
when the new one has a mistake. No textual import: the screen passes plain callbacks.

Several screens may watch one incident: each runs its own monitor (so its Health pane is live),
but only the holder of the incident's probe lease (warroom.store.leases) writes results and
entries. Another monitor takes the lease over when it is released or runs out, and then records
the state changes it saw meanwhile that the timeline does not show yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry, EntryKind, Milestone
from warroom.probes.config import ProbeConfigError, ProbeSpec, load_probe_file, spec_from_dict
from warroom.probes.engine import CheckRunner, ProbeEngine, ProbeStatus
from warroom.probes.result import ProbeResult
from warroom.probes.states import ProbeState, Transition
from warroom.store.leases import LEASE_SECONDS, ProbeLease
from warroom.store.probes import ProbeStore, StoredResult, Uptime

log = logging.getLogger("warroom.service.monitor")
PROBE_FILE_NAME = "probes.toml"
FAST_INTERVAL = 5.0
FAST_DURATION = 300.0
RETENTION = timedelta(hours=24)
UPTIME_WINDOW = timedelta(hours=1)
LEASE_RENEW_EVERY = 5.0


def probe_file(cli_value: str | None, config_value: str | None, config_dir: Path) -> Path | None:
    """--probes FILE, then the config's `probes`, then CONFIG_DIR/probes.toml if it exists."""
    chosen = cli_value or config_value
    if chosen:
        return Path(chosen).expanduser()
    default = config_dir / PROBE_FILE_NAME
    return default if default.is_file() else None


def retention_setting(text: str | None) -> tuple[timedelta, str | None]:
    """The config's `probe_retention` ('24h', '7d'...) and a problem in words if it is unusable."""
    from warroom.probes.config import parse_seconds  # noqa: PLC0415 (only the war room needs it)

    try:
        seconds = parse_seconds(text or "24h")
    except ValueError as error:
        return RETENTION, f"probe_retention: {error}; keeping 24h"
    if seconds < 60:
        return RETENTION, f"probe_retention: {text!r} is under a minute; keeping 24h"
    return timedelta(seconds=seconds), None


def detected_offer(transition: Transition, milestones: dict) -> str:
    """The sentence a DOWN entry carries when the incident has no `detected` milestone yet."""
    if transition.new is not ProbeState.DOWN or Milestone.DETECTED in milestones:
        return ""
    first = transition.first_failure_at or transition.at
    return (f" No detected milestone yet: the first failure was at {first:%Y-%m-%d %H:%M:%S} UTC;"
            f" to record it, type: @{first:%Y-%m-%dT%H:%M:%S} /detected")


@dataclass(frozen=True)
class ProbeView:
    """One probe as the Health pane shows it: engine snapshot plus uptime over the window."""

    status: ProbeStatus
    uptime: Uptime
    attached: bool

    @property
    def name(self) -> str:
        return self.status.name


class _UptimeWindow:
    """Healthy / all checks per probe over the last `span` (in memory, fed from result batches)."""

    def __init__(self, span: timedelta, cap: int = 4000):
        self.span, self.cap = span, cap
        self._seen: dict[str, deque[tuple[datetime, bool]]] = {}

    def add(self, results: Iterable[ProbeResult]) -> None:
        for result in results:
            self._seen.setdefault(result.probe, deque(maxlen=self.cap)).append((result.checked_at, result.ok))

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


class ProbeMonitor:
    """The probes of one incident, running. `start()`, then `stop()` (idempotent)."""

    def __init__(self, service, incident_id: str, *, probes_path: Path | None = None,
                 on_entry: Callable[[Entry], object] | None = None,
                 on_problem: Callable[[str], object] | None = None,
                 checker: CheckRunner | None = None, retention: timedelta = RETENTION,
                 uptime_window: timedelta = UPTIME_WINDOW, reload_every: float = 1.0,
                 prune_every: float = 600.0, fast_interval: float = FAST_INTERVAL,
                 fast_duration: float = FAST_DURATION, lease_seconds: float = LEASE_SECONDS,
                 lease_renew_every: float = LEASE_RENEW_EVERY, **engine_options):
        self.service, self.incident_id = service, incident_id
        self.clock = service.clock  # one clock: results, transitions, leases and pruning use the service's
        self.store = ProbeStore(service.db)
        self.probes_path = probes_path
        self.on_entry, self.on_problem = on_entry, on_problem
        self.retention, self.reload_every, self.prune_every = retention, reload_every, prune_every
        self.fast_interval, self.fast_duration = fast_interval, fast_duration
        self.uptimes = _UptimeWindow(uptime_window)
        self.engine = ProbeEngine(on_results=self._store_results, on_transition=self._on_transition,
                                  checker=checker, clock=self.clock, **engine_options)
        self.file_specs: list[ProbeSpec] = []
        self.attached_names: set[str] = set()
        self._file_stamp: tuple[float, int] | None = None
        self._maintenance: asyncio.Task | None = None
        self._sync_lock = asyncio.Lock()
        self._attached_problem = False
        self.lease = ProbeLease(service.db, incident_id, duration=lease_seconds, clock=self.clock)
        self.lease_renew_every = lease_renew_every
        self.writing = False  # True while this monitor holds the lease
        self._lease_task: asyncio.Task | None = None
        self._unwritten: dict[str, Transition] = {}  # the latest change per probe seen without the lease

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the probe file and the incident's probes, then start checking."""
        self._reload_file(initial=True)
        await self.sync()
        await self._claim_lease()
        await self.engine.start()
        self._maintenance = asyncio.create_task(self._maintain(), name="probe monitor")
        self._lease_task = asyncio.create_task(self._keep_lease(), name="probe lease")

    async def stop(self) -> None:
        """Stop checking, write the last results (if holding the lease), then release the lease."""
        for task in (self._maintenance, self._lease_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._maintenance = self._lease_task = None
        await self.engine.stop()
        if self.writing:
            self.writing = False
            try:
                await self.lease.release()
            except Exception as error:  # e.g. the database is already closed: it runs out by itself
                log.warning("probe lease not released: %s", error)

    @property
    def running(self) -> bool:
        return self.engine.running

    # -- configuration -----------------------------------------------------------------------
    def _problem(self, text: str) -> None:
        log.warning("%s", text)
        if self.on_problem is not None:
            self.on_problem(text)

    def _reload_file(self, *, initial: bool = False) -> bool:
        """Read the probe file if it changed; a broken file keeps the last good probes."""
        path = self.probes_path
        if path is None:
            return False
        try:
            info = path.stat()
            stamp = (info.st_mtime, info.st_size)
        except OSError as error:
            if initial or self._file_stamp is not None:
                self._problem(f"{path}: cannot read probe file: {error.strerror}; "
                              + ("running without it" if initial else "keeping the last good probes"))
            self._file_stamp = None
            return False
        if stamp == self._file_stamp:
            return False
        self._file_stamp = stamp
        try:
            self.file_specs = load_probe_file(path)
        except ProbeConfigError as error:
            kept = "running without it" if initial else "keeping the last good probes"
            self._problem(f"{error} ({kept})")
            return False
        return True

    async def sync(self) -> None:
        """Apply the probe file and the incident's attached probes (an attached one wins a name)."""
        async with self._sync_lock:
            problems: list[str] = []
            try:
                attached = await self.store.attached(self.incident_id)
            except WarroomError as error:
                problems.append(f"the incident's probes cannot be used: {error}")
                attached = []
            attached_specs = self._validated(attached, problems)
            if problems and not self._attached_problem:  # said once until the problem goes away
                for problem in problems:
                    self._problem(problem)
            self._attached_problem = bool(problems)
            specs = {spec.name: spec for spec in self.file_specs}
            specs.update({spec.name: spec for spec in attached_specs})
            known = {spec.name for spec in self.engine.specs()}
            self.engine.replace_all(specs.values())
            self.attached_names = {spec.name for spec in attached_specs}
            for probe in attached:
                if probe.paused and probe.name in self.attached_names and probe.name not in known:
                    self.engine.pause(probe.name)
            self.uptimes.forget(set(specs))

    def _validated(self, attached, problems: list[str]) -> list[ProbeSpec]:
        """The attached probes whose stored configuration is still valid; the others go to `problems`."""
        specs = []
        for probe in attached:
            try:
                specs.append(spec_from_dict(probe.config, f"incident {self.incident_id}"))
            except ProbeConfigError as error:
                problems.append(f"the incident's probe {probe.name!r} cannot be used: {error}")
        return specs

    async def _maintain(self) -> None:
        waited = self.prune_every  # prune soon after start, then every prune_every seconds
        while True:
            await asyncio.sleep(self.reload_every)
            waited += self.reload_every
            try:
                self._reload_file()
                await self.sync()  # also picks up probes attached meanwhile (/probe add, `warroom log`)
                if waited >= self.prune_every and self.writing:
                    waited = 0.0
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception:  # the monitor must outlive a bad moment of the disk
                log.exception("probe monitor maintenance failed")

    # -- the lease -------------------------------------------------------------------------------
    async def _claim_lease(self) -> None:
        """Take or renew the lease; on taking it over, record what the timeline missed."""
        if self.service.read_only:  # a read-only session watches; a writable one records
            self.writing = False
            return
        try:
            holding = await self.lease.acquire()
        except WarroomError as error:  # a database that cannot be written cannot take results either
            log.warning("probe lease: %s", error)
            holding = False
        self.writing = holding
        if holding and self._unwritten:  # changes seen before taking over, or whose entry failed to save
            await self._catch_up()

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.lease_renew_every)
            try:
                await self._claim_lease()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("probe lease renewal failed")

    async def _catch_up(self) -> None:
        """Write each change seen while another screen held the lease, unless the timeline has it."""
        missed, self._unwritten = self._unwritten, {}
        now_in = {status.name: status.state for status in self.engine.statuses()}
        for name, transition in missed.items():
            if now_in.get(name) is not transition.new:
                continue  # removed, or changed again since (that change is written as it happens)
            try:
                recorded = await self.store.last_logged_state(self.incident_id, name)
                if recorded == transition.new.value:
                    continue
                if recorded is None and transition.new.healthy:
                    continue  # never reported unhealthy: a healthy probe is not news
                await self._log_transition(transition)
            except WarroomError as error:
                self._unwritten.setdefault(name, transition)  # try again at the next renewal
                log.warning("probe entry for %s not saved yet: %s", name, error)

    async def prune(self) -> int:
        """Delete stored results older than the retention."""
        return await self.store.prune(self.clock() - self.retention)

    # -- results and transitions -------------------------------------------------------------
    async def _store_results(self, batch: list[ProbeResult]) -> None:
        self.uptimes.add(batch)
        if self.writing:
            await self.store.insert_results(batch, self.incident_id)

    async def _on_transition(self, transition: Transition) -> Entry | None:
        if not self.writing:
            self._unwritten[transition.probe] = transition
            return None
        try:
            return await self._log_transition(transition)
        except WarroomError:  # not saved (say the file stayed locked): the next renewal writes it
            self._unwritten[transition.probe] = transition
            raise

    async def _log_transition(self, transition: Transition) -> Entry | None:
        if transition.old is ProbeState.UNKNOWN and transition.new.healthy:
            return None  # the first good check is not news
        incident = await self.service.incident(self.incident_id)
        text = transition.describe() + detected_offer(transition, incident.milestones)
        data = {"transition": transition.to_dict()}
        entry = await self.service.record_system(self.incident_id, text, data, kind=EntryKind.PROBE,
                                                 author="probe")
        if self.on_entry is not None:
            self.on_entry(entry)
        return entry

    # -- commands ----------------------------------------------------------------------------
    async def check_now(self) -> list[ProbeResult]:
        """Check every unpaused probe at once."""
        return await self.engine.check_all_now()

    def toggle_fast(self) -> float | None:
        """Fast mode on (returns its duration) or off (returns None)."""
        if self.engine.fast_mode_remaining() is not None:
            self.engine.end_fast_mode()
            return None
        self.engine.fast_mode(self.fast_interval, self.fast_duration)
        return self.fast_duration

    def fast_remaining(self) -> float | None:
        return self.engine.fast_mode_remaining() if self.engine.running else None

    async def toggle_pause(self, name: str) -> bool:
        """Pause or resume a probe; returns True when it is now paused. Attached probes remember it."""
        status = next((s for s in self.engine.statuses() if s.name == name), None)
        if status is None:
            raise WarroomError(f"no probe named {name!r}")
        paused = not status.paused
        if paused:
            self.engine.pause(name)
        else:
            self.engine.resume(name)
        if name in self.attached_names:
            await self.store.set_paused(self.incident_id, name, paused)
        return paused

    # -- reading -----------------------------------------------------------------------------
    def views(self, now: datetime | None = None) -> list[ProbeView]:
        """Every probe, worst state first."""
        now = now or self.clock()
        return [ProbeView(status, self.uptimes.get(status.name, now), status.name in self.attached_names)
                for status in self.engine.statuses()]

    def view(self, name: str) -> ProbeView | None:
        return next((view for view in self.views() if view.name == name), None)

    async def recent_results(self, name: str, limit: int = 20) -> list[StoredResult]:
        return await self.store.recent(name, limit, self.incident_id)
