"""Running a drill (domain.drill): the practice incident, its fake service, its script and its outbox.

- `DrillTarget` is the local fake service the drill's probes check (127.0.0.1, one path a probe);
  a probe step sets what it answers: up (200), down (503) or slow (200, late enough to degrade).
- `start_drill` declares the practice incident (its title says DRILL), attaches the probes and
  logs the briefing.
- `DrillRun` plays the steps that are due by the service's clock (the one injected clock, a
  domain.playback.PlaybackClock: real time or compressed), through the same service as everyone:
  alerts through the alert intake, lines typed by other people through the entry-bar grammar.
- `DrillReach` is Reach for a drill: updates and pages go to the drill's outbox (a folder), never
  to a real target, unless `live`; then they go out, marked DRILL.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from aiohttp import web

from warroom.domain.alerts import Alert
from warroom.domain.drill import DRILL_MARK, DrillStep, Scenario, drill_title
from warroom.domain.drill_report import DrillReport, drill_report
from warroom.domain.errors import WarroomError
from warroom.domain.models import Entry, Incident
from warroom.probes.config import ProbeSpec, make_http_probe
from warroom.service.alerts import AlertIntake
from warroom.service.config import Config, Pager
from warroom.service.delivery import SendResult, UpdateMessage
from warroom.service.files import private_folder, write_private
from warroom.service.incidents import IncidentService
from warroom.service.paging import PageRequest
from warroom.service.reach import Reach

SLOW_SECONDS = 0.5  # how late a slow probe's answer comes (its probe degrades over 250 ms)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class DrillTarget:
    """The drill's fake service: GET /probe/N answers as the script last said for probe N."""

    def __init__(self, names: list[str] = (), host: str = "127.0.0.1", port: int = 0, states: dict | None = None):
        self.host, self.requested_port, self.port = host, port, 0
        self.names = list(names)
        self.states: dict[str, str] = dict(states or {})  # probe name -> up, down, slow
        self.hits: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._answering: set[asyncio.Task] = set()  # requests in progress (a slow one sleeps)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base}/probe/{self.names.index(name)}"

    def set_state(self, name: str, state: str) -> None:
        self.states[name] = state  # read by the service's own loop: one assignment, no lock needed

    async def _answer(self, request: web.Request) -> web.Response:
        try:
            name = self.names[int(request.match_info["number"])]
        except (ValueError, IndexError):
            raise web.HTTPNotFound() from None
        self.hits[name] = self.hits.get(name, 0) + 1
        state = self.states.get(name, "up")
        if state == "down":
            return web.json_response({"status": "DOWN", "drill": True}, status=503)
        if state == "slow":
            task = asyncio.current_task()
            self._answering.add(task)
            try:
                await asyncio.sleep(SLOW_SECONDS)
            finally:
                self._answering.discard(task)
        return web.json_response({"status": "UP", "drill": True})

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/probe/{number}", self._answer)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.25)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.requested_port).start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def close(self) -> None:
        """Stop at once: a slow answer in progress is cut short (nothing is left pending)."""
        for task in list(self._answering):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def drill_probes(scenario: Scenario, target: DrillTarget) -> list[ProbeSpec]:
    """The scenario's probes pointed at the running target: the script says when they fail, so one
    failed check is DOWN and one good check is UP again."""
    return [make_http_probe(probe.name, target.url(probe.name), group=probe.group, source=scenario.source,
                            interval=probe.interval, conditions=["status == 200"], degraded_over=SLOW_SECONDS * 500,
                            failure_threshold=1, success_threshold=1)
            for probe in scenario.file.probe]


async def start_drill(service: IncidentService, scenario: Scenario, target: DrillTarget | None) -> Incident:
    """Declare the practice incident now, attach the drill's probes, log the briefing."""
    spec = scenario.spec
    incident = await service.declare(scenario.title, spec.severity, author="drill", policy_id=scenario.policy.id,
                                     commander=spec.commander, services=tuple(spec.services), impact=spec.impact)
    if target is not None:
        for probe in drill_probes(scenario, target):
            await service.attach_probe(incident.id, probe)
    briefing = spec.briefing.strip() or f"Practice scenario: {spec.name}"
    await service.record_system(incident.id, f"{DRILL_MARK} started ({scenario.source}): {briefing}",
                                {"drill": {"name": spec.name, "source": scenario.source}}, author="drill")
    return incident


@dataclass(frozen=True, slots=True)
class DrillEvent:
    """One step that was played: what it did, the probe it moved (the screen checks it at once)."""

    index: int
    action: str
    text: str
    probe: str = ""
    entries: tuple[Entry, ...] = ()


class DrillRun:
    """Plays a scenario's steps on one incident as the service's clock reaches them."""

    def __init__(self, service: IncidentService, scenario: Scenario, incident_id: str, started_at: datetime, *,
                 target: DrillTarget | None = None, reach: Reach | None = None):
        self.service, self.scenario, self.incident_id = service, scenario, incident_id
        self.started_at, self.target, self.reach = started_at, target, reach
        self.pending = deque(scenario.events())

    @property
    def ends_at(self) -> datetime:
        return self.started_at + self.scenario.length

    @property
    def finished(self) -> bool:
        return self.service.now() >= self.ends_at

    async def run_due(self) -> list[DrillEvent]:
        """Play every step due by now, in order (one at a time: each sees the one before)."""
        played = []
        while self.pending and self.started_at + self.pending[0][0] <= self.service.now():
            _, index, step = self.pending.popleft()
            played.append(await self._play(index, step))
        return played

    async def _play(self, index: int, step: DrillStep) -> DrillEvent:
        if step.probe is not None:
            if self.target is not None:
                self.target.set_state(step.probe, step.state)
            return DrillEvent(index, "probe", f"probe {step.probe} made {step.state}", probe=step.probe)
        if step.alert is not None:
            outcomes = await AlertIntake(self.service, Config()).take([self._alert(step)], declare=False)
            entries = tuple(e for outcome in outcomes for e in outcome.entries)
            return DrillEvent(index, "alert", f"alert {step.alert.status}: {step.alert.title}", entries=entries)
        try:
            entries = await self.service.execute(self.incident_id, step.note, step.by)
        except WarroomError as error:  # the script met a record it did not foresee: say so, go on
            entry = await self.service.record_system(
                self.incident_id, f"{DRILL_MARK} step {index + 1} by {step.by} was refused: {error}", author="drill")
            return DrillEvent(index, "note", f"step {index + 1} refused: {error}", entries=(entry,))
        if self.reach is not None:
            await self.reach.follow_up(self.incident_id, entries)
        return DrillEvent(index, "note", f"{step.by}: {step.note}", entries=tuple(entries))

    def _alert(self, step: DrillStep) -> Alert:
        alert, now = step.alert, self.service.now()
        services = tuple(alert.services or self.scenario.spec.services)
        fingerprint = hashlib.sha256(f"{self.scenario.spec.name}\x1f{alert.title}".encode()).hexdigest()[:16]
        return Alert(source="drill", fingerprint=fingerprint, status=alert.status, title=alert.title,
                     description=alert.description, severity=alert.severity, services=services,
                     labels={"alertname": alert.title, "drill": "true"}, starts_at=now,
                     ends_at=now if alert.status == "resolved" else None)

    async def report(self, *, speed: float, delivery: str) -> DrillReport:
        """The score now (at the end, or when the drill is left early)."""
        ended = min(self.service.now(), self.ends_at)
        record = await self.service.record(self.incident_id)
        return drill_report(self.scenario, record, self.started_at, ended, speed, delivery)


class DrillReach(Reach):
    """Reach for a drill: the updates folder and the outbox are both `outbox`; every other target
    and every pager gets a file there instead, unless `live` (then they go out, marked DRILL)."""

    def __init__(self, service: IncidentService, config: Config, *, outbox: Path, live: bool = False, **options):
        super().__init__(service, config, updates_dir=outbox, **options)
        self.outbox, self.live = Path(outbox), live

    def describe(self) -> str:
        """Where updates and pages go, in one sentence (the screen and the report say it)."""
        if self.live:
            return "--live-delivery: updates and pages went to the real targets, each marked DRILL"
        held = len(list(self.outbox.glob("*"))) if self.outbox.is_dir() else 0
        return f"nothing reached a real target; {held} file(s) in the drill outbox {self.outbox}"

    async def _send_to(self, row, message: UpdateMessage) -> SendResult:
        marked = replace(message, title=drill_title(message.title),
                         text=message.text if message.text.startswith(f"[{DRILL_MARK}]") else f"[{DRILL_MARK}] {message.text}")
        if self.live or row.kind == "file":
            return await super()._send_to(row, marked)
        body = [f"{DRILL_MARK}: not delivered. In a real incident this update would have gone to "
                f"{row.target} ({row.kind}).", marked.headline, marked.subline, "", marked.text]
        return await self._hold(f"update-{row.update_number}-{row.target}", body, row.target)

    async def _send_page(self, pager: Pager, request: PageRequest) -> SendResult:
        marked = replace(request, title=drill_title(request.title), reason=f"{DRILL_MARK}: {request.reason}")
        if self.live:
            return await super()._send_page(pager, marked)
        body = [f"{DRILL_MARK}: not paged. In a real incident {pager.name} ({pager.kind}) would have been paged.",
                f"{marked.action} {marked.incident_id} [{marked.severity}] {marked.title}", marked.reason]
        return await self._hold(f"page-{marked.action}-{pager.name}", body, pager.name)

    async def _hold(self, name: str, lines: list[str], target: str) -> SendResult:
        from warroom.domain.text import visible

        stamp = self.service.now().strftime("%Y%m%dT%H%M%S")
        path = self.outbox / f"{stamp}-{_SAFE.sub('_', name)[:80]}.txt"
        try:
            await asyncio.to_thread(private_folder, self.outbox)
            await asyncio.to_thread(write_private, path, "\n".join(visible(line) for line in lines) + "\n")
        except OSError as error:
            return SendResult(False, 1, f"drill outbox: {error.strerror or error}")
        return SendResult(True, 1, detail=f"{DRILL_MARK}: to the drill outbox ({path.name}), not to {target}")


async def open_drill(path: Path, policies, clock, config: Config, scenario: Scenario, target: DrillTarget | None,
                     outbox: Path, live: bool) -> Incident:
    """Create the drill's database at `path` and start the practice incident in it (paging, if its
    severity pages, through the drill's reach: to the outbox)."""
    service = await IncidentService.open(path, policies, clock, config=config)
    try:
        incident = await start_drill(service, scenario, target)
        await DrillReach(service, config, outbox=outbox, live=live).after_declare(incident)
        return incident
    finally:
        await service.close()


async def final_report(path: Path, policies, clock, config: Config, scenario: Scenario, incident: Incident,
                       outbox: Path, live: bool, report_path: Path | None = None) -> str:
    """The drill report (plain text) of a drill left before its end, scored now; its Markdown is
    kept at `report_path`."""
    from warroom.domain.drill_report import to_markdown, to_text

    service = await IncidentService.open(path, policies, clock, config=config)
    try:
        run = DrillRun(service, scenario, incident.id, incident.created_at)
        reach = DrillReach(service, config, outbox=outbox, live=live)
        report = await run.report(speed=getattr(clock, "speed", 1.0), delivery=reach.describe())
    finally:
        await service.close()
    if report_path is not None:
        try:
            write_private(report_path, to_markdown(report))
        except OSError:
            pass  # printed all the same
    return to_text(report)


def shipped_drills() -> dict[str, Path]:
    """The drills that ship with warroom (sample_data/drills), by name: {'api-outage': path, ...}."""
    from warroom.service.demo import sample_data_dir

    return {path.stem: path for path in sorted((sample_data_dir() / "drills").glob("*.toml"))}


def drill_path(name: str) -> Path:
    """FILE as given when it exists, else the shipped drill of that name (with or without .toml)."""
    given = Path(name)
    if given.exists():
        return given
    return shipped_drills().get(given.name.removesuffix(".toml"), given) if given.parent == Path(".") else given
