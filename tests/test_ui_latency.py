"""What a key, a commit and a look at the record cost the war room, by mechanism (no timings): the
entry bar lays nothing out, a committed entry is drawn from what the write returned with a
constant number of statements, and the start-up heap is kept out of the collector's way.
The figures these stand for are in bench/bench_latency.py and README "Performance"."""

from __future__ import annotations

import gc

import pytest
from test_ui_support import make_app, small_database, submit_and_wait, wait_for, war_room_ready
from textual import events
from textual.keys import _character_to_key
from textual.screen import Screen

from warroom.ui.widgets.entry_bar import EntryInput
from warroom.ui.widgets.timeline import Timeline


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


async def test_a_war_room_session_freezes_its_start_up_heap_once_drawn(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id, settle_heap=True)  # as `warroom open` builds it (ui.launch)
    try:
        assert gc.get_freeze_count() == 0
        async with app.run_test(size=(120, 40)) as pilot:
            await war_room_ready(pilot)
            await wait_for(pilot, lambda: gc.get_freeze_count() > 0)
            await submit_and_wait(pilot, "after the freeze")
    finally:
        gc.unfreeze()  # this process opens many apps: their garbage must stay collectable


async def test_an_app_in_a_shared_process_freezes_nothing(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, "no freeze in a shared process")
        assert gc.get_freeze_count() == 0
