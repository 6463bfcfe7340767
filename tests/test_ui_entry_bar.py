"""The entry bar in the running war room: every command, errors kept in the bar, completion, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import NOW
from test_ui_support import (
    POLICIES, make_app, screen_text, showing, small_database, submit, submit_and_wait, type_burst, wait_for, war_room,
    war_room_ready,
)

from warroom.domain.models import EntryKind, Milestone
from warroom.service import IncidentService
from warroom.ui.widgets.entry_bar import EntryBar, EntryInput
from warroom.ui.widgets.timeline import Timeline


async def read_back(path, incident_id):
    service = await IncidentService.open(path, POLICIES)
    try:
        return await service.incident(incident_id), await service.entries(incident_id)
    finally:
        await service.close()


async def test_plain_text_is_a_note_and_appears_after_commit(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert isinstance(app.focused, EntryInput)
        await submit_and_wait(pilot, "Rolled back deploy 4411")
        timeline = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.text == "Rolled back deploy 4411")
        assert "Rolled back deploy 4411" in screen_text(app)
    _, entries = await read_back(path, incident_id)
    assert (entries[-1].kind, entries[-1].text, entries[-1].author) == (EntryKind.NOTE, "Rolled back deploy 4411", "scribe")


COMMANDS = [
    ("/sev SEV-1 checkout down everywhere", EntryKind.SEVERITY, "Severity SEV-2 -> SEV-1 (Critical): checkout down everywhere"),
    ("/status identified", EntryKind.STATUS, "Status Investigating -> Identified"),
    ("/assign tl bob", EntryKind.ROLE, "Tech Lead: (unfilled) -> bob"),
    ("/handoff ic carol", EntryKind.ROLE, "Incident Commander: alice -> carol"),
    ("/decision roll back 4411", EntryKind.DECISION, "roll back 4411"),
    ("/action add a canary @bob due:2h", EntryKind.ACTION, "add a canary | owner @bob | due 2026-11-23 17:00 UTC"),
    ("/ack", EntryKind.MILESTONE, "Acknowledged"),
    ("/detected pager", EntryKind.MILESTONE, "Detected: pager"),
    ("/update Checkout is degraded; next update in 30 minutes", EntryKind.UPDATE,
     "Checkout is degraded; next update in 30 minutes"),
]


@pytest.mark.parametrize(("typed", "kind", "text"), COMMANDS, ids=[c[0].split()[0] for c in COMMANDS])
async def test_each_command_writes_its_entry(tmp_path, typed, kind, text):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, typed)
        bar = war_room(app).query_one(EntryBar)
        assert not bar.has_class("-error"), screen_text(app)
        timeline = war_room(app).query_one(Timeline)
        await wait_for(pilot, lambda: timeline.total > 5 and timeline.selected is not None
                       and timeline.selected.kind is kind)
    _, entries = await read_back(path, incident_id)
    written = entries[5:]  # after the declaration, the IC and three notes
    assert any(e.kind is kind and e.text.startswith(text) for e in written), written


async def test_milestones_pin_and_correct_by_number(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=2)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        for typed in ("/ack", "/mitigated error ratio back under 1%", "/pin 3", "/correct 4 note two, corrected"):
            await submit_and_wait(pilot, typed)
            assert not app.screen.query_one(EntryBar).has_class("-error"), (typed, screen_text(app))
    incident, entries = await read_back(path, incident_id)
    assert {Milestone.ACKNOWLEDGED, Milestone.MITIGATED} <= set(incident.milestones)
    assert entries[2].pinned and entries[2].text == "note 1"  # 1: declaration, 2: IC assigned
    correction = entries[-1]
    assert correction.kind is EntryKind.CORRECTION and correction.corrects == entries[3].id
    assert entries[3].text == "note 2"  # the original stays as it was


@pytest.mark.parametrize(("typed", "occurred"), [
    ("-5m paged the DBA", NOW - timedelta(minutes=5)),
    ("@14:52 paged the DBA", NOW.replace(hour=14, minute=52)),
])
async def test_back_dated_entries_land_in_time_order(tmp_path, typed, occurred):
    path, incident_id = await small_database(tmp_path, notes=0, declared_minutes_ago=30)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, "a note written now")
        await submit_and_wait(pilot, typed)
        timeline = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: timeline.total == 4)  # declaration, IC, and the two typed here
        await wait_for(pilot, lambda: timeline.entry_at(3) is not None)
        assert timeline.entry_at(2).text == "paged the DBA"  # sorted before the note written at NOW
        assert timeline.entry_at(3).text == "a note written now"
    _, entries = await read_back(path, incident_id)
    backdated = next(e for e in entries if e.text == "paged the DBA")
    assert backdated.occurred_at == occurred and backdated.recorded_at == NOW


@pytest.mark.parametrize(("typed", "says"), [
    ("/sev SEV-9", "unknown severity"),
    ("/frobnicate now", "unknown command"),
    ("/assign wizard bob", "unknown role"),
    ("/pin 99", "99"),
])
async def test_an_error_is_shown_by_the_bar_and_the_text_stays(tmp_path, typed, says):
    path, incident_id = await small_database(tmp_path, notes=1)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit_and_wait(pilot, typed)
        bar = app.screen.query_one(EntryBar)
        assert bar.has_class("-error")
        assert bar.input.value == typed
        assert says in str(bar.query_one("#entry-error").render())
        assert says in screen_text(app)
        await pilot.press("backspace")  # editing the text clears the error
        assert not bar.has_class("-error")
    _, entries = await read_back(path, incident_id)
    assert len(entries) == 3  # declaration, role, note: nothing written


async def test_help_command_opens_help_and_clears_the_bar(tmp_path):
    from warroom.ui.screens.help import HelpScreen

    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await submit(pilot, "/help")
        await wait_for(pilot, lambda: showing(app, HelpScreen))
        assert "Entry-bar commands" in screen_text(app)
        await pilot.press("end")  # the commands run below the fold: the help scrolls by keyboard
        await wait_for(pilot, lambda: "/assign ROLE PERSON" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.screen.query_one(EntryInput).value == ""


@pytest.mark.parametrize(("typed", "tabs", "expected"), [
    ("/as", 1, "/assign "),
    ("/assign sc", 1, "/assign scribe "),
    ("/sev crit", 1, "/sev SEV-1 "),
    ("/status mit", 1, "/status mitigating "),
    ("/s", 2, "/status "),  # /sev first; Tab again cycles
    ("/sev", 2, "/sev SEV-1 "),  # the only completion, then on to its argument
    ("/update", 3, "/update executive "),
    ("-5m /mit", 1, "-5m /mitigated "),
])
async def test_tab_completes_commands_roles_severities_and_statuses(tmp_path, typed, tabs, expected):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*typed)
        await pilot.press(*["tab"] * tabs)
        assert bar.value == expected
        assert app.focused is bar


async def test_a_cycle_goes_on_only_from_what_tab_put_in_the_bar(tmp_path):
    """`/sev ` Tab Tab cycles SEV-1, SEV-2; the bar emptied and `/sev SEV-1 ` typed by hand is a
    new start (it is complete: nothing to complete), not the cycle's next severity."""
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*"/sev ", "tab", "tab")
        assert bar.value == "/sev SEV-2 "
        await pilot.press("ctrl+u", *"/sev SEV-1 ", "tab")
        assert bar.value == "/sev SEV-1 "
        assert "nothing to complete" in screen_text(app)


async def test_suggestion_continues_what_is_typed_and_right_accepts_it(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*"/handoff comm")
        await wait_for(pilot, lambda: bar._suggestion != "")
        assert bar._suggestion == "/handoff commander "
        await pilot.press("right")
        assert bar.value == "/handoff commander "
        bar.value = "/sev hi"  # "High" is a label: no ghost text that would not match what is typed
        await wait_for(pilot, lambda: not any(w.node is bar and not w.is_finished for w in app.workers))
        await pilot.pause()  # a suggestion the worker posted would be taken in by now
        assert bar._suggestion == ""


async def test_tab_never_leaves_a_bar_that_holds_text(tmp_path):
    """Issue 10, trap 1: `/update e`, Tab, `xecutive all good` opened Correct and the composer."""
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*"db is fine")
        await pilot.press("tab", "shift+tab", "tab")
        assert app.focused is bar and bar.value == "db is fine"
        assert "nothing to complete" in screen_text(app)
        await pilot.press(*" and caching")
        assert "nothing to complete" not in screen_text(app)  # the notice goes at the next edit
        await pilot.press("enter")
        await wait_for(pilot, lambda: not any(w.group == "write" and w.is_running for w in app.workers))
    _, entries = await read_back(path, incident_id)
    assert entries[-1].text == "db is fine and caching"


async def test_tab_on_an_empty_bar_moves_to_the_next_pane(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("tab")
        assert isinstance(app.focused, Timeline)


async def test_update_audience_completes_and_the_text_goes_to_that_audience(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*"/update e", "tab")
        assert bar.value == "/update executive "
        await pilot.press(*"all good", "enter")
        await wait_for(pilot, lambda: not any(w.group == "write" and w.is_running for w in app.workers))
        assert app.focused is bar
        # typed in one burst, Tab completes in key order (as a binding it ran after the rest was typed)
        from textual import events
        for key, character in [*((k, k) for k in "/update e"), ("tab", "\t"), *((k, k) for k in "ok")]:
            app.post_message(events.Key("space" if key == " " else key, character))
        await wait_for(pilot, lambda: bar.value == "/update executive ok")
    _, entries = await read_back(path, incident_id)
    update = [e for e in entries if e.kind is EntryKind.UPDATE][-1]
    assert (update.text, update.data["audience"]) == ("all good", "executive")


async def test_up_and_down_walk_the_history_and_keep_the_draft(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        for typed in ("first thing", "/decision second thing"):
            await submit_and_wait(pilot, typed)
        bar = app.screen.query_one(EntryInput)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert bar.value == "/decision second thing"
        await pilot.press("up", "up")
        assert bar.value == "first thing"
        await pilot.press("down")
        assert bar.value == "/decision second thing"
        await pilot.press("down")
        assert bar.value == "draft"


async def test_entries_typed_in_a_burst_commit_in_order_and_a_rejected_one_comes_back(tmp_path):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    burst = ["n1", "/sev SEV-1", "n3", "/sev SEV-2 back down", "/frobnicate", "n6", "/status identified", "n8"]
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        bar = app.screen.query_one(EntryBar)
        type_burst(app, [*burst, "n9"])  # no waiting for commits in between: the bar is free again at once
        timeline = app.screen.query_one(Timeline)
        await wait_for(pilot, lambda: timeline.selected is not None and timeline.selected.text == "n9")
        await pilot.pause()
        assert bar.has_class("-error")
        kept = bar.input.value == "/frobnicate" or "/frobnicate" in str(bar.query_one("#entry-error").render())
        assert kept and "/frobnicate" in bar.input.history
    _, entries = await read_back(path, incident_id)
    texts = [e.text for e in entries[2:]]
    assert texts == ["n1", "Severity SEV-2 -> SEV-1 (Critical) | Owed: " + texts[1].split(" | Owed: ")[1],
                     "n3", texts[3], "n6", "Status Investigating -> Identified", "n8", "n9"]
    assert texts[3].startswith("Severity SEV-1 -> SEV-2 (High): back down")


@pytest.mark.parametrize("keys, expected", [
    (["a", "b", "c", "backspace", "d"], "abd"),
    (["a", "b", "c", "left", "x"], "abxc"),
    (["a", "b", "c", "home", "x", "end", "y"], "xabcy"),
    (["o", "l", "d", "ctrl+u", "n", "e", "w"], "new"),
    (["a", "b", "c", "ctrl+w", "d"], "d"),
])
async def test_editing_keys_in_a_burst_apply_in_the_order_typed(tmp_path, keys, expected):
    """Keys that arrive together (SSH after a stall, or typed while warroom started): the bar's
    editing keys are bindings, which Textual ran only after the keys behind them (`abc` Backspace
    `d` gave `abcd`); the bar runs them in key order."""
    from textual import events

    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await war_room_ready(pilot)
        for key in keys:  # all queued at once: nothing runs in between
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        bar = app.screen.query_one(EntryBar)
        await wait_for(pilot, lambda: bar.text == expected)


@pytest.mark.parametrize("opener", ["timeline-view", "timeline-correct", "composer", "help"])
async def test_keys_typed_in_the_same_instant_as_the_escape_that_closes_a_dialog_reach_the_bar(tmp_path, opener):
    """Keys queued behind an Escape (a fast typist, a terminal that delivers them in one read)
    go to the entry bar, not into the closing dialog and not to a pane where letters are shortcuts."""
    from textual import events

    path, incident_id = await small_database(tmp_path, notes=2)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        room = war_room(app)
        if opener.startswith("timeline"):
            room.query_one(Timeline).focus()
            await pilot.press("v" if opener == "timeline-view" else "c")
        else:
            await pilot.press("f2" if opener == "composer" else "f1")
        await wait_for(pilot, lambda: app.screen is not room)
        await pilot.pause()
        for key, character in [("escape", "\x1b"), ("c", "c"), ("u", "u"), ("p", "p")]:  # nothing runs in between
            app.post_message(events.Key(key, character))
        await wait_for(pilot, lambda: app.screen is room and room.query_one(EntryBar).text == "cup")
        await pilot.pause()
        assert app.screen is room and app.focused is room.query_one(EntryInput)
        assert room.query_one(EntryBar).text == "cup"


async def test_a_clock_behind_the_record_is_said_in_the_header_once_on_the_timeline_and_per_entry(tmp_path):
    """Issue 9, item 13: with the clock two hours behind, entries went in before the declaration
    and milestones were refused, with no word of why."""
    from test_ui_support import FrozenClock

    from warroom.ui.widgets.header import IncidentHeader

    path, incident_id = await small_database(tmp_path, notes=2)  # declared 10 minutes before NOW
    service = await IncidentService.open(path, POLICIES, FrozenClock(NOW - timedelta(minutes=9)))
    await service.execute(incident_id, "/ack", "alice")  # 14:51, by a clock that is right
    await service.close()
    clock = FrozenClock(NOW - timedelta(hours=2))
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        header = war_room(app).query_one(IncidentHeader)
        # the newest entry (a note at 14:51) is 1h 51m ahead of this clock
        await wait_for(pilot, lambda: "⚠ clock 1h 51m behind the record (newest entry 14:51 UTC)" in screen_text(app))
        await submit_and_wait(pilot, "db looks fine")
        notices = lambda: [str(n.message) for n in app._notifications]
        await wait_for(pilot, lambda: any("went in at 13:00:00 UTC, earlier in the timeline" in n for n in notices()))
        await submit_and_wait(pilot, "/mitigated")  # "before acknowledged": refused, and it says why
        error = lambda: str(war_room(app).query_one("#entry-error").render())
        await wait_for(pilot, lambda: "refused" in error() and "clock reads 13:00:00 UTC" in error(), timeout=3)
        clock.advance(hours=2, minutes=1)
        await wait_for(pilot, lambda: header.clock_warning == "")
    _, entries = await read_back(path, incident_id)
    warnings = [e for e in entries if e.kind is EntryKind.SYSTEM and e.text.startswith("Clock warning")]
    assert len(warnings) == 1 and "1h 51m behind the record's newest entry" in warnings[0].text


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_facts_set_from_the_bar_show_in_the_header_when_there_is_room(tmp_path, size):
    path, incident_id = await small_database(tmp_path, notes=0)
    app = make_app(path, incident_id)
    async with app.run_test(size=size) as pilot:
        await war_room_ready(pilot)
        for typed in ("/set impact EU logins take 30 s", "/set users a third of EU users", "/service add auth-api, edge"):
            await submit_and_wait(pilot, typed)
            assert not war_room(app).query_one(EntryBar).has_class("-error"), screen_text(app)
        facts = "Impact: EU logins take 30 s · Who: a third of EU users · Services: auth-api, edge"
        if size == (120, 40):
            await wait_for(pilot, lambda: facts in screen_text(app))
        else:  # 24 rows keep the header to the incident itself
            await wait_for(pilot, lambda: "Services: auth-api, edge (added auth-api, edge)" in screen_text(app))
            assert "Impact: EU logins" not in screen_text(app).split("\n")[1]
    incident, _ = await read_back(path, incident_id)
    assert (incident.impact, incident.customer_impact, incident.services) == (
        "EU logins take 30 s", "a third of EU users", ("auth-api", "edge"))
