"""Shared pieces of the UI tests: seeded databases, an app factory, screen text, and waiting on a
condition (never on a fixed pause). The clock is the suite's one FrozenClock at NOW (conftest).

Imported by the other tests/test_ui_*.py modules; it holds no tests of its own.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

from conftest import NOW, FrozenClock

from warroom.service.demo import seed_demo_database
from warroom.domain.policy import PolicyBook
from warroom.service import IncidentService
from warroom.ui.app import WarRoomApp

POLICIES = PolicyBook.load()
USER = "scribe"
# How long a UI test waits for a condition before failing: generous, so a busy machine only makes
# a test slower, never red. A condition that holds returns at once.
WAIT = 30.0
Found = TypeVar("Found")


_demo_template: tuple[Path, str] | None = None


async def demo_database(directory: Path) -> tuple[Path, str]:
    """The demo incident (SEV-2, about an hour old at NOW) in a fresh database.

    Seeded once per test run, then copied: playing the script takes most of a second.
    """
    global _demo_template
    if _demo_template is None:
        _demo_template = await seed_demo_database(str(Path(tempfile.mkdtemp(prefix="warroom-ui-")) / "demo.db"), NOW)
    template, incident_id = _demo_template
    target = directory / "demo.db"
    shutil.copyfile(template, target)
    return target, incident_id


def demo_database_sync(directory: Path) -> tuple[Path, str]:
    return asyncio.run(demo_database(directory))


async def small_database(directory: Path, notes: int = 3, severity: str = "SEV-2",
                         declared_minutes_ago: int = 10) -> tuple[Path, str]:
    """One incident declared `declared_minutes_ago` before NOW by alice (IC), with `notes` notes."""
    path = directory / "small.db"
    clock = FrozenClock(NOW - timedelta(minutes=declared_minutes_ago))
    service = await IncidentService.open(path, POLICIES, clock)
    try:
        incident = await service.declare("Login page slow", severity, author="alice", commander="alice")
        for number in range(notes):
            clock.advance(seconds=30)
            await service.execute(incident.id, f"note {number + 1}", "alice")
    finally:
        await service.close()
    return path, incident.id


class CountingApp(WarRoomApp):
    """The war-room app as the UI tests run it: run_test() also counts every message dispatched, by
    type (`app.dispatched[EntryCommitted]`), so a test can wait for one instead of pausing."""

    CSS_PATH = str(Path(inspect.getfile(WarRoomApp)).with_name(WarRoomApp.CSS_PATH))  # not relative to tests/

    def run_test(self, *args, **kwargs):
        self.dispatched: Counter[type] = Counter()
        return super().run_test(*args, message_hook=lambda message: self.dispatched.update((type(message),)),
                                **kwargs)


def make_app(path: Path, incident_id: str | None = None, clock: Callable[[], datetime] | None = None,
             **options) -> CountingApp:
    return CountingApp(path, POLICIES, USER, incident_id=incident_id, clock=clock or FrozenClock(), **options)


def screen_text(app: WarRoomApp) -> str:
    """What the terminal shows, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for(pilot, condition: Callable[[], object], timeout: float = WAIT) -> None:
    """Let the app run until `condition()` holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)


async def until(pilot, check: Callable[[], Awaitable[Found]], timeout: float = WAIT) -> Found:
    """Let the app run until the coroutine function `check` returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.02)
    return found


class SentFrames(list):
    """The text of each frame sent, in order (see `frames_sent`); `until` waits for the next ones."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = asyncio.Event()

    def add(self, text: str) -> None:
        self.append(text)
        self._arrived.set()

    async def until(self, condition: Callable[[], object], timeout: float = WAIT) -> bool:
        """Let the app run, frame by frame, until `condition()` holds (False after `timeout`),
        without the pilot: its pauses draw a frame of their own."""
        async def frames_until() -> None:
            while not condition():
                self._arrived.clear()
                await self._arrived.wait()

        try:
            await asyncio.wait_for(frames_until(), timeout)
        except TimeoutError:
            return False
        return True


def frames_sent(app: WarRoomApp, stop_frame_slots: bool = False) -> SentFrames:
    """Every frame the app sends to the terminal from now on (none is sent inside a batch).
    `stop_frame_slots`: the screen's frame timer never ticks from now on, so a frame comes only
    from warroom.ui.paint_hold.draw_pending (or from a pilot's pause: wait with `until`)."""
    frames = SentFrames()
    real_display = app._display

    def display(screen, update):
        if not app._batch_count and update is not None:
            frames.add("".join(strip.text for chop in update.chops for strip in chop.values() if strip))
        return real_display(screen, update)

    app._display = display
    if stop_frame_slots:
        timer = app.screen._update_timer
        timer.pause()
        timer.resume = lambda: None
    return frames


def showing(app, screen: type | tuple[type, ...] | str) -> bool:
    """`screen` (a class, classes, or a class name) is on top and mounted: its children are
    composed and its on_mount ran, so querying them cannot race its start."""
    on_top = app.screen
    matches = type(on_top).__name__ == screen if isinstance(screen, str) else isinstance(on_top, screen)
    return matches and on_top.is_mounted


async def war_room_ready(pilot) -> None:
    """Wait until the war room is mounted, on screen, with its timeline loaded and a line selected,
    its first full frame drawn and its probe monitor started (it takes the lease after that frame)."""
    from warroom.ui.screens.war_room import WarRoomScreen
    from warroom.ui.widgets.health import HealthPane
    from warroom.ui.widgets.timeline import Timeline

    def ready() -> bool:
        if not showing(pilot.app, WarRoomScreen):
            return False
        screen = pilot.app.screen
        timeline = screen.query_one(Timeline)
        return (timeline.total > 0 and timeline.selected is not None and screen.first_frame.is_set()
                and screen.query_one(HealthPane).monitor is not None)

    await wait_for(pilot, ready)
    await pilot.pause()


def war_room(app: WarRoomApp):
    """The war-room screen, also while a dialog is open over it."""
    from warroom.ui.screens.war_room import WarRoomScreen

    return next(screen for screen in reversed(app.screen_stack) if isinstance(screen, WarRoomScreen))


async def submit(pilot, text: str) -> None:
    """Put `text` in the entry bar and press Enter (what typing each key does; see test_ui_timeline)."""
    from warroom.ui.widgets.entry_bar import EntryInput

    bar = war_room(pilot.app).query_one(EntryInput)
    bar.focus()
    bar.value = text
    await pilot.press("enter")


def type_burst(app: WarRoomApp, lines: list[str]) -> None:
    """Queue every key of `lines` (each followed by Enter) at once, as a terminal delivers a paste
    or a very fast typist: nothing runs in between, so no write can finish before the last Enter."""
    from textual import events
    from textual.keys import _character_to_key

    for line in lines:
        for char in line:
            app.post_message(events.Key(_character_to_key(char), char))
        app.post_message(events.Key("enter", "\r"))


async def submit_and_wait(pilot, text: str) -> None:
    """Submit and wait until the write finished: its EntryCommitted or EntryRejected was dispatched
    (the bar cleared, or the text put back with the error) and the write's worker is done."""
    from warroom.ui.messages import EntryCommitted, EntryRejected

    app = pilot.app
    outcomes = lambda: app.dispatched[EntryCommitted] + app.dispatched[EntryRejected]  # noqa: E731
    before = outcomes()
    await submit(pilot, text)
    await wait_for(pilot, lambda: outcomes() > before)
    await wait_for(pilot, lambda: not any(w.group == "write" and w.is_running for w in app.workers))
    await pilot.pause()
