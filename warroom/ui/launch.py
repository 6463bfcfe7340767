"""Starting the UI from the command line: resolve paths, check the database, remember the theme,
and make sure the process ends: once the app has left, nothing may keep it alive for long."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path
from typing import Callable

from warroom.domain.errors import WarroomError
from warroom.domain.tomlspot import load_toml, read_text_file
from warroom.service.config import config_dir, resolve_updates_dir, state_path
from warroom.service.drafts import DraftStore, drafts_root

DEADLINE_AFTER_HANGUP = 1.5  # seconds from a hangup (or SIGTERM) to the end of the process, at most
DEADLINE_AFTER_EXIT = 5.0  # seconds from the app's end to the end of the process, at most
_last_resort: list[Callable[[], None]] = []


class LeftByItself(SystemExit):
    """The app left because its terminal went away or it was told to stop (SIGHUP, SIGTERM);
    everything is saved and closed, so warroom.cli.main ends the process at once."""


def on_forced_exit(cleanup: Callable[[], None]) -> None:
    """Run `cleanup` too if the exit deadline has to end the process (the demo removes its folder)."""
    _last_resort.append(cleanup)


def arm_exit_deadline(seconds: float, code: int) -> None:
    """End the process with `code` after `seconds` if it is still running: a stuck thread (a DNS
    lookup, a worker, a join) must never keep a war room whose terminal is gone alive."""

    def expire() -> None:
        for cleanup in _last_resort:
            try:
                cleanup()
            except Exception:  # noqa: S110 - the process ends now whatever happens
                pass
        os._exit(code)

    timer = threading.Timer(seconds, expire)
    timer.name, timer.daemon = "warroom-exit-deadline", True
    timer.start()


def _remembered_theme() -> str | None:
    try:
        theme = load_toml(read_text_file(state_path())).get("theme")
        return theme if isinstance(theme, str) else None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None


def remember_theme(name: str) -> None:
    """Store the last chosen theme; failing to is not worth bothering anyone about."""
    try:
        path = state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'theme = "{name}"\n', encoding="utf-8")
    except OSError:
        pass


async def _check(context, incident_id: str | None) -> None:
    """Open the database through the service (refusing a file that is not ours) and find the incident."""
    await (await _checked(context, incident_id)).close()


async def _checked(context, incident_id: str | None):
    """The service on the context's database, open, with the incident found (or an error raised)."""
    service = await context.open_service()
    try:
        if incident_id:
            await service.incident(incident_id)
    except BaseException:
        await service.close()
        raise
    return service


def probes_path(context) -> Path | None:
    """--probes, the config's `probes`, or CONFIG_DIR/probes.toml (see warroom.service.probe_sources.probe_file)."""
    from warroom.service.probe_sources import probe_file

    return probe_file(getattr(context, "probes_option", None), context.config.probes, config_dir())


def build_app(context, incident_id: str | None = None, session=None):
    """The app for `context` (a cli._Context): theme from --theme, the config file, or the last one
    picked; `session` a replay's or a drill's (warroom.ui.session)."""
    from warroom.ui.app import WarRoomApp

    theme = context.theme_option or context.config.theme or _remembered_theme()
    read_only = getattr(context, "read_only", False)
    app = WarRoomApp(
        context.database(), context.policies(), context.user(), incident_id=incident_id, theme=theme,
        on_theme_change=None if read_only else remember_theme, extra_theme_dirs=[config_dir() / "themes"],
        config=context.config, default_policy=context.config.default_policy,
        updates_dir=resolve_updates_dir(context.config, context.database()), read_only=read_only,
        drafts=getattr(context, "drafts", None) or DraftStore(drafts_root(), context.database()), session=session,
        quiet=getattr(context, "quiet", False), own_process=True,
    )
    app.probes_path = probes_path(context) if getattr(session, "probe_file", True) else None
    return app


def launch(context, incident_id: str | None = None, session=None) -> None:
    """Open the war room (errors in the database or the id are reported before the screen opens).

    The live war room is opened once: the record is opened and the incident found on the event
    loop the app then runs on, and the app takes that service over. The file's first look (a
    thread: is it ours, is it sound) runs while the UI's modules are imported. A replay or a drill
    opens the record its own way (its session's service), after the same check.

    The garbage collector is off until the first screen is drawn: starting makes hundreds of
    thousands of objects that all live on (modules, styles, widgets), and the collections that
    scanned them took about 70 ms of the first frame (200 young ones, 18 middle, one full)."""
    context.policies()  # a broken policy file is reported before the screen opens
    started: list = []
    gc.disable()  # no collections while starting: the app turns them on again once drawn (see WarRoomApp.drawn)
    try:
        asyncio.run(_open_and_run(context, incident_id, session, started))
    finally:
        gc.enable()
        if started:
            arm_exit_deadline(DEADLINE_AFTER_EXIT, started[0].return_code or 0)
    app = started[0]
    if app.gone_reason is not None:
        for signum in (signal.SIGHUP, signal.SIGTERM):  # the cleanup that follows is short and bounded
            signal.signal(signum, signal.SIG_IGN)
        try:
            kept = "; unsent text is kept as a draft" if app.drafts is not None and app.drafts.lasting else ""
            print(f"warroom: left ({app.gone_reason}){kept}", file=sys.stderr)
        except (OSError, ValueError):  # the terminal is gone
            pass
        raise LeftByItself(app.return_code)
    if app.return_code not in (0, None):
        raise WarroomError(f"warroom stopped with code {app.return_code}")


async def _open_and_run(context, incident_id: str | None, session, started: list) -> None:
    """Check the record (`_checked`), build the app meanwhile, run it (it is put in `started`)."""
    if session is not None:
        await _check(context, incident_id)
        app = build_app(context, incident_id, session)
    else:
        opening = asyncio.ensure_future(_checked(context, incident_id))
        await asyncio.sleep(0)  # the look at the file starts (in a thread) before the imports below
        try:
            app = build_app(context, incident_id)
        except BaseException:
            with contextlib.suppress(Exception):  # the app's own error is the one to report
                await (await opening).close()
            raise
        app.session.hand_over(await opening)
    app.on_leaving = lambda code: arm_exit_deadline(DEADLINE_AFTER_HANGUP, code)
    app.on_drawn = gc.enable
    started.append(app)
    await app.run_async()


def serve(context, people_file: Path, incident_id: str | None = None, **settings) -> None:
    """`warroom serve`: check the database, the incident and the people file, then serve the war
    room to browsers (see warroom.ui.web.server); each tab runs `warroom --as=NAME` of its person."""
    import sys

    from warroom.service.access import load_people
    from warroom.ui.web.server import ServeOptions, run

    context.policies()
    asyncio.run(_check(context, incident_id))  # creates or migrates the file before any session reads it
    people = load_people(people_file)
    base = [sys.executable, "-m", "warroom", f"--db={context.database()}"]
    if context.theme_option:
        base.append(f"--theme={context.theme_option}")
    if getattr(context, "probes_option", None):
        base.append(f"--probes={context.probes_option}")

    def app_argv(name: str, read_only: bool) -> list[str]:
        return [*base, f"--as={name}", *(["--read-only"] if read_only else []),
                *(["open", incident_id] if incident_id else [])]

    run(ServeOptions(people=people, app_argv=app_argv, **settings))


def launch_demo(context, path: Path, incident_id: str, *, temporary: bool) -> None:
    """The demo war room with its health service on 127.0.0.1; a `temporary` demo database's
    folder (and the drafts kept in it) is removed when the war room closes, however it closes."""
    import shutil

    from warroom.service.demo import DemoServiceThread, attach_demo_probes

    folder = path.parent if temporary else None
    remove = (lambda: shutil.rmtree(folder, ignore_errors=True)) if folder else (lambda: None)
    on_forced_exit(remove)
    if folder:
        context.drafts = DraftStore(folder / "drafts", path, lasting=False)
    try:
        with DemoServiceThread() as service:  # healthy, slow, flapping and failing endpoints
            asyncio.run(attach_demo_probes(path, incident_id, service))
            launch(context, incident_id)
    finally:
        remove()


def launch_replay(context, incident_id: str, speed: float, start: str | None = None) -> None:
    """`warroom replay`: the war room of a past incident, read-only, its clock moving through the
    record from its first moment (or `start`, see domain.replay.replay_start) at `speed`."""
    from warroom.domain.playback import PlaybackClock
    from warroom.domain.replay import replay_start
    from warroom.ui.screens.replay import ReplaySession

    context.read_only = True  # nothing is written, not even a migration
    context.policies()
    first, last, points = asyncio.run(_replay_span(context, incident_id))
    try:
        begin = replay_start(start, first, points) if start else first
    except ValueError as error:
        raise WarroomError(f"--from: {error}") from None
    if not first <= begin <= last:
        raise WarroomError(f"--from: {begin:%Y-%m-%d %H:%M:%S} UTC is outside the record "
                           f"({first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC)")
    launch(context, incident_id, ReplaySession(PlaybackClock(begin, speed, end=last), first, last))


async def _replay_span(context, incident_id: str):
    from warroom.domain.clock import system_clock
    from warroom.service.replay import ReplayService

    service = await ReplayService.open(context.database(), context.policies(), system_clock,
                                       context.config.default_policy, context.config)
    try:
        first, last = await service.replay_span(incident_id)
        return first, last, await service.replay_points(incident_id)
    finally:
        await service.close()


def launch_drill(context, drill_file: str, speed: float, live_delivery: bool) -> None:
    """`warroom drill`: a fresh practice incident in a database of its own (a new folder, kept and
    named at the end: database, outbox, report), its fake service on 127.0.0.1, its script played
    on the drill's clock; the drill report is printed when the war room closes."""
    import tempfile

    from warroom.domain.clock import system_clock
    from warroom.domain.drill import load_drill
    from warroom.domain.playback import PlaybackClock
    from warroom.service.demo import DemoServiceThread
    from warroom.service.drill import DrillTarget, final_report, open_drill
    from warroom.ui.screens.drill import DrillSession

    scenario = load_drill(drill_file, context.policies())  # a mistake in the file: one line, exit 2
    folder = Path(tempfile.mkdtemp(prefix="warroom-drill-"))
    path, outbox, report_path = folder / "drill.db", folder / "outbox", folder / "drill-report.md"
    context.db_option = str(path)
    context.drafts = DraftStore(folder / "drafts", path, lasting=False)
    clock = PlaybackClock(system_clock(), speed)
    states = {probe.name: probe.state for probe in scenario.file.probe}
    session = None
    with DemoServiceThread(DrillTarget, names=list(states), states=states) as target:
        incident = asyncio.run(open_drill(path, context.policies(), clock, context.config, scenario, target,
                                          outbox, live_delivery))
        session = DrillSession(scenario, clock, incident.created_at, target=target, outbox=outbox,
                               live=live_delivery, report_path=report_path)
        try:
            launch(context, incident.id, session)
        finally:
            text = session.report_text or asyncio.run(final_report(
                path, context.policies(), clock, context.config, scenario, incident, outbox, live_delivery,
                report_path))
            try:
                print(text)
                print(f"warroom: drill folder {folder} (database, outbox, drill-report.md); replay it with "
                      f"warroom --db {path} replay {incident.id}", file=sys.stderr)
            except (OSError, ValueError):  # the terminal is gone: the report is in the folder
                pass
