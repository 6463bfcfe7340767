"""Opening the war room, the picker, header/roles/countdown panes, keys, help, palette, quitting."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from conftest import NOW, FrozenClock
from test_ui_support import (
    POLICIES, make_app, screen_text, small_database,
    showing, submit_and_wait, wait_for, war_room_ready,
)
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input

from warroom.domain.grammar import COMMANDS
from warroom.service import IncidentService
from warroom.ui.screens.dialogs import AskText, Confirm
from warroom.ui.screens.help import KEYS, HelpScreen
from warroom.ui.screens.picker import PickerScreen
from warroom.ui.screens.war_room import WarRoomScreen
from warroom.ui.widgets.countdown import CountdownPane
from warroom.ui.widgets.entry_bar import EntryInput
from warroom.ui.widgets.header import IncidentHeader
from warroom.ui.widgets.health import HealthPane
from warroom.ui.widgets.roles import RolesPane
from warroom.ui.widgets.timeline import Timeline


async def empty_database(directory):
    service = await IncidentService.open(directory / "empty.db", POLICIES)
    await service.close()
    return directory / "empty.db"


# ---- opening -------------------------------------------------------------------------------------


async def test_the_only_open_incident_opens_directly(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert app.screen.incident.id == incident_id
        assert isinstance(app.focused, EntryInput)  # the entry bar has focus when the screen opens


async def test_no_open_incident_shows_the_picker_and_declaring_opens_the_war_room(tmp_path):
    path = await empty_database(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: showing(app, PickerScreen))
        await wait_for(pilot, lambda: "No open incidents" in screen_text(app))
        await wait_for(pilot, lambda: getattr(app.focused, "id", None) == "declare-title-input")
        await pilot.press("enter")  # no title yet: an error, and nothing declared
        await wait_for(pilot, lambda: "needs a title" in screen_text(app))
        await pilot.press(*"Search is down")
        app.screen.query_one("#declare-severity").value = "SEV-1"
        app.screen.query_one("#declare-commander", Input).value = "erin"
        await pilot.press("enter")
        await war_room_ready(pilot)
        screen = app.screen
        assert (screen.incident.title, screen.incident.severity) == ("Search is down", "SEV-1")
        await wait_for(pilot, lambda: screen.query_one(RolesPane).seats != [])
        assert screen.query_one(RolesPane).seats[0].person == "erin"


async def test_several_open_incidents_are_listed_and_enter_opens_one(tmp_path):
    path, first = await small_database(tmp_path)
    service = await IncidentService.open(path, POLICIES, FrozenClock(NOW - timedelta(minutes=3)))
    try:
        second = (await service.declare("Queue backlog", "SEV-3", author="bob", commander="bob")).id
    finally:
        await service.close()
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: showing(app, PickerScreen))
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        text = screen_text(app)
        for expected in (first, second, "▲ SEV-2", "▲ SEV-3", "Investigating", "10m", "3m", "alice", "bob",
                         "Login page slow", "Queue backlog"):
            assert expected in text
        row = [str(table.get_row_at(index)[0]) for index in range(2)].index(second)
        table.move_cursor(row=row)
        await pilot.press("enter")
        await war_room_ready(pilot)
        assert app.screen.incident.id == second


async def test_an_id_opens_that_incident_even_with_several_open(tmp_path):
    path, first = await small_database(tmp_path)
    service = await IncidentService.open(path, POLICIES, FrozenClock(NOW))
    try:
        await service.declare("Another", "SEV-3", author="bob")
    finally:
        await service.close()
    app = make_app(path, first)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        assert app.screen.incident.id == first


# ---- header, roles, countdown --------------------------------------------------------------------


async def test_header_shows_id_title_severity_status_commander_and_ticking_elapsed_time(tmp_path):
    path, incident_id = await small_database(tmp_path)
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        header = app.screen.query_one(IncidentHeader)
        line = str(header.render())
        for expected in (incident_id, "Login page slow", "▲ SEV-2 High", "Investigating", "10m", "IC: alice"):
            assert expected in line
        clock.advance(minutes=5)
        await wait_for(pilot, lambda: "15m" in str(header.render()) and "15m" in screen_text(app))


async def test_roles_pane_lists_every_role_marks_unfilled_and_assigns(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        roles = app.screen.query_one(RolesPane)
        text = screen_text(app)
        assert "Incident Commander: alice 10m" in text
        assert "⚠ Tech Lead: unfilled (needed)" in text
        assert "○ Scribe: unfilled" in text
        roles.focus()
        roles.highlighted = 1  # Tech Lead
        await pilot.press("a")
        await wait_for(pilot, lambda: showing(app, AskText))
        await pilot.press(*"bob", "enter")
        await wait_for(pilot, lambda: any(seat.person == "bob" for seat in roles.seats))
        await wait_for(pilot, lambda: "Tech Lead: (unfilled) -> bob" in screen_text(app))
        roles.highlighted = 0  # and hand over the commander with Enter
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, AskText))
        await pilot.press(*"carol", "enter")
        await wait_for(pilot, lambda: "Incident Commander: alice -> carol" in screen_text(app))  # the toast
        await wait_for(pilot, lambda: "IC: carol" in str(app.screen.query_one(IncidentHeader).render()))  # reloaded


async def test_countdown_warns_then_counts_up_when_overdue_and_resets_on_update(tmp_path):
    path, incident_id = await small_database(tmp_path)  # SEV-2 declared at 14:50: first updates by 15:05
    clock = FrozenClock()
    app = make_app(path, incident_id, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        pane = app.screen.query_one(CountdownPane)
        words = pane.query_one("#countdown-words")
        others = pane.query_one("#countdown-others")
        assert pane.has_class("-due-soon") and "⏰ Internal update due soon, in 05:00" in str(words.render())
        # the other audiences and parties, each with its own deadline, one line each
        assert str(others.render()).splitlines() == ["⏰ 15:05 Status page update", "◷ 15:20 notify Engineering manager"]
        assert pane.border_title == "Due next (UTC)"
        clock.advance(minutes=8, seconds=12)
        await wait_for(pilot, lambda: pane.has_class("-overdue"))
        assert "⚠ Internal update OVERDUE by 03:12" in str(words.render())
        assert str(pane.query_one("#countdown-digits").value) == "+03:12"
        await submit_and_wait(pilot, "/sev SEV-3 contained")  # a downgrade does not forgive a missed update
        assert pane.has_class("-overdue")
        await submit_and_wait(pilot, "/update Contained to the EU region")  # internal only
        # the status page is still owed its first notice: it is what is due next now
        await wait_for(pilot, lambda: "⚠ Status page update OVERDUE by 03:12" in str(words.render()))
        await submit_and_wait(pilot, "/update public Investigating - logins are slow")
        await wait_for(pilot, lambda: not pane.has_class("-overdue"))
        assert "◷ notify Engineering manager in 11:48" in str(words.render())
        # the internal countdown restarted: 4 hours at SEV-3 from the update, on the minute
        assert "◷ 19:08 Internal update" in str(others.render())


async def test_a_duty_refresh_that_ends_while_the_screen_is_taken_down_does_not_crash(tmp_path):
    """Quitting while the duties are being re-read: the refresh comes back to a screen whose panes
    are gone, and must not fail (it ended the app with a NoMatches traceback)."""
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        screen = app.screen
        await screen.query_one(CountdownPane).remove()
        screen.attention.reload_duties()
        await wait_for(pilot, lambda: not any(w.group == "duties" for w in app.workers))
    # leaving run_test re-raises what a worker raised: nothing


# ---- keys, help, palette, quitting --------------------------------------------------------------


async def test_tab_moves_between_panes_and_escape_returns_to_the_entry_bar(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(type(app.focused))
        assert seen == [Timeline, RolesPane, HealthPane, EntryInput]
        await pilot.press("tab", "escape")
        assert isinstance(app.focused, EntryInput)


async def test_question_mark_opens_help_with_every_key_and_command(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 120)) as pilot:  # tall enough to show all of the help at once
        await war_room_ready(pilot)
        await pilot.press("tab", "question_mark")  # in the entry bar "?" is just text
        await wait_for(pilot, lambda: showing(app, HelpScreen))
        help_text = screen_text(app)
        for key, _ in KEYS:
            assert key in help_text
        for spec in COMMANDS:
            assert f"/{spec.name}" in help_text
        await pilot.press("escape")
        await pilot.press("f1")
        await wait_for(pilot, lambda: showing(app, HelpScreen))


async def test_palette_offers_every_action_and_runs_them(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        names = [name for name, _, _ in app.screen.palette_commands() + app.palette_commands()]
        for expected in ("Help: keys and commands", "Filter timeline", "Pin / unpin selected entry",
                         "Correct selected entry", "Copy selected entry", "Set severity SEV-1 (Critical)",
                         "Set status Identified", "Assign Tech Lead…", "Quit", "Theme: warroom-light"):
            assert expected in names
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: showing(app, CommandPalette))
        await pilot.press(*"set status identified")
        commands = app.screen.query_one(CommandList)

        def best_match_highlighted() -> bool:
            return commands.highlighted == 0 and "Set status Identified" in str(commands.get_option_at_index(0).prompt)

        await wait_for(pilot, best_match_highlighted)
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, WarRoomScreen))
        await wait_for(pilot, lambda: app.screen.incident.status == "identified")


async def test_quit_asks_only_when_the_entry_bar_has_unsent_text(tmp_path):
    path, incident_id = await small_database(tmp_path)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press(*"half a thought")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: showing(app, Confirm))
        assert "half a thought" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: showing(app, WarRoomScreen))
        assert app.screen.query_one(EntryInput).value == "half a thought"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: showing(app, Confirm))
        await pilot.press("y")
        await wait_for(pilot, lambda: app._exit_renderables is not None or not app.is_running)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await war_room_ready(pilot)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running)


async def test_the_declare_form_takes_any_policy_its_levels_and_the_facts_by_keyboard(tmp_path):
    """Issue 10, point 3: a P0-P3 team could not declare from the TUI (the form had no policy)."""
    from warroom.ui.widgets.header import IncidentHeader

    path = await empty_database(tmp_path)
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.pause()
        await pilot.press(*"Payments time out", "tab")
        assert app.focused.id == "declare-policy"
        await pilot.press("enter", "down", "enter")  # the second policy: P0-P3 (seed 001)
        severity = app.screen.query_one("#declare-severity")
        await wait_for(pilot, lambda: str(severity.value).startswith("P"))
        await pilot.press("tab", "enter", "home", "enter")  # its most severe level
        await wait_for(pilot, lambda: severity.value == "P0")
        await pilot.press("tab", "ctrl+u", *"bob", "tab", *"All card payments fail", "tab", *"payments-api, gateway")
        await pilot.press("enter")
        await war_room_ready(pilot)
        incident = app.screen.incident
        assert (incident.policy_id, incident.severity) == ("p-levels-001", "P0")
        assert incident.impact == "All card payments fail" and incident.services == ("payments-api", "gateway")
        header = app.screen.query_one(IncidentHeader)
        await wait_for(pilot, lambda: "On-call Engineer: bob" in screen_text(app))  # the policy's commander role
        assert "IC:" not in str(header.render())


async def test_keys_typed_while_the_war_room_opens_reach_its_entry_bar_in_order(tmp_path, monkeypatch):
    """A scribe who types as `warroom open` comes up: the keys that arrive before the war room is
    shown went to Textual's blank first screen and were lost. They are held, then given to the
    war room's entry bar in the order typed, before any key typed after it is shown."""
    from warroom.domain.models import EntryKind
    from warroom.ui.widgets.entry_bar import EntryBar

    path, incident_id = await small_database(tmp_path)
    opened = asyncio.Event()
    real_prepare = WarRoomScreen.prepare

    async def slow_prepare(self):  # the war room's first look is still being read
        await opened.wait()
        await real_prepare(self)

    monkeypatch.setattr(WarRoomScreen, "prepare", slow_prepare)
    app = make_app(path, incident_id)
    async with app.run_test(size=(120, 40)) as pilot:
        assert not isinstance(app.screen, WarRoomScreen)
        await pilot.press(*"db failover started", "enter", *"typed early")
        opened.set()
        await war_room_ready(pilot)
        await pilot.press(*" and later")
        await wait_for(pilot, lambda: app.screen.query_one(EntryBar).text == "typed early and later")
        notes = [entry.text for entry in await app.service.entries(incident_id) if entry.kind is EntryKind.NOTE]
        assert notes[-1] == "db failover started"
