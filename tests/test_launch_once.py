"""`warroom open` opens the record once: the service that checked the file and found the incident
before the screen took the terminal is the one the war room runs on (it was opened, checked with
PRAGMA quick_check, and closed, then opened and checked again by the app)."""

from __future__ import annotations

import pytest

from conftest import NOW, FrozenClock
from test_ui_support import POLICIES, small_database
from warroom.domain.errors import NotFoundError
from warroom.service import IncidentService
from warroom.ui import launch as launching
from warroom.ui.session import Session


class _Context:
    """What launch() asks of the CLI's context."""

    def __init__(self, path):
        self.path = path

    def policies(self):
        return POLICIES

    async def open_service(self):
        return await IncidentService.open(self.path, POLICIES, FrozenClock(NOW))


class _App:
    """Stands for WarRoomApp: it takes its service from its session, as WarRoomApp.on_mount does."""

    def __init__(self):
        self.session, self.return_code, self.gone_reason = Session(), 0, None
        self.service = None

    async def run_async(self):
        self.service = await self.session.open_service(self)
        self.incident = await self.service.incident(self.incident_id)
        await self.service.close()


@pytest.fixture
def opened(monkeypatch):
    opens = []
    real = IncidentService.open.__func__

    async def counting(cls, *args, **kwargs):
        opens.append(args[0])
        return await real(cls, *args, **kwargs)

    monkeypatch.setattr(IncidentService, "open", classmethod(counting))
    monkeypatch.setattr(launching, "arm_exit_deadline", lambda seconds, code: None)  # this is pytest's process
    return opens


def _built(monkeypatch, app: _App) -> None:
    def build_app(context, incident_id=None, session=None):
        app.incident_id = incident_id
        return app

    monkeypatch.setattr(launching, "build_app", build_app)


async def test_warroom_open_opens_the_record_once_and_runs_on_it(tmp_path, monkeypatch, opened):
    path, incident_id = await small_database(tmp_path)
    app = _App()
    _built(monkeypatch, app)
    opened.clear()
    await launching._open_and_run(_Context(path), incident_id, None, [])
    assert opened == [path]  # the check's service, handed over
    assert app.service is not None and app.incident.id == incident_id


async def test_an_unknown_incident_is_reported_before_the_app_runs(tmp_path, monkeypatch, opened):
    path, _ = await small_database(tmp_path)
    app = _App()
    _built(monkeypatch, app)
    started: list = []
    with pytest.raises(NotFoundError):
        await launching._open_and_run(_Context(path), "INC-20991231-001", None, started)
    assert started == [] and app.service is None



def test_the_garbage_collector_is_off_while_the_war_room_starts_and_on_once_drawn(tmp_path, monkeypatch, opened):
    """Starting makes objects that all live on; scanning them cost about 70 ms of the first frame."""
    import asyncio
    import gc

    path, incident_id = asyncio.run(small_database(tmp_path))
    seen = []

    class DrawingApp(_App):
        async def run_async(self):
            await super().run_async()
            seen.append(gc.isenabled())
            self.drawn()  # what WarRoomApp.drawn does, as the war room's first frame calls it
            seen.append(gc.isenabled())

        def drawn(self):
            callback, self.on_drawn = self.on_drawn, None
            callback()

    _built(monkeypatch, DrawingApp())
    assert gc.isenabled()
    launching.launch(_Context(path), incident_id)
    assert seen == [False, True] and gc.isenabled()


def test_the_garbage_collector_is_on_again_when_the_war_room_cannot_start(tmp_path, monkeypatch, opened):
    import asyncio
    import gc

    path, _ = asyncio.run(small_database(tmp_path))
    _built(monkeypatch, _App())
    with pytest.raises(NotFoundError):
        launching.launch(_Context(path), "INC-20991231-001")
    assert gc.isenabled()


@pytest.mark.sqlite_only
def test_warroom_open_begins_the_files_look_before_the_war_room_loads(tmp_path, monkeypatch, run_cli, cli_env):
    """The look (quick_check reads the whole file) runs in a thread while the CLI, the policies and
    the UI load; the war room's open takes its outcome (warroom.store.first_look)."""
    import asyncio

    import warroom.store.first_look as first_look

    path, incident_id = asyncio.run(small_database(tmp_path))
    begun = []
    monkeypatch.setattr(launching, "launch", lambda context, incident_id=None: begun.append(
        first_look.begun(context.database())))
    done = run_cli("--db", str(path), "open", incident_id, env={**cli_env, "WARROOM_DB": ""})
    assert done.returncode == 0, done.stderr
    assert begun == [True] and first_look._AHEAD == {}  # begun, then dropped as the command ended


def test_the_dialogs_and_the_help_are_imported_when_first_opened_not_before_the_first_frame():
    """What `warroom open` imports before its first frame (the modules of its screens, the probe
    monitor): not the dialogs, the help or the procedures' screens, which open on a key."""
    import subprocess
    import sys

    code = ("import sys, warroom.cli, warroom.cli_serving, warroom.ui.launch, warroom.ui.app, "
            "warroom.ui.screens.war_room, warroom.ui.screens.war_room_first_look, warroom.service.monitor\n"
            "later = ('warroom.ui.screens.dialogs', 'warroom.ui.screens.help', 'warroom.ui.screens.composer', "
            "'warroom.ui.screens.procedures', 'warroom.ui.screens.actions', 'warroom.ui.screens.escalation', "
            "'warroom.ui.screens.picker', 'warroom.domain.report', 'warroom.domain.stats', 'httpx', 'aiohttp')\n"
            "print(sorted(m for m in later if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
