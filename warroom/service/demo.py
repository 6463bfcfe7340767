"""The demo war room: a fresh database seeded from sample_data/demo_incident.toml."""

from __future__ import annotations

import tempfile
import tomllib
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from warroom.service.config import user_policy_dir
from warroom.domain.clock import UTC, system_clock
from warroom.domain.policy import PolicyBook
from warroom.service import IncidentService


def sample_data_dir() -> Path:
    """sample_data/ ships inside the wheel as warroom/sample_data; in a checkout it sits beside warroom/."""
    packaged = Path(str(resources.files("warroom"))) / "sample_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sample_data"


class _ScriptClock:
    """A clock the seeder moves through the script, so every entry gets its scripted time."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


async def seed_demo(service: IncidentService, now: datetime, script: dict) -> str:
    """Play the scripted incident into `service` as if it happened before `now`; returns its id."""
    clock = _ScriptClock(now)
    real_clock, service.clock = service.clock, clock
    try:
        spec = script["incident"]
        clock.moment = now - timedelta(minutes=spec["declared_at"])
        incident = await service.declare(
            spec["title"], spec["severity"], author=spec["declared_by"], policy_id=spec.get("policy"),
            commander=spec.get("commander"), services=tuple(spec.get("services", ())), impact=spec.get("impact", ""),
        )
        for step in script["step"]:
            clock.moment = now - timedelta(minutes=step["at"])
            await _play(service, incident.id, step)
        return incident.id
    finally:
        service.clock = real_clock


async def _play(service: IncidentService, incident_id: str, step: dict) -> None:
    """One scripted step: a line typed in the entry bar, a ticked checklist item, an attached
    playbook or a duty marked done."""
    if "duty" in step:
        await service.mark_duty(incident_id, step["duty"]["key"], True, step["by"], step["duty"].get("note", ""))
    elif "tick" in step:
        tick = step["tick"]
        await service.tick_checklist(incident_id, tick["checklist"], tick["item"], True, step["by"])
    elif "attach" in step:
        await service.attach_playbook(incident_id, step["attach"], step["by"])
    else:
        await service.execute(incident_id, step["text"], step["by"])


async def seed_demo_database(path: str | None = None, now: datetime | None = None) -> tuple[Path, str]:
    """Create a new demo database (in a fresh temporary directory unless `path` is given)."""
    target = Path(path) if path else Path(tempfile.mkdtemp(prefix="warroom-demo-")) / "demo.db"
    script = tomllib.loads((sample_data_dir() / "demo_incident.toml").read_text(encoding="utf-8"))
    service = await IncidentService.open(target, PolicyBook.load(user_policy_dir()))
    try:
        incident_id = await seed_demo(service, (now or system_clock()).astimezone(UTC), script)
    finally:
        await service.close()
    return target, incident_id


class DemoServiceThread:
    """The demo health service (warroom.probes.demo_service) on 127.0.0.1, on its own event loop in
    a daemon thread, for as long as the `with` block runs (the war room's lifetime). Leaving the
    block stops it within a second (requests in progress get demo_service.STOP_GRACE). `factory`
    makes another service with the same start()/close() (a drill's, warroom.service.drill)."""

    def __init__(self, factory=None, **options):
        self.factory, self.options = factory, options
        self.service = None
        self._loop = None
        self._thread = None

    def __enter__(self):
        import asyncio
        import threading

        from warroom.probes.demo_service import DemoService

        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                self.service = (self.factory or DemoService)(**self.options)
                loop.run_until_complete(self.service.start())
            except BaseException as error:  # reported to the caller below
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.service.close())
                loop.close()

        self._thread = threading.Thread(target=serve, name="warroom-demo-service", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self.service

    def __exit__(self, *exc) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(1.0)


async def attach_demo_probes(path: Path, incident_id: str, service) -> int:
    """Attach sample_data/probes.toml, pointed at the running demo service, to the demo incident."""
    from warroom.probes.demo_service import demo_probes

    incident_service = await IncidentService.open(path, PolicyBook.load(user_policy_dir()))
    try:
        specs = demo_probes(service)
        for spec in specs:
            await incident_service.attach_probe(incident_id, spec)
        return len(specs)
    finally:
        await incident_service.close()
