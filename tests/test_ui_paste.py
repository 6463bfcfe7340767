"""Pastes in the entry bar: several lines become ONE entry with every line, a 1 MB paste is saved
whole without the bar ever holding it, and a paste over the size limit is refused but kept."""

from __future__ import annotations

from test_ui_support import (
    POLICIES, make_app, screen_text, showing, small_database, wait_for, war_room, war_room_ready,
)
from textual import events

from warroom.domain.grammar import MAX_ENTRY_BYTES
from warroom.service import IncidentService
from warroom.service.drafts import DraftStore
from warroom.ui.screens.entry_view import EntryText, EntryViewScreen
from warroom.ui.widgets.entry_bar import EntryBar, EntryInput
from warroom.ui.widgets.timeline import Timeline

LOG_LINES = "ERROR pool exhausted\r\n  at db.connect (pool.js:12)\r\n  at main (app.js:3)\r\n"


async def entries(path, incident_id):
    service = await IncidentService.open(path, POLICIES)
    try:
        return await service.entries(incident_id)
    finally:
        await service.close()


def big_paste(size: int) -> str:
    return "".join(f"{number:07d} " + "x" * 91 + "\n" for number in range(size // 100))


async def paste(pilot, text: str) -> None:
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


async def test_a_multi_line_paste_is_one_entry_with_every_line(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"seen on api-3: ")
        await paste(pilot, LOG_LINES)
        await pilot.press(*" (twice)")
        bar = war_room(app).query_one(EntryBar)
        assert bar.input.value == "seen on api-3: ⟦paste 1: 3 lines, 70 B⟧ (twice)"
        assert "Enter logs it all as ONE entry" in screen_text(app)
        await pilot.press("enter")
        timeline = war_room(app).query_one(Timeline)
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.text.startswith("seen"))
        await pilot.pause()
        shown = screen_text(app).splitlines()
        assert any("seen on api-3: ERROR pool exhausted ⏎   at db.co" in line for line in shown)  # timeline: one line
        detail = next(number for number, line in enumerate(shown) if "#6 2026-11-23 15:00:00 UTC" in line)
        assert shown[detail + 1].startswith(" seen on api-3: ERROR pool exhausted ")  # detail: lines as pasted
        assert "3 lines, 93 B in all · Enter on the timeline: every line" in shown[detail + 2]
        await pilot.press("ctrl+t", "enter")
        await wait_for(pilot, lambda: showing(app, EntryViewScreen))
        await pilot.pause()
        view = screen_text(app)
        assert all(line in view for line in ("ERROR pool exhausted", "at db.connect (pool.js:12)", "at main (app.js:3) (twice)"))
    [entry] = [e for e in await entries(path, incident_id) if e.text.startswith("seen")]
    assert entry.text == "seen on api-3: ERROR pool exhausted\n  at db.connect (pool.js:12)\n  at main (app.js:3) (twice)"


async def test_a_paste_marker_is_removed_whole_never_in_part(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = war_room(app).query_one(EntryInput)
        await pilot.press(*"a ")
        await paste(pilot, "one\ntwo")
        await pilot.press("left", "left", "left", *"XY")  # typing inside the marker lands after it
        assert bar.full_text == "a one\ntwoXY"
        await pilot.press("end", "backspace", "backspace", "backspace")  # Y, X, then the whole paste
        assert (bar.value, bar.full_text, bar.pastes) == ("a ", "a ", {})
        assert "pasted" not in screen_text(app)


async def test_a_paste_while_the_timeline_has_the_focus_goes_to_the_entry_bar(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("ctrl+t")
        await paste(pilot, "line one\nline two")
        bar = war_room(app).query_one(EntryInput)
        assert bar.has_focus and bar.full_text == "line one\nline two"


async def test_a_one_megabyte_paste_never_enters_the_input_and_is_saved_whole(tmp_path):
    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "drafts", path)
    text = big_paste(1_000_000)
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await paste(pilot, text)
        await pilot.press(*"Z")
        bar = war_room(app).query_one(EntryInput)
        assert bar.value == "⟦paste 1: 10000 lines, 1.0 MB⟧Z"  # the Input renders 31 characters, not 1 MB
        await wait_for(pilot, lambda: [p.stat().st_size for p in store.folder.glob("*/*.txt")] == [len(text)])
        await pilot.press("enter")
        timeline = war_room(app).query_one(Timeline)
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.text.startswith("0000000"))
        await pilot.press("ctrl+t", "enter")
        await wait_for(pilot, lambda: showing(app, EntryViewScreen))
        await pilot.pause()
        assert app.screen.query_one(EntryText).row_count >= 10000
        await pilot.press("end")
        await wait_for(pilot, lambda: "0009999" in screen_text(app))
    saved = [e for e in await entries(path, incident_id) if e.text.startswith("0000000")]
    assert [e.text for e in saved] == [text.rstrip("\n") + "Z"]


async def test_a_paste_over_the_limit_is_refused_and_kept_in_the_bar_and_the_draft(tmp_path):
    path, incident_id = await small_database(tmp_path)
    store = DraftStore(tmp_path / "drafts", path)
    text = big_paste(MAX_ENTRY_BYTES + 200_000).rstrip("\n")
    app = make_app(path, incident_id, drafts=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await paste(pilot, text)
        assert "over the 2 MiB an entry holds" in screen_text(app)
        await pilot.press("enter")
        bar = war_room(app).query_one(EntryBar)
        await wait_for(pilot, lambda: bar.has_class("-error"))
        assert "too long to be one entry" in screen_text(app)
        assert bar.text == text  # put back whole
        await wait_for(pilot, lambda: [p.read_text() for p in store.folder.glob("*/*.txt")] == [text])
    assert not [e for e in await entries(path, incident_id) if e.text.startswith("0000000")]
