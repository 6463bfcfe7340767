"""What a key, a commit, a look at the record and the composer cost the war room, by mechanism (no
timings): the entry bar lays nothing out, the start-up heap is kept out of the collector's way,
and one composer serves a war room, drawn once with its real draft.
The figures these stand for are in bench/bench_latency.py and README "Performance"."""

from __future__ import annotations

import asyncio
import gc
import re
import sys

import pytest
from test_ui_support import (
    WAIT, frames_sent, make_app, screen_text, showing, small_database, submit_and_wait, wait_for,
    war_room_ready,
)
from textual import events
from textual.keys import _character_to_key
from textual.screen import Screen
from textual.widgets import TextArea

from warroom.service import IncidentService
from warroom.ui.screens import composer as composer_module
from warroom.ui.screens.composer import ComposerScreen
from warroom.ui.widgets.deliveries import DeliveryList
from warroom.ui.widgets.entry_bar import EntryInput
from warroom.ui.widgets.timeline import Timeline


@pytest.fixture
def draft_gate(monkeypatch) -> asyncio.Event:
    """Update drafts are read only once the returned event is set (a slow database, held)."""
    gate = asyncio.Event()
    real = IncidentService.draft_record

    async def slow_draft(self, *args, **kwargs):
        await gate.wait()
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(IncidentService, "draft_record", slow_draft)
    return gate


@pytest.fixture
def layouts(monkeypatch):
    """Every layout of a whole screen from now on (Textual's Screen._refresh_layout)."""
    seen: list[str] = []
    real = Screen._refresh_layout

    def counted(self, *args, **kwargs):
        seen.append(type(self).__name__)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return seen


async def test_typing_and_logging_an_entry_lay_out_nothing(tmp_path, layouts):
    # More entries than the timeline has rows: an appended one moves the scrollbar, not the panes.
    path, incident_id = await small_database(tmp_path, notes=60, declared_minutes_ago=40)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        total = timeline.total
        layouts.clear()
        typed = "Rolled back deploy 4411; a note longer than the bar is wide " * 2
        for char in typed:  # as a terminal delivers them, each key its own event
            app.post_message(events.Key(_character_to_key(char), char))
        bar = app.screen.query_one(EntryInput)
        await wait_for(pilot, lambda: bar.value == typed)
        await pilot.pause()
        assert bar.scroll_x > 0  # the bar scrolled along the text
        await pilot.press("enter")
        await wait_for(pilot, lambda: timeline.total == total + 1 and timeline.selected is not None)
        await submit_and_wait(pilot, "a second one")
        await pilot.pause()
        assert timeline.selected.text == "a second one"
        assert layouts == []


async def test_the_emptied_bar_and_the_entry_it_wrote_come_in_one_frame(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=60, declared_minutes_ago=40)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline, bar = app.screen.query_one(Timeline), app.screen.query_one(EntryInput)
        bar.value = "EU error rate back under 1%"
        await pilot.pause()
        total = timeline.total
        frames: list[tuple[str, bool]] = []  # (the bar, the new entry's row in view) at each frame sent out
        real_display = app._display

        def display(screen, update):
            if not app._batch_count:  # (Textual drops a frame inside a batch)
                top = timeline.scroll_offset.y
                frames.append((bar.value, timeline.total == total + 1 and top <= total < top + timeline.size.height))
            return real_display(screen, update)

        app._display = display
        await pilot.press("enter")
        await wait_for(pilot, lambda: frames and frames[-1][1])
        assert frames[0] == ("", True)  # no frame of the emptied bar alone, nor of the entry out of view


async def test_the_entry_is_drawn_when_the_hold_is_released_not_at_the_next_frame_slot(tmp_path):
    """Textual's frame timer, asked soon after a frame, waits 17-33 ms for the slot after next
    (warroom.ui.paint_hold.draw_pending). Here that timer never ticks once the Enter is pressed,
    so only a frame drawn at once (by the hold's release, or for the record change the commit
    made) can come, and it must show the new row."""
    path, incident_id = await small_database(tmp_path, notes=60, declared_minutes_ago=40)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        timeline, bar = screen.query_one(Timeline), screen.query_one(EntryInput)
        bar.value = "EU error rate back under 1%"
        await wait_for(pilot, lambda: not screen._dirty_widgets)
        total, frames = timeline.total, frames_sent(app, stop_frame_slots=True)
        app.post_message(events.Key("enter", "\r"))  # (the pilot's press and pause would draw too)
        await frames.until(lambda: frames)
        assert frames, "nothing drawn after the Enter"
        assert timeline.total == total + 1
        assert re.search(rf"#{total + 1} +· note +scribe +EU error rate back under 1%", frames[0])  # its row
        assert bar.value == ""


async def test_a_refused_entry_is_drawn_when_the_hold_is_released_not_at_the_next_frame_slot(tmp_path):
    """No entry, so no record change to draw: the release of the Enter's hold draws the refusal
    (the text back in the bar, and why) in the frame it sends at once."""
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        bar = screen.query_one(EntryInput)
        bar.value = "/sev SEV-9"
        await wait_for(pilot, lambda: not screen._dirty_widgets)
        frames = frames_sent(app, stop_frame_slots=True)
        app.post_message(events.Key("enter", "\r"))  # (the pilot's press and pause would draw too)
        await frames.until(lambda: frames)
        assert frames, "nothing drawn after the Enter"
        assert "/sev SEV-9" in frames[0] and bar.value == "/sev SEV-9"  # back in the bar


async def test_an_appended_entry_asks_the_screen_for_its_frame_at_once(tmp_path, monkeypatch):
    """Not when the timeline's own queue next runs dry (Textual's way): by then the screen may
    have drawn the emptied bar alone, and the entry waits a frame more."""
    from textual import messages

    from warroom.ui.screens.war_room import WarRoomScreen

    path, incident_id = await small_database(tmp_path, notes=60, declared_minutes_ago=40)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen, handling = app.screen, []
        timeline = screen.query_one(Timeline)
        asked: list[bool] = []  # for each repaint the timeline asked of the screen: while the delta was handled?
        real_post, real_changed = screen.post_message, WarRoomScreen.on_record_changed

        def post(message):
            if isinstance(message, messages.Update) and message.widget is timeline:
                asked.append(bool(handling))
            return real_post(message)

        async def changed(self, message):
            handling.append(1)
            try:
                return await real_changed(self, message)
            finally:
                handling.pop()

        monkeypatch.setattr(screen, "post_message", post)
        monkeypatch.setattr(WarRoomScreen, "on_record_changed", changed)
        await submit_and_wait(pilot, "EU error rate back under 1%")
        assert asked and asked[0]


async def test_a_slow_write_does_not_hold_the_emptied_bar_back(tmp_path, monkeypatch):
    from warroom.ui.widgets import entry_bar

    gate = asyncio.Event()
    real = IncidentService.apply

    async def slow_apply(self, *args, **kwargs):
        await gate.wait()  # the file is locked by another writer, say
        return await real(self, *args, **kwargs)

    path, incident_id = await small_database(tmp_path, notes=60, declared_minutes_ago=40)
    monkeypatch.setattr(IncidentService, "apply", slow_apply)
    monkeypatch.setattr(entry_bar, "WRITE_HOLD", 0.01)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline, bar = app.screen.query_one(Timeline), app.screen.query_one(EntryInput)
        total = timeline.total
        bar.value = "written once the lock is gone"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app._batch_count and bar.value == "")  # drawn without the entry
        assert timeline.total == total
        gate.set()
        await wait_for(pilot, lambda: timeline.total == total + 1)


async def test_a_war_room_in_a_process_of_its_own_freezes_its_start_up_heap_and_switches_threads_sooner(tmp_path):
    from warroom.ui.app import SWITCH_INTERVAL

    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id, own_process=True)  # as `warroom open` builds it (ui.launch)
    interval = sys.getswitchinterval()
    try:
        assert gc.get_freeze_count() == 0
        async with app.run_test(size=(120, 40)) as pilot:
            await war_room_ready(pilot)
            await wait_for(pilot, lambda: gc.get_freeze_count() > 0)
            assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
            await submit_and_wait(pilot, "after the freeze")
    finally:
        gc.unfreeze()  # this process opens many apps: their garbage must stay collectable
        sys.setswitchinterval(interval)


async def test_an_app_in_a_shared_process_tunes_nothing(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    interval = sys.getswitchinterval()
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, "no freeze in a shared process")
        assert gc.get_freeze_count() == 0 and sys.getswitchinterval() == interval


# ---- the update composer (F2) ---------------------------------------------------------------


def builds_of(widget_class, monkeypatch) -> list:
    """Each instance of `widget_class` whose children are composed, in order (a build each)."""
    built = []
    real = widget_class.compose
    monkeypatch.setattr(widget_class, "compose", lambda self: built.append(self) or real(self))
    return built


async def open_composer(pilot) -> "ComposerScreen":
    await pilot.press("f2")
    await wait_for(pilot, lambda: showing(pilot.app, ComposerScreen))
    composer = pilot.app.screen
    area = composer.query_one(TextArea)
    await wait_for(pilot, lambda: "INCIDENT UPDATE" in area.text)
    return composer


async def test_one_composer_serves_the_war_room_with_a_fresh_draft_each_time(tmp_path, monkeypatch):
    built = builds_of(ComposerScreen, monkeypatch)
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        composer = await open_composer(pilot)
        composer.query_one("#composer-audience").value = "public"  # left on another audience, and edited
        await wait_for(pilot, lambda: composer.query_one(TextArea).text.startswith("Investigating - "))
        composer.query_one(TextArea).load_text("my own words, not sent")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        await submit_and_wait(pilot, "/decision roll back the canary")
        again = await open_composer(pilot)
        assert again is composer and built == [composer]  # shown again, not built again
        text = again.query_one(TextArea).text
        assert "roll back the canary" in text and "my own words" not in text
        assert text.startswith("INCIDENT UPDATE (Internal)") and again.query_one("#composer-audience").value == "internal"
        assert "Posting to: Internal (internal)" in screen_text(app)
        deliveries = again.query_one(DeliveryList)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        assert not deliveries._timer._active.is_set()  # out of sight, it reads nothing
        app.open_incident(incident_id)  # the same one: nothing changes
        await pilot.pause()
        assert app.is_screen_installed(composer)
        await app.pop_screen()  # the war room goes (as when another incident is opened): its composer too
        await wait_for(pilot, lambda: not app.is_screen_installed(composer) and not composer.is_attached)


async def test_the_composer_is_drawn_once_its_draft_is_in(tmp_path, monkeypatch, draft_gate):
    gate = draft_gate
    monkeypatch.setattr(composer_module, "DRAFT_HOLD", WAIT)  # held however slow the machine
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        painted: list[str] = []
        real_display = app._display

        def display(screen, update):  # each frame of the composer sent to the terminal, with its text then
            if isinstance(screen, ComposerScreen) and not app._batch_count:  # (Textual drops it in a batch)
                painted.append(screen.query_one(TextArea).text)
            return real_display(screen, update)

        app._display = display
        await pilot.press("f2")
        await wait_for(pilot, lambda: showing(app, ComposerScreen))
        composer = app.screen
        await wait_for(pilot, lambda: any(w.group == "draft" and w.is_running for w in composer.workers))
        for _ in range(3):
            await pilot.pause()
        assert painted == []  # nothing drawn while the draft is read
        gate.set()
        await wait_for(pilot, lambda: painted)
        assert "INCIDENT UPDATE" in painted[0]  # the first frame shows the real draft


async def test_a_slow_draft_does_not_hold_the_composer_back(tmp_path, monkeypatch, draft_gate):
    gate = draft_gate
    monkeypatch.setattr(composer_module, "DRAFT_HOLD", 0.01)
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("f2")
        await wait_for(pilot, lambda: showing(app, ComposerScreen) and not app._batch_count)  # drawn without it
        area = app.screen.query_one(TextArea)
        assert area.text == "" and "Posting to: Internal" in screen_text(app)  # never a draft of before
        gate.set()
        await wait_for(pilot, lambda: "INCIDENT UPDATE" in area.text)


async def test_the_footer_is_not_built_again_when_a_dialog_covers_the_war_room(tmp_path, monkeypatch):
    from warroom.ui.widgets.footer import KeysFooter

    built = builds_of(KeysFooter, monkeypatch)
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.pause()
        built.clear()
        await open_composer(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ComposerScreen))
        await pilot.pause()
        assert built == []  # the same keys: not built again (Textual's Footer is, twice)
        assert "f2 Update" in screen_text(app)
        await pilot.press("ctrl+t")  # the timeline's own keys join the footer: built again
        await wait_for(pilot, lambda: "p Pin" in screen_text(app))
        assert built
