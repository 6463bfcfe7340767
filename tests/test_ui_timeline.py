"""The timeline pane: tail-follow, the "N new" marker, keys, filter, pin/correct/copy, other writers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from conftest import NOW, FrozenClock
from test_ui_support import (
    POLICIES, demo_database, make_app, screen_text, small_database, submit_and_wait,
    showing, wait_for, war_room_ready,
)
from textual import events

from warroom.domain.models import EntryKind
from warroom.service import IncidentService
from warroom.ui.screens.dialogs import AskText
from warroom.ui.widgets.entry_bar import EntryInput
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline


async def other_process(path):
    """A second connection to the same file, as `warroom log` in another terminal would open."""
    return await IncidentService.open(path, POLICIES, FrozenClock(NOW))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_follows_the_tail_and_shows_the_newest_entry_selected(tmp_path, size):
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=size) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        assert timeline.cursor == timeline.total - 1 and timeline.following
        assert timeline.scroll_offset.y == timeline.total - timeline.size.height
        text = screen_text(app)
        assert timeline.selected.text[:20] in text
        assert "following" in text


async def test_entries_from_another_process_show_up_within_a_second(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=1)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        other = await other_process(path)
        try:
            await other.execute(incident_id, "written from the second terminal", "bob")
            await other.execute(incident_id, "/sev SEV-1", "bob")
            await other.execute(incident_id, "/assign tl erin", "bob")
        finally:
            await other.close()
        await wait_for(pilot, lambda: "written from the second terminal" in screen_text(app))
        await wait_for(pilot, lambda: "SEV-1" in str(app.screen.query_one(IncidentHeader).render()))
        await wait_for(pilot, lambda: any(seat.person == "erin" for seat in app.screen.query_one(RolesPane).seats))
        assert "Tech Lead: erin" in screen_text(app)


async def test_scrolled_up_new_entries_raise_a_marker_instead_of_jumping(tmp_path):
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        await pilot.press("pageup", "pageup")
        cursor, top = timeline.cursor, timeline.scroll_offset.y
        assert not timeline.following
        other = await other_process(path)
        try:
            await other.execute(incident_id, "new one", "bob")
            await other.execute(incident_id, "and another", "bob")
        finally:
            await other.close()
        await wait_for(pilot, lambda: timeline.unseen == 2)
        await wait_for(pilot, lambda: "2 new" in screen_text(app))
        assert (timeline.cursor, timeline.scroll_offset.y) == (cursor, top)
        await pilot.press("end")
        await wait_for(pilot, lambda: "following" in screen_text(app))
        assert timeline.following and timeline.unseen == 0
        assert timeline.selected.text == "and another"
        assert "new" not in timeline.border_subtitle


async def test_keys_move_the_selection(tmp_path):
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        last = timeline.total - 1
        timeline.focus()
        await pilot.press("k", "k", "up")
        assert timeline.cursor == last - 3
        await pilot.press("j", "down")
        assert timeline.cursor == last - 1
        page = timeline.scrollable_content_region.height - 1
        await pilot.press("pageup")
        assert timeline.cursor == last - 1 - page
        await pilot.press("pagedown")
        assert timeline.cursor == last - 1
        await pilot.press("home")
        assert timeline.cursor == 0 and timeline.scroll_offset.y == 0
        await wait_for(pilot, lambda: timeline.selected is not None)
        assert timeline.selected.text.startswith("Impact started")  # earliest in time, back-dated
        await pilot.press("end")
        assert timeline.cursor == last and timeline.following
        await pilot.press("k")
        await wait_for(pilot, lambda: f"#{timeline.selected.number} " in screen_text(app))
        marked = [line for line in screen_text(app).splitlines() if "│»" in line]
        assert len(marked) == 1, "the selected line carries a marker, not only a colour"
        assert f"#{timeline.selected.number} " in marked[0]
        await pilot.press("escape")
        assert isinstance(app.focused, EntryInput)


async def test_slash_filters_by_text_author_or_kind(tmp_path):
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        everything = timeline.total
        timeline.focus()
        for query, check in (("decision", lambda e: e.kind is EntryKind.DECISION or "decision" in e.text.lower()),
                             ("frank", lambda e: e.author == "frank" or "frank" in e.text.lower()),
                             ("failover", lambda e: "failover" in e.text.lower())):
            await pilot.press("slash")
            await wait_for(pilot, lambda: showing(app, AskText))
            app.screen.query_one("#ask-input").value = query
            await pilot.press("enter")
            await wait_for(pilot, lambda: timeline.query == query and 0 < timeline.total < everything)
            await wait_for(pilot, lambda: timeline.entry_at(timeline.total - 1) is not None)
            shown = [timeline.entry_at(row) for row in range(timeline.total)]
            assert all(check(entry) for entry in shown), query
            assert f"filter: {query} ({timeline.total} match" in screen_text(app)
        await pilot.press("slash")
        await wait_for(pilot, lambda: showing(app, AskText))
        app.screen.query_one("#ask-input").value = ""
        await pilot.press("enter")
        await wait_for(pilot, lambda: timeline.total == everything)


async def test_pin_correct_and_copy_the_selected_entry(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=3)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        await pilot.press("k")
        target = timeline.selected
        assert target.text == "note 2"
        await pilot.press("p")
        await wait_for(pilot, lambda: timeline.entry_at(timeline.cursor) is not None
                       and timeline.entry_at(timeline.cursor).pinned)
        await wait_for(pilot, lambda: "★" in screen_text(app))
        await pilot.press("y")
        assert app.clipboard == f"#{target.number} 2026-11-23 14:51:00 UTC alice: note 2"
        await pilot.press("c")
        await wait_for(pilot, lambda: showing(app, AskText))
        field = app.screen.query_one("#ask-input")
        assert field.value == "note 2"
        field.value = "note 2, but it was the replica"
        await pilot.press("enter")
        await wait_for(pilot, lambda: timeline.total == 6 and timeline.unseen == 1
                       and timeline.selected is not None)  # reloaded: the selection stays put
        assert timeline.selected.number == target.number
        await pilot.press("end")
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.kind is EntryKind.CORRECTION)
        corrected = f"(corrects #{target.number}) note 2, but it was the replica"
        await wait_for(pilot, lambda: corrected in screen_text(app))  # line and detail
    service = await other_process(path)
    try:
        entries = await service.entries(incident_id)
    finally:
        await service.close()
    assert entries[3].text == "note 2" and entries[3].pinned
    assert entries[-1].corrects == entries[3].id


async def test_entries_from_another_day_show_their_date(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=1)
    clock = FrozenClock(NOW + timedelta(days=1))
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, "next morning")
        await wait_for(pilot, lambda: "next morning" in screen_text(app))
        text = screen_text(app)
    assert "2026-11-23 14:50:30 #3" in text  # yesterday: dated
    assert re.search(r"\n│[ »]15:00:00 #4", text)  # today: time only (after the selection gutter)


async def test_hostile_text_is_shown_literally(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=0)
    markup = "[bold]x[/] [link=http://a]y"
    ansi = "\x1b[31mred\x1b[0m \x1b]8;;http://evil\x07click\x1b]8;;\x07"
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*markup)
        assert bar.value == markup
        await pilot.press("enter")
        await wait_for(pilot, lambda: bar.value == "")
        bar.post_message(events.Paste(ansi))  # an escape sequence arrives pasted, not as keys
        await wait_for(pilot, lambda: bar.value == ansi)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bar.value == "")
        timeline = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: timeline.total == 4 and timeline.entry_at(3) is not None)
        await wait_for(pilot, lambda: "click" in screen_text(app))
        text = screen_text(app)
        assert markup in text
        assert "␛[31mred␛[0m ␛]8;;http://evil␇click␛]8;;␇" in text
        strips = app.screen._compositor.render_strips()
        for strip in strips:
            for segment in strip:
                style = segment.style
                if style is None:
                    continue
                assert not style.link and "evil" not in (style.link or "")
                if segment.text.strip() in ("x", "y", "red", "click"):
                    raise AssertionError(f"{segment.text!r} was rendered as a styled segment of its own")
        timeline.focus()
        await pilot.press("k")
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.text == markup)
        await wait_for(pilot, lambda: screen_text(app).count(markup) >= 2)  # the detail line under the timeline too
    service = await other_process(path)
    try:
        entries = await service.entries(incident_id)
    finally:
        await service.close()
    assert [e.text for e in entries[-2:]] == [markup, ansi]  # stored as typed


async def test_writing_from_the_entry_bar_returns_to_the_tail(tmp_path):
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        await pilot.press("home")
        await submit_and_wait(pilot, "back at the bottom")
        await wait_for(pilot, lambda: timeline.following and timeline.selected is not None
                       and timeline.selected.text == "back at the bottom")
        assert timeline.scroll_offset.y == timeline.total - timeline.size.height


async def test_moving_the_selection_does_not_resize_the_timeline(tmp_path):
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        heights = set()
        for _ in range(12):
            await pilot.press("k")
            heights.add(timeline.size.height)
        assert len(heights) == 1


async def test_pin_from_the_bar_gives_a_toast_and_the_star(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=3)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        await submit_and_wait(pilot, "/pin 3")
        await wait_for(pilot, lambda: any("Pinned ★ #3" in str(n.message) for n in app._notifications))
        await wait_for(pilot, lambda: re.search(r"#3\s+★", screen_text(app)) is not None)
        assert not any("earlier in the timeline" in str(n.message) for n in app._notifications)  # not a new entry
        assert timeline.entry_at(2).pinned


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_entry_numbers_and_the_truncation_mark_stay_in_sight(tmp_path, size):
    """Issue 10, point 9: at 80x24 the numbers (what /pin N and /correct N need) were cut, and the
    `…` of a cut line sat under the scrollbar."""
    path, incident_id = await demo_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=size) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        assert timeline.show_vertical_scrollbar
        region = timeline.content_region
        rows = [line for line in screen_text(app).split("\n")[region.y:region.y + region.height]]
        inside = [row[region.x:region.x + timeline.scrollable_content_region.width] for row in rows]
        numbers = [re.search(r"#(\d+)", row) for row in inside]
        assert all(numbers), inside
        shown = {int(m.group(1)) for m in numbers}
        assert timeline.selected.number in shown
        cut = [row for row in inside if row.rstrip().endswith("…")]
        assert cut, inside  # long lines end with the mark, left of the scrollbar


async def test_enter_opens_the_whole_entry_and_it_scrolls(tmp_path):
    from warroom.ui.screens.entry_view import EntryText, EntryViewScreen

    path, incident_id = await small_database(tmp_path, notes=0)
    service = await other_process(path)
    pasted = "\n".join(f"log line {n:03d}: connection refused to db-{n % 7}" for n in range(300))
    await service.execute(incident_id, pasted, "alice")
    await service.close()
    app = make_app(path, incident_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EntryViewScreen))
        view = app.screen.query_one(EntryText)
        await wait_for(pilot, lambda: view.row_count >= 300)
        assert "log line 000" in screen_text(app) and "300 lines" in screen_text(app)
        await pilot.press("end")
        await wait_for(pilot, lambda: "log line 299" in screen_text(app))
        await pilot.press("q")  # q goes back to where it was; Escape goes to the bar
        await wait_for(pilot, lambda: not isinstance(app.screen, EntryViewScreen))
        assert app.focused is timeline


async def test_a_probe_entry_opens_with_its_details_and_d_offers_the_detected_milestone(tmp_path):
    from warroom.ui.screens.entry_view import EntryViewScreen
    from warroom.ui.widgets.entry_bar import EntryBar

    path, incident_id = await small_database(tmp_path, notes=0)
    service = await other_process(path)
    transition = {"probe": "payments", "group": "", "old": "pending", "new": "down", "at": "2026-11-23T14:59:00.000000Z",
                  "reason": "status == 200 failed: got 503", "status_code": 503, "error": None,
                  "failed_condition": "status == 200", "latency_ms": 5.0, "consecutive_failures": 3,
                  "first_failure_at": "2026-11-23T14:58:10.000000Z", "consecutive_successes": 0}
    await service.record_system(incident_id, "payments ▼ DOWN (was … PENDING): status == 200 failed: got 503; 5 ms",
                                {"transition": transition}, kind=EntryKind.PROBE, author="probe")
    await service.close()
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        timeline = app.screen.query_one(Timeline)
        timeline.focus()
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, EntryViewScreen))
        await wait_for(pilot, lambda: "First failure at: 2026-11-23T14:58:10" in screen_text(app))
        assert "HTTP status: 503" in screen_text(app)
        await pilot.press("q")
        await wait_for(pilot, lambda: not isinstance(app.screen, EntryViewScreen) and app.focused is timeline)
        await pilot.press("d")
        bar = app.screen.query_one(EntryBar)
        await wait_for(pilot, lambda: bar.text.startswith("@2026-11-23T14:58:10 /detected probe payments down"))
        assert isinstance(app.focused, EntryInput)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not any(w.group == "write" and w.is_running for w in app.workers))
    service = await other_process(path)
    incident = await service.incident(incident_id)
    await service.close()
    assert incident.milestones[next(m for m in incident.milestones if m.value == "detected")].isoformat() == \
        "2026-11-23T14:58:10+00:00"
